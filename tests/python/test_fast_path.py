"""The fast path: the function given CloudTrail records as EventBridge events, and the template's EventBridge rule.

moto neither delivers CloudTrail events to EventBridge nor invokes a Lambda target (no docker), and its
TestEventPattern answers without a result (emulator notes, section 8). So the function is given the events directly,
shaped as EventBridge documents them (tests/python/eventbridge.py), and the deployed pattern is judged by moto's own
event matcher (`moto.events.models.EventPattern`, the one its rules use) as a second opinion; real AWS remains the
judge (`lppg status --probe` asks its TestEventPattern).
"""
import json
import os

import pytest
from moto.events.models import EventPattern

import handler
import rules
from conftest import ACCOUNT, VECTORS_DIR, Stack, denied_for, payload
from contract import check_lines
from eventbridge import event_of
from test_template_rules import SCENARIOS, Resolver, rendered  # noqa: F401 - `rendered` is a fixture

GUARD = json.load(open(os.path.join(VECTORS_DIR, "guard.json")))
DENIED = [json.loads(line) for line in open(os.path.join(VECTORS_DIR, "denied.jsonl")) if line.strip()]
# Fields of a decision line that may differ between two deliveries of the same record into two fresh stacks.
DELIVERY_FIELDS = ("path", "version")


def run(event, env):
    lines = []
    handler.process(event, env=env, emit=lambda obj: lines.append(dict(obj)), sleep=lambda _s: None)
    check_lines(lines)  # every line conforms to tests/vectors/decision_schema.json
    return lines[:-1], lines[-1]


def env_for(stack, principal):
    return {"LPPG_USER_ARN": principal, "LPPG_POLICY_ARNS": ",".join(stack.policy_arns),
            "LPPG_GUARD": json.dumps(GUARD)}


def without(line, fields):
    """The line without `fields`; a policy ARN as its number (the two stacks' names differ)."""
    out = {k: v for k, v in line.items() if k not in fields}
    if isinstance(out.get("policy"), str):
        out["policy"] = out["policy"].rsplit("-policy-", 1)[-1]
    return out


def test_every_denied_vector_decides_the_same_through_eventbridge(iam):
    # Two fresh stacks, the vectors in the same order: all of them in one CloudWatch Logs batch into one, one
    # EventBridge event per record into the other (EventBridge invokes once per event). Every decision line and
    # batch count must be the same; an action asked for again is `already_present` on both paths (earlier in the
    # batch, or already in the policy).
    logs_stack, eb_stack = Stack(iam, "tfplogs"), Stack(iam, "tfpeb")
    principal = DENIED[0]["principal"]
    vectors = [v for v in DENIED if v["principal"] == principal]
    logs_lines, logs_batch = run(payload([v["record"] for v in vectors]), env_for(logs_stack, principal))
    eb_lines, eb_batches = [], []
    for v in vectors:
        lines, batch = run(event_of(v["record"]), env_for(eb_stack, principal))
        assert {l["path"] for l in lines} <= {"eventbridge"} and batch["path"] == "eventbridge", v["name"]
        assert {l["event_id"] for l in lines} <= {v["record"]["eventID"]}, v["name"]
        eb_lines += lines
        eb_batches.append(batch)
    assert {l["path"] for l in logs_lines} == {"cloudwatch_logs"} and logs_batch["path"] == "cloudwatch_logs"
    assert [without(l, DELIVERY_FIELDS) for l in eb_lines] == [without(l, DELIVERY_FIELDS) for l in logs_lines]
    for counter, value in logs_batch.items():
        if isinstance(value, int) and counter not in ("v", "duration_ms", "iam_calls"):
            assert sum(b[counter] for b in eb_batches) == value, counter
    assert logs_batch["granted"] > 90 and logs_batch["withheld"] > 10 and logs_batch["other_principal"] > 3
    assert logs_stack.all_actions() == eb_stack.all_actions()


@pytest.mark.parametrize("v", [v for v in DENIED if v["principal"] != DENIED[0]["principal"]],
                         ids=lambda v: v["name"])
