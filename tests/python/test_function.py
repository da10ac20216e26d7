"""The generator function against moto: payloads, policy writing, limits, concurrency, guard."""
import json
import threading

import pytest

import handler
import policydoc
from conftest import denied_for, parse_lines, payload, record
from contract import check_lines, problems


def run(stack, monkeypatch, capsys, records, **kw):
    stack.install_env(monkeypatch)
    capsys.readouterr()
    batch = handler.lambda_handler(payload(records, **kw), None)
    lines = parse_lines(capsys.readouterr().out)
    assert lines[-1]["lppg"] == "batch"
    assert all(l["lppg"] == "decision" and l["v"] == 1 for l in lines[:-1])
    check_lines(lines)  # every line conforms to tests/vectors/decision_schema.json
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


def catalogue_actions(n, skip_prefixes=("s3",)):
    import rules
    cat = rules.load_rules().catalogue
    out = []
    for prefix in sorted(cat):
        if prefix in skip_prefixes:
            continue
        for name in sorted(cat[prefix]):
            out.append(prefix + ":" + name)
            if len(out) == n:
                return out
    raise AssertionError("catalogue too small")


def assert_valid_policies(stack):
    for arn in stack.policy_arns:
        vs = stack.versions(arn)
        assert len(vs) <= 5
        raw = stack.iam.get_policy_version(PolicyArn=arn, VersionId=[v for v in vs if v["IsDefaultVersion"]][0][
            "VersionId"])["PolicyVersion"]["Document"]
        text = raw if isinstance(raw, str) else json.dumps(raw, separators=(",", ":"))
        doc = json.loads(text)
        assert policydoc.size_of(json.dumps(doc, separators=(",", ":"))) <= 6144
        prefixes = []
        for st in doc["Statement"]:
            if st["Sid"] in ("LppgStart", "LppgPlaceholder"):
                continue
            acts = st["Action"]
            assert acts == sorted(acts, key=lambda a: a.lower())
            prefix = acts[0].split(":")[0]
            assert st == {"Sid": policydoc.sid_for(prefix), "Effect": "Allow", "Action": acts, "Resource": "*"}
            prefixes.append(prefix)
        assert prefixes == sorted(prefixes)


def test_redelivery_writes_nothing(stack, monkeypatch, capsys):
    recs = [denied_for(stack.user_arn, a) for a in ("ec2:DescribeVpcs", "iam:ListRoles", "ec2:DescribeVpcs")]
    lines, batch = run(stack, monkeypatch, capsys, recs)
    assert [l["decision"] for l in lines] == ["granted", "granted", "already_present"]
    assert len(batch["policies_written"]) == 1
    before = stack.versions(stack.policy_arns[0])
    lines, batch = run(stack, monkeypatch, capsys, recs)
    assert [l["decision"] for l in lines] == ["already_present"] * 3
    assert {l["version"] for l in lines} == {"v2"}
    assert batch["policies_written"] == [] and batch["granted"] == 0
    assert stack.versions(stack.policy_arns[0]) == before


def test_start_actions_count_as_present(stack, monkeypatch, capsys):
    lines, batch = run(stack, monkeypatch, capsys, [denied_for(stack.user_arn, "iam:GetUser")])
    assert lines[0]["decision"] == "already_present" and batch["policies_written"] == []


def test_version_pruning_keeps_five(stack, monkeypatch, capsys):
    arn = stack.policy_arns[0]
    for i, a in enumerate(["ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeImages", "ec2:DescribeKeyPairs",
                           "ec2:DescribeVolumes", "ec2:DescribeSnapshots", "ec2:DescribeRegions"]):
        lines, batch = run(stack, monkeypatch, capsys, [denied_for(stack.user_arn, a)])
        assert lines[0]["decision"] == "granted" and lines[0]["version"] == "v%d" % (i + 2)
        vs = stack.versions(arn)
        assert len(vs) == min(i + 2, 5)
    assert sorted(v["VersionId"] for v in stack.versions(arn)) == ["v4", "v5", "v6", "v7", "v8"]
    assert {"ec2:DescribeVpcs", "ec2:DescribeRegions", "iam:GetUser"} <= stack.all_actions()
    assert_valid_policies(stack)


