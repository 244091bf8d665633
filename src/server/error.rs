//! [`ServeError`]: why `wkfuzz serve` could not start. Each is one line naming the flag or
//! file at fault; the binary prints it as `wkfuzz: error: ...` and exits with code 2.

use crate::config::ConfigError;
use crate::tls::{TlsError, MAX_TICKET_LIFETIME_SECS};
use crate::transport::Transport;
use std::net::{AddrParseError, SocketAddr};

/// A start-up failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The config file cannot be read or parsed.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// A listen address (flag or file) is neither an address nor "off".
    #[error("bad listen address {text:?}")]
    ListenAddr {
        /// What was given.
        text: String,
        /// Why it does not parse.
        #[source]
        source: AddrParseError,
    },
    /// Every listener is "off".
    #[error("every listener is off; nothing to serve")]
    NoListener,
    /// `--max-connections 0` (or `max_connections = 0`).
    #[error("--max-connections must be at least 1")]
    ZeroMaxConnections,
    /// A WebSocket path that is neither absolute nor "*".
    #[error("--ws-path must start with '/' (or be \"*\"), got {0:?}")]
    WsPath(String),
    /// `server.cert` without `server.key` or the reverse.
    #[error("config: give both server.cert and server.key, or neither")]
    HalfCertPair,
    /// A ticket lifetime outside 1..=[`MAX_TICKET_LIFETIME_SECS`].
    #[error(
        "--ticket-lifetime must be 1..={MAX_TICKET_LIFETIME_SECS} seconds (RFC 8446: at most seven days), got {0}"
    )]
    TicketLifetime(u32),
    /// Key material that does not load. Its Display already names the file and the
    /// problem (with the underlying error's text), so it is not a `source`: the one line
    /// is not followed by the same cause again.
    #[error("{0}")]
    Tls(TlsError),
    /// A listener cannot be bound.
    #[error("cannot listen on {addr} ({transport})")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// Which listener.
        transport: Transport,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A socket or signal operation of the runtime failed.
    #[error("{what}")]
    Io {
        /// What was being done.
        what: &'static str,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl From<TlsError> for ServeError {
    fn from(e: TlsError) -> Self {
        ServeError::Tls(e)
    }
}
