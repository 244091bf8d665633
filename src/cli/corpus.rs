//! `wkfuzz seed-corpus`: writes the generated seeds into the corpus directory.

use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use wkfuzz::targets::Target;

#[derive(Debug, Args)]
pub(crate) struct SeedCorpus {
    /// Corpus root (one directory per target).
    #[arg(long, default_value = "corpus")]
    dir: PathBuf,
    /// Only these targets (default: every target shipped to the fuzzers).
    #[arg(long = "target", value_name = "T")]
    targets: Vec<String>,
}

impl SeedCorpus {
    pub(crate) fn run(self) -> anyhow::Result<ExitCode> {
        let targets = if self.targets.is_empty() {
            Target::shipped()
        } else {
            self.targets
                .iter()
                .map(|n| {
                    Target::from_name(n).ok_or_else(|| anyhow::anyhow!("no target named {n:?}"))
                })
                .collect::<anyhow::Result<_>>()?
        };
        let new = wkfuzz::targets::corpus::write_seeds(&self.dir, &targets)?;
        println!("wrote {new} new seed files under {}", self.dir.display());
        Ok(ExitCode::SUCCESS)
    }
}