class Proxy:
    """Wraps a boto3 IAM client: reorders listings, injects errors."""

    def __init__(self, inner, reverse=False, fail=None):
        self.inner, self.reverse, self.fail = inner, reverse, dict(fail or {})
        self.calls = []

    def __getattr__(self, name):
        fn = getattr(self.inner, name)

        def call(**kw):
            self.calls.append((name, kw.get("VersionId")))
            queue = self.fail.get(name)
            if queue:
                code = queue.pop(0)
                from botocore.exceptions import ClientError
                raise ClientError({"Error": {"Code": code, "Message": "injected"}}, name)
            resp = fn(**kw)
            if name == "list_policy_versions" and self.reverse:
                resp["Versions"] = list(reversed(resp["Versions"]))
                resp["Versions"] = resp["Versions"][2:] + resp["Versions"][:2]
            return resp
        return call


def test_pruning_deletes_oldest_by_date_not_list_order(stack, monkeypatch, capsys):
    import store
    arn = stack.policy_arns[0]
    for a in ["ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeImages", "ec2:DescribeKeyPairs"]:
        run(stack, monkeypatch, capsys, [denied_for(stack.user_arn, a)])
    assert len(stack.versions(arn)) == 5
    proxy = Proxy(stack.iam, reverse=True)
    w = store.PolicyWriter(proxy, stack.policy_arns, sleep=lambda s: None)
    w.read_defaults()
    res = w.write(["ec2:DescribeRegions"])
    assert res["ec2:DescribeRegions"][0] == "granted"
    deleted = [v for n, v in proxy.calls if n == "delete_policy_version"]
    assert deleted == ["v1"]


def test_retries_throttling_and_concurrent_modification(stack, monkeypatch):
    import store
    proxy = Proxy(stack.iam, fail={"create_policy_version": ["Throttling", "ConcurrentModification",
                                                              "LimitExceeded"],
                                   "list_policy_versions": ["Throttling"]})
    sleeps = []
    w = store.PolicyWriter(proxy, stack.policy_arns, sleep=sleeps.append)
    w.read_defaults()
    res = w.write(["rds:DescribeDBInstances"])
    assert res["rds:DescribeDBInstances"][0] == "granted"
    assert "rds:DescribeDBInstances" in stack.all_actions()
    assert len(sleeps) >= 4 and all(0 < s <= 2.0 for s in sleeps)


def test_malformed_input_never_costs_the_batch(stack, monkeypatch, capsys):
    stack.install_env(monkeypatch)
    for bad in [None, {}, {"awslogs": {"data": "!!notbase64"}}, {"awslogs": {"data": "aGVsbG8="}},
                {"awslogs": "x"}, []]:
        capsys.readouterr()
        handler.lambda_handler(bad, None)
        lines = parse_lines(capsys.readouterr().out)
        assert lines[0]["decision"] == "error" and lines[0]["reason"]
        assert lines[-1]["lppg"] == "batch" and lines[-1]["errors"] == 1
    good = denied_for(stack.user_arn, "sns:ListTopics")
    weird = dict(record(stack.user_arn, "s3.amazonaws.com", "ListBuckets"), userIdentity="oops")
    odd = record(stack.user_arn, 42, None, "AccessDenied", {"not": "a string"})
    lines, batch = run(stack, monkeypatch, capsys, [good, weird, odd],
                       raw_messages=["not json", "[1,2]", '"str"'])
    decisions = [l["decision"] for l in lines]
    assert decisions.count("granted") == 1 and decisions.count("error") == 4
    assert batch["records"] == 6 and batch["errors"] == 4 and batch["other_principal"] == 1
    assert "sns:ListTopics" in stack.all_actions()


