//! Replays every committed corpus file through its target, twice: it must not violate an
//! oracle (panic) and must give the same outcome both times (determinism). One test per
//! target, so `cargo test corpus::frame` narrows it. `corpus::isolation` checks that runs on
//! several threads at once (as the gate runs them) do not change each other's outcomes.

use libtest_mimic::{Arguments, Failed, Trial};
use std::path::Path;
use wkfuzz::targets::{corpus, Target};

/// The registered target called `name`.
fn target(name: &str) -> Target {
    Target::from_name(name).expect("registered target")
}

fn replay(target: Target) -> Result<(), Failed> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let files = corpus::files(&root, target).map_err(|e| format!("reading corpus: {e}"))?;
    if files.is_empty() {
        return Err(format!("corpus/{} is empty", target.name()).into());
    }
    for path in files {
        let data = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        let first = target.run(&data);
        let second = target.run(&data);
        if first != second {
            return Err(format!(
                "{} is not deterministic:\n  first:  {first}\n  second: {second}",
                path.display()
            )
            .into());
        }
    }
    Ok(())
}

/// The first `n` files of each TLS target's corpus, run alone on one thread, then on four
/// threads at once, each in its own order: every outcome must match. A server session cache
/// shared between runs once made a resumption depend on what other threads had stored.
fn isolation(n: usize) -> Result<(), Failed> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut inputs = Vec::new();
    for target in [target("session"), target("handshake"), target("records")] {
        let files = corpus::files(&root, target).map_err(|e| format!("reading corpus: {e}"))?;
        for path in files.into_iter().take(n) {
            let data = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            inputs.push((target, path, data));
        }
    }
    let alone: Vec<_> = inputs.iter().map(|(t, _, d)| t.run(d)).collect();
    let together: Vec<Vec<_>> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|k| {
                let inputs = &inputs;
                s.spawn(move || {
                    // Thread k starts k-quarters of the way in, so neighbours differ.
                    let start = k * inputs.len() / 4;
                    let mut out = vec![None; inputs.len()];
                    for i in (0..inputs.len()).map(|i| (i + start) % inputs.len()) {
                        let (t, _, d) = &inputs[i];
                        out[i] = Some(t.run(d));
                    }
                    out.into_iter().flatten().collect()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or_default())
            .collect()
    });
    for outcomes in &together {
        if outcomes.len() != inputs.len() {
            return Err("a replay thread panicked".into());
        }
        for (((_, path, _), a), b) in inputs.iter().zip(&alone).zip(outcomes) {
            if a != b {
                return Err(format!(
                    "{} depends on other runs:\n  alone:    {a}\n  together: {b}",
                    path.display()
                )
                .into());
            }
        }
    }
    Ok(())
}

fn main() {
    let args = Arguments::from_args();
    let mut trials: Vec<Trial> = Target::gated()
        .iter()
        .map(|&t| Trial::test(format!("corpus::{}", t.name()), move || replay(t)))
        .collect();
    trials.push(Trial::test("corpus::isolation", || isolation(60)));
    libtest_mimic::run(&args, trials).exit();
}
