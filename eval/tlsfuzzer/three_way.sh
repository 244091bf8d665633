#!/bin/bash
# Runs tlsfuzzer's adapted list (adapted.list: 59 script runs for an AEAD-only TLS 1.2/1.3
# server) against three servers with one RSA certificate, one at a time, on loopback:
#   openssl  openssl s_server -www with a rustls-like profile         127.0.0.1:4434
#   bare     examples/bare_rustls_server.rs (same rustls, same config)  127.0.0.1:5311
#   wkfuzz   wkfuzz serve, WSS listener (a plain GET gets a 426)        127.0.0.1:5210
# and writes $LOGS/<label>.tsv (one line per script run) and the per-script logs.
#
# usage: TF=<tlsfuzzer checkout> TFVENV=<venv with tlslite-ng> LOGS=<dir> \
#        eval/tlsfuzzer/three_way.sh [label...]      (default: openssl bare wkfuzz)
# WKFUZZ=<binary> measures another wkfuzz build (default target/release/wkfuzz).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
: "${TF:?tlsfuzzer checkout}" "${TFVENV:?venv with tlslite-ng}" "${LOGS:?output dir}"
WKFUZZ=${WKFUZZ:-$ROOT/target/release/wkfuzz}
BARE=${BARE:-$ROOT/target/release/examples/bare_rustls_server}
CERTS=$LOGS/certs
mkdir -p "$CERTS"
if [ ! -f "$CERTS/rsa.key" ]; then
  openssl req -x509 -newkey rsa:2048 -keyout "$CERTS/rsa.key" -out "$CERTS/rsa.crt" \
    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -nodes -batch -days 3650 2>/dev/null
fi
PROFILE="-min_protocol TLSv1.2 -cipher ECDHE+AESGCM:ECDHE+CHACHA20
  -ciphersuites TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256:TLS_CHACHA20_POLY1305_SHA256
  -groups X25519:P-256:P-384 -no_renegotiation"

start() {
  case $1 in
    openssl) PORT=4434
      # shellcheck disable=SC2086
      openssl s_server -accept 127.0.0.1:$PORT -key "$CERTS/rsa.key" -cert "$CERTS/rsa.crt" \
        -www -quiet $PROFILE > "$LOGS/$1.server.log" 2>&1 & ;;
    bare) PORT=5311
      "$BARE" --cert "$CERTS/rsa.crt" --key "$CERTS/rsa.key" --addr 127.0.0.1:$PORT \
        > "$LOGS/$1.server.log" 2>&1 & ;;
    wkfuzz*) PORT=5210
      "$WKFUZZ" serve --tcp off --tls off --ws off --wss 127.0.0.1:$PORT \
        --cert "$CERTS/rsa.crt" --key "$CERTS/rsa.key" > "$LOGS/$1.server.log" 2>&1 & ;;
    *) echo "unknown server $1" >&2; exit 2 ;;
  esac
  PID=$!
  for _ in $(seq 50); do
    (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null && return 0
    sleep 0.2
  done
  echo "$1 did not start" >&2; kill "$PID"; exit 1
}

for label in "${@:-openssl bare wkfuzz}"; do
  for l in $label; do
    start "$l"
    bash "$HERE/run.sh" "$PORT" "$l" "$HERE/adapted.list" 300 > /dev/null
    kill "$PID"; wait "$PID" 2>/dev/null
    awk -F'\t' 'NR > 1 { n++; if ($3 == 0) pass++ } END { printf "%s: %d of %d script runs pass\n", L, pass, n }' \
      L="$l" "$LOGS/$l.tsv"
  done
done
