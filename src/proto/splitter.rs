//! The one place frame boundaries are computed. Upstream had two decoders that disagreed
//! on a 4-byte varint with the continuation bit set (5 vs 4 bytes consumed); here the session,
//! the decoder and the fuzz targets all call [`split_frame`].

use super::types::PacketType;
use super::{varint, DecodeError};

/// Where a frame sits at the start of a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FrameBounds {
    /// Byte 0: type << 4 | flags.
    pub first_byte: u8,
    /// 1 for PING/PONG, else 1 + varint length bytes.
    pub header_len: usize,
    /// Declared body length (0 for PING/PONG); <= max_frame.
    pub body_len: usize,
}

impl FrameBounds {
    /// header_len + body_len (cannot overflow for bounds from [`split_frame`]: header_len
    /// <= 5 and body_len <= MAX_VARINT_VALUE; saturates for hand-made ones).
    pub fn total_len(&self) -> usize {
        self.header_len.saturating_add(self.body_len)
    }
}

/// Finds the frame at the start of `buf`. `Ok(None)`: need more bytes (the header itself is
/// incomplete, or the body is). Errors as soon as they are knowable: unknown packet type from
/// byte 0, a malformed varint, or a declared length above `max_frame` (before the body
/// arrives, so nothing is buffered past the header).
///
/// # Errors
/// `UnknownPacketType` (type 0 or 13..=15), `VarintTooLong`, `FrameTooLarge`.
pub fn split_frame(buf: &[u8], max_frame: usize) -> Result<Option<FrameBounds>, DecodeError> {
    let Some(bounds) = frame_header(buf, max_frame)? else {
        return Ok(None);
    };
    Ok((buf.len() >= bounds.total_len()).then_some(bounds))
}

/// Reads the header of the frame at the start of `buf`: its bounds as soon as the header is
/// complete, whether or not the body has arrived (`Ok(None)`: the header is incomplete).
/// Same checks and errors as [`split_frame`], which is this plus "the body is all there".
///
/// # Errors
/// `UnknownPacketType` (type 0 or 13..=15), `VarintTooLong`, `FrameTooLarge`.
pub fn frame_header(buf: &[u8], max_frame: usize) -> Result<Option<FrameBounds>, DecodeError> {
    let Some((&first_byte, after_first)) = buf.split_first() else {
        return Ok(None);
    };
    match header_type(first_byte)? {
        // PING and PONG are the header byte alone (flag bits allowed), no length.
        PacketType::PING | PacketType::PONG => {
            return Ok(Some(FrameBounds {
                first_byte,
                header_len: 1,
                body_len: 0,
            }))
        }
        _ => {}
    }
    #[cfg(feature = "planted-bugs")]
    let planted = if crate::planted::enabled(crate::planted::Bug::Varint) {
        crate::planted::varint_splitter(after_first)
    } else {
        None
    };
    #[cfg(not(feature = "planted-bugs"))]
    let planted = None;
    let Some((body_len, varint_len)) =
        planted.map_or_else(|| varint::read(after_first), |p| Ok(Some(p)))?
    else {
        return Ok(None);
    };
    // Checked before a single body byte is buffered (wkproto.md section 1).
    if body_len > max_frame {
        return Err(DecodeError::FrameTooLarge {
            len: body_len,
            max: max_frame,
        });
    }
    Ok(Some(FrameBounds {
        first_byte,
        header_len: varint_len.saturating_add(1),
        body_len,
    }))
}

