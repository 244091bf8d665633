//! The tlsfuzzer probes that once told `wkfuzz serve` from a bare rustls server (BENCHMARKS.md,
//! "TLS conformance"), over real sockets against the in-process server's TLS listener:
//! a padded oversized Finished, a client's fatal alert before and after encryption, a
//! message interleaved with the handshake, a KeyUpdate flood. Each asserts every byte the
//! server sends after the probe, how it closes, and its one "connection closed" log line.
//! No probe may get a close_notify (the connection did not end normally) and no fatal alert
//! from the client may get an answer.

mod common;
mod tls_probe;

use common::*;
use rustls::AlertDescription;
use tls_probe::*;

/// tlsfuzzer test-tls13-finished "padding ... pad_right 131072": a Finished whose 32-byte
/// verify_data is followed by 128 KiB of zeros. Its first record carries a handshake
/// header over rustls's 64 KiB limit, under the handshake keys: rustls queues no alert and
/// the server can send none in plaintext any more, so it closes without a word (the
/// close_notify it used to send said "all is well").
#[tokio::test]
async fn padded_oversized_finished_closes_without_an_alert() {
    let server = TestServer::start().await;
    let mut probe = Probe::connect(server.tls, &server.cert).await;
    probe.run_to_client_finished().await;
    let len: u32 = 32 + 0x2_0000;
    let mut finished = vec![20];
    finished.extend_from_slice(&len.to_be_bytes()[1..]);
    finished.resize(16 * 1024, 0);
    let record = probe.handshake_sealer().seal(HANDSHAKE, &finished, 0);
    probe.send(&record).await;
    probe.expect_answer(b"").await;
    assert_closed_with(probe.local, "HandshakePayloadTooLarge", "none").await;
}

/// A fatal alert (unknown_ca) instead of a ClientHello: nothing is answered.
#[tokio::test]
async fn fatal_alert_before_the_hello_is_not_answered() {
    let server = TestServer::start().await;
    let mut probe = Probe::connect(server.tls, &server.cert).await;
    probe.send(&fatal_alert(AlertDescription::UnknownCA)).await;
    probe.expect_answer(b"").await;
    assert_closed_with(probe.local, "UnknownCA", "none").await;
}

/// tlsfuzzer's client that does not trust the certificate: after the server's flight it
/// sends unknown_ca in plaintext (TLS 1.3 allows it before the client encrypts), and the
/// same alert under its handshake keys. Neither is answered.
#[tokio::test]
async fn fatal_alert_after_the_server_flight_is_not_answered() {
    let server = TestServer::start().await;
    for encrypted in [false, true] {
        let mut probe = Probe::connect(server.tls, &server.cert).await;
        probe.run_to_client_finished().await;
        let alert = if encrypted {
            let body = [2, u8::from(AlertDescription::UnknownCA)];
            probe.handshake_sealer().seal(ALERT, &body, 0)
        } else {
            fatal_alert(AlertDescription::UnknownCA)
        };
        probe.send(&alert).await;
        probe.expect_answer(b"").await;
        assert_closed_with(probe.local, "UnknownCA", "none").await;
    }
}

/// A fatal alert under the application keys, after the handshake: not answered.
#[tokio::test]
async fn fatal_alert_after_the_handshake_is_not_answered() {
    let server = TestServer::start().await;
    let mut probe = Probe::connect(server.tls, &server.cert).await;
    probe.complete().await;
    let body = [2, u8::from(AlertDescription::InternalError)];
    let alert = probe.traffic_sealer().seal(ALERT, &body, 0);
    probe.send(&alert).await;
    probe.expect_answer(b"").await;
    assert_closed_with(probe.local, "InternalError", "none").await;
}

/// A ClientHello split over two handshake records with a ChangeCipherSpec record between
/// them (RFC 8446 5.1 forbids it). rustls queues no alert; the server is still in
/// plaintext, so it sends the one the RFC's alert list has for it: unexpected_message.
#[tokio::test]
async fn message_interleaved_with_the_handshake_gets_unexpected_message() {
    let server = TestServer::start().await;
    let mut probe = Probe::connect(server.tls, &server.cert).await;
    let hello = probe.client_flight();
    let body = &records(&hello)[0].1;
    let mut wire = record(HANDSHAKE, &body[..10]);
    wire.extend(record(CHANGE_CIPHER_SPEC, &[1]));
    wire.extend(record(HANDSHAKE, &body[10..]));
    probe.send(&wire).await;
    let want = fatal_alert(AlertDescription::UnexpectedMessage);
    probe.expect_answer(&want).await;
    assert_closed_with(
        probe.local,
        "MessageInterleavedWithHandshakeMessage",
        "UnexpectedMessage",
    )
    .await;
}

/// 40 KeyUpdates asking for one back, in one write (the regression
/// `regressions/session/keyupdate-flood-*`, over a socket). rustls takes 32 without
/// application data between and fails silently on the 33rd; its one KeyUpdate in answer
/// waits for its next record, which never comes. The keys are up, so no alert can go in
/// plaintext: nothing at all is sent, and the connection closes.
#[tokio::test]
async fn keyupdate_flood_closes_without_an_alert() {
    let server = TestServer::start().await;
    let mut probe = Probe::connect(server.tls, &server.cert).await;
    probe.complete().await;
    for _ in 0..40 {
        probe.client.refresh_traffic_keys().unwrap();
    }
    let flood = probe.client_flight();
    probe.send(&flood).await;
    probe.expect_answer(b"").await;
    assert_closed_with(probe.local, "TooManyKeyUpdateRequests", "none").await;
}

/// A close_notify and 40 KB more in one write: rustls takes nothing after the close_notify
/// (RFC 8446 6.1: data after it is ignored), and the server must still end the connection.
/// The stream used to offer the rest to rustls forever (`read_tls` answers 0 after a
/// close_notify), spinning on any read that held more than rustls's 4 KiB read after the
/// close_notify. The server runs on a runtime of its own that is never dropped, so that a
/// spinning worker fails this test instead of hanging it.
#[tokio::test]
async fn records_after_close_notify_are_ignored() {
    let server = server_on_its_own_runtime();
    let mut probe = Probe::connect(server.tls, &server.cert).await;
    probe.complete().await;
    let mut sealer = probe.traffic_sealer();
    let mut wire = sealer.seal(ALERT, &[1, u8::from(AlertDescription::CloseNotify)], 0);
    // More than rustls buffers in one pass (about 18 KB), so some is left after it.
    for _ in 0..10 {
        wire.extend(sealer.seal(APPLICATION_DATA, &[b'x'; 4000], 0));
    }
    probe.send(&wire).await;
    let (_, end) = probe.read_to_end().await;
    // Closed, or reset: the server does not read what it ignores.
    assert_ne!(end, End::StillOpen, "the server never closed");
    assert_closed_with(probe.local, "peer closed", "-").await;
    // The server serves on.
    chat(server, "after-close-a", "after-close-b", 1).await;
}

/// A server on a runtime of its own, leaked: nothing waits for its workers at the end of a
/// test, even one that never yields. (Built on a thread of its own: a runtime cannot be
/// entered from inside the test's.)
fn server_on_its_own_runtime() -> &'static TestServer {
    let server = std::thread::spawn(|| {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let runtime: &'static tokio::runtime::Runtime = Box::leak(Box::new(runtime));
        Box::new(runtime.block_on(TestServer::start()))
    })
    .join()
    .unwrap();
    Box::leak(server)
}
