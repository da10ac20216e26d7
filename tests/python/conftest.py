"""Test set-up: a private moto server, a clean AWS environment, and a generator stack built with boto3."""
import base64
import gzip
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
FUNCTION_DIR = os.path.join(ROOT, "assets", "function")
VECTORS_DIR = os.path.join(ROOT, "tests", "vectors")
sys.path.insert(0, FUNCTION_DIR)
sys.path.insert(0, os.path.join(ROOT, "tests", "support"))

ACCOUNT = "123456789012"
REGION = "us-east-1"
START_ACTIONS = ["sts:GetCallerIdentity", "iam:GetUser", "iam:ListAttachedUserPolicies"]
PLACEHOLDER = {"Version": "2012-10-17", "Statement": [
    {"Sid": "LppgPlaceholder", "Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}]}


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _clean_env(url):
    for k in list(os.environ):
        if k.startswith("AWS_") or k.startswith("LPPG_"):
            del os.environ[k]
    os.environ.update({
        "AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION, "AWS_ENDPOINT_URL": url, "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_CONFIG_FILE": os.devnull, "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    })


@pytest.fixture(scope="session")
def moto_url():
    port = _free_port()
    exe = os.path.join(ROOT, ".venv", "bin", "moto_server")
    if not os.path.exists(exe):  # a git worktree without its own .venv: the running interpreter's
        exe = os.path.join(os.path.dirname(sys.executable), "moto_server")
    proc = subprocess.Popen([exe, "-H", "127.0.0.1", "-p", str(port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = "http://127.0.0.1:%d" % port
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(url + "/moto-api/", timeout=1).read()
                break
            except Exception:  # noqa: BLE001
                if proc.poll() is not None:
                    raise RuntimeError("moto_server exited early")
                time.sleep(0.05)
        else:
            raise RuntimeError("moto_server did not answer")
        _clean_env(url)
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()


@pytest.fixture
def fault_proxy(moto_url):
    """tests/support/fault_proxy.py in front of the session's moto server, on a free port, no rules yet.

    Point clients at `fault_proxy.url`; set rules with `fault_proxy.set_rules([...])`; read
    `fault_proxy.stats()["injected"]`. Rules and stats die with the test."""
    import fault_proxy as fp
    proxy = fp.FaultProxy(moto_url).start()
    try:
        yield proxy
    finally:
        proxy.stop()
        for kind, n in proxy.stats()["injected"].items():
            FAULTS_INJECTED[kind] = FAULTS_INJECTED.get(kind, 0) + n


FAULTS_INJECTED = {}  # kind -> faults injected by every fault_proxy of the session (printed at the end)


def pytest_terminal_summary(terminalreporter):
    if FAULTS_INJECTED:
        terminalreporter.write_line("fault proxy, faults injected per kind: " + ", ".join(
            "%s %d" % kv for kv in sorted(FAULTS_INJECTED.items())))


def client_via(url, service, attempts=1):
    """A boto3 client for `service` at `url`; one attempt (no botocore retries) unless `attempts` says otherwise.
    (botocore's `max_attempts` counts retries after the first attempt; `total_max_attempts` counts all.)"""
    import boto3
    from botocore.config import Config
    return boto3.client(service, endpoint_url=url, region_name=REGION,
                        config=Config(retries={"total_max_attempts": attempts, "mode": "standard"}))


@pytest.fixture(scope="session")
def iam(moto_url):
    import boto3
    return boto3.client("iam")


class Stack:
    """The generator's IAM side, as the CloudFormation template would create it."""

    def __init__(self, iam, name, policies=9):
        self.iam = iam
        self.name = name
        self.user_name = name + "-user"
        u = iam.create_user(UserName=self.user_name)
        self.user_arn = u["User"]["Arn"]
        self.policy_arns = []
        for i in range(1, policies + 1):
            doc = PLACEHOLDER if i > 1 else {"Version": "2012-10-17", "Statement": [
                {"Sid": "LppgStart", "Effect": "Allow", "Action": START_ACTIONS, "Resource": "*"}]}
            p = iam.create_policy(PolicyName="%s-policy-%d" % (name, i), PolicyDocument=json.dumps(doc))
            arn = p["Policy"]["Arn"]
            iam.attach_user_policy(UserName=self.user_name, PolicyArn=arn)
            self.policy_arns.append(arn)
        self.guard = guard_for(name)

    @property
    def env(self):
        return {"LPPG_USER_ARN": self.user_arn, "LPPG_POLICY_ARNS": ",".join(self.policy_arns),
                "LPPG_GUARD": json.dumps(self.guard)}

    def install_env(self, monkeypatch):
        for k, v in self.env.items():
            monkeypatch.setenv(k, v)

    def versions(self, arn):
        return self.iam.list_policy_versions(PolicyArn=arn)["Versions"]

    def document(self, arn, vid=None):
        if vid is None:
            vid = self.iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
        doc = self.iam.get_policy_version(PolicyArn=arn, VersionId=vid)["PolicyVersion"]["Document"]
        return doc if isinstance(doc, dict) else json.loads(doc)

    def all_actions(self):
        """Every action granted by the default versions of all policies."""
        out = set()
        for arn in self.policy_arns:
            for st in self.document(arn)["Statement"]:
                acts = st["Action"] if isinstance(st["Action"], list) else [st["Action"]]
                if st.get("Sid") != "LppgPlaceholder":
                    out.update(acts)
        return out


def guard_for(stack, account=ACCOUNT, region=REGION):
    """LPPG_GUARD as the template builds it for a stack name."""
    return {
        "arns": [
            "arn:aws:cloudtrail:%s:%s:trail/%s-trail" % (region, account, stack),
            "arn:aws:s3:::%s-trail-%s-%s*" % (stack, account, region),
            "arn:aws:s3:::%s-artifacts-%s-%s*" % (stack, account, region),
            "arn:aws:logs:%s:%s:log-group:/lppg/%s/trail*" % (region, account, stack),
            "arn:aws:logs:%s:%s:log-group:/aws/lambda/%s-generator*" % (region, account, stack),
            "arn:aws:lambda:%s:%s:function:%s-generator*" % (region, account, stack),
            "arn:aws:iam::%s:role/%s-*" % (account, stack),
            "arn:aws:iam::%s:user/%s-user" % (account, stack),
            "arn:aws:iam::%s:policy/%s-*" % (account, stack),
            "arn:aws:cloudformation:%s:%s:stack/%s/*" % (region, account, stack),
        ],
        "names": {
            "userName": ["%s-user" % stack],
            "roleName": ["%s-generator-role" % stack],
            "functionName": ["%s-generator" % stack],
            "logGroupName": ["/lppg/%s/trail" % stack, "/aws/lambda/%s-generator" % stack],
            "trailName": ["%s-trail" % stack],
            "name": ["%s-trail" % stack],
            "bucketName": ["%s-trail-%s-%s" % (stack, account, region),
                           "%s-artifacts-%s-%s" % (stack, account, region)],
            "policyArn": ["arn:aws:iam::%s:policy/%s-policy-%d" % (account, stack, i) for i in range(1, 10)],
            "stackName": [stack],
        },
        "observed_user": "%s-user" % stack,
        "allow_role_switch": False,
    }


@pytest.fixture
def stack(iam):
    return Stack(iam, "t" + uuid.uuid4().hex[:10])


def record(principal, source, name, code="AccessDenied", message=None, params=None, **extra):
    r = {
        "eventVersion": "1.09",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "arn": principal,
                         "accountId": ACCOUNT, "userName": principal.rsplit("/", 1)[-1]},
        "eventTime": "2026-03-01T10:00:00Z", "eventSource": source, "eventName": name,
        "awsRegion": REGION, "sourceIPAddress": "198.51.100.7", "userAgent": "test",
        "requestParameters": params, "responseElements": None,
        "eventID": str(uuid.uuid4()), "readOnly": True, "eventType": "AwsApiCall",
        "managementEvent": True, "recipientAccountId": ACCOUNT,
    }
    if code:
        r["errorCode"] = code
        r["errorMessage"] = message if message is not None else "Access Denied"
    r.update(extra)
    return r


def denied_for(principal, action, resource="*"):
    """A modern denial naming `action`, as a record whose event is the same call."""
    prefix, name = action.split(":")
    msg = ("User: %s is not authorized to perform: %s on resource: %s because no identity-based policy "
           "allows the %s action" % (principal, action, resource, action))
    return record(principal, prefix + ".amazonaws.com", name, "AccessDenied", msg)


def payload(records, message_type="DATA_MESSAGE", raw_messages=None):
    """A CloudWatch Logs subscription event (gzip + base64), as Lambda receives it."""
    base = 1767000000000
    events = [{"id": str(36000000000000000000000000000000000000000000000000000000 + i),
               "timestamp": base + i, "message": json.dumps(r)} for i, r in enumerate(records)]
    for m in raw_messages or []:
        events.append({"id": "raw%d" % len(events), "timestamp": base + len(events), "message": m})
    body = {"messageType": message_type, "owner": ACCOUNT, "logGroup": "/lppg/test/trail",
            "logStream": "%s_CloudTrail_%s" % (ACCOUNT, REGION), "subscriptionFilters": ["lppg-denied"],
            "logEvents": events}
    if message_type == "CONTROL_MESSAGE":
        body.update(owner="CloudwatchLogs", logGroup="", logStream="", subscriptionFilters=[],
                    logEvents=[{"id": "", "timestamp": base,
                                "message": "CWL CONTROL MESSAGE: Checking health of destination Lambda."}])
    data = base64.b64encode(gzip.compress(json.dumps(body).encode())).decode()
    return {"awslogs": {"data": data}}


def parse_lines(text):
    out = []
    for line in text.splitlines():
        if line.strip():
            out.append(json.loads(line))
    return out
