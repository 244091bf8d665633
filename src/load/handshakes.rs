//! `wkfuzz load handshakes`: full TLS handshakes per second, the real server against a
//! bare tokio-rustls accept loop, in one process and one run.
//!
//! Both servers run on one tokio runtime (the "server runtime", as many worker threads as
//! `wkfuzz serve` would use on this machine unless told otherwise), built from the same dev
//! certificate through [`crate::tls::server_config`] (one config each, so neither warms the
//! other's session cache):
//! - *serve*: [`crate::net::serve`] with one TLS listener, exactly as `wkfuzz serve` runs it
//!   (limits, per-connection task, hub registration, the "connection closed" log event);
//! - *bare*: an accept loop that spawns a task per socket, runs `TlsAcceptor::accept`, then
//!   reads until the client closes and drops the socket: the least a TLS server can do.
//!
//! The clients run on a second runtime: `concurrency` tasks, each in a loop until the round
//! ends: connect, full handshake (client session cache off, so no resumption), close_notify
//! and FIN, read until the server closes. A handshake counts when the client saw it complete
//! and the server then closed the connection. Both servers see the same I/O pattern. By
//! default the clients do not verify the certificate (see [`HandshakeOptions::client_verify`]):
//! a verifying rustls client spends more CPU per handshake than the server (two ECDSA
//! verifications against one signature), and on a small machine it would be the bottleneck
//! that both servers wait on alike.
//!
//! Rounds alternate the target (serve, bare, then bare, serve, ...) so drift on a shared
//! machine hits both alike; the report quotes the median of the rounds and the ratio of the
//! medians. Besides the wall-clock rate it reports server CPU time per handshake (the
//! server runtime's threads, from `/proc/self/task/*/schedstat` on Linux): the clients share
//! the machine's cores with the servers, so the wall-clock ratio is diluted by the client's
//! own cost, while the CPU ratio compares the servers alone.

use super::{
    client_config, dev_cert, median, server_name, thousands, verdict, JsonObject, LoadError,
    Report, ScratchDir,
};
use crate::hub::{Hub, HubConfig};
use crate::net::{NetSettings, Shared};
use crate::transport::Transport;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{TlsAcceptor, TlsConnector};

/// The issue's target: the server's handshake rate over the bare loop's.
pub const TARGET_RATIO: f64 = 0.8;

/// Longest any one connection of the benchmark may take (a stuck one counts as an error).
const CONNECTION_TIMEOUT: Duration = Duration::from_secs(10);

/// TLS protocol version of a measurement.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsVersion {
    /// TLS 1.3 (what current clients negotiate; the target is about it).
    Tls13,
    /// TLS 1.2.
    Tls12,
}

impl TlsVersion {
    fn rustls(self) -> &'static rustls::SupportedProtocolVersion {
        match self {
            TlsVersion::Tls13 => &rustls::version::TLS13,
            TlsVersion::Tls12 => &rustls::version::TLS12,
        }
    }

    /// "1.3" or "1.2".
    pub fn name(self) -> &'static str {
        match self {
            TlsVersion::Tls13 => "1.3",
            TlsVersion::Tls12 => "1.2",
        }
    }
}

/// The two servers compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    /// `wkfuzz::net::serve`, the real server.
    Serve,
    /// The bare tokio-rustls accept loop.
    Bare,
}

impl Target {
    /// Name in tables and JSON.
    pub fn name(self) -> &'static str {
        match self {
            Target::Serve => "serve",
            Target::Bare => "bare",
        }
    }
}

/// What `wkfuzz load handshakes` runs.
#[derive(Clone, Debug)]
pub struct HandshakeOptions {
    /// Length of one round against one target.
    pub round: Duration,
    /// Rounds per target and version.
    pub rounds: usize,
    /// Client tasks, each doing one handshake at a time.
    pub concurrency: usize,
    /// Versions to measure, in this order.
    pub versions: Vec<TlsVersion>,
    /// Worker threads of the server runtime (0: one per CPU, as `wkfuzz serve`).
    pub server_threads: usize,
    /// Worker threads of the client runtime (0: one per CPU).
    pub client_threads: usize,
    /// Unrecorded warm-up against each target before each version's rounds.
    pub warmup: Duration,
    /// Clients verify the server's certificate and signature (off: accepted unchecked,
    /// which halves the clients' CPU cost and so leaves more of the machine to the server).
    pub client_verify: bool,
}

