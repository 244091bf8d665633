//! `wkfuzz load chat`: messages per second between connected clients over real sockets,
//! per transport (wss against tls over TCP by default; ws and tcp too), in one process.
//!
//! The server is [`crate::net::serve`] exactly as `wkfuzz serve` runs it, with one listener
//! per transport measured on `127.0.0.1:0`, on its own tokio runtime (as many worker threads
//! as `wkfuzz serve` would use unless told otherwise). The clients run on a second runtime.
//!
//! One round on one transport: `clients` connections are opened and logged in (TLS 1.3
//! handshake, WebSocket upgrade, CONNECT with a real X25519 key, CONNACK; not timed), then
//! the clock starts and each client sends person messages to the next one (client `i` to
//! `i + 1`, the last to the first), encrypted and signed by [`Client`] like an SDK does,
//! with at most `window` messages waiting for their SENDACK; it acknowledges every RECV
//! it gets with RECVACK after verifying and decrypting it. At the end of the round the
//! clients stop sending, wait for their last SENDACKs, and read until every message that
//! was acknowledged with SENDACK Success reached its recipient. A message counts once its
//! SENDACK said Success and its RECV arrived; the rate divides the messages by the time
//! from the start to the last RECV or SENDACK. The round fails if a SENDACK is not Success
//! or a RECV does not verify, comes from the wrong sender, is repeated, or never arrives.
//!
//! Over WebSocket the clients are tokio-tungstenite, each wkproto frame one masked binary
//! message, as the JS SDK sends them; the server answers each frame in its own message.
//!
//! Rounds alternate the order of the transports (wss, tls, then tls, wss, ...), so drift of
//! a shared machine hits all alike, after an unrecorded warm-up round on each. Besides the
//! wall-clock rate the report gives the CPU time of the server's and the clients' runtime
//! threads per message (Linux, `/proc/self/task/*/schedstat`): the clients' own TLS,
//! WebSocket and message crypto share the cores with the server, so the ratio of server CPU
//! per message compares the transports' cost to the server alone.

use super::handshakes::{cpu_seconds, current_tid};
use super::wire::Wire;
use super::{
    client_config, dev_cert, median, thousands, JsonObject, LoadError, Report, ScratchDir,
};
use crate::client::Client;
use crate::hub::{Hub, HubConfig};
use crate::net::{NetSettings, Shared};
use crate::proto::{ChannelType, DeviceFlag, Packet, ReasonCode};
use crate::transport::Transport;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::net::TcpListener;
use tokio_rustls::TlsConnector;

/// How long one client may take to connect and log in.
const LOGIN_TIMEOUT: Duration = Duration::from_secs(30);

/// How long after the end of the sending phase every message must have arrived.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(30);

/// How often a client that waits for the others looks again.
const POLL: Duration = Duration::from_millis(5);

/// Protocol version of the clients (what the JS SDK speaks).
const CLIENT_VERSION: u8 = 4;

/// What `wkfuzz load chat` runs.
#[derive(Clone, Debug)]
pub struct ChatOptions {
    /// Transports to measure, in this order in the first round.
    pub transports: Vec<Transport>,
    /// Connected clients per round (at least 2).
    pub clients: usize,
    /// Length of the sending phase of one round.
    pub round: Duration,
    /// Rounds per transport; the report quotes medians.
    pub rounds: usize,
    /// Messages a client may have waiting for their SENDACK (1: send, wait, send).
    pub window: usize,
    /// Plaintext bytes per message.
    pub payload: usize,
    /// Worker threads of the server runtime (0: one per CPU, as `wkfuzz serve`).
    pub server_threads: usize,
    /// Worker threads of the client runtime (0: one per CPU).
    pub client_threads: usize,
    /// Length of the unrecorded warm-up round on each transport (zero: none).
    pub warmup: Duration,
}

