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
        #[cfg(feature = "planted-bugs")]
        let bounds = match crate::planted::enabled(crate::planted::Bug::Varint)
            .then(|| crate::planted::varint_decoder(buf, bounds.header_len))
            .flatten()
        {
            // The decoder's own header length wins, and the body moves with it.
            Some(header_len) if buf.len() < header_len + bounds.body_len => return Ok(None),
            Some(header_len) => super::splitter::FrameBounds {
                header_len,
                ..bounds
            },
            None => bounds,
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::packet::*;
    use crate::proto::types::{ChannelType, DeviceFlag, ReasonCode, Setting};
    use crate::proto::{DEFAULT_MAX_FRAME, MAX_STRING_LEN};

    /// Hex with any whitespace, as printed in wkproto.md section 7.
    fn unhex(s: &str) -> Vec<u8> {
        let compact: String = s.split_whitespace().collect();
        hex::decode(compact).expect("test vector is hex")
    }

    fn read_all(buf: &[u8], version: u8) -> Result<Option<(Frame, usize)>, DecodeError> {
        Frame::read(buf, version, usize::MAX)
    }

    /// The law of the codec: read(encode(f, v)) == normalized(f, v), using every byte, and
    /// a decoded frame is its own normal form.
    fn assert_round_trip(frame: &Frame, version: u8) {
        let bytes = frame.to_bytes(version);
        let expected = frame.clone().normalized(version);
        let decoded = read_all(&bytes, version);
        assert_eq!(
            decoded,
            Ok(Some((expected.clone(), bytes.len()))),
            "v{version} {frame:?}"
        );
        assert_eq!(expected.clone().normalized(version), expected, "v{version}");
        // And the normal form encodes to the same bytes.
        assert_eq!(expected.to_bytes(version), bytes, "v{version}");
    }

    // ---- wkproto.md section 7 vectors -------------------------------------------------

    fn connect_v4() -> Frame {
        Frame::new(Packet::Connect(Connect {
            version: 4,
            device_flag: DeviceFlag::APP,
            device_id: "dev1".into(),
            uid: "u1".into(),
            token: "tok".into(),
            client_timestamp: 1_700_000_000_000,
            client_key: "B6N8vBQgk8i3VdwbEOhstCY3StFqqFPtC9/AsrhtHHw=".into(),
        }))
    }

    fn connack_v4() -> Frame {
        Frame {
            flags: flags::HAS_SERVER_VERSION,
            packet: Packet::Connack(Connack {
                server_version: Some(4),
                time_diff: -5,
                reason: ReasonCode::SUCCESS,
                server_key: "WGmv9FBUlzLLqu1eXfmzCm2jHLDldCutWtShp2jxpns=".into(),
                salt: "abcdef1234567890".into(),
                node_id: Some(1001),
            }),
        }
    }

    fn send_v4_red_dot() -> Frame {
        Frame {
            flags: flags::RED_DOT,
            packet: Packet::Send(Send {
                setting: Setting(0),
                client_seq: 7,
                client_msg_no: "m1".into(),
                stream_no: None,
                channel_id: "u2".into(),
                channel_type: ChannelType::PERSON,
                expire: Some(0),
                msg_key: "4045dd94e0f22fbb3cce7ffa150e38b5".into(),
                topic: None,
                payload: b"ciphertext".to_vec(),
            }),
        }
    }

    fn sendack() -> Frame {
        Frame::new(Packet::Sendack(Sendack {
            message_id: 99,
            client_seq: 7,
            message_seq: 8,
            reason: ReasonCode::SUCCESS,
        }))
    }

    fn recvack() -> Frame {
        Frame::new(Packet::Recvack(Recvack {
            message_id: 99,
            message_seq: 8,
        }))
    }

    fn disconnect() -> Frame {
        Frame::new(Packet::Disconnect(Disconnect {
            reason: ReasonCode::CONNECT_KICK,
            reason_text: "login in other device".into(),
        }))
    }

    fn vectors() -> Vec<(&'static str, Frame, u8, Vec<u8>)> {
        let mut disconnect_hex = unhex("90 18 0c 00 15");
        disconnect_hex.extend_from_slice(b"login in other device");
        vec![
            (
                "CONNECT v4",
                connect_v4(),
                4,
                unhex(
                    "10 47 04 00 00 04 64 65 76 31 00 02 75 31 00 03 74 6f 6b 00 00 01 8b cf e5 68 00
                     00 2c 42 36 4e 38 76 42 51 67 6b 38 69 33 56 64 77 62 45 4f 68 73 74 43 59 33 53
                     74 46 71 71 46 50 74 43 39 2f 41 73 72 68 74 48 48 77 3d",
                ),
            ),
            (
                "CONNACK v4 (SV)",
                connack_v4(),
                4,
                unhex(
                    "21 52 04 ff ff ff ff ff ff ff fb 01 00 2c 57 47 6d 76 39 46 42 55 6c 7a 4c 4c 71 75
                     31 65 58 66 6d 7a 43 6d 32 6a 48 4c 44 6c 64 43 75 74 57 74 53 68 70 32 6a 78 70
                     6e 73 3d 00 10 61 62 63 64 65 66 31 32 33 34 35 36 37 38 39 30 00 00 00 00 00 00
                     03 e9",
                ),
            ),
            (
                "SEND v4 RedDot",
                send_v4_red_dot(),
                4,
                unhex(
                    "32 3e 00 00 00 00 07 00 02 6d 31 00 02 75 32 01 00 00 00 00 00 20 34 30 34 35 64 64
                     39 34 65 30 66 32 32 66 62 62 33 63 63 65 37 66 66 61 31 35 30 65 33 38 62 35 63 69
                     70 68 65 72 74 65 78 74",
                ),
            ),
            (
                "SENDACK",
                sendack(),
                4,
                unhex("40 11 00 00 00 00 00 00 00 63 00 00 00 07 00 00 00 08 01"),
            ),
            (
                "RECVACK",
                recvack(),
                4,
                unhex("60 0c 00 00 00 00 00 00 00 63 00 00 00 08"),
            ),
            ("PING", Frame::new(Packet::Ping), 4, vec![0x70]),
            ("PONG", Frame::new(Packet::Pong), 4, vec![0x80]),
            ("DISCONNECT", disconnect(), 4, disconnect_hex),
        ]
    }

    #[test]
    fn spec_vectors_encode_exactly_and_decode_back() {
        for (name, frame, version, bytes) in vectors() {
            assert_eq!(frame.to_bytes(version), bytes, "{name} encode");
            assert_eq!(
                read_all(&bytes, version),
                Ok(Some((frame.clone(), bytes.len()))),
                "{name} decode"
            );
            assert_round_trip(&frame, version);
        }
    }

    #[test]
    fn version_independent_vectors_hold_at_v2_to_v5() {
        // SENDACK, RECVACK, PING, PONG and DISCONNECT have no gated field below v6.
        for (name, frame, _, bytes) in vectors() {
            if matches!(frame.packet, Packet::Connack(_) | Packet::Send(_)) {
                continue;
            }
            for version in 2..=5 {
                assert_eq!(frame.to_bytes(version), bytes, "{name} v{version}");
            }
        }
    }

    #[test]
    fn vectors_can_be_read_back_to_back() {
        let mut stream = Vec::new();
        let frames: Vec<Frame> = vectors().into_iter().map(|(_, f, _, _)| f).collect();
        for frame in &frames {
            frame.encode(4, &mut stream);
        }
        let mut rest = stream.as_slice();
        for frame in &frames {
            let (decoded, used) = Frame::read(rest, 4, DEFAULT_MAX_FRAME)
                .expect("valid")
                .expect("complete");
            assert_eq!(&decoded, frame);
            rest = rest.get(used..).expect("used <= len");
        }
        assert!(rest.is_empty());
    }

    // ---- incomplete input ------------------------------------------------------------

    #[test]
    fn every_strict_prefix_of_a_frame_is_incomplete() {
        for (name, _, version, bytes) in vectors() {
            for len in 0..bytes.len() {
                let prefix = bytes.get(..len).expect("len < bytes.len()");
                assert_eq!(read_all(prefix, version), Ok(None), "{name} prefix {len}");
            }
        }
    }

    // ---- decoder error paths ---------------------------------------------------------

    /// One frame of every type with a body, every gated field on at `version`, and an
    /// empty payload, so that every strict prefix of the body misses a field.
    fn fixed_bodies(version: u8) -> Vec<Frame> {
        let all = Setting(Setting::STREAM | Setting::TOPIC);
        vec![
            connect_v4(),
            connack_v4(),
            Frame::new(Packet::Connack(Connack::default())),
            Frame::new(Packet::Send(Send {
                setting: all,
                ..Send::default()
            })),
            sendack(),
            Frame::new(Packet::Recv(Recv {
                setting: all,
                ..Recv::default()
            })),
            recvack(),
            disconnect(),
            Frame::new(Packet::Sub(Sub::default())),
            Frame::new(Packet::Suback(Suback::default())),
            Frame::new(Packet::Event(Event::default())),
        ]
        .into_iter()
        .map(|f| f.normalized(version))
        .collect()
    }

    #[test]
    fn truncated_body_for_each_packet_type() {
        for version in 2..=6 {
            for frame in fixed_bodies(version) {
                let bytes = frame.to_bytes(version);
                let first = frame.first_byte();
                let body = bytes.get(2..).expect("short body, 1-byte varint");
                assert_eq!(
                    Frame::decode(first, body, version),
                    Ok(frame.clone()),
                    "v{version}"
                );
                for len in 0..body.len() {
                    let cut = body.get(..len).expect("len < body.len()");
                    let err = Frame::decode(first, cut, version);
                    assert!(
                        matches!(err, Err(DecodeError::Truncated { .. })),
                        "v{version} {:?} cut at {len}: {err:?}",
                        frame.packet_type()
                    );
                }
            }
        }
    }

    const RECV_WITHOUT_TOPIC: [u8; 30] = {
        let mut body = [0u8; 30];
        body[0] = Setting::TOPIC;
        body[7] = 1;
        body
    };

    #[test]
    fn truncated_names_packet_and_field() {
        let cases: [(u8, &[u8], &str); 12] = [
            (0x10, &[4, 0, 0, 1], "Connect.device_id"),
            (0x21, &[], "Connack.server_version"),
            (0x20, &[0; 9], "Connack.server_key"),
            (0x30, &[0, 0, 0, 0, 0, 0, 0, 0, 0, 1], "Send.expire"),
            (0x40, &[0; 12], "Sendack.message_seq"),
            (
                0x50,
                &[0x02, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0],
                "Recv.stream.flag",
            ),
            (0x60, &[0; 7], "Recvack.message_id"),
            (0x90, &[], "Disconnect.reason"),
            (0xa0, &[0, 0, 0, 0, 0, 0], "Sub.action"),
            (0xb0, &[0, 0, 0, 0, 1, 0], "Suback.reason"),
            (0xc0, &[0, 0, 0, 0, 1], "Event.timestamp"),
            // setting, 3 empty strings, type, expire, empty ClientMsgNo, id, seq, timestamp.
            (0x50, &RECV_WITHOUT_TOPIC, "Recv.topic"),
        ];
        for (first, body, what) in cases {
            assert_eq!(
                Frame::decode(first, body, 4),
                Err(DecodeError::Truncated { what }),
                "{what}"
            );
        }
    }

    #[test]
    fn string_length_above_32767_is_an_error() {
        for (len, hi, lo) in [(0x8000u16, 0x80, 0x00), (0xffff, 0xff, 0xff)] {
            let buf = [0x90, 0x05, 0x0c, hi, lo, b'a', b'b'];
            assert_eq!(
                read_all(&buf, 4),
                Err(DecodeError::StringTooLong {
                    what: "Disconnect.reason_text",
                    len
                })
            );
            // Also in the middle of a packet.
            let body = [0x00, 0, 0, 0, 7, hi, lo];
            assert_eq!(
                Frame::decode(0x30, &body, 4),
                Err(DecodeError::StringTooLong {
                    what: "Send.client_msg_no",
                    len
                })
            );
        }
    }

    #[test]
    fn invalid_utf8_is_an_error() {
        let buf = [0x90, 0x05, 0x0c, 0x00, 0x02, 0xc3, 0x28];
        assert_eq!(
            read_all(&buf, 4),
            Err(DecodeError::InvalidUtf8 {
                what: "Disconnect.reason_text"
            })
        );
        let body = [0, 1, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(
            Frame::decode(0xc0, &body, 4),
            Err(DecodeError::InvalidUtf8 { what: "Event.id" })
        );
    }

    #[test]
    fn four_continuation_bytes_are_malformed() {
        assert_eq!(
            read_all(&[0x30, 0x80, 0x80, 0x80, 0x80, 0x00], 4),
            Err(DecodeError::VarintTooLong)
        );
    }

    #[test]
    fn unknown_packet_types() {
        for ty in [0u8, 13, 14, 15] {
            let first = ty << 4;
            assert_eq!(
                read_all(&[first], 4),
                Err(DecodeError::UnknownPacketType(ty))
            );
            assert_eq!(
                Frame::decode(first | 0x3, &[1, 2], 4),
                Err(DecodeError::UnknownPacketType(ty))
            );
        }
    }

    #[test]
    fn trailing_bytes_after_fixed_layouts() {
        let mut buf = unhex("40 12 00 00 00 00 00 00 00 63 00 00 00 07 00 00 00 08 01 ff");
        assert_eq!(
            read_all(&buf, 4),
            Err(DecodeError::TrailingBytes {
                what: "Sendack",
                extra: 1
            })
        );
        buf = recvack().to_bytes(6);
        assert_eq!(buf.len(), 2 + 16);
        // A v6 RECVACK read at v5: the high half of the seq is left over.
        assert_eq!(
            read_all(&buf, 5),
            Err(DecodeError::TrailingBytes {
                what: "Recvack",
                extra: 4
            })
        );
        // And a v5 one read at v6 is short.
        assert_eq!(
            read_all(&recvack().to_bytes(5), 6),
            Err(DecodeError::Truncated {
                what: "Recvack.message_seq"
            })
        );
        for frame in fixed_bodies(4) {
            if matches!(
                frame.packet,
                Packet::Send(_) | Packet::Recv(_) | Packet::Event(_)
            ) {
                continue; // their last field is the rest of the body
            }
            let mut body = frame.to_bytes(4).split_off(2);
            body.extend_from_slice(&[0, 0, 0]);
            let err = Frame::decode(frame.first_byte(), &body, 4);
            assert!(
                matches!(err, Err(DecodeError::TrailingBytes { extra: 3, .. })),
                "{err:?}"
            );
        }
        assert_eq!(
            Frame::decode(0x70, &[0], 4),
            Err(DecodeError::TrailingBytes {
                what: "Ping",
                extra: 1
            })
        );
        assert_eq!(
            Frame::decode(0x80, &[0, 0], 4),
            Err(DecodeError::TrailingBytes {
                what: "Pong",
                extra: 2
            })
        );
    }

    #[test]
    fn frame_over_limit_is_detected_from_the_header_alone() {
        assert_eq!(
            Frame::read(&[0x30, 0xff, 0xff, 0x7f], 4, DEFAULT_MAX_FRAME),
            Err(DecodeError::FrameTooLarge {
                len: 2_097_151,
                max: DEFAULT_MAX_FRAME
            })
        );
        let bytes = send_v4_red_dot().to_bytes(4);
        assert_eq!(
            Frame::read(&bytes, 4, 0x3d),
            Err(DecodeError::FrameTooLarge {
                len: 0x3e,
                max: 0x3d
            })
        );
        assert!(matches!(Frame::read(&bytes, 4, 0x3e), Ok(Some(_))));
    }

    #[test]
    fn ping_pong_keep_their_flags() {
        for first in [0x7fu8, 0x81] {
            let (frame, used) = read_all(&[first, 0x10], 4).expect("ok").expect("complete");
            assert_eq!(used, 1);
            assert_eq!(frame.flags, first & 0x0f);
            assert_eq!(frame.to_bytes(4), [first]);
        }
    }

    #[test]
    fn zero_length_body_reads_as_empty() {
        assert_eq!(
            read_all(&[0x90, 0x00], 4),
            Err(DecodeError::Truncated {
                what: "Disconnect.reason"
            })
        );
    }

    // ---- version gating --------------------------------------------------------------

    fn body_len(frame: &Frame, version: u8) -> usize {
        let bytes = frame.to_bytes(version);
        let (_, used) = read_all(&bytes, version).expect("ok").expect("complete");
        assert_eq!(used, bytes.len());
        let bounds = split_frame(&bytes, usize::MAX)
            .expect("ok")
            .expect("complete");
        bounds.body_len
    }

    fn decoded(frame: &Frame, version: u8) -> Packet {
        let bytes = frame.to_bytes(version);
        read_all(&bytes, version)
            .expect("ok")
            .expect("complete")
            .0
            .packet
    }

    #[test]
    fn send_gating_by_version() {
        let send = Frame::new(Packet::Send(Send {
            setting: Setting(Setting::STREAM | Setting::TOPIC),
            client_seq: 1,
            client_msg_no: "m".into(),
            stream_no: Some("s1".into()),
            channel_id: "c".into(),
            channel_type: ChannelType::GROUP,
            expire: Some(60),
            msg_key: "k".into(),
            topic: Some("t".into()),
            payload: b"p".to_vec(),
        }));
        // setting 1 + seq 4 + msgno 3 + channel 3 + type 1 + key 3 + topic 3 + payload 1.
        let base = 19;
        let stream = 4; // "s1"
        let expire = 4;
        assert_eq!(body_len(&send, 2), base + stream);
        assert_eq!(body_len(&send, 3), base + stream + expire);
        assert_eq!(body_len(&send, 4), base + stream + expire);
        assert_eq!(body_len(&send, 5), base + expire);
        assert_eq!(body_len(&send, 6), base + expire);
        let Packet::Send(v2) = decoded(&send, 2) else {
            panic!("SEND")
        };
        assert_eq!((v2.stream_no.as_deref(), v2.expire), (Some("s1"), None));
        assert_eq!(v2.topic.as_deref(), Some("t"));
        let Packet::Send(v5) = decoded(&send, 5) else {
            panic!("SEND")
        };
        assert_eq!((v5.stream_no, v5.expire), (None, Some(60)));
        // Without the Stream/Topic bits, neither field travels at any version.
        let mut plain = send.clone();
        if let Packet::Send(s) = &mut plain.packet {
            s.setting = Setting(0);
        }
        assert_eq!(body_len(&plain, 2), base - 3);
        assert_eq!(body_len(&plain, 4), base - 3 + expire);
        // The old Stream bit 0x04 means nothing now.
        if let Packet::Send(s) = &mut plain.packet {
            s.setting = Setting(0x04);
        }
        assert_eq!(body_len(&plain, 2), base - 3);
    }

    #[test]
    fn recv_gating_by_version() {
        let recv = Frame::new(Packet::Recv(Recv {
            setting: Setting(Setting::STREAM),
            msg_key: "k".into(),
            from_uid: "u".into(),
            channel_id: "c".into(),
            channel_type: ChannelType::PERSON,
            expire: Some(9),
            client_msg_no: "m".into(),
            stream: Some(RecvStream {
                flag: 1,
                no: "sn".into(),
                id: 77,
            }),
            message_id: 5,
            message_seq: 0x1_0000_0002,
            timestamp: 1_700_000_000,
            topic: None,
            payload: b"pp".to_vec(),
        }));
        // setting 1 + 4 strings of 3 + type 1 + id 8 + seq 4 + ts 4 + payload 2.
        let base = 32;
        let stream = 1 + 4 + 8;
        assert_eq!(body_len(&recv, 2), base + stream);
        assert_eq!(body_len(&recv, 3), base + 4 + stream);
        assert_eq!(body_len(&recv, 4), base + 4 + stream);
        assert_eq!(body_len(&recv, 5), base + 4);
        assert_eq!(body_len(&recv, 6), base + 4 + 4);
        let Packet::Recv(v4) = decoded(&recv, 4) else {
            panic!("RECV")
        };
        assert_eq!(v4.stream.as_ref().map(|s| s.id), Some(77));
        assert_eq!(v4.message_seq, 2, "low 32 bits below v6");
        let Packet::Recv(v6) = decoded(&recv, 6) else {
            panic!("RECV")
        };
        assert_eq!((v6.stream, v6.message_seq), (None, 0x1_0000_0002));
    }

    #[test]
    fn connack_gating_by_version_and_flag() {
        let mut connack = connack_v4();
        // 8 + 1 + 46 + 18 = 73 without the optional fields.
        assert_eq!(body_len(&connack, 2), 73 + 1);
        assert_eq!(body_len(&connack, 3), 73 + 1);
        assert_eq!(body_len(&connack, 4), 73 + 1 + 8);
        assert_eq!(body_len(&connack, 5), 73 + 1 + 8);
        assert_eq!(body_len(&connack, 6), 73 + 1 + 8);
        // The flag follows server_version, whatever `flags` says.
        connack.flags = 0;
        assert_eq!(connack.to_bytes(4).first(), Some(&0x21));
        if let Packet::Connack(c) = &mut connack.packet {
            c.server_version = None;
        }
        connack.flags = 0x0f;
        let bytes = connack.to_bytes(2);
        assert_eq!(bytes.first(), Some(&0x2e));
        assert_eq!(body_len(&connack, 2), 73);
        assert_eq!(body_len(&connack, 4), 73 + 8);
        // What the JS SDK (v2) reads: TimeDiff, ReasonCode, ServerKey, Salt, nothing else.
        let Packet::Connack(v2) = decoded(&connack, 2) else {
            panic!("CONNACK")
        };
        assert_eq!((v2.server_version, v2.node_id), (None, None));
        let Packet::Connack(v4) = decoded(&connack, 4) else {
            panic!("CONNACK")
        };
        assert_eq!(v4.node_id, Some(1001));
    }

    #[test]
    fn sendack_and_recvack_seq_width_by_version() {
        let mut ack = sendack();
        if let Packet::Sendack(s) = &mut ack.packet {
            s.message_seq = 0xdead_beef_0000_0008;
        }
        for version in 2..=5 {
            assert_eq!(body_len(&ack, version), 17);
            assert_eq!(ack.to_bytes(version), sendack().to_bytes(version));
        }
        assert_eq!(body_len(&ack, 6), 21);
        assert_eq!(
            ack.to_bytes(6),
            unhex("40 15 00 00 00 00 00 00 00 63 00 00 00 07 de ad be ef 00 00 00 08 01")
        );
        assert_eq!(body_len(&recvack(), 5), 12);
        assert_eq!(body_len(&recvack(), 6), 16);
    }

    // ---- round trips through normalized() --------------------------------------------

    /// Hand-built frames of every type, with gated fields both set and unset, flags out of
    /// range, seqs above 32 bits and strings over the limit.
    fn samples() -> Vec<Frame> {
        let long_ascii = "x".repeat(MAX_STRING_LEN + 3);
        let long_multibyte = "é".repeat(MAX_STRING_LEN / 2 + 1); // 32768 bytes
        let big_seq = 0xffff_ffff_ffff_fffe;
        let mut frames = vectors()
            .into_iter()
            .map(|(_, f, _, _)| f)
            .collect::<Vec<_>>();
        frames.extend([
            Frame {
                flags: 0xff,
                packet: Packet::Ping,
            },
            Frame {
                flags: 0x13,
                packet: Packet::Pong,
            },
            Frame {
                flags: 0xfe,
                packet: Packet::Connect(Connect {
                    version: 255,
                    device_flag: DeviceFlag(200),
                    device_id: long_multibyte.clone(),
                    uid: "ü".into(),
                    token: long_ascii.clone(),
                    client_timestamp: i64::MIN,
                    client_key: String::new(),
                }),
            },
            Frame {
                flags: 0x0e,
                packet: Packet::Connack(Connack {
                    server_version: Some(0),
                    time_diff: i64::MAX,
                    reason: ReasonCode(250),
                    server_key: long_ascii.clone(),
                    salt: "😀".repeat(9000),
                    node_id: None,
                }),
            },
            Frame {
                flags: 0x01,
                packet: Packet::Connack(Connack {
                    server_version: None,
                    node_id: Some(u64::MAX),
                    ..Connack::default()
                }),
            },
            Frame::new(Packet::Send(Send {
                setting: Setting(0xff),
                client_seq: u32::MAX,
                client_msg_no: long_multibyte.clone(),
                stream_no: None,
                channel_id: "g".into(),
                channel_type: ChannelType(0),
                expire: None,
                msg_key: long_ascii.clone(),
                topic: Some(long_multibyte.clone()),
                payload: vec![0; 70_000],
            })),
            Frame::new(Packet::Send(Send {
                setting: Setting(0),
                stream_no: Some("never sent".into()),
                expire: Some(u32::MAX),
                topic: Some("never sent".into()),
                ..Send::default()
            })),
            Frame {
                flags: flags::DUP | flags::SYNC_ONCE,
                packet: Packet::Sendack(Sendack {
                    message_id: i64::MIN,
                    client_seq: 3,
                    message_seq: big_seq,
                    reason: ReasonCode::PAYLOAD_DECODE_ERROR,
                }),
            },
            Frame::new(Packet::Recv(Recv {
                setting: Setting(Setting::STREAM | Setting::TOPIC | Setting::NO_ENCRYPT),
                msg_key: "k".into(),
                from_uid: long_ascii.clone(),
                channel_id: "c".into(),
                channel_type: ChannelType::GROUP,
                expire: Some(1),
                client_msg_no: "m".into(),
                stream: Some(RecvStream {
                    flag: 9,
                    no: long_multibyte.clone(),
                    id: u64::MAX,
                }),
                message_id: -1,
                message_seq: big_seq,
                timestamp: i32::MIN,
                topic: None,
                payload: b"plain text".to_vec(),
            })),
            Frame::new(Packet::Recv(Recv {
                setting: Setting(Setting::STREAM),
                ..Recv::default()
            })),
            Frame::new(Packet::Recv(Recv {
                setting: Setting(0),
                stream: Some(RecvStream::default()),
                topic: Some("t".into()),
                ..Recv::default()
            })),
            Frame::new(Packet::Recvack(Recvack {
                message_id: 1,
                message_seq: big_seq,
            })),
            Frame {
                flags: 0x0f,
                packet: Packet::Disconnect(Disconnect {
                    reason: ReasonCode(255),
                    reason_text: long_multibyte.clone(),
                }),
            },
            Frame::new(Packet::Sub(Sub {
                setting: Setting(0x80),
                sub_no: "1".into(),
                channel_id: "live".into(),
                channel_type: ChannelType::LIVE,
                action: 1,
                param: long_ascii.clone(),
            })),
            Frame::new(Packet::Sub(Sub::default())),
            Frame::new(Packet::Suback(Suback {
                sub_no: long_multibyte.clone(),
                channel_id: "live".into(),
                channel_type: ChannelType::LIVE,
                action: 0,
                reason: ReasonCode::SUCCESS,
            })),
            Frame::new(Packet::Event(Event {
                id: "e1".into(),
                event_type: long_ascii,
                timestamp: -7,
                data: vec![0xff; 300],
            })),
            Frame::new(Packet::Event(Event::default())),
        ]);
        frames
    }

    #[test]
    fn samples_cover_every_packet_type() {
        let mut seen: Vec<u8> = samples().iter().map(|f| f.packet_type().0).collect();
        seen.sort_unstable();
        seen.dedup();
        assert_eq!(seen, (1..=12).collect::<Vec<u8>>());
    }

    #[test]
    fn round_trip_at_supported_versions() {
        for frame in samples() {
            for version in 2..=6 {
                assert_round_trip(&frame, version);
            }
        }
    }

    #[test]
    fn round_trip_at_every_version_byte() {
        for frame in samples() {
            for version in (0..=255u8).filter(|v| !(2..=6).contains(v)) {
                assert_round_trip(&frame, version);
            }
        }
    }

    #[test]
    fn normalized_fills_and_clears_gated_fields() {
        let send = Frame::new(Packet::Send(Send {
            setting: Setting(Setting::STREAM),
            ..Send::default()
        }));
        let Packet::Send(v2) = send.clone().normalized(2).packet else {
            panic!("SEND")
        };
        assert_eq!(
            (v2.stream_no, v2.expire, v2.topic),
            (Some(String::new()), None, None)
        );
        let Packet::Send(v6) = send.normalized(6).packet else {
            panic!("SEND")
        };
        assert_eq!((v6.stream_no, v6.expire, v6.topic), (None, Some(0), None));
        let connack = Frame {
            flags: 0x0f,
            packet: Packet::Connack(Connack::default()),
        };
        let normal = connack.normalized(4);
        assert_eq!(normal.flags, 0x0e);
        let Packet::Connack(c) = normal.packet else {
            panic!("CONNACK")
        };
        assert_eq!((c.server_version, c.node_id), (None, Some(0)));
    }

    #[test]
    fn payload_is_capped_to_the_largest_body() {
        // The real limit is MAX_VARINT_VALUE (256 MiB); check the arithmetic on a small one.
        let mut packet = Packet::Send(Send {
            client_msg_no: "m".into(),
            payload: vec![1; 1000],
            ..Send::default()
        });
        let ctx = Ctx {
            version: 4,
            flags: 0,
        };
        cap_payload(&mut packet, ctx, 600);
        let mut body = Vec::new();
        encode_body(&packet, ctx, &mut body);
        assert_eq!(body.len(), 600);
        // Short payloads are left alone.
        let before = packet.clone();
        cap_payload(&mut packet, ctx, 10_000);
        assert_eq!(packet, before);
        let mut ping = Packet::Ping;
        cap_payload(&mut ping, ctx, 0);
        assert_eq!(ping, Packet::Ping);
    }

    #[test]
    fn decode_refuses_bodies_no_header_can_declare() {
        let body = vec![0u8; MAX_VARINT_VALUE + 1];
        assert_eq!(
            Frame::decode(0xc0, &body, 4),
            Err(DecodeError::FrameTooLarge {
                len: MAX_VARINT_VALUE + 1,
                max: MAX_VARINT_VALUE
            })
        );
    }

    // ---- seeded random checks of the same laws ---------------------------------------

    #[test]
    fn arbitrary_frames_round_trip() {
        use rand::{RngCore, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0x5eed);
        let mut raw = vec![0u8; 512];
        for _ in 0..3000 {
            rng.fill_bytes(&mut raw);
            let mut u = arbitrary::Unstructured::new(&raw);
            let Ok(frame) = u.arbitrary::<Frame>() else {
                continue;
            };
            let version = (rng.next_u32() % 9) as u8;
            assert_round_trip(&frame, version);
        }
    }

    #[test]
    fn random_bytes_decode_to_normal_frames_that_re_encode() {
        use rand::{Rng, RngCore, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(0xb17e5);
        let mut accepted = 0;
        for _ in 0..20_000 {
            let len = rng.gen_range(1..64usize);
            let mut buf = vec![0u8; len];
            rng.fill_bytes(&mut buf);
            // Bias towards plausible headers: a valid type and a short, minimal length.
            if let Some(first) = buf.first_mut() {
                *first = (rng.gen_range(1..=12u8) << 4) | (*first & 0x0f);
            }
            if let Some(len_byte) = buf.get_mut(1) {
                *len_byte = rng.gen_range(0..(len as u8).max(1));
            }
            let version = rng.gen_range(0..=7u8);
            let Ok(Some((frame, used))) = Frame::read(&buf, version, DEFAULT_MAX_FRAME) else {
                continue;
            };
            accepted += 1;
            assert!(used <= buf.len());
            assert_eq!(frame.clone().normalized(version), frame);
            // The length byte is minimal here, so decode -> encode is the identity.
            assert_eq!(Some(frame.to_bytes(version).as_slice()), buf.get(..used));
        }
        assert!(accepted > 100, "only {accepted} accepted");
    }
}
