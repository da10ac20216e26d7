"""The generator function against moto: payloads, policy writing, limits, concurrency, guard."""
import json
import threading

import pytest

import handler
import policydoc
from conftest import denied_for, parse_lines, payload, record


def run(stack, monkeypatch, capsys, records, **kw):
    stack.install_env(monkeypatch)
    capsys.readouterr()
    batch = handler.lambda_handler(payload(records, **kw), None)
    lines = parse_lines(capsys.readouterr().out)
    assert lines[-1]["lppg"] == "batch"
    assert all(l["lppg"] == "decision" and l["v"] == 1 for l in lines[:-1])
    return lines[:-1], lines[-1]


def test_grants_and_logs_decisions(stack, monkeypatch, capsys):
    p = stack.user_arn
    recs = [
        record(p, "s3.amazonaws.com", "ListObjectsV2", params={"bucketName": "data"}),
        denied_for(p, "dynamodb:ListTables"),
        record(p, "lambda.amazonaws.com", "ListFunctions20150331", "AccessDeniedException", "denied"),
    ]
    lines, batch = run(stack, monkeypatch, capsys, recs)
    assert [(l["decision"], l["action"], l["derived_from"]) for l in lines] == [
        ("granted", "s3:ListBucket", "event"),
        ("granted", "dynamodb:ListTables", "message"),
        ("granted", "lambda:ListFunctions", "event"),
    ]
    first = stack.policy_arns[0]
    assert {l["policy"] for l in lines} == {first}
    assert {l["version"] for l in lines} == {"v2"}
    assert lines[0]["access_level"] == "List"
    assert lines[0]["event_id"] == recs[0]["eventID"]
    assert batch["records"] == 3 and batch["denied"] == 3 and batch["granted"] == 3
    assert batch["policies_written"] == [{"policy": first, "version": "v2", "actions": 6,
                                          "size": batch["policies_written"][0]["size"]}]
    doc = stack.document(first)
    assert doc["Statement"][0]["Sid"] == "LppgStart"
    sids = [s["Sid"] for s in doc["Statement"][1:]]
    assert sids == ["Dynamodb", "Lambda", "S3"]
    assert doc["Statement"][3]["Action"] == ["s3:ListBucket"]
    assert batch["iam_calls"] > 0
