#!/usr/bin/env bash
# What the committed corpus and regressions reach: `wkfuzz coverage` over every gate target
# (instrumented build in target/coverage, report in target/coverage-report: index.html,
# html/, lcov.info, summary.json, unreached.txt). Fails when line coverage drops below the
# floors here (measured values rounded down; raise them when a seed or model adds reach).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked
exec ./target/release/wkfuzz coverage \
  --min-coverage peer=75 \
  --min-coverage proto=95 \
  --min-coverage session=88 \
  --min-coverage hub=88 \
  --min-coverage transport=92 \
  --min-coverage tls=42 \
  "$@"
