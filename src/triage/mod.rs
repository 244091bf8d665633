//! Crash triage and the release gate, all on stable Rust with no fuzzing engine:
//!
//! - [`input`]: how crashes arrive (a file, `hex:...`, `base64:...`) and which target they
//!   belong to;
//! - [`capture`]: run a target in-process, catching a panic with its message, location,
//!   backtrace and [`signature`];
//! - [`minimize`]: delta debugging that keeps the signature;
//! - [`regression`]: `regressions/<target>/<slug>.{bin,toml,txt}` and promotion;
//! - [`gate`]: replay corpus + regressions twice, with time and memory limits, and report
//!   ([`report`]: table, JUnit, JSON);
//! - [`alloc`]: the counting allocator the memory limit reads;
//! - [`campaign`], [`timeline`]: libFuzzer's output read back (final stats, status lines
//!   over time) for `wkfuzz fuzz`'s summary and report page.

pub mod alloc;
pub mod campaign;
pub mod capture;
pub mod gate;
pub mod input;
pub mod minimize;
pub mod regression;
pub mod report;
pub mod signature;
pub mod timeline;
