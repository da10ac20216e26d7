"""The policy outputs people paste, checked by tools from the registries rather than by lppg's own reading: the
Terraform snapshots parse with python-hcl2 (HCL's grammar) into an `aws_iam_policy_document` with one `statement`
block per statement of the JSON snapshot, and the CloudFormation permission set passes cfn-lint (which knows
`AWS::SSO::PermissionSet`'s schema, `InlinePolicy` included)."""
import json
import os
import subprocess
import sys

import hcl2
import pytest

from conftest import ROOT

SNAPSHOTS = os.path.join(ROOT, "tests", "snapshots", "export")


def _statements(name):
    with open(os.path.join(SNAPSHOTS, name), encoding="utf-8") as f:
        return json.load(f)["Statement"]


def _terraform(name):
    with open(os.path.join(SNAPSHOTS, name), encoding="utf-8") as f:
        return hcl2.load(f)


def _blocks(parsed, kind, type_name):
    found = []
    for block in parsed.get(kind, []):
        for key, labels in block.items():
            if key.strip('"') == type_name:
                found.append(labels)
    return found


def _unquote(value):
    return value.strip('"') if isinstance(value, str) else value


@pytest.mark.parametrize("name, consumer", [
    ("policy.tf", "aws_iam_policy"),
    ("policy.permission-set.tf", "aws_ssoadmin_permission_set_inline_policy"),
])
def test_terraform_is_a_policy_document_with_a_statement_per_statement(name, consumer):
    parsed = _terraform(name)
    documents = _blocks(parsed, "data", "aws_iam_policy_document")
    assert len(documents) == 1
    (label, body), = documents[0].items()
    expected = _statements("policy.json")
    statements = body["statement"]
    assert len(statements) == len(expected)
    for block, statement in zip(statements, expected):
        assert _unquote(block["sid"]) == statement["Sid"]
        assert _unquote(block["effect"]) == statement["Effect"]
        assert [_unquote(a) for a in block["actions"]] == statement["Action"]
        resources = statement["Resource"]
        assert [_unquote(r) for r in block["resources"]] == (resources if isinstance(resources, list) else [resources])
    consumers = _blocks(parsed, "resource", consumer)
    assert len(consumers) == 1
    (consumer_label, consumer_body), = consumers[0].items()
    assert consumer_label.strip('"') == label.strip('"')
    reference = consumer_body.get("policy", consumer_body.get("inline_policy"))
    assert "data.aws_iam_policy_document.%s.json" % label.strip('"') in reference


def test_the_permission_set_passes_cfn_lint():
    path = os.path.join(SNAPSHOTS, "policy.permission-set.yaml")
    lint = os.path.join(os.path.dirname(sys.executable), "cfn-lint")
    result = subprocess.run([lint, path], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_check_can_fail(tmp_path):
    broken = tmp_path / "broken.tf"
    broken.write_text('data "aws_iam_policy_document" "x" {\n  statement {\n    sid = \n  }\n}\n')
    with pytest.raises(Exception):
        with open(broken, encoding="utf-8") as f:
            hcl2.load(f)
