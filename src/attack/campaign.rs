//! The attack itself: cases from every source sent to every target by parallel workers,
//! while the oracles watch: a prober (liveness and hang), the spawned process (exit,
//! crash text, resources) and the witnesses. It runs in phases: a phase ends when the
//! budget is spent or an oracle sees something; then the symptom's culprit is searched for
//! among the cases sent since the last good probe, minimized, confirmed and kept, the
//! server is restarted (spawned) or waited for (external), and the next phase begins.
//!
//! Bounded: by `duration` and `max_cases`, by `max_findings`, and each culprit search by
//! its own limits. It connects to the target addresses only.

use super::conn::Dialer;
use super::culprit::{order_suspects, search, NoCulprit, SearchLimits, Sent};
use super::finding::{Finding, Oracle, Symptom};
use super::play::Player;
use super::regression::{self as wire, WireMeta};
use super::resources::{judge, measure, Growth, GrowthLimits, Sample};
use super::source::{load_committed, CaseStream, Fit, Sources};
use super::spawn::Spawned;
use super::subject::{probe_failed, Subject};
use super::target::{Protocol, TargetUrl};
use super::witness::{WitnessConfig, WitnessReport, Witnesses};
use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Everything an attack is configured with (see `wkfuzz attack --help`).
#[derive(Clone, Debug)]
pub struct AttackConfig {
    /// The servers' URLs (one server, or the listeners of one spawned process).
    pub targets: Vec<TargetUrl>,
    /// What they speak.
    pub protocol: Protocol,
    /// The command that starts the server, split into words.
    pub spawn: Option<Vec<String>>,
    /// The server expects a PROXY header.
    pub proxy_header: bool,
    /// Case sources.
    pub sources: Sources,
    /// `corpus/`.
    pub corpus: PathBuf,
    /// `regressions/` (the wire regressions are read from and written to `<this>/wire`).
    pub regressions: PathBuf,
    /// Seed of the case streams.
    pub seed: u64,
    /// Wall-time budget.
    pub duration: Duration,
    /// Case budget.
    pub max_cases: Option<u64>,
    /// Parallel connections (workers).
    pub workers: usize,
    /// Connect, read and write timeout of a case.
    pub timeout: Duration,
    /// How long the server may take to close after a case.
    pub settle: Duration,
    /// A probe slower than this is a hang.
    pub hang_after: Duration,
    /// Time between probe rounds.
    pub probe_interval: Duration,
    /// How long a (re)started server may take to serve.
    pub ready_within: Duration,
    /// The witnesses.
    pub witnesses: WitnessConfig,
    /// How long the idle baseline of witness latency is measured.
    pub baseline: Duration,
    /// A witness p99 above this multiple of the idle p99 is a finding ...
    pub latency_factor: f64,
    /// ... if it is also above this.
    pub latency_floor: Duration,
    /// The resource oracle's limits.
    pub growth: GrowthLimits,
    /// Culprit search limits.
    pub search: SearchLimits,
    /// Stop after this many findings.
    pub max_findings: usize,
}

/// Why the attack could not run (exit code 2).
#[derive(Debug, thiserror::Error)]
pub enum AttackError {
    /// The options cannot be run.
    #[error("{0}")]
    Usage(String),
    /// The server did not start or serve, or the witnesses could not log in.
    #[error("{0}")]
    Startup(String),
}

/// Totals of one target.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct TargetStats {
    /// The URL.
    pub url: String,
    /// Committed inputs that fit it.
    pub committed: usize,
    /// Cases sent.
    pub cases: u64,
    /// Connections opened by cases.
    pub connections: u64,
    /// Probes answered.
    pub probes_ok: u64,
    /// Probes failed.
    pub probes_failed: u64,
    /// Slowest probe answer, milliseconds.
    pub probe_max_ms: f64,
}

