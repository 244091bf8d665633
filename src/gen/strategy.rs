//! The bridge from random bytes to models, shared by the fuzzers and the property tests:
//! [`from_bytes`] builds any [`Arbitrary`] model from a byte string exactly as a fuzz target
//! does, so a proptest strategy over `Vec<u8>` drives the same [`Frame`](crate::proto::Frame),
//! [`ClientHelloModel`](super::ClientHelloModel) and [`RecordPlan`](super::RecordPlan)
//! generators as libFuzzer (one generator, two drivers; proptest's shrinking of the bytes
//! towards zeros shrinks the model towards its most ordinary form, see `pick`).
//!
//! [`Damage`] is the other shared piece: how a valid byte string (a PEM file, a session
//! ticket, a ClientKey, a record stream) is broken — truncated, bit-flipped, spliced,
//! cut, overwritten, duplicated, extended. Every operation is total on any input and bounded
//! in the bytes it adds.

use arbitrary::{Arbitrary, Unstructured};

use super::pick::{bytes_up_to, pick};

/// Most bytes one [`Damage`] adds.
pub const MAX_DAMAGE_BYTES: usize = 64;

/// Builds a `T` from `bytes` the way the fuzz targets do (`arbitrary_take_rest`): `None`
/// only when the model needs more bytes than there are.
#[must_use]
pub fn from_bytes<T: for<'a> Arbitrary<'a>>(bytes: &[u8]) -> Option<T> {
    T::arbitrary_take_rest(Unstructured::new(bytes)).ok()
}

/// One way to damage a valid byte string. Positions are taken modulo the input's length
/// (plus one where the end is a position), so every value applies to every input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Damage {
    /// Keep only the first `keep % len` bytes (always shorter, unless empty).
    Truncate {
        /// Bytes kept, modulo the length.
        keep: u16,
    },
    /// XOR one byte with a non-zero mask.
    Flip {
        /// Position, modulo the length.
        at: u16,
        /// XORed in (a zero mask becomes 1).
        mask: u8,
    },
    /// Insert bytes.
    Splice {
        /// Position, modulo the length + 1.
        at: u16,
        /// Inserted (at most [`MAX_DAMAGE_BYTES`]).
        bytes: Vec<u8>,
    },
    /// Remove a run of bytes.
    Cut {
        /// Start, modulo the length.
        at: u16,
        /// How many (at least one).
        len: u8,
    },
    /// Overwrite bytes in place (the length stays).
    Overwrite {
        /// Start, modulo the length.
        at: u16,
        /// Written over the input, as far as it reaches.
        bytes: Vec<u8>,
    },
    /// Repeat a run of bytes right after itself.
    Duplicate {
        /// Start, modulo the length.
        at: u16,
        /// How many (at least one).
        len: u8,
    },
    /// Add bytes at the end.
    Append {
        /// Added (at most [`MAX_DAMAGE_BYTES`]).
        bytes: Vec<u8>,
    },
}

impl<'a> Arbitrary<'a> for Damage {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(match pick(u, &[4, 4, 2, 2, 2, 1, 1])? {
            0 => Damage::Truncate {
                keep: u16::arbitrary(u)?,
            },
            1 => Damage::Flip {
                at: u16::arbitrary(u)?,
                mask: u8::arbitrary(u)?,
            },
            2 => Damage::Splice {
                at: u16::arbitrary(u)?,
                bytes: bytes_up_to(u, MAX_DAMAGE_BYTES)?,
            },
            3 => Damage::Cut {
                at: u16::arbitrary(u)?,
                len: u8::arbitrary(u)?,
            },
            4 => Damage::Overwrite {
                at: u16::arbitrary(u)?,
                bytes: bytes_up_to(u, MAX_DAMAGE_BYTES)?,
            },
            5 => Damage::Duplicate {
                at: u16::arbitrary(u)?,
                len: u8::arbitrary(u)?,
            },
            _ => Damage::Append {
                bytes: bytes_up_to(u, MAX_DAMAGE_BYTES)?,
            },
        })
    }
}

