#!/usr/bin/env python3
"""Writes a reproducible synthetic CloudTrail tree, laid out as CloudTrail delivers it to S3.

    bench/gen_trail.py OUT_DIR [--records N] [--files N] [--seed S] [--jobs J]

AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<id>.json.gz, each
`{"Records":[...]}` on one line, gzip-compressed. Records look like real management and data events: ~40
principals (IAM users and assumed-role sessions, with their session context, web-identity and EC2 role delivery),
~60 services with their usual calls, ~3% errors (access denied with modern and generic messages, throttling, not
found), and the fields real records carry: requestParameters, responseElements, resources, additionalEventData,
tlsDetails, VPC endpoints, real SDK user agents. About 1.6 KB of JSON per record on average, like the issue's tree
(1.62 GB for 1,000,246 records); no padding.
The same seed always writes the same bytes. Standard library only.
"""

import argparse
import gzip
import json
import os
import random
import sys
from datetime import datetime, timedelta, timezone
from multiprocessing import Pool

ACCOUNT = "111122223333"
REGIONS = ["us-east-1", "eu-west-1"]
# The principal the benchmark selects: an assumed role with ~6% of the records.
BENCH_ROLE = f"arn:aws:iam::{ACCOUNT}:role/ci-deploy"

CALLS = {
    "s3.amazonaws.com": ["GetObject", "PutObject", "HeadObject", "ListObjects", "ListObjectsV2", "HeadBucket",
                         "ListBuckets", "GetBucketLocation", "GetBucketPolicy", "PutBucketTagging",
                         "DeleteObject", "CopyObject", "GetBucketEncryption", "GetBucketVersioning"],
    "ec2.amazonaws.com": ["DescribeInstances", "DescribeSecurityGroups", "DescribeSubnets", "DescribeVpcs",
                          "RunInstances", "TerminateInstances", "CreateTags", "DescribeImages",
                          "DescribeVolumes", "AuthorizeSecurityGroupIngress", "DescribeRegions"],
    "iam.amazonaws.com": ["GetRole", "ListRoles", "GetPolicy", "GetPolicyVersion", "ListAttachedRolePolicies",
                          "CreateRole", "AttachRolePolicy", "PassRole", "ListUsers", "GetUser"],
    "sts.amazonaws.com": ["AssumeRole", "GetCallerIdentity", "GetSessionToken"],
    "lambda.amazonaws.com": ["ListFunctions20150331", "GetFunction20150331v2", "Invoke",
                             "UpdateFunctionCode20150331v2", "GetAccountSettings20160819",
                             "CreateFunction20150331", "ListTags20170331"],
    "dynamodb.amazonaws.com": ["DescribeTable", "ListTables", "CreateTable", "UpdateTable", "DescribeEndpoints",
                               "DescribeTimeToLive"],
    "kms.amazonaws.com": ["Decrypt", "Encrypt", "GenerateDataKey", "DescribeKey", "ListAliases", "ListKeys"],
    "monitoring.amazonaws.com": ["PutMetricData", "GetMetricData", "DescribeAlarms", "PutMetricAlarm",
                                 "ListMetrics"],
    "logs.amazonaws.com": ["CreateLogStream", "DescribeLogGroups", "DescribeLogStreams", "CreateLogGroup",
                           "PutRetentionPolicy", "FilterLogEvents"],
    "cloudformation.amazonaws.com": ["DescribeStacks", "CreateStack", "UpdateStack", "DescribeStackEvents",
                                     "ListStacks", "GetTemplate", "CreateChangeSet", "ExecuteChangeSet"],
    "sqs.amazonaws.com": ["GetQueueAttributes", "ListQueues", "CreateQueue", "SetQueueAttributes"],
    "sns.amazonaws.com": ["ListTopics", "Publish", "GetTopicAttributes", "Subscribe"],
    "ssm.amazonaws.com": ["GetParameter", "GetParameters", "PutParameter", "DescribeParameters",
                          "GetParametersByPath"],
    "secretsmanager.amazonaws.com": ["GetSecretValue", "DescribeSecret", "ListSecrets"],
    "ecr.amazonaws.com": ["GetAuthorizationToken", "BatchGetImage", "DescribeRepositories",
                          "BatchCheckLayerAvailability", "PutImage"],
    "ecs.amazonaws.com": ["DescribeServices", "UpdateService", "ListClusters", "DescribeTaskDefinition",
                          "RegisterTaskDefinition", "ListTasks"],
    "elasticloadbalancing.amazonaws.com": ["DescribeLoadBalancers", "DescribeTargetGroups",
                                           "DescribeTargetHealth", "RegisterTargets"],
    "autoscaling.amazonaws.com": ["DescribeAutoScalingGroups", "UpdateAutoScalingGroup",
                                  "DescribeScalingActivities"],
    "route53.amazonaws.com": ["ListHostedZones", "ChangeResourceRecordSets", "GetChange",
                              "ListResourceRecordSets"],
    "cloudfront.amazonaws.com": ["ListDistributions2020_05_31", "GetDistribution2020_05_31",
                                 "CreateInvalidation2020_05_31"],
    "apigateway.amazonaws.com": ["GetRestApis", "GetResources", "CreateDeployment", "UpdateStage"],
    "events.amazonaws.com": ["PutEvents", "ListRules", "PutRule", "DescribeRule"],
    "states.amazonaws.com": ["StartExecution", "DescribeExecution", "ListStateMachines"],
    "elasticfilesystem.amazonaws.com": ["DescribeFileSystems", "DescribeMountTargets"],
    "rds.amazonaws.com": ["DescribeDBInstances", "DescribeDBClusters", "CreateDBSnapshot",
                          "DescribeDBSnapshots"],
    "cloudtrail.amazonaws.com": ["LookupEvents", "DescribeTrails", "GetTrailStatus"],
    "config.amazonaws.com": ["DescribeConfigRules", "PutEvaluations", "DescribeComplianceByConfigRule"],
    "glue.amazonaws.com": ["GetTable", "GetDatabase", "GetPartitions", "StartJobRun"],
    "athena.amazonaws.com": ["StartQueryExecution", "GetQueryExecution", "GetQueryResults"],
    "kinesis.amazonaws.com": ["DescribeStream", "ListStreams", "PutRecords"],
    "email.amazonaws.com": ["SendEmail", "GetSendQuota", "ListIdentities"],
    "tagging.amazonaws.com": ["GetResources", "TagResources"],
    "streams.dynamodb.amazonaws.com": ["DescribeStream", "GetShardIterator", "GetRecords"],
    "codebuild.amazonaws.com": ["StartBuild", "BatchGetBuilds", "ListProjects"],
    "codepipeline.amazonaws.com": ["GetPipelineState", "StartPipelineExecution", "ListPipelines"],
    "eks.amazonaws.com": ["DescribeCluster", "ListClusters", "ListNodegroups"],
    "acm.amazonaws.com": ["DescribeCertificate", "ListCertificates"],
    "wafv2.amazonaws.com": ["GetWebACL", "ListWebACLs"],
    "guardduty.amazonaws.com": ["ListDetectors", "GetFindings"],
    "organizations.amazonaws.com": ["DescribeOrganization", "ListAccounts"],
    "elasticache.amazonaws.com": ["DescribeCacheClusters", "DescribeReplicationGroups"],
    "backup.amazonaws.com": ["ListBackupPlans", "StartBackupJob"],
    "health.amazonaws.com": ["DescribeEvents", "DescribeEventAggregates"],
    "signin.amazonaws.com": ["ConsoleLogin"],
    "servicequotas.amazonaws.com": ["GetServiceQuota", "ListServiceQuotas"],
    "xray.amazonaws.com": ["PutTraceSegments", "GetSamplingRules"],
}
SERVICES = sorted(CALLS)
# Busy services get more traffic.
WEIGHTS = [8 if s.split(".")[0] in ("s3", "ec2", "kms", "sts", "logs", "monitoring", "lambda", "dynamodb") else 1
           for s in SERVICES]

