//! `wkfuzz load idle`: what idle logged-in connections cost the server in resident memory.
//!
//! For each transport, a fresh `wkfuzz serve` child (the binary given, normally the running
//! one) on `127.0.0.1:0`, with a dev certificate written for the run. Its VmRSS is read from
//! `/proc/<pid>/status` once it has printed its listening addresses and settled; then this
//! process opens `connections` connections (TLS 1.3 handshake where it applies), logs each
//! in with CONNECT as its own uid, waits for a successful CONNACK on every one, lets the
//! server settle, and reads VmRSS again. The difference is the cost of the connections; the
//! target is about 1,000 TLS connections, so runs of another size are scaled to 1,000 for
//! the verdict. The child's open descriptors are counted too, as evidence that it really
//! holds the connections. Finally the connections close and RSS is read once more (whether
//! the memory comes back).
//!
//! Linux only (it reads `/proc`).

use super::{
    client_config, dev_cert, server_name, thousands, verdict, JsonObject, LoadError, Report,
    ScratchDir,
};
use crate::client::Client;
use crate::proto::{DeviceFlag, Packet, ReasonCode};
use crate::transport::Transport;
use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;
use tokio_rustls::TlsConnector;

/// The target: MiB of RSS that 1,000 idle TLS connections may add.
pub const TARGET_MIB_PER_1000: f64 = 20.0;

/// How long the child may take to print its listening addresses.
const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// How long the child may take to exit after SIGTERM before it is killed.
const STOP_TIMEOUT: Duration = Duration::from_secs(10);

/// How long one connection may take to log in.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);

/// Descriptors this process needs beyond one per connection (runtime, pipes, files).
const FD_MARGIN: u64 = 64;

/// What `wkfuzz load idle` runs.
#[derive(Clone, Debug)]
pub struct IdleOptions {
    /// Connections to open and log in.
    pub connections: usize,
    /// Transports to measure, each with a fresh server.
    pub transports: Vec<Transport>,
    /// The `wkfuzz` binary to start as the server.
    pub server_exe: PathBuf,
    /// Pause before each RSS reading, so the server finishes what it was doing.
    pub settle: Duration,
    /// Logins in flight at once.
    pub parallel: usize,
}

impl IdleOptions {
    /// Defaults (1,000 connections, TLS then TCP) with `server_exe` as the server.
    pub fn new(server_exe: PathBuf) -> IdleOptions {
        IdleOptions {
            connections: 1000,
            transports: vec![Transport::Tls, Transport::Tcp],
            server_exe,
            settle: Duration::from_millis(500),
            parallel: 32,
        }
    }
}

/// One transport's measurement.
#[derive(Clone, Copy, Debug)]
pub struct IdleResult {
    /// The transport.
    pub transport: Transport,
    /// Connections that logged in (the run fails unless all did).
    pub connections: usize,
    /// Server VmRSS after start-up, KiB.
    pub rss_start_kib: u64,
    /// Server VmRSS with every connection open and idle, KiB.
    pub rss_loaded_kib: u64,
    /// Server VmRSS after the connections closed, KiB.
    pub rss_closed_kib: u64,
    /// Server open descriptors after start-up.
    pub fds_start: usize,
    /// Server open descriptors with the connections open.
    pub fds_loaded: usize,
}

impl IdleResult {
    /// RSS added by the connections, MiB.
    pub fn delta_mib(&self) -> f64 {
        self.rss_loaded_kib.saturating_sub(self.rss_start_kib) as f64 / 1024.0
    }

    /// RSS added per connection, KiB.
    pub fn per_connection_kib(&self) -> f64 {
        self.rss_loaded_kib.saturating_sub(self.rss_start_kib) as f64
            / self.connections.max(1) as f64
    }

    /// [`IdleResult::delta_mib`] scaled to 1,000 connections.
    pub fn mib_per_1000(&self) -> f64 {
        self.per_connection_kib() * 1000.0 / 1024.0
    }

    /// Whether [`IdleResult::mib_per_1000`] is under [`TARGET_MIB_PER_1000`].
    pub fn target_met(&self) -> bool {
        self.mib_per_1000() < TARGET_MIB_PER_1000
    }
}

/// What `wkfuzz load idle` measured.
#[derive(Clone, Debug)]
pub struct IdleReport {
    /// The options it ran with.
    pub options: IdleOptions,
    /// This process's soft limit on open files (the child inherits it).
    pub fd_limit: Option<u64>,
    /// One result per transport.
    pub results: Vec<IdleResult>,
}

