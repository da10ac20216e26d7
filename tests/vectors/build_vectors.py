#!/usr/bin/env python3
"""Writes denied.jsonl, success.jsonl and guard.json in this directory.

The expectations below are written by hand from AWS documentation and the facts in
shared/reference/cloudtrail-to-iam.md, NOT computed by the function's code. Only the record
boilerplate is generated (deterministic eventIDs, increasing eventTimes), so that rerunning this
script gives byte-identical files. Edit the cases here, rerun, commit both.
"""
import json
import os
import uuid

HERE = os.path.dirname(os.path.abspath(__file__))
ACCOUNT = "123456789012"
REGION = "us-east-1"
P = "arn:aws:iam::%s:user/lppg-user" % ACCOUNT
OTHER = "arn:aws:iam::%s:user/alice" % ACCOUNT
STACK = "lppg"


def guard():
    s, a, r = STACK, ACCOUNT, REGION
    return {
        "arns": [
            "arn:aws:cloudtrail:%s:%s:trail/%s-trail" % (r, a, s),
            "arn:aws:s3:::%s-trail-%s-%s*" % (s, a, r),
            "arn:aws:s3:::%s-artifacts-%s-%s*" % (s, a, r),
            "arn:aws:logs:%s:%s:log-group:/lppg/%s/trail*" % (r, a, s),
            "arn:aws:logs:%s:%s:log-group:/aws/lambda/%s-generator*" % (r, a, s),
            "arn:aws:lambda:%s:%s:function:%s-generator*" % (r, a, s),
            "arn:aws:iam::%s:role/%s-*" % (a, s),
            "arn:aws:iam::%s:user/%s-user" % (a, s),
            "arn:aws:iam::%s:policy/%s-*" % (a, s),
            "arn:aws:cloudformation:%s:%s:stack/%s/*" % (r, a, s),
            "arn:aws:sqs:%s:%s:%s-failed-batches" % (r, a, s),
            # The fast path (issue 22), as the template's LPPG_GUARD lists it: the rules of every region (the home
            # rule and each forwarder's, all <stack>-fast-path) and the forwarder stacks' roles.
            "arn:aws:events:*:%s:rule/%s-fast-path" % (a, s),
            "arn:aws:iam::%s:role/%s-forwarder-*" % (a, s),
        ],
        "names": {
            "userName": ["%s-user" % s],
            "roleName": ["%s-generator-role" % s],
            "functionName": ["%s-generator" % s],
            "logGroupName": ["/lppg/%s/trail" % s, "/aws/lambda/%s-generator" % s],
            "trailName": ["%s-trail" % s],
            "name": ["%s-trail" % s, "%s-fast-path" % s],
            "rule": ["%s-fast-path" % s],
            "bucketName": ["%s-trail-%s-%s" % (s, a, r), "%s-artifacts-%s-%s" % (s, a, r)],
            "policyArn": ["arn:aws:iam::%s:policy/%s-policy-%d" % (a, s, i) for i in range(1, 8)],
            "stackName": [s],
            "queueName": ["%s-failed-batches" % s],
            "queueUrl": ["https://sqs.%s.amazonaws.com/%s/%s-failed-batches" % (r, a, s)],
        },
        # Leaving observation (issue 24): the observed user, the groups it is in (the function reads them with
        # iam:ListGroupsForUser when a record needs them), role switches withheld unless `up --allow-role-switch`.
        "observed_user": "%s-user" % s,
        "groups": ["Developers"],
        "allow_role_switch": False,
    }


_n = [0]


