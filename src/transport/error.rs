//! How a transport layer fails, and what it reports: the alert sent, the WebSocket close
//! or HTTP error, whether the peer closed cleanly.

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

/// Why the WebSocket layer ended the connection. The HTTP response or close frame is
/// already in the wire output.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WsError {
    /// The upgrade request was refused with an HTTP error.
    Upgrade {
        /// HTTP status sent.
        status: u16,
        /// What was wrong with the request.
        detail: String,
    },
    /// The WebSocket connection was failed with a close frame.
    Failed {
        /// Close code sent (1002, 1003, 1007, 1009, 1011).
        code: u16,
        /// What the peer did.
        detail: String,
    },
}

impl std::fmt::Display for WsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WsError::Upgrade { status, detail } => {
                write!(f, "websocket upgrade refused: {detail} (HTTP {status})")
            }
            WsError::Failed { code, detail } => write!(f, "websocket: {detail} (close {code})"),
        }
    }
}