impl Report for IdleReport {
    fn table(&self) -> String {
        let o = &self.options;
        let mut t = String::new();
        let limit = self
            .fd_limit
            .map_or_else(|| "unknown".to_owned(), |l| l.to_string());
        let _ = writeln!(
            t,
            "idle: {} logged-in connections per transport, fresh `wkfuzz serve` child each, open-files limit {}",
            o.connections, limit
        );
        let _ = writeln!(
            t,
            "{:<5} {:>9} {:>14} {:>15} {:>11} {:>12} {:>14} {:>12}",
            "",
            "conns",
            "RSS start KiB",
            "RSS loaded KiB",
            "delta MiB",
            "KiB/conn",
            "MiB per 1000",
            "fds loaded"
        );
        for r in &self.results {
            let _ = writeln!(
                t,
                "{:<5} {:>9} {:>14} {:>15} {:>11.2} {:>12.1} {:>14.2} {:>12}",
                r.transport.to_string(),
                r.connections,
                thousands(r.rss_start_kib as f64),
                thousands(r.rss_loaded_kib as f64),
                r.delta_mib(),
                r.per_connection_kib(),
                r.mib_per_1000(),
                r.fds_loaded
            );
        }
        for r in &self.results {
            let _ = writeln!(
                t,
                "{}: RSS after the connections closed: {} KiB",
                r.transport,
                thousands(r.rss_closed_kib as f64)
            );
        }
        for r in self
            .results
            .iter()
            .filter(|r| r.transport == Transport::Tls)
        {
            let _ = writeln!(
                t,
                "target: 1,000 idle TLS connections < {TARGET_MIB_PER_1000} MiB: {} ({:.2} MiB)",
                verdict(r.target_met()),
                r.mib_per_1000()
            );
        }
        t
    }

    fn json(&self) -> String {
        let results = self
            .results
            .iter()
            .map(|r| {
                JsonObject::new()
                    .str("transport", &r.transport.to_string())
                    .int("connections", r.connections as u64)
                    .int("rss_start_kib", r.rss_start_kib)
                    .int("rss_loaded_kib", r.rss_loaded_kib)
                    .int("rss_closed_kib", r.rss_closed_kib)
                    .num("delta_mib", r.delta_mib())
                    .num("per_connection_kib", r.per_connection_kib())
                    .num("mib_per_1000", r.mib_per_1000())
                    .int("fds_start", r.fds_start as u64)
                    .int("fds_loaded", r.fds_loaded as u64)
                    .bool("target_met", r.target_met())
            })
            .collect();
        JsonObject::new()
            .str("mode", "idle")
            .int("connections", self.options.connections as u64)
            .opt_num("fd_limit", self.fd_limit.map(|l| l as f64))
            .objs("results", results)
            .num("target_mib_per_1000", TARGET_MIB_PER_1000)
            .render()
    }
}

/// Runs the benchmark.
///
/// # Errors
/// [`LoadError::Options`] when the open-files limit is too low for `connections`;
/// [`LoadError::Io`] when the child cannot be started or `/proc` cannot be read;
/// [`LoadError::Check`] when the child does not come up or any login fails.
pub fn run(options: &IdleOptions) -> Result<IdleReport, LoadError> {
    if options.connections == 0 || options.transports.is_empty() || options.parallel == 0 {
        return Err(LoadError::Options(
            "--connections, --parallel and the transport list must not be empty".into(),
        ));
    }
    let fd_limit = open_files_limit();
    if let Some(limit) = fd_limit {
        let need = options.connections as u64 + FD_MARGIN;
        if limit < need {
            return Err(LoadError::Options(format!(
                "the open-files limit is {limit}, {need} needed for {} connections: raise it (ulimit -n)",
                options.connections
            )));
        }
    }
    let dir = ScratchDir::new("idle")?;
    let (files, _) = dev_cert(dir.path())?;
    let connector = TlsConnector::from(client_config(
        &files.cert,
        &[&rustls::version::TLS13, &rustls::version::TLS12],
        true,
    )?);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(LoadError::io("client runtime"))?;
    let mut results = Vec::new();
    for &transport in &options.transports {
        let mut server = ServerChild::start(options, &files.cert, &files.key, dir.path())?;
        std::thread::sleep(options.settle);
        let rss_start_kib = server.rss_kib()?;
        let fds_start = server.fds()?;
        let addr = match transport {
            Transport::Tcp => server.tcp,
            Transport::Tls => server.tls,
            Transport::Ws | Transport::Wss => {
                return Err(LoadError::Check(
                    "idle mode measures tcp and tls only".into(),
                ))
            }
        };
        let conns = rt.block_on(open_all(
            addr,
            transport,
            connector.clone(),
            options.connections,
            options.parallel,
        ));
        let conns = match conns {
            Ok(c) => c,
            Err(e) => return Err(LoadError::Check(format!("{e}{}", server.stderr_tail()))),
        };
        std::thread::sleep(options.settle);
        let rss_loaded_kib = server.rss_kib()?;
        let fds_loaded = server.fds()?;
        let connections = conns.len();
        rt.block_on(async move { drop(conns) });
        std::thread::sleep(options.settle * 2);
        let rss_closed_kib = server.rss_kib()?;
        server.stop();
        if fds_loaded < fds_start + connections {
            return Err(LoadError::Check(format!(
                "{transport}: the server holds {fds_loaded} descriptors with {connections} connections open ({fds_start} at start)"
            )));
        }
        results.push(IdleResult {
            transport,
            connections,
            rss_start_kib,
            rss_loaded_kib,
            rss_closed_kib,
            fds_start,
            fds_loaded,
        });
    }
    rt.shutdown_timeout(Duration::from_secs(1));
    Ok(IdleReport {
        options: options.clone(),
        fd_limit,
        results,
    })
}

