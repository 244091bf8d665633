//! A whole wkproto frame: header byte (type << 4 | flags), remaining-length varint, body.

use super::packet::Packet;
use super::types::PacketType;
use super::DecodeError;

/// One frame. `flags` is the low nibble of byte 0; for CONNACK bit 0 is written from
/// `Connack::server_version.is_some()` and the other bits are kept as given.
#[derive(Clone, Debug, PartialEq, Eq, arbitrary::Arbitrary)]
pub struct Frame {
    /// Low 4 bits of the header byte (higher bits are ignored on encode).
    pub flags: u8,
    /// The body.
    pub packet: Packet,
}

impl Frame {
    /// A frame with no flags.
    pub fn new(packet: Packet) -> Frame {
        Frame { flags: 0, packet }
    }

    /// The packet type of the body.
    pub fn packet_type(&self) -> PacketType {
        todo!()
    }

    /// Appends the wire form at protocol `version` (infallible: every field has a wire form;
    /// strings longer than MAX_STRING_LEN are truncated at a char boundary).
    pub fn encode(&self, version: u8, out: &mut Vec<u8>) {
        todo!("{version} {out:?}")
    }

    /// Decodes a body whose header byte is `first_byte` (as found by `split_frame`).
    /// Every byte of `body` must be consumed.
    pub fn decode(first_byte: u8, body: &[u8], version: u8) -> Result<Frame, DecodeError> {
        todo!("{first_byte} {body:?} {version}")
    }

    /// Decodes the first frame of `buf`: `Ok(None)` if more bytes are needed, else the frame
    /// and the number of bytes it used (always <= buf.len()).
    pub fn read(
        buf: &[u8],
        version: u8,
        max_frame: usize,
    ) -> Result<Option<(Frame, usize)>, DecodeError> {
        todo!("{buf:?} {version} {max_frame}")
    }

    /// The frame a decode of `self.encode(version)` returns: version-gated fields set to
    /// `Some(default)` or `None` as the version and setting say, MessageSeq truncated to
    /// 32 bits below v6, over-long strings truncated, flags masked to 4 bits.
    pub fn normalized(self, version: u8) -> Frame {
        todo!("{version}")
    }
}
