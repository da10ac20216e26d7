#!/usr/bin/env python3
"""Writes a reproducible synthetic CloudTrail tree, laid out as CloudTrail delivers it to S3.

    bench/gen_trail.py OUT_DIR [--records N] [--files N] [--seed S] [--jobs J]

AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<account>_CloudTrail_<region>_<YYYYMMDDTHHMMZ>_<id>.json.gz, each
`{"Records":[...]}` on one line, gzip-compressed. Records look like real management and data events: ~40
principals (IAM users and assumed-role sessions), ~60 services with their usual calls, ~3% errors (access denied with
modern and generic messages, throttling, not found), realistic field sets and sizes (about 1.6 KB per record).
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
    "aws-cli/2.15.30 Python/3.11.8 Linux/6.1.79-99.164.amzn2023.x86_64 exe/x86_64.amzn.2023 prompt/off command/{c}",
    "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.10.213-201.855.amzn2.x86_64 md/arch#x86_64 lang/python#3.12.2 "
    "md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69",
    "aws-sdk-go-v2/1.26.0 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64 api/{c}#1.30.0",
    "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) terraform-provider-aws/5.42.0 "
    "(+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.26.0",
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
        return dict(p)
    session = rng.choice(["session-a", "botocore-session-1711111111", "i-0123456789abcdef0", "GitHubActions"])
    return {
        "type": "AssumedRole",
        "principalId": f"{p['rid']}:{session}",
        "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/{p['role']}/{session}",
        "accountId": ACCOUNT,
        "accessKeyId": "ASIA" + "".join(rng.choices("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", k=16)),
        "sessionContext": {
            "sessionIssuer": {"type": "Role", "principalId": p["rid"],
                              "arn": f"arn:aws:iam::{ACCOUNT}:role/{p['role']}", "accountId": ACCOUNT,
                              "userName": p["role"]},
            "webIdFederationData": {},
            "attributes": {"creationDate": (t - timedelta(minutes=rng.randint(1, 50))).strftime("%Y-%m-%dT%H:%M:%SZ"),
                           "mfaAuthenticated": "false"},
        },
    }


def hexid(rng, n):
    return "".join(rng.choices("0123456789abcdef", k=n))


def uuid(rng):
    h = hexid(rng, 32)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def record(rng, plist, t, region):
    # The benchmark principal makes ~6% of the calls.
    p = plist[14] if rng.random() < 0.06 else rng.choice(plist)
    source = rng.choices(SERVICES, weights=WEIGHTS)[0]
    name = rng.choice(CALLS[source])
    prefix = source.split(".")[0]
    ident = identity(rng, p, t)
    bucket = f"example-bucket-{rng.randint(0, 40)}"
    rec = {
        "eventVersion": "1.09",
        "userIdentity": ident,
        "eventTime": t.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "eventSource": source,
        "eventName": name,
        "awsRegion": region,
        "sourceIPAddress": f"{rng.randint(3, 223)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(1, 254)}",
        "userAgent": rng.choice(AGENTS).format(c=f"{prefix}.{name.lower()}"),
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
    if prefix == "s3":
        rec["requestParameters"] = {"bucketName": bucket, "Host": f"{bucket}.s3.{region}.amazonaws.com",
                                    "key": f"data/{hexid(rng, 8)}/part-{rng.randint(0, 9999):05d}.parquet"}
        rec["additionalEventData"] = {"SignatureVersion": "SigV4", "CipherSuite": "TLS_AES_128_GCM_SHA256",
                                      "bytesTransferredIn": 0, "AuthenticationMethod": "AuthHeader",
                                      "x-amz-id-2": hexid(rng, 60), "bytesTransferredOut": rng.randint(0, 10**7)}
        rec["resources"] = [{"type": "AWS::S3::Object", "ARN": f"arn:aws:s3:::{bucket}/data/{hexid(rng, 8)}"},
                            {"accountId": ACCOUNT, "type": "AWS::S3::Bucket", "ARN": f"arn:aws:s3:::{bucket}"}]
        if not rec["managementEvent"]:
            rec["eventCategory"] = "Data"
    elif prefix == "ec2" and name.startswith("Describe"):
        rec["requestParameters"] = {"maxResults": 1000, "filterSet": {"items": [
            {"name": "tag:Environment", "valueSet": {"items": [{"value": rng.choice(["prod", "staging", "dev"])}]}},
            {"name": "instance-state-name", "valueSet": {"items": [{"value": "running"}]}}]}}
    elif prefix == "kms":
        rec["requestParameters"] = {"encryptionAlgorithm": "SYMMETRIC_DEFAULT",
                                    "keyId": f"arn:aws:kms:{region}:{ACCOUNT}:key/{uuid(rng)}",
                                    "encryptionContext": {"aws:lambda:FunctionArn":
                                                          f"arn:aws:lambda:{region}:{ACCOUNT}:function:fn-{rng.randint(0, 30)}"}}
        rec["resources"] = [{"accountId": ACCOUNT, "type": "AWS::KMS::Key",
                             "ARN": f"arn:aws:kms:{region}:{ACCOUNT}:key/{uuid(rng)}"}]
    elif prefix == "sts" and name == "AssumeRole":
        rec["requestParameters"] = {"roleArn": f"arn:aws:iam::{ACCOUNT}:role/app-{rng.randint(0, 19):02d}",
                                    "roleSessionName": f"session-{rng.randint(0, 10**6)}", "durationSeconds": 3600}
        rec["responseElements"] = {"credentials": {"accessKeyId": "ASIA" + hexid(rng, 16).upper(),
                                                   "sessionToken": hexid(rng, 300),
                                                   "expiration": "Mar 1, 2024, 1:00:00 PM"},
                                   "assumedRoleUser": {"assumedRoleId": f"AROA{hexid(rng, 17).upper()}:session",
                                                       "arn": f"arn:aws:sts::{ACCOUNT}:assumed-role/app/session"}}
    else:
        rec["requestParameters"] = {"resourceArn": f"arn:aws:{prefix}:{region}:{ACCOUNT}:thing/{hexid(rng, 12)}",
                                    "maxResults": rng.choice([20, 50, 100])}
    if prefix == "signin":
        rec["eventType"] = "AwsConsoleSignIn"
        rec["responseElements"] = {"ConsoleLogin": "Success"}
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
