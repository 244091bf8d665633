//! What goes on the wire when rustls fails: the one table from rustls errors to alerts.
//!
//! For most failures rustls queues a fatal alert itself, and that is what the peer gets.
//! For a few it queues nothing (limits it enforces, checks in its record deframer, a fatal
//! alert from the peer). [`answer`] is the table of those: for each, the alert RFC 8446
//! asks for, or none. We send that alert ourselves only while the server still writes
//! plaintext, since an alert after the keys are up would have to be encrypted under
//! rustls's keys; otherwise the connection just closes. A peer's fatal alert is never
//! answered (RFC 8446 6.2), and a failure never gets a close_notify, which would tell the
//! peer that the connection ended normally.
//!
//! The rows are the silent errors of rustls 0.23.46's server side (`conn.rs`
//! `process_more_input`, `common_state.rs` `TemperCounters` and `process_alert`, the TLS
//! 1.3 record unpadding, `tls12::decode_kx_params`, `server/hs.rs`, `server/tls13.rs`).
//! The fuzz oracle [`LayerError::follows_alert_table`] fails on a silent error without a
//! row, so a rustls upgrade that adds one is noticed. `tests/tls_alert_table.rs` has a
//! test per row on the wire (the refused-0-RTT row in `tests/rustls_early_data.rs`, the
//! KeyUpdate flood in `tests/tls_conformance.rs`).

use super::error::{LayerError, SentAlert};
use rustls::{AlertDescription, Error, PeerMisbehaved, ProtocolVersion};
use rustls::{HandshakeKind, ServerConnection};

/// What the peer gets when rustls failed without queuing an alert.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Answer {
    /// This fatal alert (sent only while the server still writes plaintext).
    Alert(AlertDescription),
    /// No alert: the connection closes.
    Close,
}

/// The table: what RFC 8446 asks for after a rustls error that rustls answers with no
/// alert. `None`: not a row, rustls queues its own alert for this error.
pub fn answer(error: &Error) -> Option<Answer> {
    use AlertDescription as A;
    use PeerMisbehaved as P;
    let row = match error {
        // 6.2: a fatal alert ends the connection; answering it would be talking to a
        // peer that has gone.
        Error::AlertReceived(_) => Answer::Close,
        // A malformed message that rustls decodes outside its usual alerting path (a
        // handshake message over its 64 KiB limit; a TLS 1.2 ClientKeyExchange whose
        // public key overruns it): the alert rustls itself gives malformed messages, 6.2
        // decode_error for nearly all ("the length of the message was incorrect").
        Error::InvalidMessage(m) => Answer::Alert(A::from(*m)),
        Error::PeerMisbehaved(p) => match p {
            // 5.1: a handshake message split over records with another record between.
            P::MessageInterleavedWithHandshakeMessage
            | P::RejectedEarlyDataInterleavedWithHandshakeMessage
            // More than 32 empty records in a row: rustls refuses empty handshake and
            // alert records earlier, so only empty application data gets here, encrypted.
            | P::TooManyEmptyFragments
            // 5.4: a TLSInnerPlaintext with no non-zero octet.
            | P::IllegalTlsInnerPlaintext
            // 5: more middlebox change_cipher_spec records than rustls tolerates.
            | P::IllegalMiddleboxChangeCipherSpec
            // TLS 1.2 warning alerts beyond rustls's limit: OpenSSL answers the same
            // (CVE-2016-8610, tlsfuzzer's test-ssl-death-alert asks for a fatal alert).
            | P::TooManyWarningAlertsReceived => Answer::Alert(A::UnexpectedMessage),
            // 4.1.2: the second ClientHello must repeat the first one's server_name.
            P::ServerNameDifferedOnRetry => Answer::Alert(A::IllegalParameter),
            // 4.2: an extension in a Certificate entry the server did not ask for.
            P::UnsolicitedCertExtension => Answer::Alert(A::UnsupportedExtension),
            // rustls's own denial-of-service limits on messages RFC 8446 allows any
            // number of: no alert describes "too many".
            P::TooManyKeyUpdateRequests | P::TooManyRenegotiationRequests => Answer::Close,
            _ => return None,
        },
        // Our own: rustls refused more input, its buffer full of one handshake message
        // cut into tiny records (a limit on memory, not a protocol violation).
        Error::General(detail) if detail.starts_with(READ_TLS_FAILED) => Answer::Close,
        // TLS 1.2: the certificate's key signs with none of the schemes the client
        // offered, found while signing the ServerKeyExchange: no acceptable set of
        // security parameters, 6.2 handshake_failure (rustls's alert for the same in 1.3).
        Error::General(detail) if detail == INCOMPATIBLE_SIGNING_KEY => {
            Answer::Alert(A::HandshakeFailure)
        }
        _ => return None,
    };
    Some(row)
}

/// How the `Error::General` the layer makes of a failed `read_tls` starts.
pub(crate) const READ_TLS_FAILED: &str = "read_tls: ";

/// rustls 0.23's `Error::General` when no offered signature scheme fits the key
/// (`server/tls12.rs`, `emit_server_kx`).
const INCOMPATIBLE_SIGNING_KEY: &str = "incompatible signing key";

/// A fatal alert record in plaintext, as rustls writes its own (record version TLS 1.2).
pub fn plaintext_alert(description: AlertDescription) -> [u8; 7] {
    [21, 3, 3, 0, 2, 2, u8::from(description)]
}

