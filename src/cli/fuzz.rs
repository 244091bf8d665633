//! `wkfuzz fuzz`: the harness's main job. Runs every fuzz target under libFuzzer (cargo-fuzz,
//! stable Rust, `-s none`) for a short budget from the committed corpus
//! ([`wkfuzz::triage::fuzz`]), then the release gate, and prints one summary and writes the
//! campaign report page (`--report`, under `target/`). Needs the checkout (it drives
//! `fuzz/`); installs cargo-fuzz if it is missing.

use anyhow::Context;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use wkfuzz::pages::campaign::{self as page, Campaign};
use wkfuzz::triage::fuzz::{self, FuzzConfig};
use wkfuzz::triage::gate::{run_gate, GateConfig};
use wkfuzz::triage::report;

#[derive(Debug, Args)]
pub(crate) struct Fuzz {
    /// Targets to fuzz (default: all).
    targets: Vec<String>,
    /// Seconds per target.
    #[arg(long, default_value_t = 20)]
    seconds: u64,
    /// Skip the gate after fuzzing.
    #[arg(long)]
    no_gate: bool,
    /// Where new corpus entries go (the committed corpus is only read).
    #[arg(long, default_value = "fuzz/new-corpus")]
    new_corpus: PathBuf,
    /// libFuzzer seed (default: libFuzzer picks one).
    #[arg(long)]
    seed: Option<u64>,
    /// Where the campaign report page goes.
    #[arg(long, default_value = "target/fuzz-report/index.html")]
    report: PathBuf,
    /// The coverage summary shown on the page when present (`wkfuzz coverage` writes it).
    #[arg(long, default_value = "target/coverage-report/summary.json")]
    coverage_summary: PathBuf,
}

impl Fuzz {
    /// Exit 0 when nothing crashed and the gate passed, 1 otherwise.
    pub(crate) fn run(self) -> anyhow::Result<ExitCode> {
        fuzz::check_checkout()?;
        let targets = fuzz::targets_named(&self.targets)?;
        if !fuzz::cargo_fuzz_installed() {
            println!("installing cargo-fuzz (cargo install cargo-fuzz --locked) ...");
            fuzz::install_cargo_fuzz()?;
        }
        println!("building fuzz targets (cargo fuzz build -O -s none)...");
        fuzz::build()?;
        let config = FuzzConfig {
            seconds: self.seconds,
            new_corpus: self.new_corpus,
            seed: self.seed,
        };
        let mut runs = Vec::new();
        for &t in &targets {
            println!("fuzzing {} for {} s ...", t.name(), config.seconds);
            runs.push(fuzz::fuzz_one(&config, t)?);
        }
        print!("\n{}", fuzz::table(&runs));
        let mut failed = false;
        for r in runs.iter().filter(|r| r.crashed) {
            failed = true;
            print!("\n{}", fuzz::crash_report(r));
        }
        let mut gate = None;
        if !self.no_gate {
            println!("\nrelease gate (corpus + regressions):");
            let g = run_gate(&GateConfig::default(), &|_, _| {})?;
            print!("{}", report::table(&g));
            failed |= !g.passed();
            gate = Some(g);
        }
        let page_runs: Vec<page::FuzzRun> = runs.iter().map(page::FuzzRun::from).collect();
        let campaign = Campaign {
            budget_secs: self.seconds,
            runs: &page_runs,
            gate: gate.as_ref(),
            coverage: page::latest_coverage(&self.coverage_summary),
        };
        page::write(&self.report, &campaign)
            .with_context(|| format!("writing {}", self.report.display()))?;
        println!("\ncampaign report: {}", self.report.display());
        println!("\nwkfuzz fuzz: {}", if failed { "FAIL" } else { "PASS" });
        Ok(if failed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    }
}
