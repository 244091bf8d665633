#!/usr/bin/env bash
# Planted-bug evaluation (Magma-style; see README "Planted bugs"). Builds the fuzz targets
# and the wkfuzz binary with the `planted-bugs` feature, then:
#
#   ci/eval.sh --quick     30 s per (bug, target) run, one repetition (under 15 minutes)
#   ci/eval.sh --full      600 s per run, 5 repetitions (hours: the documented long form)
#   ci/eval.sh --check     the regression suite with each bug planted in turn: every bug
#                          must make at least one regression fail, and with no bug planted
#                          every regression must pass; then the gate with each bug of the
#                          second set planted: it must pass and no input may trigger the bug
#   ci/eval.sh --set2      the second set: 5 trials per (bug, target) from an empty corpus,
#                          600 CPU-seconds each, two at a time; eval/results-set2.csv, the
#                          table in BENCHMARKS.md and the plot eval/survival-set2.svg
#
# Extra arguments go to `wkfuzz eval` (e.g. --bugs TLS-127 --budget 120 --reps 3).
# Results: eval/results.csv (raw), the table in BENCHMARKS.md, crash inputs in eval/artifacts.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:---quick}"
shift || true

# The second set must not be caught by the stored inputs: with each bug on, the gate passes
# and no corpus file or regression reaches the bug's TRIGGERED canary.
check_second_set() {
  cargo build --release --features planted-bugs --locked
  local status=0
  for bug in KICK-ACK WSS-BIG SUB-2DEV NAME-CUT ACK-OTHER LOGIN-2DEV; do
    log="/tmp/eval-gate-$bug.log"
    if WKFUZZ_PLANT="$bug" ./target/release/wkfuzz --log off gate >"$log" 2>&1; then
      if grep -q "WKFUZZ-PLANTED TRIGGERED $bug" "$log"; then
        echo "$bug: gate passes, but a stored input triggers it"; status=1
      else
        echo "$bug: gate passes, no stored input triggers it"
      fi
    else
      echo "$bug: the gate FAILS with it planted (see $log)"; status=1
    fi
  done
  return $status
}

check() {
  cargo build --features planted-bugs --test regressions --locked
  local status=0 bugs="TLS-127 STR-26 TRUNC VARINT PROXY-458 KEY-L1 PAD-L2 BUF-L5 AMP-L7"
  if WKFUZZ_PLANT= cargo test -q --features planted-bugs --locked --test regressions >/tmp/eval-check-none.log 2>&1; then
    echo "no bug planted: every regression passes"
  else
    echo "no bug planted: regressions FAIL"; tail -20 /tmp/eval-check-none.log; status=1
  fi
  for bug in $bugs; do
    log="/tmp/eval-check-$bug.log"
    if WKFUZZ_PLANT="$bug" cargo test -q --features planted-bugs --locked --test regressions -- --test-threads=1 >"$log" 2>&1; then
      echo "$bug: NOT caught (every regression passes with it planted)"; status=1
    else
      # Failed tests by name; a process abort (AMP-L7) names the test that was running.
      caught=$(grep -oE '^---- [a-z]+::[a-z0-9-]+ ----' "$log" | awk '{print $2}' | sort -u | tr '\n' ' ' || true)
      if grep -q "WKFUZZ-PLANTED ABORT $bug" "$log"; then
        running=$(grep -E '^test ' "$log" | tail -1 | awk '{print $2}' || true)
        caught="$running (process aborted) $caught"
      fi
      echo "$bug: caught by ${caught:-the suite failing (see $log)}"
    fi
  done
  return $status
}

case "$mode" in
  --check) status=0; check || status=1; check_second_set || status=1; exit $status ;;
  --set2)
    command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
    cargo fuzz build -O -s none --features planted-bugs
    cargo build --release --features planted-bugs --locked
    ./target/release/wkfuzz --log off eval --set 2 --no-seeds --reps 5 --budget 600 \
      --cpu-time --jobs 2 --csv eval/results-set2.csv --survival eval/survival-set2.svg "$@"
    ;;
  --quick|--full)
    command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
    cargo fuzz build -O -s none --features planted-bugs
    cargo build --release --features planted-bugs --locked
    ./target/release/wkfuzz --log off eval "$mode" "$@"
    ;;
  *) echo "usage: ci/eval.sh [--quick|--full|--check|--set2] [wkfuzz eval args...]" >&2; exit 2 ;;
esac
