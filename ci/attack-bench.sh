#!/usr/bin/env bash
# The measurements of `wkfuzz attack` in BENCHMARKS.md ("wkfuzz attack" section).
#
#   ci/attack-bench.sh speed [SECS] [ROUNDS]     connections/s against `wkfuzz serve` (tcp),
#                                                by case mix, ROUNDS rounds (medians)
#   ci/attack-bench.sh planted [TRIALS] [BUGS]   time-to-find per socket-reachable planted
#                                                bug: --spawn a planted-bugs server that
#                                                aborts on a connection's panic, from the
#                                                committed corpus and from fresh cases only,
#                                                TRIALS seeds each; then --replay each kept
#                                                regression
#   ci/attack-bench.sh clean [SECS] [SERVERS]    no false alarms: SECS (600) each against
#                                                `wkfuzz serve` (wkfuzz), `openssl s_server
#                                                -www` (openssl, --protocol tls) and nginx
#                                                (nginx, --protocol tls); default all three
#
# Raw results go to target/attack-bench/*.csv and the logs next to them.
set -euo pipefail
cd "$(dirname "$0")/.."
mode="${1:-}"
shift || true
out=target/attack-bench
mkdir -p "$out"
B=target/release/wkfuzz
P=target/planted/release/wkfuzz

build() {
  cargo build --release --locked
  if [ "$mode" = planted ]; then
    cargo build --release --locked --features planted-bugs --target-dir target/planted
  fi
}

# A free loopback port.
port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

median() { sort -n | awk '{a[NR]=$1} END {if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }

speed() {
  local secs="${1:-20}" rounds="${2:-3}"
  local csv="$out/speed.csv"
  echo "round,mix,cases,connections,seconds,connections_per_s,server_cpu_s,attacker_cpu_s" >"$csv"
  for r in $(seq 1 "$rounds"); do
    for mix in fresh+mutate all; do
      local p; p=$(port)
      "$B" serve --tcp "127.0.0.1:$p" --tls off --ws off --wss off --log warn 2>/dev/null &
      local spid=$!
      sleep 0.5
      local before; before=$(awk '{print $14+$15}' "/proc/$spid/stat")
      local t0; t0=$(date +%s.%N)
      /usr/bin/time -f "%U %S" -o "$out/speed-time.txt" "$B" attack "tcp://127.0.0.1:$p" \
        --seconds "$secs" --witnesses 0 --cases "${mix//+/,}" --seed "$r" --json "$out/speed.json" >/dev/null 2>&1 || true
      local after; after=$(awk '{print $14+$15}' "/proc/$spid/stat")
      kill "$spid"; wait "$spid" 2>/dev/null || true
      local tick; tick=$(getconf CLK_TCK)
      local server_cpu; server_cpu=$(echo "($after - $before) / $tick" | bc -l)
      local attacker_cpu; attacker_cpu=$(awk '{print $1+$2}' "$out/speed-time.txt")
      jq -r --arg r "$r" --arg mix "$mix" --arg s "$server_cpu" --arg a "$attacker_cpu" \
        '[$r, $mix, .cases, .connections, .attack_s, .connections_per_s, $s, $a] | @csv' "$out/speed.json" >>"$csv"
    done
  done
  echo "== connections per second (median of $rounds rounds of ${secs} s)"
  for mix in fresh+mutate all; do
    printf '%-14s %s\n' "$mix" "$(grep "\"$mix\"" "$csv" | cut -d, -f6 | median)"
  done
  cat "$csv"
}

# Where each socket-reachable planted bug is attacked: the serve flags, the attack URL and
# flags.
setup() {
  local bug="$1" p="$2"
  case "$bug" in
    TLS-127) echo "--tcp off --tls 127.0.0.1:$p --ws off --wss off|tls://127.0.0.1:$p|" ;;
    PROXY-458) echo "--tcp 127.0.0.1:$p --tls off --ws off --wss off --proxy-protocol|tcp://127.0.0.1:$p|--proxy-protocol" ;;
    *) echo "--tcp 127.0.0.1:$p --tls off --ws off --wss off|tcp://127.0.0.1:$p|" ;;
  esac
}