def test_control_message_ignored(stack, monkeypatch, capsys):
    lines, batch = run(stack, monkeypatch, capsys, [], message_type="CONTROL_MESSAGE")
    assert lines == [] and batch["records"] == 0 and batch["iam_calls"] == 0


def test_guard_withholds_and_writes_nothing(stack, monkeypatch, capsys):
    u, s = stack.user_arn, stack.name
    recs = [
        record(u, "cloudtrail.amazonaws.com", "StopLogging",
               params={"name": "arn:aws:cloudtrail:us-east-1:123456789012:trail/%s-trail" % s}),
        record(u, "iam.amazonaws.com", "PutUserPolicy", params={"userName": stack.user_name,
                                                                "policyName": "x", "policyDocument": "{}"}),
        record(u, "lambda.amazonaws.com", "UpdateFunctionCode20150331v2", "AccessDeniedException",
               params={"functionName": "%s-generator" % s}),
        record(u, "iam.amazonaws.com", "CreatePolicyVersion", params={"policyArn": stack.policy_arns[2]}),
        record(u, "logs.amazonaws.com", "PutSubscriptionFilter", "AccessDeniedException",
               params={"logGroupName": "/lppg/%s/trail" % s, "filterName": "f"}),
        record(u, "s3.amazonaws.com", "PutBucketPolicy",
               params={"bucketName": "%s-trail-123456789012-us-east-1" % s}),
        denied_for(u, "iam:PassRole", "arn:aws:iam::123456789012:role/%s-generator-role" % s),
    ]
    lines, batch = run(stack, monkeypatch, capsys, recs)
    assert [l["decision"] for l in lines] == ["withheld"] * 7
    assert all(l["reason"] and l["policy"] is None for l in lines)
    assert batch["withheld"] == 7 and batch["policies_written"] == [] and batch["iam_calls"] == 0
    assert stack.versions(stack.policy_arns[0])[0]["VersionId"] == "v1"


def test_explicit_deny_and_not_permission_are_not_granted(stack, monkeypatch, capsys):
    u = stack.user_arn
    msg = ("User: %s is not authorized to perform: ssm:GetParameter on resource: x with an explicit deny in a "
           "service control policy" % u)
    recs = [record(u, "ssm.amazonaws.com", "GetParameter", "AccessDeniedException", msg),
            record(u, "sts.amazonaws.com", "GetCallerIdentity"),
            record(u, "signin.amazonaws.com", "ConsoleLogin", None, eventType="AwsConsoleSignIn")]
    lines, batch = run(stack, monkeypatch, capsys, recs)
    assert [(l["decision"], l["action"]) for l in lines] == [
        ("explicit_deny", "ssm:GetParameter"), ("not_permission", None), ("not_permission", None)]
    assert batch["policies_written"] == []


