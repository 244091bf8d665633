//! One coverage run: instrumented build, one replay process per target (each writes its
//! own raw profile), per-target and union profiles, then the files of the report: per-file
//! HTML (llvm-cov), `lcov.info`, `summary.json` and `unreached.txt`.

use super::instrument;
use super::lcov;
use super::llvm::LlvmTools;
use super::replay::parse_replayed;
use super::summary::{parse_export, summarize, CoverageSummary, TargetCoverage};
use super::CoverageError;
use crate::targets::Target;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The targets replayed when none are named: the gate's.
pub fn default_targets() -> Vec<Target> {
    Target::gated()
}

/// The target called `name` (any target, including those outside the gate such as `net`).
pub fn target_named(name: &str) -> Option<Target> {
    Target::from_name(name)
}

/// What to measure and where to write it.
#[derive(Clone, Debug)]
pub struct CoverageConfig {
    /// The checkout (crate root).
    pub root: PathBuf,
    /// Targets to replay.
    pub targets: Vec<Target>,
    /// Corpus root.
    pub corpus: PathBuf,
    /// Regressions root.
    pub regressions: PathBuf,
    /// Cargo target directory of the instrumented build.
    pub target_dir: PathBuf,
    /// Report directory.
    pub out: PathBuf,
    /// Build first (else the instrumented binary must exist).
    pub build: bool,
    /// Write llvm-cov's per-file HTML.
    pub html: bool,
    /// Threads for replays and llvm-cov.
    pub jobs: usize,
}

