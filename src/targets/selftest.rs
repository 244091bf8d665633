//! `selftest`: a target with two planted bugs, for testing the triage pipeline itself
//! (repro, signatures, minimization, promote, the gate going red then green). It is neither
//! gated nor fuzzed ([`super::Membership::TestOnly`]): tools run it only when asked by name.
//!
//! - input containing `BUG1`: an out-of-bounds index whose numbers depend on the input;
//! - input containing `BUG2`: an `expect` on `None`.
//!
//! With `WKFUZZ_SELFTEST_FIXED=1` in the environment both bugs are "fixed", standing in for
//! the code change a maintainer would make.

use super::Outcome;

/// Runs the target.
///
/// # Panics
/// On the planted bugs (that is its purpose).
pub fn run(data: &[u8]) -> Outcome {
    let fixed = std::env::var_os("WKFUZZ_SELFTEST_FIXED").is_some_and(|v| v == "1");
    if !fixed {
        if let Some(pos) = find(data, b"BUG1") {
            bug_one(data, pos);
        }
        if find(data, b"BUG2").is_some() {
            bug_two();
        }
    }
    let mut o = Outcome::new("ok");
    o.count("bytes", data.len() as u64);
    o
}

fn find(data: &[u8], needle: &[u8]) -> Option<usize> {
    data.windows(needle.len()).position(|w| w == needle)
}

#[allow(clippy::indexing_slicing)]
fn bug_one(data: &[u8], pos: usize) -> u8 {
    // Indexing past the end on purpose: the message's numbers vary with the input.
    data[pos + data.len()]
}

#[allow(clippy::unnecessary_literal_unwrap)]
fn bug_two() -> u8 {
    None::<u8>.expect("planted bug two")
}
