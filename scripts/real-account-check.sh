#!/usr/bin/env bash
# Maintainers only, never run by CI: checks in a real TEST account what the emulator cannot show. It deploys a
# generator with `lppg up --yes --no-password`, waits until `lppg status` reports every part healthy (the trail
# logging, the subscription filter in place), then removes it with `lppg down --yes --no-save`, and exits non-zero
# on any failure, printing what it saw. Then the same in role mode (`up --principal role`): the probe passes,
# `lppg credentials` works through an exported profile, the caller's own SendMessage to the failed-batches queue
# is denied, and `redrive --dry-run` lists the queue; then the fast path's latency: one real denied call as the role
# (`lppg exec`, dynamodb:ListTables in the stack's region) and the seconds until each path granted it, read from the
# function's decision lines (`path` eventbridge | cloudwatch_logs, the log event's time; `lppg watch --json` shows
# only the first path's line of a call, so the lines are read from the log group itself).
#
#   AWS_PROFILE=my-test-account bash scripts/real-account-check.sh [--region REGION] [--stack-name NAME]
#
# Credentials come from the standard AWS chain. The stack costs a few cents while it lives (CloudTrail to
# CloudWatch Logs); the script removes it even when a step fails.
set -uo pipefail
cd "$(dirname "$0")/.."
if [ -n "${AWS_ENDPOINT_URL:-}" ]; then
  echo "AWS_ENDPOINT_URL is set ($AWS_ENDPOINT_URL): this script is for a real account; unset it" >&2
  exit 2
fi
stack="lppg-check-$(date +%H%M%S)"
flags=()
while [ $# -gt 0 ]; do
  case "$1" in
    --region) flags+=(--region "$2"); shift 2 ;;
    --stack-name) stack="$2"; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
cargo build --quiet --release || exit 2
lppg() { target/release/lppg --stack-name "$stack" "${flags[@]}" "$@"; }

failed=0
cleanup() {
  echo "== lppg down" >&2
  if ! lppg down --yes --no-save; then
    echo "FAILED: lppg down; run \`target/release/lppg --stack-name $stack down --yes\` again" >&2
    failed=1
  fi
}
trap cleanup EXIT

echo "== lppg up (stack $stack)" >&2
if ! lppg up --yes --no-password; then
  echo "FAILED: lppg up" >&2
  exit 1
fi

echo "== waiting for lppg status to report every part healthy (up to 10 minutes)" >&2
deadline=$((SECONDS + 600))
healthy=0
while [ $SECONDS -lt $deadline ]; do
  if lppg status --json >"/tmp/$stack-status.json" 2>"/tmp/$stack-status.err"; then
    healthy=1
    break
  fi
  sleep 20
done
cat "/tmp/$stack-status.json" >&2
if [ $healthy -ne 1 ]; then
  cat "/tmp/$stack-status.err" >&2
  echo "FAILED: the generator did not become healthy within 10 minutes" >&2
  failed=1
fi
if lppg status --help 2>/dev/null | grep -q -- '--probe'; then
  echo "== lppg status --probe" >&2
  lppg status --probe || { echo "FAILED: lppg status --probe" >&2; failed=1; }
fi
trap - EXIT
cleanup
rm -f "/tmp/$stack-status.json" "/tmp/$stack-status.err"

# ---- role mode (issue 24): the probe, credentials through a profile, the queue's policy, redrive ---------------
rstack="$stack-role"
rlppg() { target/release/lppg --stack-name "$rstack" "${flags[@]}" "$@"; }
py=.venv/bin/python
rcleanup() {
  echo "== lppg down (role mode)" >&2
  rlppg down --yes --no-save || { echo "FAILED: lppg down of $rstack" >&2; failed=1; }
  rm -rf "${tmpcfg:-/nonexistent}"
}
trap rcleanup EXIT