def test_denials_an_identity_policy_cannot_fix_are_not_granted(stack, monkeypatch, capsys):
    """Issue 21: implicit denies by an SCP, RCP, permissions boundary, session or VPC endpoint policy are reported as
    `blocked` with the policy and the fix, and never written; the identity-based one beside them is granted; a
    resource-based one is granted and flagged. Message forms: IAM User Guide, "Troubleshoot access denied error
    messages"; the ARN after a colon: AWS Security Blog, "Enhanced access denied error messages with policy ARNs"."""
    u = stack.user_arn
    scp = "arn:aws:organizations::111111111111:policy/o-exampleorg1/service_control_policy/p-examplescp"

    def msg(action, tail):
        return "User: %s is not authorized to perform: %s because no %s" % (u, action, tail % action)

    recs = [
        record(u, "sqs.amazonaws.com", "ListQueues", "AccessDenied",
               msg("sqs:ListQueues", "service control policy allows the %s action: " + scp)),
        record(u, "sqs.amazonaws.com", "ListQueues", "AccessDenied",
               msg("sqs:ListQueues", "service control policy allows the %s action: " + scp)),
        record(u, "s3.amazonaws.com", "GetObject", "AccessDenied", msg("s3:GetObject", "resource control policy "
                                                                       "allows the %s action")),
        record(u, "ec2.amazonaws.com", "RunInstances", "Client.UnauthorizedOperation",
               msg("ec2:runinstances", "permissions boundary allows the %s action")),
        record(u, "dynamodb.amazonaws.com", "DescribeTable", "AccessDeniedException",
               msg("dynamodb:DescribeTable", "session policy allows the %s action")),
        record(u, "s3.amazonaws.com", "PutObject", "AccessDenied", msg("s3:PutObject", "VPC endpoint policy allows "
                                                                       "the %s action")),
        record(u, "kms.amazonaws.com", "Decrypt", "AccessDeniedException",
               msg("kms:Decrypt", "resource-based policy allows the %s action")),
        record(u, "sns.amazonaws.com", "ListTopics", "AuthorizationError",
               msg("sns:ListTopics", "identity-based policy allows the %s action")),
    ]
    lines, batch = run(stack, monkeypatch, capsys, recs)
    assert [(l["decision"], l["action"], l["denied_by"]) for l in lines] == [
        ("blocked", "sqs:ListQueues", "service_control_policy"),
        ("blocked", "sqs:ListQueues", "service_control_policy"),
        ("blocked", "s3:GetObject", "resource_control_policy"),
        ("blocked", "ec2:RunInstances", "permissions_boundary"),
        ("blocked", "dynamodb:DescribeTable", "session_policy"),
        ("blocked", "s3:PutObject", "vpc_endpoint_policy"),
        ("granted", "kms:Decrypt", "resource_based_policy"),
        ("granted", "sns:ListTopics", "identity_based_policy"),
    ]
    assert lines[0]["denied_by_policy"] == scp and lines[0]["policy"] is None
    assert lines[0]["reason"] == ("an identity policy cannot fix this: the service control policy p-examplescp "
                                  "must allow sqs:ListQueues")
    assert lines[3]["reason"] == "an identity policy cannot fix this: a permissions boundary must allow ec2:RunInstances"
    assert lines[6]["reason"] == "the resource's own policy must also allow it" and lines[7]["reason"] == ""
    assert batch["blocked"] == 6 and batch["granted"] == 2
    held = stack.all_actions()
    assert {"kms:Decrypt", "sns:ListTopics"} <= held
    assert not held & {"sqs:ListQueues", "s3:GetObject", "ec2:RunInstances", "dynamodb:DescribeTable", "s3:PutObject"}


def test_unverified_action_is_granted(stack, monkeypatch, capsys):
    lines, batch = run(stack, monkeypatch, capsys,
                       [record(stack.user_arn, "widgets.amazonaws.com", "ListWidgets", "AccessDeniedException")])
    assert lines[0]["decision"] == "unverified" and lines[0]["access_level"] is None
    assert lines[0]["version"] == "v2" and "widgets:ListWidgets" in stack.all_actions()
    assert batch["granted"] == 1 and batch["unverified"] == 1


def test_missing_configuration_fails_closed(stack, monkeypatch, capsys):
    stack.install_env(monkeypatch)
    monkeypatch.setenv("LPPG_GUARD", "{not json")
    capsys.readouterr()
    handler.lambda_handler(payload([denied_for(stack.user_arn, "sns:ListTopics")]), None)
    lines = parse_lines(capsys.readouterr().out)
    assert lines[0]["decision"] == "error" and "LPPG_GUARD" in lines[0]["reason"]
    assert "sns:ListTopics" not in stack.all_actions()


