//! Shared by the property tests (`tests/prop_*.rs`): the bridge from proptest to the crate's
//! `Arbitrary` models, damage strategies, and the case count.
#![allow(dead_code)]

use proptest::prelude::*;
use proptest::test_runner::{Config, FileFailurePersistence};
use wkfuzz::gen::strategy::from_bytes;
use wkfuzz::gen::Damage;

/// The property-test config: `PROPTEST_CASES` cases (proptest's default: 256; `ci/gate.sh`
/// raises it), never fewer than 256, failures saved to (and replayed from)
/// `proptest-regressions/<file>.txt`, where `file` is the test file's stem.
pub fn config(file: &'static str) -> Config {
    let base = Config::default();
    Config {
        cases: base.cases.max(256),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(
            // cargo runs integration tests in the package root.
            Box::leak(format!("proptest-regressions/{file}.txt").into_boxed_str()),
        ))),
        ..base
    }
}

/// Any `Arbitrary` model of the crate, built from up to `max_bytes` random bytes exactly as
/// the fuzz targets build it (`wkfuzz::gen::strategy::from_bytes`). Shrinking shortens and
/// zeroes the bytes, which shrinks the model towards its most ordinary form.
pub fn model<T>(max_bytes: usize) -> impl Strategy<Value = T>
where
    T: for<'a> arbitrary::Arbitrary<'a> + std::fmt::Debug,
{
    proptest::collection::vec(any::<u8>(), 0..max_bytes)
        .prop_filter_map("model needs more bytes", |bytes| from_bytes::<T>(&bytes))
}

/// One to three damages (truncate, flip, splice, cut, overwrite, duplicate, append).
pub fn damages() -> impl Strategy<Value = Vec<Damage>> {
    proptest::collection::vec(model::<Damage>(80), 1..=3)
}
