//! The release gate: every corpus file and every regression replayed through its target,
//! in-process, twice (the outcomes must match), each under a time limit and a memory limit.
//! Any oracle violation, nondeterminism, timeout or excess allocation fails the gate.

use super::alloc;
use super::capture::run_caught;
use super::regression::{self, Regression};
use crate::targets::{corpus, Target};
use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What to replay and how strictly.
#[derive(Clone, Debug)]
pub struct GateConfig {
    /// Corpus root (`corpus/<target>/`).
    pub corpus: PathBuf,
    /// Regressions root (`regressions/<target>/`).
    pub regressions: PathBuf,
    /// Targets to replay.
    pub targets: Vec<Target>,
    /// Wall time allowed for one input's two runs.
    pub time_limit: Duration,
    /// Bytes one input's runs may have live at once (checked when the counting allocator
    /// is installed).
    pub memory_limit: usize,
    /// Worker threads.
    pub jobs: usize,
}

impl Default for GateConfig {
    fn default() -> Self {
        GateConfig {
            corpus: PathBuf::from("corpus"),
            regressions: PathBuf::from("regressions"),
            targets: Target::gated(),
            time_limit: Duration::from_secs(10),
            memory_limit: 256 * 1024 * 1024,
            jobs: std::thread::available_parallelism().map_or(2, |n| n.get()),
        }
    }
}

/// Corpus file or regression.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A corpus file.
    Corpus,
    /// A regression, by slug.
    Regression(String),
}

/// One replayed input.
#[derive(Clone, Debug)]
pub struct ItemResult {
    /// Its target.
    pub target: Target,
    /// Its file.
    pub path: PathBuf,
    /// Corpus or regression.
    pub kind: Kind,
    /// `None` when it passed, else why it failed.
    pub failure: Option<String>,
    /// Wall time of both runs.
    pub elapsed: Duration,
    /// Peak bytes allocated while it ran (0 without the counting allocator).
    pub peak_bytes: usize,
}

/// The whole gate run.
#[derive(Clone, Debug)]
pub struct GateReport {
    /// Every input, in a fixed order (target, then path).
    pub results: Vec<ItemResult>,
    /// Wall time of the gate.
    pub elapsed: Duration,
    /// Whether memory was measured.
    pub memory_checked: bool,
    /// The wire regressions replayed against a live reference server (filled by the
    /// caller: `wkfuzz::attack::replay::gate`).
    pub wire: Vec<WireResult>,
}

/// One wire regression replayed against the reference server over sockets.
#[derive(Clone, Debug)]
pub struct WireResult {
    /// Its `.bin`.
    pub path: PathBuf,
    /// Its slug.
    pub slug: String,
    /// `None` when the server survived both replays, else why not.
    pub failure: Option<String>,
    /// Wall time of both replays.
    pub elapsed: Duration,
    /// The command that replays it against a running `wkfuzz serve`.
    pub replay: String,
}

impl GateReport {
    /// Whether every input passed.
    pub fn passed(&self) -> bool {
        self.results.iter().all(|r| r.failure.is_none())
            && self.wire.iter().all(|w| w.failure.is_none())
    }

    /// The failed inputs.
    pub fn failures(&self) -> impl Iterator<Item = &ItemResult> {
        self.results.iter().filter(|r| r.failure.is_some())
    }
}

