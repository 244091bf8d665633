#![no_main]
// The target's logic and oracles live in wkfuzz::targets::proxy (also run by the gate and repro).
libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let _ = wkfuzz::targets::proxy::run(data);
});
