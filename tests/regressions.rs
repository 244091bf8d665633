//! Every regression in `regressions/<target>/` replayed through its target: one test per
//! file, named `<target>::<slug>`, asserting it no longer panics, gives the same outcome
//! twice, and matches its pinned outcome if it has one; and every wire regression in
//! `regressions/wire/` replayed twice over sockets against an in-process reference server
//! (`wire::<slug>`), which must keep serving with no connection panicking. Part of
//! `cargo test`, so every contributor runs the release gate's regression half.

use libtest_mimic::{Arguments, Failed, Trial};
use std::path::Path;
use wkfuzz::triage::regression;

/// Memory limits in the gate need this; here it keeps the test binary like the CLI.
#[global_allocator]
static ALLOC: wkfuzz::triage::alloc::CountingAlloc = wkfuzz::triage::alloc::CountingAlloc;

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let mut trials = match regression::load_all(&root) {
        Ok(regs) => regs
            .into_iter()
            .map(|r| {
                let name = format!("{}::{}", r.target.name(), r.slug);
                Trial::test(name, move || match regression::check(&r) {
                    None => Ok(()),
                    Some(why) => Err(Failed::from(format!(
                        "{} ({}): {why}\nreproduce: wkfuzz repro {}",
                        r.meta.title,
                        r.bin.display(),
                        r.bin.display()
                    ))),
                })
            })
            .collect(),
        Err(e) => vec![Trial::test("regressions::load", move || {
            Err(Failed::from(e.to_string()))
        })],
    };
    match wkfuzz::attack::regression::load_dir(&root.join(wkfuzz::attack::regression::DIR)) {
        Ok(regs) => trials.extend(regs.into_iter().map(|r| {
            Trial::test(format!("wire::{}", r.slug), move || {
                wkfuzz::attack::replay::check(&r).map_err(|why| {
                    Failed::from(format!(
                        "{} ({}): {why}\nreproduce: {}",
                        r.meta.title,
                        r.bin.display(),
                        wkfuzz::attack::replay::replay_command(&r)
                    ))
                })
            })
        })),
        Err(e) => trials.push(Trial::test("wire::load", move || Err(Failed::from(e)))),
    }
    libtest_mimic::run(&args, trials).exit();
}