/// The packet type in a header byte.
///
/// # Errors
/// `UnknownPacketType` for 0 and 13..=15.
pub(crate) fn header_type(first_byte: u8) -> Result<PacketType, DecodeError> {
    let packet_type = PacketType(first_byte >> 4);
    match packet_type.name() {
        Some(_) => Ok(packet_type),
        None => Err(DecodeError::UnknownPacketType(packet_type.0)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::DEFAULT_MAX_FRAME;

    fn split(buf: &[u8]) -> Result<Option<FrameBounds>, DecodeError> {
        split_frame(buf, DEFAULT_MAX_FRAME)
    }

    #[test]
    fn ping_and_pong_are_one_byte_with_flags_kept() {
        for b in [0x70, 0x7f, 0x80, 0x85] {
            let expected = FrameBounds {
                first_byte: b,
                header_len: 1,
                body_len: 0,
            };
            assert_eq!(split(&[b]), Ok(Some(expected)));
            // Whatever follows belongs to the next frame.
            assert_eq!(split(&[b, 0xff, 0xff]), Ok(Some(expected)));
            assert_eq!(expected.total_len(), 1);
        }
    }

    #[test]
    fn the_header_alone_gives_the_bounds_the_whole_frame_is_needed_to_split() {
        // A RECVACK header declaring 200 body bytes, 3 of them here.
        let buf = [0x60, 0xc8, 0x01, 1, 2, 3];
        let want = FrameBounds {
            first_byte: 0x60,
            header_len: 3,
            body_len: 200,
        };
        assert_eq!(frame_header(&buf, DEFAULT_MAX_FRAME), Ok(Some(want)));
        assert_eq!(split(&buf), Ok(None));
        assert_eq!(frame_header(&buf[..2], DEFAULT_MAX_FRAME), Ok(None));
        assert_eq!(
            frame_header(&buf, 199),
            Err(DecodeError::FrameTooLarge { len: 200, max: 199 })
        );
    }

    #[test]
    fn unknown_types_fail_on_byte_zero() {
        for ty in [0u8, 13, 14, 15] {
            for flags in [0u8, 0x0f] {
                assert_eq!(
                    split(&[ty << 4 | flags]),
                    Err(DecodeError::UnknownPacketType(ty))
                );
            }
        }
    }

    #[test]
    fn incomplete_header_or_body_is_none() {
        assert_eq!(split(&[]), Ok(None));
        assert_eq!(split(&[0x30]), Ok(None));
        assert_eq!(split(&[0x30, 0x80]), Ok(None));
        assert_eq!(split(&[0x30, 0x80, 0x80, 0x80]), Ok(None));
        assert_eq!(split(&[0x60, 0x0c]), Ok(None));
        assert_eq!(
            split(&[0x60, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0x63, 0, 0, 0]),
            Ok(None)
        );
    }

    #[test]
    fn complete_frame_bounds() {
        let buf = [0x60, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0x63, 0, 0, 0, 8, 0x70];
        let bounds = FrameBounds {
            first_byte: 0x60,
            header_len: 2,
            body_len: 12,
        };
        assert_eq!(split(&buf), Ok(Some(bounds)));
        assert_eq!(bounds.total_len(), 14);
        // Zero length is read as zero (the body decoder then reports what is missing).
        assert_eq!(
            split(&[0x90, 0x00]),
            Ok(Some(FrameBounds {
                first_byte: 0x90,
                header_len: 2,
                body_len: 0
            }))
        );
    }

    #[test]
    fn four_continuation_bytes_are_malformed() {
        assert_eq!(
            split(&[0x30, 0xff, 0xff, 0xff, 0xff, 0x7f]),
            Err(DecodeError::VarintTooLong)
        );
        assert_eq!(
            split(&[0x30, 0x80, 0x80, 0x80, 0x80]),
            Err(DecodeError::VarintTooLong)
        );
    }

    #[test]
    fn over_limit_is_detected_from_the_header_alone() {
        assert_eq!(
            split(&[0x30, 0xff, 0xff, 0x7f]),
            Err(DecodeError::FrameTooLarge {
                len: 2_097_151,
                max: DEFAULT_MAX_FRAME
            })
        );
        // Exactly at the limit is fine (and incomplete).
        assert_eq!(split(&[0x30, 0x80, 0x80, 0x40]), Ok(None));
        assert_eq!(
            split(&[0x30, 0x81, 0x80, 0x40]),
            Err(DecodeError::FrameTooLarge {
                len: DEFAULT_MAX_FRAME + 1,
                max: DEFAULT_MAX_FRAME
            })
        );
        assert_eq!(
            split_frame(&[0x20, 0x02], 1),
            Err(DecodeError::FrameTooLarge { len: 2, max: 1 })
        );
    }
}
