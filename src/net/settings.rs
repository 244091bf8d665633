//! What the network shell is configured with, beyond the session and hub settings.

use crate::session::SessionConfig;
use crate::transport::{ConnConfig, Transport};
use std::time::Duration;

/// Limits and timeouts of the network shell.
#[derive(Clone, Debug)]
pub struct NetSettings {
    /// Session limits (frame size, connect and idle timeouts).
    pub session: SessionConfig,
    /// Open connections across all listeners; more wait in the kernel's accept queue.
    pub max_connections: usize,
    /// PROXY header + TLS handshake + WebSocket upgrade must finish within this.
    pub handshake_timeout: Duration,
    /// A write that cannot complete within this marks a slow reader.
    pub write_timeout: Duration,
    /// Expect a PROXY v1/v2 header before anything else.
    pub proxy_protocol: bool,
    /// The request path the WebSocket listeners upgrade (`*` for any); see
    /// [`crate::transport::upgrade`].
    pub ws_path: String,
    /// A TLS client certificate's subject CN is the only uid its connection may CONNECT
    /// as (see [`crate::tls::client_cert_uid`]).
    pub client_cert_uid: bool,
}

impl Default for NetSettings {
    fn default() -> Self {
        NetSettings {
            session: SessionConfig::default(),
            max_connections: 10_000,
            handshake_timeout: Duration::from_secs(10),
            write_timeout: Duration::from_secs(10),
            proxy_protocol: false,
            ws_path: "/".to_owned(),
            client_cert_uid: false,
        }
    }
}

impl NetSettings {
    /// The settings of one connection on `transport`.
    pub fn conn_config(&self, transport: Transport) -> ConnConfig {
        ConnConfig {
            transport,
            session: self.session.clone(),
            proxy_protocol: self.proxy_protocol,
            ws_path: self.ws_path.clone(),
            handshake_timeout: self.handshake_timeout,
            client_cert_uid: self.client_cert_uid,
        }
    }
}
