#!/usr/bin/env bash
# Runs .clusterfuzzlite/build.sh the way OSS-Fuzz does (SRC, OUT, SANITIZER set; the
# checkout at $SRC/wkfuzz) on stable Rust, then checks that every fuzz target binary, its
# seed corpus zip and dictionary landed in $OUT and that each binary runs one input.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
command -v cargo-fuzz >/dev/null 2>&1 || cargo install cargo-fuzz --locked
if ! command -v zip >/dev/null 2>&1 || ! command -v unzip >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq zip unzip
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/src" "$work/out"
ln -s "$root" "$work/src/wkfuzz"
SRC="$work/src" OUT="$work/out" SANITIZER=none bash .clusterfuzzlite/build.sh
status=0
# Every target the registry ships (wkfuzz targets --which shipped) must be in $OUT.
cargo build --release --locked
for name in $(./target/release/wkfuzz targets --which shipped); do
  if [ ! -x "$work/out/$name" ]; then
    echo "missing fuzzer binary: \$OUT/$name"; status=1; continue
  fi
  if [ -d "corpus/$name" ] && [ ! -f "$work/out/${name}_seed_corpus.zip" ]; then
    echo "missing seed corpus: \$OUT/${name}_seed_corpus.zip"; status=1
  fi
  if [ -f "fuzz/dict/$name.dict" ] && [ ! -f "$work/out/$name.dict" ]; then
    echo "missing dictionary: \$OUT/$name.dict"; status=1
  fi
  # Each binary must run: replay its seeds once.
  seeds=$(mktemp -d)
  (cd "$seeds" && unzip -q "$work/out/${name}_seed_corpus.zip" 2>/dev/null || true)
  if ! "$work/out/$name" -runs=0 "$seeds" >"$work/$name.log" 2>&1; then
    echo "fuzzer $name failed on its seeds:"; tail -20 "$work/$name.log"; status=1
  fi
  rm -rf "$seeds"
done
ls -la "$work/out"
[ $status -eq 0 ] && echo "clusterfuzzlite build: OK ($(ls "$work/out" | wc -l) files in \$OUT)"
exit $status
