//! `wkfuzz eval` (feature `planted-bugs` only): the Magma-style planted-bug evaluation.
//!
//! For each (bug, target) pair of the plan and each repetition, runs the target's libFuzzer
//! binary (built by `cargo fuzz build -s none --features planted-bugs`) from the committed
//! corpus, read-only (a temp dir is the writable first corpus dir), with `WKFUZZ_PLANT=<bug>`
//! and `-seed=<rep>`, for a time budget. The canary lines the planted code prints to stderr
//! (`WKFUZZ-PLANTED REACHED|TRIGGERED <id>`) are time-stamped as they arrive: that gives
//! time-to-reach and time-to-trigger; libFuzzer's crash line gives time-to-detect. The
//! crash input is then replayed by `wkfuzz repro` (this binary, same bug planted) for its
//! signature and to confirm the crash is the planted bug (its TRIGGERED canary fires).
//!
//! Writes every run to a CSV, a summary table (markdown) to stdout and into BENCHMARKS.md
//! between `<!-- planted-eval:start -->` and `<!-- planted-eval:end -->`, and keeps each
//! crash input under `eval/artifacts/`.

use anyhow::{bail, Context};
use clap::Args;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::Instant;
use wkfuzz::planted::{Bug, CANARY_PREFIX};

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

/// Which targets are run against which bug. First the structured targets, then the
/// byte-level baselines (`records` for TLS, `frame` for wkproto).
pub(crate) const PLAN: &[(Bug, &[&str])] = &[
    (Bug::Tls127, &["handshake", "records"]),
    (Bug::Str26, &["codec", "session", "frame"]),
    (Bug::Trunc, &["codec", "frame"]),
    (Bug::Varint, &["codec", "frame"]),
    (Bug::Proxy458, &["proxy"]),
    (Bug::KeyL1, &["keys", "crypto", "session", "frame"]),
    (Bug::PadL2, &["crypto", "session", "frame"]),
    (Bug::BufL5, &["session", "frame"]),
    (Bug::AmpL7, &["net", "frame"]),
];

/// The byte-level baselines.
const BASELINES: &[&str] = &["records", "frame"];

/// One libFuzzer run.
#[derive(Clone, Debug, Default)]
struct Run {
    bug: String,
    target: String,
    rep: u32,
    budget: u64,
    reach_s: Option<f64>,
    trigger_s: Option<f64>,
    /// The seed corpus was still loading when the bug triggered.
    in_seeds: bool,
    crash_s: Option<f64>,
    /// The crash input fires the bug's TRIGGERED canary under `repro`.
    crash_is_bug: bool,
    signature: String,
    artifact: String,
    execs: u64,
    exec_per_sec: u64,
    wall_s: f64,
}

impl Eval {
    pub(crate) fn run(self) -> anyhow::Result<ExitCode> {
        let (budget, reps) = match (self.quick, self.full) {
            (_, true) => (600, 5),
            _ => (30, 1),
        };
        let budget = self.budget.unwrap_or(budget);
        let reps = self.reps.unwrap_or(reps);
        let pairs = self.pairs()?;
        let exe = std::env::current_exe().context("own path")?;
        std::fs::create_dir_all("eval/artifacts")?;
        let mut runs = Vec::new();
        for (bug, target) in &pairs {
            let bin = self.bin_dir.join(target);
            if !bin.exists() {
                bail!(
                    "{} missing: cargo fuzz build -s none --features planted-bugs",
                    bin.display()
                );
            }
            for rep in 1..=reps {
                let run = run_one(&bin, &exe, *bug, target, rep, budget, self.no_seeds)?;
                println!(
                    "{:<9} {:<9} rep {rep}: reached {:<8} triggered {:<8} crash {:<8} {}",
                    bug.id(),
                    target,
                    secs(run.reach_s),
                    secs(run.trigger_s),
                    secs(run.crash_s),
                    if run.crash_is_bug {
                        run.signature.as_str()
                    } else if run.crash_s.is_some() {
                        "(crash, not this bug)"
                    } else {
                        ""
                    }
                );
                runs.push(run);
            }
        }
        if let Some(dir) = self.csv.parent() {
            std::fs::create_dir_all(dir)?;
        }
        std::fs::write(&self.csv, csv(&runs))?;
        let mut table = summary(&runs, budget, reps);
        if self.no_seeds {
            table = format!("**No seeds** (empty starting corpus). {table}");
        }
        println!("\n{table}");
        if self.benchmarks != "-" {
            write_section(Path::new(&self.benchmarks), &table)?;
        }
        println!("raw results: {}", self.csv.display());
        Ok(ExitCode::SUCCESS)
    }

