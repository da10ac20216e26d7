#!/usr/bin/env bash
# Every test: the pinned Python tools, cfn-lint on the rendered template, the Rust tests (unit and end to end
# against moto servers the tests start themselves), and the function's Python tests. Run from anywhere.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-venv.sh
export PATH="$PWD/.venv/bin:$PATH"

echo "== cfn-lint on the rendered template" >&2
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
cargo run --quiet -- template --out "$tmp/tpl"
.venv/bin/cfn-lint "$tmp/tpl/template.yaml" "$tmp/tpl/forwarder.yaml"
echo "cfn-lint: no errors, no warnings" >&2

echo "== cargo test" >&2
cargo test --workspace --all-targets 2>&1 | tee "$tmp/cargo.log"
status=${PIPESTATUS[0]}
[ "$status" -eq 0 ] || exit "$status"

echo "== pytest (the generator function, and the template's real-AWS rules)" >&2
LPPG_RENDERED_TEMPLATE="$tmp/tpl/template.yaml" .venv/bin/python -m pytest tests/python -q
