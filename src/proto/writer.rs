//! Encode helpers: [`Put`] appends wkproto primitives to a `Vec<u8>` (the mirror of
//! [`super::reader::Reader`]), and [`RemainingLength`] writes the frame's length prefix
//! from what was actually written (STYLE rule 4: never computed by hand).
//!
//! Encoding is infallible: a string longer than [`MAX_STRING_LEN`] is cut at a char
//! boundary, and a body longer than [`MAX_VARINT_VALUE`] loses its tail (only Payload/Data
//! can be that long, and they are always last). `Frame::normalized` applies the same cuts.

use super::{varint, MAX_STRING_LEN, MAX_VARINT_VALUE};

/// The longest prefix of `s` that fits a wkproto string (<= 32767 bytes, whole chars).
pub(crate) fn truncate_str(s: &str) -> &str {
    let mut end = s.len().min(MAX_STRING_LEN);
    // A char is at most 4 bytes, so this steps back at most 3 times.
    while !s.is_char_boundary(end) {
        end = end.saturating_sub(1);
    }
    s.get(..end).unwrap_or_default()
}

/// `s` cut as [`truncate_str`] cuts it, in place.
pub(crate) fn truncate_string(s: &mut String) {
    let end = truncate_str(s).len();
    s.truncate(end);
}

/// Appends big-endian primitives and wkproto strings.
pub(crate) trait Put {
    /// A `u8`.
    fn put_u8(&mut self, v: u8);
    /// Big-endian `u16`.
    fn put_u16(&mut self, v: u16);
    /// Big-endian `u32`.
    fn put_u32(&mut self, v: u32);
    /// Big-endian `i32`.
    fn put_i32(&mut self, v: i32);
    /// Big-endian `u64`.
    fn put_u64(&mut self, v: u64);
    /// Big-endian `i64`.
    fn put_i64(&mut self, v: i64);
    /// `u16` byte length + UTF-8, cut to 32767 bytes at a char boundary.
    fn put_str(&mut self, s: &str);
    /// Raw bytes with no prefix (Payload/Data).
    fn put_bytes(&mut self, b: &[u8]);
}

impl Put for Vec<u8> {
    fn put_u8(&mut self, v: u8) {
        self.push(v);
    }
    fn put_u16(&mut self, v: u16) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_u32(&mut self, v: u32) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_i32(&mut self, v: i32) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_u64(&mut self, v: u64) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_i64(&mut self, v: i64) {
        self.extend_from_slice(&v.to_be_bytes());
    }
    fn put_str(&mut self, s: &str) {
        let s = truncate_str(s);
        // MAX_STRING_LEN < u16::MAX, so this never saturates.
        self.put_u16(u16::try_from(s.len()).unwrap_or(u16::MAX));
        self.extend_from_slice(s.as_bytes());
    }
    fn put_bytes(&mut self, b: &[u8]) {
        self.extend_from_slice(b);
    }
}

/// Guard for a frame body: create it right after the header byte, write the body into
/// `buf`, and on drop the remaining-length varint is inserted in front of the body.
/// A body over [`MAX_VARINT_VALUE`] bytes is cut to that length first.
pub(crate) struct RemainingLength<'a> {
    /// The output; the body is everything after `body_start`.
    pub(crate) buf: &'a mut Vec<u8>,
    /// Where the body starts (`buf.len()` when the guard was made).
    body_start: usize,
}

impl<'a> RemainingLength<'a> {
    /// Starts a body at the end of `buf`.
    pub(crate) fn new(buf: &'a mut Vec<u8>) -> RemainingLength<'a> {
        let body_start = buf.len();
        RemainingLength { buf, body_start }
    }
}

impl Drop for RemainingLength<'_> {
    fn drop(&mut self) {
        let mut body_len = self.buf.len().saturating_sub(self.body_start);
        if body_len > MAX_VARINT_VALUE {
            self.buf
                .truncate(self.body_start.saturating_add(MAX_VARINT_VALUE));
            body_len = MAX_VARINT_VALUE;
        }
        let mut prefix = Vec::with_capacity(varint::MAX_VARINT_LEN);
        varint::encode(body_len, &mut prefix);
        let at = self.body_start.min(self.buf.len());
        self.buf.splice(at..at, prefix);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitives() {
        let mut out = Vec::new();
        out.put_u8(1);
        out.put_u16(0x0203);
        out.put_u32(4);
        out.put_i32(-1);
        out.put_u64(5);
        out.put_i64(-5);
        out.put_str("hi");
        out.put_bytes(b"xy");
        assert_eq!(
            out,
            [
                1, 2, 3, 0, 0, 0, 4, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0, 0, 0, 0, 5, 0xff, 0xff,
                0xff, 0xff, 0xff, 0xff, 0xff, 0xfb, 0, 2, b'h', b'i', b'x', b'y'
            ]
        );
    }

    #[test]
    fn long_strings_are_cut_at_a_char_boundary() {
        let ascii = "a".repeat(MAX_STRING_LEN + 10);
        assert_eq!(truncate_str(&ascii).len(), MAX_STRING_LEN);
        // 'é' is 2 bytes: 32767 is odd, so the cut lands inside a char and steps back.
        let accents = "é".repeat(MAX_STRING_LEN);
        assert_eq!(truncate_str(&accents).len(), MAX_STRING_LEN - 1);
        // '😀' is 4 bytes.
        let emoji = "😀".repeat(MAX_STRING_LEN);
        assert_eq!(truncate_str(&emoji).len(), 32764);
        let mut out = Vec::new();
        out.put_str(&accents);
        assert_eq!(out.get(..2), Some(&[0x7f, 0xfe][..]));
        assert_eq!(out.len(), 2 + MAX_STRING_LEN - 1);
        let mut s = emoji.clone();
        truncate_string(&mut s);
        assert_eq!(s.len(), 32764);
    }

    #[test]
    fn remaining_length_is_inserted_before_the_body() {
        let mut out = vec![0x30];
        {
            let body = RemainingLength::new(&mut out);
            body.buf.extend_from_slice(&[7; 200]);
        }
        assert_eq!(out.len(), 1 + 2 + 200);
        assert_eq!(out.get(..3), Some(&[0x30, 0xc8, 0x01][..]));
        let mut out = vec![0x90];
        drop(RemainingLength::new(&mut out));
        assert_eq!(out, [0x90, 0x00]);
    }
}