def rec(name, source, event, code=None, message=None, params=None, principal=P, identity=None, **extra):
    _n[0] += 1
    i = _n[0]
    if identity is None:
        identity = {"type": "IAMUser", "principalId": "AIDA4EXAMPLEUSERID01", "arn": principal,
                    "accountId": ACCOUNT, "accessKeyId": "ASIA4EXAMPLEKEY00001",
                    "userName": principal.rsplit("/", 1)[-1],
                    "sessionContext": {"sessionIssuer": {}, "webIdFederationData": {},
                                       "attributes": {"creationDate": "2026-03-01T09:58:12Z",
                                                      "mfaAuthenticated": "false"}}}
    r = {"eventVersion": "1.09", "userIdentity": identity,
         "eventTime": "2026-03-01T10:%02d:%02dZ" % (i // 60 % 60, i % 60),
         "eventSource": source, "eventName": event, "awsRegion": REGION,
         "sourceIPAddress": "198.51.100.23", "userAgent": "AWS Internal"}
    if code is not None:
        r["errorCode"] = code
    if message is not None:
        r["errorMessage"] = message
    r["requestParameters"] = params
    r["responseElements"] = None
    r["requestID"] = str(uuid.uuid5(uuid.NAMESPACE_URL, "lppg-vector-req/" + name))
    r["eventID"] = str(uuid.uuid5(uuid.NAMESPACE_URL, "lppg-vector/" + name))
    r["readOnly"] = event.startswith(("Get", "List", "Describe", "Head"))
    r["eventType"] = "AwsApiCall"
    r["managementEvent"] = True
    r["recipientAccountId"] = ACCOUNT
    r["eventCategory"] = "Management"
    r.update(extra)
    return r


def modern(action, resource=None, tail="because no identity-based policy allows the {a} action", who=P):
    s = "User: %s is not authorized to perform: %s" % (who, action)
    if resource:
        s += " on resource: %s" % resource
    if tail:
        s += " " + tail.format(a=action)
    return s


def V(name, record, outcome, actions=(), derived=None, verified=None, note=None, principal=P, guard=None,
      reason=None):
    """`guard`: keys laid over guard.json's for this vector only; `reason`: text the decision's reason contains."""
    v = {"name": name, "record": record, "principal": principal,
         "expect": {"outcome": outcome, "actions": list(actions)}}
    if guard is not None:
        v["guard"] = guard
    if reason is not None:
        v["expect"]["reason_contains"] = reason
    if derived:
        v["expect"]["derived_from"] = derived
    if verified is not None:
        v["expect"]["verified"] = verified
    if note:
        v["note"] = note
    return v


def G(name, record, actions, derived, **kw):
    return V(name, record, "grant", actions, derived, **kw)


A = "arn:aws:%s:" + REGION + ":" + ACCOUNT + ":%s"
ENC = ("Encoded authorization failure message: 4dSa8kW2F-example-only-Vq7NQ1sM0uH4VYwqzT_encoded-"
       "blob-ZXhhbXBsZQ")


def denied():
    out = []
    add = out.append
    # ---- action named in errorMessage ----------------------------------------------------------
    add(G("lambda-message-names-action",
          rec("lambda-message-names-action", "lambda.amazonaws.com", "ListFunctions20150331",
              "AccessDenied", modern("lambda:ListFunctions", "*")),
          ["lambda:ListFunctions"], "message"))
    add(G("passrole-differs-from-event",
          rec("passrole-differs-from-event", "lambda.amazonaws.com", "CreateFunction20150331",
              "AccessDeniedException",
              modern("iam:PassRole", "arn:aws:iam::%s:role/app-exec" % ACCOUNT),
              {"functionName": "app", "role": "arn:aws:iam::%s:role/app-exec" % ACCOUNT,
               "runtime": "python3.12"}),
          ["iam:PassRole"], "message",
          note="the call was CreateFunction but the denied permission was the role hand-over"))
    add(G("sns-uppercase-prefix",
          rec("sns-uppercase-prefix", "sns.amazonaws.com", "ListTopics", "AuthorizationError",
              "User: %s is not authorized to perform: SNS:ListTopics on resource: %s" % (P, A % ("sns", "*"))),
          ["sns:ListTopics"], "message"))
    add(G("sqs-lowercase-action",
          rec("sqs-lowercase-action", "sqs.amazonaws.com", "ListQueues", "AccessDenied",
              modern("sqs:listqueues", A % ("sqs", ""))),
          ["sqs:ListQueues"], "message", note="SQS lower-cases the action; catalogue casing restored"))
    add(G("dynamodb-message",
          rec("dynamodb-message", "dynamodb.amazonaws.com", "ListTables", "AccessDeniedException",
              modern("dynamodb:ListTables", A % ("dynamodb", "table/*"))),
          ["dynamodb:ListTables"], "message"))
    add(G("kms-no-resource-policy",
          rec("kms-no-resource-policy", "kms.amazonaws.com", "Decrypt", "AccessDeniedException",
              modern("kms:Decrypt", A % ("kms", "key/1234abcd-12ab-34cd-56ef-1234567890ab"),
                     "because no resource-based policy allows the {a} action")),
          ["kms:Decrypt"], "message"))
    add(G("secretsmanager-message",
          rec("secretsmanager-message", "secretsmanager.amazonaws.com", "GetSecretValue",
              "AccessDeniedException", modern("secretsmanager:GetSecretValue", A % ("secretsmanager",
                                                                                     "secret:db-AbCdEf")),
              {"secretId": "db"}),
          ["secretsmanager:GetSecretValue"], "message"))
    add(G("ec2-modern-with-encoded",
          rec("ec2-modern-with-encoded", "ec2.amazonaws.com", "RunInstances", "Client.UnauthorizedOperation",
              "You are not authorized to perform this operation. " +
              modern("ec2:RunInstances", A % ("ec2", "instance/*")) + ". " + ENC),
          ["ec2:RunInstances"], "message"))
    add(G("ec2-tag-on-create",
          rec("ec2-tag-on-create", "ec2.amazonaws.com", "RunInstances", "Client.UnauthorizedOperation",
              "You are not authorized to perform this operation. " +
              modern("ec2:CreateTags", A % ("ec2", "instance/*")) + ". " + ENC),
          ["ec2:CreateTags"], "message", note="second permission of one call"))
    add(G("ec2-encoded-only-falls-back",
          rec("ec2-encoded-only-falls-back", "ec2.amazonaws.com", "DescribeInstances",
              "Client.UnauthorizedOperation", "You are not authorized to perform this operation. " + ENC),
          ["ec2:DescribeInstances"], "event"))
    add(G("ec2-bare-unauthorized",
          rec("ec2-bare-unauthorized", "ec2.amazonaws.com", "DescribeVpcs", "UnauthorizedOperation",
              "You are not authorized to perform this operation."),
          ["ec2:DescribeVpcs"], "event"))
    add(G("cloudwatch-message",
          rec("cloudwatch-message", "monitoring.amazonaws.com", "GetMetricData", "AccessDenied",
              modern("cloudwatch:GetMetricData")),
          ["cloudwatch:GetMetricData"], "message"))
    add(G("logs-message",
          rec("logs-message", "logs.amazonaws.com", "DescribeLogGroups", "AccessDeniedException",
              modern("logs:DescribeLogGroups", A % ("logs", "log-group::log-stream:"))),
          ["logs:DescribeLogGroups"], "message"))
    add(G("ecs-message",
          rec("ecs-message", "ecs.amazonaws.com", "ListClusters", "AccessDeniedException",
              modern("ecs:ListClusters", "*")),
          ["ecs:ListClusters"], "message"))
    add(G("eks-message",
          rec("eks-message", "eks.amazonaws.com", "ListClusters", "AccessDeniedException",
              "User: %s is not authorized to perform: eks:ListClusters on resource: %s" % (
                  P, A % ("eks", "cluster/*"))),
          ["eks:ListClusters"], "message"))
    add(G("states-message",
          rec("states-message", "states.amazonaws.com", "ListStateMachines", "AccessDeniedException",
              modern("states:ListStateMachines", A % ("states", "stateMachine:*"))),
          ["states:ListStateMachines"], "message"))
    add(G("cloudformation-no-resource-clause",
          rec("cloudformation-no-resource-clause", "cloudformation.amazonaws.com", "DescribeStacks",
              "AccessDenied", modern("cloudformation:DescribeStacks")),
          ["cloudformation:DescribeStacks"], "message"))
    add(G("sts-assumerole-message",
          rec("sts-assumerole-message", "sts.amazonaws.com", "AssumeRole", "AccessDenied",
              modern("sts:AssumeRole", "arn:aws:iam::%s:role/deploy" % ACCOUNT),
              {"roleArn": "arn:aws:iam::%s:role/deploy" % ACCOUNT, "roleSessionName": "s"}),
          ["sts:AssumeRole"], "message", guard={"allow_role_switch": True},
          note="with `up --allow-role-switch`; by default a role switch is withheld (leave-* vectors)"))
    add(G("iam-listroles-message",
          rec("iam-listroles-message", "iam.amazonaws.com", "ListRoles", "AccessDenied",
              modern("iam:ListRoles", "arn:aws:iam::%s:role/" % ACCOUNT)),
          ["iam:ListRoles"], "message"))
    add(G("s3-quoted-resource",
          rec("s3-quoted-resource", "s3.amazonaws.com", "GetObject", "AccessDenied",
              modern("s3:GetObject", '"arn:aws:s3:::reports-bucket/2026/q1.csv"'),
              {"bucketName": "reports-bucket", "key": "2026/q1.csv"}),
          ["s3:GetObject"], "message"))
    add(G("apigateway-message-verb",
          rec("apigateway-message-verb", "apigateway.amazonaws.com", "GetRestApis", "AccessDeniedException",
              modern("apigateway:GET", "arn:aws:apigateway:%s::/restapis" % REGION)),
          ["apigateway:GET"], "message"))
    add(G("rds-message", rec("rds-message", "rds.amazonaws.com", "DescribeDBInstances", "AccessDenied",
                             modern("rds:DescribeDBInstances", A % ("rds", "db:*"))),
          ["rds:DescribeDBInstances"], "message"))
    add(G("route53-message", rec("route53-message", "route53.amazonaws.com", "ListHostedZones", "AccessDenied",
                                 modern("route53:ListHostedZones", "*")),
          ["route53:ListHostedZones"], "message"))
    add(G("ecr-message", rec("ecr-message", "ecr.amazonaws.com", "GetAuthorizationToken",
                             "AccessDeniedException", modern("ecr:GetAuthorizationToken", "*")),
          ["ecr:GetAuthorizationToken"], "message"))
    add(G("events-message", rec("events-message", "events.amazonaws.com", "ListRules", "AccessDeniedException",
                                modern("events:ListRules", A % ("events", "rule/*"))),
          ["events:ListRules"], "message"))
    add(G("kinesis-message", rec("kinesis-message", "kinesis.amazonaws.com", "ListStreams",
                                 "AccessDeniedException", modern("kinesis:ListStreams", A % ("kinesis",
                                                                                             "stream/*"))),
          ["kinesis:ListStreams"], "message"))
    add(G("glue-message", rec("glue-message", "glue.amazonaws.com", "GetDatabases", "AccessDeniedException",
                              modern("glue:GetDatabases", A % ("glue", "catalog"))),
          ["glue:GetDatabases"], "message"))
    add(G("athena-message", rec("athena-message", "athena.amazonaws.com", "ListWorkGroups",
                                "AccessDeniedException", modern("athena:ListWorkGroups", "*")),
          ["athena:ListWorkGroups"], "message"))
    add(G("codebuild-message", rec("codebuild-message", "codebuild.amazonaws.com", "ListProjects",
                                   "AccessDeniedException", modern("codebuild:ListProjects", "*")),
          ["codebuild:ListProjects"], "message"))
    add(G("autoscaling-message", rec("autoscaling-message", "autoscaling.amazonaws.com",
                                     "DescribeAutoScalingGroups", "AccessDenied",
                                     modern("autoscaling:DescribeAutoScalingGroups", "*")),
          ["autoscaling:DescribeAutoScalingGroups"], "message"))
    add(G("message-action-only-at-end",
          rec("message-action-only-at-end", "backup.amazonaws.com", "ListBackupPlans", "AccessDeniedException",
              "Insufficient privileges: because no identity-based policy allows the backup:ListBackupPlans "
              "action"),
          ["backup:ListBackupPlans"], "message"))
    # ---- explicit deny ---------------------------------------------------------------------------
    add(V("explicit-deny-scp",
          rec("explicit-deny-scp", "ssm.amazonaws.com", "GetParameter", "AccessDeniedException",
              modern("ssm:GetParameter", A % ("ssm", "parameter/app/db"),
                     "with an explicit deny in a service control policy"), {"name": "/app/db"}),
          "explicit_deny", ["ssm:GetParameter"], "message"))
    add(V("explicit-deny-identity",
          rec("explicit-deny-identity", "s3.amazonaws.com", "GetObject", "AccessDenied",
              modern("s3:GetObject", '"arn:aws:s3:::hr-bucket/salaries.csv"',
                     "with an explicit deny in an identity-based policy"),
              {"bucketName": "hr-bucket", "key": "salaries.csv"}),
          "explicit_deny", ["s3:GetObject"], "message"))
    add(V("explicit-deny-boundary",
          rec("explicit-deny-boundary", "kms.amazonaws.com", "CreateKey", "AccessDeniedException",
              modern("kms:CreateKey", "*", "with an explicit deny in a permissions boundary")),
          "explicit_deny", ["kms:CreateKey"], "message"))
    add(V("explicit-deny-resource-policy",
          rec("explicit-deny-resource-policy", "secretsmanager.amazonaws.com", "DeleteSecret",
              "AccessDeniedException",
              modern("secretsmanager:DeleteSecret", A % ("secretsmanager", "secret:prod-XyZ123"),
                     "with an explicit deny in a resource-based policy"), {"secretId": "prod"}),
          "explicit_deny", ["secretsmanager:DeleteSecret"], "message"))
    add(V("explicit-deny-scp-with-policy-arn",
          rec("explicit-deny-scp-with-policy-arn", "organizations.amazonaws.com", "DescribeOrganization",
              "AccessDeniedException",
              modern("organizations:DescribeOrganization", None,
                     "with an explicit deny in a service control policy: "
                     "arn:aws:organizations::999999999999:policy/o-abc/service_control_policy/p-xyz")),
          "explicit_deny", ["organizations:DescribeOrganization"], "message"))
    add(V("explicit-deny-vpc-endpoint",
          rec("explicit-deny-vpc-endpoint", "s3.amazonaws.com", "PutObject", "AccessDenied",
              modern("s3:PutObject", '"arn:aws:s3:::uploads-bucket/a.txt"',
                     "with an explicit deny in a VPC endpoint policy"),
              {"bucketName": "uploads-bucket", "key": "a.txt"}),
          "explicit_deny", ["s3:PutObject"], "message"))
    # ---- guard: the generator's own resources ---------------------------------------------------
    add(V("guard-attach-own-user-policy",
          rec("guard-attach-own-user-policy", "iam.amazonaws.com", "AttachUserPolicy", "AccessDenied",
              modern("iam:AttachUserPolicy", "arn:aws:iam::%s:user/lppg-user" % ACCOUNT),
              {"userName": "lppg-user", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
          "withheld", ["iam:AttachUserPolicy"], "message"))
    add(V("guard-stop-trail-by-arn",
          rec("guard-stop-trail-by-arn", "cloudtrail.amazonaws.com", "StopLogging", "AccessDenied",
              None, {"name": "arn:aws:cloudtrail:%s:%s:trail/lppg-trail" % (REGION, ACCOUNT)}),
          "withheld", ["cloudtrail:StopLogging"], "event"))
    add(V("guard-delete-subscription",
          rec("guard-delete-subscription", "logs.amazonaws.com", "DeleteSubscriptionFilter",
              "AccessDeniedException", None, {"logGroupName": "/lppg/lppg/trail", "filterName": "lppg-denied"}),
          "withheld", ["logs:DeleteSubscriptionFilter"], "event"))
    add(V("guard-update-function-code",
          rec("guard-update-function-code", "lambda.amazonaws.com", "UpdateFunctionCode20150331v2",
              "AccessDeniedException", None, {"functionName": "lppg-generator", "publish": False}),
          "withheld", ["lambda:UpdateFunctionCode"], "event"))
    add(V("guard-trail-bucket-policy",
          rec("guard-trail-bucket-policy", "s3.amazonaws.com", "PutBucketPolicy", "AccessDenied",
              "Access Denied", {"bucketName": "lppg-trail-%s-%s" % (ACCOUNT, REGION), "policy": ""}),
          "withheld", ["s3:PutBucketPolicy"], "event"))
    add(V("guard-own-policy-version",
          rec("guard-own-policy-version", "iam.amazonaws.com", "CreatePolicyVersion", "AccessDenied",
              modern("iam:CreatePolicyVersion", "arn:aws:iam::%s:policy/lppg-policy-1" % ACCOUNT),
              {"policyArn": "arn:aws:iam::%s:policy/lppg-policy-1" % ACCOUNT, "setAsDefault": True}),
          "withheld", ["iam:CreatePolicyVersion"], "message"))
    add(V("guard-delete-stack",
          rec("guard-delete-stack", "cloudformation.amazonaws.com", "DeleteStack", "AccessDenied",
              modern("cloudformation:DeleteStack",
                     "arn:aws:cloudformation:%s:%s:stack/lppg/0f1e2d3c-aaaa-bbbb-cccc-000000000000" % (
                         REGION, ACCOUNT)), {"stackName": "lppg"}),
          "withheld", ["cloudformation:DeleteStack"], "message"))
    add(V("guard-passrole-generator-role",
          rec("guard-passrole-generator-role", "lambda.amazonaws.com", "CreateFunction20150331",
              "AccessDeniedException",
              modern("iam:PassRole", "arn:aws:iam::%s:role/lppg-generator-role" % ACCOUNT),
              {"functionName": "mine", "role": "arn:aws:iam::%s:role/lppg-generator-role" % ACCOUNT}),
          "withheld", ["iam:PassRole"], "message"))
    add(V("guard-before-explicit-deny",
          rec("guard-before-explicit-deny", "lambda.amazonaws.com", "Invoke", "AccessDeniedException",
              modern("lambda:InvokeFunction", A % ("lambda", "function:lppg-generator"),
                     "with an explicit deny in an identity-based policy"),
              {"functionName": "lppg-generator"}),
          "withheld", ["lambda:InvokeFunction"], "message",
          note="the guard's own explicit Deny produced this; reported as withheld"))
    add(V("guard-function-by-arn-param",
          rec("guard-function-by-arn-param", "lambda.amazonaws.com", "AddPermission20150331v2",
              "AccessDeniedException", None,
              {"functionName": A % ("lambda", "function:lppg-generator"), "action": "lambda:InvokeFunction",
               "principal": "*"}),
          "withheld", ["lambda:AddPermission"], "event"))
    add(V("guard-permissions-boundary-own-user",
          rec("guard-permissions-boundary-own-user", "iam.amazonaws.com", "DeleteUserPermissionsBoundary",
              "AccessDenied", None, {"userName": "lppg-user"}),
          "withheld", ["iam:DeleteUserPermissionsBoundary"], "event"))
    # ---- eventSource / eventName fallback -------------------------------------------------------
    s3 = [("ListObjectsV2", "s3:ListBucket"), ("ListObjects", "s3:ListBucket"), ("HeadBucket", "s3:ListBucket"),
          ("ListBuckets", "s3:ListAllMyBuckets"), ("HeadObject", "s3:GetObject"),
          ("CreateMultipartUpload", "s3:PutObject"), ("UploadPartCopy", ["s3:GetObject", "s3:PutObject"]),
          ("CopyObject", ["s3:GetObject", "s3:PutObject"]), ("DeleteObjects", "s3:DeleteObject"),
          ("ListObjectVersions", "s3:ListBucketVersions"), ("ListMultipartUploads", "s3:ListBucketMultipartUploads"),
          ("ListParts", "s3:ListMultipartUploadParts"), ("GetBucketLifecycle", "s3:GetLifecycleConfiguration"),
          ("PutBucketLifecycleConfiguration", "s3:PutLifecycleConfiguration"),
          ("DeleteBucketLifecycle", "s3:PutLifecycleConfiguration"),
          ("GetBucketEncryption", "s3:GetEncryptionConfiguration"),
          ("DeleteBucketEncryption", "s3:PutEncryptionConfiguration"),
          ("GetBucketReplication", "s3:GetReplicationConfiguration"),
          ("DeleteBucketReplication", "s3:PutReplicationConfiguration"),
          ("GetBucketCors", "s3:GetBucketCORS"), ("DeleteBucketCors", "s3:PutBucketCORS"),
          ("DeleteBucketTagging", "s3:PutBucketTagging"), ("GetBucketAcl", "s3:GetBucketAcl"),
          ("PutBucketVersioning", "s3:PutBucketVersioning")]
    for ev, act in s3:
        n = "s3-" + ev
        add(G(n, rec(n, "s3.amazonaws.com", ev, "AccessDenied", "Access Denied",
                     {"bucketName": "app-data-bucket", "Host": "app-data-bucket.s3.amazonaws.com"}),
              act if isinstance(act, list) else [act], "event"))
    add(G("sqs-generic-message-batch",
          rec("sqs-generic-message-batch", "sqs.amazonaws.com", "SendMessageBatch", "AccessDenied",
              "Access to the resource https://sqs.us-east-1.amazonaws.com/ is denied.",
              {"queueUrl": "https://sqs.us-east-1.amazonaws.com/%s/jobs" % ACCOUNT}),
          ["sqs:SendMessage"], "event"))
    renames = [
        ("monitoring.amazonaws.com", "ListDashboards", "cloudwatch:ListDashboards"),
        ("email.amazonaws.com", "SendEmail", "ses:SendEmail"),
        ("streams.dynamodb.amazonaws.com", "DescribeStream", "dynamodb:DescribeStream"),
        ("tagging.amazonaws.com", "GetResources", "tag:GetResources"),
        ("appstream2.amazonaws.com", "DescribeFleets", "appstream:DescribeFleets"),
        ("models.lex.amazonaws.com", "GetBots", "lex:GetBots"),
        ("mturk-requester.amazonaws.com", "ListHITs", "mechanicalturk:ListHITs"),
        ("cloudcontrolapi.amazonaws.com", "ListResources", "cloudformation:ListResources"),
        ("pinpoint.amazonaws.com", "GetApps", "mobiletargeting:GetApps"),
        ("runtime.sagemaker.amazonaws.com", "InvokeEndpoint", "sagemaker:InvokeEndpoint"),
    ]
    for src, ev, act in renames:
        n = "prefix-" + src.split(".amazonaws")[0].replace(".", "-")
        add(G(n, rec(n, src, ev, "AccessDeniedException", None), [act], "event"))
    for n, src, ev, act in [
        ("date-suffix-lambda-v2", "lambda.amazonaws.com", "GetFunction20150331v2", "lambda:GetFunction"),
        ("date-suffix-lambda-settings", "lambda.amazonaws.com", "GetAccountSettings20160819",
         "lambda:GetAccountSettings"),
        ("date-suffix-cloudfront", "cloudfront.amazonaws.com", "ListDistributions2020_05_31",
         "cloudfront:ListDistributions"),
        ("genuine-v2-kafka", "kafka.amazonaws.com", "ListClustersV2", "kafka:ListClustersV2"),
        ("genuine-v2-securityhub", "securityhub.amazonaws.com", "DescribeSecurityHubV2",
         "securityhub:DescribeSecurityHubV2"),
        ("apigateway-get", "apigateway.amazonaws.com", "GetRestApis", "apigateway:GET"),
        ("apigateway-create", "apigateway.amazonaws.com", "CreateRestApi", "apigateway:POST"),
        ("apigateway-update", "apigateway.amazonaws.com", "UpdateStage", "apigateway:PATCH"),
        ("apigateway-delete", "apigateway.amazonaws.com", "DeleteApiKey", "apigateway:DELETE"),
        ("apigateway-put", "apigateway.amazonaws.com", "PutIntegration", "apigateway:PUT"),
        ("apigateway-import-restapi", "apigateway.amazonaws.com", "ImportRestApi", "apigateway:POST"),
        ("elbv2-same-prefix", "elasticloadbalancing.amazonaws.com", "DescribeLoadBalancers",
         "elasticloadbalancing:DescribeLoadBalancers"),
        ("efs-generic", "elasticfilesystem.amazonaws.com", "DescribeFileSystems",
         "elasticfilesystem:DescribeFileSystems"),
        ("guardduty-generic", "guardduty.amazonaws.com", "ListDetectors", "guardduty:ListDetectors"),
        ("batch-generic", "batch.amazonaws.com", "DescribeJobQueues", "batch:DescribeJobQueues"),
        ("firehose-event", "firehose.amazonaws.com", "ListDeliveryStreams", "firehose:ListDeliveryStreams"),
        ("sso-generic", "sso.amazonaws.com", "ListInstances", "sso:ListInstances"),
        ("lambda-invoke-data-event", "lambda.amazonaws.com", "Invoke", "lambda:InvokeFunction"),
        ("sns-publish-batch", "sns.amazonaws.com", "PublishBatch", "sns:Publish"),
    ]:
        add(G(n, rec(n, src, ev, "AccessDeniedException", "Access denied"), [act], "event"))
    add(G("kms-reencrypt-two-actions",
          rec("kms-reencrypt-two-actions", "kms.amazonaws.com", "ReEncrypt", "AccessDeniedException", None),
          ["kms:ReEncryptFrom", "kms:ReEncryptTo"], "event"))
    add(G("unknown-service-unverified",
          rec("unknown-service-unverified", "widgets.amazonaws.com", "ListWidgets", "AccessDeniedException",
              None), ["widgets:ListWidgets"], "event", verified=False,
          note="not in the catalogue: still granted, marked unverified"))
    add(G("unknown-action-in-message-unverified",
          rec("unknown-action-in-message-unverified", "bedrock.amazonaws.com", "ListFutureThings",
              "AccessDeniedException", modern("bedrock:ListFutureThings", "*")),
          ["bedrock:ListFutureThings"], "message", verified=False))
    for v in operation_map_cases():
        add(v)
    # ---- not a permission ------------------------------------------------------------------------
    add(V("permissionless-get-caller-identity",
          rec("permissionless-get-caller-identity", "sts.amazonaws.com", "GetCallerIdentity", "AccessDenied",
              "Access denied"), "not_permission"))
    add(V("permissionless-dynamodb-describe-endpoints",
          rec("permissionless-dynamodb-describe-endpoints", "dynamodb.amazonaws.com", "DescribeEndpoints",
              "AccessDeniedException", None), "not_permission"))
    add(V("console-login-failure",
          rec("console-login-failure", "signin.amazonaws.com", "ConsoleLogin", None, "Failed authentication",
              None, eventType="AwsConsoleSignIn",
              additionalEventData={"LoginTo": "https://console.aws.amazon.com/console/home",
                                   "MobileVersion": "No", "MFAUsed": "No"},
              responseElements={"ConsoleLogin": "Failure"}), "not_permission"))
    add(V("console-signin-denied-code",
          rec("console-signin-denied-code", "signin.amazonaws.com", "SwitchRole", "AccessDenied",
              "Access denied", None, eventType="AwsConsoleSignIn"), "not_permission"))
    # ---- not an authorization failure ------------------------------------------------------------
    for n, code, msg in [
        ("throttling", "ThrottlingException", "Rate exceeded"),
        ("throttling-ec2", "Client.RequestLimitExceeded", "Request limit exceeded."),
        ("not-found-iam", "NoSuchEntityException", "The user with name bob cannot be found."),
        ("not-found-lambda", "ResourceNotFoundException", "Function not found: arn:aws:lambda:x"),
        ("not-found-s3", "NoSuchBucket", "The specified bucket does not exist"),
        ("dry-run", "Client.DryRunOperation", "Request would have succeeded, but DryRun flag is set."),
        ("validation", "ValidationException", "1 validation error detected"),
        ("credentials-auth-failure", "Client.AuthFailure", "AWS was not able to validate the credentials"),
        ("invalid-token", "UnrecognizedClientException", "The security token included in the request is "
                                                         "invalid."),
    ]:
        add(V("negative-" + n, rec("negative-" + n, "ec2.amazonaws.com", "DescribeInstances", code, msg),
              "not_denied"))
    add(V("negative-success", rec("negative-success", "s3.amazonaws.com", "ListBuckets"), "not_denied"))
    # ---- other principals ------------------------------------------------------------------------
    add(V("other-user", rec("other-user", "s3.amazonaws.com", "ListBuckets", "AccessDenied", "Access Denied",
                            principal=OTHER), "other_principal"))
    add(V("other-similar-prefix",
          rec("other-similar-prefix", "s3.amazonaws.com", "ListBuckets", "AccessDenied", "Access Denied",
              principal=P + "2"), "other_principal"))
    add(V("other-assumed-role",
          rec("other-assumed-role", "ec2.amazonaws.com", "DescribeVpcs", "Client.UnauthorizedOperation",
              "You are not authorized to perform this operation.",
              identity={"type": "AssumedRole", "principalId": "AROAEXAMPLE:lppg-user",
                        "arn": "arn:aws:sts::%s:assumed-role/dev/lppg-user" % ACCOUNT, "accountId": ACCOUNT,
                        "sessionContext": {"sessionIssuer": {"type": "Role", "arn":
                                           "arn:aws:iam::%s:role/dev" % ACCOUNT}}}), "other_principal"))
    add(V("other-aws-service",
          rec("other-aws-service", "kms.amazonaws.com", "Decrypt", "AccessDeniedException", "denied",
              identity={"type": "AWSService", "invokedBy": "cloudtrail.amazonaws.com"}), "other_principal"))
    r = rec("missing-user-identity", "s3.amazonaws.com", "ListBuckets", "AccessDenied", "Access Denied")
    del r["userIdentity"]
    add(V("missing-user-identity", r, "other_principal"))
    return out


# ---- role mode: the generator role's assumed-role sessions, and Identity Center roles (for `generate`) -----------
ROLE = "arn:aws:iam::%s:role/lppg-role" % ACCOUNT
SSO_ROLE_NAME = "AWSReservedSSO_Developer_0a1b2c3d4e5f6a7b"
SSO_ROLE = "arn:aws:iam::%s:role/aws-reserved/sso.amazonaws.com/eu-west-1/%s" % (ACCOUNT, SSO_ROLE_NAME)


def session(role_arn, session_name, **extra):
    """An AssumedRole userIdentity: the assumed-role ARN has no path, the issuer's ARN has it."""
    role_name = role_arn.rsplit("/", 1)[-1]
    ident = {"type": "AssumedRole", "principalId": "AROA4EXAMPLEROLEID01:" + session_name,
             "arn": "arn:aws:sts::%s:assumed-role/%s/%s" % (ACCOUNT, role_name, session_name),
             "accountId": ACCOUNT, "accessKeyId": "ASIA4EXAMPLEKEY00002",
             "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROA4EXAMPLEROLEID01",
                                                  "arn": role_arn, "accountId": ACCOUNT, "userName": role_name},
                                "webIdFederationData": {},
                                "attributes": {"creationDate": "2026-03-01T09:58:12Z",
                                               "mfaAuthenticated": "false"}}}
    ident.update(extra)
    return ident


def role_cases():
    out = []
    add = out.append
    tf = session(ROLE, "terraform")
    tf_arn = tf["arn"]
    add(V("role-session-message", rec("role-session-message", "kms.amazonaws.com", "Decrypt", "AccessDeniedException",
                                      modern("kms:Decrypt", A % ("kms", "key/1234abcd-12ab-34cd-56ef-1234567890ab"),
                                             who=tf_arn), identity=tf),
          "grant", ["kms:Decrypt"], "message", principal=ROLE,
          note="an assumed-role session of the generator role: matched through sessionContext.sessionIssuer.arn"))
    switched = session(ROLE, "alice@example.com", sourceIdentity="alice@example.com")
    add(V("role-console-switch-event",
          rec("role-console-switch-event", "ec2.amazonaws.com", "DescribeVpcs", "Client.UnauthorizedOperation",
              "You are not authorized to perform this operation.", identity=switched),
          "grant", ["ec2:DescribeVpcs"], "event", principal=ROLE,
          note="an Identity Center user who switched into the generator role in the console"))
    sso = session(SSO_ROLE, "alice@example.com")
    add(V("role-identity-center-path",
          rec("role-identity-center-path", "lambda.amazonaws.com", "ListFunctions20150331", "AccessDenied",
              modern("lambda:ListFunctions", "*", who=sso["arn"]), identity=sso),
          "grant", ["lambda:ListFunctions"], "message", principal=SSO_ROLE,
          note="an Identity Center permission set's role: the path is only in sessionIssuer.arn"))
    add(V("role-path-differs",
          rec("role-path-differs", "lambda.amazonaws.com", "ListFunctions20150331", "AccessDenied",
              modern("lambda:ListFunctions", "*", who=tf_arn),
              identity=session("arn:aws:iam::%s:role/team/lppg-role" % ACCOUNT, "terraform")),
          "other_principal", principal=ROLE, note="same role name under another path: another role"))
    add(V("role-other-role-session",
          rec("role-other-role-session", "s3.amazonaws.com", "ListBuckets", "AccessDenied", "Access Denied",
              identity=session("arn:aws:iam::%s:role/dev" % ACCOUNT, "terraform")),
          "other_principal", principal=ROLE))
    add(V("role-identity-center-sign-in",
          rec("role-identity-center-sign-in", "signin.amazonaws.com", "UserAuthentication", "AccessDenied",
              "Access Denied", identity={"type": "IdentityCenterUser", "accountId": ACCOUNT,
                                         "onBehalfOf": {"userId": "94482488-3041-7026-18f3-be45837cd0e4",
                                                        "identityStoreArn": "arn:aws:identitystore::%s:"
                                                        "identitystore/d-1234567890" % ACCOUNT},
                                         "credentialId": "EXAMPLEVHULjJdTUdPJfofVa1sufHDoj7aYcOYcxFVllWR_Whr1fEXAMPLE"}),
          "other_principal", principal=SSO_ROLE,
          note="Identity Center sign-in itself is not a session of the permission set's role"))
    add(V("role-guard-own-role",
          rec("role-guard-own-role", "iam.amazonaws.com", "PutRolePolicy", "AccessDenied",
              modern("iam:PutRolePolicy", "arn:aws:iam::%s:role/lppg-role" % ACCOUNT, who=tf_arn),
              params={"roleName": "lppg-role", "policyName": "escape"}, identity=tf),
          "withheld", ["iam:PutRolePolicy"], "message", principal=ROLE,
          note="the generator role may not change its own role, trust policy or policies"))
    add(V("role-guard-assume-generator-role",
          rec("role-guard-assume-generator-role", "sts.amazonaws.com", "AssumeRole", "AccessDenied",
              modern("sts:AssumeRole", "arn:aws:iam::%s:role/lppg-generator-role" % ACCOUNT, who=tf_arn),
              params={"roleArn": "arn:aws:iam::%s:role/lppg-generator-role" % ACCOUNT,
                      "roleSessionName": "x"}, identity=tf),
          "withheld", ["sts:AssumeRole"], "message", principal=ROLE,
          note="nor assume the generator's other roles"))
    add(V("user-principal-role-session",
          rec("user-principal-role-session", "s3.amazonaws.com", "ListBuckets", "AccessDenied", "Access Denied",
              identity=session("arn:aws:iam::%s:role/lppg-user" % ACCOUNT, "lppg-user")),
          "other_principal", note="a user principal never matches a session, even of a role with its name"))
    return out


def operation_map_cases():
    """Generic denials decided by the operation map (assets/function/operations.json): one case per kind of error
    the hand-written table made (issue 15), expectations from AWS documentation."""
    bucket = {"bucketName": "app-data-bucket", "Host": "app-data-bucket.s3.amazonaws.com"}
    cases = [
        # Removing an S3 configuration needs its Put permission (S3 API reference), in CloudTrail's spellings too.
        ("s3-DeletePublicAccessBlock", "s3", "DeletePublicAccessBlock", ["s3:PutBucketPublicAccessBlock"], bucket),
        ("s3-DeleteBucketPublicAccessBlock", "s3", "DeleteBucketPublicAccessBlock",
         ["s3:PutBucketPublicAccessBlock"], bucket),
        ("s3-GetBucketPublicAccessBlock", "s3", "GetBucketPublicAccessBlock", ["s3:GetBucketPublicAccessBlock"],
         bucket),
        ("s3-DeleteBucketOwnershipControls", "s3", "DeleteBucketOwnershipControls",
         ["s3:PutBucketOwnershipControls"], bucket),
        ("s3-DeleteBucketIntelligentTieringConfiguration", "s3", "DeleteBucketIntelligentTieringConfiguration",
         ["s3:PutIntelligentTieringConfiguration"], bucket),
        ("s3-DeleteBucketMetricsConfiguration", "s3", "DeleteBucketMetricsConfiguration",
         ["s3:PutMetricsConfiguration"], bucket),
        ("s3-DeleteBucketWebsite", "s3", "DeleteBucketWebsite", ["s3:DeleteBucketWebsite"], bucket),
        # The account-level public access block (S3 Control: no bucket) has its own permissions.
        ("s3-account-GetAccountPublicAccessBlock", "s3", "GetAccountPublicAccessBlock",
         ["s3:GetAccountPublicAccessBlock"], {"accountId": ACCOUNT}),
        ("s3-account-PutAccountPublicAccessBlock", "s3", "PutAccountPublicAccessBlock",
         ["s3:PutAccountPublicAccessBlock"], {"accountId": ACCOUNT}),
        ("s3-account-DeleteAccountPublicAccessBlock", "s3", "DeleteAccountPublicAccessBlock",
         ["s3:PutAccountPublicAccessBlock"], {"accountId": ACCOUNT}),
        # Services whose permissions are not named after their operations.
        ("budgets-view", "budgets", "DescribeBudgets", ["budgets:ViewBudget"], None),
        ("budgets-modify", "budgets", "CreateBudget", ["budgets:ModifyBudget"], None),
        ("execute-api-manage-connections", "execute-api", "PostToConnection", ["execute-api:ManageConnections"],
         None),
        ("timestream-query-select", "timestream", "Query", ["timestream:Select"], None),
        ("cloudsearch-upload-documents", "cloudsearch", "UploadDocuments", ["cloudsearch:document"], None),
        ("iotwireless-own-prefix", "iotwireless", "AssociateWirelessDeviceWithThing",
         ["iotwireless:AssociateWirelessDeviceWithThing"], None),
        # Batch calls that need the single call's permission.
        ("sqs-change-visibility-batch", "sqs", "ChangeMessageVisibilityBatch", ["sqs:ChangeMessageVisibility"],
         None),
        ("dynamodb-transact-get-items", "dynamodb", "TransactGetItems", ["dynamodb:GetItem"], None),
        # A call that needs its own service's permissions beyond its namesake.
        ("connect-use-case-two-actions", "connect", "CreateUseCase",
         ["connect:CreateUseCase", "connect:DescribeInstance"], None),
        # The catalogue documents lex:ListBots for Lex V2's ListBots; the source names the V1 lex:GetBots.
        ("lex-v2-catalogue-wins", "models-v2-lex", "ListBots", ["lex:ListBots"], None),
        # A role hand-over is never granted because another call was denied generically: its own denial names it.
        ("glue-create-job-no-passrole", "glue", "CreateJob", ["glue:CreateJob"], None),
    ]
    out = []
    for name, prefix, event, actions, params in cases:
        code = "AccessDenied" if prefix == "s3" else "AccessDeniedException"
        message = "Access Denied" if prefix == "s3" else None
        out.append(G(name, rec(name, prefix + ".amazonaws.com", event, code, message, params), actions, "event"))
    return out


def success():
    out = []

    def U(name, src, ev, actions, outcome="used", principal=P, **kw):
        v = {"name": name, "record": rec("ok-" + name, src, ev, principal=principal, **kw), "principal": P,
             "expect": {"outcome": outcome, "actions": actions}}
        if outcome == "used":
            v["expect"]["derived_from"] = "event"
        out.append(v)

    U("s3-list-objects-v2", "s3.amazonaws.com", "ListObjectsV2", ["s3:ListBucket"])
    U("s3-get-object", "s3.amazonaws.com", "GetObject", ["s3:GetObject"])
    U("s3-head-bucket", "s3.amazonaws.com", "HeadBucket", ["s3:ListBucket"])
    U("s3-put-lifecycle", "s3.amazonaws.com", "PutBucketLifecycleConfiguration", ["s3:PutLifecycleConfiguration"])
    U("s3-complete-multipart", "s3.amazonaws.com", "CompleteMultipartUpload", ["s3:PutObject"])
    U("lambda-date-suffix", "lambda.amazonaws.com", "ListFunctions20150331", ["lambda:ListFunctions"])
    U("lambda-invoke", "lambda.amazonaws.com", "Invoke", ["lambda:InvokeFunction"])
    U("cloudwatch-prefix", "monitoring.amazonaws.com", "GetMetricData", ["cloudwatch:GetMetricData"])
    U("ses-prefix", "email.amazonaws.com", "SendRawEmail", ["ses:SendRawEmail"])
    U("dynamodb-streams", "streams.dynamodb.amazonaws.com", "GetRecords", ["dynamodb:GetRecords"])
    U("apigateway-verb", "apigateway.amazonaws.com", "GetResources", ["apigateway:GET"])
    U("cloudfront-date", "cloudfront.amazonaws.com", "GetDistribution2020_05_31", ["cloudfront:GetDistribution"])
    U("ec2-describe", "ec2.amazonaws.com", "DescribeInstances", ["ec2:DescribeInstances"])
    U("iam-list-users", "iam.amazonaws.com", "ListUsers", ["iam:ListUsers"])
    U("sts-assume-role", "sts.amazonaws.com", "AssumeRole", ["sts:AssumeRole"])
    U("sqs-batch", "sqs.amazonaws.com", "DeleteMessageBatch", ["sqs:DeleteMessage"])
    U("sns-batch", "sns.amazonaws.com", "PublishBatch", ["sns:Publish"])
    U("kms-reencrypt", "kms.amazonaws.com", "ReEncrypt", ["kms:ReEncryptFrom", "kms:ReEncryptTo"])
    U("s3-copy-object", "s3.amazonaws.com", "CopyObject", ["s3:GetObject", "s3:PutObject"])
    U("budgets-describe", "budgets.amazonaws.com", "DescribeBudget", ["budgets:ViewBudget"])
    U("tag-prefix", "tagging.amazonaws.com", "GetResources", ["tag:GetResources"])
    U("cloudcontrol", "cloudcontrolapi.amazonaws.com", "GetResource", ["cloudformation:GetResource"])
    U("kafka-genuine-v2", "kafka.amazonaws.com", "ListClustersV2", ["kafka:ListClustersV2"])
    U("sts-caller-identity", "sts.amazonaws.com", "GetCallerIdentity", [], outcome="not_permission")
    U("console-login", "signin.amazonaws.com", "ConsoleLogin", [], outcome="not_permission",
      eventType="AwsConsoleSignIn", responseElements={"ConsoleLogin": "Success"})
    U("other-principal", "s3.amazonaws.com", "ListBuckets", [], outcome="other_principal", principal=OTHER)
    return out


def role_success():
    """Successful calls of role sessions (for `generate --principal ROLE_ARN`)."""
    out = []
    for name, role, who in (("role-session", ROLE, "terraform"), ("identity-center-session", SSO_ROLE, "bob")):
        v = {"name": name, "principal": role, "expect": {"outcome": "used", "actions": ["s3:ListBucket"],
                                                         "derived_from": "event"},
             "record": rec("ok-" + name, "s3.amazonaws.com", "ListObjectsV2", identity=session(role, who))}
        out.append(v)
    return out


def failed_batches_queue_guard():
    """The guard on the failed-batches queue (issue 14). Built after success() so the generated times of every
    earlier vector stay as they were."""
    url = "https://sqs.%s.amazonaws.com/%s/lppg-failed-batches" % (REGION, ACCOUNT)
    return [
        V("guard-purge-failed-batches-queue",
          rec("guard-purge-failed-batches-queue", "sqs.amazonaws.com", "PurgeQueue", "AccessDenied", None,
              {"queueUrl": url}),
          "withheld", ["sqs:PurgeQueue"], "event"),
        V("guard-failed-batches-queue-by-arn",
          rec("guard-failed-batches-queue-by-arn", "sqs.amazonaws.com", "DeleteQueue", "AccessDenied",
              modern("sqs:DeleteQueue", A % ("sqs", "lppg-failed-batches")), {"queueUrl": url}),
          "withheld", ["sqs:DeleteQueue"], "message"),
    ]


def leaving_observation():
    """Calls that would let the observed principal leave observation (issue 24): after them the procedure's calls
    are made by another role or allowed by a group's policies, never denied, never recorded. Appended last."""
    deploy = "arn:aws:iam::%s:role/deploy" % ACCOUNT
    switch = "the procedure switches to role %s" % deploy
    tf = session(ROLE, "terraform")
    group = "arn:aws:iam::%s:group/Developers" % ACCOUNT
    admin_policy = "arn:aws:iam::aws:policy/AdministratorAccess"
    return [
        V("leave-assume-role",
          rec("leave-assume-role", "sts.amazonaws.com", "AssumeRole", "AccessDenied",
              modern("sts:AssumeRole", deploy), {"roleArn": deploy, "roleSessionName": "s"}),
          "withheld", ["sts:AssumeRole"], "message", reason=switch,
          note="STS AssumeRole: the new session is another principal (its calls are not the observed user's)"),
        V("leave-assume-role-role-mode",
          rec("leave-assume-role-role-mode", "sts.amazonaws.com", "AssumeRole", "AccessDenied",
              modern("sts:AssumeRole", deploy, who=tf["arn"]), {"roleArn": deploy, "roleSessionName": "s"},
              identity=tf),
          "withheld", ["sts:AssumeRole"], "message", principal=ROLE, reason="up --allow-role-switch",
          note="role chaining from a session of the generator role"),
        V("leave-assume-role-with-saml",
          rec("leave-assume-role-with-saml", "sts.amazonaws.com", "AssumeRoleWithSAML", "AccessDenied", None,
              {"roleArn": deploy, "principalArn": "arn:aws:iam::%s:saml-provider/corp" % ACCOUNT}),
          "withheld", ["sts:AssumeRoleWithSAML"], "event", reason=switch),
        V("leave-assume-role-with-web-identity",
          rec("leave-assume-role-with-web-identity", "sts.amazonaws.com", "AssumeRoleWithWebIdentity",
              "AccessDenied", None, {"roleArn": deploy, "roleSessionName": "ci"}),
          "withheld", ["sts:AssumeRoleWithWebIdentity"], "event", reason=switch),
        V("leave-assume-role-allowed",
          rec("leave-assume-role-allowed", "sts.amazonaws.com", "AssumeRole", "AccessDenied",
              modern("sts:AssumeRole", deploy), {"roleArn": deploy, "roleSessionName": "s"}),
          "grant", ["sts:AssumeRole"], "message", guard={"allow_role_switch": True}),
        V("leave-allowed-switch-keeps-generator-guard",
          rec("leave-allowed-switch-keeps-generator-guard", "sts.amazonaws.com", "AssumeRole", "AccessDenied",
              modern("sts:AssumeRole", "arn:aws:iam::%s:role/lppg-generator-role" % ACCOUNT),
              {"roleArn": "arn:aws:iam::%s:role/lppg-generator-role" % ACCOUNT, "roleSessionName": "x"}),
          "withheld", ["sts:AssumeRole"], "message", guard={"allow_role_switch": True},
          reason="part of the generator", note="allowing role switches never opens the generator's own roles"),
        V("leave-add-user-to-group",
          rec("leave-add-user-to-group", "iam.amazonaws.com", "AddUserToGroup", "AccessDenied",
              modern("iam:AddUserToGroup", "arn:aws:iam::%s:group/Admins" % ACCOUNT),
              {"groupName": "Admins", "userName": "lppg-user"}),
          "withheld", ["iam:AddUserToGroup"], "message", reason="adds user lppg-user to group Admins",
          note="a group's policies apply to its members (IAM User Guide, IAM user groups)"),
        V("leave-add-other-user-to-group",
          rec("leave-add-other-user-to-group", "iam.amazonaws.com", "AddUserToGroup", "AccessDenied",
              modern("iam:AddUserToGroup", "arn:aws:iam::%s:group/Admins" % ACCOUNT),
              {"groupName": "Admins", "userName": "bob"}),
          "grant", ["iam:AddUserToGroup"], "message", note="another user joining a group is the procedure's own"),
        V("leave-attach-policy-to-own-group",
          rec("leave-attach-policy-to-own-group", "iam.amazonaws.com", "AttachGroupPolicy", "AccessDenied",
              modern("iam:AttachGroupPolicy", group), {"groupName": "Developers", "policyArn": admin_policy}),
          "withheld", ["iam:AttachGroupPolicy"], "message", reason="group Developers, which user lppg-user is in"),
        V("leave-put-policy-on-own-group",
          rec("leave-put-policy-on-own-group", "iam.amazonaws.com", "PutGroupPolicy", "AccessDenied", None,
              {"groupName": "Developers", "policyName": "more", "policyDocument": "{}"}),
          "withheld", ["iam:PutGroupPolicy"], "event", reason="group Developers, which user lppg-user is in"),
        V("leave-attach-policy-to-other-group",
          rec("leave-attach-policy-to-other-group", "iam.amazonaws.com", "AttachGroupPolicy", "AccessDenied",
              modern("iam:AttachGroupPolicy", "arn:aws:iam::%s:group/Auditors" % ACCOUNT),
              {"groupName": "Auditors", "policyArn": admin_policy}),
          "grant", ["iam:AttachGroupPolicy"], "message"),
        V("leave-passrole-stays-granted",
          rec("leave-passrole-stays-granted", "lambda.amazonaws.com", "CreateFunction20150331",
              "AccessDeniedException", modern("iam:PassRole", deploy),
              {"functionName": "app", "role": deploy, "runtime": "python3.12"}),
          "grant", ["iam:PassRole"], "message", note="a role handed to a service is not a switch of the principal"),
    ]


def probe_source():
    """A record with the probe's event source (`probe.lppg.invalid`, no AWS service's) is never granted, marked as a
    probe or not (issue 24: an unrecognised probe used to grant lppg:Probe). Appended last."""
    tf = session(ROLE, "lppg-probe")
    return [
        V("probe-source-unmarked",
          rec("probe-source-unmarked", "probe.lppg.invalid", "Probe", "AccessDenied", modern("lppg:Probe", tail="")),
          "not_permission"),
        V("probe-source-role-session",
          rec("probe-source-role-session", "probe.lppg.invalid", "Probe", "AccessDenied",
              modern("lppg:Probe", who=tf["arn"], tail=""), identity=tf, lppgProbe="lppg-probe-1"),
          "not_permission", principal=ROLE,
          note="the engines never grant it; the function answers a marked one with a probe line before the rules"),
    ]


def write_jsonl(name, rows):
    with open(os.path.join(HERE, name), "w", encoding="utf-8", newline="\n") as f:
        for r in rows:
            f.write(json.dumps(r, sort_keys=False, separators=(",", ":")) + "\n")


def stmt(sid, actions, resource):
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource}


