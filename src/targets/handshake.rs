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

use super::tls_server::{feed, new_layer};
use super::{fixture, Outcome};
use crate::gen::{HandshakeInput, RecordPlan};
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
    super::det_crypto::reset();
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
        drive(
            &config,
            real.sni,
            &RecordPlan::identity(),
            &mut Outcome::new(""),
        );
    }
    let done = drive(&config, real.sni, &real.plan, &mut outcome);
    if done {
        outcome.count("handshakes_completed", 1);
    }
    if outcome.verdict.is_empty() {
        outcome.verdict = if done {
            "handshake completed".into()
        } else {
            "incomplete".into()
        };
    }
    outcome
}

/// One client connection; its ClientHello records re-cut by `plan`. Returns whether both
/// sides completed the handshake and exchanged application data.
fn drive(
    config: &std::sync::Arc<rustls::ClientConfig>,
    sni: bool,
    plan: &RecordPlan,
    outcome: &mut Outcome,
) -> bool {
    let name = if sni { "localhost" } else { "127.0.0.1" };
    let Ok(name) = rustls::pki_types::ServerName::try_from(name) else {
        return false;
    };
    let Ok(mut client) = rustls::ClientConnection::new(config.clone(), name) else {
        return false;
    };
    let mut server = new_layer();
    let mut first = true;
    for _ in 0..16 {
        let mut flight = Vec::new();
        while client.wants_write() {
            if client.write_tls(&mut flight).unwrap_or(0) == 0 {
                break;
            }
        }
        if first && !flight.is_empty() {
            flight = plan.apply(&record_payloads(&flight));
            first = false;
        }
        if flight.is_empty() {
            break;
        }
        let Some(fed) = feed(&mut server, &flight, outcome) else {
            return false;
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
                outcome.count("client_rejected_server", 1);
                return false;
            }
        }
    }
    if client.is_handshaking() || server.is_handshaking() {
        return false;
    }
    // Application data flows both ways after the handshake.
    let mut wire = Vec::new();
    let _ = std::io::Write::write_all(&mut client.writer(), b"\x70");
    while client.wants_write() {
        if client.write_tls(&mut wire).unwrap_or(0) == 0 {
            break;
        }
    }
    let Some(fed) = feed(&mut server, &wire, outcome) else {
        return false;
    };
    assert_eq!(
        fed.plain, b"\x70",
        "application data after the handshake arrives intact"
    );
    let mut reply = Vec::new();
    server.write_plain(b"\x80", &mut reply);
    let mut rd = reply.as_slice();
    let _ = client.read_tls(&mut rd);
    let _ = client.process_new_packets();
    let mut got = [0u8; 1];
    matches!(client.reader().read(&mut got), Ok(1)) && got == [0x80]
}

/// The payloads of the handshake records in `wire` (the ClientHello message bytes).
fn record_payloads(wire: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = wire;
    while let [_, _, _, hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
        let Some(body) = tail.get(..len) else { break };
        out.extend_from_slice(body);
        rest = tail.get(len..).unwrap_or_default();
    }
    out
}