    fn pairs(&self) -> anyhow::Result<Vec<(Bug, &'static str)>> {
        let bugs: Vec<Bug> = self
            .bugs
            .iter()
            .map(|b| Bug::from_id(b).ok_or_else(|| anyhow::anyhow!("no planted bug {b:?}")))
            .collect::<anyhow::Result<_>>()?;
        let mut pairs = Vec::new();
        for &(bug, targets) in PLAN {
            if !bugs.is_empty() && !bugs.contains(&bug) {
                continue;
            }
            for &t in targets {
                if self.targets.is_empty() || self.targets.iter().any(|x| x == t) {
                    pairs.push((bug, t));
                }
            }
        }
        Ok(pairs)
    }
}

fn secs(s: Option<f64>) -> String {
    s.map_or_else(|| "-".into(), |s| format!("{s:.1}s"))
}

/// Runs one libFuzzer process and time-stamps its stderr.
fn run_one(
    bin: &Path,
    exe: &Path,
    bug: Bug,
    target: &str,
    rep: u32,
    budget: u64,
    no_seeds: bool,
) -> anyhow::Result<Run> {
    let work = tempfile::tempdir()?;
    let new_corpus = work.path().join("corpus");
    std::fs::create_dir_all(&new_corpus)?;
    let prefix = format!("{}/", work.path().display());
    let start = Instant::now();
    let mut cmd = Command::new(bin);
    cmd.arg(&new_corpus);
    if !no_seeds {
        cmd.arg(Path::new("corpus").join(target));
    }
    let mut child = cmd
        .arg(format!("-max_total_time={budget}"))
        .arg(format!("-seed={rep}"))
        .arg(format!("-artifact_prefix={prefix}"))
        .args(["-print_final_stats=1", "-timeout=10", "-rss_limit_mb=2048"])
        .env("WKFUZZ_PLANT", bug.id())
        .env("RUST_BACKTRACE", "0")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .with_context(|| format!("starting {}", bin.display()))?;
    let stderr = child.stderr.take().context("stderr")?;
    let mut run = Run {
        bug: bug.id().into(),
        target: target.into(),
        rep,
        budget,
        ..Run::default()
    };
    let reached = format!("{CANARY_PREFIX} REACHED {bug}");
    let triggered = format!("{CANARY_PREFIX} TRIGGERED {bug}");
    let mut inited = false;
    let mut log = String::new();
    for line in BufReader::new(stderr).lines() {
        let line = line.unwrap_or_default();
        let t = start.elapsed().as_secs_f64();
        if line.contains(&reached) && run.reach_s.is_none() {
            run.reach_s = Some(t);
        }
        if line.contains(&triggered) && run.trigger_s.is_none() {
            run.trigger_s = Some(t);
            run.in_seeds = !inited;
        }
        if line.contains("INITED") {
            inited = true;
        }
        if (line.contains("ERROR: libFuzzer") || line.contains("deadly signal"))
            && run.crash_s.is_none()
        {
            run.crash_s = Some(t);
        }
        log.push_str(&line);
        log.push('\n');
    }
    let _ = child.wait();
    run.wall_s = start.elapsed().as_secs_f64();
    let stats = wkfuzz::triage::campaign::parse(&log);
    run.execs = stats.execs;
    run.exec_per_sec = stats.exec_per_sec;
    if let Some(artifact) = stats.artifact.filter(|_| run.crash_s.is_some()) {
        let tag = if no_seeds { "-noseeds" } else { "" };
        let kept = PathBuf::from(format!("eval/artifacts/{bug}-{target}-{rep}{tag}"));
        std::fs::copy(&artifact, &kept).with_context(|| format!("copying {artifact}"))?;
        run.artifact = kept.display().to_string();
        let (sig, is_bug) = classify(exe, bug, target, &kept)?;
        run.signature = sig;
        run.crash_is_bug = is_bug;
    }
    Ok(run)
}

