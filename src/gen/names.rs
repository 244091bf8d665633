//! Client-chosen names: uids, tokens, device ids, channel and group ids, client_msg_no,
//! stream and SUB numbers, in every shape a peer can send: the ordinary one of its role
//! (from a small pool, so clients meet), empty, ASCII at every length boundary up to and
//! over the codec's limit, multi-byte UTF-8 with a character straddling the boundary by each
//! possible number of bytes, invalid UTF-8, or raw bytes from the input.

use super::script_bytes::Cursor;
use crate::proto::MAX_STRING_LEN;

/// Byte lengths that matter to code that cuts, pads or allocates by length: small powers
/// of two and their neighbours, and the codec's limit (32,767) with its neighbours.
pub const BOUNDARIES: [usize; 32] = [
    1,
    2,
    3,
    4,
    7,
    8,
    15,
    16,
    17,
    31,
    32,
    33,
    63,
    64,
    65,
    100,
    127,
    128,
    129,
    255,
    256,
    257,
    1000,
    1024,
    4095,
    4096,
    16383,
    16384,
    32766,
    MAX_STRING_LEN,
    32768,
    65535,
];

/// Length indices (into [`BOUNDARIES`]) where code most often cuts a name: 32, 64, 128 and
/// 256 bytes. A name that splits a character at one of them has a one-byte form, so the
/// mutator reaches it from an ordinary name by changing one byte, without shifting the
/// fields after it.
const SHORT_CUTS: [u8; 4] = [10, 13, 17, 20];

/// First byte of the one-byte split-at-a-cut names (`SHORT + ch + 4 * cut`).
const SHORT: u8 = 144;

/// Multi-byte characters: 2, 3 and 4 bytes, and a combining sequence.
const WIDE: [&str; 4] = ["é", "中", "😀", "e\u{301}"];

/// Invalid UTF-8: a lone continuation byte, sequences cut after their first bytes, an
/// overlong encoding, a surrogate, bytes never valid, a code point above U+10FFFF.
const INVALID: [&[u8]; 8] = [
    &[0x80],
    &[0xc3],
    &[0xe4, 0xb8],
    &[0xf0, 0x9f, 0x98],
    &[0xc0, 0xaf],
    &[0xed, 0xa0, 0x80],
    &[0xff, 0xfe],
    &[0xf4, 0x90, 0x80, 0x80],
];

/// A name, as the script chooses it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Name {
    /// The ordinary name of its role, `n`-th of a small pool (`u2`, `g1`, `token`...).
    Pool(u8),
    /// The empty string.
    Empty,
    /// ASCII, `BOUNDARIES[len % 32]` bytes.
    Ascii {
        /// Length index.
        len: u8,
    },
    /// ASCII filler, then a multi-byte character that starts `shift % width` bytes before
    /// the boundary `BOUNDARIES[len % 32]` (so a cut there splits it), then more of it; with
    /// `whole`, the name is that character throughout (after `shift` ASCII bytes).
    Wide {
        /// Which character (see [`WIDE`]).
        ch: u8,
        /// Length index.
        len: u8,
        /// Bytes of the character before the boundary.
        shift: u8,
        /// The character throughout instead of at the boundary only.
        whole: bool,
    },
    /// ASCII filler to `BOUNDARIES[len % 32]` bytes with an invalid UTF-8 sequence at the
    /// end (or at the start with `at_start`).
    Invalid {
        /// Which sequence (see [`INVALID`]).
        kind: u8,
        /// Length index.
        len: u8,
        /// Put it first.
        at_start: bool,
    },
    /// These bytes (at most 255).
    Bytes(Vec<u8>),
}

impl Name {
    /// Reads a name: one byte picks the shape (most bytes pick the pool).
    pub(crate) fn read(c: &mut Cursor<'_>) -> Name {
        match c.u8() {
            b @ 0..SHORT => Name::Pool(b),
            b @ SHORT..=159 => {
                let k = b - SHORT;
                Name::Wide {
                    ch: k % 4,
                    len: SHORT_CUTS[usize::from(k / 4)],
                    shift: 1,
                    whole: false,
                }
            }
            160..=175 => Name::Empty,
            176..=199 => Name::Ascii { len: c.u8() },
            b @ 200..=231 => {
                let k = b - 200;
                Name::Wide {
                    ch: k % 4,
                    shift: (k / 4) % 4,
                    whole: k >= 16,
                    len: c.u8(),
                }
            }
            b @ 232..=247 => {
                let k = b - 232;
                Name::Invalid {
                    kind: k % 8,
                    at_start: k >= 8,
                    len: c.u8(),
                }
            }
            _ => Name::Bytes(c.bytes()),
        }
    }

