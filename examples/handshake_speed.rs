//! How fast is the `handshake` target compared with a bare rustls `ServerConnection` fed the
//! same bytes? One process, the same inputs, rounds alternating the order (a/b, then b/a),
//! medians.
//!
//! ```sh
//! cargo run --release --example handshake_speed -- [corpus/handshake] [--rounds 7]
//! ```
//!
//! - (a) `wkfuzz::targets::handshake::run(data)` on every file: parsing the structured input
//!   (`arbitrary`), encoding it, the server's `Layer` over a `ServerConnection`, the oracles,
//!   and for `Real` cases the real rustls client on the other side.
//! - (b) the same inputs parsed once before the clock starts (`HandshakeCase` from
//!   `arbitrary::Unstructured`, as the target does), and only what a bare server does with
//!   them timed: a fresh `rustls::ServerConnection` from `wkfuzz::tls::server_config` (the
//!   fuzz certificate from `src/targets/data/fuzz-*.pem`, built once), fed
//!   `HandshakeInput::to_bytes()` (also computed before the clock starts) with `read_tls` /
//!   `process_new_packets` / `write_tls` for `Model` cases; for `Real` cases a rustls client
//!   (client configs built once, a fresh session cache per input) drives the bare server
//!   with its first flight re-cut by the same `RecordPlan`, as the target does.
//!
//! Prints inputs/s for both, per round and the medians, and the ratio a/b (also for the
//! `Model` inputs alone).

use arbitrary::{Arbitrary, Unstructured};
use rustls::pki_types::{pem::PemObject, CertificateDer};
use rustls::{ClientConfig, ServerConfig, ServerConnection};
use std::io::{Read, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wkfuzz::gen::RecordPlan;
use wkfuzz::targets::handshake::{self, DriveEnd, Fed, HandshakeCase, HandshakeServer, RealClient};

const CERT_PEM: &str = include_str!("../src/targets/data/fuzz-cert.pem");
const KEY_PEM: &str = include_str!("../src/targets/data/fuzz-key.pem");

/// What the bare server gets for one input.
enum Bare {
    /// Too short for the target: it does nothing, neither does the bare server.
    Nothing,
    /// The Model case's client bytes.
    Bytes(Vec<u8>),
    /// A Real case: driven by a live client.
    Real(RealClient),
}

struct Bench {
    server: Arc<ServerConfig>,
    /// [tls12, tls13] x [no alpn, alpn].
    clients: [[Arc<ClientConfig>; 2]; 2],
}

fn server_config() -> Arc<ServerConfig> {
    let files = wkfuzz::tls::CertifiedKeyFiles {
        cert: "fuzz-cert.pem".into(),
        key: "fuzz-key.pem".into(),
    };
    let now = rustls::pki_types::UnixTime::since_unix_epoch(Duration::from_secs(1_800_000_000));
    let loaded =
        wkfuzz::tls::parse_certified_key(CERT_PEM.as_bytes(), KEY_PEM.as_bytes(), &files, now)
            .expect("fuzz certificate loads");
    wkfuzz::tls::server_config(loaded.key, vec![b"wkproto".to_vec()]).expect("config builds")
}

fn client_config(tls13: bool, alpn: bool) -> Arc<ClientConfig> {
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_slice(CERT_PEM.as_bytes()).expect("cert parses"))
        .expect("root");
    let v: &[&'static rustls::SupportedProtocolVersion] = if tls13 {
        &[&rustls::version::TLS13]
    } else {
        &[&rustls::version::TLS12]
    };
    let mut c = ClientConfig::builder_with_provider(wkfuzz::tls::provider())
        .with_protocol_versions(v)
        .expect("versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    if alpn {
        c.alpn_protocols = vec![b"wkproto".to_vec()];
    }
    Arc::new(c)
}

/// A bare rustls server: what the target's `Layer` is compared with.
struct BareServer(ServerConnection);

impl BareServer {
    fn new(config: &Arc<ServerConfig>) -> Self {
        BareServer(ServerConnection::new(config.clone()).expect("server config is valid"))
    }

