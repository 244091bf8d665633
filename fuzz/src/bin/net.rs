#![no_main]
// The `net` target: its logic and oracles live in wkfuzz::targets::shell (also run by repro and the regressions).
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = wkfuzz::targets::shell::run(data);
});
