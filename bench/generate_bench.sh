#!/usr/bin/env bash
# Benchmark of `lppg generate` against its peers on a synthetic CloudTrail tree, in one run.
#
#   bench/generate_bench.sh                     # 1,000,000 records in ~3,636 .json.gz files under /tmp/lppg-bench
#   LPPG_BENCH_DIR=/data/b RECORDS=2000000 bench/generate_bench.sh
#   LPPG=dist/lppg-0.1.0-x86_64-unknown-linux-musl/lppg bench/generate_bench.sh    # that binary, no build
#
# Steps: writes a reproducible tree with bench/gen_trail.py (seeded; reused when already there), builds lppg in
# release mode, then measures, on the same files: zcat (1 and 2 in parallel), zcat | jq with a principal filter,
# lppg generate (used and --denied), and trailscraper 0.10.0 (PyPI, own venv) on a 100k-record subset next to lppg
# and zcat | jq on that subset. Reports wall time, records/s, MB/s (uncompressed JSON), peak RSS and the ratios the
# issue sets as targets. Needs python3, jq, gzip and GNU time (/usr/bin/time; installed with apt when missing).
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
OUT=${LPPG_BENCH_DIR:-/tmp/lppg-bench}
RECORDS=${RECORDS:-1000000}
FILES=${FILES:-3636}
SEED=${SEED:-42}
SUBSET_RECORDS=${SUBSET_RECORDS:-100000}
PRINCIPAL="arn:aws:iam::111122223333:role/ci-deploy"
# The generator's own hash is part of the tree's name: a changed generator writes a new tree.
GEN_ID=$(sha256sum "$ROOT/bench/gen_trail.py" | cut -c1-8)
TREE="$OUT/trail-$RECORDS-$FILES-$SEED-$GEN_ID"
SUBSET="$OUT/subset-$SUBSET_RECORDS-$GEN_ID"
RESULTS="$OUT/results.txt"
export LC_ALL=C
unset AWS_PROFILE AWS_REGION AWS_DEFAULT_REGION AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY AWS_SESSION_TOKEN

mkdir -p "$OUT"
if [[ ! -x /usr/bin/time ]]; then
  echo "installing GNU time" >&2
  (apt-get install -y time || (apt-get update && apt-get install -y time)) >/dev/null
fi
for tool in python3 jq zcat; do
  command -v "$tool" >/dev/null || { echo "missing: $tool" >&2; exit 2; }
done

# 1. The tree.
if [[ ! -f "$TREE/.manifest.tsv" ]]; then
  echo "writing $RECORDS records into $FILES files under $TREE (seed $SEED)" >&2
  rm -rf "$TREE"
  python3 "$ROOT/bench/gen_trail.py" "$TREE" --records "$RECORDS" --files "$FILES" --seed "$SEED"
fi
N_FILES=$(wc -l < "$TREE/.manifest.tsv")
N_RECORDS=$(awk -F'\t' '{n += $2} END {print n}' "$TREE/.manifest.tsv")
RAW_BYTES=$(awk -F'\t' '{n += $3} END {print n}' "$TREE/.manifest.tsv")
GZ_BYTES=$(find "$TREE" -name '*.json.gz' -printf '%s\n' | awk '{n += $1} END {print n}')

# The subset: the first files (in path order) that hold at least SUBSET_RECORDS records, same layout (symlinks).
if [[ ! -f "$SUBSET/.manifest.tsv" ]]; then
  rm -rf "$SUBSET"
  mkdir -p "$SUBSET"
  sort "$TREE/.manifest.tsv" | awk -F'\t' -v want="$SUBSET_RECORDS" 'n < want {print; n += $2}' > "$SUBSET/.manifest.tsv.tmp"
  while IFS=$'\t' read -r rel _ _; do
    mkdir -p "$SUBSET/$(dirname "$rel")"
    ln -s "$TREE/$rel" "$SUBSET/$rel"
  done < "$SUBSET/.manifest.tsv.tmp"
  mv "$SUBSET/.manifest.tsv.tmp" "$SUBSET/.manifest.tsv"
fi
S_FILES=$(wc -l < "$SUBSET/.manifest.tsv")
S_RECORDS=$(awk -F'\t' '{n += $2} END {print n}' "$SUBSET/.manifest.tsv")
S_RAW_BYTES=$(awk -F'\t' '{n += $3} END {print n}' "$SUBSET/.manifest.tsv")

# 2. The binary: a release build, or the one LPPG names (a release archive's, scripts/package.sh).
if [[ -n "${LPPG:-}" ]]; then
  [[ -x "$LPPG" ]] || { echo "LPPG=$LPPG is not an executable" >&2; exit 2; }
else
  (cd "$ROOT" && cargo build --release --quiet)
  LPPG="${CARGO_TARGET_DIR:-$ROOT/target}/release/lppg"
fi

# 3. Measurements. measure NAME RECORDS RAW_BYTES COMMAND: runs COMMAND with bash, records wall time and peak RSS.
declare -A WALL RSS
printf '%-34s %9s %12s %9s %10s\n' "run" "seconds" "records/s" "MB/s" "peak RSS" | tee "$RESULTS"
echo "# binary: $LPPG ($(wc -c < "$LPPG") bytes)" | tee -a "$RESULTS"
measure() {
  local name=$1 records=$2 bytes=$3 cmd=$4 stats="$OUT/time.$$"
  sync
  if ! /usr/bin/time -f '%e %M' -o "$stats" bash -c "set -o pipefail; $cmd"; then
    echo "$name: FAILED ($cmd)" | tee -a "$RESULTS" >&2
    return 1
  fi
  read -r secs kb < "$stats"
  rm -f "$stats"
  WALL[$name]=$secs
  RSS[$name]=$kb
  awk -v n="$name" -v s="$secs" -v r="$records" -v b="$bytes" -v kb="$kb" 'BEGIN {
    s = (s < 0.01) ? 0.01 : s
    printf "%-34s %9.2f %12.0f %9.0f %7.0f MB\n", n, s, r / s, b / 1e6 / s, kb / 1024 }' | tee -a "$RESULTS"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", a / b }'; }

