"""The fault-injecting proxy (tests/support/fault_proxy.py), observed through boto3 with retries off."""
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid

import pytest
from botocore.exceptions import ClientError

import fault_proxy as fp
from conftest import ROOT, client_via

DOC = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"}]}


def uid(prefix="fp"):
    return "%s%s" % (prefix, uuid.uuid4().hex[:10])


def error_of(fn, **kw):
    with pytest.raises(ClientError) as ei:
        fn(**kw)
    r = ei.value.response
    return r["Error"], r["ResponseMetadata"]["HTTPStatusCode"], r["ResponseMetadata"]["HTTPHeaders"]


def new_policy(iam):
    return iam.create_policy(PolicyName=uid("p"), PolicyDocument=json.dumps(DOC))["Policy"]["Arn"]


def version_ids(iam, arn):
    return sorted(v["VersionId"] for v in iam.list_policy_versions(PolicyArn=arn)["Versions"])


def test_identifies_calls_by_protocol():
    auth = {"Authorization": "AWS4-HMAC-SHA256 Credential=test/20260301/us-east-1/%s/aws4_request, "
                             "SignedHeaders=host, Signature=x"}
    form = {"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"}

    def call(method, path, service, headers=None, body=b""):
        h = {"Authorization": auth["Authorization"] % service}
        h.update(headers or {})
        return fp.Call(method, path, h, body)

    c = call("POST", "/", "iam", form, b"Action=ListPolicyVersions&Version=2010-05-08&PolicyArn=arn%3Ax")
    assert (c.service, c.protocol, c.action, c.params["PolicyArn"]) == ("iam", "query", "ListPolicyVersions",
                                                                        "arn:x")
    c = call("POST", "/", "logs", {"X-Amz-Target": "Logs_20140328.FilterLogEvents"}, b'{"logGroupName":"g"}')
    assert (c.protocol, c.action, c.params) == ("json", "FilterLogEvents", {"logGroupName": "g"})
    c = call("POST", "/", "cloudtrail",
             {"X-Amz-Target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.GetTrail"}, b"{}")
    assert (c.service, c.action) == ("cloudtrail", "GetTrail")
    assert call("POST", "/bkt?delete", "s3").action == "DeleteObjects"
    assert call("GET", "/bkt?list-type=2&prefix=a", "s3").action == "ListObjectsV2"
    assert call("GET", "/bkt", "s3").action == "ListObjects"
    assert call("GET", "/", "s3").action == "ListBuckets"
    assert call("DELETE", "/bkt/a/b.json", "s3").action == "DeleteObject"
    assert call("PUT", "/bkt/k", "s3", {"x-amz-copy-source": "/o/k"}).action == "CopyObject"
    assert call("GET", "/bkt?versions", "s3").action == "ListObjectVersions"
    assert call("DELETE", "/bkt", "s3").action == "DeleteBucket"


def test_throttles_every_nth_query_call(fault_proxy):
    iam = client_via(fault_proxy.url, "iam")
    name = uid("u")
    iam.create_user(UserName=name)
    fault_proxy.set_rules([{"kind": "throttle", "service": "iam", "action": "GetUser", "every": 3}])
    outcomes = []
    for _ in range(6):
        try:
            iam.get_user(UserName=name)
            outcomes.append("ok")
        except ClientError as exc:
            err, status = exc.response["Error"], exc.response["ResponseMetadata"]["HTTPStatusCode"]
            outcomes.append((err["Code"], err.get("Type"), status))
    assert outcomes == ["ok", "ok", ("Throttling", "Sender", 400)] * 2
    iam.list_users()  # other actions pass
    assert fault_proxy.stats()["injected"] == {"throttle": 2}


def test_throttles_json_protocol_with_error_type_header(fault_proxy):
    logs = client_via(fault_proxy.url, "logs")
    group = "/" + uid("g")
    logs.create_log_group(logGroupName=group)
    fault_proxy.set_rules([{"kind": "throttle", "service": "logs", "action": "FilterLogEvents"}])
    err, status, headers = error_of(logs.filter_log_events, logGroupName=group)
    assert (err["Code"], status, headers["x-amzn-errortype"]) == ("ThrottlingException", 400, "ThrottlingException")
    assert err["Message"] == "Rate exceeded"
    logs.describe_log_groups(logGroupNamePrefix=group)
    assert fault_proxy.stats()["injected"] == {"throttle": 1}


