//! One test per row of the alert table (`wkfuzz::transport::tls_alert::answer`): each
//! makes rustls fail with that row's error over a real socket against the in-process TLS
//! listener, and asserts every byte the server sends after it, the close, and the log line.
//! Rows whose error comes before the server's ServerHello get the table's alert in
//! plaintext; the others close without a word, since an alert would have to be encrypted
//! under rustls's keys. The tlsfuzzer probes in `tls_conformance.rs` cover the same rows
//! again from the outside (a peer's fatal alert, an oversized handshake message after the
//! keys are up, a KeyUpdate flood).

mod keys_support;
mod tls_probe;

use std::sync::Arc;

use keys_support::*;
use rustls::crypto::{ActiveKeyExchange, SharedSecret, SupportedKxGroup};
use rustls::{AlertDescription, NamedGroup};
use tls_probe::*;
use wkfuzz::tls::{ClientAuth, TlsFiles};

/// A server on the TLS listener with a certificate for localhost from a test CA (client
/// certificates optional when `client_auth`), and the CA file its clients trust.
async fn server(dir: &std::path::Path, client_auth: bool) -> (KeyServer, std::path::PathBuf) {
    let pki = Pki::new(dir);
    let pair = pki.server("server", &rcgen::PKCS_ECDSA_P256_SHA256, &["localhost"]);
    let mut files = TlsFiles::single(pair.files());
    if client_auth {
        files.client_auth = ClientAuth::Optional(pki.ca_file.clone());
    }
    let server = KeyServer::start(&files).await;
    (server, pki.ca_file)
}

/// Sends `wire` before any ClientHello: the server is in plaintext and answers with
/// exactly the table's alert for `error`.
async fn assert_plaintext_row(wire: &[u8], error: &str, alert: AlertDescription) {
    let dir = tempfile::tempdir().unwrap();
    let (server, ca) = server(dir.path(), false).await;
    let mut probe = Probe::connect(server.addr, &ca).await;
    probe.send(wire).await;
    let want = fatal_alert(alert);
    probe.expect_answer(&want).await;
    assert_closed_with(probe.local, error, &format!("{alert:?}")).await;
}

#[tokio::test]
async fn alert_received_is_not_answered() {
    let dir = tempfile::tempdir().unwrap();
    let (server, ca) = server(dir.path(), false).await;
    let mut probe = Probe::connect(server.addr, &ca).await;
    probe
        .send(&fatal_alert(AlertDescription::HandshakeFailure))
        .await;
    probe.expect_answer(b"").await;
    assert_closed_with(probe.local, "HandshakeFailure", "none").await;
}

#[tokio::test]
async fn handshake_payload_too_large_gets_decode_error() {
    // A ClientHello header declaring 65,537 bytes, one over rustls's limit.
    let hello = record(HANDSHAKE, &[1, 0x01, 0x00, 0x01, 3, 3]);
    let (error, alert) = ("HandshakePayloadTooLarge", AlertDescription::DecodeError);
    assert_plaintext_row(&hello, error, alert).await;
}

#[tokio::test]
async fn message_interleaved_with_handshake_message_gets_unexpected_message() {
    // The first 4 bytes of a ClientHello, then an alert-free ChangeCipherSpec record.
    let mut wire = record(HANDSHAKE, &[1, 0, 0, 40]);
    wire.extend(record(CHANGE_CIPHER_SPEC, &[1]));
    let error = "MessageInterleavedWithHandshakeMessage";
    assert_plaintext_row(&wire, error, AlertDescription::UnexpectedMessage).await;
}

