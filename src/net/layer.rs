//! The byte layer between the socket and the session: nothing (plain TCP), a rustls
//! `ServerConnection`, or WebSocket over either ([`super::ws::WsLayer`]). Sans-IO like the
//! session: wire bytes in, plaintext out, and back. The tokio handler and the fuzz targets
//! drive the same code.

use super::ws::{WsError, WsLayer};
use rustls::ServerConnection;
use std::io::{self, Read, Write};

/// The alert rustls queued for the peer when TLS failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SentAlert {
    /// Nothing was sent.
    None,
    /// A plaintext alert (before the traffic keys are up: handshake failures).
    Plain(rustls::AlertDescription),
    /// An encrypted record (TLS 1.3 after the handshake): an alert whose description
    /// only the peer can read.
    Encrypted,
    /// rustls queued nothing; the layer sent close_notify so the peer still learns the
    /// connection is over.
    CloseNotify,
}

impl std::fmt::Display for SentAlert {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SentAlert::None => f.write_str("none"),
            SentAlert::Plain(a) => write!(f, "{a:?}"),
            SentAlert::Encrypted => f.write_str("encrypted"),
            SentAlert::CloseNotify => f.write_str("close_notify"),
        }
    }
}

/// Why the layer failed; the connection ends.
#[derive(Debug)]
pub enum LayerError {
    /// TLS failed; `alert` is what rustls queued for the peer (already in the wire output).
    Tls {
        /// The rustls error.
        error: rustls::Error,
        /// The fatal alert sent to the peer.
        alert: SentAlert,
    },
    /// The WebSocket upgrade was refused or the WebSocket protocol was broken; the HTTP
    /// response or close frame is already in the wire output.
    WebSocket(WsError),
}

impl LayerError {
    /// The TLS alert sent, if this is a TLS failure.
    pub fn alert(&self) -> Option<SentAlert> {
        match self {
            LayerError::Tls { alert, .. } => Some(*alert),
            LayerError::WebSocket(_) => None,
        }
    }
}

impl std::fmt::Display for LayerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LayerError::Tls { error, alert } => {
                write!(f, "TLS error: {error} (alert sent: {alert})")
            }
            LayerError::WebSocket(e) => e.fmt(f),
        }
    }
}

/// What the peer's bytes amounted to.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ReadOutcome {
    /// The peer closed its side cleanly (TLS close_notify, WebSocket close frame).
    pub peer_closed: bool,
}

/// Plain TCP, TLS, or WebSocket over one of them.
#[derive(Debug)]
pub enum Layer {
    /// Bytes pass through unchanged.
    Plain,
    /// rustls server side.
    Tls(Box<ServerConnection>),
    /// WebSocket (server side) over an inner `Plain` (ws) or `Tls` (wss) layer.
    Ws(Box<WsLayer>),
}

impl Layer {
    /// Whether a TLS handshake or WebSocket upgrade is still in progress (no session yet).
    pub fn is_handshaking(&self) -> bool {
        match self {
            Layer::Plain => false,
            Layer::Tls(c) => c.is_handshaking(),
            Layer::Ws(w) => w.is_handshaking(),
        }
    }

    /// The certificate chain the TLS client authenticated with, if any (client certificate
    /// verified by the server config's verifier), leaf first.
    pub fn peer_certificates(&self) -> Option<&[rustls::pki_types::CertificateDer<'static>]> {
        match self {
            Layer::Plain => None,
            Layer::Tls(c) => c.peer_certificates(),
            Layer::Ws(w) => w.inner().peer_certificates(),
        }
    }

    /// Feeds wire bytes; appends decrypted application data to `plain` and anything the
    /// layer answers by itself (TLS handshake, WebSocket 101 and pongs) to `wire_out`.
    ///
    /// # Errors
    /// The layer failed and the connection must end; what the peer should get (TLS alert,
    /// HTTP error, WebSocket close frame) is already in `wire_out`.
    pub fn handle_wire(
        &mut self,
        mut data: &[u8],
        plain: &mut Vec<u8>,
        wire_out: &mut Vec<u8>,
    ) -> Result<ReadOutcome, LayerError> {
        let conn = match self {
            Layer::Plain => {
                plain.extend_from_slice(data);
                return Ok(ReadOutcome::default());
            }
            Layer::Tls(c) => c,
            Layer::Ws(w) => return w.handle_wire(data, plain, wire_out),
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
    /// rustls buffers it; WebSocket frames it) and appends every pending wire byte to
    /// `wire_out`.
    pub fn write_plain(&mut self, mut plain: &[u8], wire_out: &mut Vec<u8>) {
        let conn = match self {
            Layer::Plain => {
                wire_out.extend_from_slice(plain);
                return;
            }
            Layer::Tls(c) => c,
            Layer::Ws(w) => return w.write_plain(plain, wire_out),
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

    /// Queues a WebSocket close frame and a TLS close_notify, as they apply (nothing for
    /// plain TCP), and appends them to `wire_out`.
    pub fn close(&mut self, wire_out: &mut Vec<u8>) {
        match self {
            Layer::Plain => {}
            Layer::Tls(c) => {
                c.send_close_notify();
                drain_tls(c, wire_out);
            }
            Layer::Ws(w) => w.close(wire_out),
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