def test_throttles_s3_with_slowdown(fault_proxy):
    s3 = client_via(fault_proxy.url, "s3")
    bucket = uid("b")
    s3.create_bucket(Bucket=bucket)
    fault_proxy.set_rules([{"kind": "throttle", "service": "s3", "action": "ListObjectsV2", "times": 1}])
    err, status, _ = error_of(s3.list_objects_v2, Bucket=bucket)
    assert (err["Code"], status) == ("SlowDown", 503)
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0  # `times` 1: the next one passes


def test_stale_policy_versions_after_create(fault_proxy):
    iam = client_via(fault_proxy.url, "iam")
    arn, other = new_policy(iam), new_policy(iam)
    fault_proxy.set_rules([{"kind": "stale", "service": "iam", "action": "ListPolicyVersions",
                            "after": "CreatePolicyVersion", "requests": 2}])
    created = iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(DOC), SetAsDefault=True)
    assert created["PolicyVersion"]["VersionId"] == "v2"
    assert version_ids(iam, arn) == ["v1"]
    assert version_ids(iam, other) == ["v1"]  # another policy: not stale
    assert version_ids(iam, arn) == ["v1"]
    assert version_ids(iam, arn) == ["v1", "v2"]  # after 2 stale answers, the truth
    assert fault_proxy.stats()["injected"] == {"stale": 2}


def test_stale_window_in_seconds(fault_proxy):
    iam = client_via(fault_proxy.url, "iam")
    arn = new_policy(iam)
    window = 1.0
    fault_proxy.set_rules([{"kind": "stale", "action": "ListPolicyVersions", "after": "CreatePolicyVersion",
                            "seconds": window}])
    t0 = time.monotonic()  # the window opens after this, when the create has succeeded
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(DOC), SetAsDefault=True)
    reads = []  # (started, answer)
    while not reads or reads[-1][1] == ["v1"]:
        assert time.monotonic() - t0 < 10, "still stale after 10 s"
        reads.append((time.monotonic() - t0, version_ids(iam, arn)))
    assert reads[-1][1] == ["v1", "v2"]
    assert all(ids == ["v1"] for started, ids in reads if started < window)  # every read inside: stale
    assert fault_proxy.stats()["injected"]["stale"] == len(reads) - 1


def test_stale_reads_after_delete(fault_proxy):
    iam = client_via(fault_proxy.url, "iam")
    ct = client_via(fault_proxy.url, "cloudtrail")
    s3 = client_via(fault_proxy.url, "s3")
    user, trail, bucket = uid("u"), uid("t"), uid("b")
    iam.create_user(UserName=user)
    s3.create_bucket(Bucket=bucket)
    ct.create_trail(Name=trail, S3BucketName=bucket)
    fault_proxy.set_rules([{"kind": "stale", "action": "GetUser", "after": "DeleteUser"},
                           {"kind": "stale", "action": "GetTrail", "after": "DeleteTrail", "requests": 1}])
    iam.delete_user(UserName=user)
    ct.delete_trail(Name=trail)
    assert iam.get_user(UserName=user)["User"]["UserName"] == user  # still answers
    assert ct.get_trail(Name=trail)["Trail"]["Name"] == trail
    assert error_of(iam.get_user, UserName=user)[0]["Code"] == "NoSuchEntity"
    assert error_of(ct.get_trail, Name=trail)[0]["Code"] == "TrailNotFoundException"
    assert fault_proxy.stats()["injected"] == {"stale": 2}


