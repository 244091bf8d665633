#![no_main]
// The triage pipeline's own test target (two planted bugs, wkfuzz::targets::selftest), for
// tests/triage.rs to minimize through `cargo fuzz tmin`. Kept out of src/bin/ so that
// ClusterFuzzLite (.clusterfuzzlite/build.sh) never ships it; `wkfuzz fuzz` and ci/fuzz.sh
// run only the registry's gated targets, which leaves it out too.
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = wkfuzz::targets::selftest::run(data);
});
