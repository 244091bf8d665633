//! `handshake`: structured client flights into the server's real TLS acceptor and config.
//!
//! Two kinds of input: a modelled ClientHello (every field and extension typed, lengths
//! right or deliberately wrong) cut into damaged records, followed by more records; or a
//! real rustls client (TLS 1.2 or 1.3, SNI or not, ALPN or not, optionally resuming) whose
//! ClientHello goes through the same record damage, driven to the end of the handshake, so
//! completed handshakes are reached and counted.
//!
//! Oracles: the alert the layer reports is the one it sent; no application data before the
//! handshake completes; a real client whose records were only re-fragmented completes.

pub use super::tls_server::Fed;
use super::tls_server::{feed, new_layer};
use super::{fixture, Outcome};
use crate::gen::{HandshakeInput, RecordPlan};
use crate::transport::Layer;
use arbitrary::{Arbitrary, Unstructured};
use std::io::Read;

/// The structured input.
#[derive(Arbitrary, Debug)]
pub enum HandshakeCase {
    /// A modelled ClientHello and what follows it.
    Model(HandshakeInput),
    /// A real client whose first flight is re-cut by `plan`.
    Real(RealClient),
}

/// A real rustls client's handshake with a damaged first flight.
#[derive(Arbitrary, Debug)]
pub struct RealClient {
    /// TLS 1.3 (else 1.2).
    pub tls13: bool,
    /// Send SNI `localhost` (else connect by IP: no SNI).
    pub sni: bool,
    /// Offer ALPN `wkproto`.
    pub alpn: bool,
    /// Do a first full handshake, then damage the resumption.
    pub resume: bool,
    /// How the ClientHello is cut into records.
    pub plan: RecordPlan,
}

fn parse(data: &[u8]) -> Option<HandshakeCase> {
    HandshakeCase::arbitrary_take_rest(Unstructured::new(data)).ok()
}

/// The Debug form of the input.
pub fn describe(data: &[u8]) -> String {
    match parse(data) {
        Some(c) => format!("{c:#?}"),
        None => "input too short".into(),
    }
}

/// Runs the target.
///
/// # Panics
/// When an oracle is violated.
pub fn run(data: &[u8]) -> Outcome {
    super::fixture::new_run();
    match parse(data) {
        None => Outcome::new("input too short"),
        Some(HandshakeCase::Model(input)) => run_model(&input),
        Some(HandshakeCase::Real(real)) => run_real(&real),
    }
}

fn run_model(input: &HandshakeInput) -> Outcome {
    let mut outcome = Outcome::new("");
    let mut layer = new_layer();
    if let Some(fed) = feed(&mut layer, &input.to_bytes(), &mut outcome) {
        assert!(
            fed.plain.is_empty(),
            "application data decrypted without a handshake"
        );
        outcome.verdict = if outcome.get("server_flights") > 0 {
            "server answered".into()
        } else {
            "waiting".into()
        };
    }
    outcome
}

fn run_real(real: &RealClient) -> Outcome {
    let mut outcome = Outcome::new("");
    let versions: &[&'static rustls::SupportedProtocolVersion] = if real.tls13 {
        &[&rustls::version::TLS13]
    } else {
        &[&rustls::version::TLS12]
    };
    let mut config = (*fixture::client_config(versions)).clone();
    if real.alpn {
        config.alpn_protocols = vec![b"wkproto".to_vec()];
    }
    let config = std::sync::Arc::new(config);
    if real.resume {
        // A clean first handshake fills the client's session cache.
        let mut ignored = Outcome::new("");
        let mut first = TargetServer::new(&mut ignored);
        drive(&config, real.sni, &RecordPlan::identity(), &mut first);
    }
    let end = drive(
        &config,
        real.sni,
        &real.plan,
        &mut TargetServer::new(&mut outcome),
    );
    match end {
        DriveEnd::Completed => outcome.count("handshakes_completed", 1),
        DriveEnd::ClientRejected => outcome.count("client_rejected_server", 1),
        DriveEnd::ServerFailed | DriveEnd::Incomplete => {}
    }
    if outcome.verdict.is_empty() {
        outcome.verdict = if end == DriveEnd::Completed {
            "handshake completed".into()
        } else {
            "incomplete".into()
        };
    }
    outcome
}