    fn drain(&mut self, out: &mut Vec<u8>) {
        while self.0.wants_write() {
            match self.0.write_tls(out) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
    }
}

impl HandshakeServer for BareServer {
    fn feed(&mut self, mut data: &[u8]) -> Option<Fed> {
        let mut fed = Fed {
            wire_out: Vec::new(),
            plain: Vec::new(),
        };
        let mut buf = [0u8; 4096];
        while !data.is_empty() {
            if self.0.read_tls(&mut data).is_err() {
                return None;
            }
            if self.0.process_new_packets().is_err() {
                self.drain(&mut fed.wire_out);
                return None;
            }
            while let Ok(n @ 1..) = self.0.reader().read(&mut buf) {
                fed.plain.extend_from_slice(&buf[..n]);
            }
        }
        self.drain(&mut fed.wire_out);
        Some(fed)
    }
    fn is_handshaking(&self) -> bool {
        self.0.is_handshaking()
    }
    fn send(&mut self, plain: &[u8]) -> Vec<u8> {
        let _ = self.0.writer().write_all(plain);
        let mut out = Vec::new();
        self.drain(&mut out);
        out
    }
}

impl Bench {
    fn drive(&self, config: &Arc<ClientConfig>, sni: bool, plan: &RecordPlan) -> bool {
        let mut server = BareServer::new(&self.server);
        handshake::drive(config, sni, plan, &mut server) == DriveEnd::Completed
    }

    fn run(&self, bare: &Bare) -> bool {
        match bare {
            Bare::Nothing => false,
            Bare::Bytes(b) => {
                BareServer::new(&self.server).feed(b);
                false
            }
            Bare::Real(r) => {
                let base = &self.clients[usize::from(r.tls13)][usize::from(r.alpn)];
                // A fresh client session cache per input, as the target's fresh config has.
                let mut c = (**base).clone();
                c.resumption = rustls::client::Resumption::in_memory_sessions(256);
                let c = Arc::new(c);
                if r.resume {
                    self.drive(&c, r.sni, &RecordPlan::identity());
                }
                self.drive(&c, r.sni, &r.plan)
            }
        }
    }
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    v[v.len() / 2]
}

fn main() {
    let mut dir = PathBuf::from("corpus/handshake");
    let mut rounds = 7usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--rounds" => rounds = args.next().unwrap().parse().unwrap(),
            _ => dir = PathBuf::from(a),
        }
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .collect();
    files.sort();
    let inputs: Vec<Vec<u8>> = files.iter().map(|p| std::fs::read(p).unwrap()).collect();
    let bare: Vec<Bare> = inputs
        .iter()
        .map(
            |d| match HandshakeCase::arbitrary_take_rest(Unstructured::new(d)) {
                Err(_) => Bare::Nothing,
                Ok(HandshakeCase::Model(m)) => Bare::Bytes(m.to_bytes()),
                Ok(HandshakeCase::Real(r)) => Bare::Real(r),
            },
        )
        .collect();
    let models: Vec<usize> = (0..bare.len())
        .filter(|&i| matches!(bare[i], Bare::Bytes(_)))
        .collect();
    let reals = bare.iter().filter(|b| matches!(b, Bare::Real(_))).count();
    println!(
        "{}: {} inputs ({} Model, {} Real, {} too short); {rounds} rounds alternating a/b",
        dir.display(),
        inputs.len(),
        models.len(),
        reals,
        inputs.len() - models.len() - reals
    );
    let bench = Bench {
        server: server_config(),
        clients: [
            [client_config(false, false), client_config(false, true)],
            [client_config(true, false), client_config(true, true)],
        ],
    };

    // One timed pass over a set of indices; returns inputs/s.
    let time_a = |idx: &[usize]| {
        let t = Instant::now();
        let mut done = 0u64;
        for &i in idx {
            done += handshake::run(&inputs[i]).get("handshakes_completed");
        }
        (idx.len() as f64 / t.elapsed().as_secs_f64(), done)
    };
    let time_b = |idx: &[usize]| {
        let t = Instant::now();
        let mut done = 0u64;
        for &i in idx {
            done += u64::from(bench.run(&bare[i]));
        }
        (idx.len() as f64 / t.elapsed().as_secs_f64(), done)
    };
    let all: Vec<usize> = (0..inputs.len()).collect();
    // Warm-up (page in, fill caches), not recorded.
    time_a(&all);
    time_b(&all);

    for (label, idx) in [("all inputs", &all), ("Model inputs only", &models)] {
        let (mut ra, mut rb, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
        let mut completed = (0, 0);
        for round in 0..rounds {
            let ((a, ca), (b, cb)) = if round % 2 == 0 {
                let a = time_a(idx);
                (a, time_b(idx))
            } else {
                let b = time_b(idx);
                (time_a(idx), b)
            };
            completed = (ca, cb);
            println!(
                "  {label}, round {round}: target {a:>9.0}/s  bare {b:>9.0}/s  ratio {:.3}",
                a / b
            );
            ra.push(a);
            rb.push(b);
            ratios.push(a / b);
        }
        let (ma, mb, mr) = (median(&mut ra), median(&mut rb), median(&mut ratios));
        println!(
            "{label}: median target {ma:.0} inputs/s, bare {mb:.0} inputs/s, ratio of medians {:.3}, median of per-round ratios {mr:.3} (handshakes completed per pass: target {}, bare {})",
            ma / mb,
            completed.0,
            completed.1
        );
    }
}
