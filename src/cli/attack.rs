//! `wkfuzz attack`: options, the progress line, and the exit code; the attack lives in
//! `wkfuzz::attack`.

use clap::Args;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};
use wkfuzz::attack::campaign::{self, AttackConfig, AttackError, Progress};
use wkfuzz::attack::culprit::SearchLimits;
use wkfuzz::attack::play::Player;
use wkfuzz::attack::resources::GrowthLimits;
use wkfuzz::attack::source::Sources;
use wkfuzz::attack::spawn::{split_command, Spawned};
use wkfuzz::attack::subject::Subject;
use wkfuzz::attack::target::{Protocol, TargetUrl};
use wkfuzz::attack::witness::WitnessConfig;
use wkfuzz::attack::{conn::Dialer, regression, replay, report};

#[derive(Debug, Args)]
pub(crate) struct Attack {
    /// Servers under test: tcp://HOST:PORT, tls://HOST:PORT, ws://HOST:PORT/PATH,
    /// wss://HOST:PORT/PATH (the listeners of one server). The attack connects to these
    /// addresses only.
    #[arg(value_name = "TARGET", required = true)]
    targets: Vec<String>,
    /// What the server speaks: wkproto (every case, IM scripts, witnesses, login probes),
    /// tls (an HTTPS or other TLS server: handshake and record cases only), raw (bytes
    /// only; the probe is a connection).
    #[arg(long, value_enum, default_value = "wkproto")]
    protocol: Protocol,
    /// Start the server with this command (split like a shell would), watch its exit,
    /// stderr and resources, and restart it between culprit tries. The target URLs must
    /// name the ports it listens on.
    #[arg(long, value_name = "CMD")]
    spawn: Option<String>,
    /// The server expects a PROXY protocol header first (the attack sends a valid v1
    /// header, except in PROXY-header cases).
    #[arg(long)]
    proxy_protocol: bool,
    /// Replay one wire regression (its .bin or .toml) against the single TARGET instead
    /// of attacking; exit 1 if it reproduces.
    #[arg(long, value_name = "FILE")]
    replay: Option<PathBuf>,
    /// Replays of --replay.
    #[arg(long, default_value_t = 3, value_name = "N")]
    repeat: usize,
    /// Seconds to attack.
    #[arg(long, default_value_t = 60)]
    seconds: u64,
    /// Stop after this many cases.
    #[arg(long, value_name = "N")]
    max_cases: Option<u64>,
    /// Stop after this many findings.
    #[arg(long, default_value_t = 10, value_name = "N")]
    max_findings: usize,
    /// Seed of the case streams (fresh inputs, mutations, corpus order).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Case sources: any of corpus, regressions, fresh, mutate (comma-separated), or all.
    #[arg(long, default_value = "all", value_name = "LIST")]
    cases: String,
    /// Connections in parallel.
    #[arg(long, default_value_t = 16, value_name = "N")]
    connections: usize,
    /// Witness clients chatting during the attack (wkproto; 0: none).
    #[arg(long, default_value_t = 3, value_name = "N")]
    witnesses: usize,
    /// Milliseconds between one witness's messages.
    #[arg(long, default_value_t = 100, value_name = "MS")]
    witness_interval_ms: u64,
    /// A witness p99 latency above this multiple of the idle p99 is a finding ...
    #[arg(long, default_value_t = 20.0, value_name = "X")]
    latency_factor: f64,
    /// ... when it is also above this many milliseconds.
    #[arg(long, default_value_t = 250, value_name = "MS")]
    latency_floor_ms: u64,
    /// A probe (connect, handshake, login) slower than this many seconds is a hang.
    #[arg(long, default_value_t = 5, value_name = "SECS")]
    hang_after: u64,
    /// Milliseconds between liveness probes.
    #[arg(long, default_value_t = 100, value_name = "MS")]
    probe_interval_ms: u64,
    /// Connect, read and write timeout of a case, milliseconds.
    #[arg(long, default_value_t = 2000, value_name = "MS")]
    timeout_ms: u64,
    /// How long the server may take to answer and close after a case, milliseconds.
    #[arg(long, default_value_t = 1000, value_name = "MS")]
    settle_ms: u64,
    /// Seconds a (re)started server may take to serve.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    ready_within: u64,
    /// Resident memory growth per 10,000 connections (MiB) above which a spawned server
    /// leaks.
    #[arg(long, default_value_t = 8.0, value_name = "MIB")]
    rss_limit: f64,
    /// Descriptor growth per 10,000 connections above which a spawned server leaks.
    #[arg(long, default_value_t = 50.0, value_name = "N")]
    fd_limit: f64,
    /// Seconds one culprit search (with minimization and confirmation) may take.
    #[arg(long, default_value_t = 180, value_name = "SECS")]
    search_seconds: u64,
    /// Replays that must all reproduce a minimized culprit.
    #[arg(long, default_value_t = 3, value_name = "N")]
    confirm: usize,
    /// Corpus root.
    #[arg(long, default_value = "corpus")]
    corpus: PathBuf,
    /// Regressions root; wire regressions are read from and written to <this>/wire.
    #[arg(long, default_value = "regressions")]
    regressions: PathBuf,
    /// Also write a JSON report here.
    #[arg(long, value_name = "FILE")]
    json: Option<PathBuf>,
    /// Also write a JUnit XML report here.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
}