def test_stale_window_opens_only_after_a_successful_write(fault_proxy):
    iam = client_via(fault_proxy.url, "iam")
    fault_proxy.set_rules([{"kind": "stale", "action": "GetUser", "after": "DeleteUser"}])
    name = uid("u")
    assert error_of(iam.delete_user, UserName=name)[0]["Code"] == "NoSuchEntity"
    assert error_of(iam.get_user, UserName=name)[0]["Code"] == "NoSuchEntity"
    assert fault_proxy.stats()["injected"] == {}


def test_delete_objects_fails_chosen_keys(fault_proxy):
    s3 = client_via(fault_proxy.url, "s3")
    bucket = uid("b")
    s3.create_bucket(Bucket=bucket)
    keys = ["locked/a", "locked/b", "slow", "broken", "fine1", "fine2"]
    for k in keys:
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    fault_proxy.set_rules([{"kind": "delete_errors", "keys": {"locked/*": "AccessDenied", "slow": "SlowDown",
                                                              "broken": "InternalError"}, "times": 1}])
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in keys]})
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert sorted(d["Key"] for d in r["Deleted"]) == ["fine1", "fine2"]
    assert sorted((e["Key"], e["Code"]) for e in r["Errors"]) == [
        ("broken", "InternalError"), ("locked/a", "AccessDenied"), ("locked/b", "AccessDenied"),
        ("slow", "SlowDown")]
    assert all(e["Message"] for e in r["Errors"])
    left = sorted(o["Key"] for o in s3.list_objects_v2(Bucket=bucket)["Contents"])
    assert left == ["broken", "locked/a", "locked/b", "slow"]  # failed keys were not deleted
    r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": k} for k in left], "Quiet": True})
    assert not r.get("Errors")  # `times` 1 per key: the retry succeeds
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 0
    assert fault_proxy.stats()["injected"] == {"delete_errors": 4}


def test_delete_objects_all_keys_failing(fault_proxy):
    s3 = client_via(fault_proxy.url, "s3")
    bucket = uid("b")
    s3.create_bucket(Bucket=bucket)
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    fault_proxy.set_rules([{"kind": "delete_errors", "keys": {"*": "AccessDenied"}}])
    for _ in range(2):
        r = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": "k"}]})
        assert [(e["Key"], e["Code"]) for e in r["Errors"]] == [("k", "AccessDenied")] and not r.get("Deleted")
    assert s3.list_objects_v2(Bucket=bucket)["KeyCount"] == 1


def test_entity_temporarily_unmodifiable_first_k_times(fault_proxy):
    iam = client_via(fault_proxy.url, "iam")
    name = uid("u")
    fault_proxy.set_rules([{"kind": "unmodifiable", "service": "iam", "action": "CreateUser", "times": 2}])
    for _ in range(2):
        err, status, _ = error_of(iam.create_user, UserName=name)
        assert (err["Code"], status) == ("EntityTemporarilyUnmodifiable", 409) and name in err["Message"]
    with pytest.raises(iam.exceptions.NoSuchEntityException):
        iam.get_user(UserName=name)  # the refused calls did nothing
    iam.create_user(UserName=name)
    assert iam.get_user(UserName=name)["User"]["UserName"] == name
    assert fault_proxy.stats()["injected"] == {"unmodifiable": 2}


def test_delete_stack_refusals(fault_proxy):
    cfn = client_via(fault_proxy.url, "cloudformation")
    name = uid("s")
    tpl = {"Resources": {"G": {"Type": "AWS::Logs::LogGroup", "Properties": {"LogGroupName": "/" + name}}}}
    cfn.create_stack(StackName=name, TemplateBody=json.dumps(tpl))
    fault_proxy.set_rules([{"kind": "termination_protection", "action": "DeleteStack", "times": 1},
                           {"kind": "access_denied", "action": "DeleteStack", "times": 1,
                            "resource": "arn:aws:cloudformation:us-east-1:123456789012:stack/%s/*" % name}])
    err, status, _ = error_of(cfn.delete_stack, StackName=name)
    assert (err["Code"], status) == ("ValidationError", 400)
    assert err["Message"] == "Stack [%s] cannot be deleted while TerminationProtection is enabled" % name
    err, status, _ = error_of(cfn.delete_stack, StackName=name)
    assert (err["Code"], status) == ("AccessDenied", 403)
    assert "is not authorized to perform: cloudformation:DeleteStack on resource: arn:aws:cloudformation:" \
           in err["Message"]
    assert cfn.describe_stacks(StackName=name)["Stacks"][0]["StackStatus"] == "CREATE_COMPLETE"
    cfn.delete_stack(StackName=name)
    assert fault_proxy.stats()["injected"] == {"termination_protection": 1, "access_denied": 1}


