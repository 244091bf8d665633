//! Running the evaluation (feature `planted-bugs`): one libFuzzer process per (bug,
//! target, repetition), its stderr time-stamped line by line, each crash input kept and
//! replayed through `wkfuzz repro`.

use super::{replay_verdict, select, EvalError, Run, Timeline};
use crate::planted::{Bug, CANARY_PREFIX};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

/// Where the crash inputs are kept.
const ARTIFACTS: &str = "eval/artifacts";

/// What to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalConfig {
    /// Seconds per run.
    pub budget: u64,
    /// Repetitions per pair, libFuzzer seeds 1..=reps.
    pub reps: u32,
    /// Only these bugs (all when empty).
    pub bugs: Vec<String>,
    /// Only these targets (all when empty).
    pub targets: Vec<String>,
    /// Start from an empty corpus instead of the committed seeds.
    pub no_seeds: bool,
    /// The libFuzzer binaries, one per target.
    pub bin_dir: PathBuf,
    /// The `wkfuzz` binary (built with the feature) that replays crashes.
    pub wkfuzz: PathBuf,
}

impl EvalConfig {
    /// Budget and repetitions of the two documented forms: `--full` is 600 s x 5, the
    /// default (`--quick`) 30 s x 1.
    pub fn preset(full: bool) -> (u64, u32) {
        if full {
            (600, 5)
        } else {
            (30, 1)
        }
    }
}

fn io(what: String) -> impl FnOnce(std::io::Error) -> EvalError {
    move |source| EvalError::Io { what, source }
}

/// Runs every selected (bug, target) pair `reps` times, calling `on_run` as each run
/// ends. Run from the checkout (the corpus is read from `corpus/`, crash inputs go to
/// `eval/artifacts/`).
///
/// # Errors
/// An unknown bug, a missing libFuzzer binary, or a process or file operation that fails.
pub fn run_campaign(
    config: &EvalConfig,
    mut on_run: impl FnMut(&Run),
) -> Result<Vec<Run>, EvalError> {
    let pairs = select(&config.bugs, &config.targets)?;
    std::fs::create_dir_all(ARTIFACTS).map_err(io(format!("creating {ARTIFACTS}")))?;
    let mut runs = Vec::new();
    for (bug, target) in pairs {
        let bug = Bug::from_id(bug).ok_or_else(|| EvalError::NoSuchBug(bug.to_owned()))?;
        let bin = config.bin_dir.join(target);
        if !bin.exists() {
            return Err(EvalError::MissingBinary(bin.display().to_string()));
        }
        for rep in 1..=config.reps {
            let run = run_one(config, &bin, bug, target, rep)?;
            on_run(&run);
            runs.push(run);
        }
    }
    Ok(runs)
}

/// Writes the CSV of `runs` to `path`, creating its directory.
///
/// # Errors
/// [`EvalError::Io`] naming the file.
pub fn write_csv(path: &Path, runs: &[Run]) -> Result<(), EvalError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(io(format!("creating {}", dir.display())))?;
    }
    std::fs::write(path, super::csv(runs)).map_err(io(format!("writing {}", path.display())))
}

/// Runs one libFuzzer process and time-stamps its stderr.
fn run_one(
    config: &EvalConfig,
    bin: &Path,
    bug: Bug,
    target: &str,
    rep: u32,
) -> Result<Run, EvalError> {
    let work = tempfile::tempdir().map_err(io("creating a temp dir".into()))?;
    let new_corpus = work.path().join("corpus");
    std::fs::create_dir_all(&new_corpus)
        .map_err(io(format!("creating {}", new_corpus.display())))?;
    let prefix = format!("{}/", work.path().display());
    let start = Instant::now();
    let mut cmd = Command::new(bin);
    cmd.arg(&new_corpus);
    if !config.no_seeds {
        cmd.arg(Path::new("corpus").join(target));
    }
    let mut child = cmd
        .arg(format!("-max_total_time={}", config.budget))
        .arg(format!("-seed={rep}"))
        .arg(format!("-artifact_prefix={prefix}"))
        .args(["-print_final_stats=1", "-timeout=10", "-rss_limit_mb=2048"])
        .env("WKFUZZ_PLANT", bug.id())
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(io(format!("starting {}", bin.display())))?;
    let stderr = child.stderr.take().ok_or_else(|| EvalError::Io {
        what: "stderr".into(),
        source: std::io::ErrorKind::BrokenPipe.into(),
    })?;
    let mut timeline = Timeline::new(CANARY_PREFIX, bug.id());
    let mut log = String::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap_or_default();
        timeline.handle_line(&line, start.elapsed().as_secs_f64());
        log.push_str(&line);
        log.push('\n');
    }
    let _ = child.wait();
    let stats = crate::triage::campaign::parse(&log);
    let mut run = Run {
        bug: bug.id().into(),
        target: target.into(),
        rep,
        budget: config.budget,
        reach_s: timeline.reach_s,
        trigger_s: timeline.trigger_s,
        in_seeds: timeline.in_seeds,
        crash_s: timeline.crash_s,
        execs: stats.execs,
        exec_per_sec: stats.exec_per_sec,
        wall_s: start.elapsed().as_secs_f64(),
        ..Run::default()
    };
    if let Some(artifact) = stats.artifact.filter(|_| run.crash_s.is_some()) {
        let tag = if config.no_seeds { "-noseeds" } else { "" };
        let kept = PathBuf::from(format!("{ARTIFACTS}/{bug}-{target}-{rep}{tag}"));
        std::fs::copy(&artifact, &kept).map_err(io(format!("copying {artifact}")))?;
        run.artifact = kept.display().to_string();
        (run.signature, run.crash_is_bug) = replay(&config.wkfuzz, bug, target, &kept)?;
    }
    Ok(run)
}

/// Replays a crash input through `wkfuzz repro` with the bug planted.
fn replay(
    wkfuzz: &Path,
    bug: Bug,
    target: &str,
    input: &Path,
) -> Result<(String, bool), EvalError> {
    let out = Command::new(wkfuzz)
        .args(["--log", "off", "repro", "--target", target])
        .arg(input)
        .env("WKFUZZ_PLANT", bug.id())
        .env("RUST_BACKTRACE", "1")
        .output()
        .map_err(io("running wkfuzz repro".into()))?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    Ok(replay_verdict(&stdout, &stderr, CANARY_PREFIX, bug.id()))
}

#[cfg(test)]
mod tests {
    use super::super::PLAN;
    use crate::planted::Bug;

    #[test]
    fn the_plan_names_every_planted_bug_in_order() {
        let plan: Vec<&str> = PLAN.iter().map(|(id, _)| *id).collect();
        let bugs: Vec<&str> = Bug::ALL.iter().map(|b| b.id()).collect();
        assert_eq!(plan, bugs);
    }
}
