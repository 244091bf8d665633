//! Running the evaluation (feature `planted-bugs`): one libFuzzer process per (bug,
//! target, repetition), `jobs` of them at a time, its stderr time-stamped line by line
//! (wall seconds, or the process's CPU seconds read from `/proc`), each crash input kept
//! and replayed through `wkfuzz repro`.

use super::{replay_verdict, select_set, EvalError, Run, Timeline};
use crate::planted::{Bug, CANARY_PREFIX};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Where the crash inputs are kept.
const ARTIFACTS: &str = "eval/artifacts";

/// What to run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvalConfig {
    /// Seconds per run.
    pub budget: u64,
    /// Repetitions per pair, libFuzzer seeds first_rep..=reps.
    pub reps: u32,
    /// The first repetition to run (1 normally; more to add runs to a campaign cut short).
    pub first_rep: u32,
    /// Only these bugs (all when empty).
    pub bugs: Vec<String>,
    /// Only these targets (all when empty).
    pub targets: Vec<String>,
    /// Start from an empty corpus instead of the committed seeds.
    pub no_seeds: bool,
    /// Pass the target's dictionary (`fuzz/dict/<target>.dict`) when there is one.
    pub dict: bool,
    /// The libFuzzer binaries, one per target.
    pub bin_dir: PathBuf,
    /// The `wkfuzz` binary (built with the feature) that replays crashes.
    pub wkfuzz: PathBuf,
    /// Only the bugs of this set (`None`: the sets of the bugs named, else the first).
    pub set: Option<u8>,
    /// Runs at once (each libFuzzer process uses one core).
    pub jobs: usize,
    /// Budget and times in the fuzzer's CPU seconds (Linux `/proc`) instead of wall
    /// seconds: a loaded machine then gives every run the same work.
    pub cpu_time: bool,
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
    on_run: impl FnMut(&Run) + Send,
) -> Result<Vec<Run>, EvalError> {
    let pairs = select_set(config.set, &config.bugs, &config.targets)?;
    std::fs::create_dir_all(ARTIFACTS).map_err(io(format!("creating {ARTIFACTS}")))?;
    let mut runnable = Vec::new();
    for (bug, target) in pairs {
        let bug = Bug::from_id(bug).ok_or_else(|| EvalError::NoSuchBug(bug.to_owned()))?;
        let bin = config.bin_dir.join(target);
        if !bin.exists() {
            return Err(EvalError::MissingBinary(bin.display().to_string()));
        }
        runnable.push((bug, target, bin));
    }
    // Repetition-major: every pair's first run before any pair's second, so a campaign cut
    // short (the CSV is written as runs end) still covers every pair.
    let work: Vec<_> = (config.first_rep.max(1)..=config.reps)
        .flat_map(|rep| {
            runnable
                .iter()
                .map(move |(bug, target, bin)| (*bug, *target, bin.clone(), rep))
        })
        .collect();
    let clock = if config.cpu_time {
        Clock::cpu()?
    } else {
        Clock::Wall
    };
    let next = AtomicUsize::new(0);
    let on_run = Mutex::new(on_run);
    let done: Mutex<Vec<(usize, Result<Run, EvalError>)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..config.jobs.max(1) {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some((bug, target, bin, rep)) = work.get(i) else {
                    break;
                };
                {
                    let run = run_one(config, clock, bin, *bug, target, *rep);
                    if let Ok(run) = &run {
                        (lock(&on_run))(run);
                    }
                    lock(&done).push((i, run));
                }
            });
        }
    });
    let mut done = done.into_inner().unwrap_or_else(|p| p.into_inner());
    done.sort_by_key(|(i, _)| *i);
    done.into_iter().map(|(_, run)| run).collect()
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// What a run's budget and times count.
#[derive(Clone, Copy, Debug)]
enum Clock {
    /// Seconds since the fuzzer started.
    Wall,
    /// CPU seconds (user + system) the fuzzer used, from `/proc/<pid>/stat` in clock
    /// ticks of this many per second.
    Cpu(f64),
}