def test_generic_error_rule_and_params_filter(fault_proxy):
    iam = client_via(fault_proxy.url, "iam")
    a, b = new_policy(iam), new_policy(iam)
    fault_proxy.set_rules([{"kind": "error", "code": "ServiceFailure", "status": 500, "fault": "Receiver",
                            "action": "GetPolicy", "params": {"PolicyArn": a}}])
    err, status, _ = error_of(iam.get_policy, PolicyArn=a)
    assert (err["Code"], err["Type"], status) == ("ServiceFailure", "Receiver", 500)
    assert iam.get_policy(PolicyArn=b)["Policy"]["Arn"] == b


def test_pages_of_one(fault_proxy):
    iam = client_via(fault_proxy.url, "iam")
    logs = client_via(fault_proxy.url, "logs")
    s3 = client_via(fault_proxy.url, "s3")
    arn = new_policy(iam)
    for _ in range(3):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(DOC), SetAsDefault=True)
    group, bucket = "/" + uid("g"), uid("b")
    logs.create_log_group(logGroupName=group)
    logs.create_log_stream(logGroupName=group, logStreamName="s")
    now = int(time.time() * 1000)  # put_log_events refuses events older than 14 days
    logs.put_log_events(logGroupName=group, logStreamName="s",
                        logEvents=[{"timestamp": now - 1000 + i, "message": "m%d" % i} for i in range(3)])
    s3.create_bucket(Bucket=bucket)
    for k in "abc":
        s3.put_object(Bucket=bucket, Key=k, Body=b"x")
    fault_proxy.set_rules([{"kind": "page"}])

    def pages(client, op, key, **kw):
        out = [p[key] for p in client.get_paginator(op).paginate(**kw) if p.get(key)]
        assert all(len(p) == 1 for p in out), out
        return out

    # moto ignores MaxItems on ListPolicyVersions: the proxy cuts the pages itself
    assert sorted(p[0]["VersionId"] for p in pages(iam, "list_policy_versions", "Versions", PolicyArn=arn)) == \
        ["v1", "v2", "v3", "v4"]
    assert len(pages(logs, "filter_log_events", "events", logGroupName=group)) == 3
    assert [p[0]["Key"] for p in pages(s3, "list_objects_v2", "Contents", Bucket=bucket)] == ["a", "b", "c"]
    injected = fault_proxy.stats()["injected"]["page"]
    assert injected >= 4 + 3 + 3


def control(url, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path, data=data, method=method)
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_control_api(fault_proxy):
    url = fault_proxy.url
    iam = client_via(url, "iam")
    assert control(url, "POST", "/__faults/rules", [{"kind": "throttle", "action": "ListUsers", "times": 1}]) == \
        (200, {"rules": 1})
    more = {"rules": [{"kind": "unmodifiable", "action": "CreateUser"}]}
    assert control(url, "POST", "/__faults/rules?append=1", more)[1] == {"rules": 2}
    assert error_of(iam.list_users)[0]["Code"] == "Throttling"
    iam.list_users()
    status, rules = control(url, "GET", "/__faults/rules")
    assert status == 200 and [(r["kind"], r["seen"], r["fired"]) for r in rules["rules"]] == [
        ("throttle", 2, 1), ("unmodifiable", 0, 0)]
    status, stats = control(url, "GET", "/__faults/stats")
    assert stats["injected"] == {"throttle": 1} and stats["calls"]["iam:ListUsers"] == 2
    assert stats["log"] == [{"kind": "throttle", "call": "iam:ListUsers", "detail": ""}]
    assert control(url, "POST", "/__faults/rules", [{"kind": "nonsense"}])[0] == 400
    assert control(url, "DELETE", "/__faults/rules") == (200, {"rules": 0})
    iam.create_user(UserName=uid("u"))
    assert control(url, "POST", "/__faults/reset")[0] == 200
    assert control(url, "GET", "/__faults/stats")[1]["injected"] == {}
    assert control(url, "GET", "/__faults/nope")[0] == 404


