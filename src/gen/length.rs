//! How a model writes each length prefix: correct (the usual choice) or deliberately wrong.
//!
//! Every length prefix a model encodes goes through [`put_prefixed`], which writes a
//! placeholder, lets the caller append the body, then patches the prefix with
//! [`LengthMode::value`] of what was actually written (STYLE rule 4: lengths are measured,
//! never computed by hand). A wrong length changes only the prefix, never the bytes, so a
//! test can say exactly which field lied.

use arbitrary::{Arbitrary, Result, Unstructured};

/// What a length prefix says about the body that follows it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum LengthMode {
    /// The true length of the body.
    #[default]
    Correct,
    /// The true length plus this delta, wrapping within the prefix's width (so `Delta(-1)`
    /// on an empty body writes the field's maximum). `Delta(0)` is the same as `Correct`.
    Delta(i8),
    /// This value regardless of the body, cut to the prefix's width (low bytes kept).
    Fixed(u16),
}

/// Width of a length prefix on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    /// One byte (session id, compression methods, ALPN names, binders, ...).
    U8,
    /// Two bytes (most TLS vectors, extension bodies, record lengths).
    U16,
    /// Three bytes (handshake message bodies).
    U24,
}

impl Width {
    /// Bytes the prefix takes.
    pub fn bytes(self) -> usize {
        match self {
            Width::U8 => 1,
            Width::U16 => 2,
            Width::U24 => 3,
        }
    }

    /// Largest value the prefix can hold.
    pub fn max(self) -> u32 {
        match self {
            Width::U8 => 0xff,
            Width::U16 => 0xffff,
            Width::U24 => 0xff_ffff,
        }
    }
}

impl LengthMode {
    /// The value to write for a body of `actual` bytes in a prefix of `width`. A correct
    /// length longer than the field can hold is written as the field's maximum (models
    /// bound their fields, so this only happens for hand-built values).
    pub fn value(self, actual: usize, width: Width) -> u32 {
        let max = width.max();
        let actual = u32::try_from(actual).unwrap_or(u32::MAX).min(max);
        match self {
            LengthMode::Correct => actual,
            LengthMode::Delta(d) => {
                let modulus = i64::from(max) + 1;
                let v = (i64::from(actual) + i64::from(d)).rem_euclid(modulus);
                u32::try_from(v).unwrap_or(max)
            }
            LengthMode::Fixed(v) => u32::from(v) & max,
        }
    }

    /// Whether this mode writes the true length for a body of `actual` bytes.
    pub fn is_truthful(self, actual: usize, width: Width) -> bool {
        self.value(actual, width) == LengthMode::Correct.value(actual, width)
    }
}

/// Mostly `Correct`; about 1 in 85 prefixes lies (a hello has 25 to 35 prefixes, so a
/// quarter to a third of generated hellos carry at least one wrong length). Deltas are `±1`
/// about half the time (off-by-one is the classic bug), otherwise anything in `-63..=63`.
impl<'a> Arbitrary<'a> for LengthMode {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(match u8::arbitrary(u)? {
            0..=252 => LengthMode::Correct,
            253..=254 => {
                let d = i8::arbitrary(u)?;
                LengthMode::Delta(match d {
                    0 => 1,
                    d if d.unsigned_abs() >= 64 => d.signum(),
                    d => d,
                })
            }
            _ => LengthMode::Fixed(u16::arbitrary(u)?),
        })
    }

    fn size_hint(_depth: usize) -> (usize, Option<usize>) {
        (1, Some(3))
    }
}

/// Appends a `width` length prefix, then whatever `body` appends, then patches the prefix
/// with `mode`'s value for the body's true length.
pub fn put_prefixed(
    out: &mut Vec<u8>,
    width: Width,
    mode: LengthMode,
    body: impl FnOnce(&mut Vec<u8>),
) {
    let start = out.len();
    let n = width.bytes();
    out.resize(start + n, 0);
    body(out);
    let actual = out.len().saturating_sub(start + n);
    let value = mode.value(actual, width).to_be_bytes();
    let low = value.iter().skip(value.len().saturating_sub(n));
    for (slot, byte) in out.iter_mut().skip(start).zip(low) {
        *slot = *byte;
    }
}

/// Appends a big-endian `u16`.
pub fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prefixed(width: Width, mode: LengthMode, body: &[u8]) -> Vec<u8> {
        let mut out = vec![0xee];
        put_prefixed(&mut out, width, mode, |b| b.extend_from_slice(body));
        out
    }

    #[test]
    fn correct_lengths_for_each_width() {
        assert_eq!(
            prefixed(Width::U8, LengthMode::Correct, b"ab"),
            [0xee, 2, b'a', b'b']
        );
        assert_eq!(
            prefixed(Width::U16, LengthMode::Correct, b"a"),
            [0xee, 0, 1, b'a']
        );
        assert_eq!(
            prefixed(Width::U24, LengthMode::Correct, b""),
            [0xee, 0, 0, 0]
        );
    }

    #[test]
    fn wrong_lengths_wrap_within_the_width() {
        assert_eq!(
            prefixed(Width::U8, LengthMode::Delta(-1), b""),
            [0xee, 0xff]
        );
        assert_eq!(
            prefixed(Width::U16, LengthMode::Delta(3), b"a"),
            [0xee, 0, 4, b'a']
        );
        assert_eq!(
            prefixed(Width::U8, LengthMode::Fixed(0x1234), b""),
            [0xee, 0x34]
        );
        assert_eq!(
            prefixed(Width::U24, LengthMode::Fixed(0x1234), b""),
            [0xee, 0, 0x12, 0x34]
        );
        assert!(LengthMode::Delta(0).is_truthful(5, Width::U16));
        assert!(!LengthMode::Delta(1).is_truthful(5, Width::U16));
    }

    #[test]
    fn an_overlong_body_gets_the_fields_maximum() {
        let out = prefixed(Width::U8, LengthMode::Correct, &[7; 300]);
        assert_eq!(out.get(1), Some(&0xff));
        assert_eq!(out.len(), 302);
    }

    #[test]
    fn arbitrary_is_mostly_correct_and_deltas_are_never_zero() {
        let mut correct = 0;
        for b in 0..=255u8 {
            match LengthMode::arbitrary(&mut Unstructured::new(&[b, 0, 0])).unwrap() {
                LengthMode::Correct => correct += 1,
                LengthMode::Delta(d) => assert_ne!(d, 0),
                LengthMode::Fixed(_) => {}
            }
        }
        assert_eq!(correct, 253);
    }
}
