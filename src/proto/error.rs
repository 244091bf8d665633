//! Typed decode errors: every malformed input maps to one of these, never a panic.

/// Why bytes are not a valid wkproto frame. `what` names the packet/field being read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// The body ended before the field.
    #[error("truncated: body ends inside {what}")]
    Truncated {
        /// Field being read.
        what: &'static str,
    },
    /// A string length prefix above MAX_STRING_LEN (upstream read it as a negative i16).
    #[error("string {what} has length {len} > 32767")]
    StringTooLong {
        /// Field being read.
        what: &'static str,
        /// Declared length.
        len: u16,
    },
    /// A string field that is not UTF-8.
    #[error("string {what} is not UTF-8")]
    InvalidUtf8 {
        /// Field being read.
        what: &'static str,
    },
    /// The 4th remaining-length byte has its continuation bit set.
    #[error("remaining length varint longer than 4 bytes")]
    VarintTooLong,
    /// Packet type 0 or 13..=15.
    #[error("unknown packet type {0}")]
    UnknownPacketType(u8),
    /// Bytes left in the body after the last field.
    #[error("{extra} trailing bytes after {what}")]
    TrailingBytes {
        /// Packet being read.
        what: &'static str,
        /// How many bytes were left.
        extra: usize,
    },
    /// Declared body length above the frame limit.
    #[error("frame length {len} exceeds limit {max}")]
    FrameTooLarge {
        /// Declared length.
        len: usize,
        /// The limit.
        max: usize,
    },
}
