//! What a target run produced: a verdict and counters, compared across runs to prove
//! determinism and summed across a corpus for coverage-style metrics.

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// The deterministic result of one target run.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// One line: what happened to the input (e.g. `decoded 3 frames`, `rejected: ...`).
    pub verdict: String,
    /// Named counts (BTreeMap: a fixed order in every output).
    pub counters: BTreeMap<&'static str, u64>,
}

impl Outcome {
    /// An outcome with a verdict and no counters.
    pub fn new(verdict: impl Into<String>) -> Outcome {
        Outcome {
            verdict: verdict.into(),
            counters: BTreeMap::new(),
        }
    }

    /// Adds `n` to counter `name`.
    pub fn count(&mut self, name: &'static str, n: u64) {
        let c = self.counters.entry(name).or_insert(0);
        *c = c.saturating_add(n);
    }

    /// Counter `name`, 0 if absent.
    pub fn get(&self, name: &str) -> u64 {
        self.counters.get(name).copied().unwrap_or(0)
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.verdict)?;
        for (k, v) in &self.counters {
            write!(f, " {k}={v}")?;
        }
        Ok(())
    }
}

/// Classic 16-bytes-per-line hex dump, for raw-byte targets' readable form.
pub(crate) fn hexdump(data: &[u8]) -> String {
    let mut out = String::new();
    for (i, line) in data.chunks(16).enumerate() {
        let _ = write!(out, "{:08x}  ", i * 16);
        for b in line {
            let _ = write!(out, "{b:02x} ");
        }
        for _ in line.len()..16 {
            out.push_str("   ");
        }
        out.push(' ');
        out.extend(line.iter().map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                b as char
            } else {
                '.'
            }
        }));
        out.push('\n');
    }
    if data.is_empty() {
        out.push_str("(empty)\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hexdump_shows_offsets_bytes_and_ascii() {
        let d = hexdump(b"PROXY TCP4 1.2.3.4\r\n");
        assert_eq!(d.lines().count(), 2);
        assert!(d.starts_with("00000000  50 52 4f 58"), "{d}");
        assert!(d.contains("PROXY TCP4 1.2.3"), "{d}");
        assert!(
            d.lines()
                .nth(1)
                .unwrap()
                .starts_with("00000010  2e 34 0d 0a"),
            "{d}"
        );
    }

    #[test]
    fn display_lists_counters_in_order() {
        let mut o = Outcome::new("ok");
        o.count("b", 2);
        o.count("a", 1);
        o.count("a", 1);
        assert_eq!(o.to_string(), "ok a=2 b=2");
    }
}
