"""The function↔CLI contract: every line the function prints conforms to tests/vectors/decision_schema.json,
the vectors in tests/vectors/decision_lines.json do too, and every decision kind is covered. The CLI's side
(DecisionKind) reads the same vectors in tests/contract_vectors.rs."""
import json
import os
from collections import Counter

import handler
from conftest import VECTORS_DIR, denied_for, parse_lines, payload, record

TYPES = {"string": str, "integer": int, "list": list, "null": type(None)}


def load_schema():
    with open(os.path.join(VECTORS_DIR, "decision_schema.json"), encoding="utf-8") as f:
        return json.load(f)


def load_vectors():
    with open(os.path.join(VECTORS_DIR, "decision_lines.json"), encoding="utf-8") as f:
        return json.load(f)["vectors"]


def _type_ok(value, types):
    # bool is an int in Python, never a JSON integer here
    return any(isinstance(value, TYPES[t]) and not isinstance(value, bool) for t in types)


def problems(line, part):
    """What is wrong with `line` against the schema's `part` ("decision" or "batch"); empty when it conforms."""
    spec = load_schema()[part]
    fields = dict(spec["fields"])
    if part == "decision":
        fields.update(spec["kinds"].get(line.get("decision"), {}))
    out = []
    if set(line) != set(fields):
        out.append("fields %s, expected %s" % (sorted(line), sorted(fields)))
    for key, rule in fields.items():
        if key not in line:
            continue
        if not _type_ok(line[key], rule["type"]):
            out.append("%s: %r is not %s" % (key, line[key], "/".join(rule["type"])))
        elif "values" in rule and line[key] not in rule["values"]:
            out.append("%s: %r is not one of %r" % (key, line[key], rule["values"]))
    return out


def test_kinds_are_the_handlers_and_each_has_a_vector():
    kinds = load_schema()["decision"]["fields"]["decision"]["values"]
    assert tuple(kinds) == handler.DECISION_KINDS
    assert set(load_schema()["decision"]["kinds"]) == set(kinds)
    emitted = [v for v in load_vectors() if v["emitted"]]
    assert {v["kind"] for v in emitted} == set(kinds)


def test_vectors_are_well_formed():
    vectors = load_vectors()
    names = [v["name"] for v in vectors]
    assert len(names) == len(set(names))
    kinds = set(handler.DECISION_KINDS)
    for v in vectors:
        assert set(v) <= {"name", "emitted", "kind", "line", "note"}, v["name"]
        if v["emitted"]:
            assert problems(v["line"], "decision") == [], v["name"]
            assert v["kind"] == v["line"]["decision"], v["name"]
        else:
            assert v["kind"] in kinds | {"unknown", None}, v["name"]


def run_batch(stack, monkeypatch, capsys, records, **kw):
    stack.install_env(monkeypatch)
    capsys.readouterr()
    handler.lambda_handler(payload(records, **kw), None)
    return parse_lines(capsys.readouterr().out)


def check_lines(lines):
    """Every line conforms; the batch line is last and counts the decision lines. Returns the decision lines."""
    *decisions, batch = lines
    for line in decisions:
        assert line["lppg"] == "decision"
        assert problems(line, "decision") == [], line
    assert problems(batch, "batch") == [], batch
    seen = Counter(line["decision"] for line in decisions)
    for counter, kinds in load_schema()["batch"]["counts"].items():
        assert batch[counter] == sum(seen[k] for k in kinds), counter
    return decisions


def test_every_line_the_function_prints_conforms(stack, monkeypatch, capsys):
    u, s = stack.user_arn, stack.name
    deny = ("User: %s is not authorized to perform: ssm:GetParameter on resource: x with an explicit deny in a "
            "service control policy" % u)
    records = [
        record(u, "s3.amazonaws.com", "ListObjectsV2", params={"bucketName": "data"}),
        denied_for(u, "dynamodb:ListTables"),
        denied_for(u, "dynamodb:ListTables"),
        denied_for(u, "iam:GetUser"),
        record(u, "widgets.amazonaws.com", "ListWidgets", "AccessDeniedException"),
        record(u, "iam.amazonaws.com", "PutUserPolicy", params={"userName": stack.user_name}),
        record(u, "ssm.amazonaws.com", "GetParameter", "AccessDeniedException", deny),
        record(u, "sts.amazonaws.com", "GetCallerIdentity"),
        record(u, "signin.amazonaws.com", "ConsoleLogin", None, eventType="AwsConsoleSignIn"),
        record(u, "apigateway.amazonaws.com", "Frobnicate"),
        record(u, "ec2.amazonaws.com", "DescribeVpcs", "Client.RequestLimitExceeded"),
        record("arn:aws:iam::123456789012:user/someone-else", "s3.amazonaws.com", "ListBuckets"),
        dict(record(u, "lambda.amazonaws.com", "UpdateFunctionCode20150331v2", "AccessDeniedException"),
             requestParameters={"functionName": "%s-generator" % s}),
    ]
    kinds = set()
    decisions = check_lines(run_batch(stack, monkeypatch, capsys, records, raw_messages=["not json", "[1]"]))
    kinds |= {d["decision"] for d in decisions}
    for bad in (None, {"awslogs": {"data": "aGVsbG8="}}):
        capsys.readouterr()
        handler.lambda_handler(bad, None)
        kinds |= {d["decision"] for d in check_lines(parse_lines(capsys.readouterr().out))}
    assert check_lines(run_batch(stack, monkeypatch, capsys, [], message_type="CONTROL_MESSAGE")) == []
    monkeypatch.setenv("LPPG_GUARD", "{not json")
    capsys.readouterr()
    handler.lambda_handler(payload([denied_for(u, "sns:ListTopics")]), None)
    kinds |= {d["decision"] for d in check_lines(parse_lines(capsys.readouterr().out))}
    assert kinds == set(handler.DECISION_KINDS)

