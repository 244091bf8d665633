//! `wkfuzz gate`: the release gate over the committed corpus and regressions.

use clap::Args;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use wkfuzz::targets::Target;
use wkfuzz::triage::gate::{run_gate, GateConfig};
use wkfuzz::triage::report;

#[derive(Debug, Args)]
pub(crate) struct Gate {
    /// Targets to replay (default: all, and `wire`: the wire regressions, replayed
    /// against an in-process reference server over sockets).
    #[arg(long = "target", value_name = "T")]
    targets: Vec<String>,
    /// Corpus root.
    #[arg(long, default_value = "corpus")]
    corpus: PathBuf,
    /// Regressions root.
    #[arg(long, default_value = "regressions")]
    regressions: PathBuf,
    /// Seconds allowed per input (both runs).
    #[arg(long, default_value_t = 10)]
    time_limit: u64,
    /// MiB one input may have allocated at once.
    #[arg(long, default_value_t = 256)]
    memory_limit: usize,
    /// Worker threads [default: number of CPUs]
    #[arg(long)]
    jobs: Option<usize>,
    /// Also write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Also write a JSON report here.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
}

impl Gate {
    /// Exit 0 pass, 1 fail, 2 error.
    pub(crate) fn run(self) -> anyhow::Result<ExitCode> {
        let mut config = GateConfig {
            corpus: self.corpus,
            regressions: self.regressions,
            ..GateConfig::default()
        };
        if !self.targets.is_empty() {
            config.targets = self
                .targets
                .iter()
                .filter(|n| *n != "wire")
                .map(|n| {
                    Target::from_name(n).ok_or_else(|| anyhow::anyhow!("no target named {n:?}"))
                })
                .collect::<anyhow::Result<_>>()?;
        }
        config.time_limit = Duration::from_secs(self.time_limit);
        config.memory_limit = self.memory_limit.saturating_mul(1 << 20);
        if let Some(j) = self.jobs {
            config.jobs = j.max(1);
        }
        let started = std::time::Instant::now();
        let tty = std::io::stderr().is_terminal();
        let progress = move |done: usize, total: usize| {
            if tty && (done % 8 == 0 || done == total) {
                let width = 30;
                let filled = (done * width).checked_div(total).unwrap_or(width);
                eprint!(
                    "\r[{}{}] {done}/{total}",
                    "#".repeat(filled),
                    " ".repeat(width - filled)
                );
                if done == total {
                    eprintln!();
                }
                let _ = std::io::stderr().flush();
            }
        };
        let mut report = run_gate(&config, &progress)?;
        if self.targets.is_empty() || self.targets.iter().any(|t| t == "wire") {
            report.wire =
                wkfuzz::attack::replay::gate(&config.regressions).map_err(anyhow::Error::msg)?;
            report.elapsed = started.elapsed();
        }
        print!("{}", report::table(&report));
        if let Some(p) = &self.junit {
            std::fs::write(p, report::junit(&report))?;
        }
        if let Some(p) = &self.json {
            std::fs::write(p, report::json(&report))?;
        }
        Ok(if report.passed() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    }
}
