//! wkproto, the WuKongIM wire protocol: framing, packet bodies, and the application-layer
//! crypto. Pure functions over byte slices; no I/O.
//!
//! Layout:
//! - [`types`]: code newtypes (packet type, reason code, device flag, channel type, setting).
//! - [`packet`]: the twelve packet bodies as plain data.
//! - `reader`/`writer`: the fallible cursor every decoder reads through, and encode helpers.
//! - `varint`, `splitter`: the remaining-length varint and the one place frame boundaries
//!   are computed (so no two decoders can disagree on them).
//! - `codec`: one `Body` impl (encode, read, normalized side by side) per packet, and the
//!   version gates of wkproto.md section 3.
//! - `frame`: [`Frame`] encode/decode at a protocol version.
//! - [`crypto`]: X25519 + MD5-derived AES-128-CBC + msgKey (wkproto.md section 6).

mod codec;
pub mod crypto;
mod error;
mod frame;
pub mod packet;
mod reader;
mod splitter;
pub mod types;
pub(crate) mod varint;
mod writer;

pub use error::DecodeError;
pub use frame::Frame;
pub use packet::*;
pub use splitter::{frame_header, split_frame, FrameBounds};
pub use types::{flags, ChannelType, DeviceFlag, PacketType, ReasonCode, Setting};

/// Lowest protocol version the server accepts in CONNECT.
pub const MIN_VERSION: u8 = 2;
/// Highest protocol version the server speaks; it uses min(client, LATEST_VERSION).
pub const LATEST_VERSION: u8 = 6;
/// Longest string a wkproto string field may carry (the u16 length read as a signed i16
/// upstream, WuKongIM issue #26: anything above is an error, not a negative length).
pub const MAX_STRING_LEN: usize = 32767;
/// Largest value a 4-byte remaining-length varint can hold.
pub const MAX_VARINT_VALUE: usize = 268_435_455;
/// Default frame size limit (body bytes), checked as soon as the length is read.
pub const DEFAULT_MAX_FRAME: usize = 1024 * 1024;
