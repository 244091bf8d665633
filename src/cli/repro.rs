//! `wkfuzz repro INPUT`: run one crash input in-process, print everything about it.

use clap::Args;
use std::process::ExitCode;
use wkfuzz::triage::{capture::run_caught, input};

#[derive(Debug, Args)]
pub(crate) struct Repro {
    /// A file, `hex:...` or `base64:...`.
    input: String,
    /// Target; default: from the path (corpus/<t>/, regressions/<t>/, fuzz/artifacts/<t>/)
    /// or the regression's .toml.
    #[arg(long)]
    target: Option<String>,
}

impl Repro {
    /// Exit 1 if the input reproduces a crash, 0 if it does not.
    pub(crate) fn run(self) -> anyhow::Result<ExitCode> {
        let input = input::read_input(&self.input)?;
        let target = input::resolve_target(self.target.as_deref(), &input)?;
        println!("target:  {target}");
        println!(
            "input:   {} ({} bytes, sha1 {})",
            input.spec,
            input.data.len(),
            wkfuzz::targets::corpus::file_name(&input.data)
        );
        println!("command: wkfuzz repro --target {target} {}", input.spec);
        println!(
            "\n--- the input as the target reads it ---\n{}",
            target.describe(&input.data)
        );
        println!("--- run (log at debug level unless --log/RUST_LOG say otherwise) ---");
        #[cfg(feature = "planted-bugs")]
        {
            let plan = wkfuzz::planted::plan();
            let ids: Vec<&str> = plan.iter().map(|b| b.id()).collect();
            println!(
                "planted: {}",
                if ids.is_empty() {
                    "none".into()
                } else {
                    ids.join(",")
                }
            );
            wkfuzz::planted::reset_counters();
        }
        let result = run_caught(target, &input.data);
        #[cfg(feature = "planted-bugs")]
        for c in wkfuzz::planted::snapshot()
            .iter()
            .filter(|c| c.reached + c.triggered > 0)
        {
            println!(
                "canary:  {} reached={} triggered={}",
                c.bug, c.reached, c.triggered
            );
        }
        match result {
            Ok(outcome) => {
                println!("\noutcome: {outcome}");
                println!("result:  does not reproduce (no oracle violated)");
                Ok(ExitCode::SUCCESS)
            }
            Err(crash) => {
                println!("\npanicked at {}", crash.location);
                println!("message:   {}", crash.message);
                println!("signature: {}", crash.signature);
                println!("\nbacktrace:\n{}", crash.backtrace);
                println!("result:  REPRODUCES");
                Ok(ExitCode::from(1))
            }
        }
    }
}
