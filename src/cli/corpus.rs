//! `wkfuzz seed-corpus`: writes the generated seeds into the corpus directory.

use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub(crate) struct SeedCorpus {
    /// Corpus root (one directory per target).
    #[arg(long, default_value = "corpus")]
    dir: PathBuf,
}

impl SeedCorpus {
    pub(crate) fn run(self) -> anyhow::Result<ExitCode> {
        let new = wkfuzz::targets::corpus::write_seeds(&self.dir)?;
        println!("wrote {new} new seed files under {}", self.dir.display());
        Ok(ExitCode::SUCCESS)
    }
}
