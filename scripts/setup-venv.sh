#!/usr/bin/env bash
# Creates ./.venv with the pinned Python tools (moto server, cfn-lint, pytest, boto3). Idempotent: does nothing
# when the installed set already matches requirements-dev.txt.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
stamp=.venv/.requirements-dev.txt
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && cmp -s requirements-dev.txt "$stamp"; then
  exit 0
fi
echo "setting up .venv (pinned tools from requirements-dev.txt)…" >&2
"$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
cp requirements-dev.txt "$stamp"
