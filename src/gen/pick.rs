//! Weighted choices over an [`Unstructured`], shaped so that input which reads as zeros (an
//! exhausted `Unstructured` returns zeros) picks the first, most ordinary option, and
//! deviations sit at the top of a byte's range. Every function here is total: it returns
//! `Err` only when `arbitrary` itself does, and never panics.

use arbitrary::{Arbitrary, Result, Unstructured};

/// An index into `weights`, chosen with probability proportional to each weight (two input
/// bytes; zeros pick index 0). An all-zero table picks 0.
pub(crate) fn pick(u: &mut Unstructured<'_>, weights: &[u16]) -> Result<usize> {
    let total: u32 = weights.iter().map(|&w| u32::from(w)).sum();
    if total == 0 {
        return Ok(0);
    }
    let mut roll = u32::from(u16::arbitrary(u)?) % total;
    for (i, &w) in weights.iter().enumerate() {
        let w = u32::from(w);
        if roll < w {
            return Ok(i);
        }
        roll -= w;
    }
    Ok(0)
}

/// True with probability `per_256 / 256` (one input byte; zero reads as false).
pub(crate) fn rarely(u: &mut Unstructured<'_>, per_256: u8) -> Result<bool> {
    let byte = u8::arbitrary(u)?;
    Ok(u16::from(byte) + u16::from(per_256) > 255)
}

/// A count in `0..=max`, usually small: 0 about half the time, 1 a quarter, 2 an eighth,
/// otherwise anything up to `max`.
pub(crate) fn small_count(u: &mut Unstructured<'_>, max: usize) -> Result<usize> {
    let n = match pick(u, &[8, 4, 2, 2])? {
        0 => 0,
        1 => 1,
        2 => 2,
        _ => u.int_in_range(0..=max)?,
    };
    Ok(n.min(max))
}

/// Up to `max` raw bytes, taken directly from the input (cheaper and more mutation-friendly
/// than `Vec<u8>::arbitrary`, which spends a continuation byte per element).
pub(crate) fn bytes_up_to(u: &mut Unstructured<'_>, max: usize) -> Result<Vec<u8>> {
    let n = u.int_in_range(0..=max)?.min(u.len());
    Ok(u.bytes(n)?.to_vec())
}

/// Exactly `n` bytes: taken from the input while it lasts, zeros after.
pub(crate) fn bytes_exact(u: &mut Unstructured<'_>, n: usize) -> Result<Vec<u8>> {
    let take = n.min(u.len());
    let mut v = u.bytes(take)?.to_vec();
    v.resize(n, 0);
    Ok(v)
}

/// `items` with `item` inserted at an input-chosen position (`0..=items.len()`).
pub(crate) fn insert_anywhere<T>(
    u: &mut Unstructured<'_>,
    items: &mut Vec<T>,
    item: T,
) -> Result<()> {
    let at = u.int_in_range(0..=items.len())?.min(items.len());
    items.insert(at, item);
    Ok(())
}

/// The prefix of `bytes` no longer than `max` (encoders cap every field with this, so a
/// hand-built model with a huge field still encodes within its bound).
pub(crate) fn capped(bytes: &[u8], max: usize) -> &[u8] {
    bytes.get(..max).unwrap_or(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zeros_pick_the_first_option() {
        let mut u = Unstructured::new(&[]);
        assert_eq!(pick(&mut u, &[1, 100, 100]).unwrap(), 0);
        assert!(!rarely(&mut u, 200).unwrap());
        assert_eq!(small_count(&mut u, 9).unwrap(), 0);
        assert!(bytes_up_to(&mut u, 9).unwrap().is_empty());
        assert_eq!(bytes_exact(&mut u, 3).unwrap(), vec![0, 0, 0]);
    }

    #[test]
    fn rarely_has_the_stated_rate() {
        let data: Vec<u8> = (0..=255).collect();
        let mut u = Unstructured::new(&data);
        let hits = (0..256).filter(|_| rarely(&mut u, 10).unwrap()).count();
        assert_eq!(hits, 10);
    }

    #[test]
    fn capped_never_panics() {
        assert_eq!(capped(b"abc", 2), b"ab");
        assert_eq!(capped(b"abc", 9), b"abc");
    }
}
