#!/bin/bash -eu
# ClusterFuzzLite / OSS-Fuzz build: every cargo-fuzz target into $OUT, with its seed corpus
# (<target>_seed_corpus.zip) and dictionary (<target>.dict). Reads OUT, SRC and SANITIZER
# as OSS-Fuzz sets them. Tested locally by ci/test-clusterfuzzlite.sh (stable, SANITIZER=none).
cd "$SRC/wkfuzz"

case "${SANITIZER:-address}" in
  address|memory|thread|leak) sanitizer="$SANITIZER" ;;
  *) sanitizer=none ;;  # coverage, undefined, none: plain libFuzzer instrumentation
esac

cargo fuzz build -O --sanitizer "$sanitizer"

bin_dir=fuzz/target/x86_64-unknown-linux-gnu/release
# fuzz/src/bin/ holds one wrapper per shipped target of the registry (a unit test checks it).
for src in fuzz/src/bin/*.rs; do
  name=$(basename "$src" .rs)
  cp "$bin_dir/$name" "$OUT/$name"
  if [ -d "corpus/$name" ] && [ -n "$(ls -A "corpus/$name")" ]; then
    (cd "corpus/$name" && zip -q -j "$OUT/${name}_seed_corpus.zip" ./*)
  fi
  if [ -f "fuzz/dict/$name.dict" ]; then
    cp "fuzz/dict/$name.dict" "$OUT/$name.dict"
  fi
done
