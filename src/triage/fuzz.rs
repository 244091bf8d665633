//! Running libFuzzer on each target for a budget, the way `wkfuzz fuzz` does: cargo-fuzz on
//! stable (`-O -s none`), the committed corpus read-only (new inputs go to a separate
//! directory), the target's dictionary when it has one, the log kept in `fuzz/logs/`,
//! and a summary ([`table`], [`crash_report`]). Run from the checkout.

use super::campaign::{self, FuzzStats};
use super::timeline::{self, Sample};
use crate::targets::Target;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Where each target's libFuzzer log goes.
const LOG_DIR: &str = "fuzz/logs";

/// Why fuzzing could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FuzzError {
    /// Not in the wkfuzz checkout.
    #[error("run `wkfuzz fuzz` from the wkfuzz checkout (no fuzz/Cargo.toml here)")]
    NotCheckout,
    /// A target name that names none.
    #[error("no target named {0:?}")]
    NoTarget(String),
    /// `cargo install cargo-fuzz` failed.
    #[error("cannot install cargo-fuzz")]
    Install,
    /// `cargo fuzz build` failed.
    #[error("cargo fuzz build failed")]
    Build,
    /// A file or process operation failed.
    #[error("{what}")]
    Io {
        /// What was being done.
        what: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

fn io(what: impl Into<String>) -> impl FnOnce(std::io::Error) -> FuzzError {
    let what = what.into();
    move |source| FuzzError::Io { what, source }
}

/// How each target is fuzzed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FuzzConfig {
    /// Seconds per target.
    pub seconds: u64,
    /// Where new corpus entries go, one directory per target.
    pub new_corpus: PathBuf,
    /// libFuzzer seed (`None`: libFuzzer picks one).
    pub seed: Option<u64>,
}

/// One target's run.
#[derive(Clone, Debug)]
pub struct FuzzRun {
    /// The target.
    pub target: Target,
    /// What libFuzzer reported.
    pub stats: FuzzStats,
    /// Wall-clock seconds.
    pub secs: f64,
    /// libFuzzer exited with a failure (a crash, leak, timeout or OOM).
    pub crashed: bool,
    /// Inputs added to the new-corpus directory.
    pub new_inputs: usize,
    /// libFuzzer's status lines over time.
    pub timeline: Vec<Sample>,
    /// The log file.
    pub log: PathBuf,
}

/// The targets named in `names`; every fuzzed target when `names` is empty.
///
/// # Errors
/// [`FuzzError::NoTarget`] for the first unknown name.
pub fn targets_named(names: &[String]) -> Result<Vec<Target>, FuzzError> {
    if names.is_empty() {
        return Ok(Target::gated());
    }
    names
        .iter()
        .map(|n| Target::from_name(n).ok_or_else(|| FuzzError::NoTarget(n.clone())))
        .collect()
}

/// Refuses to run outside the checkout (the fuzz crate is needed).
///
/// # Errors
/// [`FuzzError::NotCheckout`].
pub fn check_checkout() -> Result<(), FuzzError> {
    if Path::new("fuzz/Cargo.toml").exists() {
        Ok(())
    } else {
        Err(FuzzError::NotCheckout)
    }
}