/// rustls tolerates 32 empty records in a row. Empty handshake and alert records it refuses
/// at the record layer (decode_error), and empty records of other types fail the
/// handshake at once, so the limit is only reached with empty application data after the
/// handshake, encrypted: the connection closes without a word.
#[tokio::test]
async fn too_many_empty_fragments_closes_without_an_alert() {
    let dir = tempfile::tempdir().unwrap();
    let (server, ca) = server(dir.path(), false).await;
    let mut probe = Probe::connect(server.addr, &ca).await;
    probe.complete().await;
    let mut sealer = probe.traffic_sealer();
    let wire: Vec<u8> = (0..33)
        .flat_map(|_| sealer.seal(APPLICATION_DATA, &[], 0))
        .collect();
    probe.send(&wire).await;
    probe.expect_answer(b"").await;
    assert_closed_with(probe.local, "TooManyEmptyFragments", "none").await;
}

#[tokio::test]
async fn too_many_warning_alerts_gets_unexpected_message() {
    // rustls tolerates 4 warning alerts; user_canceled is one a TLS 1.2 peer may send.
    let wire = record(ALERT, &[1, u8::from(AlertDescription::UserCanceled)]).repeat(5);
    let error = "TooManyWarningAlertsReceived";
    assert_plaintext_row(&wire, error, AlertDescription::UnexpectedMessage).await;
}

/// A key exchange group the server does not have: offered first, it takes the client's
/// only key share, so the server asks for another with a HelloRetryRequest.
#[derive(Debug)]
struct Unusable;

impl SupportedKxGroup for Unusable {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, rustls::Error> {
        Ok(Box::new(Unusable))
    }

    fn name(&self) -> NamedGroup {
        NamedGroup::FFDHE2048
    }
}

impl ActiveKeyExchange for Unusable {
    fn complete(self: Box<Self>, _peer: &[u8]) -> Result<SharedSecret, rustls::Error> {
        Err(rustls::Error::General("never completed".into()))
    }

    fn pub_key(&self) -> &[u8] {
        &[1; 256]
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::FFDHE2048
    }
}

#[tokio::test]
async fn server_name_differed_on_retry_gets_illegal_parameter() {
    let dir = tempfile::tempdir().unwrap();
    let (server, ca) = server(dir.path(), false).await;
    let x25519 = rustls::crypto::ring::kx_group::X25519;
    let config = client_config_with_groups(&ca, vec![&Unusable, x25519]);
    let mut probe = Probe::connect_with(server.addr, config).await;
    let first = probe.client_flight();
    probe.send(&first).await;
    // The HelloRetryRequest (and the middlebox-compatibility CCS): still plaintext.
    let (retry, _) = probe.read_quiet().await;
    let kinds: Vec<u8> = records(&retry).iter().map(|(ty, _)| *ty).collect();
    assert_eq!(kinds[0], HANDSHAKE, "{retry:02x?}");
    assert!(kinds
        .iter()
        .all(|ty| [HANDSHAKE, CHANGE_CIPHER_SPEC].contains(ty)));
    probe.client_reads(&retry).unwrap();
    // The second ClientHello names another server (same length, so it still parses).
    let mut second = probe.client_flight();
    let at = second
        .windows(9)
        .position(|w| w == b"localhost")
        .expect("SNI in the second ClientHello");
    second[at + 8] = b'u';
    probe.send(&second).await;
    let want = fatal_alert(AlertDescription::IllegalParameter);
    let error = "ServerNameDifferedOnRetry";
    probe.expect_answer(&want).await;
    assert_closed_with(probe.local, error, "IllegalParameter").await;
}

#[tokio::test]
async fn illegal_tls_inner_plaintext_closes_without_an_alert() {
    let dir = tempfile::tempdir().unwrap();
    let (server, ca) = server(dir.path(), false).await;
    let mut probe = Probe::connect(server.addr, &ca).await;
    probe.run_to_client_finished().await;
    // An inner plaintext of zeros only: no content type (RFC 8446 5.4).
    let zeros = probe.handshake_sealer().seal(0, &[], 15);
    probe.send(&zeros).await;
    probe.expect_answer(b"").await;
    assert_closed_with(probe.local, "IllegalTlsInnerPlaintext", "none").await;
}

