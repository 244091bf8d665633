//! Why a session ended, for the one log event every closed connection gets (what a
//! logged-in client is told on the wire is [`super::wire::disconnect`]'s choice).

use super::ConnectError;
use crate::proto::{DecodeError, PacketType, ReasonCode};

/// Where in its life a connection was when it ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Transport (TLS or PROXY) handshake; set by the network shell.
    Handshake,
    /// Waiting for CONNECT.
    Connect,
    /// Logged in.
    Session,
}

impl std::fmt::Display for Stage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Stage::Handshake => "handshake",
            Stage::Connect => "connect",
            Stage::Session => "session",
        })
    }
}

/// Why the session closed.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CloseReason {
    /// The transport reached end of stream or failed.
    PeerClosed,
    /// The client sent DISCONNECT.
    ClientDisconnect,
    /// The bytes were not a valid frame.
    Decode(DecodeError),
    /// The first frame was not CONNECT.
    FirstFrameNotConnect(PacketType),
    /// A frame the client must not send in this state (a second CONNECT, a server packet).
    UnexpectedPacket(PacketType),
    /// CONNECT refused: CONNACK with `reason` sent (chosen by
    /// [`super::wire::connack_reason`]).
    ConnectRefused {
        /// CONNACK reason code sent.
        reason: ReasonCode,
        /// What was wrong.
        error: ConnectError,
    },
    /// No CONNECT within the connect timeout.
    ConnectTimeout,
    /// Logged in but silent for the idle timeout.
    IdleTimeout,
    /// A newer login with the same uid and device flag took over (DISCONNECT 12 sent).
    Kicked,
    /// The outbound queue overflowed: the peer does not read.
    SlowReader,
    /// The server is shutting down.
    Shutdown,
}

impl std::fmt::Display for CloseReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CloseReason::PeerClosed => f.write_str("peer closed"),
            CloseReason::ClientDisconnect => f.write_str("client sent DISCONNECT"),
            CloseReason::Decode(e) => write!(f, "malformed frame: {e}"),
            CloseReason::FirstFrameNotConnect(t) => write!(f, "first frame was {t}, not CONNECT"),
            CloseReason::UnexpectedPacket(t) => write!(f, "unexpected packet {t} from client"),
            CloseReason::ConnectRefused { reason, error } => {
                write!(f, "CONNECT refused with {reason}: {error}")
            }
            CloseReason::ConnectTimeout => f.write_str("no CONNECT before the connect timeout"),
            CloseReason::IdleTimeout => f.write_str("idle timeout"),
            CloseReason::Kicked => f.write_str("kicked by a newer login on the same device"),
            CloseReason::SlowReader => f.write_str("slow reader: outbound queue full"),
            CloseReason::Shutdown => f.write_str("server shutting down"),
        }
    }
}