FIND_GZ="find '$TREE' -name '*.json.gz' -print0"
JQ_FILTER='.Records[] | select(.userIdentity.sessionContext.sessionIssuer.arn == $p and .errorCode == null) | "\(.eventSource) \(.eventName)"'

echo "# $N_RECORDS records, $N_FILES files, $((RAW_BYTES / 1000000)) MB JSON, $((GZ_BYTES / 1000000)) MB gzip; $(nproc) cores" | tee -a "$RESULTS"
measure "zcat (1 process)" "$N_RECORDS" "$RAW_BYTES" "$FIND_GZ | xargs -0 zcat > /dev/null"
measure "zcat (2 in parallel)" "$N_RECORDS" "$RAW_BYTES" "$FIND_GZ | xargs -0 -P 2 -n 64 zcat > /dev/null"
measure "zcat | jq (principal filter)" "$N_RECORDS" "$RAW_BYTES" \
  "$FIND_GZ | xargs -0 zcat | jq -r --arg p '$PRINCIPAL' '$JQ_FILTER' | sort -u > '$OUT/jq.txt'"
measure "lppg generate --principal" "$N_RECORDS" "$RAW_BYTES" \
  "'$LPPG' generate --principal '$PRINCIPAL' '$TREE' > '$OUT/lppg-policy.json' 2> '$OUT/lppg.err'"
measure "lppg generate --principal --denied" "$N_RECORDS" "$RAW_BYTES" \
  "'$LPPG' generate --denied --principal '$PRINCIPAL' '$TREE' > '$OUT/lppg-denied.json' 2> '$OUT/lppg-denied.err'"
measure "lppg generate (every principal)" "$N_RECORDS" "$RAW_BYTES" \
  "'$LPPG' generate '$TREE' > '$OUT/lppg-all.json' 2> '$OUT/lppg-all.err'"

echo "# subset: $S_RECORDS records, $S_FILES files" | tee -a "$RESULTS"
measure "subset: zcat | jq" "$S_RECORDS" "$S_RAW_BYTES" \
  "find -L '$SUBSET' -name '*.json.gz' -print0 | xargs -0 zcat | jq -r --arg p '$PRINCIPAL' '$JQ_FILTER' | sort -u > /dev/null"
measure "subset: lppg generate --principal" "$S_RECORDS" "$S_RAW_BYTES" \
  "'$LPPG' generate --principal '$PRINCIPAL' '$SUBSET' > '$OUT/lppg-subset.json' 2>/dev/null"
TS_NOTE=""
TS_VENV="$OUT/trailscraper-venv"
if [[ ! -x "$TS_VENV/bin/trailscraper" ]]; then
  rm -rf "$TS_VENV"
  if ! (python3 -m venv "$TS_VENV" && "$TS_VENV/bin/pip" install --quiet 'trailscraper==0.10.0') > "$OUT/trailscraper-install.log" 2>&1; then
    TS_NOTE="trailscraper 0.10.0 could not be installed (see $OUT/trailscraper-install.log): skipped"
  fi
fi
if [[ -z "$TS_NOTE" ]]; then
  if ! measure "subset: trailscraper" "$S_RECORDS" "$S_RAW_BYTES" \
    "'$TS_VENV/bin/trailscraper' select --log-dir '$SUBSET' --filter-assumed-role-arn '$PRINCIPAL' \
       --from 2000-01-01 --to 2100-01-01 | '$TS_VENV/bin/trailscraper' generate > '$OUT/trailscraper-policy.json'"; then
    TS_NOTE="trailscraper failed on this Python (see above): skipped"
  fi
fi

# 4. Targets.
{
  echo "# ratios"
  echo "lppg vs zcat | jq:           $(ratio "${WALL[zcat | jq (principal filter)]}" "${WALL[lppg generate --principal]}")x faster (target: > 1)"
  echo "lppg vs 2 x zcat:            $(ratio "${WALL[lppg generate --principal]}" "${WALL[zcat (2 in parallel)]}")x the time (target: <= 2)"
  echo "lppg vs 1 x zcat:            $(ratio "${WALL[lppg generate --principal]}" "${WALL[zcat (1 process)]}")x the time"
  if [[ -n "${WALL[subset: trailscraper]:-}" ]]; then
    echo "lppg vs trailscraper (100k): $(ratio "${WALL[subset: trailscraper]}" "${WALL[subset: lppg generate --principal]}")x faster (target: >= 25)"
  else
    echo "lppg vs trailscraper (100k): ${TS_NOTE:-not measured}"
  fi
  max_rss=0
  for k in "lppg generate --principal" "lppg generate --principal --denied" "lppg generate (every principal)"; do
    (( ${RSS[$k]} > max_rss )) && max_rss=${RSS[$k]}
  done
  echo "lppg peak RSS:               $((max_rss / 1024)) MB (target: < 200 MB)"
} | tee -a "$RESULTS"
echo "results: $RESULTS; policies: $OUT/*.json" >&2
