#!/usr/bin/env bash
# Fuzz each target for SECONDS (default 60) on stable Rust with libFuzzer (cargo-fuzz,
# --sanitizer none), from the committed corpus. Installs cargo-fuzz if missing. Exits
# non-zero on a crash, printing the artifact path and the repro command.
#
#   ci/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-60}"
shift || true
cargo build --release --locked
exec ./target/release/wkfuzz fuzz --seconds "$seconds" --no-gate "$@"