# One real denied call as the observed role, through `lppg exec` (the child gets the role's session), then the
# seconds from the call until the function granted it through each path. The function writes one decision line per
# path that delivered the call (handler.py: `path`, `event_id`, `event_time`); the grant through the second path is
# `already_present`. EventBridge: seconds (CloudTrail's events reach the bus as they happen); CloudWatch Logs:
# about 5 minutes on average (CloudTrail User Guide), so this waits up to 15.
fast_path_latency() {
  local region group called
  region=$(rlppg status --json 2>/dev/null | "$py" -c 'import json,sys; print(json.load(sys.stdin).get("region",""))')
  region=${region:-${AWS_REGION:-us-east-1}}
  group="/aws/lambda/$rstack-generator"
  echo "== fast path latency: one denied dynamodb:ListTables in $region as the role (lppg exec)" >&2
  called=$(date +%s)
  if ! rlppg exec -- "$py" - "$region" <<'PY'
import sys, boto3, botocore
try:
    boto3.client("dynamodb", region_name=sys.argv[1]).list_tables()
except botocore.exceptions.ClientError as e:
    print("denied as expected:", e.response["Error"]["Code"], file=sys.stderr)
    sys.exit(0)
print("dynamodb:ListTables was allowed: nothing to measure (was it granted before?)", file=sys.stderr)
sys.exit(1)
PY
  then
    echo "FAILED: the denied call through lppg exec" >&2
    return 1
  fi
  "$py" - "$group" "$region" "$called" <<'PY'
import json, sys, time
import boto3
group, region, called = sys.argv[1], sys.argv[2], int(sys.argv[3])
logs = boto3.client("logs", region_name=region)
labels = {"eventbridge": "EventBridge", "cloudwatch_logs": "CloudWatch Logs"}
seen = {}
deadline = time.time() + 15 * 60
while time.time() < deadline and len(seen) < len(labels):
    pages = logs.get_paginator("filter_log_events").paginate(
        logGroupName=group, startTime=(called - 60) * 1000, filterPattern='"dynamodb:ListTables"')
    for page in pages:
        for e in page["events"]:
            try:
                line = json.loads(e["message"])
            except ValueError:
                continue
            if line.get("lppg") != "decision" or line.get("action") != "dynamodb:ListTables":
                continue
            if line.get("decision") not in ("granted", "unverified", "already_present"):
                continue
            path = line.get("path") or "cloudwatch_logs"
            if path not in seen:
                seen[path] = (e["timestamp"] / 1000 - called, line.get("decision"), line.get("event_id"))
                print("%s: %s %.0f s after the call (event %s)" % (
                    labels.get(path, path), seen[path][1], seen[path][0], seen[path][2]), file=sys.stderr)
    if len(seen) < len(labels):
        time.sleep(10)
for path, label in labels.items():
    if path in seen:
        print("%-16s granted %4.0f s after the call" % (label, seen[path][0]))
    else:
        print("%-16s nothing within 15 minutes" % label)
sys.exit(0 if "eventbridge" in seen and "cloudwatch_logs" in seen else 1)
PY
  local rc=$?
  [ $rc -eq 0 ] || echo "FAILED: a path did not grant the denied call (see above; \`lppg status --probe\`)" >&2
  return $rc
}

echo "== lppg up --principal role (stack $rstack)" >&2
if ! rlppg up --yes --principal role; then
  echo "FAILED: lppg up --principal role (its probe must pass: the function recognises the role's probe)" >&2
  failed=1
else
  echo "== lppg status --probe (role mode)" >&2
  rlppg status --probe || { echo "FAILED: lppg status --probe in role mode" >&2; failed=1; }
  if [ -x "$py" ]; then
    tmpcfg=$(mktemp -d)
    region=$(rlppg status --json 2>/dev/null | "$py" -c 'import json,sys; print(json.load(sys.stdin).get("region",""))')
    region=${region:-${AWS_REGION:-us-east-1}}
    src=""
    [ -n "${AWS_PROFILE:-}" ] && src=" --profile $AWS_PROFILE"
    { cat "${AWS_CONFIG_FILE:-$HOME/.aws/config}" 2>/dev/null
      printf '\n[profile lppg-check]\ncredential_process = %s credentials --stack-name %s --region %s%s\nregion = %s\n' \
        "$PWD/target/release/lppg" "$rstack" "$region" "$src" "$region"; } >"$tmpcfg/config"
    echo "== credentials through an exported profile (AWS_PROFILE=lppg-check)" >&2
    if ! AWS_CONFIG_FILE="$tmpcfg/config" AWS_PROFILE=lppg-check XDG_CACHE_HOME="$tmpcfg/cache" "$py" -c '
import boto3, sys
arn = boto3.client("sts").get_caller_identity()["Arn"]
print(arn, file=sys.stderr)
sys.exit(0 if ":assumed-role/" in arn else 1)'; then
      echo "FAILED: lppg credentials through a profile" >&2; failed=1
    fi
    echo "== the caller's own SendMessage to the failed-batches queue is denied" >&2
    if ! "$py" - "$rstack-failed-batches" "$region" <<'PY'
import sys, boto3, botocore
sqs = boto3.client("sqs", region_name=sys.argv[2])
url = sqs.get_queue_url(QueueName=sys.argv[1])["QueueUrl"]
try:
    sqs.send_message(QueueUrl=url, MessageBody="lppg real-account check")
except botocore.exceptions.ClientError as e:
    print("denied as expected:", e.response["Error"]["Code"], file=sys.stderr)
    sys.exit(0)
print("the caller could send to the queue: its policy does not hold", file=sys.stderr)
sys.exit(1)
PY
    then failed=1; fi
  else
    echo "SKIPPED: credentials and queue checks need .venv (bash scripts/setup-venv.sh)" >&2
  fi
  echo "== lppg redrive --dry-run (role mode)" >&2
  rlppg redrive --dry-run || { echo "FAILED: lppg redrive --dry-run" >&2; failed=1; }
  if [ -x "$py" ]; then
    fast_path_latency || failed=1
  fi
fi
trap - EXIT
rcleanup

if [ $failed -ne 0 ]; then
  echo "real-account check FAILED" >&2
  exit 1
fi
echo "real-account check passed: up, healthy, probe, down; role mode: probe, credentials, queue policy, redrive, both paths' latency" >&2
