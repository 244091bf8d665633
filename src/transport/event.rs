//! What a connection reports when it ends, as data: the shell logs it, the fuzz targets and
//! tests count and check it. No oracle reads log text.

use super::error::{LayerError, SentAlert};
use super::proxy::ProxyError;
use crate::session::{CloseReason, Stage};
use std::net::SocketAddr;

/// Something the connection engine tells its driver (see [`super::ServerConn::poll_event`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum ConnEvent {
    /// The transport handshake (PROXY header, TLS, WebSocket upgrade) is done and the
    /// session waits for CONNECT.
    SessionStarted,
    /// The connection is over: exactly one per connection, and nothing after it.
    Closed(CloseEvent),
}

/// Why and where a connection ended, and what it exchanged.
#[derive(Debug)]
pub struct CloseEvent {
    /// Where it was when it ended.
    pub stage: Stage,
    /// Why it ended.
    pub cause: CloseCause,
    /// The client address a PROXY header named, if any.
    pub proxied_peer: Option<SocketAddr>,
    /// The uid of a successful CONNECT.
    pub uid: Option<String>,
    /// Wire bytes fed to the engine.
    pub bytes_in: u64,
    /// Wire bytes the engine handed out to send.
    pub bytes_out: u64,
}

impl CloseEvent {
    /// The TLS alert sent, when the TLS layer failed (`None` for every other end).
    pub fn alert(&self) -> Option<SentAlert> {
        match &self.cause {
            CloseCause::Layer(e) => e.alert(),
            _ => None,
        }
    }
}

/// Why a connection ended.
#[derive(Debug)]
#[non_exhaustive]
pub enum CloseCause {
    /// The session ended (the peer closed, a timeout, a kick, a protocol error, shutdown...).
    Session(CloseReason),
    /// The transport layer failed; its answer (alert, HTTP error, close frame) was sent.
    Layer(LayerError),
    /// The PROXY header was malformed.
    BadProxyHeader(ProxyError),
    /// The peer closed before the PROXY header was complete.
    PeerClosedInProxyHeader,
    /// The peer closed during the TLS handshake or WebSocket upgrade.
    PeerClosedInHandshake,
    /// The PROXY header did not arrive in time.
    ProxyHeaderTimeout,
    /// The PROXY header, TLS handshake and WebSocket upgrade took too long.
    HandshakeTimeout,
    /// The server shut down before the handshake finished.
    ShutdownInHandshake,
    /// The layer could not be set up (a TLS listener without TLS config).
    Setup(String),
    /// A socket write failed or stalled (see [`WriteError`]).
    Write(WriteError),
}

impl std::fmt::Display for CloseCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CloseCause::Session(r) => r.fmt(f),
            CloseCause::Layer(e) => e.fmt(f),
            CloseCause::BadProxyHeader(e) => write!(f, "bad PROXY header: {e}"),
            CloseCause::PeerClosedInProxyHeader => {
                f.write_str("peer closed inside the PROXY header")
            }
            CloseCause::PeerClosedInHandshake => f.write_str("peer closed during handshake"),
            CloseCause::ProxyHeaderTimeout => f.write_str("PROXY header timeout"),
            CloseCause::HandshakeTimeout => f.write_str("handshake timeout"),
            CloseCause::ShutdownInHandshake => f.write_str("server shutting down"),
            CloseCause::Setup(s) => f.write_str(s),
            CloseCause::Write(e) => e.fmt(f),
        }
    }
}

/// Why the driver could not write what the engine handed out.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WriteError {
    /// The peer did not read: a write stalled past the write timeout.
    Stalled,
    /// The socket failed (reset, broken pipe...).
    Failed(String),
}

impl std::fmt::Display for WriteError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WriteError::Stalled => f.write_str("slow reader: write timed out"),
            WriteError::Failed(e) => write!(f, "write error: {e}"),
        }
    }
}
