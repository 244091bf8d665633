//! Why the hub refuses a CONNECT token, a SEND or a SUB. The reason code each refusal
//! answers with on the wire is chosen in one place, [`crate::session::wire`].

use crate::proto::ChannelType;

/// A CONNECT's uid and token do not pass ([`super::Hub::authenticate`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// The uid is empty.
    #[error("empty uid")]
    EmptyUid,
    /// Token auth is on and the token is not the uid's (or the uid has none).
    #[error("wrong token")]
    WrongToken,
}

/// A SEND the hub does not accept ([`super::Hub::send`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SendError {
    /// The connection is not logged in.
    #[error("sender is not logged in")]
    SenderOffline,
    /// The ChannelID is empty.
    #[error("empty channel id")]
    EmptyChannelId,
    /// A group channel that does not exist.
    #[error("no such group")]
    NoSuchGroup,
    /// The sender is not a member of the group.
    #[error("sender is not a member of the group")]
    NotAMember,
    /// A channel type the server does not deliver (only person and group).
    #[error("channel type {0} is not supported")]
    UnsupportedChannelType(ChannelType),
    /// A recipient's queue or the total pending bytes would overflow (nothing accepted is
    /// ever dropped, so the SEND is refused up front).
    #[error("pending queue full")]
    QueueFull,
    /// The global message id counter is at its maximum.
    #[error("message ids exhausted")]
    MessageIdsExhausted,
    /// The channel's sequence counter is at its maximum.
    #[error("channel sequence exhausted")]
    SeqExhausted,
}

/// A SUB the hub does not carry out ([`super::Hub::subscribe`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum SubError {
    /// The connection is not logged in.
    #[error("subscriber is not logged in")]
    SenderOffline,
    /// Only group channels have members.
    #[error("channel type {0} has no subscriptions")]
    UnsupportedChannelType(ChannelType),
    /// The ChannelID is empty.
    #[error("empty channel id")]
    EmptyChannelId,
    /// Joining would create a group beyond the hub's group limit.
    #[error("too many groups")]
    TooManyGroups,
    /// The group has its maximum number of members.
    #[error("group full")]
    GroupFull,
    /// Leaving a group that does not exist.
    #[error("no such group")]
    NoSuchGroup,
    /// Leaving a group the user is not in.
    #[error("not a member of the group")]
    NotAMember,
    /// An action other than 0 (join) or 1 (leave).
    #[error("unknown SUB action {0}")]
    UnknownAction(u8),
}
