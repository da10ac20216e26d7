"""Role mode, the function's side against moto: denials of the generator role's assumed-role sessions (a tool's,
an Identity Center user's who switched into it) land in the policies attached to the role; other roles' sessions
are not the principal; the guard withholds the role's changes to itself and assuming the generator's other roles."""
import json
import os

import handler
from conftest import ACCOUNT, VECTORS_DIR, payload, parse_lines, record
from contract import check_lines


def make_role_stack(stack):
    """The template in role mode: the generator role, with the 9 policies attached to it instead of the user."""
    iam = stack.iam
    role = iam.create_role(RoleName=stack.name + "-role", MaxSessionDuration=43200,
                           AssumeRolePolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [
                               {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::%s:root" % ACCOUNT},
                                "Action": "sts:AssumeRole"}]}))["Role"]
    for arn in stack.policy_arns:
        iam.detach_user_policy(UserName=stack.user_name, PolicyArn=arn)
        iam.attach_role_policy(RoleName=role["RoleName"], PolicyArn=arn)
    guard = dict(stack.guard, observed_user="")  # the template's guard in role mode names no user
    guard["names"] = dict(guard["names"], roleName=guard["names"]["roleName"] + [role["RoleName"]])
    return role, {"LPPG_USER_ARN": role["Arn"], "LPPG_POLICY_ARNS": ",".join(stack.policy_arns),
                  "LPPG_GUARD": json.dumps(guard)}


def session_record(role_arn, session, source, name, action, resource="*", **kw):
    role_name = role_arn.rsplit("/", 1)[1]
    who = "arn:aws:sts::%s:assumed-role/%s/%s" % (ACCOUNT, role_name, session)
    msg = ("User: %s is not authorized to perform: %s on resource: %s because no identity-based policy allows "
           "the %s action" % (who, action, resource, action))
    r = record(who, source, name, "AccessDenied", msg, **kw)
    r["userIdentity"] = {"type": "AssumedRole", "principalId": "AROAEXAMPLE:" + session, "arn": who,
                         "accountId": ACCOUNT, "sessionContext": {"sessionIssuer": {
                             "type": "Role", "principalId": "AROAEXAMPLE", "arn": role_arn, "accountId": ACCOUNT,
                             "userName": role_name}}}
    return r


def test_assumed_role_denials_land_in_the_role_policies(stack, monkeypatch, capsys):
    role, env = make_role_stack(stack)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    arn, other = role["Arn"], "arn:aws:iam::%s:role/team/%s-role" % (ACCOUNT, stack.name)
    recs = [
        session_record(arn, "terraform", "dynamodb.amazonaws.com", "ListTables", "dynamodb:ListTables"),
        session_record(arn, "alice@example.com", "sns.amazonaws.com", "ListTopics", "sns:ListTopics"),
        session_record(other, "terraform", "sqs.amazonaws.com", "ListQueues", "sqs:ListQueues"),
        session_record(arn, "terraform", "iam.amazonaws.com", "PutRolePolicy", "iam:PutRolePolicy", arn,
                       params={"roleName": role["RoleName"], "policyName": "x"}),
        session_record(arn, "terraform", "sts.amazonaws.com", "AssumeRole", "sts:AssumeRole",
                       "arn:aws:iam::%s:role/%s-generator-role" % (ACCOUNT, stack.name)),
    ]
    capsys.readouterr()
    handler.lambda_handler(payload(recs), None)
    lines = parse_lines(capsys.readouterr().out)
    check_lines(lines)
    decisions = [(l["decision"], l["action"]) for l in lines if l["lppg"] == "decision"]
    assert decisions == [("granted", "dynamodb:ListTables"), ("granted", "sns:ListTopics"),
                         ("withheld", "iam:PutRolePolicy"), ("withheld", "sts:AssumeRole")]
    assert lines[-1]["other_principal"] == 1
    attached = stack.iam.list_attached_role_policies(RoleName=role["RoleName"])["AttachedPolicies"]
    assert {p["PolicyArn"] for p in attached} == set(stack.policy_arns)
    assert {"dynamodb:ListTables", "sns:ListTopics"} <= stack.all_actions()
    assert "sqs:ListQueues" not in stack.all_actions()


def _probe_vector(mode):
    """The record `lppg status --probe` writes (tests/vectors/probe_records.json, pinned by the tests of crates/lppg-core/src/stack/probe.rs)."""
    with open(os.path.join(VECTORS_DIR, "probe_records.json"), encoding="utf-8") as f:
        return next(c for c in json.load(f)["records"] if c["mode"] == mode)


def _run_role(stack, monkeypatch, capsys, role_arn, recs):
    role, env = make_role_stack(stack)
    for k, v in dict(env, LPPG_USER_ARN=role_arn).items():
        monkeypatch.setenv(k, v)
    capsys.readouterr()
    handler.lambda_handler(payload(recs), None)
    lines = parse_lines(capsys.readouterr().out)
    check_lines(lines)
    return [l for l in lines if l["lppg"] == "decision"], lines[-1]


def test_role_mode_probe_is_recognised_and_grants_nothing(stack, monkeypatch, capsys):
    """Issue 24, defect 1: the role-mode probe record names a session of the role (`assumed-role/<role>/lppg-probe`),
    not the role's ARN; the function recognises it by the same match as the role's denials (sessionIssuer.arn, as
    CloudTrail writes an AssumedRole identity: CloudTrail User Guide, userIdentity element)."""
    case = _probe_vector("role")
    before = [stack.versions(a) for a in stack.policy_arns]
    decisions, batch = _run_role(stack, monkeypatch, capsys, case["principal"], [case["record"]])
    assert [(d["decision"], d["action"], d["event_id"]) for d in decisions] == [
        ("probe", "lppg:Probe", case["probe_id"])]
    assert batch["probe"] == 1 and batch["granted"] == 0 and batch["policies_written"] == []
    assert batch["iam_calls"] == 0
    assert [stack.versions(a) for a in stack.policy_arns] == before


def test_probe_source_is_never_granted_in_role_mode(stack, monkeypatch, capsys):
    """A record with the probe's event source that is not lppg's probe (no mark, or another role's session) never
    grants lppg:Probe or anything else."""
    case = _probe_vector("role")
    unmarked = dict(case["record"])
    del unmarked["lppgProbe"]
    decisions, batch = _run_role(stack, monkeypatch, capsys, case["principal"], [unmarked])
    assert [d["decision"] for d in decisions] == ["not_permission"]
    assert batch["granted"] == 0 and batch["probe"] == 0 and batch["policies_written"] == []
    assert "lppg:Probe" not in stack.all_actions()
