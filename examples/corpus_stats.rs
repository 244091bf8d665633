//! Replays a corpus through a fuzz target in-process and sums the targets' `Outcome`
//! counters: what libFuzzer does not print (how many inputs complete a handshake, get a
//! CONNACK Success, deliver a RECV, ...).
//!
//! ```sh
//! cargo run --release --example corpus_stats -- <target> <dir>... [--mutate M] [--seed S]
//! ```
//!
//! Prints, for every counter, its sum and the number (and share) of inputs where it is > 0,
//! and the most common kinds of verdict (e.g. `records`' `handshake done`).
//! With `--mutate M` it also generates M inputs the way libFuzzer does between corpus
//! additions (a random corpus input, then 1 to 5 stacked mutations: bit flips, byte
//! changes, inserts, erases, copies, integer tweaks, splices with another corpus input; seeded,
//! so repeatable), runs them, and prints the same table over those: an estimate of the share
//! of *executions* (not corpus inputs) that reach each counter.
//!
//! A panicking input (an oracle violation) is counted and named, not fatal.

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::collections::BTreeMap;
use std::path::PathBuf;
use wkfuzz::targets::Target;

struct Tally {
    inputs: u64,
    panics: Vec<String>,
    sum: BTreeMap<&'static str, u64>,
    nonzero: BTreeMap<&'static str, u64>,
    /// Inputs per verdict kind (the verdict up to its first ':' or '(', 48 chars at most).
    verdicts: BTreeMap<String, u64>,
}

impl Tally {
    fn new() -> Tally {
        Tally {
            inputs: 0,
            panics: Vec::new(),
            sum: BTreeMap::new(),
            nonzero: BTreeMap::new(),
            verdicts: BTreeMap::new(),
        }
    }

    fn run(&mut self, target: Target, name: &str, data: &[u8]) {
        self.inputs += 1;
        match std::panic::catch_unwind(|| target.run(data)) {
            Ok(outcome) => {
                let kind: String = outcome
                    .verdict
                    .split([':', '('])
                    .next()
                    .unwrap_or_default()
                    .chars()
                    .take(48)
                    .collect();
                *self.verdicts.entry(kind.trim().to_owned()).or_insert(0) += 1;
                for (&k, &v) in &outcome.counters {
                    *self.sum.entry(k).or_insert(0) += v;
                    if v > 0 {
                        *self.nonzero.entry(k).or_insert(0) += 1;
                    }
                }
            }
            Err(_) => self.panics.push(name.to_owned()),
        }
    }

    fn print(&self, title: &str) {
        println!(
            "\n{title}: {} inputs, {} panicked",
            self.inputs,
            self.panics.len()
        );
        println!(
            "{:<24} {:>12} {:>10} {:>8}",
            "counter", "sum", "inputs>0", "share"
        );
        for (k, v) in &self.sum {
            let n = self.nonzero.get(k).copied().unwrap_or(0);
            println!(
                "{:<24} {:>12} {:>10} {:>7.1}%",
                k,
                v,
                n,
                100.0 * n as f64 / self.inputs.max(1) as f64
            );
        }
        let mut kinds: Vec<_> = self.verdicts.iter().collect();
        kinds.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
        println!("{:<50} {:>10} {:>8}", "verdict (kind)", "inputs", "share");
        for (k, n) in kinds.iter().take(8) {
            println!(
                "{:<50} {:>10} {:>7.1}%",
                k,
                n,
                100.0 * **n as f64 / self.inputs.max(1) as f64
            );
        }
        for p in self.panics.iter().take(10) {
            println!("PANIC: {p}");
        }
    }
}

