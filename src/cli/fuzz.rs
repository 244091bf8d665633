//! `wkfuzz fuzz`: the harness's main job. Runs every fuzz target under libFuzzer (cargo-fuzz,
//! stable Rust, `-s none`) for a short budget from the committed corpus, then the release
//! gate, and prints one summary. Needs the checkout (it drives `fuzz/`); installs cargo-fuzz
//! if it is missing.

use anyhow::{bail, Context};
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};
use wkfuzz::targets::Target;
use wkfuzz::triage::campaign::{self, FuzzStats};
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
}

struct Run {
    target: Target,
    stats: FuzzStats,
    secs: f64,
    crashed: bool,
    new_inputs: usize,
}

impl Fuzz {
    pub(crate) fn run(self) -> anyhow::Result<ExitCode> {
        if !Path::new("fuzz/Cargo.toml").exists() {
            bail!("run `wkfuzz fuzz` from the wkfuzz checkout (no fuzz/Cargo.toml here)");
        }
        let targets: Vec<Target> = if self.targets.is_empty() {
            Target::gated()
        } else {
            self.targets
                .iter()
                .map(|n| {
                    Target::from_name(n).ok_or_else(|| anyhow::anyhow!("no target named {n:?}"))
                })
                .collect::<anyhow::Result<_>>()?
        };
        ensure_cargo_fuzz()?;
        println!("building fuzz targets (cargo fuzz build -s none, release)...");
        let status = Command::new("cargo")
            .args(["fuzz", "build", "-s", "none"])
            .status()
            .context("cargo fuzz build")?;
        if !status.success() {
            bail!("cargo fuzz build failed");
        }
        std::fs::create_dir_all("fuzz/logs")?;
        let mut runs = Vec::new();
        for &t in &targets {
            runs.push(self.fuzz_one(t)?);
        }
        println!(
            "\n{:<10} {:>6} {:>10} {:>8} {:>7} {:>8} {:>6}  result",
            "target", "secs", "execs", "exec/s", "cov", "ft", "new"
        );
        for r in &runs {
            println!(
                "{:<10} {:>6.0} {:>10} {:>8} {:>7} {:>8} {:>6}  {}",
                r.target.name(),
                r.secs,
                r.stats.execs,
                r.stats.exec_per_sec,
                r.stats.cov,
                r.stats.ft,
                r.new_inputs,
                if r.crashed { "CRASH" } else { "ok" }
            );
        }
        let mut failed = false;
        for r in runs.iter().filter(|r| r.crashed) {
            failed = true;
            let artifact = r
                .stats
                .artifact
                .clone()
                .unwrap_or_else(|| format!("fuzz/artifacts/{}/", r.target.name()));
            println!("\nCRASH in {}: {artifact}", r.target.name());
            println!("  reproduce: wkfuzz repro {artifact}");
            println!("  keep it:   wkfuzz promote {artifact} --title \"...\"");
            println!("  log:       fuzz/logs/{}.log", r.target.name());
        }
        if !self.no_gate {
            println!("\nrelease gate (corpus + regressions):");
            let gate = run_gate(&GateConfig::default(), &|_, _| {})?;
            print!("{}", report::table(&gate));
            failed |= !gate.passed();
        }
        println!("\nwkfuzz fuzz: {}", if failed { "FAIL" } else { "PASS" });
        Ok(if failed {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    }

    fn fuzz_one(&self, target: Target) -> anyhow::Result<Run> {
        let name = target.name();
        let new_dir = self.new_corpus.join(name);
        std::fs::create_dir_all(&new_dir)?;
        let before = count(&new_dir);
        let log_path = PathBuf::from(format!("fuzz/logs/{name}.log"));
        let log = std::fs::File::create(&log_path)?;
        let mut cmd = Command::new("cargo");
        cmd.args(["fuzz", "run", "-s", "none", name])
            .arg(&new_dir)
            .arg(Path::new("corpus").join(name))
            .arg("--")
            .arg(format!("-max_total_time={}", self.seconds))
            .args(["-print_final_stats=1", "-timeout=10", "-rss_limit_mb=2048"]);
        let dict = PathBuf::from(format!("fuzz/dict/{name}.dict"));
        if dict.exists() {
            cmd.arg(format!("-dict={}", dict.display()));
        }
        if let Some(seed) = self.seed {
            cmd.arg(format!("-seed={seed}"));
        }
        println!("fuzzing {name} for {} s ...", self.seconds);
        let start = Instant::now();
        let status = cmd
            .stdout(Stdio::null())
            .stderr(log)
            .status()
            .context("cargo fuzz run")?;
        let secs = start.elapsed().max(Duration::from_millis(1)).as_secs_f64();
        let text = std::fs::read_to_string(&log_path).unwrap_or_default();
        let stats = campaign::parse(&text);
        Ok(Run {
            target,
            secs,
            crashed: !status.success(),
            new_inputs: count(&new_dir).saturating_sub(before),
            stats,
        })
    }
}

fn count(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

fn ensure_cargo_fuzz() -> anyhow::Result<()> {
    let ok = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    if ok {
        return Ok(());
    }
    println!("installing cargo-fuzz (cargo install cargo-fuzz --locked) ...");
    let status = Command::new("cargo")
        .args(["install", "cargo-fuzz", "--locked"])
        .status()?;
    if !status.success() {
        bail!("cannot install cargo-fuzz");
    }
    Ok(())
}
