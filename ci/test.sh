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
cargo test --locked --all-targets
