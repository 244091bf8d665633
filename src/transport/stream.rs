//! The byte stream a connection starts as: plain TCP (bytes pass through) or a rustls
//! `ServerConnection`. WebSocket ([`super::ws::WsLayer`]) runs over one of these. Sans-IO:
//! wire bytes in, plaintext out, and back.

use super::error::{LayerError, ReadOutcome, SentAlert};
use super::tls_alert::{answer_failure, drain, READ_TLS_FAILED};
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
    /// TLS failed and the connection must end; what the peer gets (an alert, or nothing:
    /// [`super::tls_alert`]) is already in `wire_out`.
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
            // Give rustls all it takes before processing: each processing pass charges
            // the undecryptable records still in its buffer against the refused-0-RTT
            // skip budget again (README, known issues), so fewer passes keep more valid
            // handshakes alive. read_tls takes one buffer's worth; the rest waits for the
            // next pass.
            let mut fed = 0;
            while !data.is_empty() {
                match conn.read_tls(&mut data) {
                    Ok(0) => break,
                    Ok(n) => fed += n,
                    Err(_) if fed > 0 => break,
                    Err(e) => {
                        let error = rustls::Error::General(format!("{READ_TLS_FAILED}{e}"));
                        return Err(LayerError::Tls {
                            error,
                            alert: SentAlert::None,
                        });
                    }
                }
            }
            if let Err(error) = conn.process_new_packets() {
                let alert = answer_failure(conn, &error, wire_out);
                return Err(LayerError::Tls { error, alert });
            }
            drain(conn, wire_out);
            outcome.peer_closed |= drain_plaintext(conn, plain);
            if fed == 0 {
                // After the peer's close_notify rustls takes nothing more; what follows
                // it is ignored (RFC 8446 6.1).
                break;
            }
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
            drain(conn, wire_out);
            if n == 0 {
                break;
            }
            plain = plain.get(n..).unwrap_or_default();
        }
        drain(conn, wire_out);
    }

    /// Queues a TLS close_notify (nothing for plain TCP) and appends it to `wire_out`.
    pub fn close(&mut self, wire_out: &mut Vec<u8>) {
        if let Stream::Tls(c) = self {
            c.send_close_notify();
            drain(c, wire_out);
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
