//! A whole wkproto frame: header byte (type << 4 | flags), remaining-length varint, body.
//!
//! This file dispatches on the packet type; the bodies live in `codec/`, the boundaries in
//! `splitter`. The law the codec keeps (and the round-trip fuzz target checks), for every
//! frame `f` and version `v`:
//! `Frame::read(&encode(f, v), v, usize::MAX) == Ok(Some((f.normalized(v), len)))`.

use super::codec::{Body, Ctx};
use super::packet::Packet;
use super::reader::Reader;
use super::splitter::{header_type, split_frame};
use super::types::{flags, PacketType};
use super::writer::RemainingLength;
use super::{DecodeError, MAX_VARINT_VALUE};

/// The flag bits of the header byte.
const FLAG_MASK: u8 = 0x0f;

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
        match self.packet {
            Packet::Connect(_) => PacketType::CONNECT,
            Packet::Connack(_) => PacketType::CONNACK,
            Packet::Send(_) => PacketType::SEND,
            Packet::Sendack(_) => PacketType::SENDACK,
            Packet::Recv(_) => PacketType::RECV,
            Packet::Recvack(_) => PacketType::RECVACK,
            Packet::Ping => PacketType::PING,
            Packet::Pong => PacketType::PONG,
            Packet::Disconnect(_) => PacketType::DISCONNECT,
            Packet::Sub(_) => PacketType::SUB,
            Packet::Suback(_) => PacketType::SUBACK,
            Packet::Event(_) => PacketType::EVENT,
        }
    }

    /// The low nibble written to the wire: `flags` masked to 4 bits, and for CONNACK bit 0
    /// (HasServerVersion) taken from `server_version.is_some()`.
    pub fn wire_flags(&self) -> u8 {
        let flags = self.flags & FLAG_MASK;
        match &self.packet {
            Packet::Connack(connack) => {
                let has_version = match connack.server_version {
                    Some(_) => flags::HAS_SERVER_VERSION,
                    None => 0,
                };
                (flags & !flags::HAS_SERVER_VERSION) | has_version
            }
            _ => flags,
        }
    }

    /// Byte 0 of the wire form: `type << 4 | wire_flags()`.
    pub fn first_byte(&self) -> u8 {
        (self.packet_type().0 << 4) | self.wire_flags()
    }

    /// Appends the wire form at protocol `version` (infallible: every field has a wire form;
    /// strings longer than MAX_STRING_LEN are truncated at a char boundary).
    pub fn encode(&self, version: u8, out: &mut Vec<u8>) {
        let first_byte = self.first_byte();
        out.push(first_byte);
        let ctx = Ctx {
            version,
            flags: first_byte & FLAG_MASK,
        };
        if let Packet::Ping | Packet::Pong = self.packet {
            return; // one byte, no length
        }
        let body = RemainingLength::new(out);
        encode_body(&self.packet, ctx, body.buf);
    }

    /// The wire form at `version` in a new buffer.
    pub fn to_bytes(&self, version: u8) -> Vec<u8> {
        let mut out = Vec::new();
        self.encode(version, &mut out);
        out
    }

    /// Decodes a body whose header byte is `first_byte` (as found by `split_frame`).
    /// Every byte of `body` must be consumed.
    ///
    /// # Errors
    /// `UnknownPacketType`, `FrameTooLarge` (a body over MAX_VARINT_VALUE, which no header
    /// can declare), and every body error: `Truncated`, `StringTooLong`, `InvalidUtf8`,
    /// `TrailingBytes`.
    pub fn decode(first_byte: u8, body: &[u8], version: u8) -> Result<Frame, DecodeError> {
        let packet_type = header_type(first_byte)?;
        if body.len() > MAX_VARINT_VALUE {
            return Err(DecodeError::FrameTooLarge {
                len: body.len(),
                max: MAX_VARINT_VALUE,
            });
        }
        let flags = first_byte & FLAG_MASK;
        let ctx = Ctx { version, flags };
        let mut r = Reader::new(body);
        let packet = match packet_type {
            PacketType::CONNECT => Packet::Connect(read_body(&mut r, ctx)?),
            PacketType::CONNACK => Packet::Connack(read_body(&mut r, ctx)?),
            PacketType::SEND => Packet::Send(read_body(&mut r, ctx)?),
            PacketType::SENDACK => Packet::Sendack(read_body(&mut r, ctx)?),
            PacketType::RECV => Packet::Recv(read_body(&mut r, ctx)?),
            PacketType::RECVACK => Packet::Recvack(read_body(&mut r, ctx)?),
            PacketType::PING => {
                r.finish("Ping")?;
                Packet::Ping
            }
            PacketType::PONG => {
                r.finish("Pong")?;
                Packet::Pong
            }
            PacketType::DISCONNECT => Packet::Disconnect(read_body(&mut r, ctx)?),
            PacketType::SUB => Packet::Sub(read_body(&mut r, ctx)?),
            PacketType::SUBACK => Packet::Suback(read_body(&mut r, ctx)?),
            PacketType::EVENT => Packet::Event(read_body(&mut r, ctx)?),
            other => return Err(DecodeError::UnknownPacketType(other.0)),
        };
        Ok(Frame { flags, packet })
    }

    /// Decodes the first frame of `buf`: `Ok(None)` if more bytes are needed, else the frame
    /// and the number of bytes it used (always <= buf.len()).
    ///
    /// # Errors
    /// Those of [`split_frame`] and [`Frame::decode`].
    pub fn read(
        buf: &[u8],
        version: u8,
        max_frame: usize,
    ) -> Result<Option<(Frame, usize)>, DecodeError> {
        let Some(bounds) = split_frame(buf, max_frame)? else {
            return Ok(None);
        };
        let mut r = Reader::new(buf);
        // split_frame returned bounds within buf, so these takes succeed.
        r.sub(bounds.header_len, "frame header")?;
        let body = r.sub(bounds.body_len, "frame body")?.rest();
        let frame = Frame::decode(bounds.first_byte, body, version)?;
        Ok(Some((frame, bounds.total_len())))
    }

    /// The frame a decode of `self.encode(version)` returns: version-gated fields set to
    /// `Some(default)` or `None` as the version and setting say, MessageSeq truncated to
    /// 32 bits below v6, over-long strings truncated, flags masked to 4 bits.
    pub fn normalized(self, version: u8) -> Frame {
        let flags = self.wire_flags();
        let ctx = Ctx { version, flags };
        let mut packet = match self.packet {
            Packet::Connect(p) => Packet::Connect(p.normalized(ctx)),
            Packet::Connack(p) => Packet::Connack(p.normalized(ctx)),
            Packet::Send(p) => Packet::Send(p.normalized(ctx)),
            Packet::Sendack(p) => Packet::Sendack(p.normalized(ctx)),
            Packet::Recv(p) => Packet::Recv(p.normalized(ctx)),
            Packet::Recvack(p) => Packet::Recvack(p.normalized(ctx)),
            Packet::Ping => Packet::Ping,
            Packet::Pong => Packet::Pong,
            Packet::Disconnect(p) => Packet::Disconnect(p.normalized(ctx)),
            Packet::Sub(p) => Packet::Sub(p.normalized(ctx)),
            Packet::Suback(p) => Packet::Suback(p.normalized(ctx)),
            Packet::Event(p) => Packet::Event(p.normalized(ctx)),
        };
        cap_payload(&mut packet, ctx, MAX_VARINT_VALUE);
        Frame { flags, packet }
    }
}

