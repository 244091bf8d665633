//! The server's TLS layer fed client bytes in one thread, for the `handshake` and `records`
//! targets: a fresh rustls `ServerConnection` from the server's own config, wrapped in the
//! same [`Layer`] the network shell uses.

use super::{fixture, Outcome};
use crate::transport::{Layer, LayerError, SentAlert, Stream};

/// What the server did with one client flight.
pub struct Fed {
    /// Bytes the server wants to send back.
    pub wire_out: Vec<u8>,
    /// Decrypted application data.
    pub plain: Vec<u8>,
}

/// A fresh server-side layer.
pub(crate) fn new_layer() -> Layer {
    let conn =
        rustls::ServerConnection::new(fixture::server_config()).expect("fixture config is valid");
    Layer::Stream(Stream::Tls(Box::new(conn)))
}

/// Feeds `bytes`; on a TLS failure records the error and alert in `outcome` and checks that
/// the alert the layer reports is the one on the wire. Returns `None` once the connection
/// has failed.
///
/// # Panics
/// When the reported alert and the bytes on the wire disagree.
pub(crate) fn feed(layer: &mut Layer, bytes: &[u8], outcome: &mut Outcome) -> Option<Fed> {
    let mut fed = Fed {
        wire_out: Vec::new(),
        plain: Vec::new(),
    };
    match layer.handle_wire(bytes, &mut fed.plain, &mut fed.wire_out) {
        Ok(_) => {
            layer.write_plain(&[], &mut fed.wire_out);
            if fed.wire_out.first() == Some(&22) {
                outcome.count("server_flights", 1);
            }
            Some(fed)
        }
        Err(LayerError::Tls { error, alert }) => {
            if let SentAlert::Plain(a) = alert {
                let on_wire = last_alert(&fed.wire_out);
                assert_eq!(
                    Some(a),
                    on_wire,
                    "the layer reports alert {a:?} but sent {on_wire:?}"
                );
            }
            let kind = if alert == SentAlert::None {
                "errors_without_alert"
            } else {
                "fatal_alerts"
            };
            outcome.count(kind, 1);
            outcome.verdict = format!("rejected: {error} (alert {alert})");
            None
        }
        Err(e @ LayerError::WebSocket(_)) => {
            panic!("a TLS layer failed with a WebSocket error: {e}")
        }
    }
}

/// The description of the last plaintext alert record in `wire`.
fn last_alert(wire: &[u8]) -> Option<rustls::AlertDescription> {
    let mut rest = wire;
    let mut found = None;
    while let [ty, _, _, hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
        let Some(body) = tail.get(..len) else { break };
        if let (21, [_level, desc]) = (*ty, body) {
            found = Some(rustls::AlertDescription::from(*desc));
        }
        rest = tail.get(len..).unwrap_or_default();
    }
    found
}
