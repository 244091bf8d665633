//! Crash triage and the release gate, all on stable Rust with no fuzzing engine:
//!
//! - [`input`]: how crashes arrive (a file, `hex:...`, `base64:...`) and which target they
//!   belong to;
//! - [`capture`]: run a target in-process, catching a panic with its message, location,
//!   backtrace and [`signature`];
//! - [`minimize`]: delta debugging that keeps the signature;
//! - [`regression`]: `regressions/<target>/<slug>.{bin,toml,txt}`; [`promote`]: a crash
//!   made a regression (signature, duplicate check, minimizer choice, files);
//! - [`gate`]: replay corpus + regressions twice, with time and memory limits, and report
//!   ([`report`]: table, JUnit, JSON);
//! - [`fuzz`]: libFuzzer on each target for a budget (`wkfuzz fuzz`), read by [`campaign`]
//!   (final stats) and [`timeline`] (status lines over time, for the report page);
//! - [`alloc`]: the counting allocator the memory limit reads;
//! - [`eval`]: the planted-bug evaluation (`wkfuzz eval`; its runner needs the
//!   `planted-bugs` feature).

pub mod alloc;
pub mod campaign;
pub mod capture;
pub mod eval;
pub mod fuzz;
pub mod gate;
pub mod input;
pub mod minimize;
pub mod promote;
pub mod regression;
pub mod report;
pub mod signature;
pub mod timeline;
