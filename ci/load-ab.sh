#!/usr/bin/env bash
# Same-run A/B of two wkfuzz binaries on the `wkfuzz load` figures (BENCHMARKS section 15):
# per round and mode, both binaries run back to back, the order reversed every round; then a
# table of each figure per round, the new/old ratio per pair and the median ratio.
#
#   ci/load-ab.sh OLD_BIN NEW_BIN [ROUNDS] [MODES...]     (modes: core handshakes chat idle)
set -euo pipefail
old=$1 new=$2 rounds=${3:-3}
shift $(( $# < 3 ? $# : 3 ))
modes=${*:-core handshakes chat idle}
out=$(mktemp)
trap 'rm -f "$out"' EXIT
for r in $(seq 1 "$rounds"); do
  for mode in $modes; do
    if [ $((r % 2)) = 1 ]; then order="old new"; else order="new old"; fi
    for who in $order; do
      bin=$([ "$who" = old ] && echo "$old" || echo "$new")
      echo "$mode $who $r $("$bin" --log warn load "$mode" --json 2>/dev/null | tail -1)" >>"$out"
    done
  done
done
python3 - "$out" <<'PY'
import collections, json, statistics, sys
rows = collections.defaultdict(dict)
for line in open(sys.argv[1]):
    mode, who, rnd, js = line.split(" ", 3)
    try:
        d = json.loads(js)
    except ValueError:
        continue
    m = {}
    if mode == "core":
        m["core server-only msg/s"] = d["server_only"]["median_messages_per_sec"]
        m["core full msg/s"] = d["full"]["median_messages_per_sec"]
    elif mode == "handshakes":
        for v in d["versions"]:
            m[f"TLS {v['tls']} handshakes/s"] = v["serve"]["median_handshakes_per_sec"]
            m[f"TLS {v['tls']} server CPU us/handshake"] = v["serve"]["median_server_cpu_us_per_handshake"]
    elif mode == "chat":
        for s in d["series"]:
            m[f"chat {s['transport']} msg/s"] = s["median_messages_per_sec"]
    elif mode == "idle":
        for r in d["results"]:
            m[f"idle {r['transport']} MiB per 1,000"] = r["delta_mib"]
    rows[(mode, rnd)][who] = m
figures = collections.defaultdict(lambda: ([], [], []))
for (_, _), w in sorted(rows.items()):
    for k, v in w.get("old", {}).items():
        n = w.get("new", {}).get(k)
        if v and n is not None:
            o, nn, r = figures[k]
            o.append(v); nn.append(n); r.append(n / v)
fmt = lambda xs: ", ".join(f"{x:,.1f}" if x < 1000 else f"{x:,.0f}" for x in xs)
print("| figure | old | new | new/old per round | median ratio |")
print("| --- | --- | --- | --- | --- |")
for k, (o, n, r) in figures.items():
    print(f"| {k} | {fmt(o)} | {fmt(n)} | {', '.join(f'{x:.2f}' for x in r)} | {statistics.median(r):.2f} |")
PY
