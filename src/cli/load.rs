//! `wkfuzz load <mode>`: options of the benchmarks; the work is in `wkfuzz::load`.

use anyhow::Context;
use clap::{Args, Subcommand, ValueEnum};
use std::process::ExitCode;
use std::time::Duration;
use wkfuzz::load::chat::ChatOptions;
use wkfuzz::load::core::{CoreOptions, Loops};
use wkfuzz::load::handshakes::{HandshakeOptions, TlsVersion};
use wkfuzz::load::idle::IdleOptions;
use wkfuzz::load::Report;
use wkfuzz::transport::Transport;

#[derive(Debug, Args)]
pub(crate) struct Load {
    /// Print one JSON object instead of the table.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    mode: Mode,
}

#[derive(Debug, Subcommand)]
enum Mode {
    /// TLS handshakes per second: the real server against a bare tokio-rustls accept loop
    /// with the same certificate, alternated in rounds in one process. The server logs one
    /// line per connection at the default `info` level; use `--log warn` to leave that out.
    Handshakes(Handshakes),
    /// Messages per second through sessions and the hub, no sockets: with the clients'
    /// crypto, and server side only (pre-encoded input).
    Core(Core),
    /// Server RSS per idle logged-in connection: starts `wkfuzz serve` as a child and holds
    /// N logged-in connections to it (TLS and TCP).
    Idle(Idle),
    /// Messages per second between connected clients over real sockets, per transport
    /// (wss against TLS over TCP by default): each client sends person messages to the
    /// next one and acknowledges what it receives; rounds alternate the transports.
    Chat(Chat),
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Versions {
    /// TLS 1.3 only.
    #[value(name = "1.3")]
    Tls13,
    /// TLS 1.2 only.
    #[value(name = "1.2")]
    Tls12,
    /// TLS 1.3, then TLS 1.2.
    Both,
}

#[derive(Debug, Args)]
struct Handshakes {
    /// Seconds per round per server.
    #[arg(long, default_value_t = 2.0, value_name = "SECS")]
    seconds: f64,
    /// Rounds per server and TLS version (alternating serve/bare); medians are reported.
    #[arg(long, default_value_t = 5, value_name = "N")]
    rounds: usize,
    /// Concurrent client tasks, each doing one handshake at a time.
    #[arg(long, default_value_t = 16, value_name = "C")]
    concurrency: usize,
    /// TLS versions to measure.
    #[arg(long, value_enum, default_value_t = Versions::Both)]
    tls: Versions,
    /// Worker threads of the servers' runtime (0: one per CPU, as `wkfuzz serve`).
    #[arg(long, default_value_t = 0, value_name = "N")]
    server_threads: usize,
    /// Worker threads of the clients' runtime (0: one per CPU).
    #[arg(long, default_value_t = 0, value_name = "N")]
    client_threads: usize,
    /// Unrecorded warm-up seconds against each server before each version's rounds.
    #[arg(long, default_value_t = 0.5, value_name = "SECS")]
    warmup: f64,
    /// Clients verify the server certificate and signature (off by default: a verifying
    /// client costs more CPU than the server and would hide the server's cost).
    #[arg(long)]
    client_verify: bool,
}

#[derive(Debug, Args)]
struct Core {
    /// Messages per loop and run.
    #[arg(long, default_value_t = 200_000, value_name = "N")]
    messages: usize,
    /// Runs (a fresh hub each, both loops); medians are reported.
    #[arg(long, default_value_t = 5, value_name = "N")]
    runs: usize,
    /// Logged-in users.
    #[arg(long, default_value_t = 100, value_name = "N")]
    users: usize,
    /// Groups.
    #[arg(long, default_value_t = 10, value_name = "N")]
    groups: usize,
    /// Members per group.
    #[arg(long, default_value_t = 10, value_name = "N")]
    group_size: usize,
    /// Percentage of messages sent to a group.
    #[arg(long, default_value_t = 10, value_name = "PCT")]
    group_percent: u8,
    /// Plaintext bytes per message.
    #[arg(long, default_value_t = 64, value_name = "BYTES")]
    payload: usize,
    /// Seed of the message plan.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Which timed loops to run (one alone is handy under a profiler).
    #[arg(long = "loop", value_enum, default_value_t = CoreLoops::Both)]
    loops: CoreLoops,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum CoreLoops {
    /// Client crypto included, then server side only (alternating order per run).
    Both,
    /// Client crypto included.
    Full,
    /// Session + hub only (pre-encoded input).
    ServerOnly,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Transports {
    /// TLS only.
    Tls,
    /// Plain TCP only.
    Tcp,
    /// TLS, then TCP.
    Both,
}

#[derive(Debug, Args)]
struct Idle {
    /// Connections to open and log in.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    connections: usize,
    /// Transports to measure (a fresh server each).
    #[arg(long, value_enum, default_value_t = Transports::Both)]
    transport: Transports,
    /// Milliseconds to let the server settle before each RSS reading.
    #[arg(long, default_value_t = 500, value_name = "MS")]
    settle_ms: u64,
    /// Logins in flight at once.
    #[arg(long, default_value_t = 32, value_name = "N")]
    parallel: usize,
    /// The server binary to start (given `serve` and its flags) [default: this wkfuzz];
    /// e.g. another build, or a wrapper script that runs it under a heap profiler.
    #[arg(long, value_name = "FILE")]
    server_exe: Option<std::path::PathBuf>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
enum ChatTransport {
    /// WebSocket over TLS (tokio-tungstenite clients).
    Wss,
    /// wkproto over TLS over TCP.
    Tls,
    /// WebSocket over TCP.
    Ws,
    /// wkproto over TCP.
    Tcp,
}

#[derive(Debug, Args)]
struct Chat {
    /// Transports to measure (comma-separated or repeated); wss/tls and ws/tcp ratios are
    /// reported when both are measured.
    #[arg(long, value_enum, value_delimiter = ',', default_values_t = [ChatTransport::Wss, ChatTransport::Tls])]
    transport: Vec<ChatTransport>,
    /// Connected clients per round.
    #[arg(long, default_value_t = 100, value_name = "N")]
    clients: usize,
    /// Seconds of sending per round and transport.
    #[arg(long, default_value_t = 3.0, value_name = "SECS")]
    seconds: f64,
    /// Rounds per transport (alternating order); medians are reported.
    #[arg(long, default_value_t = 5, value_name = "N")]
    rounds: usize,
    /// SENDs a client may have waiting for SENDACK (1: send, wait for SENDACK, send).
    #[arg(long, default_value_t = 1, value_name = "N")]
    window: usize,
    /// Plaintext bytes per message.
    #[arg(long, default_value_t = 64, value_name = "BYTES")]
    payload: usize,
    /// Worker threads of the server runtime (0: one per CPU, as `wkfuzz serve`).
    #[arg(long, default_value_t = 0, value_name = "N")]
    server_threads: usize,
    /// Worker threads of the clients' runtime (0: one per CPU).
    #[arg(long, default_value_t = 0, value_name = "N")]
    client_threads: usize,
    /// Seconds of the unrecorded warm-up round on each transport.
    #[arg(long, default_value_t = 0.5, value_name = "SECS")]
    warmup: f64,
}

fn seconds(flag: &str, s: f64) -> anyhow::Result<Duration> {
    Duration::try_from_secs_f64(s).with_context(|| format!("{flag} {s}: not a duration"))
}

impl Load {
    pub(crate) fn run(self) -> anyhow::Result<ExitCode> {
        let report: Box<dyn Report> = match self.mode {
            Mode::Handshakes(h) => {
                let versions = match h.tls {
                    Versions::Tls13 => vec![TlsVersion::Tls13],
                    Versions::Tls12 => vec![TlsVersion::Tls12],
                    Versions::Both => vec![TlsVersion::Tls13, TlsVersion::Tls12],
                };
                let options = HandshakeOptions {
                    round: seconds("--seconds", h.seconds)?,
                    rounds: h.rounds,
                    concurrency: h.concurrency,
                    versions,
                    server_threads: h.server_threads,
                    client_threads: h.client_threads,
                    warmup: seconds("--warmup", h.warmup)?,
                    client_verify: h.client_verify,
                };
                Box::new(wkfuzz::load::handshakes::run(&options)?)
            }
            Mode::Core(c) => {
                let options = CoreOptions {
                    messages: c.messages,
                    runs: c.runs,
                    users: c.users,
                    groups: c.groups,
                    group_size: c.group_size,
                    group_percent: c.group_percent,
                    payload: c.payload,
                    seed: c.seed,
                    loops: match c.loops {
                        CoreLoops::Both => Loops::Both,
                        CoreLoops::Full => Loops::Full,
                        CoreLoops::ServerOnly => Loops::ServerOnly,
                    },
                };
                Box::new(wkfuzz::load::core::run(&options)?)
            }
            Mode::Idle(i) => {
                let exe = match i.server_exe {
                    Some(exe) => exe,
                    None => std::env::current_exe().context("cannot find the wkfuzz binary")?,
                };
                let mut options = IdleOptions::new(exe);
                options.connections = i.connections;
                options.transports = match i.transport {
                    Transports::Tls => vec![Transport::Tls],
                    Transports::Tcp => vec![Transport::Tcp],
                    Transports::Both => vec![Transport::Tls, Transport::Tcp],
                };
                options.settle = Duration::from_millis(i.settle_ms);
                options.parallel = i.parallel;
                Box::new(wkfuzz::load::idle::run(&options)?)
            }
            Mode::Chat(c) => {
                let options = ChatOptions {
                    transports: c
                        .transport
                        .iter()
                        .map(|t| match t {
                            ChatTransport::Wss => Transport::Wss,
                            ChatTransport::Tls => Transport::Tls,
                            ChatTransport::Ws => Transport::Ws,
                            ChatTransport::Tcp => Transport::Tcp,
                        })
                        .collect(),
                    clients: c.clients,
                    round: seconds("--seconds", c.seconds)?,
                    rounds: c.rounds,
                    window: c.window,
                    payload: c.payload,
                    server_threads: c.server_threads,
                    client_threads: c.client_threads,
                    warmup: seconds("--warmup", c.warmup)?,
                };
                Box::new(wkfuzz::load::chat::run(&options)?)
            }
        };
        if self.json {
            println!("{}", report.json());
        } else {
            print!("{}", report.table());
        }
        Ok(ExitCode::SUCCESS)
    }
}
