//! Replays every committed corpus file through its target, twice: it must not violate an
//! oracle (panic) and must give the same outcome both times (determinism). One test per
//! target, so `cargo test corpus::frame` narrows it.

use libtest_mimic::{Arguments, Failed, Trial};
use std::path::Path;
use wkfuzz::targets::{corpus, Target};

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

fn main() {
    let args = Arguments::from_args();
    let trials = Target::ALL
        .iter()
        .map(|&t| Trial::test(format!("corpus::{}", t.name()), move || replay(t)))
        .collect();
    libtest_mimic::run(&args, trials).exit();
}
