//! What one connection is configured with: its transport and the limits the engine enforces.

use super::Transport;
use crate::session::SessionConfig;
use std::time::Duration;

/// Settings of one connection (shared by every connection of a listener).
#[derive(Clone, Debug)]
pub struct ConnConfig {
    /// The layers the bytes pass through.
    pub transport: Transport,
    /// Session limits (frame size, connect and idle timeouts).
    pub session: SessionConfig,
    /// Expect a PROXY v1/v2 header before anything else.
    pub proxy_protocol: bool,
    /// The request path the WebSocket transports upgrade (`*` for any); see
    /// [`super::upgrade`].
    pub ws_path: String,
    /// PROXY header + TLS handshake + WebSocket upgrade must finish within this.
    pub handshake_timeout: Duration,
    /// A TLS client certificate's subject CN is the only uid its connection may CONNECT
    /// as (see [`crate::tls::client_cert_uid`]).
    pub client_cert_uid: bool,
}

impl ConnConfig {
    /// The defaults of `wkfuzz serve` for `transport`.
    pub fn new(transport: Transport) -> ConnConfig {
        ConnConfig {
            transport,
            session: SessionConfig::default(),
            proxy_protocol: false,
            ws_path: "/".to_owned(),
            handshake_timeout: Duration::from_secs(10),
            client_cert_uid: false,
        }
    }
}
