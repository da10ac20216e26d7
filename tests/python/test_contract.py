"""The function↔CLI contract: every line the function prints conforms to tests/vectors/decision_schema.json,
the vectors in tests/vectors/decision_lines.json do too, and every decision kind is covered. The CLI's side
(DecisionKind) reads the same vectors in crates/lppg-core/tests/contract_vectors.rs."""
import handler
from conftest import denied_for, parse_lines, payload, record
from contract import check_lines, load_schema, load_vectors, problems


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
        record(u, "sqs.amazonaws.com", "ListQueues", "AccessDenied",
               "User: %s is not authorized to perform: sqs:ListQueues because no service control policy allows the "
               "sqs:ListQueues action: arn:aws:organizations::111111111111:policy/o-exampleorg1/service_control_policy/"
               "p-examplescp" % u),
        record(u, "kms.amazonaws.com", "Decrypt", "AccessDeniedException",
               "User: %s is not authorized to perform: kms:Decrypt on resource: arn:aws:kms:us-east-1:123456789012:key/"
               "k-1 because no resource-based policy allows the kms:Decrypt action" % u),
        record(u, "sts.amazonaws.com", "GetCallerIdentity"),
        record(u, "signin.amazonaws.com", "ConsoleLogin", None, eventType="AwsConsoleSignIn"),
        record(u, "apigateway.amazonaws.com", "Frobnicate"),
        record(u, "ec2.amazonaws.com", "DescribeVpcs", "Client.RequestLimitExceeded"),
        record("arn:aws:iam::123456789012:user/someone-else", "s3.amazonaws.com", "ListBuckets"),
        dict(record(u, "lambda.amazonaws.com", "UpdateFunctionCode20150331v2", "AccessDeniedException"),
             requestParameters={"functionName": "%s-generator" % s}),
        dict(record(u, handler.PROBE_SOURCE, "Probe", "AccessDenied"), lppgProbe="lppg-probe-1"),
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

