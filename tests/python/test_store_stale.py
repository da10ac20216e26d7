"""store.py against IAM's eventual consistency (issue 11, defect 5), through the fault proxy's stale-list rule.

ListPolicyVersions right after CreatePolicyVersion may answer with the list as it was before the create. The
writer must not take such a list for the truth: no second identical version, no LimitExceeded spin at 5
versions, nothing lost between two writers.
"""
import json

import pytest

import store
from conftest import client_via
from test_function import assert_valid_policies


def stale_rule(requests):
    return {"kind": "stale", "service": "iam", "action": "ListPolicyVersions", "after": "CreatePolicyVersion",
            "requests": requests}


def writer(fault_proxy, stack, **kw):
    sleeps = []
    w = store.PolicyWriter(client_via(fault_proxy.url, "iam", attempts=3), stack.policy_arns,
                           sleep=sleeps.append, **kw)
    return w, sleeps


def creates(fault_proxy):
    return fault_proxy.stats()["calls"].get("iam:CreatePolicyVersion", 0)


@pytest.mark.parametrize("stale_reads", [1, 3, 12])
def test_stale_relist_after_own_create_writes_once(fault_proxy, stack, stale_reads):
    fault_proxy.set_rules([stale_rule(stale_reads)])
    w, sleeps = writer(fault_proxy, stack)
    w.read_defaults()
    res = w.write(["ec2:DescribeVpcs"])
    first = stack.policy_arns[0]
    assert res["ec2:DescribeVpcs"][:3] == ("granted", first, "v2")
    assert creates(fault_proxy) == 1, "an identical version was written again on a stale list"
    assert [v["VersionId"] for v in stack.versions(first)] == ["v1", "v2"]
    assert fault_proxy.stats()["injected"]["stale"] == stale_reads
    assert w.stale_lists == stale_reads and len(sleeps) >= stale_reads and all(0 < s <= 2.0 for s in sleeps)
    assert "ec2:DescribeVpcs" in stack.all_actions()


def fill_to_five(stack):
    arn = stack.policy_arns[0]
    for a in ["ec2:DescribeSubnets", "ec2:DescribeImages", "ec2:DescribeKeyPairs", "ec2:DescribeVolumes"]:
        doc = stack.document(arn)
        doc["Statement"].append({"Sid": "X%d" % len(doc["Statement"]), "Effect": "Allow", "Action": [a],
                                 "Resource": "*"})
        stack.iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(doc), SetAsDefault=True)
    assert len(stack.versions(arn)) == 5
    return arn


def test_stale_relist_at_five_versions_does_not_hit_the_limit(fault_proxy, stack):
    """At 5 versions: prune v1, create v6; the stale re-list still shows v1..v5. The old code deleted 'v1' again,
    got LimitExceeded from every create and failed after its attempts."""
    arn = fill_to_five(stack)
    fault_proxy.set_rules([stale_rule(12)])
    w, _ = writer(fault_proxy, stack)
    w.read_defaults()
    res = w.write(["rds:DescribeDBInstances"])
    assert res["rds:DescribeDBInstances"][:3] == ("granted", arn, "v6")
    assert creates(fault_proxy) == 1
    assert sorted(v["VersionId"] for v in stack.versions(arn)) == ["v2", "v3", "v4", "v5", "v6"]
    assert {"rds:DescribeDBInstances", "ec2:DescribeKeyPairs"} <= stack.all_actions()


def add_version(iam, arn, action, base=None):
    """A version made by another writer: `base` (default: the current default) plus `action`."""
    if base is None:
        base = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
    raw = iam.get_policy_version(PolicyArn=arn, VersionId=base)["PolicyVersion"]["Document"]
    doc = raw if isinstance(raw, dict) else json.loads(raw)
    doc["Statement"].append({"Sid": "Other%d" % len(doc["Statement"]), "Effect": "Allow", "Action": [action],
                             "Resource": "*"})
    return iam.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(doc),
                                     SetAsDefault=True)["PolicyVersion"]["VersionId"]