impl Default for ChatOptions {
    fn default() -> Self {
        ChatOptions {
            transports: vec![Transport::Wss, Transport::Tls],
            clients: 100,
            round: Duration::from_secs(3),
            rounds: 5,
            window: 1,
            payload: 64,
            server_threads: 0,
            client_threads: 0,
            warmup: Duration::from_millis(500),
        }
    }
}

impl ChatOptions {
    fn validate(&self) -> Result<(), LoadError> {
        let bad = |m: &str| Err(LoadError::Options(m.to_owned()));
        if self.transports.is_empty() {
            return bad("--transport: name at least one");
        }
        for (i, t) in self.transports.iter().enumerate() {
            if self.transports.iter().skip(i + 1).any(|u| u == t) {
                return bad("--transport: each transport once");
            }
        }
        if self.clients < 2 {
            return bad("--clients must be at least 2");
        }
        if self.rounds == 0 || self.window == 0 || self.payload == 0 {
            return bad("--rounds, --window and --payload must be at least 1");
        }
        if self.round.is_zero() {
            return bad("--seconds must be above 0");
        }
        Ok(())
    }
}

/// One round on one transport.
#[derive(Clone, Copy, Debug)]
pub struct ChatRound {
    /// Messages accepted (SENDACK Success) and received (RECV).
    pub messages: u64,
    /// From the start to the last SENDACK or RECV.
    pub seconds: f64,
    /// CPU time of the server runtime's threads in the round, where measurable.
    pub server_cpu_seconds: Option<f64>,
    /// CPU time of the client runtime's threads in the round, where measurable.
    pub client_cpu_seconds: Option<f64>,
}

impl ChatRound {
    /// Messages per second.
    pub fn rate(&self) -> f64 {
        self.messages as f64 / self.seconds.max(f64::MIN_POSITIVE)
    }

    fn per_message_us(&self, cpu: Option<f64>) -> Option<f64> {
        cpu.filter(|_| self.messages > 0)
            .map(|c| c * 1e6 / self.messages as f64)
    }
}

/// All rounds of one transport.
#[derive(Clone, Debug)]
pub struct ChatSeries {
    /// The transport.
    pub transport: Transport,
    /// In the order they ran.
    pub rounds: Vec<ChatRound>,
}

impl ChatSeries {
    /// Median messages per second.
    pub fn median_rate(&self) -> f64 {
        median(&self.rounds.iter().map(ChatRound::rate).collect::<Vec<_>>())
    }

    /// Median server CPU microseconds per message, where measured.
    pub fn median_server_us(&self) -> Option<f64> {
        let v: Vec<f64> = self
            .rounds
            .iter()
            .filter_map(|r| r.per_message_us(r.server_cpu_seconds))
            .collect();
        (!v.is_empty()).then(|| median(&v))
    }

    /// Median client CPU microseconds per message, where measured.
    pub fn median_client_us(&self) -> Option<f64> {
        let v: Vec<f64> = self
            .rounds
            .iter()
            .filter_map(|r| r.per_message_us(r.client_cpu_seconds))
            .collect();
        (!v.is_empty()).then(|| median(&v))
    }

    /// Messages over all rounds.
    pub fn messages(&self) -> u64 {
        self.rounds.iter().map(|r| r.messages).sum()
    }

    fn json(&self) -> JsonObject {
        let rates: Vec<f64> = self.rounds.iter().map(ChatRound::rate).collect();
        JsonObject::new()
            .str("transport", &self.transport.to_string())
            .num("median_messages_per_sec", self.median_rate())
            .opt_num("median_server_cpu_us_per_message", self.median_server_us())
            .opt_num("median_client_cpu_us_per_message", self.median_client_us())
            .nums("messages_per_sec", &rates)
            .int("messages", self.messages())
    }
}