impl Default for HandshakeOptions {
    fn default() -> Self {
        HandshakeOptions {
            round: Duration::from_secs(2),
            rounds: 5,
            concurrency: 16,
            versions: vec![TlsVersion::Tls13, TlsVersion::Tls12],
            server_threads: 0,
            client_threads: 0,
            warmup: Duration::from_millis(500),
            client_verify: false,
        }
    }
}

/// One round against one target.
#[derive(Clone, Copy, Debug)]
pub struct Round {
    /// Completed handshakes.
    pub handshakes: u64,
    /// Connections that failed or timed out before the handshake completed.
    pub errors: u64,
    /// Wall-clock length, from the first connect to the last close.
    pub seconds: f64,
    /// CPU time the server runtime's threads used in the round, where measurable.
    pub server_cpu_seconds: Option<f64>,
    /// CPU time the client runtime's threads used in the round, where measurable.
    pub client_cpu_seconds: Option<f64>,
}

impl Round {
    /// Handshakes per second.
    pub fn rate(&self) -> f64 {
        self.handshakes as f64 / self.seconds.max(f64::MIN_POSITIVE)
    }

    /// Server CPU microseconds per handshake.
    pub fn cpu_us_per_handshake(&self) -> Option<f64> {
        self.server_cpu_seconds
            .filter(|_| self.handshakes > 0)
            .map(|c| c * 1e6 / self.handshakes as f64)
    }

    /// Client CPU microseconds per handshake.
    pub fn client_cpu_us_per_handshake(&self) -> Option<f64> {
        self.client_cpu_seconds
            .filter(|_| self.handshakes > 0)
            .map(|c| c * 1e6 / self.handshakes as f64)
    }
}

/// All rounds of one target at one version.
#[derive(Clone, Debug, Default)]
pub struct Series {
    /// In the order they ran.
    pub rounds: Vec<Round>,
}

impl Series {
    /// Median handshakes per second.
    pub fn median_rate(&self) -> f64 {
        median(&self.rounds.iter().map(Round::rate).collect::<Vec<_>>())
    }

    /// Median server CPU microseconds per handshake, where measured.
    pub fn median_cpu_us(&self) -> Option<f64> {
        let v: Vec<f64> = self
            .rounds
            .iter()
            .filter_map(Round::cpu_us_per_handshake)
            .collect();
        (!v.is_empty()).then(|| median(&v))
    }

    /// Median client CPU microseconds per handshake, where measured.
    pub fn median_client_cpu_us(&self) -> Option<f64> {
        let v: Vec<f64> = self
            .rounds
            .iter()
            .filter_map(Round::client_cpu_us_per_handshake)
            .collect();
        (!v.is_empty()).then(|| median(&v))
    }

    /// Failed connections over all rounds.
    pub fn errors(&self) -> u64 {
        self.rounds.iter().map(|r| r.errors).sum()
    }

    /// Completed handshakes over all rounds.
    pub fn handshakes(&self) -> u64 {
        self.rounds.iter().map(|r| r.handshakes).sum()
    }

    fn json(&self) -> JsonObject {
        let rates: Vec<f64> = self.rounds.iter().map(Round::rate).collect();
        let cpu: Vec<f64> = self
            .rounds
            .iter()
            .filter_map(Round::cpu_us_per_handshake)
            .collect();
        JsonObject::new()
            .num("median_handshakes_per_sec", self.median_rate())
            .opt_num("median_server_cpu_us_per_handshake", self.median_cpu_us())
            .opt_num(
                "median_client_cpu_us_per_handshake",
                self.median_client_cpu_us(),
            )
            .nums("handshakes_per_sec", &rates)
            .nums("server_cpu_us_per_handshake", &cpu)
            .int("handshakes", self.handshakes())
            .int("errors", self.errors())
    }
}

/// Both targets at one version.
#[derive(Clone, Debug)]
pub struct VersionResult {
    /// The version.
    pub version: TlsVersion,
    /// The real server.
    pub serve: Series,
    /// The bare accept loop.
    pub bare: Series,
}

impl VersionResult {
    /// serve's median rate over bare's.
    pub fn ratio(&self) -> f64 {
        self.serve.median_rate() / self.bare.median_rate()
    }

    /// The median over rounds of serve's rate over bare's in the same round (each serve
    /// round runs right next to a bare one, so this cancels slow drift of the machine).
    pub fn paired_ratio(&self) -> f64 {
        let ratios: Vec<f64> = self
            .serve
            .rounds
            .iter()
            .zip(&self.bare.rounds)
            .map(|(s, b)| s.rate() / b.rate())
            .collect();
        median(&ratios)
    }

