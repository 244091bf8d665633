//! `wkfuzz eval` (feature `planted-bugs` only): the Magma-style planted-bug evaluation
//! ([`wkfuzz::triage::eval`]): parse the flags, run the campaign, write the CSV and the
//! BENCHMARKS.md section, print the summary.

use anyhow::Context;
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use wkfuzz::triage::eval::{self, EvalConfig};

#[derive(Debug, Args)]
pub(crate) struct Eval {
    /// CI-sized: 30 s per run, one repetition, the plan's pairs (under 15 minutes).
    #[arg(long, conflicts_with = "full")]
    quick: bool,
    /// The documented long form: 600 s per run, 5 repetitions.
    #[arg(long)]
    full: bool,
    /// Seconds per run (overrides --quick/--full).
    #[arg(long)]
    budget: Option<u64>,
    /// Repetitions per pair, seeds 1..=N (overrides --quick/--full).
    #[arg(long)]
    reps: Option<u32>,
    /// Only these bugs (ids, e.g. TLS-127).
    #[arg(long, value_delimiter = ',')]
    bugs: Vec<String>,
    /// Only these targets.
    #[arg(long, value_delimiter = ',')]
    targets: Vec<String>,
    /// The raw results.
    #[arg(long, default_value = "eval/results.csv")]
    csv: PathBuf,
    /// Where the summary table goes (between the planted-eval markers); `-` for nowhere.
    #[arg(long, default_value = "BENCHMARKS.md")]
    benchmarks: String,
    /// Start from an empty corpus instead of the committed seeds (how far the fuzzer gets
    /// on its own; the seed corpus already holds inputs of several bug classes).
    #[arg(long)]
    no_seeds: bool,
    /// The libFuzzer binaries.
    #[arg(long, default_value = "fuzz/target/x86_64-unknown-linux-gnu/release")]
    bin_dir: PathBuf,
}

impl Eval {
    pub(crate) fn run(self) -> anyhow::Result<ExitCode> {
        let (budget, reps) = EvalConfig::preset(self.full);
        let config = EvalConfig {
            budget: self.budget.unwrap_or(budget),
            reps: self.reps.unwrap_or(reps),
            bugs: self.bugs,
            targets: self.targets,
            no_seeds: self.no_seeds,
            bin_dir: self.bin_dir,
            wkfuzz: std::env::current_exe().context("own path")?,
        };
        let runs = eval::run_campaign(&config, |run| println!("{}", eval::progress_line(run)))?;
        eval::write_csv(&self.csv, &runs)?;
        let table = eval::summary(&runs, config.budget, config.reps, config.no_seeds);
        println!("\n{table}");
        if self.benchmarks != "-" {
            eval::write_section(Path::new(&self.benchmarks), &table)?;
        }
        println!("raw results: {}", self.csv.display());
        Ok(ExitCode::SUCCESS)
    }
}
