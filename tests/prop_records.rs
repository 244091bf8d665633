//! The TLS-records property, against the real server in-process (TLS listener, ticket keys,
//! the shell's one log event per connection): for any sequence of records built from a
//! valid handshake by damaging it, the connection ends in exactly one of
//! - handshake complete (the log's stage is connect or session),
//! - a fatal alert sent and the connection closed (stage handshake, an alert in the log),
//! - closed without an alert after the server's keys were up (it sent a ChangeCipherSpec
//!   or encrypted records, so no plaintext alert could go: `transport::tls_alert`),
//! - the peer gave up first (it sent an alert, or closed mid-handshake),
//!
//! with exactly one "connection closed" log event; and two healthy clients on the same hub,
//! logged in before the first case, complete a chat round after every case.
//!
//! Inputs: a real rustls client (TLS 1.2 or 1.3, SNI or not, fresh or resuming with a
//! ticket the server issued) whose first flight is damaged byte-wise ([`Damage`]) or re-cut
//! into records by the fuzzers' [`RecordPlan`]; or a modelled ClientHello and later records
//! from the fuzzers' [`HandshakeInput`] (forged PSK identities and session tickets among
//! them).

mod keys_support;
mod prop_support;

use std::net::SocketAddr;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use keys_support::*;
use prop_support::{config, damages, model};
use proptest::prelude::*;
use rustls::AlertDescription;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wkfuzz::gen::records::record_payloads;
use wkfuzz::gen::{Damage, HandshakeInput, RecordPlan};
use wkfuzz::tls::TlsFiles;

/// How long the driver waits for the server before deciding it waits for more input.
const QUIET: Duration = Duration::from_millis(40);
/// Most round trips of one handshake.
const MAX_ROUNDS: usize = 12;

struct World {
    rt: tokio::runtime::Runtime,
    server: KeyServer,
    pki: Pki,
    /// Two users chatting between cases.
    healthy: tokio::sync::Mutex<Option<(Chat, Chat)>>,
    round: std::sync::atomic::AtomicU64,
    _dir: tempfile::TempDir,
}

fn world() -> &'static World {
    static W: OnceLock<World> = OnceLock::new();
    W.get_or_init(|| {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let pki = Pki::new(dir.path());
        let pair = pki.server(
            "server",
            &rcgen::PKCS_ECDSA_P256_SHA256,
            &["localhost", "127.0.0.1"],
        );
        let mut files = TlsFiles::single(pair.files());
        files.ticket_keys = vec![ticket_key_file(dir.path(), "t.key", 5, 80)];
        files.alpn = vec![b"wkproto".to_vec()];
        let (server, healthy) = rt.block_on(async {
            let server = KeyServer::start(&files).await;
            let client = pki.client_config(&[&rustls::version::TLS13], None);
            let (a, _) = tls_connect(server.addr, client.clone(), "localhost")
                .await
                .unwrap();
            let (b, _) = tls_connect(server.addr, client, "localhost").await.unwrap();
            let (a, ra) = Chat::login(a, "healthy-a", 1).await;
            let (b, rb) = Chat::login(b, "healthy-b", 2).await;
            assert_eq!(
                (ra, rb),
                (
                    wkfuzz::proto::ReasonCode::SUCCESS,
                    wkfuzz::proto::ReasonCode::SUCCESS
                )
            );
            (server, (a, b))
        });
        World {
            rt,
            server,
            pki,
            healthy: tokio::sync::Mutex::new(Some(healthy)),
            round: std::sync::atomic::AtomicU64::new(0),
            _dir: dir,
        }
    })
}

/// How the first flight is damaged.
#[derive(Debug, Clone)]
enum Mangle {
    /// Byte damage to the first flight's records.
    Bytes(Vec<Damage>),
    /// The ClientHello re-cut into records (and damaged) by a fuzzer record plan.
    Plan(RecordPlan),
}

/// One case.
#[derive(Debug, Clone)]
enum Case {
    /// A real client.
    Real {
        tls13: bool,
        sni: bool,
        resume: bool,
        mangle: Mangle,
    },
    /// A modelled first flight and later records.
    Model(HandshakeInput),
}

