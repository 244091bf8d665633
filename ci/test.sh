#!/usr/bin/env bash
# The README's test command: every test of the project, on stable Rust.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --locked --all-targets