/// libFuzzer-like mutations (a subset of its `MutationDispatcher`), on `data` in place.
fn mutate(rng: &mut ChaCha20Rng, data: &mut Vec<u8>, other: &[u8], max_len: usize) {
    const INTERESTING: [u64; 10] = [
        0,
        1,
        0x7f,
        0x80,
        0xff,
        0x100,
        0x7fff,
        0xffff,
        0x8000_0000,
        u64::MAX,
    ];
    let depth = rng.gen_range(1..=5);
    for _ in 0..depth {
        let len = data.len();
        match rng.gen_range(0..9) {
            // EraseBytes
            0 if len > 1 => {
                let n = rng.gen_range(1..=len.clamp(1, 16));
                let at = rng.gen_range(0..=len - n);
                data.drain(at..at + n);
            }
            // InsertByte / InsertRepeatedBytes
            1 | 2 if len < max_len => {
                let n = if rng.gen_bool(0.5) {
                    1
                } else {
                    rng.gen_range(2..=16)
                };
                let n = n.min(max_len - len);
                let b: u8 = rng.gen();
                let at = rng.gen_range(0..=len);
                data.splice(at..at, std::iter::repeat_n(b, n));
            }
            // ChangeByte
            3 if len > 0 => {
                let at = rng.gen_range(0..len);
                data[at] = rng.gen();
            }
            // ChangeBit
            4 if len > 0 => {
                let at = rng.gen_range(0..len);
                data[at] ^= 1 << rng.gen_range(0..8);
            }
            // ChangeBinaryInteger (1, 2, 4 or 8 bytes, either endianness)
            5 if len > 0 => {
                let w = [1usize, 2, 4, 8][rng.gen_range(0..4)].min(len);
                let at = rng.gen_range(0..=len - w);
                let v = if rng.gen_bool(0.5) {
                    INTERESTING[rng.gen_range(0..INTERESTING.len())]
                } else {
                    let mut b = [0u8; 8];
                    b[..w].copy_from_slice(&data[at..at + w]);
                    u64::from_le_bytes(b)
                        .wrapping_add(rng.gen_range(0..=20))
                        .wrapping_sub(10)
                };
                let bytes = if rng.gen_bool(0.5) {
                    v.to_le_bytes()
                } else {
                    v.to_be_bytes()
                };
                let src = if rng.gen_bool(0.5) {
                    &bytes[..w]
                } else {
                    &bytes[8 - w..]
                };
                data[at..at + w].copy_from_slice(src);
            }
            // CopyPart (overwrite) within the input
            6 if len > 1 => {
                let n = rng.gen_range(1..=len.min(32));
                let from = rng.gen_range(0..=len - n);
                let to = rng.gen_range(0..=len - n);
                let part = data[from..from + n].to_vec();
                data[to..to + n].copy_from_slice(&part);
            }
            // ShuffleBytes
            7 if len > 1 => {
                let n = rng.gen_range(2..=len.min(8));
                let at = rng.gen_range(0..=len - n);
                for i in (1..n).rev() {
                    let j = rng.gen_range(0..=i);
                    data.swap(at + i, at + j);
                }
            }
            // CrossOver with another corpus input: a prefix of one, a suffix of the other
            8 if !other.is_empty() => {
                let a = rng.gen_range(0..=len);
                let b = rng.gen_range(0..other.len());
                data.truncate(a);
                data.extend_from_slice(&other[b..]);
                data.truncate(max_len);
            }
            _ => {
                if len < max_len {
                    data.push(rng.gen());
                }
            }
        }
    }
}

fn main() {
    let mut args = std::env::args().skip(1);
    let usage = "usage: corpus_stats <target> <dir>... [--mutate M] [--seed S]";
    let target_name = args.next().expect(usage);
    let target = Target::from_name(&target_name).expect("unknown target");
    let mut dirs = Vec::new();
    let mut mutate_n = 0u64;
    let mut seed = 1u64;
    while let Some(a) = args.next() {
        match a.as_str() {
            "--mutate" => mutate_n = args.next().expect(usage).parse().expect(usage),
            "--seed" => seed = args.next().expect(usage).parse().expect(usage),
            _ => dirs.push(PathBuf::from(a)),
        }
    }
    // Oracle panics are counted, not printed in full.
    std::panic::set_hook(Box::new(|_| {}));

    let mut corpus: Vec<(String, Vec<u8>)> = Vec::new();
    for dir in &dirs {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        entries.sort();
        for p in entries {
            let data = std::fs::read(&p).expect("readable corpus file");
            corpus.push((p.display().to_string(), data));
        }
    }
    assert!(!corpus.is_empty(), "no inputs in {dirs:?}");

    let start = std::time::Instant::now();
    let mut tally = Tally::new();
    for (name, data) in &corpus {
        tally.run(target, name, data);
    }
    tally.print(&format!(
        "{target} corpus ({} dirs, {:.1} s)",
        dirs.len(),
        start.elapsed().as_secs_f64()
    ));

    if mutate_n > 0 {
        let max_len = corpus
            .iter()
            .map(|(_, d)| d.len())
            .max()
            .unwrap_or(0)
            .max(4096);
        let mut rng = ChaCha20Rng::seed_from_u64(seed);
        let start = std::time::Instant::now();
        let mut tally = Tally::new();
        for i in 0..mutate_n {
            let (_, base) = &corpus[rng.gen_range(0..corpus.len())];
            let (_, other) = &corpus[rng.gen_range(0..corpus.len())];
            let mut data = base.clone();
            mutate(&mut rng, &mut data, other, max_len);
            tally.run(target, &format!("mutant #{i} (seed {seed})"), &data);
        }
        tally.print(&format!(
            "{target}: {mutate_n} mutated inputs (seed {seed}, max_len {max_len}, {:.1} s)",
            start.elapsed().as_secs_f64()
        ));
    }
}