    /// bare's median CPU per handshake over serve's: the rate ratio the servers would have
    /// if each had the CPUs to itself.
    pub fn cpu_ratio(&self) -> Option<f64> {
        Some(self.bare.median_cpu_us()? / self.serve.median_cpu_us()?)
    }

    /// Whether [`VersionResult::ratio`] reaches [`TARGET_RATIO`].
    pub fn target_met(&self) -> bool {
        self.ratio() >= TARGET_RATIO
    }
}

/// What `wkfuzz load handshakes` measured.
#[derive(Clone, Debug)]
pub struct HandshakeReport {
    /// The options it ran with (thread counts resolved).
    pub options: HandshakeOptions,
    /// One result per version.
    pub versions: Vec<VersionResult>,
}

impl Report for HandshakeReport {
    fn table(&self) -> String {
        let o = &self.options;
        let mut t = String::new();
        let _ = writeln!(
            t,
            "handshakes: {} rounds x {:.1} s per target, {} client tasks, server runtime {} threads, client runtime {} threads, full handshakes (no resumption), ECDSA P-256 dev cert, clients {}",
            o.rounds,
            o.round.as_secs_f64(),
            o.concurrency,
            o.server_threads,
            o.client_threads,
            if o.client_verify { "verify it" } else { "do not verify it" }
        );
        let _ = writeln!(
            t,
            "{:<5} {:<7} {:>12} {:>17} {:>17} {:>7}  per-round handshakes/s",
            "TLS", "server", "median hs/s", "server CPU us/hs", "client CPU us/hs", "errors"
        );
        for v in &self.versions {
            for (target, s) in [(Target::Serve, &v.serve), (Target::Bare, &v.bare)] {
                let rounds: Vec<String> = s.rounds.iter().map(|r| thousands(r.rate())).collect();
                let us = |c: Option<f64>| c.map_or_else(|| "-".to_owned(), |c| format!("{c:.1}"));
                let _ = writeln!(
                    t,
                    "{:<5} {:<7} {:>12} {:>17} {:>17} {:>7}  {}",
                    v.version.name(),
                    target.name(),
                    thousands(s.median_rate()),
                    us(s.median_cpu_us()),
                    us(s.median_client_cpu_us()),
                    s.errors(),
                    rounds.join(" ")
                );
            }
            let cpu = v
                .cpu_ratio()
                .map_or_else(|| "-".to_owned(), |c| format!("{c:.3}"));
            let _ = writeln!(
                t,
                "TLS {}: serve/bare = {:.3} (median rates), {:.3} (median of same-round pairs), {} (server CPU per handshake); target >= {:.2}: {}",
                v.version.name(),
                v.ratio(),
                v.paired_ratio(),
                cpu,
                TARGET_RATIO,
                verdict(v.target_met())
            );
        }
        t
    }

    fn json(&self) -> String {
        let o = &self.options;
        let versions = self
            .versions
            .iter()
            .map(|v| {
                JsonObject::new()
                    .str("tls", v.version.name())
                    .obj("serve", v.serve.json())
                    .obj("bare", v.bare.json())
                    .num("ratio", v.ratio())
                    .num("paired_ratio", v.paired_ratio())
                    .opt_num("cpu_ratio", v.cpu_ratio())
                    .bool("target_met", v.target_met())
            })
            .collect();
        JsonObject::new()
            .str("mode", "handshakes")
            .obj(
                "options",
                JsonObject::new()
                    .num("round_seconds", o.round.as_secs_f64())
                    .int("rounds", o.rounds as u64)
                    .int("concurrency", o.concurrency as u64)
                    .int("server_threads", o.server_threads as u64)
                    .int("client_threads", o.client_threads as u64)
                    .num("warmup_seconds", o.warmup.as_secs_f64())
                    .bool("client_verify", o.client_verify),
            )
            .objs("versions", versions)
            .num("target_ratio", TARGET_RATIO)
            .render()
    }
}

