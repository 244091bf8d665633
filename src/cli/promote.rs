//! `wkfuzz promote INPUT --target T --title "..."`: minimize a crash and keep it as a named
//! regression (and as a corpus seed).

use anyhow::{bail, Context};
use clap::{Args, ValueEnum};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use wkfuzz::targets::{corpus, Target};
use wkfuzz::triage::capture::run_caught;
use wkfuzz::triage::regression::{self, Meta};
use wkfuzz::triage::{input, minimize, signature::Signature};

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Minimizer {
    /// `cargo fuzz tmin` when cargo-fuzz is installed, else builtin.
    Auto,
    /// The built-in delta-debugging minimizer (stable Rust, keeps the signature).
    Builtin,
    /// `cargo fuzz tmin` (builds the fuzz target).
    CargoFuzz,
    /// Keep the input as it is.
    None,
}

#[derive(Debug, Args)]
pub(crate) struct Promote {
    /// A file, `hex:...` or `base64:...`.
    input: String,
    /// Target (default: from the path).
    #[arg(long)]
    target: Option<String>,
    /// One line saying what the bug is.
    #[arg(long)]
    title: String,
    /// Where the input came from (default: the input argument).
    #[arg(long)]
    source: Option<String>,
    /// How to minimize.
    #[arg(long, value_enum, default_value_t = Minimizer::Auto)]
    minimizer: Minimizer,
    /// Regressions root.
    #[arg(long, default_value = "regressions")]
    regressions: PathBuf,
    /// Corpus root (the minimized input is added as a seed).
    #[arg(long, default_value = "corpus")]
    corpus: PathBuf,
    /// The bug is already fixed (the input no longer crashes): keep the input as it is,
    /// with the signature from the original report given by --signature.
    #[arg(long, requires = "signature")]
    fixed: bool,
    /// The crash signature, with --fixed.
    #[arg(long)]
    signature: Option<String>,
}

impl Promote {
    pub(crate) fn run(self) -> anyhow::Result<ExitCode> {
        let input = input::read_input(&self.input)?;
        let target = input::resolve_target(self.target.as_deref(), &input)?;
        let signature = match (run_caught(target, &input.data), &self.signature) {
            (Err(crash), _) => {
                println!("crash:     {crash}");
                crash.signature
            }
            (Ok(_), Some(sig)) if self.fixed => Signature(sig.clone()),
            (Ok(outcome), _) => bail!(
                "the input does not crash {target} (outcome: {outcome}); nothing to promote \
                 (for a bug already fixed, pass --fixed --signature \"...\")"
            ),
        };
        println!("signature: {signature}");
        let existing = regression::load_all(&self.regressions)?;
        if let Some(dup) = regression::find_duplicate(&existing, target, &signature) {
            bail!(
                "already covered by regression {} ({}): same signature",
                dup.slug,
                dup.bin.display()
            );
        }
        let minimized = if self.fixed {
            input.data.clone()
        } else {
            self.minimize(target, &input.data, &signature)?
        };
        println!(
            "minimized: {} -> {} bytes",
            input.data.len(),
            minimized.len()
        );
        let meta = Meta {
            target: target.name().to_owned(),
            title: self.title.clone(),
            signature: signature.0.clone(),
            date: wkfuzz::triage::regression::today(),
            source: self.source.clone().unwrap_or_else(|| input.spec.clone()),
            expect: "no-panic".into(),
            outcome: None,
        };
        let bin = regression::write(&self.regressions, target, &meta, &minimized)?;
        let (seed, _) = corpus::add(&self.corpus.join(target.name()), &minimized)?;
        println!("wrote:     {} (+ .toml, .txt)", bin.display());
        println!("corpus:    {}", seed.display());
        println!("next: fix the bug; `cargo test --test regressions` and `wkfuzz gate` pass once it is fixed");
        Ok(ExitCode::SUCCESS)
    }

    fn minimize(&self, target: Target, data: &[u8], want: &Signature) -> anyhow::Result<Vec<u8>> {
        let use_cargo_fuzz = match self.minimizer {
            Minimizer::None => return Ok(data.to_vec()),
            Minimizer::Builtin => false,
            Minimizer::CargoFuzz => true,
            Minimizer::Auto => cargo_fuzz_available() && Path::new("fuzz/Cargo.toml").exists(),
        };
        if use_cargo_fuzz {
            match cargo_fuzz_tmin(target, data) {
                Ok(small) if matches!(run_caught(target, &small), Err(c) if &c.signature == want) => {
                    println!("minimizer: cargo fuzz tmin");
                    return Ok(small);
                }
                Ok(_) => println!("minimizer: cargo fuzz tmin changed the signature; using the built-in minimizer"),
                Err(e) => println!("minimizer: cargo fuzz tmin failed ({e:#}); using the built-in minimizer"),
            }
        }
        let (small, runs) = minimize::ddmin(target, data, want);
        println!("minimizer: built-in ddmin, {runs} runs");
        Ok(small)
    }
}

fn cargo_fuzz_available() -> bool {
    Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

fn cargo_fuzz_tmin(target: Target, data: &[u8]) -> anyhow::Result<Vec<u8>> {
    let dir = tempfile::tempdir()?;
    let crash = dir.path().join("crash");
    std::fs::write(&crash, data)?;
    let out = Command::new("cargo")
        .args(["fuzz", "tmin", "-s", "none", target.name()])
        .arg(&crash)
        .args(["--", "-runs=2000"])
        .output()
        .context("running cargo fuzz tmin")?;
    let log = String::from_utf8_lossy(&out.stderr);
    let path = minimized_artifact(&log).context("cargo fuzz tmin printed no minimized file")?;
    Ok(std::fs::read(path)?)
}

/// The file `cargo fuzz tmin` says it minimized to: the line after "Minimized artifact:"
/// (cargo-fuzz 0.13), else the last `minimized-from-` file libFuzzer wrote.
fn minimized_artifact(log: &str) -> Option<&str> {
    let mut lines = log.lines().map(str::trim);
    if lines.by_ref().any(|l| l == "Minimized artifact:") {
        if let Some(path) = lines.find(|l| !l.is_empty()) {
            return Some(path);
        }
    }
    log.lines()
        .rev()
        .find_map(|l| l.split_whitespace().find(|w| w.contains("minimized-from-")))
        .map(|w| w.trim_matches(|c| c == '"' || c == '\'' || c == ','))
}

#[cfg(test)]
mod tests {
    use super::minimized_artifact;

    #[test]
    fn finds_the_minimized_artifact_in_cargo_fuzz_tmin_output() {
        // The end of a real `cargo fuzz tmin` log (cargo-fuzz 0.13.2).
        let log = "CRASH_MIN: failed to minimize beyond /w/fuzz/artifacts/t/minimized-from-1c09 (4 bytes), exiting\n\
            \n\
            Minimized artifact:\n\
            \n\
            \tfuzz/artifacts/t/minimized-from-1c09\n\
            \n\
            Reproduce with:\n";
        assert_eq!(
            minimized_artifact(log),
            Some("fuzz/artifacts/t/minimized-from-1c09")
        );
        // Without cargo-fuzz's summary: the last file libFuzzer names.
        let bare = "Test unit written to /a/minimized-from-aa\n\
            CRASH_MIN: failed to minimize beyond /a/minimized-from-bb (4 bytes), exiting\n";
        assert_eq!(minimized_artifact(bare), Some("/a/minimized-from-bb"));
        assert_eq!(minimized_artifact("no crash\n"), None);
    }
}
