#!/usr/bin/env bash
# The README's test command: every test of the project, on stable Rust.
set -euo pipefail
cd "$(dirname "$0")/.."
# The JS SDK interop test (tests/interop.rs) needs wukongimjssdk, ws and esbuild from npm,
# and the SDK bundled for Node (its ES modules lack file extensions). Without npm that
# test prints "SKIPPED: node/npm not found".
if command -v npm >/dev/null 2>&1 && command -v node >/dev/null 2>&1; then
  npm ci --prefix tests/interop --no-audit --no-fund
  npm run --prefix tests/interop build
else
  echo "ci/test.sh: node/npm not found; the JS SDK interop test will be skipped" >&2
fi
# tests/triage.rs minimizes through `cargo fuzz tmin` (stable, --sanitizer none).
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
# No two source files may import each other (directly or through a ring).
python3 ci/import-cycles.py
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --locked --all-targets 2>&1 | tee "$log"
# One closing line for the whole run (the last binary cargo runs may have no tests of its own).
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i+1) ~ /^passed;?$/) p += $i; if ($(i+1) ~ /^failed;?$/) f += $i } }
     END { printf "%d passed, %d failed\n", p, f }' "$log"
