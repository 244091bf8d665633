//! The byte stream a connection starts as: plain TCP (bytes pass through) or a rustls
//! `ServerConnection`. WebSocket ([`super::ws::WsLayer`]) runs over one of these. Sans-IO:
//! wire bytes in, plaintext out, and back.

use super::error::{LayerError, ReadOutcome, SentAlert};
use rustls::ServerConnection;
use std::io::{self, Read, Write};

/// Plain TCP or TLS.
#[derive(Debug)]
pub enum Stream {
    /// Bytes pass through unchanged.
    Plain,
    /// rustls server side.
    Tls(Box<ServerConnection>),
}

impl Stream {
    /// Whether a TLS handshake is still in progress.
    pub fn is_handshaking(&self) -> bool {
        match self {
            Stream::Plain => false,
            Stream::Tls(c) => c.is_handshaking(),
        }
    }

    /// The certificate chain the TLS client authenticated with, if any (client certificate
    /// verified by the server config's verifier), leaf first.
    pub fn peer_certificates(&self) -> Option<&[rustls::pki_types::CertificateDer<'static>]> {
        match self {
            Stream::Plain => None,
            Stream::Tls(c) => c.peer_certificates(),
        }
    }

    /// Feeds wire bytes; appends decrypted application data to `plain` and anything TLS
    /// answers by itself (handshake messages, alerts) to `wire_out`.
    ///
    /// # Errors
    /// TLS failed and the connection must end; the alert is already in `wire_out`.
    pub fn handle_wire(
        &mut self,
        mut data: &[u8],
        plain: &mut Vec<u8>,
        wire_out: &mut Vec<u8>,
    ) -> Result<ReadOutcome, LayerError> {
        let conn = match self {
            Stream::Plain => {
                plain.extend_from_slice(data);
                return Ok(ReadOutcome::default());
            }
            Stream::Tls(c) => c,
        };
        let mut outcome = ReadOutcome::default();
        while !data.is_empty() {
            // read_tls takes at most one buffer's worth; process between calls so its
            // internal buffer never fills.
            if let Err(e) = conn.read_tls(&mut data) {
                let error = rustls::Error::General(format!("read_tls: {e}"));
                return Err(LayerError::Tls {
                    error,
                    alert: SentAlert::None,
                });
            }
            if let Err(error) = conn.process_new_packets() {
                let start = wire_out.len();
                drain_tls(conn, wire_out);
                let mut alert = match wire_out.get(start..).and_then(find_alert) {
                    Some(a) => SentAlert::Plain(a),
                    None if wire_out.len() == start => SentAlert::None,
                    None => SentAlert::Encrypted,
                };
                if alert == SentAlert::None {
                    // rustls fails some limits silently (too many KeyUpdates, warning
                    // alerts or renegotiation requests: a fuzzer find). Tell the peer the
                    // connection is over instead of just dropping it.
                    conn.send_close_notify();
                    drain_tls(conn, wire_out);
                    if wire_out.len() > start {
                        alert = SentAlert::CloseNotify;
                    }
                }
                return Err(LayerError::Tls { error, alert });
            }
            outcome.peer_closed |= drain_plaintext(conn, plain);
        }
        Ok(outcome)
    }

    /// Encrypts `plain` (as far as the TLS state allows: before the handshake completes
    /// rustls buffers it) and appends every pending wire byte to `wire_out`.
    pub fn write_plain(&mut self, mut plain: &[u8], wire_out: &mut Vec<u8>) {
        let conn = match self {
            Stream::Plain => {
                wire_out.extend_from_slice(plain);
                return;
            }
            Stream::Tls(c) => c,
        };
        while !plain.is_empty() {
            let n = conn.writer().write(plain).unwrap_or(0);
            drain_tls(conn, wire_out);
            if n == 0 {
                break;
            }
            plain = plain.get(n..).unwrap_or_default();
        }
        drain_tls(conn, wire_out);
    }

    /// Queues a TLS close_notify (nothing for plain TCP) and appends it to `wire_out`.
    pub fn close(&mut self, wire_out: &mut Vec<u8>) {
        if let Stream::Tls(c) = self {
            c.send_close_notify();
            drain_tls(c, wire_out);
        }
    }
}

/// Moves everything rustls wants to send into `out`.
fn drain_tls(conn: &mut ServerConnection, out: &mut Vec<u8>) {
    while conn.wants_write() {
        match conn.write_tls(out) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
}

/// Moves decrypted application data into `plain`; returns true on close_notify.
fn drain_plaintext(conn: &mut ServerConnection, plain: &mut Vec<u8>) -> bool {
    let mut buf = [0u8; 4096];
    loop {
        match conn.reader().read(&mut buf) {
            Ok(0) => return true,
            Ok(n) => plain.extend_from_slice(buf.get(..n).unwrap_or_default()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return false,
            // UnexpectedEof: the peer closed without close_notify.
            Err(_) => return true,
        }
    }
}

/// The description of the first alert record in `wire` (content type 21, 2-byte body).
/// Fatal alerts are sent in plaintext before the keys are up, and the handshake is where
/// almost all failures happen; an encrypted alert is reported as unknown (`None`).
fn find_alert(wire: &[u8]) -> Option<rustls::AlertDescription> {
    let mut rest = wire;
    while let [ty, _, _, hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
        let body = tail.get(..len)?;
        if *ty == 21 {
            if let [_level, desc] = body {
                return Some(rustls::AlertDescription::from(*desc));
            }
        }
        rest = tail.get(len..)?;
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_plaintext_alert_after_other_records() {
        let wire = [22, 3, 3, 0, 1, 0xaa, 21, 3, 3, 0, 2, 2, 40];
        assert_eq!(
            find_alert(&wire),
            Some(rustls::AlertDescription::HandshakeFailure)
        );
        assert_eq!(find_alert(&[21, 3, 3, 0, 2, 2]), None, "truncated alert");
        assert_eq!(find_alert(&[]), None);
    }
}