/// The witnesses over the whole attack.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct WitnessSummary {
    /// Witnesses.
    pub count: usize,
    /// Idle p99 latency, milliseconds.
    pub idle_p99_ms: f64,
    /// Highest p99 latency of an attack phase, milliseconds.
    pub attack_p99_ms: f64,
    /// Messages sent during the attack.
    pub sent: usize,
    /// Of which delivered.
    pub delivered: usize,
}

/// The result of an attack.
#[derive(Clone, Debug, serde::Serialize)]
pub struct AttackReport {
    /// Per target.
    pub targets: Vec<TargetStats>,
    /// Every finding.
    pub findings: Vec<Finding>,
    /// Wall time.
    pub elapsed_s: f64,
    /// Time spent sending cases (phases), for the rate.
    pub attack_s: f64,
    /// The seed.
    pub seed: u64,
    /// What the server spoke.
    pub protocol: Protocol,
    /// The spawn command, if any.
    pub spawn: Option<String>,
    /// Times the spawned server was started.
    pub starts: u32,
    /// The witnesses, if any chatted.
    pub witnesses: Option<WitnessSummary>,
    /// The last phase's resource growth, if judged.
    pub growth: Option<Growth>,
}

impl AttackReport {
    /// Cases over all targets.
    pub fn cases(&self) -> u64 {
        self.targets.iter().map(|t| t.cases).sum()
    }

    /// Connections over all targets.
    pub fn connections(&self) -> u64 {
        self.targets.iter().map(|t| t.connections).sum()
    }

    /// Connections per second of attack time.
    pub fn rate(&self) -> f64 {
        if self.attack_s > 0.0 {
            self.connections() as f64 / self.attack_s
        } else {
            0.0
        }
    }
}

/// A snapshot for the progress line.
#[derive(Clone, Debug)]
pub struct Progress {
    /// Since the start.
    pub elapsed: Duration,
    /// The budget.
    pub duration: Duration,
    /// Cases sent.
    pub cases: u64,
    /// Connections opened.
    pub connections: u64,
    /// Connections per second over the last second.
    pub rate: f64,
    /// Findings so far.
    pub findings: usize,
    /// What is happening (`attacking`, `searching culprit`, ...).
    pub state: &'static str,
}

