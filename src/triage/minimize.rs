//! Delta debugging (Zeller's ddmin) that keeps a crash's signature: the built-in
//! minimizer for stable Rust when `cargo fuzz tmin` is not available. [`ddmin_by`] is the
//! algorithm over any list (bytes here, a live server's wire bytes or script steps in
//! `wkfuzz attack`).

use super::capture::run_caught;
use super::signature::Signature;
use crate::targets::Target;

/// Most target runs one minimization may spend.
pub const MAX_RUNS: usize = 4000;

/// The smallest input found that still crashes with `want`, and how many runs it took.
pub fn ddmin(target: Target, data: &[u8], want: &Signature) -> (Vec<u8>, usize) {
    let runs = std::cell::Cell::new(0usize);
    let keeps = |candidate: &[u8]| -> bool {
        runs.set(runs.get() + 1);
        matches!(run_caught(target, candidate), Err(c) if &c.signature == want)
    };
    let (mut current, _) = ddmin_by(data, MAX_RUNS, keeps);
    // Then try zeroing bytes (smaller values read more simply in hex).
    for i in 0..current.len() {
        if runs.get() >= MAX_RUNS {
            break;
        }
        if current.get(i).copied().unwrap_or(0) == 0 {
            continue;
        }
        let mut candidate = current.clone();
        if let Some(b) = candidate.get_mut(i) {
            *b = 0;
        }
        if keeps(&candidate) {
            current = candidate;
        }
    }
    (current, runs.get())
}

/// Zeller's ddmin over `items`: removes ever smaller chunks while `keeps` still holds for
/// what is left, calling it at most `max_tests` times. Returns the smallest list found
/// (`items` itself if nothing could go) and the number of calls.
pub fn ddmin_by<T: Clone>(
    items: &[T],
    max_tests: usize,
    mut keeps: impl FnMut(&[T]) -> bool,
) -> (Vec<T>, usize) {
    let mut tests = 0usize;
    let mut current = items.to_vec();
    let mut chunks = 2usize;
    while current.len() >= 2 && tests < max_tests {
        let size = current.len().div_ceil(chunks);
        let mut reduced = false;
        let mut start = 0usize;
        while start < current.len() && tests < max_tests {
            let end = start.saturating_add(size).min(current.len());
            // Try the complement of [start, end).
            let mut candidate = Vec::with_capacity(current.len());
            candidate.extend_from_slice(current.get(..start).unwrap_or_default());
            candidate.extend_from_slice(current.get(end..).unwrap_or_default());
            tests += 1;
            if keeps(&candidate) {
                current = candidate;
                chunks = chunks.saturating_sub(1).max(2);
                reduced = true;
                break;
            }
            start = end;
        }
        if !reduced {
            if size <= 1 {
                break;
            }
            chunks = chunks.saturating_mul(2).min(current.len());
        }
    }
    (current, tests)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ddmin_finds_the_items_that_matter() {
        let items: Vec<u32> = (0..100).collect();
        let (min, tests) = ddmin_by(&items, 1000, |c| c.contains(&17) && c.contains(&83));
        assert_eq!(min, vec![17, 83]);
        assert!(tests < 200, "{tests} tests");
        let (one, _) = ddmin_by(&items, 1000, |_| true);
        assert_eq!(one.len(), 1);
        let (capped, tests) = ddmin_by(&items, 3, |c| c.contains(&17));
        assert_eq!(tests, 3);
        assert!(capped.contains(&17));
    }
}