fn case() -> impl Strategy<Value = Case> {
    let mangle = prop_oneof![
        3 => damages().prop_map(Mangle::Bytes),
        2 => model::<RecordPlan>(200).prop_map(Mangle::Plan),
    ];
    prop_oneof![
        3 => (any::<bool>(), any::<bool>(), any::<bool>(), mangle)
            .prop_map(|(tls13, sni, resume, mangle)| Case::Real { tls13, sni, resume, mangle }),
        1 => model::<HandshakeInput>(1500).prop_map(Case::Model),
    ]
}

/// What the client side saw.
#[derive(Debug, PartialEq, Eq)]
enum ClientEnd {
    /// The client completed its handshake.
    Complete,
    /// The client refused the server's answer, or the server closed first.
    Stopped,
}

/// What a driven connection saw.
struct Driven {
    /// The client's address, as the server logs it.
    local: SocketAddr,
    end: ClientEnd,
    /// The bytes sent were undamaged.
    intact: bool,
    /// Every byte the server sent.
    received: Vec<u8>,
}

/// Drives a real client whose first flight is `mangle`d.
async fn drive_real(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
    sni: bool,
    mangle: Option<&Mangle>,
) -> Driven {
    let name = if sni { "localhost" } else { "127.0.0.1" };
    let name = rustls::pki_types::ServerName::try_from(name).unwrap();
    let mut client = rustls::ClientConnection::new(config, name).unwrap();
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let local = tcp.local_addr().unwrap();
    let mut first = true;
    let mut intact = true;
    let mut half_closed = false;
    let mut buf = vec![0u8; 32 * 1024];
    let mut received = Vec::new();
    let done = |end, intact, received| Driven {
        local,
        end,
        intact,
        received,
    };
    for _ in 0..MAX_ROUNDS {
        let mut out = Vec::new();
        while client.wants_write() {
            if client.write_tls(&mut out).unwrap_or(0) == 0 {
                break;
            }
        }
        if first && !out.is_empty() {
            first = false;
            let damaged = match mangle {
                None => out.clone(),
                Some(Mangle::Bytes(d)) => Damage::apply_all(d, &out),
                Some(Mangle::Plan(plan)) => plan.recut(&out),
            };
            intact = damaged == out;
            out = damaged;
        }
        if !out.is_empty() && !half_closed && tcp.write_all(&out).await.is_err() {
            return done(ClientEnd::Stopped, intact, received);
        }
        if !client.is_handshaking() {
            // TLS 1.3 tickets follow the handshake: take them in.
            if let Ok(Ok(n)) = tokio::time::timeout(QUIET, tcp.read(&mut buf)).await {
                received.extend_from_slice(&buf[..n]);
                let mut rd = &buf[..n];
                let _ = client.read_tls(&mut rd);
                let _ = client.process_new_packets();
            }
            return done(ClientEnd::Complete, intact, received);
        }
        match tokio::time::timeout(if half_closed { WAIT } else { QUIET }, tcp.read(&mut buf)).await
        {
            Err(_) => {
                // The server waits for more: there is no more. Half-close, see the end.
                let _ = tcp.shutdown().await;
                half_closed = true;
            }
            Ok(Ok(0)) | Ok(Err(_)) => return done(ClientEnd::Stopped, intact, received),
            Ok(Ok(n)) => {
                received.extend_from_slice(&buf[..n]);
                let mut rd = &buf[..n];
                while !rd.is_empty() {
                    if client.read_tls(&mut rd).unwrap_or(0) == 0 {
                        break;
                    }
                    if client.process_new_packets().is_err() {
                        // Send the client's alert, then stop.
                        let mut alert = Vec::new();
                        let _ = client.write_tls(&mut alert);
                        let _ = tcp.write_all(&alert).await;
                        return done(ClientEnd::Stopped, intact, received);
                    }
                }
            }
        }
    }
    done(ClientEnd::Stopped, intact, received)
}

/// Sends a modelled flight, half-closes, reads to the end.
async fn drive_model(addr: SocketAddr, input: &HandshakeInput) -> Driven {
    let mut tcp = TcpStream::connect(addr).await.unwrap();
    let local = tcp.local_addr().unwrap();
    let _ = tcp.write_all(&input.to_bytes()).await;
    let _ = tcp.shutdown().await;
    let mut received = Vec::new();
    let _ = tokio::time::timeout(WAIT, tcp.read_to_end(&mut received)).await;
    Driven {
        local,
        end: ClientEnd::Stopped,
        intact: false,
        received,
    }
}