/// Replays a crash input through `wkfuzz repro` with the bug planted: its signature, and
/// whether the bug's TRIGGERED canary fired (the crash is the planted bug).
fn classify(exe: &Path, bug: Bug, target: &str, input: &Path) -> anyhow::Result<(String, bool)> {
    let out = Command::new(exe)
        .args(["--log", "off", "repro", "--target", target])
        .arg(input)
        .env("WKFUZZ_PLANT", bug.id())
        .env("RUST_BACKTRACE", "1")
        .output()
        .context("running wkfuzz repro")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let is_bug = stderr.contains(&format!("{CANARY_PREFIX} TRIGGERED {bug}"));
    let signature = if let Some(s) = stdout.lines().find_map(|l| l.strip_prefix("signature: ")) {
        s.to_owned()
    } else if let Some(line) = stderr
        .lines()
        .find(|l| l.contains(&format!("{CANARY_PREFIX} ABORT")))
    {
        let why = line.split_once(": ").map_or(line, |(_, w)| w);
        let why = why.split_once(": ").map_or(why, |(w, _)| w);
        format!("process abort: {why} @ wkfuzz::net::connection::run_connection")
    } else {
        "does not reproduce".into()
    };
    Ok((signature, is_bug))
}

fn csv(runs: &[Run]) -> String {
    let mut out = String::from(
        "bug,target,rep,seed,budget_s,reached,reach_s,triggered,trigger_s,trigger_in_seeds,\
         crashed,crash_s,crash_is_bug,execs,exec_per_sec,wall_s,signature,artifact\n",
    );
    let f = |s: Option<f64>| s.map_or_else(String::new, |s| format!("{s:.2}"));
    for r in runs {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.1},\"{}\",{}",
            r.bug,
            r.target,
            r.rep,
            r.rep,
            r.budget,
            r.reach_s.is_some(),
            f(r.reach_s),
            r.trigger_s.is_some(),
            f(r.trigger_s),
            r.in_seeds,
            r.crash_s.is_some(),
            f(r.crash_s),
            r.crash_is_bug,
            r.execs,
            r.exec_per_sec,
            r.wall_s,
            r.signature.replace('"', "'"),
            r.artifact
        );
    }
    out
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// The markdown summary: one row per (bug, target), then per-bug and overall lines.
fn summary(runs: &[Run], budget: u64, reps: u32) -> String {
    let mut groups: BTreeMap<(usize, String), Vec<&Run>> = BTreeMap::new();
    for r in runs {
        let order = Bug::from_id(&r.bug).map_or(99, |b| b as usize);
        groups.entry((order, r.target.clone())).or_default().push(r);
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Budget {budget} s per run, {reps} repetition(s) (libFuzzer seeds 1..={reps}), one core, \
         `-s none`, from the committed corpus. *reached*/*triggered*: runs whose canary fired; \
         *detected*: runs that crashed on the planted bug (its canary fires on replay). \
         Times are from process start (seed corpus loading included); `seeds` = triggered \
         while the seed corpus was still being loaded.\n"
    );
    out.push_str("| bug | target | kind | reached | triggered | detected | time-to-trigger median (min-max) | time-to-detect median | signature |\n");
    out.push_str("|---|---|---|---|---|---|---|---|---|\n");
    let mut best_per_bug: BTreeMap<usize, (String, f64)> = BTreeMap::new();
    let mut best_structured: BTreeMap<usize, f64> = BTreeMap::new();
    for ((order, target), rs) in &groups {
        let n = rs.len();
        let reached = rs.iter().filter(|r| r.reach_s.is_some()).count();
        let mut trig: Vec<f64> = rs.iter().filter_map(|r| r.trigger_s).collect();
        let seeds = rs.iter().filter(|r| r.in_seeds).count();
        let triggered = trig.len();
        let mut det: Vec<f64> = rs
            .iter()
            .filter(|r| r.crash_is_bug)
            .filter_map(|r| r.crash_s)
            .collect();
        let detected = det.len();
        let spread = match (
            trig.iter().copied().reduce(f64::min),
            trig.iter().copied().reduce(f64::max),
        ) {
            (Some(a), Some(b)) => format!(" ({a:.1}-{b:.1})"),
            _ => String::new(),
        };
        let mt = median(&mut trig);
        let md = median(&mut det);
        let signature = rs
            .iter()
            .find(|r| r.crash_is_bug)
            .or_else(|| rs.iter().find(|r| !r.signature.is_empty()))
            .map_or(String::new(), |r| {
                let tag = if r.crash_is_bug { "" } else { "(not the bug) " };
                format!("{tag}`{}`", r.signature.replace('|', "/"))
            });
        let kind = if BASELINES.contains(&target.as_str()) {
            "byte-level"
        } else if target == "net" {
            "shell" // raw bytes, but through the real tokio server
        } else {
            "structured"
        };
        let bug = rs.first().map_or("", |r| r.bug.as_str());
        let seeds_note = if seeds > 0 {
            format!(" ({seeds} seeds)")
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "| {bug} | {target} | {kind} | {reached}/{n} | {triggered}/{n}{seeds_note} | {detected}/{n} | {}{spread} | {} | {signature} |",
            secs(mt),
            secs(md),
        );
        if let (Some(t), true) = (md, detected > 0) {
            let e = best_per_bug
                .entry(*order)
                .or_insert((target.clone(), f64::MAX));
            if t < e.1 {
                *e = (target.clone(), t);
            }
            if kind == "structured" {
                let s = best_structured.entry(*order).or_insert(f64::MAX);
                *s = s.min(t);
            }
        }
    }
    let bugs: Vec<usize> = groups
        .keys()
        .map(|(o, _)| *o)
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    let found = bugs.iter().filter(|o| best_per_bug.contains_key(o)).count();
    let _ = writeln!(
        out,
        "\nBugs detected by at least one target: {found}/{}.",
        bugs.len()
    );
    let mut structured: Vec<f64> = best_structured.values().copied().collect();
    let _ = writeln!(
        out,
        "Median over bugs of the best structured target's median time-to-detect: {} ({} bugs detected by a structured target).",
        secs(median(&mut structured)),
        structured.len()
    );
    out
}

/// Replaces the marked section of BENCHMARKS.md (or appends it).
fn write_section(path: &Path, table: &str) -> anyhow::Result<()> {
    let (start, end) = if table.starts_with("**No seeds**") {
        (
            "<!-- planted-eval-noseeds:start -->",
            "<!-- planted-eval-noseeds:end -->",
        )
    } else {
        ("<!-- planted-eval:start -->", "<!-- planted-eval:end -->")
    };
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let section = format!("{start}\n{table}{end}");
    let new = match (text.find(start), text.find(end)) {
        (Some(a), Some(b)) if a < b => format!("{}{section}{}", &text[..a], &text[b + end.len()..]),
        _ => {
            let heading = if start.contains("noseeds") {
                "### Without the seed corpus (`wkfuzz eval --no-seeds`)"
            } else {
                "## Planted-bug evaluation (`ci/eval.sh`)"
            };
            format!("{}\n\n{heading}\n\n{section}\n", text.trim_end())
        }
    };
    std::fs::write(path, new)?;
    Ok(())
}
