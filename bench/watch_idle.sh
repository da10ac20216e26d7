#!/usr/bin/env bash
# Idle cost of `lppg watch`: AWS API calls per minute and CPU use, measured (not timed in tests).
#
#   bench/watch_idle.sh                  # 60 s plain (not a terminal), then 60 s on a pseudo-terminal (spinner)
#   DURATION=120 MODES=plain bench/watch_idle.sh
#
# Starts a moto server of its own (the project's .venv, see scripts/setup-venv.sh), deploys the stack with
# `lppg up`, then runs `lppg -v watch` with nothing arriving for DURATION seconds and stops it with SIGINT (Ctrl-C).
# API calls: every request moto logs while the watch runs (start-up included: STS, CloudFormation, Logs, the one
# read of the policies), and the FilterLogEvents calls the watch itself counts (`-v`). CPU: user+system time of
# the watch (GNU time) over its wall time. The issue's targets: at most 30 calls a minute, under 1% of a core.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
DURATION=${DURATION:-60}
WARMUP=${WARMUP:-10}   # the idle rate is counted after this many seconds (start-up calls excluded)
MODES=${MODES:-plain tty}
PORT=${PORT:-$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')}
BIN=${LPPG:-${CARGO_TARGET_DIR:-$ROOT/target}/release/lppg}  # LPPG=target/debug/lppg skips the release build
cd "$ROOT"
if [[ ! -x "$BIN" ]]; then
  echo "building lppg (release)" >&2
  cargo build --release >&2
fi
if [[ ! -x /usr/bin/time ]]; then
  (apt-get install -y time || (apt-get update && apt-get install -y time)) >/dev/null
fi

TMP=$(mktemp -d)
.venv/bin/python tests/support/moto_server.py -H 127.0.0.1 -p "$PORT" 2>"$TMP/moto.log" >/dev/null &
MOTO=$!
cleanup() { kill "$MOTO" 2>/dev/null || true; wait "$MOTO" 2>/dev/null || true; rm -rf "$TMP"; }
trap cleanup EXIT
for _ in $(seq 100); do
  curl -fsS "http://127.0.0.1:$PORT/moto-api/" >/dev/null 2>&1 && break
  sleep 0.1
done

unset AWS_PROFILE AWS_SESSION_TOKEN AWS_DEFAULT_REGION
export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
export AWS_EC2_METADATA_DISABLED=true HOME="$TMP" AWS_CONFIG_FILE="$TMP/none" AWS_SHARED_CREDENTIALS_FILE="$TMP/none"
"$BIN" up --yes --no-password >/dev/null 2>"$TMP/up.err" || { cat "$TMP/up.err" >&2; exit 1; }

requests() { grep -c '"\(POST\|GET\) / ' "$TMP/moto.log" || true; }

echo "lppg watch idle for ${DURATION}s against moto ($BIN)"
printf '%-6s %9s %13s %18s %13s %7s %7s\n' mode requests requests/min idle_requests/min polls/min cpu% wall_s
for mode in $MODES; do
  before=$(requests)
  cmd=("$BIN" -v watch)
  if [[ $mode == tty ]]; then
    # script(1) gives the watch a terminal: spinner, footer and the Enter reader are on.
    # The pseudo-terminal's child gets the SIGINT from inside (script stays until it has exited).
    /usr/bin/time -f '%U %S %e' -o "$TMP/time" \
      script -qfec "timeout -s INT $DURATION ${cmd[*]}" /dev/null >"$TMP/watch.out" </dev/null &
  else
    /usr/bin/time -f '%U %S %e' -o "$TMP/time" \
      timeout -s INT "$DURATION" "${cmd[@]}" >"$TMP/watch.out" 2>"$TMP/watch.err" </dev/null &
  fi
  job=$!
  sleep "$WARMUP"
  warm=$(requests)
  wait "$job" || true
  [[ -z ${KEEP:-} ]] || cp "$TMP/watch.out" "$TMP/watch.err" "$KEEP/" 2>/dev/null || true
  after=$(requests)
  # GNU time writes "Command exited with non-zero status 124" first when timeout stopped the watch.
  read -r user sys wall < <(tail -n1 "$TMP/time")
  polls=$(grep -o 'FilterLogEvents calls: [0-9]*' "$TMP/watch.err" "$TMP/watch.out" 2>/dev/null | grep -o "[0-9]*$" | head -n1 || true)
  awk -v m="$mode" -v n=$((after - before)) -v i=$((after - warm)) -v wu="$WARMUP" -v u="$user" -v s="$sys" \
    -v w="$wall" -v p="${polls:-0}" 'BEGIN {
    printf "%-6s %9d %13.1f %18.1f %13.1f %7.2f %7.1f\n", m, n, n * 60 / w, i * 60 / (w - wu), p * 60 / w,
      (u + s) * 100 / w, w }'
done
