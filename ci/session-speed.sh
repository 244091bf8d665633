#!/usr/bin/env bash
# Side-by-side libFuzzer speed of two `session` fuzz binaries (BENCHMARKS section 14):
# both run at once, one per core, for SECS seconds, ROUNDS times, each from a scratch copy
# of its own corpus (the committed corpus is never written). Prints executions per second
# per round and the medians. A run that stops on a crash, timeout or OOM is reported and its
# log and input are kept (KEEP_DIR, default /tmp/session-speed-findings).
#
#   ci/session-speed.sh OLD_BIN OLD_CORPUS NEW_BIN NEW_CORPUS [SECS] [ROUNDS]
#
# FLAGS (default empty) adds libFuzzer flags to both runs, e.g.
#   FLAGS=-entropic_scale_per_exec_time=1 ci/session-speed.sh ...
#
# OLD_BIN is the session target of an older checkout, e.g.
#   git worktree add /tmp/old ff4f341 && (cd /tmp/old && cargo fuzz build -s none session)
# (ff4f341 predates `-O`; build the new one as the product does: cargo fuzz build -O -s none session)
#   ci/session-speed.sh /tmp/old/fuzz/target/x86_64-unknown-linux-gnu/release/session \
#     /tmp/old/corpus/session fuzz/target/x86_64-unknown-linux-gnu/release/session corpus/session
set -euo pipefail
old_bin=$1 old_corpus=$2 new_bin=$3 new_corpus=$4 secs=${5:-60} rounds=${6:-3}
scratch=$(mktemp -d)
keep=${KEEP_DIR:-/tmp/session-speed-findings}
trap 'rm -rf "$scratch"' EXIT

run() { # name bin corpus round
  local dir="$scratch/$1-$4"
  mkdir -p "$dir"
  cp "$3"/* "$dir"/
  "$2" "$dir" -max_total_time="$secs" -seed="$4" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$scratch/" ${FLAGS:-} >"$scratch/$1-$4.log" 2>&1 || true
  # A run that ends early found something: say so and keep its log and input.
  if grep -qE '^==[0-9]+== ERROR|^SUMMARY|deadly signal|panicked at' "$scratch/$1-$4.log"; then
    mkdir -p "$keep"
    cp "$scratch/$1-$4.log" "$scratch"/crash-* "$scratch"/timeout-* "$scratch"/oom-* "$keep"/ 2>/dev/null || true
    echo "$1 round $4 stopped on a finding: log and input kept in $keep" >&2
  fi
  awk -v n="$1" -v r="$4" '/stat::number_of_executed_units/ {u=$2}
    /stat::average_exec_per_sec/ {e=$2}
    END {printf "%s round %s: %s executions, %s exec/s\n", n, r, u, e}' "$scratch/$1-$4.log"
}

for r in $(seq 1 "$rounds"); do
  run old "$old_bin" "$old_corpus" "$r" >"$scratch/old-$r.txt" &
  run new "$new_bin" "$new_corpus" "$r" >"$scratch/new-$r.txt" &
  wait
  cat "$scratch/old-$r.txt" "$scratch/new-$r.txt"
done
for n in old new; do
  cat "$scratch"/$n-*.txt | awk '{print $(NF-1)}' | sort -n |
    awk -v n="$n" '{v[NR]=$1} END {printf "%s median: %s exec/s\n", n, v[int((NR+1)/2)]}'
done
