//! `wkfuzz coverage`: what the committed corpus and regressions reach, on stable Rust.
//!
//! The `wkfuzz` binary is built with `-C instrument-coverage` in its own target directory
//! ([`instrument`]); each target's inputs are replayed through the release gate in that
//! binary ([`replay`]), one process and one raw profile per target; llvm-profdata and
//! llvm-cov from rustup's `llvm-tools` ([`llvm`]) turn the profiles into per-file counts, an
//! lcov file and HTML ([`run`]). Files are grouped into modules by path prefix
//! ([`modules`]); the [`summary`] says which targets reach each module and which lines of
//! the peer-input modules ([`lcov`]) nothing reaches; [`threshold`] is `--min-coverage`;
//! [`table`] prints it all.

mod error;
pub mod instrument;
pub mod lcov;
pub mod llvm;
pub mod modules;
pub mod replay;
pub mod run;
pub mod summary;
pub mod table;
pub mod threshold;

pub use error::CoverageError;
