#!/usr/bin/env python3
"""Benchmark of the generator function (run by hand, not a timed test).

Measures:
  1. module import time, importing handler from the deployment zip as Lambda does (median of 7 fresh
     interpreters; boto3 is imported lazily, on the first IAM call, so it is not part of this figure);
  2. IAM calls per batch for 50 and 500 records (cold container: empty version cache; and warm), against
     a private moto server: a fixed number, independent of the batch size;
  3. handler CPU for a 500-record batch excluding the IAM calls: the same batch through an in-memory IAM
     stand-in, so only our own work (decode, classify, plan, render) is on the clock (median of 7).

Usage: .venv/bin/python bench/function_bench.py
"""
import base64
import datetime
import glob
import gzip
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import zipfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
FN = os.path.join(ROOT, "assets", "function")
POLICIES = 9  # generator policies in the stack (assets/template.yaml)
sys.path.insert(0, FN)
ACCOUNT = "123456789012"
PRINCIPAL = "arn:aws:iam::%s:user/bench-user" % ACCOUNT
PLACEHOLDER = {"Version": "2012-10-17", "Statement": [
    {"Sid": "LppgPlaceholder", "Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"}]}
START = {"Version": "2012-10-17", "Statement": [
    {"Sid": "LppgStart", "Effect": "Allow", "Action": ["sts:GetCallerIdentity", "iam:GetUser"], "Resource": "*"}]}


def build_zip(path):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for f in sorted(glob.glob(os.path.join(FN, "*.py")) + glob.glob(os.path.join(FN, "*.json"))):
            z.write(f, os.path.basename(f))


def import_ms(zip_path):
    code = ("import time,sys; sys.path.insert(0,%r); t=time.perf_counter(); import handler; "
            "print((time.perf_counter()-t)*1000)" % zip_path)
    runs = [float(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout)
            for _ in range(7)]
    return statistics.median(runs)


def actions(n, offset=0):
    import rules
    cat = rules.load_rules().catalogue
    out = ["%s:%s" % (p, a) for p in sorted(cat) for a in sorted(cat[p])]
    return out[offset:offset + n]


def records(n, distinct, offset=0):
    """n denied records over `distinct` distinct actions (console sessions repeat themselves)."""
    acts = actions(distinct, offset)
    out = []
    for i in range(n):
        a = acts[i % distinct]
        msg = ("User: %s is not authorized to perform: %s on resource: * because no identity-based policy "
               "allows the %s action" % (PRINCIPAL, a, a))
        out.append({"eventVersion": "1.09", "userIdentity": {"type": "IAMUser", "arn": PRINCIPAL,
                                                             "accountId": ACCOUNT, "userName": "bench-user"},
                    "eventTime": "2026-03-01T10:%02d:%02dZ" % (i // 60 % 60, i % 60),
                    "eventSource": a.split(":")[0] + ".amazonaws.com", "eventName": a.split(":")[1],
                    "awsRegion": "us-east-1", "sourceIPAddress": "198.51.100.1", "userAgent": "bench",
                    "errorCode": "AccessDenied", "errorMessage": msg, "requestParameters": None,
                    "responseElements": None, "eventID": "%08d-0000-4000-8000-000000000000" % i,
                    "readOnly": True, "eventType": "AwsApiCall", "managementEvent": True,
                    "recipientAccountId": ACCOUNT})
    return out


def payload(recs):
    body = {"messageType": "DATA_MESSAGE", "owner": ACCOUNT, "logGroup": "/lppg/bench/trail",
            "logStream": "x", "subscriptionFilters": ["f"],
            "logEvents": [{"id": str(i), "timestamp": 1767000000000 + i, "message": json.dumps(r)}
                          for i, r in enumerate(recs)]}
    return {"awslogs": {"data": base64.b64encode(gzip.compress(json.dumps(body).encode())).decode()}}


class StubIAM:
    """In-memory IAM (policy versions only), so CPU measurements exclude botocore and the network."""

    def __init__(self):
        self.p = {}
        self.calls = 0

    def add(self, arn, doc):
        self.p[arn] = {"n": 1, "v": [{"VersionId": "v1", "Document": json.dumps(doc), "IsDefaultVersion": True,
                                      "CreateDate": datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)}]}

    def list_policy_versions(self, PolicyArn):
        self.calls += 1
        return {"Versions": [{k: v[k] for k in ("VersionId", "IsDefaultVersion", "CreateDate")}
                             for v in self.p[PolicyArn]["v"]]}

    def get_policy_version(self, PolicyArn, VersionId):
        self.calls += 1
        return {"PolicyVersion": next(v for v in self.p[PolicyArn]["v"] if v["VersionId"] == VersionId)}

    def create_policy_version(self, PolicyArn, PolicyDocument, SetAsDefault):
        self.calls += 1
        p = self.p[PolicyArn]
        for v in p["v"]:
            v["IsDefaultVersion"] = False
        p["n"] += 1
        v = {"VersionId": "v%d" % p["n"], "Document": PolicyDocument, "IsDefaultVersion": True,
             "CreateDate": datetime.datetime.now(datetime.timezone.utc)}
        p["v"].append(v)
        return {"PolicyVersion": {"VersionId": v["VersionId"], "CreateDate": v["CreateDate"]}}

    def delete_policy_version(self, PolicyArn, VersionId):
        self.calls += 1
        self.p[PolicyArn]["v"] = [v for v in self.p[PolicyArn]["v"] if v["VersionId"] != VersionId]


