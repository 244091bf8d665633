//! Byte-level mutations (AFL's havoc, in small): one to four stacked edits of an input,
//! drawn from a seeded RNG so a run is repeatable. Applied to a generator's input (a
//! corpus file or a fresh one), so structured inputs stay structured: a mutated session
//! script is still a script, a mutated ClientHello model still a ClientHello.

use rand::Rng;

/// Longest mutated input.
pub const MAX_LEN: usize = 64 * 1024;

/// Values that break length checks and signed reads.
const INTERESTING_8: [u8; 6] = [0x00, 0x01, 0x7f, 0x80, 0xfe, 0xff];
const INTERESTING_16: [u16; 6] = [0x0000, 0x0001, 0x7fff, 0x8000, 0xfffe, 0xffff];

/// `data` after one to four random edits; `other` is spliced in by one of them.
pub fn mutate(data: &[u8], other: &[u8], rng: &mut impl Rng) -> Vec<u8> {
    let mut out = data.to_vec();
    for _ in 0..rng.gen_range(1..=4) {
        edit(&mut out, other, rng);
    }
    out.truncate(MAX_LEN);
    out
}

fn edit(out: &mut Vec<u8>, other: &[u8], rng: &mut impl Rng) {
    let len = out.len();
    let at = if len == 0 { 0 } else { rng.gen_range(0..len) };
    match rng.gen_range(0..9) {
        0 => {
            if let Some(b) = out.get_mut(at) {
                *b ^= 1 << rng.gen_range(0..8);
            }
        }
        1 => {
            if let Some(b) = out.get_mut(at) {
                *b = rng.gen();
            }
        }
        2 => {
            if let Some(b) = out.get_mut(at) {
                *b = INTERESTING_8[rng.gen_range(0..INTERESTING_8.len())];
            }
        }
        3 => {
            let v = INTERESTING_16[rng.gen_range(0..INTERESTING_16.len())].to_be_bytes();
            for (i, b) in v.iter().enumerate() {
                if let Some(slot) = out.get_mut(at + i) {
                    *slot = *b;
                }
            }
        }
        4 => {
            let n = rng.gen_range(1..=8);
            let bytes: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
            out.splice(at..at, bytes);
        }
        5 => {
            let end = (at + rng.gen_range(1..=16)).min(len);
            out.drain(at..end);
        }
        6 => {
            let end = (at + rng.gen_range(1..=32)).min(len);
            let chunk = out.get(at..end).unwrap_or_default().to_vec();
            let to = if len == 0 { 0 } else { rng.gen_range(0..=len) };
            out.splice(to..to, chunk);
        }
        7 => {
            if !other.is_empty() {
                let from = rng.gen_range(0..other.len());
                out.truncate(at);
                out.extend_from_slice(other.get(from..).unwrap_or_default());
            }
        }
        _ => out.truncate(at),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn mutations_are_repeatable_and_bounded() {
        let run = || {
            let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
            (0..200)
                .map(|i| mutate(&vec![i as u8; i], b"other", &mut rng))
                .collect::<Vec<_>>()
        };
        let a = run();
        assert_eq!(a, run());
        assert!(a.iter().all(|m| m.len() <= MAX_LEN));
        assert!(a.iter().zip(0..).any(|(m, i)| m != &vec![i as u8; i]));
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        for _ in 0..100 {
            mutate(&[], &[], &mut rng);
        }
    }
}