/// After `error` from `process_new_packets`, appends what the peer gets to `wire_out`:
/// what rustls queued, or the table's alert while the server writes plaintext. Returns
/// what was sent. What rustls queued before the failing call must already be drained into
/// `wire_out`, so that an alert found after it is this failure's.
pub(crate) fn answer_failure(
    conn: &mut ServerConnection,
    error: &Error,
    wire_out: &mut Vec<u8>,
) -> SentAlert {
    let plaintext = writes_plaintext(conn);
    let start = wire_out.len();
    drain(conn, wire_out);
    if rustls_sent_alert(conn) {
        let queued = wire_out.get(start..).and_then(find_alert);
        return match (plaintext, queued) {
            (true, Some(a)) => SentAlert::Plain(a),
            _ => SentAlert::Encrypted,
        };
    }
    match answer(error) {
        Some(Answer::Alert(a)) if plaintext => {
            wire_out.extend_from_slice(&plaintext_alert(a));
            SentAlert::Own(a)
        }
        _ => SentAlert::None,
    }
}

/// Whether the server still sends plaintext records. TLS 1.3: until its ServerHello,
/// which rustls builds right after completing the key exchange (a HelloRetryRequest does
/// not complete it); every record after the ServerHello is encrypted. TLS 1.2: until its
/// ChangeCipherSpec, sent with its Finished when a full handshake completes, or right
/// after the ServerHello when resuming. Before a version is chosen nothing was sent.
fn writes_plaintext(conn: &ServerConnection) -> bool {
    match conn.protocol_version() {
        None => true,
        Some(ProtocolVersion::TLSv1_2) => {
            conn.is_handshaking() && conn.handshake_kind() != Some(HandshakeKind::Resumed)
        }
        Some(_) => conn.negotiated_key_exchange_group().is_none(),
    }
}

/// Whether rustls has sent a fatal alert. `send_close_notify` queues nothing once one
/// was sent (its documented contract), so a close_notify queued here means none was; it is
/// dropped, never sent.
fn rustls_sent_alert(conn: &mut ServerConnection) -> bool {
    conn.send_close_notify();
    let mut probe = Vec::new();
    drain(conn, &mut probe);
    probe.is_empty()
}

/// Moves everything rustls wants to send into `out`.
pub(crate) fn drain(conn: &mut ServerConnection, out: &mut Vec<u8>) {
    while conn.wants_write() {
        match conn.write_tls(out) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

/// The description of the first alert record in `wire` (content type 21, 2-byte body).
fn find_alert(wire: &[u8]) -> Option<AlertDescription> {
    let mut rest = wire;
    while let [ty, _, _, hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
        let body = tail.get(..len)?;
        if *ty == 21 {
            if let [_level, desc] = body {
                return Some(AlertDescription::from(*desc));
            }
        }
        rest = tail.get(len..)?;
    }
    None
}

impl LayerError {
    /// The fuzz oracle for TLS failures: rustls is silent only on errors the table has a
    /// row for, an alert of our own is the table's, and a peer's fatal alert gets none of
    /// ours. True for WebSocket failures.
    pub fn follows_alert_table(&self) -> bool {
        let LayerError::Tls { error, alert } = self else {
            return true;
        };
        match alert {
            SentAlert::Plain(_) | SentAlert::Encrypted => true,
            SentAlert::Own(a) => answer(error) == Some(Answer::Alert(*a)),
            SentAlert::None => answer(error).is_some(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_plaintext_alert_after_other_records() {
        let wire = [22, 3, 3, 0, 1, 0xaa, 21, 3, 3, 0, 2, 2, 40];
        assert_eq!(find_alert(&wire), Some(AlertDescription::HandshakeFailure));
        assert_eq!(find_alert(&[21, 3, 3, 0, 2, 2]), None, "truncated alert");
        assert_eq!(find_alert(&[]), None);
    }

    #[test]
    fn a_peer_alert_is_never_answered_and_limits_close() {
        for e in [
            Error::AlertReceived(AlertDescription::UnknownCA),
            Error::PeerMisbehaved(PeerMisbehaved::TooManyKeyUpdateRequests),
            Error::General(format!("{READ_TLS_FAILED}message buffer full")),
        ] {
            assert_eq!(answer(&e), Some(Answer::Close), "{e}");
        }
        assert_eq!(answer(&Error::General("other".into())), None);
        assert_eq!(answer(&Error::DecryptError), None, "rustls alerts itself");
    }

    #[test]
    fn the_oracle_rejects_what_the_table_does_not_say() {
        let tls = |error, alert| LayerError::Tls { error, alert };
        let interleaved =
            || Error::PeerMisbehaved(PeerMisbehaved::MessageInterleavedWithHandshakeMessage);
        let unexpected = AlertDescription::UnexpectedMessage;
        assert!(tls(interleaved(), SentAlert::Own(unexpected)).follows_alert_table());
        assert!(tls(interleaved(), SentAlert::None).follows_alert_table());
        let wrong = SentAlert::Own(AlertDescription::DecodeError);
        assert!(!tls(interleaved(), wrong).follows_alert_table());
        let peer = || Error::AlertReceived(AlertDescription::UnknownCA);
        assert!(!tls(peer(), SentAlert::Own(unexpected)).follows_alert_table());
        assert!(tls(peer(), SentAlert::None).follows_alert_table());
        assert!(!tls(Error::DecryptError, SentAlert::None).follows_alert_table());
        assert!(tls(Error::DecryptError, SentAlert::Encrypted).follows_alert_table());
    }
}