/// One transport against another, measured in the same rounds.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// The numerator (e.g. wss).
    pub a: Transport,
    /// The denominator (e.g. tls).
    pub b: Transport,
    /// a's median rate over b's.
    pub ratio: f64,
    /// Median over rounds of a's rate over b's in the same round.
    pub paired_ratio: f64,
    /// b's median server CPU per message over a's (the rate ratio with the server alone
    /// on the machine).
    pub cpu_ratio: Option<f64>,
}

/// What `wkfuzz load chat` measured.
#[derive(Clone, Debug)]
pub struct ChatReport {
    /// The options it ran with (thread counts resolved).
    pub options: ChatOptions,
    /// One series per transport, in the order of the options.
    pub series: Vec<ChatSeries>,
}

impl ChatReport {
    /// The series of `t`, if measured.
    pub fn series(&self, t: Transport) -> Option<&ChatSeries> {
        self.series.iter().find(|s| s.transport == t)
    }

    /// wss against tls and ws against tcp, where both were measured.
    pub fn comparisons(&self) -> Vec<Comparison> {
        [
            (Transport::Wss, Transport::Tls),
            (Transport::Ws, Transport::Tcp),
        ]
        .into_iter()
        .filter_map(|(a, b)| {
            let (sa, sb) = (self.series(a)?, self.series(b)?);
            let pairs: Vec<f64> = sa
                .rounds
                .iter()
                .zip(&sb.rounds)
                .map(|(x, y)| x.rate() / y.rate().max(f64::MIN_POSITIVE))
                .collect();
            let cpu_ratio = sb
                .median_server_us()
                .zip(sa.median_server_us())
                .map(|(b_us, a_us)| b_us / a_us);
            Some(Comparison {
                a,
                b,
                ratio: sa.median_rate() / sb.median_rate().max(f64::MIN_POSITIVE),
                paired_ratio: median(&pairs),
                cpu_ratio,
            })
        })
        .collect()
    }
}

impl Report for ChatReport {
    fn table(&self) -> String {
        let o = &self.options;
        let mut t = String::new();
        let _ = writeln!(
            t,
            "chat: {} clients, each sending to the next with {} SEND(s) awaiting SENDACK, {}-byte payloads, {} rounds x {:.1} s per transport, server runtime {} threads, client runtime {} threads",
            o.clients,
            o.window,
            o.payload,
            o.rounds,
            o.round.as_secs_f64(),
            o.server_threads,
            o.client_threads
        );
        let _ = writeln!(
            t,
            "{:<9} {:>13} {:>18} {:>18}  per-round messages/s",
            "transport", "median msg/s", "server CPU us/msg", "client CPU us/msg"
        );
        let us = |c: Option<f64>| c.map_or_else(|| "-".to_owned(), |c| format!("{c:.1}"));
        for s in &self.series {
            let rounds: Vec<String> = s.rounds.iter().map(|r| thousands(r.rate())).collect();
            let _ = writeln!(
                t,
                "{:<9} {:>13} {:>18} {:>18}  {}",
                s.transport.to_string(),
                thousands(s.median_rate()),
                us(s.median_server_us()),
                us(s.median_client_us()),
                rounds.join(" ")
            );
        }
        for c in self.comparisons() {
            let cpu = c
                .cpu_ratio
                .map_or_else(|| "-".to_owned(), |r| format!("{r:.3}"));
            let _ = writeln!(
                t,
                "{}/{} = {:.3} (median rates), {:.3} (median of same-round pairs), {} (server CPU per message)",
                c.a, c.b, c.ratio, c.paired_ratio, cpu
            );
        }
        t
    }

