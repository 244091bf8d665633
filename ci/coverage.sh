#!/usr/bin/env bash
# What the committed corpus and regressions reach: `wkfuzz coverage` over every gate target
# (instrumented build in target/coverage, report in target/coverage-report: index.html,
# html/, lcov.info, summary.json, unreached.txt). Fails when line coverage drops below the
# floors here: the values measured on 2026-12-01 (peer 88.5, proto 96.4, session 89.9, hub
# 88.6, transport 85.6, tls 85.1% of lines) less about 2 points of slack for code moving
# between modules; raise them when a seed or model adds reach.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --locked
exec ./target/release/wkfuzz coverage \
  --min-coverage peer=86 \
  --min-coverage proto=95 \
  --min-coverage session=87 \
  --min-coverage hub=86 \
  --min-coverage transport=83 \
  --min-coverage tls=83 \
  "$@"
