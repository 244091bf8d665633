//! The planted bugs exist only with the `planted-bugs` feature. In the default build this
//! test scans the `wkfuzz` binary (which links every hook site: session, proxy, resolver,
//! crypto, the connection supervisor) for the canary marker and the `planted` module's
//! symbols and finds neither; with the feature it finds both, which shows the scan works.

use std::path::Path;

/// The canary marker (`wkfuzz::planted::CANARY_PREFIX`), spelled in two pieces so that this
/// test binary itself does not contain it.
fn marker() -> Vec<u8> {
    ["WKFUZZ", "-PLANTED"].concat().into_bytes()
}

/// Mangled-name fragment of anything in `wkfuzz::planted` (legacy and v0 manglings).
const SYMBOLS: [&[u8]; 2] = [b"6wkfuzz7planted", b"wkfuzz::planted"];

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn scan(path: &Path) -> (bool, bool) {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let marker = contains(&bytes, &marker());
    let symbols = SYMBOLS.iter().any(|s| contains(&bytes, s));
    (marker, symbols)
}

#[test]
fn planted_code_is_compiled_only_with_the_feature() {
    let bin = Path::new(env!("CARGO_BIN_EXE_wkfuzz"));
    let (marker, symbols) = scan(bin);
    if cfg!(feature = "planted-bugs") {
        assert!(
            marker && symbols,
            "feature on: canaries expected in {}",
            bin.display()
        );
    } else {
        assert!(
            !marker,
            "default build: canary marker found in {}",
            bin.display()
        );
        assert!(
            !symbols,
            "default build: planted symbols found in {}",
            bin.display()
        );
    }
}

#[cfg(not(feature = "planted-bugs"))]
#[test]
fn default_build_ignores_the_plant_switch() {
    // WKFUZZ_PLANT means nothing without the feature: every planted input is harmless.
    std::env::set_var("WKFUZZ_PLANT", "all");
    for (target, hex) in [
        ("frame", "9000"),
        ("frame", "9003008000"),
        ("frame", "3080808080"),
        ("frame", "0030ffff7f"),
        ("proxy", "50"),
        ("keys", "01"),
    ] {
        let target = wkfuzz::targets::Target::from_name(target).unwrap();
        let data = hex::decode(hex).unwrap();
        assert!(wkfuzz::triage::capture::run_caught(target, &data).is_ok());
    }
}