#[tokio::test]
async fn illegal_middlebox_change_cipher_spec_closes_without_an_alert() {
    let dir = tempfile::tempdir().unwrap();
    let (server, ca) = server(dir.path(), false).await;
    let mut probe = Probe::connect(server.addr, &ca).await;
    // rustls drops two middlebox ChangeCipherSpecs in TLS 1.3 and fails on the third,
    // after its ServerHello: the flight goes out, then nothing.
    let mut wire = probe.client_flight();
    wire.extend(record(CHANGE_CIPHER_SPEC, &[1]).repeat(3));
    probe.send(&wire).await;
    let (answer, end) = probe.read_to_end().await;
    assert_eq!(end, End::Closed);
    // The client reads the whole flight: no alert in it, and no close_notify after it.
    probe
        .client_reads(&answer)
        .expect("the server's flight, no alert");
    assert!(
        !probe.client.is_handshaking(),
        "the flight ends with Finished"
    );
    assert_eq!(probe.client_end(), std::io::ErrorKind::UnexpectedEof);
    assert_closed_with(probe.local, "IllegalMiddleboxChangeCipherSpec", "none").await;
}

#[tokio::test]
async fn unsolicited_cert_extension_closes_without_an_alert() {
    let dir = tempfile::tempdir().unwrap();
    let (server, ca) = server(dir.path(), true).await;
    let mut probe = Probe::connect(server.addr, &ca).await;
    probe.run_to_client_finished().await;
    // Certificate: empty context, one entry (a stand-in DER) with an extension the
    // server's CertificateRequest did not offer: status_request (5) carrying a one-byte
    // OCSP response (rustls keeps no other kind, so no other kind fails).
    let status_request = [0, 5, 0, 5, 1, 0, 0, 1, 0];
    let entry = [&[0, 0, 2, 0x30, 0x00, 0, 9][..], &status_request].concat();
    let list = [&[0, 0, entry.len() as u8][..], &entry].concat();
    let body = [&[0][..], &list].concat();
    let message = [&[11, 0, 0, body.len() as u8][..], &body].concat();
    let record = probe.handshake_sealer().seal(HANDSHAKE, &message, 0);
    probe.send(&record).await;
    probe.expect_answer(b"").await;
    assert_closed_with(probe.local, "UnsolicitedCertExtension", "none").await;
}

/// A TLS 1.2 client trusting `ca`, with TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 only.
fn tls12_config(ca: &std::path::Path) -> rustls::ClientConfig {
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites =
        vec![rustls::crypto::ring::cipher_suite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256];
    rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(config_roots(ca))
        .with_no_client_auth()
}

/// A root store with the CA in `ca`.
fn config_roots(ca: &std::path::Path) -> rustls::RootCertStore {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let mut roots = rustls::RootCertStore::empty();
    roots
        .add(CertificateDer::from_pem_file(ca).unwrap())
        .unwrap();
    roots
}

/// rustls decodes a TLS 1.2 ClientKeyExchange outside its alerting path: a public key
/// announced longer than the message fails silently (MessageTooShort). The server still
/// writes plaintext (its ChangeCipherSpec comes after the client's Finished), so it sends
/// decode_error, the alert rustls gives its other malformed messages.
#[tokio::test]
async fn invalid_message_gets_the_alert_rustls_gives_it() {
    let dir = tempfile::tempdir().unwrap();
    let (server, ca) = server(dir.path(), false).await;
    let mut probe = Probe::connect_with(server.addr, tls12_config(&ca)).await;
    probe.run_to_second_flight().await;
    // ClientKeyExchange: an ECDH public key of 65 bytes announced, 1 present.
    probe.send(&record(HANDSHAKE, &[16, 0, 0, 2, 65, 4])).await;
    let want = fatal_alert(AlertDescription::DecodeError);
    probe.expect_answer(&want).await;
    assert_closed_with(probe.local, "MessageTooShort", "DecodeError").await;
}