def test_command_line_prints_port_and_serves(moto_url, tmp_path):
    rules = tmp_path / "rules.json"
    rules.write_text(json.dumps({"rules": [{"kind": "throttle", "service": "sts", "every": 2}]}))
    proc = subprocess.Popen([sys.executable, os.path.join(ROOT, "tests", "support", "fault_proxy.py"),
                             "--upstream", moto_url, "--port", "0", "--rules", str(rules)],
                            stdout=subprocess.PIPE, text=True)
    try:
        port = int(proc.stdout.readline())
        sts = client_via("http://127.0.0.1:%d" % port, "sts")
        assert sts.get_caller_identity()["Account"] == "123456789012"
        assert error_of(sts.get_caller_identity)[0]["Code"] == "Throttling"
        assert control("http://127.0.0.1:%d" % port, "GET", "/__faults/stats")[1]["injected"] == {"throttle": 1}
    finally:
        proc.terminate()
        assert proc.wait(10) == 0


def test_passes_everything_through_without_rules(fault_proxy):
    s3 = client_via(fault_proxy.url, "s3")
    bucket = uid("b")
    s3.create_bucket(Bucket=bucket)
    body = os.urandom(2 * 1024 * 1024 + 3)
    s3.put_object(Bucket=bucket, Key="big", Body=body)
    assert s3.head_object(Bucket=bucket, Key="big")["ContentLength"] == len(body)
    assert error_of(s3.head_object, Bucket=bucket, Key="nope")[1] == 404
    assert s3.get_object(Bucket=bucket, Key="big")["Body"].read() == body
    stats = fault_proxy.stats()
    assert stats["injected"] == {} and stats["requests"] == 5
    assert stats["calls"] == {"s3:CreateBucket": 1, "s3:PutObject": 1, "s3:HeadObject": 2, "s3:GetObject": 1}


def test_lowercase_headers_as_the_rust_sdk_sends_them(fault_proxy):
    import http.client
    ct = client_via(fault_proxy.url, "cloudtrail")
    s3 = client_via(fault_proxy.url, "s3")
    trail, bucket = uid("t"), uid("b")
    s3.create_bucket(Bucket=bucket)
    ct.create_trail(Name=trail, S3BucketName=bucket)
    fault_proxy.set_rules([{"kind": "stale", "service": "cloudtrail", "action": "GetTrail", "after": "DeleteTrail"},
                           {"kind": "throttle", "service": "cloudtrail", "action": "GetTrailStatus"}])
    conn = http.client.HTTPConnection("127.0.0.1", fault_proxy.port, timeout=10)

    def send(action):
        conn.request("POST", "/", body=json.dumps({"Name": trail}), headers={
            "authorization": "AWS4-HMAC-SHA256 Credential=test/20260301/us-east-1/cloudtrail/aws4_request, "
                             "SignedHeaders=host;x-amz-target, Signature=0",
            "x-amz-target": "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101." + action,
            "content-type": "application/x-amz-json-1.1"})
        r = conn.getresponse()
        return r.status, r.getheader("x-amzn-errortype"), r.read()

    status, kind, body = send("GetTrailStatus")
    assert (status, kind) == (400, "ThrottlingException") and json.loads(body)["__type"] == "ThrottlingException"
    assert send("DeleteTrail")[0] == 200
    assert ct.get_trail(Name=trail)["Trail"]["Name"] == trail  # the pre-delete answer, once
    assert error_of(ct.get_trail, Name=trail)[0]["Code"] == "TrailNotFoundException"
    assert fault_proxy.stats()["injected"] == {"throttle": 1, "stale": 1}