def RV(name, record, actions, evidence, observed, scoped, not_allowed=(), note=None):
    """A resource vector: the record's evidence, then the statements under --resources observed and scoped (one
    Statement list each, as `lppg generate --denied` writes them for this record alone), and ARNs of the same
    resource type in another account or under another name that the scoped statements must not allow."""
    v = {"name": name, "record": record, "principal": P,
         "expect": {"actions": list(actions), "evidence": list(evidence), "observed": observed, "scoped": scoped,
                    "not_allowed": list(not_allowed)}}
    if note:
        v["note"] = note
    return v


def resources():
    """tests/vectors/resources.json: records -> evidence -> statements (issue 12)."""
    a, r = ACCOUNT, "eu-west-1"
    denied = "AccessDenied"
    obj = "arn:aws:s3:::team-data/reports/2026/q1.csv"
    inst = "arn:aws:ec2:%s:%s:instance/i-0abc1234def567890" % (r, a)
    fn = "arn:aws:lambda:%s:%s:function:orders-handler" % (r, a)
    table = "arn:aws:dynamodb:%s:%s:table/orders" % (r, a)
    secret = "arn:aws:secretsmanager:%s:%s:secret:prod/db-password-AbC123" % (r, a)
    key = "arn:aws:kms:%s:%s:key/1234abcd-12ab-34cd-56ef-1234567890ab" % (r, a)
    role = "arn:aws:iam::%s:role/service/app-role" % a
    queue_url = "https://sqs.%s.amazonaws.com/%s/orders" % (r, a)
    queue = "arn:aws:sqs:%s:%s:orders" % (r, a)
    return [
        RV("s3-object-quoted-in-message",
           rec("rv-s3-object", "s3.amazonaws.com", "GetObject", denied, modern("s3:GetObject", '"%s"' % obj),
               {"bucketName": "team-data", "key": "reports/2026/q1.csv", "Host": "team-data.s3.amazonaws.com"}),
           ["s3:GetObject"], [obj, "bucketName=team-data", "key=reports/2026/q1.csv"],
           [stmt("S3", ["s3:GetObject"], [obj])], [stmt("S3", ["s3:GetObject"], ["arn:aws:s3:::team-data/*"])],
           ["arn:aws:s3:::other-bucket/reports/2026/q1.csv"],
           note="the object key becomes *, the bucket stays; S3 ARNs carry no account"),
        RV("s3-bucket-from-request-parameters",
           rec("rv-s3-bucket", "s3.amazonaws.com", "ListObjectsV2", denied, "Access Denied",
               {"bucketName": "team-data", "list-type": "2", "prefix": ""}),
           ["s3:ListBucket"], ["bucketName=team-data"],
           [stmt("S3", ["s3:ListBucket"], ["arn:aws:s3:::team-data"])],
           [stmt("S3", ["s3:ListBucket"], ["arn:aws:s3:::team-data"])],
           ["arn:aws:s3:::other-bucket"], note="a generic message: the bucket comes from requestParameters"),
        RV("ec2-instance-id-generated",
           rec("rv-ec2", "ec2.amazonaws.com", "StartInstances", "Client.UnauthorizedOperation",
               modern("ec2:StartInstances", inst),
               {"instancesSet": {"items": [{"instanceId": "i-0abc1234def567890"}]}}),
           ["ec2:StartInstances"], [inst],
           [stmt("Ec2", ["ec2:StartInstances"], [inst])],
           [stmt("Ec2", ["ec2:StartInstances"], ["arn:aws:ec2:%s:%s:instance/*" % (r, a)])],
           ["arn:aws:ec2:%s:210987654321:instance/i-0abc1234def567890" % r,
            "arn:aws:ec2:us-east-1:%s:instance/i-0abc1234def567890" % a]),
        RV("lambda-function-name-kept",
           rec("rv-lambda", "lambda.amazonaws.com", "Invoke", "AccessDeniedException",
               modern("lambda:InvokeFunction", fn), {"functionName": "orders-handler"}),
           ["lambda:InvokeFunction"], [fn, "functionName=orders-handler"],
           [stmt("Lambda", ["lambda:InvokeFunction"], [fn])], [stmt("Lambda", ["lambda:InvokeFunction"], [fn])],
           [fn.replace(a, "210987654321"), fn.replace("orders-handler", "billing-handler")]),
        RV("dynamodb-table-name-kept",
           rec("rv-dynamodb", "dynamodb.amazonaws.com", "GetItem", "AccessDeniedException",
               modern("dynamodb:GetItem", table), {"tableName": "orders", "key": {"id": {"S": "1"}}}),
           ["dynamodb:GetItem"], [table, "tableName=orders"],
           [stmt("Dynamodb", ["dynamodb:GetItem"], [table])], [stmt("Dynamodb", ["dynamodb:GetItem"], [table])],
           [table.replace(a, "210987654321"), table.replace("orders", "invoices")],
           note="a non-string requestParameters.key is not evidence"),
        RV("secret-random-suffix",
           rec("rv-secret", "secretsmanager.amazonaws.com", "GetSecretValue", "AccessDeniedException",
               modern("secretsmanager:GetSecretValue", secret), {"secretId": "prod/db-password"}),
           ["secretsmanager:GetSecretValue"], [secret, "secretId=prod/db-password"],
           [stmt("Secretsmanager", ["secretsmanager:GetSecretValue"], [secret])],
           [stmt("Secretsmanager", ["secretsmanager:GetSecretValue"], [secret.replace("AbC123", "??????")])],
           [secret.replace(a, "210987654321"), secret.replace("db-password", "api-token")]),
        RV("kms-key-from-resources",
           rec("rv-kms", "kms.amazonaws.com", "Decrypt", "AccessDeniedException",
               "User: %s is not authorized to perform: kms:Decrypt" % P, {"encryptionAlgorithm": "SYMMETRIC_DEFAULT"},
               resources=[{"accountId": a, "type": "AWS::KMS::Key", "ARN": key}]),
           ["kms:Decrypt"], [key],
           [stmt("Kms", ["kms:Decrypt"], [key])], [stmt("Kms", ["kms:Decrypt"], [key])],
           [key.replace(a, "210987654321"), key.replace("1234abcd", "9999abcd")],
           note="no resource in the message: CloudTrail's resources[] names the key"),
        RV("role-with-path",
           rec("rv-passrole", "ec2.amazonaws.com", "RunInstances", "Client.UnauthorizedOperation",
               modern("iam:PassRole", role), {"instanceType": "t3.micro"}),
           ["iam:PassRole"], [role],
           [stmt("Iam", ["iam:PassRole"], [role])], [stmt("Iam", ["iam:PassRole"], [role])],
           [role.replace(a, "210987654321"), role.replace("app-role", "admin-role")]),
        RV("sqs-queue-url",
           rec("rv-sqs", "sqs.amazonaws.com", "SendMessage", denied,
               "Access to the resource %s is denied." % queue_url, {"queueUrl": queue_url, "messageBody": "x"}),
           ["sqs:SendMessage"], ["queueUrl=" + queue_url],
           [stmt("Sqs", ["sqs:SendMessage"], [queue])], [stmt("Sqs", ["sqs:SendMessage"], [queue])],
           [queue.replace(a, "210987654321"), queue.replace("orders", "payments")],
           note="a generic SQS message: the queue URL is read as the queue's ARN"),
        RV("star-only-action",
           rec("rv-star", "s3.amazonaws.com", "ListBuckets", denied, modern("s3:ListAllMyBuckets", "*"), None),
           ["s3:ListAllMyBuckets"], [],
           [stmt("S3", ["s3:ListAllMyBuckets"], "*")], [stmt("S3", ["s3:ListAllMyBuckets"], "*")]),
        RV("foreign-arn-falls-back",
           rec("rv-foreign", "sqs.amazonaws.com", "SendMessage", denied,
               modern("sqs:SendMessage", "arn:aws:s3:::not-a-queue"), None),
           ["sqs:SendMessage"], ["arn:aws:s3:::not-a-queue"],
           [stmt("Sqs", ["sqs:SendMessage"], "*")], [stmt("Sqs", ["sqs:SendMessage"], "*")],
           note="an ARN of a type the action does not accept is never emitted"),
        RV("malformed-arn-falls-back",
           rec("rv-malformed", "s3.amazonaws.com", "GetObject", denied, modern("s3:GetObject", "arn:aws:s3:::"),
               None),
           ["s3:GetObject"], ["arn:aws:s3:::"],
           [stmt("S3", ["s3:GetObject"], "*")], [stmt("S3", ["s3:GetObject"], "*")]),
    ]


