#!/usr/bin/env bash
# The release gate: every test (property tests with more cases), then the corpus and every
# regression replayed through their targets twice, with time and memory limits.
# Writes target/gate.junit.xml and target/gate.json for CI systems.
set -euo pipefail
cd "$(dirname "$0")/.."
export PROPTEST_CASES="${PROPTEST_CASES:-1024}"
ci/test.sh
cargo build --release --locked
./target/release/wkfuzz gate --junit target/gate.junit.xml --json target/gate.json
