#!/usr/bin/env bash
# Benchmark of `lppg generate s3://...` against the local emulator, next to the same tree read from disk.
#
#   bench/generate_s3_bench.sh                          # 200,000 records in 730 .json.gz files
#   RECORDS=1000000 FILES=3636 bench/generate_s3_bench.sh
#   LPPG=target/debug/lppg bench/generate_s3_bench.sh   # any binary (default: a release build)
#
# Steps: writes the tree with bench/gen_trail.py (seeded; reused when already there), starts moto server (the
# project's .venv) on a free port, uploads the tree to a bucket with boto3, then measures on the same records:
# lppg generate on the local tree, on s3://bucket/ (every folder listed, every object downloaded), and on
# s3://bucket/ with a one-day --since/--until window (the walk lists and reads that day only). Checks that the
# policies are byte-identical. Reports wall time, records/s, objects/s and peak RSS. Needs GNU time.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${LPPG_BENCH_DIR:-/tmp/lppg-bench-s3}
RECORDS=${RECORDS:-200000}
FILES=${FILES:-730}
SEED=${SEED:-42}
PRINCIPAL="arn:aws:iam::111122223333:role/ci-deploy"
GEN_ID=$(sha256sum "$ROOT/bench/gen_trail.py" | cut -c1-8)
TREE="$OUT/trail-$RECORDS-$FILES-$SEED-$GEN_ID"
RESULTS="$OUT/results.txt"
PY="$ROOT/.venv/bin/python"
export LC_ALL=C
unset AWS_PROFILE AWS_DEFAULT_REGION AWS_SESSION_TOKEN

mkdir -p "$OUT"
[[ -x /usr/bin/time ]] || { echo "missing: GNU time (/usr/bin/time)" >&2; exit 2; }
[[ -x "$PY" ]] || { echo "missing: $PY (run scripts/setup-venv.sh)" >&2; exit 2; }

# 1. The tree.
if [[ ! -f "$TREE/.manifest.tsv" ]]; then
  echo "writing $RECORDS records into $FILES files under $TREE (seed $SEED)" >&2
  rm -rf "$TREE"
  python3 "$ROOT/bench/gen_trail.py" "$TREE" --records "$RECORDS" --files "$FILES" --seed "$SEED"
fi
N_FILES=$(wc -l < "$TREE/.manifest.tsv")
N_RECORDS=$(awk -F'\t' '{n += $2} END {print n}' "$TREE/.manifest.tsv")
GZ_BYTES=$(find "$TREE" -name '*.json.gz' -printf '%s\n' | awk '{n += $1} END {print n}')
# A day in the middle of the tree, and its records.
DAY_PATH=$(cut -f1 "$TREE/.manifest.tsv" | awk -F/ '{print $(NF-3) "/" $(NF-2) "/" $(NF-1)}' | sort -u \
  | awk '{d[NR] = $0} END {print d[int((NR + 1) / 2)]}')
DAY=${DAY_PATH//\//-}
# Every region's folder of that day.
DAY_RECORDS=$(awk -F'\t' -v d="/$DAY_PATH/" 'index($1, d) > 0 {n += $2} END {print n + 0}' "$TREE/.manifest.tsv")
DAY_FILES=$(awk -F'\t' -v d="/$DAY_PATH/" 'index($1, d) > 0 {n++} END {print n + 0}' "$TREE/.manifest.tsv")

# 2. The binary.
if [[ -z "${LPPG:-}" ]]; then
  (cd "$ROOT" && cargo build --release --quiet)
  LPPG="${CARGO_TARGET_DIR:-$ROOT/target}/release/lppg"
fi

# 3. The emulator, with the tree in bucket `trail`.
PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$PY" "$ROOT/tests/support/moto_server.py" -H 127.0.0.1 -p "$PORT" > "$OUT/moto.log" 2>&1 &
MOTO=$!
trap 'kill $MOTO 2>/dev/null || true' EXIT
export AWS_ENDPOINT_URL="http://127.0.0.1:$PORT" AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
for _ in $(seq 100); do curl -sf "$AWS_ENDPOINT_URL/moto-api/" > /dev/null && break; sleep 0.1; done
"$PY" - "$TREE" <<'EOF'
import concurrent.futures, os, sys, boto3
tree = sys.argv[1]
s3 = boto3.client("s3")
s3.create_bucket(Bucket="trail")
paths = []
for d, _, files in os.walk(tree):
    paths += [os.path.join(d, f) for f in files if f.endswith(".json.gz")]
def put(p):
    with open(p, "rb") as f:
        s3.put_object(Bucket="trail", Key=os.path.relpath(p, tree), Body=f.read())
with concurrent.futures.ThreadPoolExecutor(8) as pool:
    list(pool.map(put, paths))
print(f"uploaded {len(paths)} objects", file=sys.stderr)
EOF

# 4. Measurements.
declare -A WALL
printf '%-40s %8s %11s %10s %9s\n' "run" "seconds" "records/s" "objects/s" "peak RSS" | tee "$RESULTS"
echo "# $N_RECORDS records, $N_FILES objects, $((GZ_BYTES / 1000000)) MB gzip; $(nproc) cores; moto on loopback" | tee -a "$RESULTS"
measure() {
  local name=$1 records=$2 objects=$3 out=$4; shift 4
  local stats="$OUT/time.$$"
  /usr/bin/time -f '%e %M' -o "$stats" "$LPPG" generate "$@" > "$OUT/$out.json" 2> "$OUT/$out.err"
  read -r secs kb < "$stats"
  rm -f "$stats"
  WALL[$name]=$secs
  awk -v n="$name" -v s="$secs" -v r="$records" -v o="$objects" -v kb="$kb" 'BEGIN {
    s = (s < 0.01) ? 0.01 : s
    printf "%-40s %8.2f %11.0f %10.0f %6.0f MB\n", n, s, r / s, o / s, kb / 1024 }' | tee -a "$RESULTS"
}
measure "local tree" "$N_RECORDS" "$N_FILES" local --principal "$PRINCIPAL" "$TREE"
measure "s3:// (emulator)" "$N_RECORDS" "$N_FILES" s3 --principal "$PRINCIPAL" s3://trail/
measure "local tree, one day ($DAY)" "$N_RECORDS" "$N_FILES" local-day --principal "$PRINCIPAL" \
  --since "$DAY" --until "${DAY}T23:59:59Z" "$TREE"
measure "s3://, one day (pruned walk)" "$DAY_RECORDS" "$DAY_FILES" s3-day --principal "$PRINCIPAL" \
  --since "$DAY" --until "${DAY}T23:59:59Z" s3://trail/
cmp -s "$OUT/local.json" "$OUT/s3.json" && SAME=yes || SAME=NO
cmp -s "$OUT/local-day.json" "$OUT/s3-day.json" && SAME_DAY=yes || SAME_DAY=NO
{
  echo "# policies byte-identical: whole tree $SAME, one day $SAME_DAY"
  awk -v a="${WALL[s3:// (emulator)]}" -v b="${WALL[local tree]}" 'BEGIN { printf "s3:// vs local: %.1fx the time\n", a / b }'
} | tee -a "$RESULTS"
echo "results: $RESULTS" >&2