/// Reads one body and checks that nothing is left (fixed-layout packets; the others end
/// with a rest-of-body field and never leave anything).
fn read_body<B: Body>(r: &mut Reader<'_>, ctx: Ctx) -> Result<B, DecodeError> {
    let body = B::read(r, ctx)?;
    r.finish(B::NAME)?;
    Ok(body)
}

/// Appends the body of `packet` (nothing for PING/PONG).
fn encode_body(packet: &Packet, ctx: Ctx, out: &mut Vec<u8>) {
    match packet {
        Packet::Connect(p) => p.encode(ctx, out),
        Packet::Connack(p) => p.encode(ctx, out),
        Packet::Send(p) => p.encode(ctx, out),
        Packet::Sendack(p) => p.encode(ctx, out),
        Packet::Recv(p) => p.encode(ctx, out),
        Packet::Recvack(p) => p.encode(ctx, out),
        Packet::Ping | Packet::Pong => {}
        Packet::Disconnect(p) => p.encode(ctx, out),
        Packet::Sub(p) => p.encode(ctx, out),
        Packet::Suback(p) => p.encode(ctx, out),
        Packet::Event(p) => p.encode(ctx, out),
    }
}

/// The rest-of-body field (Payload/Data) of SEND, RECV and EVENT.
fn payload_mut(packet: &mut Packet) -> Option<&mut Vec<u8>> {
    match packet {
        Packet::Send(p) => Some(&mut p.payload),
        Packet::Recv(p) => Some(&mut p.payload),
        Packet::Event(p) => Some(&mut p.data),
        _ => None,
    }
}

/// Cuts Payload/Data so the whole body fits `max_body` bytes, as the `RemainingLength`
/// guard cuts it on encode (`max_body` is MAX_VARINT_VALUE outside tests).
fn cap_payload(packet: &mut Packet, ctx: Ctx, max_body: usize) {
    // Fields before the payload are at most 6 strings of 32769 bytes plus 38 bytes (RECV),
    // under 200 KB, far below half of MAX_VARINT_VALUE: a payload this short always fits.
    let short = |p: &Vec<u8>| p.len() <= max_body / 2;
    let Some(payload) = payload_mut(packet).filter(|p| !short(p)) else {
        return;
    };
    let mut payload = std::mem::take(payload);
    let mut prefix = Vec::new();
    encode_body(packet, ctx, &mut prefix);
    payload.truncate(max_body.saturating_sub(prefix.len()));
    if let Some(slot) = payload_mut(packet) {
        *slot = payload;
    }
}
