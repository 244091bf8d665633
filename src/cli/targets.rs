//! `wkfuzz targets`: the fuzz target registry, for people and for CI (the workflow's fuzz
//! matrix is `wkfuzz targets --json`).

use clap::{Args, ValueEnum};
use std::process::ExitCode;
use wkfuzz::targets::Target;

#[derive(Debug, Args)]
pub(crate) struct Targets {
    /// Which targets: those the gate replays and CI fuzzes, those shipped to
    /// ClusterFuzzLite (adds `net`), or every registered one (adds `selftest`).
    #[arg(long, value_enum, default_value_t = Which::Gated)]
    which: Which,
    /// Print a JSON array of names (for a CI matrix) instead of one name per line.
    #[arg(long, conflicts_with = "long")]
    json: bool,
    /// Print each target's membership and summary too.
    #[arg(long)]
    long: bool,
}

#[derive(Clone, Copy, Debug, ValueEnum)]
enum Which {
    Gated,
    Shipped,
    All,
}

impl Targets {
    pub(crate) fn run(self) -> anyhow::Result<ExitCode> {
        let targets = match self.which {
            Which::Gated => Target::gated(),
            Which::Shipped => Target::shipped(),
            Which::All => Target::every(),
        };
        if self.json {
            let names: Vec<&str> = targets.iter().map(|t| t.name()).collect();
            println!("{}", serde_json::to_string(&names)?);
        } else {
            for t in targets {
                if self.long {
                    let spec = t.spec();
                    let membership = format!("{:?}", spec.membership);
                    println!("{:<10} {membership:<9} {}", t.name(), spec.summary);
                } else {
                    println!("{t}");
                }
            }
        }
        Ok(ExitCode::SUCCESS)
    }
}
