#!/usr/bin/env bash
# Maintainers only, never run by CI: checks in a real TEST account what the emulator cannot show. It deploys a
# generator with `lppg up --yes --no-password`, waits until `lppg status` reports every part healthy (the trail
# logging, the subscription filter in place), then removes it with `lppg down --yes --no-save`, and exits non-zero
# on any failure, printing what it saw.
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
if [ $failed -ne 0 ]; then
  echo "real-account check FAILED" >&2
  exit 1
fi
echo "real-account check passed: up, healthy, down" >&2