def test_spill_over_seven_policies_with_1000_actions(stack, monkeypatch, capsys):
    actions = catalogue_actions(1050)
    lines, batch = run(stack, monkeypatch, capsys, [denied_for(stack.user_arn, a) for a in actions])
    assert [l["decision"] for l in lines].count("granted") == 1050
    used = {l["policy"] for l in lines}
    assert len(used) >= 5
    assert_valid_policies(stack)
    assert set(actions) <= stack.all_actions()
    sizes = {s["policy"]: s["size"] for s in batch["policy_sizes"]}
    assert all(v <= 6144 for v in sizes.values())
    # every policy before the last one used is nearly full
    order = [a for a in stack.policy_arns if a in used]
    assert all(sizes[a] > 6000 for a in order[:-1])
    # the placeholder is gone from spare policies that were written
    for arn in order[1:]:
        assert all(s["Sid"] != "LppgPlaceholder" for s in stack.document(arn)["Statement"])
    # when everything is full -> error naming the problem
    more = catalogue_actions(1700)[1050:]
    lines, batch = run(stack, monkeypatch, capsys, [denied_for(stack.user_arn, a) for a in more])
    errs = [l for l in lines if l["decision"] == "error"]
    assert errs and "generator policies are full" in errs[0]["reason"]
    assert_valid_policies(stack)


STALE_LISTS = {"kind": "stale", "service": "iam", "action": "ListPolicyVersions", "after": "CreatePolicyVersion",
               "requests": 2}


def via_proxy(request, monkeypatch, stale):
    """The function's IAM calls go through the fault proxy (which counts them); with `stale`, after every
    CreatePolicyVersion the next 2 ListPolicyVersions of that policy answer with the list as it was before
    (IAM's eventual consistency)."""
    proxy = request.getfixturevalue("fault_proxy")
    proxy.set_rules([STALE_LISTS] if stale else [])
    monkeypatch.setenv("AWS_ENDPOINT_URL", proxy.url)
    return proxy


def overlap(stack, monkeypatch, capsys, n_threads, per_thread, offset=0):
    stack.install_env(monkeypatch)
    monkeypatch.setattr(handler.time, "sleep", lambda s: __import__("time").sleep(min(s, 0.05)))
    pool = catalogue_actions(offset + n_threads * per_thread)[offset:]
    errors = []
    barrier = threading.Barrier(n_threads)

    def worker(i):
        try:
            recs = [denied_for(stack.user_arn, a) for a in pool[i * per_thread:(i + 1) * per_thread]]
            barrier.wait()
            handler.lambda_handler(payload(recs), None)
        except Exception as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n_threads)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    lines = parse_lines(capsys.readouterr().out)
    assert all(problems(l, l["lppg"]) == [] for l in lines)
    assert not [l for l in lines if l.get("decision") == "error"]
    assert set(pool) <= stack.all_actions()
    assert_valid_policies(stack)
    return [l for l in lines if l["lppg"] == "batch"]


@pytest.mark.parametrize("stale", [False, True], ids=["consistent", "stale-lists"])
def test_overlapping_invocations_lose_nothing(stack, monkeypatch, capsys, request, stale):
    # Force the worst case: every invocation reads the policies before any of them writes, so all plan from the
    # same base and each write races the others (without this, a slow machine may serialise the threads).
    import store
    n = 24
    gate = threading.Barrier(n)
    first = threading.local()
    original = store.PolicyWriter.read_defaults

    def read_then_wait(self, *args, **kwargs):
        result = original(self, *args, **kwargs)
        if not getattr(first, "done", False):
            first.done = True
            try:
                gate.wait(timeout=20)
            except threading.BrokenBarrierError:
                pass
        return result

    monkeypatch.setattr(store.PolicyWriter, "read_defaults", read_then_wait)
    proxy = via_proxy(request, monkeypatch, stale)
    batches = overlap(stack, monkeypatch, capsys, n, 5)
    assert len(batches) == 24
    # the invocations really overlapped: more CreatePolicyVersion calls than one per invocation (versions
    # written again, or refused with LimitExceeded because all 24 planned from the same 1-version list; the
    # versions written alone are not a reliable sign: the writers may queue on LimitExceeded)
    assert sum(len(b["policies_written"]) for b in batches) >= 24
    assert proxy.stats()["calls"]["iam:CreatePolicyVersion"] > 24
    assert proxy.stats()["injected"].get("stale", 0) > 0 if stale else proxy.stats()["injected"] == {}


