"""The shared vectors (tests/vectors/*.jsonl) through the function's rules engine."""
import json
import os
import re

import pytest

import rules
from conftest import VECTORS_DIR

R = rules.load_rules()
GUARD = rules.Guard(json.load(open(os.path.join(VECTORS_DIR, "guard.json"))))


def load(name):
    with open(os.path.join(VECTORS_DIR, name), encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


DENIED = load("denied.jsonl")
SUCCESS = load("success.jsonl")


def guard_for(v):
    """guard.json, with the vector's own `guard` keys laid over it."""
    if "guard" not in v:
        return GUARD
    with open(os.path.join(VECTORS_DIR, "guard.json"), encoding="utf-8") as f:
        spec = json.load(f)
    spec.update(v["guard"])
    return rules.Guard(spec)


def check(v, got):
    exp = v["expect"]
    assert got["outcome"] == exp["outcome"], got.get("reason")
    assert exp.get("reason_contains", "") in got.get("reason", ""), got.get("reason")
    assert sorted(a["action"] for a in got["actions"]) == sorted(exp["actions"])
    if "derived_from" in exp:
        assert got["derived_from"] == exp["derived_from"]
    for key in ("denied_by", "denied_by_policy", "reason"):
        if key in exp:
            assert got.get(key) == exp[key], key
    if got["outcome"] in ("grant", "used"):
        want = exp.get("verified", True)
        assert all(a["verified"] == want for a in got["actions"])


@pytest.mark.parametrize("v", DENIED, ids=[v["name"] for v in DENIED])
def test_denied_vector(v):
    check(v, R.classify(v["record"], v["principal"], guard_for(v)))


@pytest.mark.parametrize("v", SUCCESS, ids=[v["name"] for v in SUCCESS])
def test_success_vector(v):
    check(v, R.used(v["record"], v["principal"]))


def test_vector_coverage():
    denied = [v for v in DENIED if v["expect"]["outcome"] in ("grant", "explicit_deny", "withheld", "not_permission")]
    assert len(denied) >= 60
    services = {a.split(":")[0] for v in denied for a in v["expect"]["actions"]}
    assert len(services) >= 30
    outcomes = {v["expect"]["outcome"] for v in DENIED}
    assert outcomes == {"grant", "explicit_deny", "blocked", "not_permission", "not_denied", "other_principal",
                        "withheld"}
    assert len({v["name"] for v in DENIED + SUCCESS}) == len(DENIED) + len(SUCCESS)
    assert 15 <= len(SUCCESS) <= 40


def test_mapping_targets_exist_in_catalogue():
    """Every action the tables can emit is a real IAM action (catalogue), every renamed prefix exists."""
    cat = R.catalogue
    for src, prefix in R.raw["source_prefix_exceptions"].items():
        assert prefix in cat, (src, prefix)
    tables = list(R.raw["event_name_exceptions"].items()) + list(R.operations.items())
    for prefix, table in tables:
        for ev, acts in table.items():
            for a in acts:
                p, n = a.split(":")
                assert n in cat.get(p, {}), (prefix, ev, a)
    for verb in set(R.raw["apigateway"]["verb_by_event_prefix"].values()) | set(
            R.raw["apigateway"]["verb_by_event_name"].values()):
        assert verb in cat["apigateway"]
    for a in R.raw["permissionless_actions"]:
        p, n = a.split(":")
        assert n in cat[p]


def test_regexes_are_in_the_common_subset():
    """No lookaround, no backreferences, named groups only as (?P<name>...): Rust's regex accepts them."""
    rx = [p["regex"] for p in R.raw["message_patterns"]] + [R.raw["explicit_deny_regex"], R.raw["date_suffix_regex"]]
    for r in rx:
        assert not re.search(r"\(\?[=!]|\(\?<[=!]|\\[1-9]|\(\?P=", r), r
        assert "(?<" not in r.replace("(?P<", "")
    for p in R.raw["message_patterns"]:
        assert "(?P<action>" in p["regex"]


def test_date_suffix_leaves_versions_alone():
    s = R.strip_date_suffix
    assert s("ListFunctions20150331") == "ListFunctions"
    assert s("UpdateFunctionCode20150331v2") == "UpdateFunctionCode"
    assert s("ListDistributions2020_05_31") == "ListDistributions"
    for name in ("ListObjectsV2", "CreateClusterV2", "InferICD10CM", "CreateLocationS3", "DescribeInstances"):
        assert s(name) == name


def test_catalogue_is_fresh_and_compact():
    path = os.path.join(os.path.dirname(rules.__file__), "iam-actions.json")
    text = open(path, encoding="utf-8").read()
    cat = json.loads(text)
    assert text == json.dumps(cat, sort_keys=True, separators=(",", ":")) + "\n"
    assert set(l for svc in cat.values() for l in svc.values()) <= set("LRWPT")
    assert cat["s3"]["ListBucket"] == "L" and cat["iam"]["PutUserPolicy"] == "P"


RESOURCES = json.load(open(os.path.join(VECTORS_DIR, "resources.json"), encoding="utf-8"))["vectors"]


@pytest.mark.parametrize("v", RESOURCES, ids=[v["name"] for v in RESOURCES])
def test_resource_vector_evidence(v):
    """The function's side of tests/vectors/resources.json: the actions, and the evidence a decision line carries."""
    got = R.classify(v["record"], v["principal"], GUARD)
    assert got["outcome"] == "grant", got.get("reason")
    assert sorted(a["action"] for a in got["actions"]) == sorted(v["expect"]["actions"])
    assert rules.evidence(v["record"], got["resource"]) == v["expect"]["evidence"]


def test_resource_params_match_the_cli():
    text = open(os.path.join(os.path.dirname(rules.__file__), "..", "..", "crates", "lppg-core", "src", "policy", "resources.rs"),
                encoding="utf-8").read()
    block = text.split("pub const RESOURCE_PARAMS")[1].split("];")[0]
    assert tuple(re.findall(r'"([A-Za-z]+)"', block)) == rules.RESOURCE_PARAMS


def test_resource_data_is_fresh():
    import subprocess
    import sys

    root = os.path.join(os.path.dirname(rules.__file__), "..", "..")
    subprocess.run([sys.executable, os.path.join(root, "scripts", "gen_resources.py"), "--check"], check=True)