/// Whether the server sent a ChangeCipherSpec or an encrypted record: from then on it can
/// send no plaintext alert, and a failure closes without one.
fn keys_up(wire: &[u8]) -> bool {
    let mut rest = wire;
    while let [ty, _, _, hi, lo, tail @ ..] = rest {
        if *ty == 20 || *ty == 23 {
            return true;
        }
        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
        rest = tail.get(len..).unwrap_or_default();
    }
    false
}

fn run_case(case: &Case) -> Result<(), TestCaseError> {
    let w = world();
    w.rt.block_on(async {
        let mark = log_mark();
        let driven = match case {
            Case::Real {
                tls13,
                sni,
                resume,
                mangle,
            } => {
                let versions: &[&'static rustls::SupportedProtocolVersion] = if *tls13 {
                    &[&rustls::version::TLS13]
                } else {
                    &[&rustls::version::TLS12]
                };
                let mut config = (*w.pki.client_config(versions, None)).clone();
                config.alpn_protocols = vec![b"wkproto".to_vec()];
                let config = Arc::new(config);
                if *resume {
                    // A clean handshake first fills the client's cache with a real ticket;
                    // the damaged ClientHello then carries it (or a damaged copy).
                    let first = drive_real(w.server.addr, config.clone(), *sni, None).await;
                    prop_assert_eq!(first.end, ClientEnd::Complete);
                    prop_assert_eq!(close_lines_since(first.local, mark).await.len(), 1);
                }
                drive_real(w.server.addr, config, *sni, Some(mangle)).await
            }
            Case::Model(input) => drive_model(w.server.addr, input).await,
        };
        let lines = close_lines_since(driven.local, mark).await;
        prop_assert_eq!(lines.len(), 1, "one log event: {:?}", lines);
        let line = &lines[0];
        let stage = field(line, "stage");
        let alert = field(line, "alert");
        if stage == "handshake" {
            let peer_gave_up = line.contains("peer closed during handshake")
                || line.contains("received fatal alert")
                || line.contains("peer closed");
            // "-": the layer did not fail (timeout, EOF); "none": it failed, sent nothing.
            let alert_sent = alert != "none" && alert != "-";
            // A failure gets a fatal alert, except where none can go: a peer that gave up
            // first gets no answer, and once the server's keys are up it has no plaintext
            // alert to send (rustls's own encrypted ones are logged as "encrypted").
            prop_assert!(
                alert_sent || peer_gave_up || keys_up(&driven.received),
                "failed handshake without an alert or a peer close: {}",
                line
            );
            prop_assert_ne!(
                alert,
                "CloseNotify",
                "a failure is no clean close: {}",
                line
            );
            prop_assert!(!driven.intact, "an undamaged handshake failed: {}", line);
        } else {
            prop_assert!(stage == "connect" || stage == "session", "{}", line);
        }
        if driven.intact {
            prop_assert_eq!(driven.end, ClientEnd::Complete, "{}", line);
        }
        // The healthy pair chats on the same hub, unaffected.
        let round = w.round.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        // Held across the chat: the tests of this binary run in parallel and share the pair.
        let mut pair = w.healthy.lock().await;
        let Some((a, b)) = pair.as_mut() else {
            return Err(TestCaseError::fail(
                "healthy clients lost in an earlier case",
            ));
        };
        tokio::time::timeout(WAIT, chat_round(a, b, &format!("#{round}")))
            .await
            .map_err(|_| TestCaseError::fail("healthy chat stalled"))?;
        Ok(())
    })
}

proptest! {
    #![proptest_config(config("prop_records"))]

    #[test]
    fn damaged_handshakes_end_cleanly_and_others_chat_on(case in case()) {
        run_case(&case)?;
    }
}