/// Why the gate could not run.
#[derive(Debug, thiserror::Error)]
pub enum GateError {
    /// The corpus could not be listed or read.
    #[error("{path}: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// Regression files are malformed.
    #[error(transparent)]
    Regression(#[from] regression::RegressionError),
}

struct Item {
    target: Target,
    path: PathBuf,
    kind: Kind,
    data: Vec<u8>,
    pinned: Option<String>,
}

/// Collects every input of `config.targets`.
fn collect(config: &GateConfig) -> Result<Vec<Item>, GateError> {
    let mut items = Vec::new();
    for &target in &config.targets {
        let files = corpus::files(&config.corpus, target).map_err(|source| GateError::Io {
            path: config.corpus.join(target.name()),
            source,
        })?;
        for path in files {
            let data = std::fs::read(&path).map_err(|source| GateError::Io {
                path: path.clone(),
                source,
            })?;
            items.push(Item {
                target,
                path,
                kind: Kind::Corpus,
                data,
                pinned: None,
            });
        }
    }
    let regs: Vec<Regression> = regression::load_all(&config.regressions)?;
    for r in regs
        .into_iter()
        .filter(|r| config.targets.contains(&r.target))
    {
        items.push(Item {
            target: r.target,
            path: r.bin,
            kind: Kind::Regression(r.slug),
            data: r.data,
            pinned: r.meta.outcome,
        });
    }
    Ok(items)
}

/// Runs one input twice on its own thread, under the limits.
fn replay(item: Item, config: &GateConfig) -> ItemResult {
    let (tx, rx) = mpsc::channel();
    let target = item.target;
    let data = item.data;
    let pinned = item.pinned;
    let start = Instant::now();
    let spawned = std::thread::Builder::new()
        .name(format!("gate-{}", target.name()))
        .spawn(move || {
            let base = alloc::reset_peak();
            let first = run_caught(target, &data);
            let second = run_caught(target, &data);
            let peak = alloc::peak().saturating_sub(base);
            let failure = match (&first, &second) {
                (Err(c), _) | (Ok(_), Err(c)) => Some(format!("{c} [signature: {}]", c.signature)),
                (Ok(a), Ok(b)) if a != b => Some(format!("not deterministic: {a} vs {b}")),
                (Ok(a), Ok(_)) => match &pinned {
                    Some(p) if *p != a.to_string() => Some(format!(
                        "outcome changed: expected {p:?}, got {:?}",
                        a.to_string()
                    )),
                    _ => None,
                },
            };
            let _ = tx.send((failure, peak));
        });
    let (mut failure, peak) = match spawned {
        Err(e) => (Some(format!("cannot start a thread: {e}")), 0),
        Ok(_) => match rx.recv_timeout(config.time_limit) {
            Ok(r) => r,
            Err(_) => (Some(format!("timed out after {:?}", config.time_limit)), 0),
        },
    };
    if failure.is_none() && alloc::is_installed() && peak > config.memory_limit {
        failure = Some(format!(
            "allocated {} MiB at peak, limit {} MiB",
            peak >> 20,
            config.memory_limit >> 20
        ));
    }
    ItemResult {
        target,
        path: item.path,
        kind: item.kind,
        failure,
        elapsed: start.elapsed(),
        peak_bytes: peak,
    }
}

/// Runs the gate. `progress` is called after each input with (done, total).
pub fn run_gate(
    config: &GateConfig,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<GateReport, GateError> {
    let start = Instant::now();
    let items = collect(config)?;
    let total = items.len();
    let queue = Arc::new(Mutex::new(
        items.into_iter().enumerate().collect::<VecDeque<_>>(),
    ));
    let results = Arc::new(Mutex::new(Vec::with_capacity(total)));
    std::thread::scope(|s| {
        for _ in 0..config.jobs.max(1) {
            let queue = queue.clone();
            let results = results.clone();
            s.spawn(move || loop {
                let next = queue.lock().ok().and_then(|mut q| q.pop_front());
                let Some((i, item)) = next else { break };
                let r = replay(item, config);
                let done = match results.lock() {
                    Ok(mut v) => {
                        v.push((i, r));
                        v.len()
                    }
                    Err(_) => 0,
                };
                progress(done, total);
            });
        }
    });
    let mut results: Vec<(usize, ItemResult)> = Arc::try_unwrap(results)
        .ok()
        .and_then(|m| m.into_inner().ok())
        .unwrap_or_default();
    results.sort_by_key(|(i, _)| *i);
    Ok(GateReport {
        results: results.into_iter().map(|(_, r)| r).collect(),
        elapsed: start.elapsed(),
        memory_checked: alloc::is_installed(),
        wire: Vec::new(),
    })
}

/// The command that reproduces a failed input.
pub fn repro_command(path: &Path) -> String {
    format!("wkfuzz repro {}", path.display())
}
