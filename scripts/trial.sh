#!/usr/bin/env bash
# The local trial: no AWS account needed. Starts a moto server on a free loopback port, runs `lppg up` against it,
# replays a recorded console session (denied CloudTrail records across several services) through the real
# function code from the embedded zip, as CloudWatch Logs would deliver it, shows what `lppg watch` and
# `lppg status` say, prints the resulting policy, and removes everything with `lppg down`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-venv.sh
cargo build --quiet

work="$(mktemp -d)"
port="$(.venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
.venv/bin/moto_server -H 127.0.0.1 -p "$port" >"$work/moto.log" 2>&1 &
moto_pid=$!
trap 'kill $moto_pid 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 100); do
  .venv/bin/python -c "import urllib.request,sys; urllib.request.urlopen(sys.argv[1], timeout=1)" "http://127.0.0.1:$port/moto-api/" 2>/dev/null && break
  sleep 0.1
done

# Only the emulator is ever contacted: fake credentials, its endpoint, no profile files.
export AWS_ENDPOINT_URL="http://127.0.0.1:$port" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test
export AWS_REGION=us-east-1 AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
lppg="${CARGO_TARGET_DIR:-$PWD/target}/debug/lppg"

echo "== lppg up" >&2
$lppg up --yes --no-password
echo "== replaying a recorded console session through the function (from the embedded zip)" >&2
$lppg template --out "$work/tpl" >/dev/null 2>&1
.venv/bin/python scripts/replay.py --endpoint-url "$AWS_ENDPOINT_URL" --region us-east-1 \
  --function-name lppg-generator --zip "$work/tpl/function.zip" --fixture tests/fixtures/console-session.jsonl --shift-to-now
if $lppg watch --help >/dev/null 2>&1; then
  echo "== lppg watch --once" >&2
  $lppg watch --once || true
fi
echo "== lppg status (the emulator does not create the trail or the subscription filter, so it reports them)" >&2
$lppg status || true
echo "== lppg export-policy" >&2
$lppg export-policy
echo "== lppg down (saves the policy with what the trail's log group holds; the emulator has no trail to wait for)" >&2
(cd "$work" && "$lppg" down --yes)
