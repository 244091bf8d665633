//! `wkfuzz eval` (feature `planted-bugs` only): the Magma-style planted-bug evaluation
//! ([`wkfuzz::triage::eval`]): parse the flags, run the campaign, write the CSV and the
//! BENCHMARKS.md section, print the summary; with `--survival` (or `--report`, from CSVs
//! of earlier runs) the detection table per pair and the survival plot.

use anyhow::Context;
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use wkfuzz::triage::eval::{self, survival, EvalConfig};

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
    /// Start at this repetition (seed): continue a campaign that was cut short, writing
    /// the new runs to another --csv, then --report both.
    #[arg(long, default_value_t = 1)]
    first_rep: u32,
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
    /// Run without the target's dictionary (`fuzz/dict/<target>.dict`), which is otherwise
    /// passed as `wkfuzz fuzz` and ClusterFuzzLite pass it.
    #[arg(long)]
    no_dict: bool,
    /// The libFuzzer binaries.
    #[arg(long, default_value = "fuzz/target/x86_64-unknown-linux-gnu/release")]
    bin_dir: PathBuf,
    /// Only the bugs of this set (1: WuKongIM's crash classes, 2: the deeper second set;
    /// default: the sets of the bugs named by --bugs, else 1).
    #[arg(long)]
    set: Option<u8>,
    /// Runs at once (each fuzzer uses one core).
    #[arg(long, default_value_t = 1)]
    jobs: usize,
    /// Budget and times in CPU seconds of the fuzzer process (Linux /proc), not wall
    /// seconds: on a shared machine every run then gets the same work.
    #[arg(long)]
    cpu_time: bool,
    /// Also write the survival plot (SVG) here, and the detection table (fraction detected
    /// and median time-to-detect per pair) into the set's BENCHMARKS.md section.
    #[arg(long)]
    survival: Option<PathBuf>,
    /// Run nothing: read these CSVs of earlier runs (comma-separated) and write the
    /// detection table and, with --survival, the plot.
    #[arg(long, value_delimiter = ',')]
    report: Vec<PathBuf>,
}

impl Eval {
    pub(crate) fn run(self) -> anyhow::Result<ExitCode> {
        if !self.report.is_empty() {
            let mut trials = Vec::new();
            for csv in &self.report {
                let text = std::fs::read_to_string(csv)
                    .with_context(|| format!("reading {}", csv.display()))?;
                trials.extend(survival::read_csv(&text));
            }
            self.write_survival(&trials)?;
            return Ok(ExitCode::SUCCESS);
        }
        let (budget, reps) = EvalConfig::preset(self.full);
        let config = EvalConfig {
            budget: self.budget.unwrap_or(budget),
            reps: self.reps.unwrap_or(reps),
            first_rep: self.first_rep,
            bugs: self.bugs.clone(),
            targets: self.targets.clone(),
            no_seeds: self.no_seeds,
            dict: !self.no_dict,
            bin_dir: self.bin_dir.clone(),
            wkfuzz: std::env::current_exe().context("own path")?,
            set: self.set,
            jobs: self.jobs,
            cpu_time: self.cpu_time,
        };
        // The CSV is rewritten as each run ends, so a campaign cut short keeps its results.
        let mut so_far = Vec::new();
        let runs = eval::run_campaign(&config, |run| {
            println!("{}", eval::progress_line(run));
            so_far.push(run.clone());
            if let Err(e) = eval::write_csv(&self.csv, &so_far) {
                eprintln!("writing {}: {e:#}", self.csv.display());
            }
        })?;
        eval::write_csv(&self.csv, &runs)?;
        let table = eval::summary(&runs, config.budget, config.reps, config.no_seeds);
        println!("\n{table}");
        if self.benchmarks != "-" && self.survival.is_none() {
            eval::write_section(Path::new(&self.benchmarks), &table)?;
        }
        println!("raw results: {}", self.csv.display());
        if self.survival.is_some() {
            self.write_survival(&survival::read_csv(&eval::csv(&runs)))?;
        }
        Ok(ExitCode::SUCCESS)
    }

    /// The detection table (stdout, and the set's BENCHMARKS.md section) and, with
    /// --survival, the plot.
    fn write_survival(&self, trials: &[survival::Trial]) -> anyhow::Result<()> {
        let table = survival::table(&survival::pair_stats(trials));
        println!("\n{table}");
        if let Some(path) = &self.survival {
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                std::fs::create_dir_all(dir)?;
            }
            let title = "Planted bugs: fraction of trials not yet detected";
            std::fs::write(path, survival::svg(trials, title))?;
            println!("survival plot: {}", path.display());
        }
        if self.benchmarks != "-" {
            let path = Path::new(&self.benchmarks);
            let set = self.set.unwrap_or(2);
            let text = std::fs::read_to_string(path).unwrap_or_default();
            let heading = format!("### Planted bugs, set {set}: detection and time-to-detect");
            let name = format!("planted-eval-set{set}");
            std::fs::write(
                path,
                eval::with_marked_section(&text, &name, &heading, &table),
            )
            .with_context(|| format!("writing {}", path.display()))?;
        }
        Ok(())
    }
}