/// A byte stream to the server.
trait Wire: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Wire for T {}

/// Opens and logs in `n` connections, at most `parallel` logins at a time.
async fn open_all(
    addr: SocketAddr,
    transport: Transport,
    connector: TlsConnector,
    n: usize,
    parallel: usize,
) -> Result<Vec<Box<dyn Wire>>, String> {
    let limit = Arc::new(Semaphore::new(parallel));
    let mut tasks = tokio::task::JoinSet::new();
    for i in 0..n {
        let limit = limit.clone();
        let connector = connector.clone();
        tasks.spawn(async move {
            let _permit = limit.acquire().await.map_err(|e| e.to_string())?;
            tokio::time::timeout(LOGIN_TIMEOUT, login(addr, transport, &connector, i))
                .await
                .map_err(|_| format!("login {i} timed out"))?
        });
    }
    let mut conns = Vec::with_capacity(n);
    while let Some(r) = tasks.join_next().await {
        conns.push(r.map_err(|e| e.to_string())??);
    }
    Ok(conns)
}

/// Connects, logs in as `idle{i}`, and returns the stream once CONNACK says success.
async fn login(
    addr: SocketAddr,
    transport: Transport,
    connector: &TlsConnector,
    i: usize,
) -> Result<Box<dyn Wire>, String> {
    let err = |e: std::io::Error| format!("connection {i}: {e}");
    let tcp = TcpStream::connect(addr).await.map_err(err)?;
    tcp.set_nodelay(true).map_err(err)?;
    let mut stream: Box<dyn Wire> = match transport {
        Transport::Tcp => Box::new(tcp),
        Transport::Tls => Box::new(connector.connect(server_name(), tcp).await.map_err(err)?),
        Transport::Ws | Transport::Wss => {
            return Err(format!(
                "connection {i}: idle mode measures tcp and tls only"
            ))
        }
    };
    let mut secret = [0x33u8; 32];
    secret[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
    let mut client = Client::new(secret, 4);
    let uid = format!("idle{i}");
    let connect = client.connect(&uid, "token", DeviceFlag::APP, 1_700_000_000_000);
    stream
        .write_all(&client.encode(&connect))
        .await
        .map_err(err)?;
    stream.flush().await.map_err(err)?;
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).await.map_err(err)?;
        if n == 0 {
            return Err(format!("{uid}: server closed before CONNACK"));
        }
        let frames = client
            .handle_bytes(buf.get(..n).unwrap_or_default())
            .map_err(|e| format!("{uid}: {e}"))?;
        for f in frames {
            if let Packet::Connack(c) = f.packet {
                if c.reason != ReasonCode::SUCCESS {
                    return Err(format!("{uid}: CONNACK {}", c.reason));
                }
                client
                    .handle_connack(&c)
                    .map_err(|e| format!("{uid}: {e}"))?;
                return Ok(stream);
            }
        }
    }
}

/// A `wkfuzz serve` child process; killed when dropped.
#[derive(Debug)]
struct ServerChild {
    child: Child,
    tcp: SocketAddr,
    tls: SocketAddr,
    /// Where the child's stderr goes, shown when something fails.
    stderr: PathBuf,
}