def test_role_mode_vectors_decide_the_same_through_eventbridge(stack, v):
    env = env_for(stack, v["principal"])
    eb_lines, _ = run(event_of(v["record"]), env)
    logs_lines, _ = run(payload([v["record"]]), env)
    # The second delivery finds a granted action in the policy already.
    first = [dict(l, decision="granted" if l["decision"] == "already_present" else l["decision"])
             for l in logs_lines]
    assert [without(l, DELIVERY_FIELDS) for l in eb_lines] == [without(l, DELIVERY_FIELDS) for l in first]


def test_a_denial_through_both_paths_is_granted_once(stack):
    # EventBridge delivers within seconds, CloudWatch Logs minutes later: the second arrival finds the action in
    # the policy and says so; the policy gets one new version, not two.
    rec = denied_for(stack.user_arn, "dynamodb:ListTables")
    first = stack.policy_arns[0]
    before = len(stack.versions(first))
    eb_lines, eb_batch = run(event_of(rec), stack.env)
    logs_lines, logs_batch = run(payload([rec]), stack.env)
    assert [(l["decision"], l["action"], l["event_id"], l["path"]) for l in eb_lines] == [
        ("granted", "dynamodb:ListTables", rec["eventID"], "eventbridge")]
    assert [(l["decision"], l["action"], l["event_id"], l["path"]) for l in logs_lines] == [
        ("already_present", "dynamodb:ListTables", rec["eventID"], "cloudwatch_logs")]
    assert eb_batch["granted"] == 1 and logs_batch["granted"] == 0 and logs_batch["already_present"] == 1
    assert len(stack.versions(first)) == before + 1
    assert "dynamodb:ListTables" in stack.all_actions()


def test_events_that_are_not_cloudtrail_api_calls_are_error_lines(stack):
    rec = denied_for(stack.user_arn, "sns:ListTopics")
    scheduled = dict(event_of(rec), **{"detail-type": "Scheduled Event", "detail": {}})
    lines, batch = run(scheduled, stack.env)
    assert [(l["decision"], l["path"]) for l in lines] == [("error", "eventbridge")]
    assert "Scheduled Event" in lines[0]["reason"] and batch["records"] == 0
    no_detail = dict(event_of(rec), detail="not a record")
    lines, _ = run(no_detail, stack.env)
    assert [l["decision"] for l in lines] == ["error"] and "detail" in lines[0]["reason"]
    assert "sns:ListTopics" not in stack.all_actions()


def test_lambda_handler_takes_an_eventbridge_event(stack, monkeypatch, capsys):
    stack.install_env(monkeypatch)
    capsys.readouterr()
    rec = denied_for(stack.user_arn, "sqs:ListQueues")
    summary = handler.lambda_handler(event_of(rec), None)
    assert summary["granted"] == 1 and summary["path"] == "eventbridge"
    out = [json.loads(l) for l in capsys.readouterr().out.splitlines() if l.strip()]
    assert out[0]["decision"] == "granted" and out[0]["path"] == "eventbridge"


# ---------------------------------------------------------------- the rule in the template

class FastPathResolver(Resolver):
    def rule(self):
        rules_ = self.resources("AWS::Events::Rule")
        return rules_.get("FastPathRule")


def deployments(rendered_template, names):
    return {n: FastPathResolver(rendered_template, SCENARIOS[n]["stack"], SCENARIOS[n]["region"],
                                SCENARIOS[n]["partition"], SCENARIOS[n]["params"]) for n in names}


def expected_match(v, deployed_principal):
    """The vector's record must reach the function through EventBridge: an API call (not a console sign-in) of the
    deployed principal that was refused (error code of the rules), the same records the subscription filter
    passes. Outcomes as written by hand in the vectors."""
    return (v["principal"] == deployed_principal and v["record"].get("eventType") == "AwsApiCall"
            and v["expect"]["outcome"] not in ("other_principal", "not_denied"))


