//! One connection's transport, sans-IO: everything between the socket's bytes and the
//! session, with no tokio and no clock of its own.
//!
//! Layout:
//! - [`proxy`]: the PROXY v1/v2 header a load balancer may put first;
//! - [`stream`]: plain TCP or rustls (the TLS glue);
//! - [`upgrade`] and [`ws`]: the HTTP upgrade and the WebSocket frame protocol over a stream;
//! - [`layer`]: what a connection talks through (a stream, or WebSocket over one);
//! - [`error`]: how a layer fails and what it sent the peer;
//! - [`ServerConn`] (conn.rs): the connection engine that joins a layer to a session and
//!   the hub, with its [`ConnConfig`] and the [`ConnEvent`]s it reports (event.rs). The
//!   tokio shell, every fuzz target and every test harness drive it.
//!
//! Imports only go down this list (ws -> stream, layer -> ws, conn -> layer), never back.

mod config;
mod conn;
pub mod error;
mod event;
pub mod layer;
pub mod proxy;
pub mod stream;
pub mod upgrade;
pub mod ws;

#[cfg(test)]
mod tests;

pub use config::ConnConfig;
pub use conn::{HubAccess, Plaintext, ServerConn};
pub use error::{LayerError, ReadOutcome, SentAlert, WsError};
pub use event::{CloseCause, CloseEvent, ConnEvent, WriteError};
pub use layer::Layer;
pub use stream::Stream;
pub use ws::{WsConfig, WsLayer};

/// What a listener serves: the layers a connection's bytes pass through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// wkproto over plain TCP.
    Tcp,
    /// wkproto over TLS over TCP.
    Tls,
    /// wkproto in binary WebSocket messages over TCP.
    Ws,
    /// wkproto in binary WebSocket messages over TLS (the TLS listener's config).
    Wss,
}

impl Transport {
    /// Every transport, in a fixed order.
    pub const ALL: [Transport; 4] = [
        Transport::Tcp,
        Transport::Tls,
        Transport::Ws,
        Transport::Wss,
    ];

    /// Whether the transport starts with a TLS handshake.
    pub fn is_tls(self) -> bool {
        matches!(self, Transport::Tls | Transport::Wss)
    }

    /// Whether wkproto travels in WebSocket messages.
    pub fn is_websocket(self) -> bool {
        matches!(self, Transport::Ws | Transport::Wss)
    }
}

impl std::fmt::Display for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
            Transport::Ws => "ws",
            Transport::Wss => "wss",
        })
    }
}