impl Clock {
    fn cpu() -> Result<Clock, EvalError> {
        if !Path::new("/proc/self/stat").exists() {
            return Err(EvalError::Io {
                what: "--cpu-time reads /proc (Linux only)".into(),
                source: std::io::ErrorKind::Unsupported.into(),
            });
        }
        let ticks = Command::new("getconf")
            .arg("CLK_TCK")
            .output()
            .ok()
            .and_then(|o| {
                String::from_utf8_lossy(&o.stdout)
                    .trim()
                    .parse::<f64>()
                    .ok()
            })
            .filter(|t| *t > 0.0)
            .unwrap_or(100.0);
        Ok(Clock::Cpu(ticks))
    }

    /// Now, for process `pid` started at `start`.
    fn now(self, pid: u32, start: Instant) -> f64 {
        match self {
            Clock::Wall => start.elapsed().as_secs_f64(),
            Clock::Cpu(ticks) => cpu_seconds(pid, ticks).unwrap_or(0.0),
        }
    }
}

/// User + system CPU seconds of process `pid` (fields 14 and 15 of `/proc/<pid>/stat`).
fn cpu_seconds(pid: u32, ticks: f64) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // Field 2, the command name, is in parentheses and may hold spaces: count after it.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let user: f64 = fields.get(11)?.parse().ok()?;
    let system: f64 = fields.get(12)?.parse().ok()?;
    Some((user + system) / ticks)
}

/// With a CPU budget: ends the fuzzer once it has used `budget` CPU seconds (libFuzzer's
/// own `-max_total_time` counts wall time) with SIGINT, so it prints its final stats, and
/// SIGKILL if it lingers. Returns when the fuzzer has exited or `finished` is set.
fn cpu_watchdog(child: &Mutex<Child>, ticks: f64, budget: u64, finished: &AtomicBool) {
    while !finished.load(Ordering::Relaxed) {
        let pid = {
            let mut c = lock(child);
            if !matches!(c.try_wait(), Ok(None)) {
                return;
            }
            c.id()
        };
        if cpu_seconds(pid, ticks).is_some_and(|s| s >= budget as f64) {
            let _ = Command::new("kill")
                .args(["-INT", &pid.to_string()])
                .status();
            std::thread::sleep(Duration::from_secs(5));
            let mut c = lock(child);
            if matches!(c.try_wait(), Ok(None)) {
                let _ = c.kill();
            }
            return;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
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
    clock: Clock,
    bin: &Path,
    bug: Bug,
    target: &str,
    rep: u32,
) -> Result<Run, EvalError> {
    // With a CPU budget the watchdog ends the run; the wall limit is only a backstop.
    let wall_limit = match clock {
        Clock::Wall => config.budget,
        Clock::Cpu(_) => config.budget.saturating_mul(20),
    };
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
    let dict = Path::new("fuzz/dict").join(format!("{target}.dict"));
    if config.dict && dict.exists() {
        cmd.arg(format!("-dict={}", dict.display()));
    }
    let mut child = cmd
        .arg(format!("-max_total_time={wall_limit}"))
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
    let pid = child.id();
    let child = Mutex::new(child);
    let finished = AtomicBool::new(false);
    let mut timeline = Timeline::new(CANARY_PREFIX, bug.id());
    let mut log = String::new();
    let mut ended = 0.0;
    std::thread::scope(|scope| {
        if let Clock::Cpu(ticks) = clock {
            let (child, finished) = (&child, &finished);
            scope.spawn(move || cpu_watchdog(child, ticks, config.budget, finished));
        }
        for line in BufReader::new(stderr).lines() {
            let line = line.unwrap_or_default();
            timeline.handle_line(&line, clock.now(pid, start));
            log.push_str(&line);
            log.push('\n');
        }
        // Read before the process is reaped (its /proc entry goes with it).
        ended = clock.now(pid, start);
        let _ = lock(&child).wait();
        finished.store(true, Ordering::Relaxed);
    });
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
        // With a CPU clock: the CPU seconds the run used.
        wall_s: match clock {
            Clock::Wall => start.elapsed().as_secs_f64(),
            Clock::Cpu(_) => ended,
        },
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