AGENTS = [
    "aws-cli/2.15.30 md/awscrt#0.19.19 ua/2.0 os/linux#6.1.79-99.164.amzn2023.x86_64 md/arch#x86_64 lang/python#3.11.8 "
    "md/pyimpl#CPython exe/x86_64.amzn.2023 prompt/off command/{c}",
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.10.213-201.855.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.2 "
    "md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 cfg/retry-mode#legacy Botocore/1.34.69",
    "aws-sdk-go-v2/1.26.0 ua/2.0 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/{c}#1.30.0 m/E,Z",
    "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.42.0 "
    "(+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.26.0 ua/2.0 os/linux lang/go#1.22.1 "
    "md/GOOS#linux md/GOARCH#amd64 api/{c}#1.30.0",
    "aws-sdk-java/2.25.11 Linux/5.10.210-201.852.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS Java/17.0.10 "
    "vendor/Amazon.com_Inc. md/internal io/sync http/Apache cfg/retry-mode/legacy",
    "aws-sdk-js/3.535.0 ua/2.0 os/linux#5.10.213-201.855.amzn2.x86_64 lang/js md/nodejs#20.11.1 "
    "exec-env/AWS_ECS_FARGATE api/{c}#3.535.0",
    "AWS Internal",
    "console.amazonaws.com",
]