@pytest.mark.parametrize("stale", [False, True], ids=["consistent", "stale-lists"])
def test_overlapping_invocations_at_the_size_limit(stack, monkeypatch, capsys, request, stale):
    """20 overlapping invocations whose union overflows policies: spill under contention."""
    proxy = via_proxy(request, monkeypatch, stale)
    batches = overlap(stack, monkeypatch, capsys, 20, 40, offset=2000)
    assert len({w["policy"] for b in batches for w in b["policies_written"]}) >= 3
    assert proxy.stats()["injected"].get("stale", 0) > 0 if stale else proxy.stats()["injected"] == {}


def test_1000_actions_over_30_services_fit_the_stacks_policies(stack, monkeypatch, capsys):
    """Capacity with a realistic spread: 1,000 distinct actions from 30 services (round robin over the 30
    services with the most actions) all fit in the stack's generator policies, every document within 6,144."""
    import rules
    cat = rules.load_rules().catalogue
    services = sorted(cat, key=lambda p: (-len(cat[p]), p))[:30]
    names = {p: sorted(cat[p]) for p in services}
    actions, i = [], 0
    while len(actions) < 1000:
        p = services[i % 30]
        k = i // 30
        if k < len(names[p]):
            actions.append(p + ":" + names[p][k])
        i += 1
    assert len({a.split(":")[0] for a in actions}) == 30
    lines, batch = run(stack, monkeypatch, capsys, [denied_for(stack.user_arn, a) for a in actions])
    assert not [l for l in lines if l["decision"] == "error"], "all 1,000 must fit"
    assert set(actions) <= stack.all_actions()
    assert_valid_policies(stack)
    assert len(stack.policy_arns) == 9


def _probe(principal, probe_id="lppg-probe-00ff"):
    r = record(principal, handler.PROBE_SOURCE, "Probe", "AccessDenied",
               "User: %s is not authorized to perform: lppg:Probe" % principal)
    r["eventID"] = probe_id
    r["lppgProbe"] = probe_id
    return r


def test_probe_record_answers_with_a_probe_line_and_grants_nothing(stack, monkeypatch, capsys):
    before = [stack.versions(a) for a in stack.policy_arns]
    lines, batch = run(stack, monkeypatch, capsys, [_probe(stack.user_arn)])
    assert [(l["decision"], l["action"], l["event_id"], l["policy"]) for l in lines] == [
        ("probe", "lppg:Probe", "lppg-probe-00ff", None)]
    assert "lppg-probe-00ff" in lines[0]["reason"]
    assert batch["probe"] == 1 and batch["granted"] == 0 and batch["denied"] == 0
    assert batch["iam_calls"] == 0, "a probe makes no IAM call"
    assert batch["policies_written"] == []
    assert [stack.versions(a) for a in stack.policy_arns] == before


def test_user_mode_probe_vector_is_recognised(stack, monkeypatch, capsys):
    """The exact record `lppg status --probe` writes in user mode (tests/vectors/probe_records.json)."""
    import os
    from conftest import VECTORS_DIR
    with open(os.path.join(VECTORS_DIR, "probe_records.json"), encoding="utf-8") as f:
        case = next(c for c in json.load(f)["records"] if c["mode"] == "user")
    rec = json.loads(json.dumps(case["record"]).replace(case["principal"], stack.user_arn))
    lines, batch = run(stack, monkeypatch, capsys, [rec])
    assert [(l["decision"], l["event_id"]) for l in lines] == [("probe", case["probe_id"])]
    assert batch["granted"] == 0