def test_limit_exceeded_after_own_create_means_a_stale_list(fault_proxy, stack):
    """Our re-list holds our version (so it is trusted) but lacks two newer ones: the write it prompts gets
    LimitExceeded. The lists that follow are just as stale; the old code wrote on each of them until it ran out
    of attempts. Now a list must show a version newer than that one before anything is written again."""
    arn = stack.policy_arns[0]
    via_proxy = client_via(fault_proxy.url, "iam", attempts=3)
    fault_proxy.set_rules([stale_rule(1)])
    assert add_version(via_proxy, arn, "sqs:ListQueues") == "v2"  # writer A
    w, _ = writer(fault_proxy, stack)
    w.read_defaults()  # stale: only v1
    original = w.iam.create_policy_version
    calls = []

    def create(**kw):
        try:
            out = original(**kw)
        except Exception as exc:  # noqa: BLE001
            calls.append(store._code(exc))
            raise
        calls.append(out["PolicyVersion"]["VersionId"])
        if len(calls) == 1:  # right after our v3: two other writers, the first through the proxy
            fault_proxy.set_rules([stale_rule(12)])
            add_version(via_proxy, arn, "sns:ListTopics", base="v3")  # v4; reads now answer v1..v3
            add_version(stack.iam, arn, "kms:ListKeys")  # v5
        return out

    w.iam.create_policy_version = create
    res = w.write(["ec2:DescribeVpcs"])
    assert res["ec2:DescribeVpcs"][0] == "granted"
    assert calls == ["v3", "LimitExceeded", "v6"]
    assert {"ec2:DescribeVpcs", "sqs:ListQueues", "sns:ListTopics", "kms:ListKeys"} <= stack.all_actions()
    assert len(stack.versions(arn)) == 5


def test_two_writers_with_stale_lists_lose_nothing(fault_proxy, stack):
    """Writer A creates; writer B, on a stale list, creates a default without A's action. A's verification list
    must hold B's version or A's own; either way the final default holds both."""
    fault_proxy.set_rules([stale_rule(3)])
    a, _ = writer(fault_proxy, stack)
    b, _ = writer(fault_proxy, stack)
    a.read_defaults()
    b.read_defaults()  # both plan from v1
    ra = a.write(["ec2:DescribeVpcs"])  # v2, confirmed on the first list that holds it
    rb = b.write(["iam:ListRoles"])  # B planned from v1: its v3 lacks A's action; its check finds v2: v4
    assert ra["ec2:DescribeVpcs"][:3] == ("granted", stack.policy_arns[0], "v2")
    assert rb["iam:ListRoles"][:3] == ("granted", stack.policy_arns[0], "v4")
    assert creates(fault_proxy) == 3, "a version was written on a stale list"
    assert stack.iam.get_policy(PolicyArn=stack.policy_arns[0])["Policy"]["DefaultVersionId"] == "v4"
    assert {"ec2:DescribeVpcs", "iam:ListRoles"} <= stack.all_actions()
    assert a.stale_lists == 3 and b.stale_lists == 6
    assert_valid_policies(stack)


def test_versions_listed_in_pages_of_one(fault_proxy, stack):
    """IAM may page ListPolicyVersions; the writer must read every page (the proxy answers one version per page,
    with IsTruncated and a Marker). Without paging it saw only v1 and lost track of the default."""
    fault_proxy.set_rules([{"kind": "page", "service": "iam", "action": "ListPolicyVersions"}])
    arn = stack.policy_arns[0]
    actions = ["ec2:DescribeVpcs", "ec2:DescribeSubnets", "ec2:DescribeImages", "ec2:DescribeKeyPairs",
               "ec2:DescribeVolumes", "ec2:DescribeSnapshots"]
    for i, a in enumerate(actions):
        w, _ = writer(fault_proxy, stack)
        w.read_defaults()
        assert w.write([a])[a][:3] == ("granted", arn, "v%d" % (i + 2))
    assert sorted(v["VersionId"] for v in stack.versions(arn)) == ["v3", "v4", "v5", "v6", "v7"]
    assert set(actions) <= stack.all_actions()
    assert creates(fault_proxy) == len(actions)
    assert fault_proxy.stats()["injected"]["page"] > len(actions)