class Counter:
    def __init__(self, stub):
        self.stub = stub

    @property
    def n(self):
        return self.stub.calls


def env_for(arns):
    return {"LPPG_USER_ARN": PRINCIPAL, "LPPG_POLICY_ARNS": ",".join(arns),
            "LPPG_GUARD": json.dumps({"arns": [], "names": {}})}


def cpu_ms(n, distinct):
    import handler
    import store
    samples = []
    ev = payload(records(n, distinct))
    for _ in range(7):
        stub = StubIAM()
        arns = ["arn:aws:iam::%s:policy/bench-policy-%d" % (ACCOUNT, i) for i in range(1, POLICIES + 1)]
        for i, a in enumerate(arns):
            stub.add(a, START if i == 0 else PLACEHOLDER)
        store._VERSION_CACHE.clear()
        sink = []
        t = time.process_time()
        handler.process(ev, env=env_for(arns), iam=stub, counter=Counter(stub), emit=sink.append)
        samples.append((time.process_time() - t) * 1000)
    return statistics.median(samples)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def moto_calls():
    port = free_port()
    url = "http://127.0.0.1:%d" % port
    proc = subprocess.Popen([os.path.join(ROOT, ".venv", "bin", "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):
            try:
                urllib.request.urlopen(url + "/moto-api/", timeout=1).read()
                break
            except Exception:  # noqa: BLE001
                time.sleep(0.05)
        for k in [k for k in os.environ if k.startswith("AWS_")]:
            del os.environ[k]
        os.environ.update({"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
                           "AWS_ENDPOINT_URL": url})
        import boto3
        import handler
        import store
        iam = boto3.client("iam")
        rows = []
        for n, distinct in ((50, 40), (500, 120)):
            name = "b%d" % n
            arns = []
            for i in range(1, POLICIES + 1):
                arns.append(iam.create_policy(PolicyName="%s-policy-%d" % (name, i), PolicyDocument=json.dumps(
                    START if i == 1 else PLACEHOLDER))["Policy"]["Arn"])
            env = env_for(arns)
            store._VERSION_CACHE.clear()
            sink = []
            t = time.perf_counter()
            cold = handler.process(payload(records(n, distinct)), env=env, emit=sink.append)
            cold_ms = (time.perf_counter() - t) * 1000
            warm = handler.process(payload(records(n, distinct, offset=5000)), env=env, emit=sink.append)
            again = handler.process(payload(records(n, distinct, offset=5000)), env=env, emit=sink.append)
            rows.append((n, distinct, cold["iam_calls"], warm["iam_calls"], again["iam_calls"], cold_ms,
                         cold["granted"], warm["granted"], again["already_present"]))
        return rows
    finally:
        proc.terminate()
        proc.wait(5)


def main():
    with tempfile.TemporaryDirectory() as d:
        z = os.path.join(d, "function.zip")
        build_zip(z)
        imp = import_ms(z)
    cpu500 = cpu_ms(500, 120)
    cpu50 = cpu_ms(50, 40)
    rows = moto_calls()
    print("lppg generator function benchmark (python %s)" % sys.version.split()[0])
    print("import handler from the zip (median of 7):        %6.1f ms   (target < 300 ms)" % imp)
    print("handler CPU, 500 records / 120 actions, no IAM:   %6.1f ms   (target < 100 ms)" % cpu500)
    print("handler CPU,  50 records /  40 actions, no IAM:   %6.1f ms" % cpu50)
    print("IAM calls per invocation against moto (%d policies, as in the stack; first policy written):" % POLICIES)
    print("  records  distinct  cold  warm  re-delivered  wall(cold)  granted")
    for n, distinct, cold, warm, again, ms, g, _g2, _ap in rows:
        print("  %7d  %8d  %4d  %4d  %12d  %8.0f ms  %7d" % (n, distinct, cold, warm, again, ms, g))


if __name__ == "__main__":
    main()
