//! Client-chosen names: uids, tokens, device ids, channel and group ids, client_msg_no,
//! stream and SUB numbers, in every shape a peer can send: the ordinary one of its role
//! (from a small pool, so clients meet), empty, ASCII at every length boundary up to and
//! over the codec's limit, multi-byte UTF-8 with a character straddling the boundary by each
//! possible number of bytes, invalid UTF-8, or raw bytes from the input. Group names are
//! read with the long split names weighted up (`Layout::GROUP`).

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

/// One-byte split-at-a-cut names: each character of [`WIDE`] at each of [`SHORT_CUTS`].
const SHORT_FORMS: u8 = 16;

/// First byte of the shapes that are the same in every [`Layout`] (empty and up).
const SHAPES: u8 = 160;

/// Which first bytes pick the pool and which the one-byte split-at-a-cut names; the shapes
/// from [`SHAPES`] up are the same in every layout.
#[derive(Clone, Copy)]
struct Layout {
    /// Bytes below it pick the pool; from it to [`SHAPES`], the split-at-a-cut names.
    pool: u8,
}

impl Layout {
    /// Uids, tokens, device ids, channel names, numbers: the pool most of the time (144 of
    /// 256), since a uid or channel name only meets another client's from the pool.
    const NAME: Layout = Layout {
        pool: SHAPES - SHORT_FORMS,
    };
    /// Group names: every client names a group by its index in the script's table, so the
    /// pool buys no meetings there; 64 of 256 first bytes split a character at a common cut
    /// (16 for other names), because a long multi-byte group name reaches the code that
    /// cuts names for logs, replays and displays only through a group.
    const GROUP: Layout = Layout {
        pool: SHAPES - 4 * SHORT_FORMS,
    };
}

/// The one-byte name `k` (0..16): character `k % 4` split at cut `k / 4`.
fn short_cut(k: u8) -> Name {
    Name::Wide {
        ch: k % 4,
        len: SHORT_CUTS[usize::from(k / 4) % SHORT_CUTS.len()],
        shift: 1,
        whole: false,
    }
}

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
        Name::read_in(c, Layout::NAME)
    }

    /// Reads a group name: a quarter of the first bytes pick a name split at a cut.
    pub(crate) fn read_group(c: &mut Cursor<'_>) -> Name {
        Name::read_in(c, Layout::GROUP)
    }

    /// Writes the bytes [`Name::read`] reads back as this name.
    pub(crate) fn write(&self, out: &mut Vec<u8>) {
        self.write_in(out, Layout::NAME);
    }

    /// Writes the bytes [`Name::read_group`] reads back as this name.
    pub(crate) fn write_group(&self, out: &mut Vec<u8>) {
        self.write_in(out, Layout::GROUP);
    }

    fn read_in(c: &mut Cursor<'_>, layout: Layout) -> Name {
        match c.u8() {
            b if b < layout.pool => Name::Pool(b),
            b @ 0..SHAPES => short_cut((b - layout.pool) % SHORT_FORMS),
            SHAPES..=175 => Name::Empty,
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

    fn write_in(&self, out: &mut Vec<u8>, layout: Layout) {
        match self {
            Name::Pool(n) => out.push(n % layout.pool),
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
                out.push(layout.pool + ch % 4 + 4 * cut);
            }
            Name::Empty => out.push(SHAPES),
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

/// `n` bytes of printable ASCII (a repeating alphabet, so cuts are visible in a dump),
/// copied an alphabet at a time: a byte loop costs a coverage callback per byte in fuzz
/// builds, and names run to the string limit.
fn ascii(n: usize) -> Vec<u8> {
    const ALPHABET: &[u8; 26] = b"abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::with_capacity(n);
    while let Some(left @ 1..) = n.checked_sub(out.len()) {
        out.extend_from_slice(ALPHABET.get(..left).unwrap_or(ALPHABET));
    }
    out
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
        for layout in [Layout::NAME, Layout::GROUP] {
            for b in layout.pool..SHAPES {
                let name = Name::read_in(&mut Cursor::new(&[b, 0xff]), layout);
                let mut out = Vec::new();
                name.write_in(&mut out, layout);
                assert_eq!(
                    Name::read_in(&mut Cursor::new(&out), layout),
                    name,
                    "{name:?} round-trips"
                );
                assert_eq!(out.len(), 1, "{name:?} keeps a one-byte form");
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
    }

    #[test]
    fn group_names_split_a_character_at_byte_128_twice_as_often_as_other_names() {
        // Over every pair of leading bytes (shape, length), as a mutator would draw them.
        let split_at_128 = |read: fn(&mut Cursor<'_>) -> Name| {
            (0..=u16::MAX)
                .filter(|pair| {
                    let name = read(&mut Cursor::new(&pair.to_be_bytes()));
                    let s = name.render(|n| format!("g{n}"));
                    std::str::from_utf8(&s).is_ok_and(|s| s.len() > 128 && !s.is_char_boundary(128))
                })
                .count()
        };
        let (names, groups) = (split_at_128(Name::read), split_at_128(Name::read_group));
        assert!(names > 0, "some name splits a character at byte 128");
        assert!(groups >= 2 * names, "{groups} group pairs against {names}");
    }

    #[test]
    fn group_names_round_trip_and_keep_the_other_shapes() {
        for b in 0..=255u8 {
            let bytes = [b, 5, 1, 2, 3, 4, 5];
            let name = Name::read_group(&mut Cursor::new(&bytes));
            let mut out = Vec::new();
            name.write_group(&mut out);
            assert_eq!(Name::read_group(&mut Cursor::new(&out)), name, "byte {b}");
            if b >= SHAPES {
                assert_eq!(name, Name::read(&mut Cursor::new(&bytes)), "byte {b}");
            }
        }
        // Pool names keep their rendering through the smaller pool range.
        let mut out = Vec::new();
        Name::Pool(140).write_group(&mut out);
        let back = Name::read_group(&mut Cursor::new(&out));
        let g3 = |n: u8| format!("g{}", n % 3);
        assert_eq!(back.render(g3), Name::Pool(140).render(g3));
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