def write_resources():
    doc = {"description": "Resource evidence and least privilege on resources (issue 12): each record's evidence "
                          "(what the function writes in a decision line's resources, and what generate reads), "
                          "then the statements of --resources observed and scoped. Evidence: "
                          "tests/python/test_vectors.py and tests/resource_vectors.rs; statements and not_allowed: "
                          "tests/resource_vectors.rs. Built by build_vectors.py.",
           "vectors": resources()}
    with open(os.path.join(HERE, "resources.json"), "w", encoding="utf-8", newline="\n") as f:
        f.write('{"description": %s,\n "vectors": [\n' % json.dumps(doc["description"]))
        f.write(",\n".join("  " + json.dumps(v, separators=(",", ":")) for v in doc["vectors"]))
        f.write("\n ]}\n")

# Sources of the denial-kind vectors (issue 21). Records quoted from a public source keep its message verbatim.
IAM_GUIDE = ("IAM User Guide, 'Troubleshoot access denied error messages' (message forms: 'because no <type> policy "
             "allows the <action> action', 'with an explicit deny in a <type> policy'); values ours")
IAM_GUIDE_SCP_NOTE = ("IAM User Guide, 'Troubleshoot access denied error messages', note: an SCP denial can read "
                      "'due to an explicit deny in a Service Control Policy'; values ours")