    fn json(&self) -> String {
        let o = &self.options;
        let comparisons = self
            .comparisons()
            .iter()
            .map(|c| {
                JsonObject::new()
                    .str("a", &c.a.to_string())
                    .str("b", &c.b.to_string())
                    .num("ratio", c.ratio)
                    .num("paired_ratio", c.paired_ratio)
                    .opt_num("cpu_ratio", c.cpu_ratio)
            })
            .collect();
        JsonObject::new()
            .str("mode", "chat")
            .obj(
                "options",
                JsonObject::new()
                    .int("clients", o.clients as u64)
                    .num("round_seconds", o.round.as_secs_f64())
                    .int("rounds", o.rounds as u64)
                    .int("window", o.window as u64)
                    .int("payload", o.payload as u64)
                    .int("server_threads", o.server_threads as u64)
                    .int("client_threads", o.client_threads as u64)
                    .num("warmup_seconds", o.warmup.as_secs_f64()),
            )
            .objs("series", self.series.iter().map(ChatSeries::json).collect())
            .objs("comparisons", comparisons)
            .render()
    }
}

/// Runs the benchmark.
///
/// # Errors
/// [`LoadError::Options`] for options that cannot run, [`LoadError::Io`] if a runtime or
/// listener cannot be made, [`LoadError::Tls`] for the certificate, [`LoadError::Check`] if
/// a client cannot log in or a message is refused, lost, repeated or altered.
pub fn run(options: &ChatOptions) -> Result<ChatReport, LoadError> {
    options.validate()?;
    let mut options = options.clone();
    let cpus = std::thread::available_parallelism().map_or(1, usize::from);
    if options.server_threads == 0 {
        options.server_threads = cpus;
    }
    if options.client_threads == 0 {
        options.client_threads = cpus;
    }
    let dir = ScratchDir::new("chat")?;
    let (files, key) = dev_cert(dir.path())?;

    let server_tids = Arc::new(Mutex::new(Vec::<String>::new()));
    let client_tids = Arc::new(Mutex::new(Vec::<String>::new()));
    let server_rt = runtime("wkfuzz-chat-server", options.server_threads, &server_tids)?;
    let client_rt = runtime("wkfuzz-chat-client", options.client_threads, &client_tids)?;

    let tls = crate::tls::server_config(key, Vec::new())?;
    let shared = Arc::new(Shared::new(
        Hub::new(HubConfig::default()),
        NetSettings::default(),
        Some(tls),
    ));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (addrs, server_task) = server_rt.block_on(async {
        let mut listeners = Vec::new();
        let mut addrs = Vec::new();
        for &t in &options.transports {
            let l = TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(LoadError::io(format!("bind {t} listener")))?;
            addrs.push((
                t,
                l.local_addr().map_err(LoadError::io("listener address"))?,
            ));
            listeners.push((l, t));
        }
        let task = tokio::spawn(crate::net::serve(listeners, shared, async move {
            let _ = stopped.await;
        }));
        Ok::<_, LoadError>((addrs, task))
    })?;
    let connector = TlsConnector::from(client_config(
        &files.cert,
        &[&rustls::version::TLS13],
        false,
    )?);

    let mut series: Vec<ChatSeries> = options
        .transports
        .iter()
        .map(|&transport| ChatSeries {
            transport,
            rounds: Vec::new(),
        })
        .collect();
    let mut tag = 0usize;
    if !options.warmup.is_zero() {
        for &(t, addr) in &addrs {
            tag += 1;
            client_rt.block_on(round(&options, t, addr, &connector, options.warmup, tag))?;
        }
    }
    for r in 0..options.rounds {
        // Rotate the order each round.
        for k in 0..addrs.len() {
            let Some(&(t, addr)) = addrs.get((k + r) % addrs.len()) else {
                continue;
            };
            tag += 1;
            let server_before = cpu_seconds(&server_tids);
            let client_before = cpu_seconds(&client_tids);
            let (messages, seconds) =
                client_rt.block_on(round(&options, t, addr, &connector, options.round, tag))?;
            let server_after = cpu_seconds(&server_tids);
            let client_after = cpu_seconds(&client_tids);
            let diff = |b: Option<f64>, a: Option<f64>| b.zip(a).map(|(b, a)| (a - b).max(0.0));
            if let Some(s) = series.iter_mut().find(|s| s.transport == t) {
                s.rounds.push(ChatRound {
                    messages,
                    seconds,
                    server_cpu_seconds: diff(server_before, server_after),
                    client_cpu_seconds: diff(client_before, client_after),
                });
            }
        }
    }

    let _ = stop.send(());
    server_rt.block_on(async {
        let _ = tokio::time::timeout(Duration::from_secs(10), server_task).await;
    });
    server_rt.shutdown_timeout(Duration::from_secs(1));
    client_rt.shutdown_timeout(Duration::from_secs(1));
    Ok(ChatReport { options, series })
}