impl CoverageConfig {
    /// The defaults for the checkout at `root`: every gate target, `corpus/`,
    /// `regressions/`, build into `target/coverage`, report into `target/coverage-report`.
    pub fn new(root: &Path) -> CoverageConfig {
        CoverageConfig {
            root: root.to_path_buf(),
            targets: default_targets(),
            corpus: root.join("corpus"),
            regressions: root.join("regressions"),
            target_dir: root.join("target/coverage"),
            out: root.join("target/coverage-report"),
            build: true,
            html: true,
            jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

/// The files a run writes, under [`CoverageConfig::out`].
#[derive(Clone, Debug)]
pub struct ReportFiles {
    /// lcov tracefile (paths relative to the crate root).
    pub lcov: PathBuf,
    /// llvm-cov's HTML index, if written.
    pub html_index: Option<PathBuf>,
    /// The directory under which llvm-cov put the page of `src/x.rs` as `src/x.rs.html`.
    pub html_sources: Option<PathBuf>,
    /// The summary as JSON.
    pub summary_json: PathBuf,
    /// Unreached peer-input lines, one `file:first-last` per line.
    pub unreached: PathBuf,
}

/// A finished run.
#[derive(Clone, Debug)]
pub struct CoverageRun {
    /// The numbers.
    pub summary: CoverageSummary,
    /// What was written.
    pub files: ReportFiles,
    /// Seconds spent building (0 when not built).
    pub build_secs: f64,
    /// Seconds replaying.
    pub replay_secs: f64,
    /// Seconds merging and writing reports.
    pub report_secs: f64,
    /// Warnings (inputs that failed while replaying).
    pub warnings: Vec<String>,
}

/// Runs the whole measurement. `log` receives progress lines.
pub fn run(config: &CoverageConfig, log: &dyn Fn(&str)) -> Result<CoverageRun, CoverageError> {
    let root = config
        .root
        .canonicalize()
        .map_err(CoverageError::io(&config.root))?;
    let tools = LlvmTools::find_or_install(log)?;
    let start = Instant::now();
    let binary = if config.build {
        log("building the instrumented wkfuzz (-C instrument-coverage, release) ...");
        instrument::build(&root, &config.target_dir)?
    } else {
        let b = instrument::binary_path(&config.target_dir);
        instrument::check_instrumented(&b)?;
        b
    };
    let build_secs = if config.build {
        start.elapsed().as_secs_f64()
    } else {
        0.0
    };

    let profiles = config.out.join("profiles");
    if profiles.exists() {
        std::fs::remove_dir_all(&profiles).map_err(CoverageError::io(&profiles))?;
    }
    std::fs::create_dir_all(&profiles).map_err(CoverageError::io(&profiles))?;

    let start = Instant::now();
    let mut warnings = Vec::new();
    let mut replays = Vec::new();
    for &target in &config.targets {
        log(&format!("replaying {target} ..."));
        let (inputs, failed, profile) = replay_target(config, &binary, &profiles, target, &tools)?;
        if failed > 0 {
            warnings.push(format!(
                "{target}: {failed} of {inputs} inputs failed while replaying (run `wkfuzz gate --target {target}`)"
            ));
        }
        replays.push((target, inputs, failed, profile));
    }
    let replay_secs = start.elapsed().as_secs_f64();

    let start = Instant::now();
    log("merging profiles and writing the report ...");
    let mut targets = Vec::new();
    for (target, inputs, failed, profile) in &replays {
        let json = tools.export_summary(&binary, profile)?;
        targets.push(TargetCoverage {
            target: target.name().to_owned(),
            inputs: *inputs,
            failed: *failed,
            files: parse_export(&json, &root)?,
        });
    }
    let union_profile = profiles.join("union.profdata");
    let all: Vec<PathBuf> = replays.iter().map(|r| r.3.clone()).collect();
    tools.merge(&all, &union_profile)?;
    let union = parse_export(&tools.export_summary(&binary, &union_profile)?, &root)?;
    let sources: Vec<PathBuf> = union.iter().map(|f| root.join(&f.path)).collect();
    let lcov_text = tools.export_lcov(&binary, &union_profile, &sources)?;
    let lcov_files = lcov::parse(&lcov_text);
    let summary = summarize(union, &targets, &lcov_files, &root);

    let files = ReportFiles {
        lcov: config.out.join("lcov.info"),
        html_index: config.html.then(|| config.out.join("html/index.html")),
        // llvm-cov mirrors each source's absolute path under html/coverage/.
        html_sources: config.html.then(|| {
            let mut dir = config.out.join("html/coverage");
            dir.extend(
                root.components()
                    .filter(|c| matches!(c, std::path::Component::Normal(_))),
            );
            dir
        }),
        summary_json: config.out.join("summary.json"),
        unreached: config.out.join("unreached.txt"),
    };
    write(&files.lcov, &lcov::relative_paths(&lcov_text, &root))?;
    let json = serde_json::to_string_pretty(&summary)
        .map_err(|e| CoverageError::Invalid(format!("summary: {e}")))?;
    write(&files.summary_json, &json)?;
    let list: String = summary.unreached.iter().map(|u| format!("{u}\n")).collect();
    write(&files.unreached, &list)?;
    if config.html {
        let dir = config.out.join("html");
        if dir.exists() {
            std::fs::remove_dir_all(&dir).map_err(CoverageError::io(&dir))?;
        }
        tools.show_html(&binary, &union_profile, &sources, &dir, config.jobs)?;
    }
    Ok(CoverageRun {
        summary,
        files,
        build_secs,
        replay_secs,
        report_secs: start.elapsed().as_secs_f64(),
        warnings,
    })
}

/// Replays one target in the instrumented binary; returns (inputs, failed, its profile).
fn replay_target(
    config: &CoverageConfig,
    binary: &Path,
    profiles: &Path,
    target: Target,
    tools: &LlvmTools,
) -> Result<(usize, usize, PathBuf), CoverageError> {
    let raw_dir = profiles.join(target.name());
    let output = Command::new(binary)
        .current_dir(&config.root)
        .args(["coverage", "--replay", target.name(), "--corpus"])
        .arg(&config.corpus)
        .arg("--regressions")
        .arg(&config.regressions)
        .arg("--jobs")
        .arg(config.jobs.to_string())
        .env("LLVM_PROFILE_FILE", raw_dir.join("%p-%m.profraw"))
        .env("RUST_LOG", "off")
        .output()
        .map_err(|source| CoverageError::Spawn {
            program: binary.display().to_string(),
            source,
        })?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    let Some((inputs, failed)) = parse_replayed(&stdout) else {
        return Err(CoverageError::Failed {
            program: format!("replay of {target}"),
            detail: format!(
                "{}: {}",
                output.status,
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        });
    };
    let raw: Vec<PathBuf> = std::fs::read_dir(&raw_dir)
        .map_err(CoverageError::io(&raw_dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "profraw"))
        .collect();
    let profile = profiles.join(format!("{}.profdata", target.name()));
    tools.merge(&raw, &profile)?;
    Ok((inputs, failed, profile))
}

fn write(path: &Path, text: &str) -> Result<(), CoverageError> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(CoverageError::io(dir))?;
    }
    std::fs::write(path, text).map_err(CoverageError::io(path))
}
