//! The reader and writer of the `session` script's byte format: every byte string is a
//! script (past the end, every byte reads as zero), and writing a script gives the bytes
//! that read back as it.

/// Reads bytes; past the end every byte is zero.
#[derive(Debug)]
pub(crate) struct Cursor<'a>(&'a [u8]);

impl<'a> Cursor<'a> {
    /// A cursor at the start of `data`.
    pub(crate) fn new(data: &'a [u8]) -> Cursor<'a> {
        Cursor(data)
    }

    /// Whether every byte was read.
    pub(crate) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The next byte (0 past the end).
    pub(crate) fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }

    /// A big-endian u16.
    pub(crate) fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }

    /// A length byte, then that many bytes (fewer if the input ends).
    pub(crate) fn bytes(&mut self) -> Vec<u8> {
        let n = usize::from(self.u8()).min(self.0.len());
        let (taken, rest) = self.0.split_at(n);
        self.0 = rest;
        taken.to_vec()
    }
}

/// Writes what [`Cursor::bytes`] reads back (at most 255 bytes of `bytes`).
pub(crate) fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    let n = bytes.len().min(255);
    out.push(u8::try_from(n).unwrap_or(255));
    out.extend_from_slice(bytes.get(..n).unwrap_or_default());
}