/// The undamaged flights complete: the driver itself is sound.
#[test]
fn undamaged_handshakes_complete() {
    for tls13 in [false, true] {
        for sni in [false, true] {
            for resume in [false, true] {
                let case = Case::Real {
                    tls13,
                    sni,
                    resume,
                    mangle: Mangle::Bytes(Vec::new()),
                };
                run_case(&case).unwrap();
                let case = Case::Real {
                    tls13,
                    sni,
                    resume,
                    mangle: Mangle::Plan(RecordPlan::identity()),
                };
                run_case(&case).unwrap();
            }
        }
    }
}

/// The property's finds: rustls errors that end a connection without queuing any alert.
/// rustls 0.23.46 `ConnectionCore::process_more_input` (conn.rs) returns
/// MessageInterleavedWithHandshakeMessage and HandshakePayloadTooLarge directly, and
/// `CommonState` drops a peer that floods warning alerts without one. All three come before
/// the server's ServerHello, so the layer sends the fatal alert the table
/// (`wkfuzz::transport::tls_alert`) has for each, in plaintext.
///
/// Sends `wire`, reads to the end; checks the server sent exactly that alert and closed,
/// one log event naming `error` and the alert, then that the healthy pair still chats.
fn assert_own_alert(wire: &[u8], error: &str, alert: rustls::AlertDescription) {
    let w = world();
    w.rt.block_on(async {
        let mark = log_mark();
        let mut tcp = TcpStream::connect(w.server.addr).await.unwrap();
        let local = tcp.local_addr().unwrap();
        tcp.write_all(wire).await.unwrap();
        let mut answer = Vec::new();
        let _ = tokio::time::timeout(WAIT, tcp.read_to_end(&mut answer)).await;
        assert_eq!(
            answer,
            [21, 3, 3, 0, 2, 2, u8::from(alert)],
            "{answer:02x?}"
        );
        let lines = close_lines_since(local, mark).await;
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].contains(error), "{}", lines[0]);
        assert!(lines[0].contains("stage=handshake"), "{}", lines[0]);
        assert_eq!(field(&lines[0], "alert"), format!("{alert:?}"));
        let mut pair = w.healthy.lock().await;
        let (a, b) = pair.as_mut().unwrap();
        chat_round(a, b, error).await;
    });
}

/// A TLS record of type `ty` (record version 0x0301).
fn record(ty: u8, body: &[u8]) -> Vec<u8> {
    let mut r = vec![ty, 3, 1];
    r.extend_from_slice(&(body.len() as u16).to_be_bytes());
    r.extend_from_slice(body);
    r
}

/// Regression for a handshake message declaring a length over rustls's limit (the
/// property's second find: two bytes of a real ClientHello's length overwritten).
#[test]
fn oversized_handshake_length_gets_decode_error() {
    let mut body = vec![1, 0x01, 0x00, 0x01];
    body.extend_from_slice(&[3, 3]);
    body.extend_from_slice(&[0; 32]);
    let (error, alert) = ("HandshakePayloadTooLarge", AlertDescription::DecodeError);
    assert_own_alert(&record(22, &body), error, alert);
}

/// Regression for the property's third find: warning alerts (close_notify's cousins, level
/// 1) before the ClientHello, more than rustls tolerates.
#[test]
fn warning_alert_flood_gets_unexpected_message() {
    let mut wire = Vec::new();
    for _ in 0..8 {
        // level warning (1), description user_canceled (90)
        wire.extend(record(21, &[1, 90]));
    }
    let (error, alert) = (
        "TooManyWarningAlertsReceived",
        AlertDescription::UnexpectedMessage,
    );
    assert_own_alert(&wire, error, alert);
}

/// Regression for the property's first find: a ClientHello split over two handshake
/// records with a ChangeCipherSpec record between them.
#[test]
fn interleaved_record_in_a_fragmented_hello_gets_unexpected_message() {
    let w = world();
    let hello = {
        let versions: &[&'static rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];
        let config = w.pki.client_config(versions, None);
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut client = rustls::ClientConnection::new(config, name).unwrap();
        let mut out = Vec::new();
        client.write_tls(&mut out).unwrap();
        record_payloads(&out)
    };
    let mut wire = record(22, &hello[..10]);
    wire.extend(record(20, &[1]));
    wire.extend(record(22, &hello[10..]));
    let error = "MessageInterleavedWithHandshakeMessage";
    assert_own_alert(&wire, error, AlertDescription::UnexpectedMessage);
}