#[tokio::test]
async fn too_many_renegotiation_requests_closes_without_an_alert() {
    let dir = tempfile::tempdir().unwrap();
    let (server, ca) = server(dir.path(), false).await;
    // A ClientHello to ask for renegotiation with: any well-formed one.
    let hello = {
        let mut fresh = Probe::connect_with(server.addr, tls12_config(&ca)).await;
        records(&fresh.client_flight())[0].1.clone()
    };
    let mut config = tls12_config(&ca);
    config.enable_secret_extraction = true;
    let mut probe = Probe::connect_with(server.addr, config).await;
    probe.complete().await;
    let secrets = probe.extract_secrets();
    let mut tx = Tls12Aead::new(secrets.tx);
    let mut rx = Tls12Aead::new(secrets.rx);
    // rustls refuses the first with a no_renegotiation warning and fails on the second.
    let wire = [tx.seal(HANDSHAKE, &hello), tx.seal(HANDSHAKE, &hello)].concat();
    probe.send(&wire).await;
    let (answer, end) = probe.read_to_end().await;
    assert_eq!(end, End::Closed);
    let answer = records(&answer);
    assert_eq!(answer.len(), 1, "one record: {answer:02x?}");
    let (ty, body) = &answer[0];
    assert_eq!(*ty, ALERT);
    let warning = [1, u8::from(AlertDescription::NoRenegotiation)];
    assert_eq!(rx.open(ALERT, body), warning);
    assert_closed_with(probe.local, "TooManyRenegotiationRequests", "none").await;
}

/// rustls keeps a handshake message's records in its buffer until the message is whole,
/// 64 KiB at most: a ClientHello of 60,000 bytes sent one byte per record (6 bytes each
/// on the wire) fills it, and `read_tls` refuses more. A limit, not a violation: the
/// connection closes without an alert.
#[tokio::test]
async fn read_tls_refusing_input_closes_without_an_alert() {
    let dir = tempfile::tempdir().unwrap();
    let (server, ca) = server(dir.path(), false).await;
    let mut probe = Probe::connect(server.addr, &ca).await;
    let mut wire = record(HANDSHAKE, &[1, 0, 0xea, 0x60]);
    for _ in 0..60_000 {
        wire.extend(record(HANDSHAKE, &[3]));
    }
    probe.send(&wire).await;
    probe.expect_answer(b"").await;
    assert_closed_with(probe.local, "read_tls: message buffer full", "none").await;
}

/// TLS 1.2, the client offering only the ed25519 signature scheme (as a modelled
/// ClientHello in the handshake target's corpus does) to a server whose one key is ECDSA:
/// the certificate resolver falls back to that key, and rustls finds no offered scheme to
/// sign the ServerKeyExchange with, an `Error::General` it answers with no alert. Its
/// first flight is dropped unsent, so the server answers the ClientHello with
/// handshake_failure alone, in plaintext.
#[tokio::test]
async fn incompatible_signing_key_gets_handshake_failure() {
    let dir = tempfile::tempdir().unwrap();
    let (server, ca) = server(dir.path(), false).await;
    let mut provider = (**tls12_config(&ca).crypto_provider()).clone();
    let ed25519 = provider
        .signature_verification_algorithms
        .mapping
        .iter()
        .find(|(scheme, _)| *scheme == rustls::SignatureScheme::ED25519)
        .unwrap();
    provider.signature_verification_algorithms.mapping = std::slice::from_ref(ed25519);
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS12])
        .unwrap()
        .with_root_certificates(config_roots(&ca))
        .with_no_client_auth();
    let mut probe = Probe::connect_with(server.addr, config).await;
    let hello = probe.client_flight();
    probe.send(&hello).await;
    let want = fatal_alert(AlertDescription::HandshakeFailure);
    probe.expect_answer(&want).await;
    assert_closed_with(probe.local, "incompatible signing key", "HandshakeFailure").await;
}
