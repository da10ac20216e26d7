"""The local trial: scripts/replay.py runs the zipped function code against the emulator."""
import glob
import json
import os
import subprocess
import sys
import uuid
import zipfile

from conftest import FUNCTION_DIR, ROOT, Stack

FIXTURE = os.path.join(ROOT, "tests", "fixtures", "console-session.jsonl")


def build_zip(path):
    """As the CLI does: every *.py and *.json directly in assets/function/, at the zip root."""
    files = sorted(glob.glob(os.path.join(FUNCTION_DIR, "*.py")) + glob.glob(os.path.join(FUNCTION_DIR, "*.json")))
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for f in files:
            z.write(f, os.path.basename(f))
    return path


def test_function_runs_from_a_zip(tmp_path):
    z = build_zip(str(tmp_path / "fn.zip"))
    code = ("import sys; sys.path.insert(0, %r); import handler, rules; "
            "assert handler.__file__.startswith(%r), handler.__file__; "
            "r = rules.load_rules(); print(r.lookup('S3:listbucket'), len(r.catalogue))" % (z, z))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "('s3:ListBucket', 'L')" in out


def test_replay_console_session(tmp_path, iam, moto_url):
    import boto3
    stack = Stack(iam, "lppg" + uuid.uuid4().hex[:6])
    # the fixture's principal is the stack "lppg"'s user: point the function at it
    fixture_principal = "arn:aws:iam::123456789012:user/lppg-user"
    try:
        iam.create_user(UserName="lppg-user")
    except iam.exceptions.EntityAlreadyExistsException:
        pass
    env = dict(stack.env, LPPG_USER_ARN=fixture_principal)
    guard = json.loads(env["LPPG_GUARD"])
    guard["arns"] += ["arn:aws:cloudtrail:us-east-1:123456789012:trail/lppg-trail",
                      "arn:aws:iam::123456789012:user/lppg-user"]
    guard["names"]["userName"].append("lppg-user")
    guard["names"]["logGroupName"].append("/lppg/lppg/trail")
    env["LPPG_GUARD"] = json.dumps(guard)
    role = iam.create_role(RoleName=stack.name + "-generator-role", AssumeRolePolicyDocument=json.dumps(
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
                                                 "Action": "sts:AssumeRole"}]}))["Role"]["Arn"]
    z = build_zip(str(tmp_path / "fn.zip"))
    lam = boto3.client("lambda")
    fn = stack.name + "-generator"
    lam.create_function(FunctionName=fn, Runtime="python3.12", Role=role, Handler="handler.lambda_handler",
                        Code={"ZipFile": open(z, "rb").read()}, Architectures=["arm64"],
                        Environment={"Variables": env}, Timeout=120)
    proc = subprocess.run(
        [sys.executable, os.path.join(ROOT, "scripts", "replay.py"), "--endpoint-url", moto_url,
         "--region", "us-east-1", "--function-name", fn, "--zip", z, "--fixture", FIXTURE, "--batch-size", "10"],
        capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert "replayed 43 records in 5 invocation(s)" in proc.stderr
    logs = boto3.client("logs")
    streams = logs.describe_log_streams(logGroupName="/aws/lambda/" + fn)["logStreams"]
    assert len(streams) == 1 and "/[$LATEST]" in streams[0]["logStreamName"]
    events = logs.get_log_events(logGroupName="/aws/lambda/" + fn, logStreamName=streams[0]["logStreamName"],
                                 startFromHead=True)["events"]
    msgs = [e["message"] for e in events]
    assert msgs[0].startswith("START RequestId: ")
    decisions = [json.loads(m) for m in msgs if m.startswith('{"lppg":"decision"')]
    batches = [json.loads(m) for m in msgs if m.startswith('{"lppg":"batch"')]
    assert len(batches) == 5
    by = {}
    for d in decisions:
        by.setdefault(d["decision"], set()).add(d["action"])
    assert {"cloudtrail:StopLogging", "iam:AttachUserPolicy", "logs:DeleteSubscriptionFilter"} <= by["withheld"]
    assert by["explicit_deny"] == {"ssm:GetParameter"}
    assert {"s3:ListAllMyBuckets", "s3:ListBucket", "s3:GetObject", "s3:GetEncryptionConfiguration",
            "iam:PassRole", "lambda:ListFunctions", "sns:ListTopics", "sqs:ListQueues", "apigateway:GET",
            "cloudfront:ListDistributions", "ec2:DescribeVpcs", "cloudwatch:ListDashboards"} <= by["granted"]
    assert "s3:ListAllMyBuckets" in stack.all_actions()
    assert sum(b["other_principal"] for b in batches) == 1 and sum(b["not_denied"] for b in batches) == 2


def test_shift_to_now_keeps_spacing_and_ends_five_minutes_ago():
    import datetime
    import importlib.util

    spec = importlib.util.spec_from_file_location("replay", os.path.join(ROOT, "scripts", "replay.py"))
    replay = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(replay)
    recs = [{"eventTime": "2026-03-02T14:00:00Z"}, {"eventTime": "2026-03-02T14:00:30Z"}, {"noTime": 1}]
    replay.shift_to_now(recs)
    fmt = "%Y-%m-%dT%H:%M:%SZ"
    a, b = (datetime.datetime.strptime(r["eventTime"], fmt) for r in recs[:2])
    assert (b - a).total_seconds() == 30
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    assert 290 <= (now - b).total_seconds() <= 320
    assert recs[2] == {"noTime": 1}