/// Runs the benchmark.
///
/// # Errors
/// [`LoadError::Options`] for options that cannot run, [`LoadError::Io`] if a runtime or
/// listener cannot be made, [`LoadError::Tls`] for the certificate, [`LoadError::Check`] if
/// a target completed no handshake at all.
pub fn run(options: &HandshakeOptions) -> Result<HandshakeReport, LoadError> {
    let mut options = options.clone();
    if options.rounds == 0 || options.concurrency == 0 || options.versions.is_empty() {
        return Err(LoadError::Options(
            "--rounds, --concurrency and the version list must not be empty".into(),
        ));
    }
    if options.round.is_zero() {
        return Err(LoadError::Options("--seconds must be above 0".into()));
    }
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    if options.server_threads == 0 {
        options.server_threads = cpus;
    }
    if options.client_threads == 0 {
        options.client_threads = cpus;
    }

    let dir = ScratchDir::new("handshakes")?;
    let (files, key) = dev_cert(dir.path())?;

    let server_tids = Arc::new(Mutex::new(Vec::<String>::new()));
    let client_tids = Arc::new(Mutex::new(Vec::<String>::new()));
    let tids = server_tids.clone();
    let ctids = client_tids.clone();
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.server_threads)
        .thread_name("wkfuzz-load-server")
        .on_thread_start(move || {
            if let Some(tid) = current_tid() {
                lock(&tids).push(tid);
            }
        })
        .enable_all()
        .build()
        .map_err(LoadError::io("server runtime"))?;
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.client_threads)
        .thread_name("wkfuzz-load-client")
        .on_thread_start(move || {
            if let Some(tid) = current_tid() {
                lock(&ctids).push(tid);
            }
        })
        .enable_all()
        .build()
        .map_err(LoadError::io("client runtime"))?;

    // The real server, as `wkfuzz serve` builds it (one TLS listener).
    let serve_tls = crate::tls::server_config(key.clone(), Vec::new())?;
    let shared = Arc::new(Shared::new(
        Hub::new(HubConfig::default()),
        NetSettings::default(),
        Some(serve_tls),
    ));
    let (stop_serve, serve_stopped) = tokio::sync::oneshot::channel::<()>();
    let (serve_addr, serve_task) = server_rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(LoadError::io("bind serve listener"))?;
        let addr = listener
            .local_addr()
            .map_err(LoadError::io("serve listener address"))?;
        let task = tokio::spawn(crate::net::serve(
            vec![(listener, Transport::Tls)],
            shared,
            async move {
                let _ = serve_stopped.await;
            },
        ));
        Ok::<_, LoadError>((addr, task))
    })?;

    // The bare loop, with its own config from the same key.
    let acceptor = TlsAcceptor::from(crate::tls::server_config(key, Vec::new())?);
    let (bare_addr, bare_task) = server_rt.block_on(async {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(LoadError::io("bind bare listener"))?;
        let addr = listener
            .local_addr()
            .map_err(LoadError::io("bare listener address"))?;
        Ok::<_, LoadError>((addr, tokio::spawn(bare_accept_loop(listener, acceptor))))
    })?;

    let mut versions = Vec::new();
    for &version in &options.versions {
        let connector = TlsConnector::from(client_config(
            &files.cert,
            &[version.rustls()],
            options.client_verify,
        )?);
        let mut result = VersionResult {
            version,
            serve: Series::default(),
            bare: Series::default(),
        };
        for addr in [serve_addr, bare_addr] {
            if !options.warmup.is_zero() {
                client_rt.block_on(drive(addr, &connector, options.concurrency, options.warmup));
            }
        }
        for round in 0..options.rounds {
            let order = if round % 2 == 0 {
                [Target::Serve, Target::Bare]
            } else {
                [Target::Bare, Target::Serve]
            };
            for target in order {
                let (addr, series) = match target {
                    Target::Serve => (serve_addr, &mut result.serve),
                    Target::Bare => (bare_addr, &mut result.bare),
                };
                let cpu_before = cpu_seconds(&server_tids);
                let client_before = cpu_seconds(&client_tids);
                let (handshakes, errors, seconds) =
                    client_rt.block_on(drive(addr, &connector, options.concurrency, options.round));
                let cpu_after = cpu_seconds(&server_tids);
                let client_after = cpu_seconds(&client_tids);
                series.rounds.push(Round {
                    handshakes,
                    errors,
                    seconds,
                    server_cpu_seconds: cpu_before.zip(cpu_after).map(|(b, a)| (a - b).max(0.0)),
                    client_cpu_seconds: client_before
                        .zip(client_after)
                        .map(|(b, a)| (a - b).max(0.0)),
                });
            }
        }
        for (target, s) in [(Target::Serve, &result.serve), (Target::Bare, &result.bare)] {
            if s.handshakes() == 0 {
                return Err(LoadError::Check(format!(
                    "TLS {}: no handshake with {} completed ({} errors)",
                    version.name(),
                    target.name(),
                    s.errors()
                )));
            }
        }
        versions.push(result);
    }

    let _ = stop_serve.send(());
    server_rt.block_on(async {
        bare_task.abort();
        let _ = tokio::time::timeout(Duration::from_secs(10), serve_task).await;
    });
    server_rt.shutdown_timeout(Duration::from_secs(1));
    client_rt.shutdown_timeout(Duration::from_secs(1));
    Ok(HandshakeReport { options, versions })
}

