#![no_main]
// The target's logic and oracles live in wkfuzz::targets::net (also run by repro and the regressions).
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = wkfuzz::targets::net::run(data);
});