/// `n % len`, 0 for an empty input.
fn modulo(n: u16, len: usize) -> usize {
    usize::from(n).checked_rem(len).unwrap_or(0)
}

impl Damage {
    /// `valid` with this damage applied.
    #[must_use]
    pub fn apply(&self, valid: &[u8]) -> Vec<u8> {
        let mut out = valid.to_vec();
        let len = out.len();
        match self {
            Damage::Truncate { keep } => out.truncate(modulo(*keep, len)),
            Damage::Flip { at, mask } => {
                if let Some(b) = out.get_mut(modulo(*at, len)) {
                    *b ^= (*mask).max(1);
                }
            }
            Damage::Splice { at, bytes } => {
                let at = modulo(*at, len.saturating_add(1));
                let bytes = bytes.iter().take(MAX_DAMAGE_BYTES).copied();
                out.splice(at..at, bytes);
            }
            Damage::Cut { at, len: n } => {
                let at = modulo(*at, len);
                let end = at.saturating_add(usize::from(*n).max(1)).min(len);
                out.drain(at..end);
            }
            Damage::Overwrite { at, bytes } => {
                let at = modulo(*at, len);
                for (slot, b) in out.iter_mut().skip(at).zip(bytes) {
                    *slot = *b;
                }
            }
            Damage::Duplicate { at, len: n } => {
                let at = modulo(*at, len);
                let end = at.saturating_add(usize::from(*n).max(1)).min(len);
                let run: Vec<u8> = out.get(at..end).unwrap_or_default().to_vec();
                out.splice(end..end, run);
            }
            Damage::Append { bytes } => {
                out.extend(bytes.iter().take(MAX_DAMAGE_BYTES));
            }
        }
        out
    }

    /// `valid` with every damage in `list` applied in order.
    #[must_use]
    pub fn apply_all(list: &[Damage], valid: &[u8]) -> Vec<u8> {
        list.iter().fold(valid.to_vec(), |bytes, d| d.apply(&bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_damage_is_total_and_bounded() {
        let damages = [
            Damage::Truncate { keep: 9 },
            Damage::Flip { at: 70, mask: 0 },
            Damage::Splice {
                at: 3,
                bytes: vec![9; 100],
            },
            Damage::Cut { at: 1, len: 0 },
            Damage::Overwrite {
                at: 4,
                bytes: vec![7; 10],
            },
            Damage::Duplicate { at: 4, len: 200 },
            Damage::Append { bytes: vec![1, 2] },
        ];
        let valid = [0u8, 1, 2, 3, 4, 5];
        let got: Vec<Vec<u8>> = damages.iter().map(|d| d.apply(&valid)).collect();
        assert_eq!(got[0], [0, 1, 2]);
        assert_eq!(got[1], [0, 1, 2, 3, 5, 5]);
        assert_eq!(got[2].len(), 6 + MAX_DAMAGE_BYTES);
        assert_eq!(got[3], [0, 2, 3, 4, 5]);
        assert_eq!(got[4], [0, 1, 2, 3, 7, 7]);
        assert_eq!(got[5], [0, 1, 2, 3, 4, 5, 4, 5]);
        assert_eq!(got[6], [0, 1, 2, 3, 4, 5, 1, 2]);
        for d in &damages {
            assert!(d.apply(&[]).len() <= MAX_DAMAGE_BYTES, "{d:?}");
        }
        // Truncated to [0, 1, 2], then byte 70 % 3 = 1 flipped.
        assert_eq!(Damage::apply_all(&damages[..2], &valid), [0, 0, 2]);
    }

    #[test]
    fn zeros_build_the_first_option() {
        assert_eq!(
            from_bytes::<Damage>(&[]),
            Some(Damage::Truncate { keep: 0 })
        );
        assert_eq!(
            from_bytes::<Vec<Damage>>(&[]),
            Some(Vec::new()),
            "an empty input is no damage at all"
        );
    }
}