/// The bare server: accept, handshake, wait for the client to close, drop.
async fn bare_accept_loop(listener: TcpListener, acceptor: TlsAcceptor) {
    loop {
        let stream = match listener.accept().await {
            Ok((s, _)) => s,
            Err(_) => {
                // Out of descriptors or similar: back off like the real listener does.
                tokio::time::sleep(Duration::from_millis(5)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let acceptor = acceptor.clone();
        tokio::spawn(async move {
            let _ = tokio::time::timeout(CONNECTION_TIMEOUT, async move {
                let Ok(mut tls) = acceptor.accept(stream).await else {
                    return;
                };
                let mut buf = [0u8; 1024];
                while matches!(tls.read(&mut buf).await, Ok(n) if n > 0) {}
            })
            .await;
        });
    }
}

/// `concurrency` client tasks doing handshakes against `addr` for `length`; returns
/// (handshakes, errors, seconds until the last task finished).
async fn drive(
    addr: SocketAddr,
    connector: &TlsConnector,
    concurrency: usize,
    length: Duration,
) -> (u64, u64, f64) {
    let start = Instant::now();
    let deadline = start + length;
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let connector = connector.clone();
        tasks.spawn(async move {
            let (mut ok, mut failed) = (0u64, 0u64);
            // At least one each, so a task that starts late on a busy machine still
            // contributes (the rate divides by the real elapsed time).
            loop {
                match tokio::time::timeout(CONNECTION_TIMEOUT, handshake(addr, &connector)).await {
                    Ok(Ok(())) => ok += 1,
                    _ => failed += 1,
                }
                if Instant::now() >= deadline {
                    break;
                }
            }
            (ok, failed)
        });
    }
    let (mut ok, mut failed) = (0u64, 0u64);
    while let Some(r) = tasks.join_next().await {
        if let Ok((o, f)) = r {
            ok += o;
            failed += f;
        }
    }
    (ok, failed, start.elapsed().as_secs_f64())
}

/// One full handshake: connect, handshake, close_notify + FIN, read until the server closes.
async fn handshake(addr: SocketAddr, connector: &TlsConnector) -> std::io::Result<()> {
    let tcp = TcpStream::connect(addr).await?;
    tcp.set_nodelay(true)?;
    let mut tls = connector.connect(server_name(), tcp).await?;
    tls.shutdown().await?;
    // The server ends the connection (with or without its own close_notify, or a reset):
    // any of those means it is done with it.
    let mut buf = [0u8; 1024];
    while matches!(tls.read(&mut buf).await, Ok(n) if n > 0) {}
    Ok(())
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// This thread's id as named under `/proc/self/task` (Linux), from `/proc/thread-self`.
pub(crate) fn current_tid() -> Option<String> {
    let link = std::fs::read_link("/proc/thread-self").ok()?;
    Some(link.file_name()?.to_str()?.to_owned())
}

/// CPU time (user + system, nanosecond resolution from schedstat) used so far by the
/// threads in `tids`; `None` where `/proc` does not say.
pub(crate) fn cpu_seconds(tids: &Mutex<Vec<String>>) -> Option<f64> {
    let tids = lock(tids).clone();
    if tids.is_empty() {
        return None;
    }
    let mut total_ns = 0u64;
    for tid in tids {
        let Ok(text) = std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")) else {
            // The thread has exited (a blocking-pool thread): its time is not counted.
            continue;
        };
        total_ns += text.split_whitespace().next()?.parse::<u64>().ok()?;
    }
    Some(total_ns as f64 / 1e9)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_servers_complete_handshakes_over_both_versions() {
        let report = run(&HandshakeOptions {
            round: Duration::from_millis(150),
            rounds: 2,
            concurrency: 2,
            versions: vec![TlsVersion::Tls13, TlsVersion::Tls12],
            server_threads: 1,
            client_threads: 1,
            warmup: Duration::ZERO,
            client_verify: true,
        })
        .unwrap();
        assert_eq!(report.versions.len(), 2);
        for v in &report.versions {
            for s in [&v.serve, &v.bare] {
                assert_eq!(s.rounds.len(), 2);
                assert!(s.handshakes() > 0, "{}", report.table());
                assert_eq!(s.errors(), 0, "{}", report.table());
            }
            assert!(v.ratio() > 0.0 && v.ratio().is_finite());
            if cfg!(target_os = "linux") {
                assert!(v.cpu_ratio().is_some(), "schedstat is read on Linux");
            }
        }
        let json = report.json();
        assert!(json.contains(r#""tls":"1.2""#), "{json}");
    }
}