/// A multi-threaded runtime whose worker threads' ids are collected in `tids`.
fn runtime(
    name: &str,
    threads: usize,
    tids: &Arc<Mutex<Vec<String>>>,
) -> Result<tokio::runtime::Runtime, LoadError> {
    let tids = tids.clone();
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .thread_name(name)
        .on_thread_start(move || {
            if let Some(tid) = current_tid() {
                tids.lock().unwrap_or_else(|p| p.into_inner()).push(tid);
            }
        })
        .enable_all()
        .build()
        .map_err(LoadError::io(format!("{name} runtime")))
}

/// A logged-in client.
struct Peer {
    wire: Wire,
    client: Client,
    /// Index in the ring.
    index: usize,
}

/// What the clients of a round share.
#[derive(Debug)]
struct Ring {
    /// uid of each client.
    uids: Vec<String>,
    /// Messages accepted for each client (set by its sender once it stopped sending).
    sent_to: Vec<AtomicU64>,
    /// Senders that stopped.
    done: AtomicUsize,
}

/// What one client did in a round.
#[derive(Debug)]
struct Tally {
    /// SENDACK Success.
    acked: u64,
    /// RECVs received.
    received: u64,
    /// When the last SENDACK or RECV arrived.
    last: Instant,
}

/// One round on `transport`: log `clients` clients in, let them chat for `length`, wait
/// for every message; returns (messages, seconds).
async fn round(
    o: &ChatOptions,
    transport: Transport,
    addr: SocketAddr,
    connector: &TlsConnector,
    length: Duration,
    tag: usize,
) -> Result<(u64, f64), LoadError> {
    let n = o.clients;
    let ring = Arc::new(Ring {
        uids: (0..n).map(|i| format!("{transport}{tag}-{i}")).collect(),
        sent_to: (0..n).map(|_| AtomicU64::new(0)).collect(),
        done: AtomicUsize::new(0),
    });
    let mut logins = tokio::task::JoinSet::new();
    for i in 0..n {
        let ring = ring.clone();
        let connector = connector.clone();
        logins.spawn(async move {
            tokio::time::timeout(LOGIN_TIMEOUT, login(transport, addr, &connector, &ring, i))
                .await
                .map_err(|_| format!("client {i} did not log in within {LOGIN_TIMEOUT:?}"))?
        });
    }
    let mut peers = Vec::with_capacity(n);
    while let Some(r) = logins.join_next().await {
        let peer = r
            .map_err(|e| LoadError::Check(format!("{transport}: login task: {e}")))?
            .map_err(|e| LoadError::Check(format!("{transport}: {e}")))?;
        peers.push(peer);
    }

    let start = Instant::now();
    let deadline = start + length;
    let mut chats = tokio::task::JoinSet::new();
    for peer in peers {
        let ring = ring.clone();
        let (window, payload) = (o.window, o.payload);
        chats.spawn(async move { chat(peer, ring, deadline, window, payload).await });
    }
    let mut tallies = Vec::with_capacity(n);
    let mut wires = Vec::with_capacity(n);
    while let Some(r) = chats.join_next().await {
        let (tally, wire) = r
            .map_err(|e| LoadError::Check(format!("{transport}: client task: {e}")))?
            .map_err(|e| LoadError::Check(format!("{transport}: {e}")))?;
        tallies.push(tally);
        wires.push(wire);
    }
    let acked: u64 = tallies.iter().map(|t| t.acked).sum();
    let received: u64 = tallies.iter().map(|t| t.received).sum();
    if acked != received {
        return Err(LoadError::Check(format!(
            "{transport}: {acked} messages accepted, {received} received"
        )));
    }
    let last = tallies.iter().map(|t| t.last).max().unwrap_or(start);
    for mut w in wires {
        w.close().await;
    }
    Ok((received, last.duration_since(start).as_secs_f64()))
}