@pytest.mark.parametrize("scenario", ["defaults", "role defaults"])
def test_the_rule_pattern_selects_exactly_the_principals_denials(rendered, scenario):  # noqa: F811
    d = deployments(rendered, [scenario])[scenario]
    rule = d.rule()
    pattern = EventPattern.load(json.dumps(rule["EventPattern"]))
    principal = d.principal_arn()
    judged = {v["name"]: pattern.matches_event(event_of(v["record"])) for v in DENIED}
    wanted = {v["name"]: expected_match(v, principal) for v in DENIED}
    assert judged == wanted
    # Both modes have denials of their principal to match, and other principals' denials not to.
    assert sum(wanted.values()) >= (100 if scenario == "defaults" else 4)
    # The subscription filter's error codes: the same list the function treats as denials.
    assert rule["EventPattern"]["detail"]["errorCode"] == sorted(
        rules.load_rules().denied_codes, key=rule["EventPattern"]["detail"]["errorCode"].index)


def test_rule_state_target_and_size(rendered):  # noqa: F811
    for name, d in deployments(rendered, sorted(SCENARIOS)).items():
        rule = d.rule()
        # EventBridge API Reference, PutRule: State ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS matches read-only
        # management events delivered through CloudTrail too ("ENABLED" skips them), valid on the default bus.
        assert rule["State"] == "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS", name
        assert rule["EventBusName"] == "default", name
        # EventBridge API Reference, PutRule: EventPattern is at most 4,096 characters; Name 1-64 of [.\-_A-Za-z0-9].
        assert len(json.dumps(rule["EventPattern"], separators=(",", ":"))) <= 4096, name
        assert 1 <= len(rule["Name"]) <= 64 and all(c.isalnum() or c in ".-_" for c in rule["Name"]), name
        assert rule["EventPattern"]["detail-type"] == ["AWS API Call via CloudTrail"], name
        [target] = rule["Targets"]
        assert target["Arn"] == d.arn_of("Function") and "RoleArn" not in target, name
        tags = {t["Key"]: t["Value"] for t in rule["Tags"]}
        assert tags == {"lppg:stack": d.stack, "lppg:region": d.region}, name


def test_eventbridge_may_invoke_the_function_only_from_the_rule(rendered):  # noqa: F811
    # EventBridge User Guide, "Using resource-based policies for Amazon EventBridge" (Lambda permissions): the
    # function's resource policy allows events.amazonaws.com, with the rule's ARN as aws:SourceArn.
    for name, d in deployments(rendered, sorted(SCENARIOS)).items():
        perms = [p for p in d.resources("AWS::Lambda::Permission").values()
                 if p["Principal"] == "events.amazonaws.com"]
        assert len(perms) == 1, name
        assert perms[0]["SourceArn"] == d.arn_of("FastPathRule"), name
        assert perms[0]["SourceArn"].startswith("arn:%s:events:%s:%s:rule/" % (d.partition, d.region, ACCOUNT))
        assert perms[0]["SourceAccount"] == ACCOUNT and perms[0]["FunctionName"] == d.arn_of("Function")


def test_no_fast_path_leaves_cloudwatch_logs_only(rendered):  # noqa: F811
    s = SCENARIOS["defaults"]
    d = FastPathResolver(rendered, s["stack"], s["region"], s["partition"], dict(s["params"], FastPath="false"))
    assert d.resources("AWS::Events::Rule") == {}
    assert all(p["Principal"] != "events.amazonaws.com" for p in d.resources("AWS::Lambda::Permission").values())
    assert d.resources("AWS::Logs::SubscriptionFilter")


def test_the_guard_denies_changing_the_fast_path_rules(rendered):  # noqa: F811
    import fnmatch
    for name, d in deployments(rendered, sorted(SCENARIOS)).items():
        guard = d.resources("AWS::IAM::ManagedPolicy")["GuardPolicy"]["PolicyDocument"]
        rule_arn = d.arn_of("FastPathRule")
        # The same rule name in another region: a forwarder stack's rule.
        other = rule_arn.replace(":%s:" % d.region, ":eu-west-1:")
        for action in ("events:DeleteRule", "events:DisableRule", "events:PutTargets", "events:RemoveTargets",
                       "events:PutRule"):
            for arn in (rule_arn, other):
                assert any(s["Effect"] == "Deny" and action in s["Action"]
                           and any(fnmatch.fnmatchcase(arn, r) for r in
                                   (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]))
                           for s in guard["Statement"]), (name, action, arn)


# ---------------------------------------------------------------- the forwarder template (other regions)

