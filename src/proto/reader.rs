//! [`Reader`], the cursor every wkproto decoder reads peer bytes through (STYLE rule 3).
//!
//! Every read is fallible and names the field it was reading, so a short body becomes
//! `DecodeError::Truncated { what: "Send.channel_id" }` instead of a panic. Nothing here
//! indexes or slices: the only way to move through the input is `split_at_checked`.

use super::{DecodeError, MAX_STRING_LEN};

/// A forward-only cursor over a body. Invariant: `rest` is the unread suffix of the input.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Reader<'a> {
    /// The bytes not read yet.
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    /// A cursor at the start of `buf`.
    pub(crate) fn new(buf: &'a [u8]) -> Reader<'a> {
        Reader { rest: buf }
    }

    /// The next `n` bytes, or `None` (and nothing consumed) if fewer are left.
    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.rest.split_at_checked(n)?;
        self.rest = tail;
        Some(head)
    }

    /// The next `N` bytes as an array.
    ///
    /// # Errors
    /// `Truncated { what }` if fewer than `N` bytes are left.
    pub(crate) fn take_array<const N: usize>(
        &mut self,
        what: &'static str,
    ) -> Result<[u8; N], DecodeError> {
        let (head, tail) = self
            .rest
            .split_first_chunk::<N>()
            .ok_or(DecodeError::Truncated { what })?;
        self.rest = tail;
        Ok(*head)
    }

    /// A sub-cursor over the next `len` bytes (a length-prefixed region).
    ///
    /// # Errors
    /// `Truncated { what }` if fewer than `len` bytes are left.
    pub(crate) fn sub(
        &mut self,
        len: usize,
        what: &'static str,
    ) -> Result<Reader<'a>, DecodeError> {
        self.take(len)
            .map(Reader::new)
            .ok_or(DecodeError::Truncated { what })
    }

    /// Everything left (the Payload/Data fields: "the rest of the body").
    pub(crate) fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.rest)
    }

    /// The bytes left, without consuming them (the planted TRUNC decoder indexes them).
    #[cfg(feature = "planted-bugs")]
    pub(crate) fn peek(&self) -> &'a [u8] {
        self.rest
    }

    /// How many bytes are left.
    pub(crate) fn left(&self) -> usize {
        self.rest.len()
    }

    /// Ends a fixed-layout body: every byte must have been read.
    ///
    /// # Errors
    /// `TrailingBytes { what, extra }` if bytes are left.
    pub(crate) fn finish(self, what: &'static str) -> Result<(), DecodeError> {
        match self.left() {
            0 => Ok(()),
            extra => Err(DecodeError::TrailingBytes { what, extra }),
        }
    }

    /// A `u8`.
    pub(crate) fn u8(&mut self, what: &'static str) -> Result<u8, DecodeError> {
        self.take_array::<1>(what).map(u8::from_be_bytes)
    }

    /// A big-endian `u16`.
    pub(crate) fn u16(&mut self, what: &'static str) -> Result<u16, DecodeError> {
        self.take_array(what).map(u16::from_be_bytes)
    }

    /// A big-endian `u32`.
    pub(crate) fn u32(&mut self, what: &'static str) -> Result<u32, DecodeError> {
        self.take_array(what).map(u32::from_be_bytes)
    }

    /// A big-endian `i32`.
    pub(crate) fn i32(&mut self, what: &'static str) -> Result<i32, DecodeError> {
        self.take_array(what).map(i32::from_be_bytes)
    }

    /// A big-endian `u64`.
    pub(crate) fn u64(&mut self, what: &'static str) -> Result<u64, DecodeError> {
        self.take_array(what).map(u64::from_be_bytes)
    }

    /// A big-endian `i64`.
    pub(crate) fn i64(&mut self, what: &'static str) -> Result<i64, DecodeError> {
        self.take_array(what).map(i64::from_be_bytes)
    }

    /// A wkproto string: `u16` byte length (at most [`MAX_STRING_LEN`]), then UTF-8 bytes.
    ///
    /// # Errors
    /// `Truncated` if the prefix or the bytes are missing, `StringTooLong` for a length
    /// above 32767 (upstream read it as a negative `i16`, WuKongIM issue #26; checked before
    /// anything is allocated), `InvalidUtf8` if the bytes are not UTF-8.
    pub(crate) fn string(&mut self, what: &'static str) -> Result<String, DecodeError> {
        let len = self.u16(what)?;
        #[cfg(feature = "planted-bugs")]
        if crate::planted::enabled(crate::planted::Bug::Str26) {
            crate::planted::str26_string(len, self.rest);
        }
        if usize::from(len) > MAX_STRING_LEN {
            return Err(DecodeError::StringTooLong { what, len });
        }
        let bytes = self.sub(usize::from(len), what)?.rest();
        std::str::from_utf8(bytes)
            .map(str::to_owned)
            .map_err(|_| DecodeError::InvalidUtf8 { what })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_big_endian() {
        let buf = [
            1, 0, 2, 0, 0, 0, 3, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0, 0, 0, 0, 4, 0xff, 0xff, 0xff,
            0xff, 0xff, 0xff, 0xff, 0xfb,
        ];
        let mut r = Reader::new(&buf);
        assert_eq!(r.u8("a"), Ok(1));
        assert_eq!(r.u16("b"), Ok(2));
        assert_eq!(r.u32("c"), Ok(3));
        assert_eq!(r.i32("d"), Ok(-2));
        assert_eq!(r.u64("e"), Ok(4));
        assert_eq!(r.i64("f"), Ok(-5));
        assert_eq!(r.finish("T"), Ok(()));
    }

    #[test]
    fn short_reads_are_truncated_and_consume_nothing() {
        let mut r = Reader::new(&[1, 2, 3]);
        assert_eq!(r.u32("x.y"), Err(DecodeError::Truncated { what: "x.y" }));
        assert_eq!(r.left(), 3);
        assert_eq!(r.take(4), None);
        assert_eq!(r.take(2), Some(&[1u8, 2][..]));
        assert!(r.sub(2, "s").is_err());
        assert_eq!(r.rest(), &[3]);
        assert_eq!(r.rest(), &[] as &[u8]);
    }

    #[test]
    fn finish_reports_trailing_bytes() {
        let r = Reader::new(&[0, 0]);
        assert_eq!(
            r.finish("Recvack"),
            Err(DecodeError::TrailingBytes {
                what: "Recvack",
                extra: 2
            })
        );
    }

    #[test]
    fn strings() {
        let mut r = Reader::new(&[0, 2, b'h', b'i', 0, 0]);
        assert_eq!(r.string("s").as_deref(), Ok("hi"));
        assert_eq!(r.string("s").as_deref(), Ok(""));
        // Length prefix itself missing.
        assert_eq!(
            Reader::new(&[0]).string("s"),
            Err(DecodeError::Truncated { what: "s" })
        );
        // Body shorter than the length.
        assert_eq!(
            Reader::new(&[0, 3, b'a']).string("s"),
            Err(DecodeError::Truncated { what: "s" })
        );
        // 0x8000 and 0xFFFF were negative i16 lengths upstream.
        for len in [0x8000u16, 0xffff] {
            let [hi, lo] = len.to_be_bytes();
            assert_eq!(
                Reader::new(&[hi, lo, b'a']).string("s"),
                Err(DecodeError::StringTooLong { what: "s", len })
            );
        }
        // The largest allowed length is accepted.
        let mut big = vec![0x7f, 0xff];
        big.resize(2 + 32767, b'x');
        assert_eq!(Reader::new(&big).string("s").map(|s| s.len()), Ok(32767));
        assert_eq!(
            Reader::new(&[0, 2, 0xc3, 0x28]).string("s"),
            Err(DecodeError::InvalidUtf8 { what: "s" })
        );
    }
}
