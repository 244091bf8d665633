//! The remaining-length varint of the frame header (wkproto.md section 1): 7 bits per byte,
//! least significant group first, bit 7 = "more follows", at most [`MAX_VARINT_LEN`] bytes.

use super::{DecodeError, MAX_VARINT_VALUE};

/// Longest remaining-length varint. A 4th byte with bit 7 set is malformed: upstream counted
/// it as 5 bytes consumed while its own splitter counted 4 (two disagreeing decoders).
pub(crate) const MAX_VARINT_LEN: usize = 4;

/// Bit 7 of a varint byte: another byte follows.
const MORE: u8 = 0x80;
/// The 7 value bits of a varint byte.
const GROUP: u8 = 0x7f;

/// Reads a varint at the start of `buf`: `Ok(None)` if `buf` ends before the last byte,
/// else the value (<= [`MAX_VARINT_VALUE`]) and how many bytes it used (1..=4).
/// Non-minimal forms (`80 00` for 0) are accepted, as upstream does.
///
/// # Errors
/// `VarintTooLong` if the 4th byte has its continuation bit set.
pub(crate) fn read(buf: &[u8]) -> Result<Option<(usize, usize)>, DecodeError> {
    let mut value = 0usize;
    let mut shift = 0u32;
    for (used, &byte) in (1..=MAX_VARINT_LEN).zip(buf) {
        // shift <= 21 and the group is 7 bits, so the value stays below 2^28.
        value |= usize::from(byte & GROUP) << shift;
        if byte & MORE == 0 {
            return Ok(Some((value, used)));
        }
        if used == MAX_VARINT_LEN {
            return Err(DecodeError::VarintTooLong);
        }
        shift += 7;
    }
    Ok(None)
}

/// Appends `value` in minimal form. Callers keep `value <= MAX_VARINT_VALUE` (the frame
/// encoder truncates the body first); a larger value is clamped so this cannot fail.
pub(crate) fn encode(value: usize, out: &mut Vec<u8>) {
    // Checked in fuzz builds too, which keep overflow checks but not debug assertions.
    if cfg!(any(debug_assertions, fuzzing)) {
        assert!(value <= MAX_VARINT_VALUE, "varint {value} too large");
    }
    let mut value = value.min(MAX_VARINT_VALUE);
    loop {
        // Truncation intended: the low 7 bits.
        let group = (value & usize::from(GROUP)) as u8;
        value >>= 7;
        if value == 0 {
            out.push(group);
            return;
        }
        out.push(group | MORE);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(v: usize) -> Vec<u8> {
        let mut out = Vec::new();
        encode(v, &mut out);
        out
    }

    #[test]
    fn boundaries_round_trip() {
        let cases: [(usize, &[u8]); 9] = [
            (0, &[0x00]),
            (0x7f, &[0x7f]),
            (0x80, &[0x80, 0x01]),
            (0x47, &[0x47]),
            (16_383, &[0xff, 0x7f]),
            (16_384, &[0x80, 0x80, 0x01]),
            (2_097_151, &[0xff, 0xff, 0x7f]),
            (2_097_152, &[0x80, 0x80, 0x80, 0x01]),
            (MAX_VARINT_VALUE, &[0xff, 0xff, 0xff, 0x7f]),
        ];
        for (value, bytes) in cases {
            assert_eq!(enc(value), bytes, "{value}");
            assert_eq!(read(bytes), Ok(Some((value, bytes.len()))), "{value}");
        }
    }

    #[test]
    fn four_continuation_bytes_are_malformed() {
        assert_eq!(
            read(&[0xff, 0xff, 0xff, 0xff]),
            Err(DecodeError::VarintTooLong)
        );
        assert_eq!(
            read(&[0x80, 0x80, 0x80, 0x80, 0x01]),
            Err(DecodeError::VarintTooLong)
        );
    }

    #[test]
    fn incomplete_is_none() {
        assert_eq!(read(&[]), Ok(None));
        assert_eq!(read(&[0x80]), Ok(None));
        assert_eq!(read(&[0xff, 0xff, 0xff]), Ok(None));
    }

    #[test]
    fn non_minimal_is_accepted() {
        assert_eq!(read(&[0x80, 0x00]), Ok(Some((0, 2))));
        assert_eq!(read(&[0x81, 0x80, 0x80, 0x00, 0x55]), Ok(Some((1, 4))));
    }
}