/// Connects client `i` and logs it in as its uid; returns it once CONNACK says success.
async fn login(
    transport: Transport,
    addr: SocketAddr,
    connector: &TlsConnector,
    ring: &Ring,
    i: usize,
) -> Result<Peer, String> {
    let uid = ring.uids.get(i).cloned().unwrap_or_default();
    let err = |e: std::io::Error| format!("{uid}: {e}");
    let mut wire = Wire::connect(transport, addr, connector)
        .await
        .map_err(err)?;
    let mut secret = [0x5cu8; 32];
    secret[..8].copy_from_slice(&(i as u64 + 1).to_le_bytes());
    let mut client = Client::new(secret, CLIENT_VERSION);
    let connect = client.connect(&uid, "token", DeviceFlag::APP, 1_700_000_000_000);
    wire.write(&client.encode(&connect)).await.map_err(err)?;
    let mut buf = Vec::new();
    loop {
        if !wire.read(&mut buf).await.map_err(err)? {
            return Err(format!("{uid}: server closed before CONNACK"));
        }
        let frames = client
            .handle_bytes(&buf)
            .map_err(|e| format!("{uid}: {e}"))?;
        buf.clear();
        for f in frames {
            if let Packet::Connack(c) = f.packet {
                if c.reason != ReasonCode::SUCCESS {
                    return Err(format!("{uid}: CONNACK {}", c.reason));
                }
                client
                    .handle_connack(&c)
                    .map_err(|e| format!("{uid}: {e}"))?;
                return Ok(Peer {
                    wire,
                    client,
                    index: i,
                });
            }
        }
    }
}