ARN_BLOG = ("AWS Security Blog, 'Enhanced access denied error messages with policy ARNs' (the denying policy's ARN "
            "after a colon)")
REPOST_SCP = ("AWS re:Post Knowledge Center, 'How do I troubleshoot explicit deny in a service control policy "
              "errors?' (message verbatim)")
SCP_ARN = "arn:aws:organizations::111111111111:policy/o-exampleorg1/service_control_policy/p-examplescp"
RCP_ARN = "arn:aws:organizations::111111111111:policy/o-exampleorg1/resource_control_policy/p-examplercp"
BOUNDARY_ARN = "arn:aws:iam::%s:policy/DeveloperBoundary" % ACCOUNT


def denial_kind_cases():
    """Which kind of policy refused the call (issue 21): every message form, for every kind. Implicit denies by an
    SCP, RCP, permissions boundary, session policy or VPC endpoint policy are `blocked` (an identity policy cannot
    fix them); a resource-based policy's is granted and flagged; explicit denies carry the kind and ARN."""
    out = []
    add = out.append

    def K(name, record, outcome, actions, denied_by, policy=None, reason=None, source=IAM_GUIDE, principal=P,
          note=None):
        v = V(name, record, outcome, actions, "message", note=note, principal=principal)
        v["expect"]["denied_by"] = denied_by
        v["expect"]["denied_by_policy"] = policy
        if reason is not None:
            v["expect"]["reason"] = reason
        v["source"] = source
        return v

    def fix(who, action):
        return "an identity policy cannot fix this: %s must allow %s" % (who, action)

    # ---- implicit deny: granted ----------------------------------------------------------------
    n = "kind-identity-based-lower-case"
    add(K(n, rec(n, "sqs.amazonaws.com", "ListQueues", "AccessDenied",
                 modern("sqs:listqueues", "arn:aws:sqs:%s:%s:*" % (REGION, ACCOUNT))),
          "grant", ["sqs:ListQueues"], "identity_based_policy", reason="",
          note="the principal's own policy lacks the allow: the only kind a grant fixes"))
    n = "kind-none-named"
    add(K(n, rec(n, "sqs.amazonaws.com", "ListQueues", "AccessDenied", modern("sqs:ListQueues", None, tail=None)),
          "grant", ["sqs:ListQueues"], None, reason="", note="older messages name no kind: granted, as before"))
    n = "kind-resource-based-kms"
    key = A % ("kms", "key/1234abcd-12ab-34cd-56ef-1234567890ab")
    add(K(n, rec(n, "kms.amazonaws.com", "Decrypt", "AccessDeniedException",
                 modern("kms:Decrypt", key, "because no resource-based policy allows the kms:Decrypt action")),
          "grant", ["kms:Decrypt"], "resource_based_policy", reason="the resource's own policy must also allow it",
          note="granted (the principal's own allow is still needed across accounts and for KMS keys) and flagged"))
    # ---- implicit deny by another kind of policy: blocked ----------------------------------------
    n = "kind-scp-implicit"
    add(K(n, rec(n, "sqs.amazonaws.com", "ListQueues", "AccessDenied",
                 modern("sqs:ListQueues", None, "because no service control policy allows the {a} action")),
          "blocked", ["sqs:ListQueues"], "service_control_policy",
          reason=fix("a service control policy", "sqs:ListQueues")))
    n = "kind-scp-implicit-with-arn"
    add(K(n, rec(n, "sqs.amazonaws.com", "CreateQueue", "AccessDenied",
                 modern("sqs:CreateQueue", A % ("sqs", "orders"),
                        "because no service control policy allows the {a} action: " + SCP_ARN)),
          "blocked", ["sqs:CreateQueue"], "service_control_policy", SCP_ARN,
          fix("the service control policy p-examplescp", "sqs:CreateQueue"), source=IAM_GUIDE + "; " + ARN_BLOG))
    n = "kind-rcp-implicit-quoted-resource"
    add(K(n, rec(n, "s3.amazonaws.com", "GetObject", "AccessDenied",
                 modern("s3:GetObject", '"arn:aws:s3:::reports-bucket/q1.csv"',
                        "because no resource control policy allows the {a} action"),
                 {"bucketName": "reports-bucket", "key": "q1.csv"}),
          "blocked", ["s3:GetObject"], "resource_control_policy",
          reason=fix("a resource control policy", "s3:GetObject")))
    n = "kind-boundary-implicit-mixed-case"
    add(K(n, rec(n, "sns.amazonaws.com", "ListTopics", "AuthorizationError",
                 modern("SNS:ListTopics", A % ("sns", "*"), "because no permissions boundary allows the {a} action")),
          "blocked", ["sns:ListTopics"], "permissions_boundary", reason=fix("a permissions boundary", "sns:ListTopics"),
          note="IAM prefixes are case-insensitive: SNS:ListTopics is sns:ListTopics"))
    n = "kind-boundary-implicit-with-arn"
    add(K(n, rec(n, "ec2.amazonaws.com", "RunInstances", "Client.UnauthorizedOperation",
                 modern("ec2:RunInstances", A % ("ec2", "instance/*"),
                        "because no permissions boundary allows the {a} action: " + BOUNDARY_ARN)),
          "blocked", ["ec2:RunInstances"], "permissions_boundary", BOUNDARY_ARN,
          fix("the permissions boundary DeveloperBoundary", "ec2:RunInstances"), source=IAM_GUIDE + "; " + ARN_BLOG))
    tf = session(ROLE, "terraform")
    n = "kind-session-policy-implicit"
    add(K(n, rec(n, "dynamodb.amazonaws.com", "DescribeTable", "AccessDeniedException",
                 modern("dynamodb:DescribeTable", A % ("dynamodb", "table/orders"),
                        "because no session policy allows the {a} action", who=tf["arn"]),
                 {"tableName": "orders"}, identity=tf),
          "blocked", ["dynamodb:DescribeTable"], "session_policy", principal=ROLE,
          reason=fix("a session policy", "dynamodb:DescribeTable"),
          note="a session policy passed to AssumeRole narrows the role's session"))
    n = "kind-vpc-endpoint-implicit"
    add(K(n, rec(n, "s3.amazonaws.com", "PutObject", "AccessDenied",
                 modern("s3:PutObject", '"arn:aws:s3:::uploads-bucket/b.txt"',
                        "because no VPC endpoint policy allows the {a} action"),
                 {"bucketName": "uploads-bucket", "key": "b.txt"}),
          "blocked", ["s3:PutObject"], "vpc_endpoint_policy", reason=fix("a VPC endpoint policy", "s3:PutObject")))
    # ---- explicit deny: reported with the kind and ARN ---------------------------------------------
    matt = "arn:aws:iam::123456789012:user/Matt"
    n = "kind-scp-explicit-arn-blog"
    add(K(n, rec(n, "iam.amazonaws.com", "ListRoles", "AccessDenied",
                 "User: arn:aws:iam::123456789012:user/Matt is not authorized to perform: iam:ListRoles on resource: "
                 "arn:aws:iam::123456789012:role/* with an explicit deny in a service control policy: "
                 "arn:aws:organizations::987654321098:policy/o-qv5af4abcd/service_control_policy/p-2kgnabcd",
                 principal=matt),
          "explicit_deny", ["iam:ListRoles"], "service_control_policy",
          "arn:aws:organizations::987654321098:policy/o-qv5af4abcd/service_control_policy/p-2kgnabcd",
          source=ARN_BLOG + " (message verbatim)", principal=matt))
    tom_role = "arn:aws:iam::999888777666:role/ReadOnly"
    tom = {"type": "AssumedRole", "principalId": "AROA4EXAMPLEROLEID09:Tom",
           "arn": "arn:aws:sts::999888777666:assumed-role/ReadOnly/Tom", "accountId": "999888777666",
           "accessKeyId": "ASIA4EXAMPLEKEY00009",
           "sessionContext": {"sessionIssuer": {"type": "Role", "principalId": "AROA4EXAMPLEROLEID09",
                                                "arn": tom_role, "accountId": "999888777666",
                                                "userName": "ReadOnly"},
                              "webIdFederationData": {},
                              "attributes": {"creationDate": "2026-03-01T09:58:12Z", "mfaAuthenticated": "false"}}}
    n = "kind-scp-explicit-encoded-repost"
    add(K(n, rec(n, "ec2.amazonaws.com", "RunInstances", "Client.UnauthorizedOperation",
                 "You are not authorized to perform this operation. User: arn:aws:sts::999888777666:assumed-role/"
                 "ReadOnly/Tom is not authorized to perform: ec2:RunInstances on resource: arn:aws:ec2:us-east-1:"
                 "999888777666:instance/* with an explicit deny in a service control policy. Encoded authorization "
                 "failure message: XQ_jqde5rHje6j9P-qke7-HNpHWzSWvxYobhcCPSpfOmLTkOylRBKd0eE4Xx4U_E_ldKR9tvnBpWYTze09"
                 "9CuiTFCVNOgC0ak83nVxE33wnOdmD-NH2GudDwuySmkEbTiBiMkyr0iRCmQqJMQLVvd0TH_Vx7kqDx1M1yKTRwOs7saSO6e_jTH"
                 "FziPsTy8AkJF6kx2x0B3ywr7oX78ev9T-ga_dQ_A7m9Xw9a4ebMbzc", identity=tom),
          "explicit_deny", ["ec2:RunInstances"], "service_control_policy", source=REPOST_SCP, principal=tom_role,
          note="a full stop, not a colon, after the kind: no ARN"))
    n = "kind-scp-explicit-due-to"
    add(K(n, rec(n, "sqs.amazonaws.com", "DeleteQueue", "AccessDenied",
                 modern("sqs:DeleteQueue", A % ("sqs", "orders"), "due to an explicit deny in a Service Control Policy")),
          "explicit_deny", ["sqs:DeleteQueue"], "service_control_policy", source=IAM_GUIDE_SCP_NOTE))
    n = "kind-rcp-explicit-with-arn"
    add(K(n, rec(n, "s3.amazonaws.com", "GetObject", "AccessDenied",
                 modern("s3:GetObject", '"arn:aws:s3:::reports-bucket/q2.csv"',
                        "with an explicit deny in a resource control policy: " + RCP_ARN),
                 {"bucketName": "reports-bucket", "key": "q2.csv"}),
          "explicit_deny", ["s3:GetObject"], "resource_control_policy", RCP_ARN, source=IAM_GUIDE + "; " + ARN_BLOG))
    n = "kind-boundary-explicit-with-arn"
    add(K(n, rec(n, "iam.amazonaws.com", "CreateUser", "AccessDenied",
                 modern("iam:CreateUser", "arn:aws:iam::%s:user/new-user" % ACCOUNT,
                        "with an explicit deny in a permissions boundary: " + BOUNDARY_ARN)),
          "explicit_deny", ["iam:CreateUser"], "permissions_boundary", BOUNDARY_ARN,
          source=IAM_GUIDE + "; " + ARN_BLOG))
    n = "kind-identity-explicit-with-arn"
    deny_arn = "arn:aws:iam::%s:policy/DenyProductionData" % ACCOUNT
    add(K(n, rec(n, "dynamodb.amazonaws.com", "Scan", "AccessDeniedException",
                 modern("dynamodb:Scan", A % ("dynamodb", "table/customers"),
                        "with an explicit deny in an identity-based policy: " + deny_arn), {"tableName": "customers"}),
          "explicit_deny", ["dynamodb:Scan"], "identity_based_policy", deny_arn, source=IAM_GUIDE + "; " + ARN_BLOG))
    n = "kind-session-explicit"
    add(K(n, rec(n, "lambda.amazonaws.com", "DeleteFunction20150331", "AccessDeniedException",
                 modern("lambda:DeleteFunction", A % ("lambda", "function:billing"),
                        "with an explicit deny in a session policy", who=tf["arn"]),
                 {"functionName": "billing"}, identity=tf),
          "explicit_deny", ["lambda:DeleteFunction"], "session_policy", principal=ROLE))
    n = "kind-vpc-endpoint-explicit"
    add(K(n, rec(n, "s3.amazonaws.com", "DeleteObject", "AccessDenied",
                 modern("s3:DeleteObject", '"arn:aws:s3:::uploads-bucket/c.txt"',
                        "with an explicit deny in a VPC endpoint policy"),
                 {"bucketName": "uploads-bucket", "key": "c.txt"}),
          "explicit_deny", ["s3:DeleteObject"], "vpc_endpoint_policy"))
    n = "kind-resource-based-explicit"
    add(K(n, rec(n, "sqs.amazonaws.com", "SendMessage", "AccessDenied",
                 modern("sqs:SendMessage", A % ("sqs", "orders"), "with an explicit deny in a resource-based policy"),
                 {"queueUrl": "https://sqs.%s.amazonaws.com/%s/orders" % (REGION, ACCOUNT)}),
          "explicit_deny", ["sqs:SendMessage"], "resource_based_policy"))
    # ---- the guard still comes first ---------------------------------------------------------------
    n = "kind-blocked-on-guarded-target"
    add(K(n, rec(n, "iam.amazonaws.com", "AttachUserPolicy", "AccessDenied",
                 modern("iam:AttachUserPolicy", P, "because no permissions boundary allows the {a} action"),
                 {"userName": "lppg-user", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"}),
          "withheld", ["iam:AttachUserPolicy"], None,
          note="the generator's own resources are withheld before the denial's kind is read"))
    return out


def fast_path_guard():
    """The guard entries the fast path added to LPPG_GUARD (issue 22): the rules of every region, all named
    <stack>-fast-path (by the message's ARN, by requestParameters.name and .rule), and the forwarder stacks' roles;
    a rule of the procedure's own stays granted."""
    out = []
    rule = lambda region: "arn:aws:events:%s:%s:rule/lppg-fast-path" % (region, ACCOUNT)  # noqa: E731
    out.append(V("guard-fast-path-disable-home-rule",
                 rec("guard-fast-path-disable-home-rule", "events.amazonaws.com", "DisableRule", "AccessDeniedException",
                     modern("events:DisableRule", rule(REGION)), {"name": "lppg-fast-path"}),
                 "withheld", ["events:DisableRule"], "message"))
    out.append(V("guard-fast-path-forwarder-rule-other-region",
                 rec("guard-fast-path-forwarder-rule-other-region", "events.amazonaws.com", "PutTargets",
                     "AccessDeniedException", modern("events:PutTargets", rule("ap-southeast-2")),
                     {"rule": "lppg-fast-path", "targets": [{"id": "home-bus", "arn": "arn:aws:sqs:ap-southeast-2:%s:mine"
                                                             % ACCOUNT}]}, awsRegion="ap-southeast-2"),
                 "withheld", ["events:PutTargets"], "message",
                 note="a forwarder's rule in another region: the guard's ARN pattern covers every region"))
    out.append(V("guard-fast-path-remove-targets-by-rule-param",
                 rec("guard-fast-path-remove-targets-by-rule-param", "events.amazonaws.com", "RemoveTargets",
                     "AccessDeniedException", None, {"rule": "lppg-fast-path", "ids": ["generator"]}),
                 "withheld", ["events:RemoveTargets"], "event",
                 note="no resource in the message: requestParameters.rule names the rule"))
    out.append(V("guard-fast-path-delete-rule-by-name-param",
                 rec("guard-fast-path-delete-rule-by-name-param", "events.amazonaws.com", "DeleteRule",
                     "AccessDeniedException", None, {"name": "lppg-fast-path", "force": True}, awsRegion="eu-west-1"),
                 "withheld", ["events:DeleteRule"], "event"))
    out.append(V("guard-forwarder-role-policy",
                 rec("guard-forwarder-role-policy", "iam.amazonaws.com", "PutRolePolicy", "AccessDenied",
                     modern("iam:PutRolePolicy", "arn:aws:iam::%s:role/lppg-forwarder-eu-west-1" % ACCOUNT),
                     {"roleName": "lppg-forwarder-eu-west-1", "policyName": "x", "policyDocument": "{}"}),
                 "withheld", ["iam:PutRolePolicy"], "message"))
    out.append(V("guard-passrole-forwarder-role",
                 rec("guard-passrole-forwarder-role", "events.amazonaws.com", "PutTargets", "AccessDeniedException",
                     modern("iam:PassRole", "arn:aws:iam::%s:role/lppg-forwarder-us-west-2" % ACCOUNT),
                     {"rule": "my-app-rule", "targets": [{"id": "t", "arn": "arn:aws:events:us-east-1:%s:event-bus/default"
                                                          % ACCOUNT, "roleArn": "arn:aws:iam::%s:role/lppg-forwarder-"
                                                          "us-west-2" % ACCOUNT}]}),
                 "withheld", ["iam:PassRole"], "message",
                 note="handing a forwarder's role to a rule of one's own"))
    out.append(G("events-own-rule-not-guarded",
                 rec("events-own-rule-not-guarded", "events.amazonaws.com", "PutRule", "AccessDeniedException",
                     modern("events:PutRule", "arn:aws:events:%s:%s:rule/my-app-rule" % (REGION, ACCOUNT)),
                     {"name": "my-app-rule", "eventPattern": "{}"}),
                 ["events:PutRule"], "message", note="the guard is specific: a rule of the procedure's own is granted"))
    return out


def main():
    # role_cases() last: record boilerplate is numbered in call order, so earlier cases stay byte-identical.
    denied_rows, success_rows = denied(), success()
    denied_rows += failed_batches_queue_guard()
    write_resources()
    role_rows = role_cases()
    success_rows += role_success()
    leaving = leaving_observation() + probe_source()
    # Appended cases run last too, so every earlier record keeps its numbering.
    appended = denial_kind_cases() + fast_path_guard()
    write_jsonl("denied.jsonl", denied_rows + role_rows + leaving + appended)
    write_jsonl("success.jsonl", success_rows)
    with open(os.path.join(HERE, "guard.json"), "w", encoding="utf-8", newline="\n") as f:
        json.dump(guard(), f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main()
