"""What real AWS enforces on the generator's template and the emulator does not.

moto creates stacks without evaluating trust policies, ARN shapes, name limits or quotas, and cfn-lint checks the
template against the CloudFormation specification only. Each rule here is one that the service itself enforces
(the documentation is cited on each), checked on the *rendered* template (`lppg template`) after resolving its
intrinsic functions for concrete accounts, regions and names, including the longest ones lppg accepts.
"""
import json
import os
import re
import subprocess
import tempfile

import pytest
from cfnlint.decode import decode_str

from conftest import ROOT

ACCOUNT = "123456789012"
# The longest names a generator can have: lppg's own stack-name limit (crates/lppg-core/src/stack/naming.rs), IAM's 64-character user
# names, the longest region and partition names.
MAX_STACK = int(re.search(r"MAX_STACK_NAME: usize = (\d+);", open(os.path.join(ROOT, "crates", "lppg-core", "src", "stack", "naming.rs")).read())
                .group(1))
SCENARIOS = {
    "defaults": dict(stack="lppg", region="us-east-1", partition="aws", params={}),
    "longest names": dict(stack="s" + "-x" * ((MAX_STACK - 1) // 2) + "y" * ((MAX_STACK - 1) % 2),
                          region="ap-southeast-3", partition="aws-us-gov",
                          params={"UserName": "u" * 64, "DataEventsS3": "true", "DataEventsLambda": "true",
                                  "DataEventsDynamoDB": "true"}),
    # Role mode (Principal=role): the longest role name lppg accepts (63: the console's switch-role link takes path
    # and name within 64) and an Identity Center trust pattern, the longest shape `lppg up` sends.
    "role defaults": dict(stack="lppg", region="us-east-1", partition="aws",
                          params={"Principal": "role", "TrustAccounts": "arn:aws:iam::%s:root" % ACCOUNT,
                                  "TrustPrincipalArns": "arn:aws:iam::%s:user/moto" % ACCOUNT}),
    "role longest names": dict(stack="s" + "-x" * ((MAX_STACK - 1) // 2) + "y" * ((MAX_STACK - 1) % 2),
                               region="ap-southeast-3", partition="aws-us-gov",
                               params={"Principal": "role", "RoleName": "r" * 63,
                                       "TrustAccounts": "arn:aws-us-gov:iam::%s:root" % ACCOUNT,
                                       "TrustPrincipalArns": "arn:aws-us-gov:iam::%s:role/aws-reserved/"
                                       "sso.amazonaws.com/*AWSReservedSSO_%s_*" % (ACCOUNT, "P" * 32),
                                       "DataEventsS3": "true", "DataEventsLambda": "true",
                                       "DataEventsDynamoDB": "true"}),
}


@pytest.fixture(scope="module")
def rendered():
    """The template exactly as `lppg up` deploys it (the error-code clause filled in)."""
    path = os.environ.get("LPPG_RENDERED_TEMPLATE")
    if not path:
        out = tempfile.mkdtemp(prefix="lppg-tpl-")
        subprocess.run(["cargo", "run", "--quiet", "--", "template", "--out", out], cwd=ROOT, check=True)
        path = os.path.join(out, "template.yaml")
    with open(path, encoding="utf-8") as f:
        text = f.read()
    template, problems = decode_str(text)
    assert not problems, problems
    return template


class Resolver:
    """Resolves the intrinsic functions the template uses, the way CloudFormation would for one deployment."""

    def __init__(self, template, stack, region, partition, params):
        self.t = template
        self.stack, self.region, self.partition = stack, region, partition
        self.params = {k: str(v.get("Default", "")) for k, v in template.get("Parameters", {}).items()}
        self.params.update(CodeBucket="%s-artifacts-%s-%s" % (stack, ACCOUNT, region), CodeKey="lppg/function.zip")
        self.params.update(params)

    def pseudo(self, name):
        return {"AWS::StackName": self.stack, "AWS::Region": self.region, "AWS::AccountId": ACCOUNT,
                "AWS::Partition": self.partition, "AWS::URLSuffix": "amazonaws.com"}[name]

    def condition(self, name):
        return self.value(self.t["Conditions"][name])

    def props(self, logical):
        return self.t["Resources"][logical].get("Properties", {})

    def name_of(self, logical):
        """What Ref returns for a resource (its physical name or, for policies, its ARN)."""
        kind, p = self.t["Resources"][logical]["Type"], self.props(logical)
        if kind == "AWS::IAM::ManagedPolicy":
            return "arn:%s:iam::%s:policy%s%s" % (self.partition, ACCOUNT, self.value(p.get("Path", "/")),
                                                   self.value(p["ManagedPolicyName"]))
        key = {"AWS::IAM::User": "UserName", "AWS::IAM::Role": "RoleName", "AWS::S3::Bucket": "BucketName",
               "AWS::Logs::LogGroup": "LogGroupName", "AWS::Lambda::Function": "FunctionName",
               "AWS::CloudTrail::Trail": "TrailName", "AWS::Events::Rule": "Name"}.get(kind)
        if kind == "AWS::SQS::Queue":
            # AWS::SQS::Queue, Return values: Ref returns the queue URL.
            return "https://sqs.%s.amazonaws.com/%s/%s" % (self.region, ACCOUNT, self.value(p["QueueName"]))
        return self.value(p[key])

    def arn_of(self, logical):
        """What GetAtt Arn returns, in the shape each resource type documents."""
        kind, name = self.t["Resources"][logical]["Type"], self.name_of(logical)
        path = self.value(self.props(logical).get("Path", "/"))
        a = "arn:%s:" % self.partition
        return {
            "AWS::IAM::User": a + "iam::%s:user%s%s" % (ACCOUNT, path, name),
            "AWS::IAM::Role": a + "iam::%s:role%s%s" % (ACCOUNT, path, name),
            "AWS::S3::Bucket": a + "s3:::%s" % name,
            # AWS::Logs::LogGroup's Arn attribute ends in ":*" (CloudFormation User Guide, AWS::Logs::LogGroup,
            # Return values: "arn:aws:logs:us-west-1:123456789012:log-group:/mystack-testgroup-12ABC1AB12A1:*").
            "AWS::Logs::LogGroup": a + "logs:%s:%s:log-group:%s:*" % (self.region, ACCOUNT, name),
            "AWS::Lambda::Function": a + "lambda:%s:%s:function:%s" % (self.region, ACCOUNT, name),
            "AWS::SQS::Queue": a + "sqs:%s:%s:%s" % (self.region, ACCOUNT, name.rsplit("/", 1)[-1]),
            # AWS::Events::Rule, Return values: Arn "arn:aws:events:us-east-1:123456789012:rule/example" (a rule
            # on the default bus; a custom bus's rules carry the bus name before the rule's).
            "AWS::Events::Rule": a + "events:%s:%s:rule/%s" % (self.region, ACCOUNT, name),
        }[kind]

    def value(self, v):
        if isinstance(v, list):
            return [x for x in (self.value(i) for i in v) if x is not NO_VALUE]
        if not isinstance(v, dict):
            return v
        if len(v) != 1:
            return {k: x for k, x in ((k, self.value(x)) for k, x in v.items()) if x is not NO_VALUE}
        (fn, arg), = v.items()
        if fn == "Ref":
            if arg == "AWS::NoValue":
                return NO_VALUE
            if arg.startswith("AWS::"):
                return self.pseudo(arg)
            if arg in self.params:
                p = self.t["Parameters"][arg]
                return self.params[arg].split(",") if p["Type"] == "CommaDelimitedList" else self.params[arg]
            return self.name_of(arg)
        if fn == "Fn::GetAtt":
            logical, attr = arg if isinstance(arg, list) else arg.split(".", 1)
            assert attr == "Arn", "resolver knows only Arn attributes, not %s" % attr
            return self.arn_of(logical)
        if fn == "Fn::Sub":
            text, extra = (arg, {}) if isinstance(arg, str) else (arg[0], arg[1])
            extra = {k: self.value(x) for k, x in extra.items()}
            return re.sub(r"\$\{([^}]+)\}", lambda m: self.sub_var(m.group(1), extra), text)
        if fn == "Fn::Join":
            return arg[0].join(self.value(arg[1]))
        if fn == "Fn::If":
            return self.value(arg[1] if self.condition(arg[0]) else arg[2])
        if fn == "Fn::Not":
            return not self.value(arg[0])
        if fn == "Fn::Equals":
            return self.value(arg[0]) == self.value(arg[1])
        if fn == "Condition":
            return self.condition(arg)
        return {fn: self.value(arg)}

    def sub_var(self, name, extra):
        if name in extra:
            return extra[name]
        if "." in name:
            return self.value({"Fn::GetAtt": name.split(".", 1)})
        return self.value({"Ref": name})

    def role_mode(self):
        return self.params["Principal"] == "role"

    def principal_arn(self):
        """The observed principal's ARN: the generator user, or in role mode the generator role."""
        kind = "AWS::IAM::Role" if self.role_mode() else "AWS::IAM::User"
        logical = next(k for k, r in self.t["Resources"].items()
                       if r["Type"] == kind and k in ("User", "Role") and self.resource_condition_holds(r))
        return self.arn_of(logical)

    def resources(self, kind):
        return {k: self.value(r.get("Properties", {})) for k, r in self.t["Resources"].items()
                if r["Type"] == kind and self.resource_condition_holds(r)}

    def resource_condition_holds(self, r):
        return "Condition" not in r or self.condition(r["Condition"])


NO_VALUE = object()


@pytest.fixture(params=sorted(SCENARIOS), scope="module")
def deployment(request, rendered):
    s = SCENARIOS[request.param]
    return Resolver(rendered, s["stack"], s["region"], s["partition"], s["params"])


def statements(doc):
    st = doc["Statement"]
    return st if isinstance(st, list) else [st]


def as_list(v):
    return v if isinstance(v, list) else [v]


# Services that send aws:SourceAccount / aws:SourceArn when they assume a service role, as documented for the
# role in question. CloudTrail does not for the role it delivers to CloudWatch Logs with (CloudTrail User Guide,
# "Cross-service confused deputy prevention": not applicable to the CloudWatch Logs role; a condition there makes
# CreateTrail fail with InvalidCloudWatchLogsRoleArnException). Lambda's execution role is assumed by the Lambda
# service without them (Lambda Developer Guide, "Lambda execution role": the trust policy has no conditions).
SENDS_SOURCE_CONTEXT = set()
CONFUSED_DEPUTY_KEYS = {"aws:sourceaccount", "aws:sourcearn", "aws:sourceorgid", "aws:sourceorgpaths"}


def test_service_role_trust_has_conditions_only_where_the_service_sends_them(deployment):
    roles = deployment.resources("AWS::IAM::Role")
    assert roles, "the template has roles"
    for logical, props in roles.items():
        for st in statements(props["AssumeRolePolicyDocument"]):
            services = as_list(st.get("Principal", {}).get("Service", []))
            keys = {k.lower() for op in st.get("Condition", {}).values() for k in op}
            for svc in services:
                if svc not in SENDS_SOURCE_CONTEXT:
                    assert not keys & CONFUSED_DEPUTY_KEYS, (
                        "%s trusts %s under %s, which that service does not send: the role cannot be assumed"
                        % (logical, svc, sorted(keys & CONFUSED_DEPUTY_KEYS)))


def test_trail_log_group_arn_ends_in_colon_star(deployment):
    # CloudTrail API Reference, CreateTrail, CloudWatchLogsLogGroupArn: "a log group ARN ... ending in :*"; any other
    # shape is refused with InvalidCloudWatchLogsLogGroupArnException.
    for logical, t in deployment.resources("AWS::CloudTrail::Trail").items():
        group = t["CloudWatchLogsLogGroupArn"]
        assert re.fullmatch(r"arn:[a-z-]+:logs:[a-z0-9-]+:\d{12}:log-group:[^:]+:\*", group), (logical, group)
        role = t["CloudWatchLogsRoleArn"]
        assert re.fullmatch(r"arn:[a-z-]+:iam::\d{12}:role/.+", role), (logical, role)


def test_trail_role_may_write_to_the_log_group(deployment):
    # CloudTrail User Guide, "Role policy document for CloudTrail to use CloudWatch Logs": logs:CreateLogStream and
    # logs:PutLogEvents on the log group's streams; CreateTrail checks them.
    trail = next(iter(deployment.resources("AWS::CloudTrail::Trail").values()))
    role_name = trail["CloudWatchLogsRoleArn"].rsplit("/", 1)[1]
    role = next(r for r in deployment.resources("AWS::IAM::Role").values() if r["RoleName"] == role_name)
    group_arn = trail["CloudWatchLogsLogGroupArn"]
    granted = {}
    for pol in role["Policies"]:
        for st in statements(pol["PolicyDocument"]):
            for a in as_list(st["Action"]):
                granted.setdefault(a, []).extend(as_list(st["Resource"]))
    for action in ("logs:CreateLogStream", "logs:PutLogEvents"):
        assert any(glob_match(r, group_arn[:-1] + "log-stream:x") for r in granted.get(action, [])), action


def test_lambda_permission_names_the_subscribed_log_group(deployment):
    # CloudWatch Logs User Guide, "Subscription filters with AWS Lambda": the permission's source ARN is the log
    # group's ARN "arn:aws:logs:region:account:log-group:name:*", with SourceAccount; PutSubscriptionFilter is
    # refused when CloudWatch Logs cannot invoke the function.
    perms = deployment.resources("AWS::Lambda::Permission")
    filters = deployment.resources("AWS::Logs::SubscriptionFilter")
    assert perms and filters
    for f in filters.values():
        group_arn = "arn:%s:logs:%s:%s:log-group:%s:*" % (deployment.partition, deployment.region, ACCOUNT,
                                                          f["LogGroupName"])
        match = [p for p in perms.values() if p["Principal"] == "logs.amazonaws.com"
                 and p["FunctionName"] == f["DestinationArn"]]
        assert match, "no permission lets CloudWatch Logs invoke %s" % f["DestinationArn"]
        for p in match:
            assert p["SourceArn"] == group_arn, (p["SourceArn"], group_arn)
            assert p["SourceAccount"] == ACCOUNT


def test_bucket_policy_names_the_trail_arn(deployment):
    # CloudTrail User Guide, "Amazon S3 bucket policy for CloudTrail": aws:SourceArn is the trail's ARN,
    # arn:partition:cloudtrail:region:account:trail/name, in its home region; any other value makes CreateTrail fail
    # with InsufficientS3BucketPolicyException.
    trails = deployment.resources("AWS::CloudTrail::Trail")
    policies = deployment.resources("AWS::S3::BucketPolicy")
    for t in trails.values():
        arn = "arn:%s:cloudtrail:%s:%s:trail/%s" % (deployment.partition, deployment.region, ACCOUNT, t["TrailName"])
        pol = next(p for p in policies.values() if p["Bucket"] == t["S3BucketName"])
        service = [st for st in statements(pol["PolicyDocument"])
                   if isinstance(st.get("Principal"), dict)
                   and st["Principal"].get("Service") == "cloudtrail.amazonaws.com"]
        assert {st["Action"] for st in service} >= {"s3:GetBucketAcl", "s3:PutObject"}
        for st in service:
            assert st["Condition"]["StringEquals"]["aws:SourceArn"] == arn
        put = next(st for st in service if st["Action"] == "s3:PutObject")
        assert put["Resource"] == "arn:%s:s3:::%s/AWSLogs/%s/*" % (deployment.partition, t["S3BucketName"], ACCOUNT)


# S3 User Guide, "General purpose bucket naming rules": 3-63 characters; lower-case letters, digits, dots and
# hyphens; begin and end with a letter or digit; no "xn--", "sthree-", "amzn-s3-demo-" prefixes; no "-s3alias",
# "--ol-s3", ".mrap", "--x-s3", "--table-s3" suffixes.
BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def check_bucket_name(name):
    assert 3 <= len(name) <= 63, "%s is %d characters" % (name, len(name))
    assert re.fullmatch(r"[a-z0-9][a-z0-9.-]*[a-z0-9]", name), name
    assert not name.startswith(BUCKET_PREFIXES), name
    assert not name.endswith(BUCKET_SUFFIXES), name
    assert ".." not in name and not re.fullmatch(r"\d+\.\d+\.\d+\.\d+", name), name


def test_bucket_names(deployment):
    buckets = deployment.resources("AWS::S3::Bucket")
    assert buckets
    for b in buckets.values():
        check_bucket_name(b["BucketName"])
    check_bucket_name(deployment.params["CodeBucket"])


def test_bucket_rules_catch_bad_names():
    for bad in ("sthree-x", "amzn-s3-demo-bucket", "x" * 64, "Upper", "ab", "b--ol-s3"):
        with pytest.raises(AssertionError):
            check_bucket_name(bad)


def test_iam_names_and_paths(deployment):
    # IAM User Guide, "IAM and AWS STS quotas": user and role names at most 64 characters, managed policy names
    # at most 128, paths at most 512; "If you intend to use a role with the Switch Role feature in the AWS Management
    # Console, then the combined Path and RoleName cannot exceed 64 characters."
    name = re.compile(r"[\w+=,.@-]+")
    for u in deployment.resources("AWS::IAM::User").values():
        assert name.fullmatch(u["UserName"]) and len(u["UserName"]) <= 64, u["UserName"]
    for r in deployment.resources("AWS::IAM::Role").values():
        path = r.get("Path", "/")
        assert name.fullmatch(r["RoleName"]) and len(r["RoleName"]) <= 64, r["RoleName"]
        assert len(path) + len(r["RoleName"]) <= 64, (path, r["RoleName"])
    for p in deployment.resources("AWS::IAM::ManagedPolicy").values():
        assert name.fullmatch(p["ManagedPolicyName"]) and len(p["ManagedPolicyName"]) <= 128


def test_other_service_name_limits(deployment):
    # CloudTrail API Reference, CreateTrail Name: 3-128 of letters, digits, '.', '_', '-', starting with a letter or
    # digit. Lambda API Reference, CreateFunction FunctionName: at most 64 characters. CloudWatch Logs API
    # Reference: log group names at most 512 characters of [\.\-_/#A-Za-z0-9]; filter names at most 512.
    for t in deployment.resources("AWS::CloudTrail::Trail").values():
        assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{2,127}", t["TrailName"]), t["TrailName"]
    for f in deployment.resources("AWS::Lambda::Function").values():
        assert re.fullmatch(r"[A-Za-z0-9_-]{1,64}", f["FunctionName"]), f["FunctionName"]
    for g in deployment.resources("AWS::Logs::LogGroup").values():
        assert re.fullmatch(r"[.\-_/#A-Za-z0-9]{1,512}", g["LogGroupName"]), g["LogGroupName"]
    for f in deployment.resources("AWS::Logs::SubscriptionFilter").values():
        assert 1 <= len(f["FilterName"]) <= 512


def test_filter_pattern_fits(deployment):
    # CloudWatch Logs API Reference, PutSubscriptionFilter filterPattern: "Length Constraints: Maximum length of
    # 1024". Checked with the longest user name and partition lppg accepts.
    for f in deployment.resources("AWS::Logs::SubscriptionFilter").values():
        pattern = f["FilterPattern"]
        assert len(pattern) <= 1024, "the filter pattern is %d characters" % len(pattern)
        assert "$.errorCode" in pattern and "$.userIdentity" in pattern


def test_filter_pattern_names_the_observed_principal(deployment):
    # Role mode follows the role's sessions: their userIdentity.arn is arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION
    # (no path), their sessionContext.sessionIssuer.arn the role's ARN with its path.
    (f,) = deployment.resources("AWS::Logs::SubscriptionFilter").values()
    field = "$.userIdentity.sessionContext.sessionIssuer.arn" if deployment.role_mode() else "$.userIdentity.arn"
    assert f["FilterPattern"].startswith('{ (%s = "%s") && (' % (field, deployment.principal_arn())), f
    fn = next(iter(deployment.resources("AWS::Lambda::Function").values()))
    assert fn["Environment"]["Variables"]["LPPG_USER_ARN"] == deployment.principal_arn()


def test_exactly_one_observed_principal(deployment):
    users, roles = deployment.resources("AWS::IAM::User"), deployment.resources("AWS::IAM::Role")
    observed = [r for r in roles.values() if r["RoleName"].endswith("-role") or r["RoleName"] == "r" * 63]
    observed = [r for r in observed if "-generator-" not in r["RoleName"] and "-trail-" not in r["RoleName"]]
    assert (len(users), len(observed)) == ((0, 1) if deployment.role_mode() else (1, 0))
    outputs = {k: v for k, v in deployment.t["Outputs"].items() if deployment.resource_condition_holds(v)}
    assert deployment.value(outputs["PrincipalArn"]["Value"]) == deployment.principal_arn()
    assert ("RoleName" in outputs, "UserName" in outputs) == (deployment.role_mode(), not deployment.role_mode())


def test_role_trust_and_session_duration(deployment):
    # IAM User Guide, "IAM JSON policy elements: Principal": a role ARN in Principal is turned into the role's unique
    # id and stops matching when the role is recreated (Identity Center re-provisioning); the account plus an
    # aws:PrincipalArn condition does not. MaxSessionDuration: 3600 to 43200 seconds.
    if not deployment.role_mode():
        return
    role = next(r for r in deployment.resources("AWS::IAM::Role").values()
                if r["RoleName"] == deployment.principal_arn().rsplit("/", 1)[1])
    assert role["MaxSessionDuration"] == 43200
    (st,) = statements(role["AssumeRolePolicyDocument"])
    for p in as_list(st["Principal"]["AWS"]):
        assert re.fullmatch(r"arn:[a-z-]+:iam::\d{12}:root", p), p
    assert "sts:AssumeRole" in as_list(st["Action"])
    assert as_list(st["Condition"]["ArnLike"]["aws:PrincipalArn"]) == \
        deployment.params["TrustPrincipalArns"].split(",")


def test_guard_covers_the_observed_principal(deployment):
    (guard,) = [p for p in deployment.resources("AWS::IAM::ManagedPolicy").values()
                if p["ManagedPolicyName"].endswith("-guard")]
    st = {s["Sid"]: s for s in statements(guard["PolicyDocument"])}
    assert st["GuardUser"]["Resource"] == deployment.principal_arn()
    assert "iam:PassRole" in st["GuardUser"]["Action"] and "iam:Update*" in st["GuardUser"]["Action"]
    for sid in ("SelfServicePasswordAndMfa", "SelfServiceCreateMfaDevice", "SelfServiceReadAccountSettings"):
        # In role mode the user's self-service statements name only the role, to which none of their actions
        # (passwords, MFA devices, account settings) applies: they grant nothing.
        if deployment.role_mode():
            assert st[sid]["Resource"] == deployment.principal_arn(), st[sid]
    assert "sts:AssumeRole" in st["GuardAssumeRoles"]["Action"]
    fn = next(iter(deployment.resources("AWS::Lambda::Function").values()))
    spec = json.loads(fn["Environment"]["Variables"]["LPPG_GUARD"])
    assert spec["arns"][0] == deployment.principal_arn()
    if deployment.role_mode():
        assert deployment.principal_arn().rsplit("/", 1)[1] in spec["names"]["roleName"]


def test_at_most_ten_managed_policies_per_principal(deployment):
    # IAM User Guide, "IAM and AWS STS quotas": managed policies attached to an IAM user or role: 10 by default.
    attached = {}
    for p in deployment.resources("AWS::IAM::ManagedPolicy").values():
        for key in ("Users", "Roles", "Groups"):
            for principal in p.get(key, []):
                attached[(key, principal)] = attached.get((key, principal), 0) + 1
    for kind, key in (("AWS::IAM::User", "UserName"), ("AWS::IAM::Role", "RoleName")):
        for r in deployment.resources(kind).values():
            direct = len(r.get("ManagedPolicyArns", []))
            total = direct + attached.get(("Users" if kind == "AWS::IAM::User" else "Roles", r[key]), 0)
            assert total <= 10, "%s has %d managed policies" % (r[key], total)
    observed = ("Roles" if deployment.role_mode() else "Users", deployment.principal_arn().rsplit("/", 1)[1])
    assert attached.get(observed) == 10, "the observed principal gets the 9 generator policies and the guard"


def glob_match(pattern, text):
    return re.fullmatch(".*".join(re.escape(x) for x in pattern.split("*")), text) is not None


def test_resolver_sees_the_deployment(deployment):
    """The rules above are only as good as the resolver: spot-check it against known shapes."""
    fn = next(iter(deployment.resources("AWS::Lambda::Function").values()))
    guard = json.loads(fn["Environment"]["Variables"]["LPPG_GUARD"])
    assert guard["names"]["stackName"] == [deployment.stack]
    assert fn["FunctionName"] == deployment.stack + "-generator"


def test_function_readme_names_the_deployed_runtime(rendered):
    runtimes = {r["Properties"]["Runtime"] for r in rendered["Resources"].values()
                if r["Type"] == "AWS::Lambda::Function"}
    with open(os.path.join(ROOT, "assets", "function", "README.md"), encoding="utf-8") as f:
        readme = f.read()
    for runtime in runtimes:
        assert "runtime %s" % runtime in readme, "assets/function/README.md must name the runtime %s" % runtime


def _queue(deployment):
    (logical, q), = deployment.resources("AWS::SQS::Queue").items()
    return logical, q, deployment.arn_of(logical)


def test_failed_batch_queue_is_encrypted_kept_14_days_and_tagged(deployment):
    # SQS API Reference, CreateQueue attributes: MessageRetentionPeriod 60..1,209,600 seconds (14 days is the
    # maximum); SqsManagedSseEnabled turns on SSE-SQS. Queue names: at most 80 of [A-Za-z0-9_-].
    _, q, _ = _queue(deployment)
    assert int(q["MessageRetentionPeriod"]) == 14 * 24 * 3600
    assert q["SqsManagedSseEnabled"] is True
    assert re.fullmatch(r"[A-Za-z0-9_-]{1,80}", q["QueueName"]), q["QueueName"]
    tags = {t["Key"]: t["Value"] for t in q["Tags"]}
    assert tags == {"lppg:stack": deployment.stack, "lppg:region": deployment.region}


def test_on_failure_destination_is_the_queue_and_the_role_may_send(deployment):
    # Lambda Developer Guide, "Asynchronous invocation", destinations: the destination is the queue's ARN
    # (arn:partition:sqs:region:account:name), MaximumRetryAttempts 0..2, and the function's execution role needs
    # sqs:SendMessage on it (PutFunctionEventInvokeConfig checks it).
    _, q, queue_arn = _queue(deployment)
    (cfg,) = deployment.resources("AWS::Lambda::EventInvokeConfig").values()
    fn = next(iter(deployment.resources("AWS::Lambda::Function").values()))
    assert cfg["FunctionName"] == fn["FunctionName"] and cfg["Qualifier"] == "$LATEST"
    assert 0 <= int(cfg["MaximumRetryAttempts"]) <= 2
    dest = cfg["DestinationConfig"]["OnFailure"]["Destination"]
    assert dest == queue_arn
    assert re.fullmatch(r"arn:[a-z-]+:sqs:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,80}", dest), dest
    role_name = fn["Role"].rsplit("/", 1)[1]
    role = next(r for r in deployment.resources("AWS::IAM::Role").values() if r["RoleName"] == role_name)
    sends = [st for pol in role["Policies"] for st in statements(pol["PolicyDocument"])
             if "sqs:SendMessage" in as_list(st["Action"])]
    assert sends and all(as_list(st["Resource"]) == [queue_arn] for st in sends), sends


def test_queue_policy_only_the_role_sends_only_the_caller_reads(deployment):
    # SQS Developer Guide, "Using policies": a Deny with aws:PrincipalArn (the role's ARN for a role session, IAM
    # User Guide, global condition keys) keeps every other principal out whatever its identity policies allow.
    logical, _, queue_arn = _queue(deployment)
    reader = "arn:%s:iam::%s:role/admin" % (deployment.partition, ACCOUNT)
    for readers in ("", reader):
        d = Resolver(deployment.t, deployment.stack, deployment.region, deployment.partition,
                     dict(deployment.params, QueueReaderArns=readers))
        (pol,) = d.resources("AWS::SQS::QueuePolicy").values()
        assert pol["Queues"] == [d.name_of(logical)]
        sts = statements(pol["PolicyDocument"])
        send = [s for s in sts if "sqs:SendMessage" in as_list(s["Action"]) and s["Effect"] == "Deny"]
        assert send and send[0]["Principal"] == "*" and send[0]["Resource"] == queue_arn
        role = d.arn_of(next(k for k, r in d.t["Resources"].items() if r["Type"] == "AWS::IAM::Role"
                             and d.value(r["Properties"]["RoleName"]).endswith("-generator-role")))
        # IAM User Guide, "Condition operators": with ...IfExists absent, a negated operator on a missing key is
        # true; the Null=false guard (the key is present) keeps the Deny off requests without aws:PrincipalArn.
        assert send[0]["Condition"] == {"ArnNotEquals": {"aws:PrincipalArn": role},
                                        "Null": {"aws:PrincipalArn": "false"}}
        read = [s for s in sts if "sqs:ReceiveMessage" in as_list(s["Action"])]
        if readers:
            assert len(read) == 1 and read[0]["Effect"] == "Deny"
            assert "sqs:DeleteMessage" in read[0]["Action"]
            assert read[0]["Condition"] == {"ArnNotLike": {"aws:PrincipalArn": [reader]},
                                            "Null": {"aws:PrincipalArn": "false"}}
        else:
            assert read == []
        assert all(s["Effect"] == "Deny" for s in sts), "the queue policy grants nothing"


def test_guard_covers_the_queue(deployment):
    _, q, queue_arn = _queue(deployment)
    (guard,) = [p for p in deployment.resources("AWS::IAM::ManagedPolicy").values()
                if p["ManagedPolicyName"].endswith("-guard")]
    assert any(s["Effect"] == "Deny" and "sqs:*" in as_list(s["Action"]) and queue_arn in as_list(s["Resource"])
               for s in statements(guard["PolicyDocument"]))
    fn = next(iter(deployment.resources("AWS::Lambda::Function").values()))
    g = json.loads(fn["Environment"]["Variables"]["LPPG_GUARD"])
    assert any(glob_match(a, queue_arn) for a in g["arns"]), g["arns"]
    assert g["names"]["queueName"] == [q["QueueName"]]


# ---- issue 24: the limits a real account enforces on what grows with names and trusted principals ----------------

def test_function_environment_fits_4_kb(deployment):
    # Lambda Developer Guide, "Lambda quotas": function environment variables, 4 KB for all of them in aggregate
    # (keys and values). LPPG_GUARD grows with every name the guard carries; checked at the longest names.
    fn = next(iter(deployment.resources("AWS::Lambda::Function").values()))
    env = fn["Environment"]["Variables"]
    size = sum(len(k.encode()) + len(str(v).encode()) for k, v in env.items())
    assert size <= 4096, "the function's environment is %d bytes" % size


def test_guard_spec_says_who_may_not_leave_observation(deployment):
    # The function withholds role switches unless `up --allow-role-switch` (AllowRoleSwitch) and a group change
    # of the observed user (user mode only: a role is in no group).
    fn = next(iter(deployment.resources("AWS::Lambda::Function").values()))
    g = json.loads(fn["Environment"]["Variables"]["LPPG_GUARD"])
    assert g["allow_role_switch"] is False
    user = "" if deployment.role_mode() else deployment.principal_arn().rsplit("/", 1)[1]
    assert g["observed_user"] == user
    allowed = Resolver(deployment.t, deployment.stack, deployment.region, deployment.partition,
                       dict(deployment.params, AllowRoleSwitch="true"))
    fn = next(iter(allowed.resources("AWS::Lambda::Function").values()))
    assert json.loads(fn["Environment"]["Variables"]["LPPG_GUARD"])["allow_role_switch"] is True
    (role,) = [r for r in deployment.resources("AWS::IAM::Role").values() if r["RoleName"].endswith("-generator-role")]
    lookups = [s for p in role["Policies"] for s in statements(p["PolicyDocument"])
               if "iam:ListGroupsForUser" in as_list(s["Action"])]
    assert [s["Resource"] for s in lookups] == ([] if deployment.role_mode() else [deployment.principal_arn()])


def test_guard_policy_fits_6144_non_whitespace_characters(deployment):
    # IAM User Guide, "IAM and AWS STS quotas": a managed policy document is at most 6,144 characters, white space
    # not counted. The guard names the generator's resources, so it grows with the longest names.
    (guard,) = [p for p in deployment.resources("AWS::IAM::ManagedPolicy").values()
                if p["ManagedPolicyName"].endswith("-guard")]
    text = re.sub(r"\s", "", json.dumps(guard["PolicyDocument"], separators=(",", ":")))
    assert len(text) <= 6144, "the guard policy is %d characters" % len(text)


def test_role_trust_policy_fits_2048_characters(deployment):
    # IAM User Guide, "IAM and AWS STS quotas": role trust policy length, 2,048 characters by default (CreateRole
    # fails with LimitExceeded beyond). `lppg up` refuses a longer one up front (crates/lppg-core/src/stack/role.rs TRUST_POLICY_QUOTA); the
    # template's own trust, at the longest names and an Identity Center pattern, must fit.
    if not deployment.role_mode():
        return
    role = next(r for r in deployment.resources("AWS::IAM::Role").values()
                if r["RoleName"] == deployment.principal_arn().rsplit("/", 1)[1])
    text = json.dumps(role["AssumeRolePolicyDocument"], separators=(",", ":"))
    assert len(text) <= 2048, "the trust policy is %d characters" % len(text)
