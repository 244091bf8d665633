//! `records`: raw bytes into the server's real TLS acceptor. The byte-level baseline the
//! structured `handshake` target is measured against.
//!
//! Oracles: the alert the layer reports is the one it sent; the server never gets
//! application data before a handshake (an unauthenticated peer cannot reach the session).

use super::tls_server::{feed, new_layer};
use super::Outcome;

/// Runs the target.
///
/// # Panics
/// When an oracle is violated.
pub fn run(data: &[u8]) -> Outcome {
    super::fixture::new_run();
    let mut outcome = Outcome::new("");
    let mut layer = new_layer();
    if let Some(fed) = feed(&mut layer, data, &mut outcome) {
        assert!(
            fed.plain.is_empty(),
            "application data decrypted without a handshake"
        );
        outcome.verdict = if layer.is_handshaking() {
            "handshaking".into()
        } else {
            "handshake done".into()
        };
    }
    outcome
}
