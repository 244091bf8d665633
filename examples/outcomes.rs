//! Prints the outcome of every corpus file and regression, one line each, so that a
//! refactoring can be checked to change no behaviour: record on the old commit, compare on
//! the new one.
//!
//! ```sh
//! cargo run --release --example outcomes > before.tsv     # on the old commit
//! cargo run --release --example outcomes > after.tsv      # on the new one
//! diff before.tsv after.tsv
//! ```
//!
//! A line is `target<TAB>file<TAB>outcome`, where the outcome is the target's verdict and
//! counters, or `PANIC <message>` when an oracle fired. Optional arguments name targets.

use std::path::Path;
use wkfuzz::targets::{corpus, Target};
use wkfuzz::triage::capture::run_caught;
use wkfuzz::triage::regression;

fn main() {
    let wanted: Vec<String> = std::env::args().skip(1).collect();
    let keep = |t: Target| wanted.is_empty() || wanted.iter().any(|w| w == t.name());
    for target in Target::shipped() {
        if !keep(target) {
            continue;
        }
        for path in corpus::files(Path::new("corpus"), target).unwrap_or_default() {
            let data = std::fs::read(&path).unwrap_or_default();
            println!("{target}\t{}\t{}", path.display(), render(target, &data));
        }
    }
    for reg in regression::load_all(Path::new("regressions")).unwrap_or_default() {
        if keep(reg.target) && reg.target.name() != "selftest" {
            let line = render(reg.target, &reg.data);
            println!("{}\t{}\t{line}", reg.target, reg.bin.display());
        }
    }
}

fn render(target: Target, data: &[u8]) -> String {
    match run_caught(target, data) {
        Ok(outcome) => outcome.to_string(),
        Err(crash) => format!("PANIC {}", crash.message),
    }
}