/// The server side of a [`drive`]n handshake: the target's [`Layer`], or a bare rustls
/// `ServerConnection` in the speed benchmark (examples/handshake_speed.rs).
pub trait HandshakeServer {
    /// Feeds client bytes: what the server sends back and the application data it
    /// decrypted, or `None` once it has failed.
    fn feed(&mut self, bytes: &[u8]) -> Option<Fed>;
    /// Whether the server's handshake is still under way.
    fn is_handshaking(&self) -> bool;
    /// The records carrying `plain` to the client.
    fn send(&mut self, plain: &[u8]) -> Vec<u8>;
}

/// The server's real [`Layer`], reporting into the target's [`Outcome`].
struct TargetServer<'a> {
    layer: Layer,
    outcome: &'a mut Outcome,
}

impl<'a> TargetServer<'a> {
    fn new(outcome: &'a mut Outcome) -> Self {
        TargetServer {
            layer: new_layer(),
            outcome,
        }
    }
}

impl HandshakeServer for TargetServer<'_> {
    fn feed(&mut self, bytes: &[u8]) -> Option<Fed> {
        feed(&mut self.layer, bytes, self.outcome)
    }
    fn is_handshaking(&self) -> bool {
        self.layer.is_handshaking()
    }
    fn send(&mut self, plain: &[u8]) -> Vec<u8> {
        let mut wire = Vec::new();
        self.layer.write_plain(plain, &mut wire);
        wire
    }
}

/// How a [`drive`]n handshake ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DriveEnd {
    /// Both sides completed it and application data went both ways.
    Completed,
    /// The server failed (its alert, if any, is on the wire).
    ServerFailed,
    /// The client refused what the server sent.
    ClientRejected,
    /// Neither failed, but the handshake or the data exchange did not finish.
    Incomplete,
}

/// One real client connection against `server`, its ClientHello records re-cut by `plan`,
/// then one byte of application data each way.
///
/// # Panics
/// When the server decrypts application data before its handshake is done, or the data
/// after it arrives altered.
pub fn drive(
    config: &std::sync::Arc<rustls::ClientConfig>,
    sni: bool,
    plan: &RecordPlan,
    server: &mut impl HandshakeServer,
) -> DriveEnd {
    let name = if sni { "localhost" } else { "127.0.0.1" };
    let Ok(name) = rustls::pki_types::ServerName::try_from(name) else {
        return DriveEnd::Incomplete;
    };
    let Ok(mut client) = rustls::ClientConnection::new(config.clone(), name) else {
        return DriveEnd::Incomplete;
    };
    let mut first = true;
    for _ in 0..16 {
        let mut flight = Vec::new();
        while client.wants_write() {
            if client.write_tls(&mut flight).unwrap_or(0) == 0 {
                break;
            }
        }
        if first && !flight.is_empty() {
            flight = plan.recut(&flight);
            first = false;
        }
        if flight.is_empty() {
            break;
        }
        let Some(fed) = server.feed(&flight) else {
            return DriveEnd::ServerFailed;
        };
        if server.is_handshaking() {
            assert!(
                fed.plain.is_empty(),
                "application data decrypted during the handshake"
            );
        }
        let mut rd = fed.wire_out.as_slice();
        while !rd.is_empty() {
            if client.read_tls(&mut rd).unwrap_or(0) == 0 {
                break;
            }
            if client.process_new_packets().is_err() {
                return DriveEnd::ClientRejected;
            }
        }
    }
    if client.is_handshaking() || server.is_handshaking() {
        return DriveEnd::Incomplete;
    }
    // Application data flows both ways after the handshake.
    let mut wire = Vec::new();
    let _ = std::io::Write::write_all(&mut client.writer(), b"\x70");
    while client.wants_write() {
        if client.write_tls(&mut wire).unwrap_or(0) == 0 {
            break;
        }
    }
    let Some(fed) = server.feed(&wire) else {
        return DriveEnd::ServerFailed;
    };
    assert_eq!(
        fed.plain, b"\x70",
        "application data after the handshake arrives intact"
    );
    let reply = server.send(b"\x80");
    let mut rd = reply.as_slice();
    let _ = client.read_tls(&mut rd);
    let _ = client.process_new_packets();
    let mut got = [0u8; 1];
    if matches!(client.reader().read(&mut got), Ok(1)) && got == [0x80] {
        DriveEnd::Completed
    } else {
        DriveEnd::Incomplete
    }
}