impl Attack {
    /// Exit 0 no finding, 1 findings (or --replay reproduced), 2 usage or start-up error.
    pub(crate) fn run(self) -> anyhow::Result<ExitCode> {
        let targets = self
            .targets
            .iter()
            .map(|t| TargetUrl::parse(t))
            .collect::<Result<Vec<_>, _>>()?;
        let spawn = self
            .spawn
            .as_deref()
            .map(split_command)
            .transpose()
            .map_err(anyhow::Error::msg)?;
        if self.protocol == Protocol::Tls && targets.iter().any(|t| !t.scheme.is_secure()) {
            anyhow::bail!("--protocol tls needs tls:// or wss:// targets");
        }
        stop_servers_on_interrupt();
        if let Some(file) = &self.replay {
            return self.replay(file, targets, spawn);
        }
        let config = AttackConfig {
            targets,
            protocol: self.protocol,
            spawn,
            proxy_header: self.proxy_protocol,
            sources: Sources::parse(&self.cases).map_err(anyhow::Error::msg)?,
            corpus: self.corpus,
            regressions: self.regressions,
            seed: self.seed,
            duration: Duration::from_secs(self.seconds),
            max_cases: self.max_cases,
            workers: self.connections.max(1),
            timeout: Duration::from_millis(self.timeout_ms),
            settle: Duration::from_millis(self.settle_ms),
            hang_after: Duration::from_secs(self.hang_after.max(1)),
            probe_interval: Duration::from_millis(self.probe_interval_ms),
            ready_within: Duration::from_secs(self.ready_within),
            witnesses: WitnessConfig {
                count: self.witnesses,
                interval: Duration::from_millis(self.witness_interval_ms.max(1)),
                deliver_within: Duration::from_secs(5),
                timeout: Duration::from_secs(self.hang_after.max(1)),
            },
            baseline: Duration::from_secs(2),
            latency_factor: self.latency_factor,
            latency_floor: Duration::from_millis(self.latency_floor_ms),
            growth: GrowthLimits {
                rss_mib_per_10k: self.rss_limit,
                fds_per_10k: self.fd_limit,
                ..GrowthLimits::default()
            },
            search: SearchLimits {
                max_suspects: 20_000,
                max_minimize_tests: 2_000,
                confirmations: self.confirm.max(1),
                budget: Duration::from_secs(self.search_seconds),
            },
            max_findings: self.max_findings.max(1),
        };
        let line = ProgressLine::new();
        let result = campaign::run(&config, &|p: &Progress| line.show(p));
        line.end();
        let report = match result {
            Ok(r) => r,
            Err(AttackError::Usage(e) | AttackError::Startup(e)) => anyhow::bail!(e),
        };
        print!("{}", report::table(&report));
        if let Some(p) = &self.json {
            std::fs::write(p, report::json(&report))?;
        }
        if let Some(p) = &self.junit {
            std::fs::write(p, report::junit(&report))?;
        }
        Ok(if report.findings.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    }

    fn replay(
        &self,
        file: &std::path::Path,
        targets: Vec<TargetUrl>,
        spawn: Option<Vec<String>>,
    ) -> anyhow::Result<ExitCode> {
        let [target] = <[TargetUrl; 1]>::try_from(targets)
            .map_err(|_| anyhow::anyhow!("--replay takes exactly one TARGET"))?;
        let reg = regression::load(file).map_err(anyhow::Error::msg)?;
        let proxy = self.proxy_protocol || reg.meta.proxy;
        let timeout = Duration::from_millis(self.timeout_ms);
        let dialer = Dialer::new(target, proxy, timeout)?;
        let player = Player::new(dialer, Duration::from_millis(self.settle_ms))?;
        let spawned = spawn.as_deref().map(Spawned::start).transpose()?;
        let mut subject = Subject::new(
            vec![player],
            self.protocol,
            spawned,
            Duration::from_secs(self.ready_within),
            Duration::from_secs(self.hang_after.max(1)),
        );
        subject.wait_ready().map_err(anyhow::Error::msg)?;
        println!(
            "{}: {} ({} case, {} bytes)",
            reg.bin.display(),
            reg.meta.title,
            reg.meta.kind,
            reg.case.data().len()
        );
        let seen =
            replay::replay(&reg, &mut subject, self.repeat.max(1)).map_err(anyhow::Error::msg)?;
        let mut reproduced = 0;
        for (i, s) in seen.iter().enumerate() {
            match s {
                Some(s) => {
                    reproduced += 1;
                    println!("replay {}: {}: {}", i + 1, s.oracle, s.signature);
                    for line in s.evidence.lines().take(8) {
                        println!("  | {line}");
                    }
                }
                None => println!("replay {}: the server survived and serves", i + 1),
            }
        }
        println!("reproduced {reproduced}/{}", seen.len());
        Ok(if reproduced > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        })
    }
}