planted() {
  local trials="${1:-5}"
  local bugs="${2:-TLS-127 STR-26 TRUNC VARINT PROXY-458 KEY-L1 PAD-L2 BUF-L5 AMP-L7}"
  local csv="$out/planted.csv"
  [ -f "$csv" ] || echo "bug,cases,seed,found,first_seen_s,total_s,oracle,signature,culprit,original_size,minimized_size,reproduced,replay" >"$csv"
  for bug in $bugs; do
    for cases in corpus fresh; do
      local sources budget
      if [ "$cases" = corpus ]; then sources=corpus; budget=120; else sources=fresh,mutate; budget=600; fi
      for seed in $(seq 1 "$trials"); do
        local p; p=$(port)
        local s; s=$(setup "$bug" "$p")
        local serve="${s%%|*}" rest="${s#*|}"
        local url="${rest%%|*}" flags="${rest#*|}"
        local regs; regs=$(mktemp -d)
        local spawn="env WKFUZZ_PLANT=$bug WKFUZZ_NO_RECOVER=1 $P serve $serve --log warn --dev-cert-dir $regs"
        local json="$out/planted-$bug-$cases-$seed.json"
        # shellcheck disable=SC2086
        "$B" attack "$url" $flags --spawn "$spawn" --cases "$sources" --seed "$seed" \
          --seconds "$budget" --max-findings 1 --witnesses 0 --regressions "$regs" \
          --json "$json" >"$out/planted-$bug-$cases-$seed.log" 2>&1 || true
        local replay=""
        local bin; bin=$(jq -r '.findings[0].regression // empty' "$json")
        if [ -n "$bin" ]; then
          # shellcheck disable=SC2086
          if "$B" attack --replay "$bin" "$url" $flags --spawn "$spawn" >"$out/planted-$bug-$cases-$seed.replay" 2>&1; then
            replay="survived"
          else
            replay=$(grep -o 'reproduced [0-9]*/[0-9]*' "$out/planted-$bug-$cases-$seed.replay" || echo error)
          fi
          cp "$bin" "$out/planted-$bug-$cases-$seed.bin"
          cp "${bin%.bin}.txt" "$out/planted-$bug-$cases-$seed.txt"
        fi
        jq -r --arg bug "$bug" --arg cases "$cases" --arg seed "$seed" --arg replay "$replay" '
          (.findings[0] // {}) as $f |
          [$bug, $cases, $seed, (if $f.oracle then "yes" else "no" end), ($f.at_seconds // ""), .elapsed_s,
           ($f.oracle // ""), ($f.signature // ""), ($f.culprit.origin // $f.note // ""),
           ($f.culprit.original_size // ""), ($f.culprit.minimized_size // ""),
           (if $f.culprit then "\($f.culprit.reproduced)/\($f.culprit.confirmations)" else "" end), $replay] | @csv' \
          "$json" >>"$csv"
        tail -1 "$csv"
        rm -rf "$regs"
      done
    done
  done
}

clean() {
  local secs="${1:-600}"
  local servers="${2:-wkfuzz openssl nginx}"
  local csv="$out/clean.csv"
  [ -f "$csv" ] || echo "server,seconds,cases,connections,connections_per_s,findings,witness_idle_p99_ms,witness_attack_p99_ms" >"$csv"
  local dir; dir=$(mktemp -d)
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=localhost \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" 2>/dev/null
  for server in $servers; do
    case "$server" in
      wkfuzz)
        # The reference server, all four transports, spawned by the attack.
        local a b c d; a=$(port); b=$(port); c=$(port); d=$(port)
        "$B" attack --seconds "$secs" \
          --spawn "$B serve --tcp 127.0.0.1:$a --tls 127.0.0.1:$b --ws 127.0.0.1:$c --wss 127.0.0.1:$d --log warn --dev-cert-dir $dir" \
          "tcp://127.0.0.1:$a" "tls://127.0.0.1:$b" "ws://127.0.0.1:$c/" "wss://127.0.0.1:$d/" \
          --regressions "$dir/regs" --json "$out/clean-wkfuzz.json" >"$out/clean-wkfuzz.log" 2>&1 || true
        ;;
      openssl)
        # openssl s_server -www: TLS, then an HTTP status page.
        local o; o=$(port)
        "$B" attack --protocol tls --seconds "$secs" \
          --spawn "openssl s_server -www -accept 127.0.0.1:$o -cert $dir/cert.pem -key $dir/key.pem" \
          "tls://127.0.0.1:$o" --regressions "$dir/regs" --json "$out/clean-openssl.json" >"$out/clean-openssl.log" 2>&1 || true
        ;;
      nginx)
        # nginx (Debian's package) serving HTTPS in the foreground.
        command -v nginx >/dev/null 2>&1 || {
          apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null 2>&1 ||
            DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx >/dev/null
        }
        local n; n=$(port)
        mkdir -p "$dir/nginx"
        printf '%s\n' "worker_processes 1;" "daemon off;" "pid $dir/nginx/nginx.pid;" \
          "error_log stderr warn;" "events { worker_connections 4096; }" "http {" \
          "  access_log off;" "  client_body_temp_path $dir/nginx/body;" \
          "  proxy_temp_path $dir/nginx/proxy;" "  fastcgi_temp_path $dir/nginx/fastcgi;" \
          "  uwsgi_temp_path $dir/nginx/uwsgi;" "  scgi_temp_path $dir/nginx/scgi;" \
          "  server {" "    listen 127.0.0.1:$n ssl;" "    ssl_certificate $dir/cert.pem;" \
          "    ssl_certificate_key $dir/key.pem;" "    location / { return 200 ok; }" "  }" "}" \
          >"$dir/nginx/nginx.conf"
        "$B" attack --protocol tls --seconds "$secs" \
          --spawn "nginx -p $dir/nginx -c $dir/nginx/nginx.conf" \
          "tls://127.0.0.1:$n" --regressions "$dir/regs" --json "$out/clean-nginx.json" >"$out/clean-nginx.log" 2>&1 || true
        ;;
      *) echo "unknown server $server (wkfuzz, openssl, nginx)" >&2; return 2 ;;
    esac
    row "$server" "$out/clean-$server.json" >>"$csv"
    tail -1 "$csv"
  done
  rm -rf "$dir"
}

row() {
  jq -r --arg name "$1" '[$name, .elapsed_s, .cases, .connections, .connections_per_s, (.findings | length),
    (.witnesses.idle_p99_ms // ""), (.witnesses.attack_p99_ms // "")] | @csv' "$2"
}

case "$mode" in
  speed) build; speed "$@" ;;
  planted) build; planted "$@" ;;
  clean) build; clean "$@" ;;
  *) echo "usage: ci/attack-bench.sh speed|planted|clean [ARGS]" >&2; exit 2 ;;
esac
