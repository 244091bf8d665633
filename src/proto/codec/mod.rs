//! Per-packet body codecs (wkproto.md section 4). Each packet implements [`Body`]: its
//! `encode`, `read` and `normalized` sit side by side with fields in wire order, so a field
//! added to one is visibly missing from the others (STYLE rule 4).
//!
//! Layout: one file per request/answer pair — [`connect`] (CONNECT, CONNACK), [`send`]
//! (SEND, SENDACK), [`recv`] (RECV, RECVACK), [`disconnect`], [`sub`] (SUB, SUBACK),
//! [`event`]. The version gates of section 3 live here, in [`Ctx`], and nowhere else.

pub(crate) mod connect;
pub(crate) mod disconnect;
pub(crate) mod event;
pub(crate) mod recv;
pub(crate) mod send;
pub(crate) mod sub;

use super::reader::Reader;
use super::types::{flags, Setting};
use super::writer::{truncate_string, Put};
use super::DecodeError;

/// What a body's layout depends on besides its own bytes: the negotiated protocol version
/// and the header flags (CONNACK's HasServerVersion).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Ctx {
    /// `min(client version, LATEST_VERSION)`; any u8 is accepted and gated as below.
    pub(crate) version: u8,
    /// Low nibble of the header byte.
    pub(crate) flags: u8,
}

impl Ctx {
    /// SEND StreamNo / RECV stream fields: `2 <= v < 5` and setting Stream.
    pub(crate) fn has_stream(self, setting: Setting) -> bool {
        (2..5).contains(&self.version) && setting.has(Setting::STREAM)
    }

    /// SEND/RECV Topic: setting Topic, at every version.
    pub(crate) fn has_topic(self, setting: Setting) -> bool {
        setting.has(Setting::TOPIC)
    }

    /// SEND/RECV Expire: `v >= 3`.
    pub(crate) fn has_expire(self) -> bool {
        self.version >= 3
    }

    /// CONNACK NodeId: `v >= 4`.
    pub(crate) fn has_node_id(self) -> bool {
        self.version >= 4
    }

    /// CONNACK ServerVersion: header flag bit 0, whatever the version.
    pub(crate) fn has_server_version(self) -> bool {
        self.flags & flags::HAS_SERVER_VERSION != 0
    }

    /// MessageSeq is a u64 on the wire (RECV, RECVACK, SENDACK): `v >= 6`; else a u32.
    pub(crate) fn has_long_seq(self) -> bool {
        self.version >= 6
    }

    /// Writes a MessageSeq: u64 at v >= 6, else its low 32 bits as a u32.
    pub(crate) fn put_seq(self, out: &mut Vec<u8>, seq: u64) {
        if self.has_long_seq() {
            out.put_u64(seq);
        } else {
            // Truncation intended: only the low 32 bits travel below v6.
            out.put_u32(seq as u32);
        }
    }

    /// Reads a MessageSeq written by [`Ctx::put_seq`].
    pub(crate) fn read_seq(
        self,
        r: &mut Reader<'_>,
        what: &'static str,
    ) -> Result<u64, DecodeError> {
        if self.has_long_seq() {
            r.u64(what)
        } else {
            r.u32(what).map(u64::from)
        }
    }

    /// The MessageSeq a decode returns after [`Ctx::put_seq`].
    pub(crate) fn normalized_seq(self, seq: u64) -> u64 {
        if self.has_long_seq() {
            seq
        } else {
            seq & u64::from(u32::MAX)
        }
    }
}

/// A packet body. `read` consumes what `encode` wrote; the caller checks that nothing is
/// left afterwards (`TrailingBytes` with [`Body::NAME`]).
pub(crate) trait Body: Sized {
    /// The packet's name in errors ("Send"); fields are reported as "Send.channel_id".
    const NAME: &'static str;

    /// Appends the body at `ctx` (infallible; see `writer` for the cuts it makes).
    fn encode(&self, ctx: Ctx, out: &mut Vec<u8>);

    /// Reads the body at `ctx`.
    fn read(r: &mut Reader<'_>, ctx: Ctx) -> Result<Self, DecodeError>;

    /// What `read(encode(self))` returns at `ctx`: gated fields `Some(value or default)` when
    /// on the wire and `None` when not, strings cut, MessageSeq cut below v6.
    fn normalized(self, ctx: Ctx) -> Self;
}

/// A string as a decode returns it: cut to 32767 bytes at a char boundary.
pub(crate) fn norm_str(mut s: String) -> String {
    truncate_string(&mut s);
    s
}

/// A gated field as a decode returns it: `Some` (defaulted) iff `on`.
pub(crate) fn gate<T: Default>(on: bool, field: Option<T>) -> Option<T> {
    on.then(|| field.unwrap_or_default())
}