/// What the workers and the prober share during one phase.
struct Phase {
    streams: Mutex<(Vec<CaseStream>, usize)>,
    log: Mutex<VecDeque<Sent>>,
    next_seq: AtomicU64,
    stop: AtomicBool,
    cases: Vec<AtomicU64>,
    connections: Vec<AtomicU64>,
    probes_ok: Vec<AtomicU64>,
    probes_failed: Vec<AtomicU64>,
    probe_max_us: Vec<AtomicU64>,
    /// Start of the last probe round every target answered.
    last_good: Mutex<Instant>,
    /// A probe symptom.
    symptom: Mutex<Option<Symptom>>,
    /// Cases left in the budget.
    budget: AtomicU64,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Runs the attack. `progress` is called a few times a second.
///
/// # Errors
/// [`AttackError`] when the attack cannot start.
pub fn run(
    config: &AttackConfig,
    progress: &(dyn Fn(&Progress) + Sync),
) -> Result<AttackReport, AttackError> {
    let start = Instant::now();
    if config.targets.is_empty() {
        return Err(AttackError::Usage("no target URL".into()));
    }
    let committed = load_committed(config.sources, &config.corpus, &config.regressions)
        .map_err(AttackError::Usage)?;
    let wire_dir = config.regressions.join(wire::DIR);
    let mut kept = wire::load_dir(&wire_dir).map_err(AttackError::Usage)?;
    let mut players = Vec::new();
    for url in &config.targets {
        let dialer = Dialer::new(url.clone(), config.proxy_header, config.timeout)
            .map_err(|e| AttackError::Startup(format!("TLS client: {e}")))?;
        players.push(
            Player::new(dialer, config.settle)
                .map_err(|e| AttackError::Startup(format!("TLS client: {e}")))?,
        );
    }
    let mut streams: Vec<CaseStream> = config
        .targets
        .iter()
        .enumerate()
        .map(|(i, url)| {
            let fit = Fit {
                protocol: config.protocol,
                scheme: url.scheme,
                proxy: config.proxy_header,
            };
            CaseStream::new(
                &committed,
                fit,
                config.sources,
                config.seed.wrapping_add(i as u64),
            )
        })
        .collect();
    let mut stats: Vec<TargetStats> = config
        .targets
        .iter()
        .zip(&streams)
        .map(|(u, s)| TargetStats {
            url: u.to_string(),
            committed: s.committed_len(),
            ..TargetStats::default()
        })
        .collect();
    let spawned = match &config.spawn {
        Some(argv) => {
            Some(Spawned::start(argv).map_err(|e| AttackError::Startup(format!("--spawn: {e}")))?)
        }
        None => None,
    };
    let spawn_text = spawned.as_ref().map(Spawned::command);
    let mut subject = Subject::new(
        players,
        config.protocol,
        spawned,
        config.ready_within,
        config.hang_after,
    );
    subject.wait_ready().map_err(AttackError::Startup)?;

    let dialers: Vec<Dialer> = subject.players.iter().map(|p| p.dialer.clone()).collect();
    let witnessing = config.protocol == Protocol::Wkproto && config.witnesses.count >= 2;
    let mut witness_summary = None;
    if witnessing {
        progress(&Progress {
            elapsed: start.elapsed(),
            duration: config.duration,
            cases: 0,
            connections: 0,
            rate: 0.0,
            findings: 0,
            state: "witness baseline",
        });
        let idle = Witnesses::start(
            &dialers,
            &config.witnesses,
            &format!("{}-idle", std::process::id()),
        )
        .map_err(AttackError::Startup)?;
        std::thread::sleep(config.baseline);
        let report = idle.finish();
        if !report.problems.is_empty() {
            return Err(AttackError::Startup(format!(
                "the witnesses fail on the idle server: {}",
                report.problems.join("; ")
            )));
        }
        witness_summary = Some(WitnessSummary {
            count: config.witnesses.count,
            idle_p99_ms: ms(report.p99),
            ..WitnessSummary::default()
        });
    }

    let mut findings: Vec<Finding> = Vec::new();
    let mut attack_time = Duration::ZERO;
    let mut budget = config.max_cases.unwrap_or(u64::MAX);
    let mut growth = None;
    let mut phase_no = 0u32;
    let deadline = start + config.duration;
    while Instant::now() < deadline && budget > 0 && findings.len() < config.max_findings {
        phase_no += 1;
        let witnesses = if witnessing {
            Some(
                Witnesses::start(
                    &dialers,
                    &config.witnesses,
                    &format!("{}-{phase_no}", std::process::id()),
                )
                .map_err(AttackError::Startup)?,
            )
        } else {
            None
        };
        let phase_start = Instant::now();
        let outcome = attack_phase(
            config,
            &mut subject,
            &dialers,
            std::mem::take(&mut streams),
            budget,
            deadline,
            witnesses.as_ref(),
            &|p: &Progress| {
                progress(&Progress {
                    elapsed: start.elapsed(),
                    findings: findings.len(),
                    ..p.clone()
                })
            },
        );
        attack_time += phase_start.elapsed();
        streams = outcome.streams;
        budget = budget.saturating_sub(outcome.cases.iter().sum());
        for (i, s) in stats.iter_mut().enumerate() {
            s.cases += outcome.cases.get(i).copied().unwrap_or(0);
            s.connections += outcome.connections.get(i).copied().unwrap_or(0);
            s.probes_ok += outcome.probes_ok.get(i).copied().unwrap_or(0);
            s.probes_failed += outcome.probes_failed.get(i).copied().unwrap_or(0);
            s.probe_max_ms = s
                .probe_max_ms
                .max(outcome.probe_max_ms.get(i).copied().unwrap_or(0.0));
        }
        let at = start.elapsed().as_secs_f64();
        let witness_report = witnesses.map(Witnesses::finish);
        if let (Some(report), Some(summary)) = (&witness_report, witness_summary.as_mut()) {
            summary.sent += report.sent;
            summary.delivered += report.delivered;
            summary.attack_p99_ms = summary.attack_p99_ms.max(ms(report.p99));
        }
        if let Some(g) = measure(&outcome.samples, &config.growth) {
            if let Some(why) = judge(&g, &config.growth) {
                record(
                    &mut findings,
                    Finding {
                        oracle: Oracle::Resources,
                        target: None,
                        summary: "resources grow with the connections served".into(),
                        evidence: why,
                        signature: "resource growth".into(),
                        at_seconds: at,
                        occurrences: 1,
                        culprit: None,
                        note: None,
                        regression: None,
                        replay: None,
                    },
                );
            }
            growth = Some(g);
        }
        // Crash text the process printed before a death took the phase: each its own.
        let earlier: Vec<Symptom> = subject.take_pending();
        for symptom in &earlier {
            if findings.len() >= config.max_findings {
                break;
            }
            let mut finding = finding_of(symptom, &subject, at);
            if let Some(prev) = findings
                .iter_mut()
                .find(|f| f.oracle == symptom.oracle && f.signature == symptom.signature)
            {
                prev.occurrences += 1;
                continue;
            }
            blame(
                config,
                &mut subject,
                &mut finding,
                symptom,
                outcome.suspects.clone(),
                &wire_dir,
                &mut kept,
                spawn_text.as_deref(),
            );
            findings.push(finding);
        }
        match outcome.symptom {
            Some(symptom) => {
                let mut finding = finding_of(&symptom, &subject, at);
                if let Some(report) = &witness_report {
                    if !report.problems.is_empty() {
                        finding.evidence.push_str(&format!(
                            "\nwitnesses meanwhile: {}",
                            report
                                .problems
                                .iter()
                                .take(3)
                                .cloned()
                                .collect::<Vec<_>>()
                                .join("; ")
                        ));
                    }
                }
                if let Some(prev) = findings
                    .iter_mut()
                    .find(|f| f.oracle == symptom.oracle && f.signature == symptom.signature)
                {
                    prev.occurrences += 1;
                } else {
                    progress(&Progress {
                        elapsed: start.elapsed(),
                        duration: config.duration,
                        cases: stats.iter().map(|s| s.cases).sum(),
                        connections: stats.iter().map(|s| s.connections).sum(),
                        rate: 0.0,
                        findings: findings.len() + 1,
                        state: "searching the culprit",
                    });
                    blame(
                        config,
                        &mut subject,
                        &mut finding,
                        &symptom,
                        outcome.suspects,
                        &wire_dir,
                        &mut kept,
                        spawn_text.as_deref(),
                    );
                    findings.push(finding);
                }
                if let Err(why) = subject.ensure_serving() {
                    findings.push(Finding {
                        oracle: symptom.oracle,
                        target: None,
                        summary: "the attack stopped: the server does not serve again".into(),
                        evidence: why,
                        signature: "server gone".into(),
                        at_seconds: start.elapsed().as_secs_f64(),
                        occurrences: 1,
                        culprit: None,
                        note: None,
                        regression: None,
                        replay: None,
                    });
                    break;
                }
            }
            None => {
                if let Some(report) = witness_report {
                    judge_witnesses(config, &report, witness_summary.as_ref(), at, &mut findings);
                }
            }
        }
    }
    let starts = subject.spawned.as_ref().map_or(0, |s| s.starts);
    if let Some(p) = subject.spawned.as_mut() {
        p.stop();
    }
    Ok(AttackReport {
        targets: stats,
        findings,
        elapsed_s: start.elapsed().as_secs_f64(),
        attack_s: attack_time.as_secs_f64(),
        seed: config.seed,
        protocol: config.protocol,
        spawn: spawn_text,
        starts,
        witnesses: witness_summary,
        growth,
    })
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Adds `f`, or counts it again if its oracle and signature are already there.
fn record(findings: &mut Vec<Finding>, f: Finding) {
    match findings
        .iter_mut()
        .find(|g| g.oracle == f.oracle && g.signature == f.signature)
    {
        Some(g) => g.occurrences += 1,
        None => findings.push(f),
    }
}

fn finding_of(symptom: &Symptom, subject: &Subject, at: f64) -> Finding {
    let summary = match symptom.oracle {
        Oracle::Death => format!("the server process died: {}", symptom.signature),
        Oracle::CrashText => format!("the server printed crash text: {}", symptom.signature),
        Oracle::Liveness => format!("the server stopped serving: {}", symptom.signature),
        Oracle::Hang => "the server hangs: probes time out".to_owned(),
        other => other.name().to_owned(),
    };
    Finding {
        oracle: symptom.oracle,
        target: symptom.target.map(|i| subject.url(i)),
        summary,
        evidence: symptom.evidence.clone(),
        signature: symptom.signature.clone(),
        at_seconds: at,
        occurrences: 1,
        culprit: None,
        note: None,
        regression: None,
        replay: None,
    }
}

/// Witness problems and latency of a phase that ended without a symptom.
fn judge_witnesses(
    config: &AttackConfig,
    report: &WitnessReport,
    summary: Option<&WitnessSummary>,
    at: f64,
    findings: &mut Vec<Finding>,
) {
    if !report.problems.is_empty() {
        record(
            findings,
            Finding {
                oracle: Oracle::Witnesses,
                target: None,
                summary: format!(
                    "witnesses: {}",
                    report.problems.first().cloned().unwrap_or_default()
                ),
                evidence: report.problems.join("\n"),
                signature: "witness problem".into(),
                at_seconds: at,
                occurrences: 1,
                culprit: None,
                note: None,
                regression: None,
                replay: None,
            },
        );
    }
    let idle = summary.map_or(0.0, |s| s.idle_p99_ms);
    let p99 = ms(report.p99);
    if p99 > idle * config.latency_factor && p99 > ms(config.latency_floor) {
        record(findings, Finding {
            oracle: Oracle::Witnesses,
            target: None,
            summary: format!("witness p99 latency {p99:.1} ms under attack, idle {idle:.2} ms"),
            evidence: format!(
                "p99 {p99:.1} ms > {} x idle p99 {idle:.2} ms and > {:.0} ms (p50 {:.1} ms, {} messages)",
                config.latency_factor,
                ms(config.latency_floor),
                ms(report.p50),
                report.sent
            ),
            signature: "witness latency".into(),
            at_seconds: at,
            occurrences: 1,
            culprit: None,
            note: None,
            regression: None,
            replay: None,
        });
    }
}

/// Searches the culprit of `symptom` and keeps it as a wire regression.
#[allow(clippy::too_many_arguments)]
fn blame(
    config: &AttackConfig,
    subject: &mut Subject,
    finding: &mut Finding,
    symptom: &Symptom,
    suspects: Vec<Sent>,
    wire_dir: &std::path::Path,
    kept: &mut Vec<wire::WireRegression>,
    spawn: Option<&str>,
) {
    if let Some(existing) = wire::find_duplicate(kept, symptom.oracle.name(), &symptom.signature) {
        finding.note = Some("already kept as a wire regression".into());
        finding.regression = Some(existing.bin.clone());
        finding.replay = Some(replay_command(
            &existing.bin,
            &subject.url(target_of(symptom, &existing.meta.transport, subject)),
            spawn,
        ));
        return;
    }
    let suspects = order_suspects(suspects);
    let found = match search(subject, &suspects, symptom, config.search) {
        Ok(found) => found,
        Err(NoCulprit::NoServer(why)) => {
            finding.note = Some(format!("no culprit search: {why}"));
            return;
        }
        Err(why) => {
            finding.note = Some(why.to_string());
            return;
        }
    };
    let url = subject.url(found.target);
    let transport = config
        .targets
        .get(found.target)
        .map_or("tcp", |t| t.scheme.name());
    let c = &found.culprit;
    let title = format!(
        "{}: {}",
        symptom.oracle,
        symptom
            .signature
            .replace("killed by signal ", "signal ")
            .replace("; ", ", ")
    );
    let meta = WireMeta {
        kind: found.case.kind().into(),
        login: found.case.login(),
        protocol: config.protocol.name().into(),
        transport: transport.into(),
        proxy: config.proxy_header,
        title,
        symptom: symptom.oracle.name().into(),
        signature: symptom.signature.clone(),
        evidence: symptom.evidence.clone(),
        date: crate::triage::regression::today(),
        source: format!(
            "wkfuzz attack {url} (seed {}{}): case {} ({}), {} suspects tried, minimized {} -> {} in {} tries, reproduced {}/{}",
            config.seed,
            spawn.map(|s| format!(", --spawn {s:?}")).unwrap_or_default(),
            c.origin,
            c.kind,
            c.searched,
            c.original_size,
            c.minimized_size,
            c.minimize_tests,
            c.reproduced,
            c.confirmations
        ),
    };
    match wire::write(wire_dir, &meta, &found.case) {
        Ok(bin) => {
            if let Ok(r) = wire::load(&bin) {
                kept.push(r);
            }
            finding.replay = Some(replay_command(&bin, &url, spawn));
            finding.regression = Some(bin);
        }
        Err(e) => finding.note = Some(format!("the regression could not be written: {e}")),
    }
    finding.target = Some(url);
    finding.culprit = Some(found.culprit);
}

fn target_of(symptom: &Symptom, transport: &str, subject: &Subject) -> usize {
    symptom.target.unwrap_or_else(|| {
        subject
            .players
            .iter()
            .position(|p| p.dialer.url.scheme.name() == transport)
            .unwrap_or(0)
    })
}

/// The command that replays a regression against `url`.
pub fn replay_command(bin: &std::path::Path, url: &str, spawn: Option<&str>) -> String {
    let mut cmd = format!("wkfuzz attack --replay {} {url}", bin.display());
    if let Some(s) = spawn {
        cmd.push_str(&format!(
            " --spawn {}",
            shlex::try_quote(s).map_or_else(|_| format!("{s:?}"), |q| q.into_owned())
        ));
    }
    cmd
}

/// What one phase saw.
struct PhaseOutcome {
    streams: Vec<CaseStream>,
    cases: Vec<u64>,
    connections: Vec<u64>,
    probes_ok: Vec<u64>,
    probes_failed: Vec<u64>,
    probe_max_ms: Vec<f64>,
    symptom: Option<Symptom>,
    suspects: Vec<Sent>,
    samples: Vec<Sample>,
}

/// Sends cases until the budget or deadline or a symptom.
#[allow(clippy::too_many_arguments)]
fn attack_phase(
    config: &AttackConfig,
    subject: &mut Subject,
    dialers: &[Dialer],
    streams: Vec<CaseStream>,
    budget: u64,
    deadline: Instant,
    witnesses: Option<&Witnesses>,
    progress: &(dyn Fn(&Progress) + Sync),
) -> PhaseOutcome {
    let n = subject.players.len();
    let counters = || (0..n).map(|_| AtomicU64::new(0)).collect::<Vec<_>>();
    let phase = Phase {
        streams: Mutex::new((streams, 0)),
        log: Mutex::new(VecDeque::new()),
        next_seq: AtomicU64::new(0),
        stop: AtomicBool::new(false),
        cases: counters(),
        connections: counters(),
        probes_ok: counters(),
        probes_failed: counters(),
        probe_max_us: counters(),
        last_good: Mutex::new(Instant::now()),
        symptom: Mutex::new(None),
        budget: AtomicU64::new(budget),
    };
    let players = subject.players.clone();
    let mut symptom = None;
    let mut samples = Vec::new();
    std::thread::scope(|s| {
        for w in 0..config.workers.max(1) {
            let phase = &phase;
            let players = &players;
            let _ = std::thread::Builder::new()
                .name(format!("attack-worker-{w}"))
                .spawn_scoped(s, move || worker(phase, players));
        }
        let phase_ref = &phase;
        let _ = std::thread::Builder::new()
            .name("attack-prober".into())
            .spawn_scoped(s, move || prober(phase_ref, dialers, config));
        let mut last_tick = Instant::now();
        let mut last_connections = 0u64;
        let mut last_sample = Instant::now();
        loop {
            std::thread::sleep(Duration::from_millis(20));
            let connections: u64 = phase
                .connections
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .sum();
            if let Some(sym) = subject.process_symptom() {
                symptom = Some(sym);
                break;
            }
            if let Some(sym) = lock(&phase.symptom).take() {
                symptom = Some(sym);
                break;
            }
            if witnesses.is_some_and(|w| w.problems() > 0) {
                break;
            }
            if Instant::now() >= deadline || phase.budget.load(Ordering::Relaxed) == 0 {
                break;
            }
            if last_sample.elapsed() >= Duration::from_secs(1) {
                last_sample = Instant::now();
                if let Some(r) = subject.spawned.as_ref().and_then(Spawned::resources) {
                    samples.push(Sample {
                        connections,
                        resources: r,
                    });
                }
            }
            let since = last_tick.elapsed();
            if since >= Duration::from_millis(250) {
                let rate = (connections - last_connections) as f64 / since.as_secs_f64();
                last_tick = Instant::now();
                last_connections = connections;
                progress(&Progress {
                    elapsed: Duration::ZERO,
                    duration: config.duration,
                    cases: phase.cases.iter().map(|c| c.load(Ordering::Relaxed)).sum(),
                    connections,
                    rate,
                    findings: 0,
                    state: "attacking",
                });
            }
        }
        phase.stop.store(true, Ordering::Relaxed);
    });
    // A death the prober (or the crash text) showed first is the process's: prefer its
    // evidence.
    if symptom.as_ref().is_some_and(|s| s.oracle != Oracle::Death) {
        if symptom
            .as_ref()
            .is_some_and(|s| s.oracle == Oracle::CrashText)
        {
            subject.settle_crash();
        }
        if let Some(death) = subject.process_symptom() {
            symptom = Some(death);
        }
    }
    // Suspects: cases not finished before the last good probe round began, with a margin
    // for crash text and deaths the process showed before the prober looked.
    let last_good = *lock(&phase.last_good);
    let since = last_good.checked_sub(SUSPECT_SLACK).unwrap_or(last_good);
    let suspects: Vec<Sent> = if symptom.is_some() {
        lock(&phase.log)
            .iter()
            .filter(|s| s.finished.is_none_or(|f| f >= since))
            .cloned()
            .collect()
    } else {
        Vec::new()
    };
    let load = |v: &Vec<AtomicU64>| {
        v.iter()
            .map(|c| c.load(Ordering::Relaxed))
            .collect::<Vec<u64>>()
    };
    let (streams, _) = phase
        .streams
        .into_inner()
        .unwrap_or_else(|p| p.into_inner());
    PhaseOutcome {
        streams,
        cases: load(&phase.cases),
        connections: load(&phase.connections),
        probes_ok: load(&phase.probes_ok),
        probes_failed: load(&phase.probes_failed),
        probe_max_ms: load(&phase.probe_max_us)
            .into_iter()
            .map(|us| us as f64 / 1000.0)
            .collect(),
        symptom,
        suspects,
        samples,
    }
}

/// Cases kept for the culprit search beyond the last good probe round.
const LOG_SLACK: Duration = Duration::from_secs(2);
/// How far before the last good probe round suspects reach (at most [`LOG_SLACK`]).
const SUSPECT_SLACK: Duration = Duration::from_millis(500);

/// One worker: takes the next case (targets in turn), sends it, logs it.
fn worker(phase: &Phase, players: &[Player]) {
    while !phase.stop.load(Ordering::Relaxed) {
        if phase
            .budget
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| b.checked_sub(1))
            .is_err()
        {
            return;
        }
        let next = {
            let mut guard = lock(&phase.streams);
            let (streams, turn) = &mut *guard;
            let n = streams.len().max(1);
            let mut found = None;
            for k in 0..n {
                let i = (*turn + k) % n;
                if let Some(case) = streams.get_mut(i).and_then(CaseStream::next_case) {
                    found = Some((i, case));
                    break;
                }
            }
            *turn = turn.wrapping_add(1);
            found
        };
        let Some((target, case)) = next else {
            return;
        };
        let Some(player) = players.get(target) else {
            return;
        };
        let seq = phase.next_seq.fetch_add(1, Ordering::Relaxed);
        {
            let mut log = lock(&phase.log);
            if let Some(keep_from) = lock(&phase.last_good).checked_sub(LOG_SLACK) {
                while log
                    .front()
                    .is_some_and(|s| s.finished.is_some_and(|f| f < keep_from))
                {
                    log.pop_front();
                }
            }
            log.push_back(Sent {
                seq,
                target,
                wire: case.wire.clone(),
                origin: case.origin,
                started: Instant::now(),
                finished: None,
            });
        }
        let opened = player.play(&case.wire);
        {
            let mut log = lock(&phase.log);
            if let Some(entry) = log.iter_mut().rev().find(|s| s.seq == seq) {
                entry.finished = Some(Instant::now());
            }
        }
        if let Some(c) = phase.cases.get(target) {
            c.fetch_add(1, Ordering::Relaxed);
        }
        if let Some(c) = phase.connections.get(target) {
            c.fetch_add(u64::from(opened), Ordering::Relaxed);
        }
    }
}

/// The prober: every interval, every target once (and again at once if it fails).
fn prober(phase: &Phase, dialers: &[Dialer], config: &AttackConfig) {
    while !phase.stop.load(Ordering::Relaxed) {
        let round = Instant::now();
        let mut all_good = true;
        for (i, dialer) in dialers.iter().enumerate() {
            let d = dialer.with_timeout(config.hang_after);
            match super::probe::probe(&d, config.protocol) {
                Ok(t) => {
                    if let Some(c) = phase.probes_ok.get(i) {
                        c.fetch_add(1, Ordering::Relaxed);
                    }
                    if let Some(c) = phase.probe_max_us.get(i) {
                        c.fetch_max(t.as_micros() as u64, Ordering::Relaxed);
                    }
                }
                Err(first) => {
                    all_good = false;
                    if let Some(c) = phase.probes_failed.get(i) {
                        c.fetch_add(1, Ordering::Relaxed);
                    }
                    if phase.stop.load(Ordering::Relaxed) {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(100));
                    if let Err(second) = super::probe::probe(&d, config.protocol) {
                        if let Some(c) = phase.probes_failed.get(i) {
                            c.fetch_add(1, Ordering::Relaxed);
                        }
                        *lock(&phase.symptom) =
                            Some(probe_failed(i, &dialer.url.to_string(), &first, &second));
                        return;
                    }
                }
            }
        }
        if all_good {
            *lock(&phase.last_good) = round;
        }
        let wait = config.probe_interval.saturating_sub(round.elapsed());
        let until = Instant::now() + wait;
        while Instant::now() < until && !phase.stop.load(Ordering::Relaxed) {
            std::thread::sleep(Duration::from_millis(5).min(wait));
        }
    }
}