    /// Writes the bytes [`Name::read`] reads back as this name.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        match self {
            Name::Pool(n) => out.push(n % SHORT),
            Name::Wide {
                ch,
                len,
                shift: 1,
                whole: false,
            } if SHORT_CUTS.contains(len) => {
                let cut = (0u8..)
                    .zip(SHORT_CUTS)
                    .find(|(_, c)| c == len)
                    .map_or(0, |(i, _)| i);
                out.push(SHORT + ch % 4 + 4 * cut);
            }
            Name::Empty => out.push(160),
            Name::Ascii { len } => out.extend_from_slice(&[176, *len]),
            Name::Wide {
                ch,
                len,
                shift,
                whole,
            } => {
                let k = ch % 4 + 4 * (shift % 4) + if *whole { 16 } else { 0 };
                out.extend_from_slice(&[200 + k, *len]);
            }
            Name::Invalid {
                kind,
                len,
                at_start,
            } => {
                let k = kind % 8 + if *at_start { 8 } else { 0 };
                out.extend_from_slice(&[232 + k, *len]);
            }
            Name::Bytes(b) => {
                out.push(248);
                super::script_bytes::put_bytes(out, b);
            }
        }
    }

    /// The bytes of this name; `pool` renders [`Name::Pool`] for the name's role.
    pub fn render(&self, pool: impl FnOnce(u8) -> String) -> Vec<u8> {
        let boundary = |len: &u8| BOUNDARIES[usize::from(*len) % BOUNDARIES.len()];
        match self {
            Name::Pool(n) => pool(*n).into_bytes(),
            Name::Empty => Vec::new(),
            Name::Ascii { len } => ascii(boundary(len)),
            Name::Wide {
                ch,
                len,
                shift,
                whole,
            } => {
                let wide = WIDE[usize::from(*ch) % WIDE.len()].as_bytes();
                let target = boundary(len);
                if *whole {
                    let mut out = ascii(usize::from(*shift));
                    while out.len() < target {
                        out.extend_from_slice(wide);
                    }
                    out
                } else {
                    let before = usize::from(*shift) % wide.len();
                    let mut out = ascii(target.saturating_sub(before));
                    out.extend_from_slice(wide);
                    out.extend_from_slice(wide);
                    out
                }
            }
            Name::Invalid {
                kind,
                len,
                at_start,
            } => {
                let bad = INVALID[usize::from(*kind) % INVALID.len()];
                let filler = ascii(boundary(len).saturating_sub(bad.len()));
                if *at_start {
                    [bad, &filler].concat()
                } else {
                    [&filler, bad].concat()
                }
            }
            Name::Bytes(b) => b.clone(),
        }
    }
}

/// `n` bytes of printable ASCII (a repeating alphabet, so cuts are visible in a dump).
fn ascii(n: usize) -> Vec<u8> {
    (0..n).map(|i| b'a' + (i % 26) as u8).collect()
}

/// A rendered name the codec can carry as a string: valid UTF-8 within the length limit.
pub fn as_wire_string(bytes: &[u8]) -> Option<&str> {
    std::str::from_utf8(bytes)
        .ok()
        .filter(|s| s.len() <= MAX_STRING_LEN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(name: &Name) -> Name {
        let mut out = Vec::new();
        name.write(&mut out);
        Name::read(&mut Cursor::new(&out))
    }

    #[test]
    fn one_byte_names_split_a_character_at_each_common_cut() {
        let pool = |n: u8| format!("g{n}");
        for b in SHORT..160 {
            let name = Name::read(&mut Cursor::new(&[b, 0xff]));
            let mut out = Vec::new();
            name.write(&mut out);
            assert_eq!(out, [b], "{name:?} keeps its one-byte form");
            let Name::Wide { ch, len, .. } = name else {
                panic!("byte {b} reads as {name:?}");
            };
            let rendered = name.render(pool);
            let s = std::str::from_utf8(&rendered).expect("valid UTF-8");
            let cut = BOUNDARIES[usize::from(len)];
            assert!([32, 64, 128, 256].contains(&cut));
            // The combining sequence starts with a plain `e`: its cut falls between the two.
            assert_eq!(s.is_char_boundary(cut), ch == 3, "{s:?} at {cut}");
            assert!(s.is_char_boundary(cut - 1));
        }
    }

    #[test]
    fn every_shape_round_trips_and_renders_as_described() {
        for b in 0..=255u8 {
            let name = Name::read(&mut Cursor::new(&[b, 5, 1, 2, 3, 4, 5]));
            assert_eq!(round_trip(&name), name, "byte {b}");
        }
        let pool = |n: u8| format!("u{}", n % 4);
        assert_eq!(Name::Pool(6).render(pool), b"u2");
        assert_eq!(Name::Ascii { len: 13 }.render(pool).len(), 64);
        // '中' (3 bytes) starting 2 bytes before byte 64: a cut at 64 splits it.
        let wide = Name::Wide {
            ch: 1,
            len: 13,
            shift: 2,
            whole: false,
        }
        .render(pool);
        let s = std::str::from_utf8(&wide).expect("valid UTF-8");
        assert!(!s.is_char_boundary(64), "{s:?}");
        assert!(s.is_char_boundary(62));
        let invalid = Name::Invalid {
            kind: 2,
            len: 13,
            at_start: false,
        }
        .render(pool);
        assert_eq!(invalid.len(), 64);
        assert!(std::str::from_utf8(&invalid).is_err());
        let over = Name::Ascii { len: 30 }.render(pool);
        assert_eq!(over.len(), MAX_STRING_LEN + 1);
        assert!(as_wire_string(&over).is_none());
        assert!(as_wire_string(&Name::Ascii { len: 29 }.render(pool)).is_some());
    }
}
