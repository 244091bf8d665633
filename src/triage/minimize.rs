//! Delta debugging (Zeller's ddmin, on bytes) that keeps a crash's signature: the built-in
//! minimizer for stable Rust when `cargo fuzz tmin` is not available.

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
    let mut current = data.to_vec();
    let mut chunks = 2usize;
    while current.len() >= 2 && runs.get() < MAX_RUNS {
        let size = current.len().div_ceil(chunks);
        let mut reduced = false;
        let mut start = 0usize;
        while start < current.len() && runs.get() < MAX_RUNS {
            let end = start.saturating_add(size).min(current.len());
            // Try the complement of [start, end).
            let mut candidate = Vec::with_capacity(current.len());
            candidate.extend_from_slice(current.get(..start).unwrap_or_default());
            candidate.extend_from_slice(current.get(end..).unwrap_or_default());
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