/// One client's round: send to the next client until `deadline` with at most `window`
/// SENDs waiting, acknowledge every RECV, then wait until every message for this client
/// has arrived. Returns its tally and its connection.
async fn chat(
    peer: Peer,
    ring: Arc<Ring>,
    deadline: Instant,
    window: usize,
    payload: usize,
) -> Result<(Tally, Wire), String> {
    let Peer {
        mut wire,
        mut client,
        index,
    } = peer;
    let n = ring.uids.len();
    let next = (index + 1) % n;
    let prev = (index + n - 1) % n;
    let me = ring.uids.get(index).cloned().unwrap_or_default();
    let to = ring.uids.get(next).cloned().unwrap_or_default();
    let from = ring.uids.get(prev).cloned().unwrap_or_default();
    let err = |e: std::io::Error| format!("{me}: {e}");
    let mut tally = Tally {
        acked: 0,
        received: 0,
        last: Instant::now(),
    };
    let mut in_flight = 0usize;
    let mut sending = true;
    let mut published = false;
    let mut last_id = i64::MIN;
    let mut text = vec![b'x'; payload];
    let mut number = 0u64;
    let mut buf = Vec::new();
    loop {
        while sending && in_flight < window {
            if Instant::now() >= deadline {
                sending = false;
                break;
            }
            number += 1;
            let tag = number.to_le_bytes();
            let n = tag.len().min(text.len());
            if let (Some(dst), Some(src)) = (text.get_mut(..n), tag.get(..n)) {
                dst.copy_from_slice(src);
            }
            let (frame, _seq) = client
                .send(&to, ChannelType::PERSON, &text)
                .map_err(|e| format!("{me}: SEND: {e}"))?;
            wire.write(&client.encode(&frame)).await.map_err(err)?;
            in_flight += 1;
        }
        if !sending && in_flight == 0 && !published {
            if let Some(c) = ring.sent_to.get(next) {
                c.store(tally.acked, Ordering::SeqCst);
            }
            ring.done.fetch_add(1, Ordering::SeqCst);
            published = true;
        }
        if published && ring.done.load(Ordering::SeqCst) == n {
            let expected = ring
                .sent_to
                .get(index)
                .map_or(0, |c| c.load(Ordering::SeqCst));
            if tally.received >= expected {
                return Ok((tally, wire));
            }
        }
        let read = if sending {
            // SENDACKs come back while sending; the deadline is checked after each.
            tokio::time::timeout(
                deadline.saturating_duration_since(Instant::now()),
                wire.read(&mut buf),
            )
            .await
        } else {
            tokio::time::timeout(POLL, wire.read(&mut buf)).await
        };
        match read {
            Err(_) => {
                if Instant::now() > deadline + DRAIN_TIMEOUT {
                    return Err(format!(
                        "{me}: messages still missing {DRAIN_TIMEOUT:?} after the round"
                    ));
                }
                continue;
            }
            Ok(Err(e)) => return Err(err(e)),
            Ok(Ok(false)) => return Err(format!("{me}: the server closed the connection")),
            Ok(Ok(true)) => {}
        }
        let frames = client
            .handle_bytes(&buf)
            .map_err(|e| format!("{me}: {e}"))?;
        buf.clear();
        for f in frames {
            match f.packet {
                Packet::Sendack(ack) => {
                    if ack.reason != ReasonCode::SUCCESS {
                        return Err(format!("{me}: SENDACK {}", ack.reason));
                    }
                    in_flight = in_flight.saturating_sub(1);
                    tally.acked += 1;
                    tally.last = Instant::now();
                }
                Packet::Recv(r) => {
                    client
                        .open(&r)
                        .map_err(|e| format!("{me}: RECV {}: {e}", r.message_id))?;
                    if r.from_uid != from || r.message_id <= last_id {
                        return Err(format!(
                            "{me}: RECV {} from {} after {last_id} (expected from {from})",
                            r.message_id, r.from_uid
                        ));
                    }
                    last_id = r.message_id;
                    wire.write(&client.encode(&Client::recvack(&r)))
                        .await
                        .map_err(err)?;
                    tally.received += 1;
                    tally.last = Instant::now();
                }
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_transport_delivers_at_tiny_sizes() {
        let report = run(&ChatOptions {
            transports: vec![
                Transport::Wss,
                Transport::Tls,
                Transport::Ws,
                Transport::Tcp,
            ],
            clients: 3,
            round: Duration::from_millis(150),
            rounds: 2,
            window: 2,
            payload: 16,
            server_threads: 1,
            client_threads: 1,
            warmup: Duration::from_millis(50),
        })
        .unwrap();
        assert_eq!(report.series.len(), 4);
        for s in &report.series {
            assert_eq!(s.rounds.len(), 2, "{}", report.table());
            assert!(
                s.rounds.iter().all(|r| r.messages > 0),
                "{}",
                report.table()
            );
        }
        let c = report.comparisons();
        assert_eq!(c.len(), 2);
        assert!(c.iter().all(|c| c.ratio > 0.0 && c.ratio.is_finite()));
        let table = report.table();
        assert!(
            table.contains("wss/tls = ") && table.contains("ws/tcp = "),
            "{table}"
        );
        assert!(report.json().starts_with(r#"{"mode":"chat""#));
    }

    #[test]
    fn bad_options_are_refused() {
        for o in [
            ChatOptions {
                clients: 1,
                ..ChatOptions::default()
            },
            ChatOptions {
                transports: vec![Transport::Tls, Transport::Tls],
                ..ChatOptions::default()
            },
            ChatOptions {
                window: 0,
                ..ChatOptions::default()
            },
        ] {
            assert!(matches!(run(&o), Err(LoadError::Options(_))), "{o:?}");
        }
    }
}