def test_only_the_observed_users_marked_record_is_a_probe(stack, monkeypatch, capsys):
    other = _probe("arn:aws:iam::123456789012:user/someone-else")
    unmarked = _probe(stack.user_arn)
    del unmarked["lppgProbe"]
    lines, batch = run(stack, monkeypatch, capsys, [other, unmarked])
    assert batch["probe"] == 0 and batch["other_principal"] == 1
    assert all(l["decision"] != "probe" for l in lines)
    # The unmarked one has the probe's event source: never granted (issue 24), not even lppg:Probe.
    assert [l["decision"] for l in lines] == ["not_permission"]
    assert batch["granted"] == 0 and "lppg:Probe" not in stack.all_actions()


def _group_denial(stack, action, group, **params):
    msg = ("User: %s is not authorized to perform: %s on resource: arn:aws:iam::123456789012:group/%s because no "
           "identity-based policy allows the %s action" % (stack.user_arn, action, group, action))
    return record(stack.user_arn, "iam.amazonaws.com", action.split(":")[1], "AccessDenied", msg,
                  params=dict(groupName=group, **params))


def test_group_routes_out_of_observation_are_withheld(stack, monkeypatch, capsys):
    """Issue 24, defect 4: a group's policies apply to its members (IAM User Guide, "IAM user groups"), so joining a
    group or changing the policies of a group the user is in would let the procedure's calls through unobserved.
    The function reads the user's groups from IAM (ListGroupsForUser, moto) only when a record needs them."""
    stack.iam.create_group(GroupName=stack.name + "-devs")
    stack.iam.create_group(GroupName=stack.name + "-others")
    stack.iam.add_user_to_group(GroupName=stack.name + "-devs", UserName=stack.user_name)
    admin = "arn:aws:iam::aws:policy/AdministratorAccess"
    recs = [
        _group_denial(stack, "iam:AddUserToGroup", "Admins", userName=stack.user_name),
        _group_denial(stack, "iam:AttachGroupPolicy", stack.name + "-devs", policyArn=admin),
        _group_denial(stack, "iam:PutGroupPolicy", stack.name + "-devs", policyName="more"),
        _group_denial(stack, "iam:AttachGroupPolicy", stack.name + "-others", policyArn=admin),
    ]
    lines, batch = run(stack, monkeypatch, capsys, recs)
    assert [(l["decision"], l["action"]) for l in lines] == [
        ("withheld", "iam:AddUserToGroup"), ("withheld", "iam:AttachGroupPolicy"),
        ("withheld", "iam:PutGroupPolicy"), ("granted", "iam:AttachGroupPolicy")]
    assert "adds user %s to group Admins" % stack.user_name in lines[0]["reason"]
    assert "which user %s is in" % stack.user_name in lines[1]["reason"]
    assert stack.all_actions() >= {"iam:AttachGroupPolicy"} and "iam:PutGroupPolicy" not in stack.all_actions()


def test_role_switch_is_withheld_and_reported(stack, monkeypatch, capsys):
    """Issue 24, defect 4: after AssumeRole the calls are the new session's (STS AssumeRole: "returns a set of
    temporary security credentials" of the role), never the observed principal's: withheld, with the way out."""
    deploy = "arn:aws:iam::123456789012:role/deploy"
    msg = "User: %s is not authorized to perform: sts:AssumeRole on resource: %s" % (stack.user_arn, deploy)
    rec = record(stack.user_arn, "sts.amazonaws.com", "AssumeRole", "AccessDenied", msg,
                 params={"roleArn": deploy, "roleSessionName": "s"})
    lines, batch = run(stack, monkeypatch, capsys, [rec])
    assert [(l["decision"], l["action"]) for l in lines] == [("withheld", "sts:AssumeRole")]
    assert "switches to role %s" % deploy in lines[0]["reason"]
    assert "up --allow-role-switch" in lines[0]["reason"] and "--trust" in lines[0]["reason"]
    stack.guard["allow_role_switch"] = True
    lines, batch = run(stack, monkeypatch, capsys, [rec])
    assert [(l["decision"], l["action"]) for l in lines] == [("granted", "sts:AssumeRole")]