@pytest.fixture(scope="module")
def forwarder():
    """assets/forwarder.yaml as `lppg up` deploys it (next to the rendered template.yaml)."""
    import subprocess
    import tempfile
    from cfnlint.decode import decode_str
    from conftest import ROOT
    path = os.environ.get("LPPG_RENDERED_TEMPLATE")
    if path:
        path = os.path.join(os.path.dirname(path), "forwarder.yaml")
    else:
        out = tempfile.mkdtemp(prefix="lppg-fwd-")
        subprocess.run(["cargo", "run", "--quiet", "--", "template", "--out", out], cwd=ROOT, check=True)
        path = os.path.join(out, "forwarder.yaml")
    template, problems = decode_str(open(path, encoding="utf-8").read())
    assert not problems, problems
    return template


def forwarder_in(template, region, principal, principal_arn, stack="lppg", home="us-east-1", partition="aws"):
    class R(FastPathResolver):
        def arn_of(self, logical):
            if logical == "ForwarderRole":
                return "arn:%s:iam::%s:role/%s" % (self.partition, ACCOUNT, self.name_of(logical))
            return Resolver.arn_of(self, logical)
    r = R(template, stack, region, partition, {"GeneratorStack": stack, "HomeRegion": home,
                                               "Principal": principal, "PrincipalArn": principal_arn})
    return r


USER = "arn:aws:iam::123456789012:user/lppg-user"
ROLE = "arn:aws:iam::123456789012:role/lppg-role"


def test_forwarder_rule_matches_like_the_home_rule_and_targets_the_home_bus(forwarder, rendered):  # noqa: F811
    for principal, arn, scenario in (("user", USER, "defaults"), ("role", ROLE, "role defaults")):
        f = forwarder_in(forwarder, "eu-west-1", principal, arn)
        rule = f.resources("AWS::Events::Rule")["ForwarderRule"]
        home = deployments(rendered, [scenario])[scenario].rule()
        # The same pattern, state and name as the generator's own rule: what reaches the home bus from here is
        # exactly what the home rule would have matched there.
        assert rule["EventPattern"] == home["EventPattern"]
        assert rule["State"] == home["State"] == "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
        assert rule["Name"] == home["Name"]
        [target] = rule["Targets"]
        # EventBridge User Guide, "Sending and receiving events between AWS Regions": the target is the other
        # region's event bus ARN, arn:PARTITION:events:REGION:ACCOUNT:event-bus/NAME, with a role (RoleArn).
        assert target["Arn"] == "arn:aws:events:us-east-1:%s:event-bus/default" % ACCOUNT
        assert target["RoleArn"] == f.arn_of("ForwarderRole")
        pattern = EventPattern.load(json.dumps(rule["EventPattern"]))
        for v in DENIED:
            assert pattern.matches_event(event_of(v["record"])) == expected_match(v, arn), v["name"]


def test_forwarder_role_may_only_put_events_on_the_home_bus(forwarder):
    for region in ("eu-west-1", "ap-southeast-3"):
        f = forwarder_in(forwarder, region, "user", USER, stack="s" * 24, home="us-west-2")
        role = f.resources("AWS::IAM::Role")["ForwarderRole"]
        # IAM: role names are at most 64 characters; the guard covers <stack>-forwarder-*.
        assert len(role["RoleName"]) <= 64 and role["RoleName"].startswith("s" * 24 + "-forwarder-")
        [trust] = role["AssumeRolePolicyDocument"]["Statement"]
        assert trust["Principal"] == {"Service": "events.amazonaws.com"} and trust["Action"] == "sts:AssumeRole"
        # No aws:SourceAccount/SourceArn condition: not documented as sent by EventBridge when it assumes a
        # target's role (the same rule as the generator's other service roles, test_template_rules.py).
        assert "Condition" not in trust
        [policy] = role["Policies"]
        [stmt] = policy["PolicyDocument"]["Statement"]
        assert stmt == {"Effect": "Allow", "Action": "events:PutEvents",
                        "Resource": "arn:aws:events:us-west-2:%s:event-bus/default" % ACCOUNT}
        tags = {t["Key"]: t["Value"] for t in role["Tags"]}
        assert tags == {"lppg:stack": "s" * 24, "lppg:region": region}