def principals(rng):
    out = []
    for i in range(14):
        name = f"user-{i:02d}"
        out.append({"type": "IAMUser", "principalId": "AIDA" + "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", k=17)),
                    "arn": f"arn:aws:iam::{ACCOUNT}:user/{name}", "accountId": ACCOUNT,
                    "accessKeyId": "AKIA" + "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", k=16)),
                    "userName": name})
    roles = ["ci-deploy"] + [f"app-{i:02d}" for i in range(20)] + ["AWSReservedSSO_Admin_0123456789abcdef",
                                                                    "lambda-exec", "ecs-task", "eks-node"]
    for role in roles:
        rid = "AROA" + "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", k=17))
        out.append({"type": "AssumedRole", "role": role, "rid": rid})
    return out


def identity(rng, p, t):
    if p["type"] == "IAMUser":
        ident = dict(p, accessKeyId="AKIA" + "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", k=16)))
        if rng.random() < 0.5:
            ident["sessionContext"] = {"attributes": {
                "creationDate": (t - timedelta(minutes=rng.randint(1, 600))).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "mfaAuthenticated": rng.choice(["true", "false"])}}
        return ident
    role = p["role"]
    if role in ("eks-node", "ecs-task"):
        session = f"i-{hexid(rng, 17)}"
    elif role.startswith("AWSReservedSSO"):
        session = f"jane.doe{rng.randint(0, 40)}@example.com"
    elif role == "ci-deploy":
        session = rng.choice(["GitHubActions", f"gha-{rng.randint(10**9, 10**10)}"])
    else:
        session = rng.choice([f"botocore-session-{rng.randint(1709251200, 1711929600)}", f"session-{hexid(rng, 8)}",
                              role])
    ident = {
        "type": "AssumedRole",
        "principalId": f"{p['rid']}:{session}",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{role}/{session}",
        "accountId": ACCOUNT,
        "accessKeyId": "ASIA" + "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", k=16)),
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "principalId": p["rid"],
                              "arn": f"arn:aws:iam::{ACCOUNT}:role/{role}", "accountId": ACCOUNT,
                              "userName": role},
            "webIdFederationData": {},
            "attributes": {"creationDate": (t - timedelta(minutes=rng.randint(1, 50))).strftime("%Y-%m-%dT%H:%M:%SZ"),
                           "mfaAuthenticated": "false"},
        },
    }
    if role == "ci-deploy":
        ident["sessionContext"]["webIdFederationData"] = {
            "federatedProvider": f"arn:aws:iam::{ACCOUNT}:oidc-provider/token.actions.githubusercontent.com",
            "attributes": {}}
    elif role in ("eks-node", "ecs-task"):
        ident["sessionContext"]["ec2RoleDelivery"] = "2.0"
    elif role.startswith("AWSReservedSSO"):
        ident["sessionContext"]["sourceIdentity"] = session
    return ident


def hexid(rng, n):
    return "".join(rng.choices("0123456789abcdef", k=n))