/// On Ctrl-C, kills the spawned servers (they run in process groups of their own, which
/// the terminal's interrupt does not reach) and exits 130.
fn stop_servers_on_interrupt() {
    let _ = std::thread::Builder::new()
        .name("attack-interrupt".into())
        .spawn(|| {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            if rt.block_on(tokio::signal::ctrl_c()).is_ok() {
                wkfuzz::attack::spawn::kill_all();
                eprintln!("\nwkfuzz attack: interrupted; spawned servers stopped");
                std::process::exit(130);
            }
        });
}

/// The live progress line: rewritten in place on a terminal, one line every ten seconds
/// otherwise.
struct ProgressLine {
    tty: bool,
    last: Mutex<Option<Instant>>,
}

impl ProgressLine {
    fn new() -> ProgressLine {
        ProgressLine {
            tty: std::io::stderr().is_terminal(),
            last: Mutex::new(None),
        }
    }

    fn show(&self, p: &Progress) {
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        let every = if self.tty {
            Duration::from_millis(250)
        } else {
            Duration::from_secs(10)
        };
        if last.is_some_and(|t| t.elapsed() < every) && p.state == "attacking" {
            return;
        }
        *last = Some(Instant::now());
        let text = format!(
            "[{:>5.1}s/{}s] {:<21} cases {:>9}  conns {:>9}  {:>6.0} conn/s  findings {}",
            p.elapsed.as_secs_f64(),
            p.duration.as_secs(),
            p.state,
            p.cases,
            p.connections,
            p.rate,
            p.findings
        );
        if self.tty {
            eprint!("\r{text}\x1b[K");
        } else {
            eprintln!("{text}");
        }
        let _ = std::io::stderr().flush();
    }

    fn end(&self) {
        if self.tty {
            eprintln!();
        }
    }
}