/// Whether `cargo fuzz` runs.
pub fn cargo_fuzz_installed() -> bool {
    Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `cargo install cargo-fuzz --locked`.
///
/// # Errors
/// [`FuzzError::Install`] if it fails.
pub fn install_cargo_fuzz() -> Result<(), FuzzError> {
    cargo(
        &["install", "cargo-fuzz", "--locked"],
        "cargo install cargo-fuzz",
        FuzzError::Install,
    )
}

/// `cargo fuzz build -O -s none` (every target; `fuzz/Cargo.toml` keeps debug assertions
/// and overflow checks on for wkfuzz, off for its dependencies).
///
/// # Errors
/// [`FuzzError::Build`] if it fails.
pub fn build() -> Result<(), FuzzError> {
    cargo(
        &["fuzz", "build", "-O", "-s", "none"],
        "cargo fuzz build",
        FuzzError::Build,
    )
}

/// Runs `cargo args` (output to the terminal); `failed` if it exits with a failure.
fn cargo(args: &[&str], what: &str, failed: FuzzError) -> Result<(), FuzzError> {
    let status = Command::new("cargo")
        .args(args)
        .status()
        .map_err(io(what))?;
    if status.success() {
        Ok(())
    } else {
        Err(failed)
    }
}

/// The `cargo fuzz run` command for `target`: new inputs into `new_dir`, the committed
/// corpus read as a second directory, the budget, the dictionary if `dict` exists.
fn run_command(
    config: &FuzzConfig,
    target: Target,
    new_dir: &Path,
    dict: Option<&Path>,
) -> Command {
    let name = target.name();
    let mut cmd = Command::new("cargo");
    cmd.args(["fuzz", "run", "-O", "-s", "none", name])
        .arg(new_dir)
        .arg(Path::new("corpus").join(name))
        .arg("--")
        .arg(format!("-max_total_time={}", config.seconds))
        .args(["-print_final_stats=1", "-timeout=10", "-rss_limit_mb=2048"]);
    if let Some(dict) = dict {
        cmd.arg(format!("-dict={}", dict.display()));
    }
    if let Some(seed) = config.seed {
        cmd.arg(format!("-seed={seed}"));
    }
    cmd
}

/// Fuzzes `target` for the budget; its libFuzzer log goes to `fuzz/logs/<target>.log`.
///
/// # Errors
/// [`FuzzError::Io`] if a directory or the log cannot be made or cargo cannot start.
pub fn fuzz_one(config: &FuzzConfig, target: Target) -> Result<FuzzRun, FuzzError> {
    let name = target.name();
    let new_dir = config.new_corpus.join(name);
    std::fs::create_dir_all(&new_dir).map_err(io(format!("creating {}", new_dir.display())))?;
    std::fs::create_dir_all(LOG_DIR).map_err(io(format!("creating {LOG_DIR}")))?;
    let before = count(&new_dir);
    let log_path = PathBuf::from(format!("{LOG_DIR}/{name}.log"));
    let log =
        std::fs::File::create(&log_path).map_err(io(format!("creating {}", log_path.display())))?;
    let dict = PathBuf::from(format!("fuzz/dict/{name}.dict"));
    let mut cmd = run_command(
        config,
        target,
        &new_dir,
        dict.exists().then_some(dict.as_path()),
    );
    let start = Instant::now();
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(io("cargo fuzz run"))?;
    // libFuzzer's status lines are timestamped as they come (the report page plots them)
    // and written to the log unchanged.
    let timeline = match child.stderr.take() {
        Some(stderr) => timeline::record(stderr, log, || {
            u64::try_from(start.elapsed().as_millis()).unwrap_or(u64::MAX)
        })
        .map_err(io(format!("reading the output of {name}")))?,
        None => Vec::new(),
    };
    let status = child.wait().map_err(io("cargo fuzz run"))?;
    let secs = start.elapsed().max(Duration::from_millis(1)).as_secs_f64();
    let text = std::fs::read_to_string(&log_path).unwrap_or_default();
    Ok(FuzzRun {
        target,
        secs,
        crashed: !status.success(),
        new_inputs: count(&new_dir).saturating_sub(before),
        stats: campaign::parse(&text),
        timeline,
        log: log_path,
    })
}

fn count(dir: &Path) -> usize {
    std::fs::read_dir(dir).map(|d| d.count()).unwrap_or(0)
}

/// The summary table: one line per target.
pub fn table(runs: &[FuzzRun]) -> String {
    let mut out = format!(
        "{:<10} {:>6} {:>10} {:>8} {:>7} {:>8} {:>6}  result\n",
        "target", "secs", "execs", "exec/s", "cov", "ft", "new"
    );
    for r in runs {
        let _ = writeln!(
            out,
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
    out
}

/// What to do about a crashed run: where the input is, and the repro and promote
/// commands.
pub fn crash_report(run: &FuzzRun) -> String {
    let name = run.target.name();
    let artifact = run
        .stats
        .artifact
        .clone()
        .unwrap_or_else(|| format!("fuzz/artifacts/{name}/"));
    format!(
        "CRASH in {name}: {artifact}\n  reproduce: wkfuzz repro {artifact}\n  keep it:   wkfuzz promote {artifact} --title \"...\"\n  log:       {LOG_DIR}/{name}.log\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(target: Target, crashed: bool, artifact: Option<&str>) -> FuzzRun {
        FuzzRun {
            target,
            stats: FuzzStats {
                execs: 45_170,
                exec_per_sec: 2_823,
                cov: 6_068,
                ft: 15_366,
                artifact: artifact.map(str::to_owned),
                ..FuzzStats::default()
            },
            secs: 20.4,
            crashed,
            new_inputs: 3,
            timeline: Vec::new(),
            log: PathBuf::from("fuzz/logs/x.log"),
        }
    }

    #[test]
    fn names_choose_targets_and_none_means_all() {
        assert_eq!(targets_named(&[]).unwrap(), Target::gated());
        let names = ["session".to_owned(), "frame".to_owned()];
        assert_eq!(
            targets_named(&names).unwrap(),
            vec![
                Target::from_name("session").unwrap(),
                Target::from_name("frame").unwrap()
            ]
        );
        let err = targets_named(&["sesion".to_owned()]).unwrap_err();
        assert_eq!(err.to_string(), "no target named \"sesion\"");
    }

    #[test]
    fn the_command_reads_the_committed_corpus_and_writes_elsewhere() {
        let config = FuzzConfig {
            seconds: 20,
            new_corpus: "fuzz/new-corpus".into(),
            seed: Some(7),
        };
        let frame = Target::from_name("frame").unwrap();
        let dict = Path::new("fuzz/dict/frame.dict");
        let cmd = run_command(
            &config,
            frame,
            Path::new("fuzz/new-corpus/frame"),
            Some(dict),
        );
        let args: Vec<&str> = cmd.get_args().map(|a| a.to_str().unwrap()).collect();
        assert_eq!(cmd.get_program(), "cargo");
        assert_eq!(
            args,
            [
                "fuzz",
                "run",
                "-O",
                "-s",
                "none",
                "frame",
                "fuzz/new-corpus/frame",
                "corpus/frame",
                "--",
                "-max_total_time=20",
                "-print_final_stats=1",
                "-timeout=10",
                "-rss_limit_mb=2048",
                "-dict=fuzz/dict/frame.dict",
                "-seed=7",
            ]
        );
        let config = FuzzConfig {
            seed: None,
            ..config
        };
        let cmd = run_command(&config, frame, Path::new("n/frame"), None);
        let last = cmd.get_args().last().unwrap().to_str().unwrap().to_owned();
        assert_eq!(last, "-rss_limit_mb=2048");
    }

    #[test]
    fn the_summary_has_a_line_per_target_and_advice_per_crash() {
        let frame = Target::from_name("frame").unwrap();
        let session = Target::from_name("session").unwrap();
        let runs = [
            run(frame, false, None),
            run(session, true, Some("fuzz/artifacts/session/crash-0f09")),
        ];
        assert_eq!(
            table(&runs),
            "target       secs      execs   exec/s     cov       ft    new  result\n\
             frame          20      45170     2823    6068    15366      3  ok\n\
             session        20      45170     2823    6068    15366      3  CRASH\n"
        );
        assert_eq!(
            crash_report(&runs[1]),
            "CRASH in session: fuzz/artifacts/session/crash-0f09\n\
             \x20 reproduce: wkfuzz repro fuzz/artifacts/session/crash-0f09\n\
             \x20 keep it:   wkfuzz promote fuzz/artifacts/session/crash-0f09 --title \"...\"\n\
             \x20 log:       fuzz/logs/session.log\n"
        );
        // No artifact line in the log: the target's artifact directory.
        assert!(crash_report(&run(session, true, None))
            .starts_with("CRASH in session: fuzz/artifacts/session/\n"));
    }
}