def uuid(rng):
    h = hexid(rng, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
TABLES = ["orders", "customers", "sessions", "inventory", "payments", "audit-log"]
QUEUES = ["orders-events", "billing-dlq", "email-outbox", "ingest"]
FUNCTIONS = [f"fn-{i}" for i in range(31)]


def b64(rng, n):
    return "".join(rng.choices(B64, k=n))


def stamp(rng):
    return f"2024-03-{rng.randint(1, 28):02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}Z"


def params(rng, prefix, name, region, bucket):
    """requestParameters and resources, shaped like the service's real ones."""
    arn = f"arn:aws:{prefix}:{region}:{ACCOUNT}"
    if prefix == "s3":
        key = f"data/{rng.choice(['raw', 'curated', 'exports'])}/dt=2024-03-{rng.randint(1, 28):02d}/{hexid(rng, 8)}/" \
              f"part-{rng.randint(0, 9999):05d}-{uuid(rng)}.snappy.parquet"
        rp = {"bucketName": bucket, "Host": f"{bucket}.s3.{region}.amazonaws.com", "key": key, "x-id": name}
        if name.startswith("List"):
            rp = {"bucketName": bucket, "Host": f"{bucket}.s3.{region}.amazonaws.com", "list-type": "2",
                  "prefix": key.rsplit("/", 2)[0] + "/", "max-keys": "1000", "encoding-type": "url"}
        return rp, [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/{key}"},
                    {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]
    if prefix == "ec2" and name.startswith("Describe"):
        return {"maxResults": 1000, "filterSet": {"items": [
            {"name": "tag:Environment", "valueSet": {"items": [{"value": rng.choice(["prod", "staging", "dev"])}]}},
            {"name": "instance-state-name", "valueSet": {"items": [{"value": "running"}]}},
            {"name": "vpc-id", "valueSet": {"items": [{"value": f"vpc-{hexid(rng, 17)}"}]}}]},
            "instancesSet": {"items": [{"instanceId": f"i-{hexid(rng, 17)}"} for _ in range(rng.randint(1, 4))]}}, None
    if prefix == "ec2":
        return {"resourcesSet": {"items": [{"resourceId": f"i-{hexid(rng, 17)}"}]},
                "tagSet": {"items": [{"key": "Owner", "value": "platform"}, {"key": "CostCenter",
                                                                           "value": str(rng.randint(1000, 9999))}]}}, None
    if prefix == "iam":
        role = f"app-{rng.randint(0, 19):02d}"
        return {"roleName": role, "policyArn": f"arn:aws:iam::{ACCOUNT}:policy/{role}-access-{hexid(rng, 8)}",
                "pathPrefix": "/service-role/", "maxItems": 100}, \
            [{"accountId": ACCOUNT, "type": "AWS::IAM::Role", "ARN": f"arn:aws:iam::{ACCOUNT}:role/{role}"}]
    if prefix == "kms":
        key = f"{arn}:key/{uuid(rng)}"
        return {"encryptionAlgorithm": "SYMMETRIC_DEFAULT", "keyId": key, "keySpec": "AES_256",
                "encryptionContext": {"aws:lambda:FunctionArn":
                                      f"arn:aws:lambda:{region}:{ACCOUNT}:function:{rng.choice(FUNCTIONS)}"}}, \
            [{"accountId": ACCOUNT, "type": "AWS::KMS::Key", "ARN": key}]
    if prefix == "sts" and name == "AssumeRole":
        return {"roleArn": f"arn:aws:iam::{ACCOUNT}:role/app-{rng.randint(0, 19):02d}",
                "roleSessionName": f"session-{rng.randint(0, 10**6)}", "durationSeconds": 3600}, \
            [{"accountId": ACCOUNT, "type": "AWS::IAM::Role",
              "ARN": f"arn:aws:iam::{ACCOUNT}:role/app-{rng.randint(0, 19):02d}"}]
    if prefix in ("sts", "signin"):
        return None, None
    if prefix == "logs":
        fn = rng.choice(FUNCTIONS)
        rp = {"logGroupName": f"/aws/lambda/{fn}",
              "logStreamName": f"2024/03/{rng.randint(1, 28):02d}/[$LATEST]{hexid(rng, 32)}"}
        if name.startswith(("Describe", "Filter")):
            rp.update({"logStreamNamePrefix": "2024/03/", "startTime": rng.randint(1709251200000, 1711929600000),
                       "endTime": rng.randint(1709251200000, 1711929600000), "limit": 10000,
                       "filterPattern": rng.choice(["ERROR", "?Exception ?Timeout", "{ $.level = \"error\" }"]),
                       "interleaved": True})
        return rp, [{"accountId": ACCOUNT, "type": "AWS::Logs::LogGroup",
                     "ARN": f"arn:aws:logs:{region}:{ACCOUNT}:log-group:/aws/lambda/{fn}"}]
    if prefix == "monitoring":
        if name == "PutMetricData":
            return {"namespace": rng.choice(["App/Orders", "App/Billing", "CWAgent"]), "metricData": [
                {"metricName": m, "dimensions": [{"name": "Service", "value": rng.choice(TABLES)},
                                                 {"name": "InstanceId", "value": f"i-{hexid(rng, 17)}"}],
                 "timestamp": stamp(rng), "value": round(rng.random() * 1000, 3), "unit": u}
                for m, u in rng.sample([("Latency", "Milliseconds"), ("Requests", "Count"), ("Errors", "Count"),
                                        ("mem_used_percent", "Percent")], 2)]}, None
        return {"metricDataQueries": [{"id": "m1", "metricStat": {"metric": {
            "namespace": "AWS/Lambda", "metricName": "Errors",
            "dimensions": [{"name": "FunctionName", "value": rng.choice(FUNCTIONS)}]}, "period": 300, "stat": "Sum"}}],
            "startTime": stamp(rng), "endTime": stamp(rng)}, None
    if prefix == "lambda":
        fn = f"arn:aws:lambda:{region}:{ACCOUNT}:function:{rng.choice(FUNCTIONS)}"
        return {"functionName": fn, "qualifier": "$LATEST"}, \
            [{"accountId": ACCOUNT, "type": "AWS::Lambda::Function", "ARN": fn}]
    if prefix == "dynamodb":
        table = f"arn:aws:dynamodb:{region}:{ACCOUNT}:table/{rng.choice(TABLES)}-{rng.choice(['prod', 'staging'])}"
        rp = {"tableName": table.rsplit("/", 1)[1]}
        if name in ("CreateTable", "UpdateTable"):
            rp.update({"billingMode": "PAY_PER_REQUEST", "attributeDefinitions": [
                {"attributeName": "pk", "attributeType": "S"}, {"attributeName": "sk", "attributeType": "S"}],
                "sSESpecification": {"enabled": True, "sSEType": "KMS"}})
        else:
            rp["exclusiveStartTableName"] = f"{rng.choice(TABLES)}-{rng.choice(['prod', 'staging'])}"
            rp["limit"] = 100
        return rp, \
            [{"accountId": ACCOUNT, "type": "AWS::DynamoDB::Table", "ARN": table}]
    if prefix == "sqs":
        q = f"https://sqs.{region}.amazonaws.com/{ACCOUNT}/{rng.choice(QUEUES)}"
        return {"queueUrl": q, "attributeNames": ["All"]}, \
            [{"accountId": ACCOUNT, "type": "AWS::SQS::Queue", "ARN": f"arn:aws:sqs:{region}:{ACCOUNT}:{q.rsplit('/', 1)[1]}"}]
    if prefix == "ssm" or prefix == "secretsmanager":
        pname = f"/{rng.choice(['prod', 'staging'])}/{rng.choice(TABLES)}/{rng.choice(['db-password', 'api-key', 'url'])}"
        return ({"name": pname, "withDecryption": True} if prefix == "ssm" else
                {"secretId": f"arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:{pname.strip('/')}-{b64(rng, 6)}"}), None
    res = f"{arn}:{rng.choice(['resource', 'project', 'cluster', 'stack'])}/{rng.choice(TABLES)}-{hexid(rng, 12)}"
    if name.startswith(("Describe", "List", "Get")):
        rp = {"resourceArn": res, "maxResults": rng.choice([20, 50, 100]),
              "filters": [{"name": "tag:team", "values": [rng.choice(["platform", "data", "web", "payments"])]},
                          {"name": "status", "values": ["ACTIVE", "PENDING"]},
                          {"name": "tag:Environment", "values": [rng.choice(["prod", "staging", "dev"])]}]}
        if rng.random() < 0.5:
            rp["nextToken"] = b64(rng, rng.choice([44, 88, 152]))
        return rp, None
    return {"resourceArn": res, "clientToken": uuid(rng),
            "tags": [{"key": "Environment", "value": rng.choice(["prod", "staging", "dev"])},
                     {"key": "ManagedBy", "value": "terraform"},
                     {"key": "Repository", "value": f"github.com/example/{rng.choice(TABLES)}-service"},
                     {"key": "CostCenter", "value": str(rng.randint(1000, 9999))}]}, \
        [{"accountId": ACCOUNT, "type": f"AWS::{prefix.capitalize()}::Resource", "ARN": res}]


def response(rng, prefix, name, region):
    """responseElements: null for reads (CloudTrail omits them), a service's answer for some writes."""
    if prefix == "sts" and name == "AssumeRole":
        return {"credentials": {"accessKeyId": "ASIA" + hexid(rng, 16).upper(),
                                "sessionToken": b64(rng, 940),
                                "expiration": "Mar 1, 2024, 1:00:00 PM"},
                "assumedRoleUser": {"assumedRoleId": f"AROA{hexid(rng, 17).upper()}:session",
                                    "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/app/session"}}
    if prefix == "lambda" and name.startswith(("Update", "Create")):
        fn = rng.choice(FUNCTIONS)
        return {"functionName": fn, "functionArn": f"arn:aws:lambda:{region}:{ACCOUNT}:function:{fn}",
                "runtime": "python3.12", "role": f"arn:aws:iam::{ACCOUNT}:role/lambda-exec",
                "handler": "app.handler", "codeSize": rng.randint(10**3, 10**7), "timeout": 30, "memorySize": 512,
                "lastModified": stamp(rng).replace("Z", ".000+0000"), "codeSha256": b64(rng, 43) + "=",
                "version": "$LATEST", "tracingConfig": {"mode": "PassThrough"}, "revisionId": uuid(rng),
                "state": "Active", "lastUpdateStatus": "InProgress", "packageType": "Zip",
                "architectures": ["arm64"], "ephemeralStorage": {"size": 512}}
    if prefix == "kms" and name in ("Decrypt", "Encrypt", "GenerateDataKey"):
        return None
    if prefix == "ec2" and name in ("CreateTags", "AuthorizeSecurityGroupIngress"):
        return {"requestId": uuid(rng), "_return": True}
    if prefix == "logs" and name.startswith("Create"):
        return None
    if name.startswith(("Create", "Put", "Update", "Start", "Run", "Register", "Send", "Publish")):
        return {"requestId": uuid(rng), "id": hexid(rng, 24), "createdAt": stamp(rng)}
    return None


def record(rng, plist, t, region):
    # The benchmark principal makes ~6% of the calls.
    p = plist[14] if rng.random() < 0.06 else rng.choice(plist)
    source = rng.choices(SERVICES, weights=WEIGHTS)[0]
    name = rng.choice(CALLS[source])
    prefix = source.split(".")[0]
    ident = identity(rng, p, t)
    bucket = f"example-bucket-{rng.randint(0, 40)}"
    ua = rng.choice(AGENTS).format(c=f"{prefix}.{name.lower()}")
    rec = {
        "eventVersion": "1.09",
        "userIdentity": ident,
        "eventTime": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": f"{rng.randint(3, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        "userAgent": ua,
        "requestParameters": None,
        "responseElements": None,
        "requestID": uuid(rng),
        "eventID": uuid(rng),
        "readOnly": name.startswith(("Get", "Describe", "List", "Head", "Lookup")),
        "eventType": "AwsApiCall",
        "managementEvent": prefix != "s3" or "Bucket" in name,
        "recipientAccountId": ACCOUNT,
        "eventCategory": "Management",
        "tlsDetails": {"tlsVersion": "TLSv1.3", "cipherSuite": "TLS_AES_128_GCM_SHA256",
                       "clientProvidedHostHeader": f"{prefix}.{region}.amazonaws.com"},
    }
    rp, rsrc = params(rng, prefix, name, region, bucket)
    rec["requestParameters"] = rp
    if rsrc:
        rec["resources"] = rsrc
    rec["responseElements"] = response(rng, prefix, name, region)
    if prefix == "s3":
        rec["tlsDetails"]["clientProvidedHostHeader"] = f"{bucket}.s3.{region}.amazonaws.com"
        rec["requestID"] = hexid(rng, 16).upper()
        rec["additionalEventData"] = {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256",
                                      "bytesTransferredIn": 0, "AuthenticationMethod": "AuthHeader",
                                      "x-amz-id-2": b64(rng, 76), "bytesTransferredOut": rng.randint(0, 10**7)}
        if not rec["managementEvent"]:
            rec["eventCategory"] = "Data"
    if prefix == "sts":
        rec["additionalEventData"] = {"RequestDetails": {"awsServingRegion": region, "endpointType": "regional"}}
    if rng.random() < 0.4:
        rec["tlsDetails"]["tlsVersion"] = "TLSv1.2"
        rec["tlsDetails"]["cipherSuite"] = "ECDHE-RSA-AES128-GCM-SHA256"
    if rng.random() < 0.3:
        rec["vpcEndpointId"] = f"vpce-{hexid(rng, 17)}"
        rec["vpcEndpointAccountId"] = ACCOUNT
    if ua.startswith("AWS Internal"):
        rec["sourceIPAddress"] = rec["userAgent"] = f"{prefix}.amazonaws.com"
        rec["userIdentity"]["invokedBy"] = f"{prefix}.amazonaws.com"
        del rec["tlsDetails"]
    elif ua.startswith("console"):
        rec["sessionCredentialFromConsole"] = "true"
    if prefix == "signin":
        rec["eventType"] = "AwsConsoleSignIn"
        rec["responseElements"] = {"ConsoleLogin": "Success"}
        rec["additionalEventData"] = {"LoginTo": "https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true",
                                      "MobileVersion": "No", "MFAIdentifier": f"arn:aws:iam::{ACCOUNT}:mfa/device",
                                      "MFAUsed": "Yes"}
    roll = rng.random()
    if roll < 0.02:
        action = f"{prefix}:{name}"
        target = rec["requestParameters"] and (rec["requestParameters"].get("resourceArn") or "*")
        principal = ident["arn"]
        if prefix in ("s3", "sqs") and rng.random() < 0.5:
            rec["errorCode"], rec["errorMessage"] = "AccessDenied", "Access Denied"
        else:
            rec["errorCode"] = rng.choice(["AccessDenied", "AccessDeniedException"]) if prefix != "ec2" \
                else "Client.UnauthorizedOperation"
            tail = rng.choice(["because no identity-based policy allows the {a} action",
                               "with an explicit deny in a service control policy"])
            rec["errorMessage"] = (f"User: {principal} is not authorized to perform: {action} on resource: {target} "
                                   + tail.format(a=action))
        rec["responseElements"] = None
    elif roll < 0.03:
        rec["errorCode"] = rng.choice(["ThrottlingException", "ResourceNotFoundException", "NoSuchEntity",
                                       "ValidationException"])
        rec["errorMessage"] = "Rate exceeded" if rec["errorCode"].startswith("Thr") else "The resource was not found."
        rec["responseElements"] = None
    return rec


def write_file(job):
    out, seed, index, region, start, count = job
    rng = random.Random(f"{seed}:{index}")
    plist = principals(random.Random(seed))
    t0 = start
    records = []
    for _ in range(count):
        t = t0 + timedelta(seconds=rng.randint(0, 3599))
        records.append(record(rng, plist, t, region))
    records.sort(key=lambda r: r["eventTime"])
    day = start.strftime("%Y/%m/%d")
    folder = os.path.join(out, "AWSLogs", ACCOUNT, "CloudTrail", region, day)
    os.makedirs(folder, exist_ok=True)
    stamp = (start + timedelta(minutes=5)).strftime("%Y%m%dT%H%MZ")
    name = f"{ACCOUNT}_CloudTrail_{region}_{stamp}_{hexid(rng, 16)}.json.gz"
    body = json.dumps({"Records": records}, separators=(",", ":")).encode()
    path = os.path.join(folder, name)
    with open(path, "wb") as f:
        # mtime=0: the same seed gives the same bytes.
        with gzip.GzipFile(filename="", mode="wb", fileobj=f, compresslevel=6, mtime=0) as gz:
            gz.write(body)
    return path, count, len(body)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--files", type=int, default=3_636)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    per_file = max(1, args.records // args.files)
    extra = args.records - per_file * args.files
    start = datetime(2024, 3, 1, tzinfo=timezone.utc)
    jobs = []
    for i in range(args.files):
        region = REGIONS[i % len(REGIONS)]
        hour = start + timedelta(hours=i // len(REGIONS))
        jobs.append((args.out, args.seed, i, region, hour, per_file + (1 if i < extra else 0)))
    total = size = 0
    os.makedirs(args.out, exist_ok=True)
    with Pool(args.jobs) as pool:
        lines = []
        for path, count, n in pool.imap(write_file, jobs, chunksize=16):
            total += count
            size += n
            lines.append(f"{os.path.relpath(path, args.out)}\t{count}\t{n}\n")
    with open(os.path.join(args.out, ".manifest.tsv"), "w") as f:
        f.writelines(lines)
    print(f"{args.files} files, {total} records, {size} bytes uncompressed, principal {BENCH_ROLE}", file=sys.stderr)


if __name__ == "__main__":
    main()
