//! Per-connection limits and timeouts.

use crate::proto::crypto::{AppCipher, KeyAgreement, MsgKeyFn};
use std::time::Duration;

/// Session settings.
#[derive(Clone, Debug)]
pub struct SessionConfig {
    /// Largest frame body accepted; a larger declared length closes the connection as soon
    /// as the length is read.
    pub max_frame: usize,
    /// How long a connection may stay without a CONNECT (upstream: 4 s).
    pub connect_timeout: Duration,
    /// How long a logged-in connection may stay silent (a PING resets it).
    pub idle_timeout: Duration,
    /// The X25519 functions of the CONNECT key exchange.
    pub key_agreement: KeyAgreement,
    /// How the session cipher gets msgKeys (computed, or remembered in the fuzz targets).
    pub msg_key_fn: MsgKeyFn,
}

impl Default for SessionConfig {
    fn default() -> Self {
        SessionConfig {
            max_frame: crate::proto::DEFAULT_MAX_FRAME,
            connect_timeout: Duration::from_secs(4),
            idle_timeout: Duration::from_secs(180),
            key_agreement: KeyAgreement::X25519,
            msg_key_fn: AppCipher::compute_msg_key,
        }
    }
}
