//! `wkfuzz promote INPUT --target T --title "..."`: minimize a crash and keep it as a named
//! regression (and as a corpus seed), through [`wkfuzz::triage::promote`].

use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use wkfuzz::triage::input;
use wkfuzz::triage::promote::{self, Minimizer};

#[derive(Debug, Args)]
pub(crate) struct Promote {
    /// A file, `hex:...` or `base64:...`.
    input: String,
    /// Target (default: from the path).
    #[arg(long)]
    target: Option<String>,
    /// One line saying what the bug is.
    #[arg(long)]
    title: String,
    /// Where the input came from (default: the input argument).
    #[arg(long)]
    source: Option<String>,
    /// How to minimize.
    #[arg(long, value_enum, default_value_t = Minimizer::Auto)]
    minimizer: Minimizer,
    /// Regressions root.
    #[arg(long, default_value = "regressions")]
    regressions: PathBuf,
    /// Corpus root (the minimized input is added as a seed).
    #[arg(long, default_value = "corpus")]
    corpus: PathBuf,
    /// The bug is already fixed (the input no longer crashes): keep the input as it is,
    /// with the signature from the original report given by --signature.
    #[arg(long, requires = "signature")]
    fixed: bool,
    /// The crash signature, with --fixed.
    #[arg(long)]
    signature: Option<String>,
}

impl Promote {
    pub(crate) fn run(self) -> anyhow::Result<ExitCode> {
        let input = input::read_input(&self.input)?;
        let target = input::resolve_target(self.target.as_deref(), &input)?;
        let fixed = self.signature.as_deref().filter(|_| self.fixed);
        let found = promote::signature_to_keep(target, &input.data, fixed)?;
        if let Some(crash) = &found.crash {
            println!("crash:     {crash}");
        }
        println!("signature: {}", found.signature);
        promote::ensure_new(&self.regressions, target, &found.signature)?;
        let minimizer = if self.fixed {
            Minimizer::None
        } else {
            self.minimizer
        };
        let (minimized, notes) =
            promote::minimize(target, &input.data, &found.signature, minimizer);
        for note in notes {
            println!("{note}");
        }
        println!(
            "minimized: {} -> {} bytes",
            input.data.len(),
            minimized.len()
        );
        let source = self.source.as_deref().unwrap_or(&input.spec);
        let meta = promote::crash_meta(target, &self.title, &found.signature, source);
        let kept = promote::keep(&self.regressions, &self.corpus, target, &meta, &minimized)?;
        println!("wrote:     {} (+ .toml, .txt)", kept.bin.display());
        println!("corpus:    {}", kept.seed.display());
        println!("next: fix the bug; `cargo test --test regressions` and `wkfuzz gate` pass once it is fixed");
        Ok(ExitCode::SUCCESS)
    }
}