impl ServerChild {
    fn start(
        options: &IdleOptions,
        cert: &Path,
        key: &Path,
        dir: &Path,
    ) -> Result<ServerChild, LoadError> {
        let stderr = dir.join(format!("serve-{}.log", std::process::id()));
        let stderr_file =
            std::fs::File::create(&stderr).map_err(LoadError::io("create server log"))?;
        let max_connections = (options.connections + 100).max(10_000).to_string();
        let mut child = Command::new(&options.server_exe)
            .args(["--log", "warn", "serve", "--tcp", "127.0.0.1:0"])
            .args([
                "--tls",
                "127.0.0.1:0",
                "--ws",
                "off",
                "--wss",
                "off",
                "--cert",
            ])
            .arg(cert)
            .arg("--key")
            .arg(key)
            .args(["--max-connections", &max_connections])
            .args(["--idle-timeout", "3600"])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(stderr_file)
            .spawn()
            .map_err(LoadError::io(format!(
                "start {}",
                options.server_exe.display()
            )))?;
        // Lines are read on a thread, so a child that hangs cannot hang us; the thread keeps
        // the pipe open until the child exits (a closed pipe would fail its println).
        let (tx, rx) = mpsc::channel::<String>();
        if let Some(out) = child.stdout.take() {
            std::thread::spawn(move || {
                for line in BufReader::new(out).lines() {
                    let Ok(line) = line else { break };
                    let _ = tx.send(line);
                }
            });
        }
        let mut server = ServerChild {
            child,
            tcp: SocketAddr::from(([0, 0, 0, 0], 0)),
            tls: SocketAddr::from(([0, 0, 0, 0], 0)),
            stderr,
        };
        let deadline = std::time::Instant::now() + STARTUP_TIMEOUT;
        let (mut tcp, mut tls) = (None, None);
        while tcp.is_none() || tls.is_none() {
            let left = deadline.saturating_duration_since(std::time::Instant::now());
            let line = rx.recv_timeout(left).map_err(|_| {
                LoadError::Check(format!(
                    "the server did not print its listening addresses{}",
                    server.stderr_tail()
                ))
            })?;
            // "wkfuzz: listening tcp 127.0.0.1:PORT"
            let mut words = line.split_whitespace();
            if let (Some("wkfuzz:"), Some("listening"), Some(t), Some(a)) =
                (words.next(), words.next(), words.next(), words.next())
            {
                let addr = a.parse::<SocketAddr>().ok();
                match t {
                    "tcp" => tcp = addr,
                    "tls" => tls = addr,
                    _ => {}
                }
            }
        }
        server.tcp = tcp.unwrap_or(server.tcp);
        server.tls = tls.unwrap_or(server.tls);
        Ok(server)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    /// VmRSS in KiB.
    fn rss_kib(&self) -> Result<u64, LoadError> {
        let path = format!("/proc/{}/status", self.pid());
        let status =
            std::fs::read_to_string(&path).map_err(LoadError::io(format!("read {path}")))?;
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse().ok())
            .ok_or_else(|| LoadError::Check(format!("no VmRSS in {path}")))
    }

    /// Open descriptors.
    fn fds(&self) -> Result<usize, LoadError> {
        let path = format!("/proc/{}/fd", self.pid());
        Ok(std::fs::read_dir(&path)
            .map_err(LoadError::io(format!("read {path}")))?
            .count())
    }

    /// The last lines the child wrote to stderr, for error messages.
    fn stderr_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.stderr).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let tail = lines
            .get(lines.len().saturating_sub(10)..)
            .unwrap_or_default();
        if tail.is_empty() {
            String::new()
        } else {
            format!("; server stderr:\n{}", tail.join("\n"))
        }
    }

    /// Asks the child to shut down (SIGTERM through kill(1): std cannot send it, and a
    /// profiler wrapping the server writes its output only on a clean exit); kills it if it
    /// is still there after [`STOP_TIMEOUT`].
    fn stop(&mut self) {
        if matches!(self.child.try_wait(), Ok(Some(_))) {
            return;
        }
        let asked = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if asked {
            let deadline = std::time::Instant::now() + STOP_TIMEOUT;
            while std::time::Instant::now() < deadline {
                if matches!(self.child.try_wait(), Ok(Some(_))) {
                    return;
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for ServerChild {
    fn drop(&mut self) {
        self.stop();
    }
}

/// This process's soft limit on open files, from `/proc/self/limits`.
fn open_files_limit() -> Option<u64> {
    let limits = std::fs::read_to_string("/proc/self/limits").ok()?;
    let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
    line.split_whitespace().nth(3)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_this_process_open_files_limit() {
        if cfg!(target_os = "linux") {
            assert!(open_files_limit().is_some_and(|l| l > 0));
        }
    }

    #[test]
    fn scales_to_a_thousand() {
        let r = IdleResult {
            transport: Transport::Tls,
            connections: 100,
            rss_start_kib: 10_000,
            rss_loaded_kib: 11_024,
            rss_closed_kib: 11_000,
            fds_start: 10,
            fds_loaded: 110,
        };
        assert!((r.per_connection_kib() - 10.24).abs() < 1e-9);
        assert!((r.mib_per_1000() - 10.0).abs() < 1e-9);
        assert!(r.target_met());
    }
}
