//! The Magma-style planted-bug evaluation behind `wkfuzz eval`.
//!
//! For each (bug, target) pair of the [`PLAN`] and each repetition, the runner (feature
//! `planted-bugs`) runs the target's libFuzzer binary (built by
//! `cargo fuzz build -O -s none --features planted-bugs`) from the committed corpus, read-only
//! (a temp dir is the writable first corpus dir), with `WKFUZZ_PLANT=<bug>` and
//! `-seed=<rep>`, for a time budget. The canary lines the planted code prints to stderr
//! (`<prefix> REACHED|TRIGGERED <id>`) are time-stamped as they arrive ([`Timeline`]):
//! that gives time-to-reach and time-to-trigger; libFuzzer's crash line gives
//! time-to-detect. The crash input is then replayed by `wkfuzz repro` (same bug planted)
//! for its signature and to confirm the crash is the planted bug ([`replay_verdict`]).
//!
//! Every run goes to a CSV ([`csv`]), a markdown summary ([`summary`]) to stdout and into
//! BENCHMARKS.md between markers ([`with_section`]); each crash input is kept under
//! `eval/artifacts/`.
//!
//! The second set (`--set 2`, [`SECOND_SET`]) is run from an empty corpus, several trials
//! at a time (`--jobs`), with budgets and times counted in the fuzzer's CPU seconds
//! (`--cpu-time`, so a shared machine shortens no trial), and reported per pair as the
//! fraction of trials that detected the bug and the median time-to-detect, with a survival
//! plot ([`survival`]).
//!
//! Layout: `plan.rs` (which targets face which bug), `canary.rs` (reading stderr and the
//! replay), `report.rs` (CSV, summary, BENCHMARKS section), `survival.rs` (detection
//! fractions, medians, the plot) are pure and compiled in every build, so their tests run
//! with the default features; `runner.rs` (feature `planted-bugs` only) starts the
//! processes.

mod canary;
mod plan;
mod report;
#[cfg(feature = "planted-bugs")]
mod runner;
pub mod survival;

pub use canary::{replay_verdict, Timeline};
pub use plan::{kind, select, select_set, set_of, BASELINES, PLAN, SECOND_SET};
pub use report::{csv, progress_line, summary, with_marked_section, with_section, write_section};
#[cfg(feature = "planted-bugs")]
pub use runner::{run_campaign, write_csv, EvalConfig};

/// Why the evaluation stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EvalError {
    /// `--bugs` names no planted bug.
    #[error("no planted bug {0:?}")]
    NoSuchBug(String),
    /// A libFuzzer binary is not built.
    #[error("{0} missing: cargo fuzz build -O -s none --features planted-bugs")]
    MissingBinary(String),
    /// A file or process operation failed.
    #[error("{what}")]
    Io {
        /// What was being done (names the file or command).
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

/// One libFuzzer run and what came of it.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Run {
    /// The planted bug's id (`TRUNC`).
    pub bug: String,
    /// The fuzz target.
    pub target: String,
    /// Repetition, also the libFuzzer seed (1-based).
    pub rep: u32,
    /// Seconds the run was given.
    pub budget: u64,
    /// Seconds from start to the first REACHED canary.
    pub reach_s: Option<f64>,
    /// Seconds from start to the first TRIGGERED canary.
    pub trigger_s: Option<f64>,
    /// The seed corpus was still loading when the bug triggered.
    pub in_seeds: bool,
    /// Seconds from start to libFuzzer's crash report.
    pub crash_s: Option<f64>,
    /// The crash input fires the bug's TRIGGERED canary under `repro`.
    pub crash_is_bug: bool,
    /// The crash's signature under `repro` (empty without a crash).
    pub signature: String,
    /// Where the crash input is kept (empty without a crash).
    pub artifact: String,
    /// Inputs executed.
    pub execs: u64,
    /// libFuzzer's average executions per second.
    pub exec_per_sec: u64,
    /// Wall-clock seconds of the whole run.
    pub wall_s: f64,
}
