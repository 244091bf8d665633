//! `wkfuzz coverage`: what the corpus and regressions reach (instrumented build, one replay
//! per target, llvm-cov), as a terminal table, an HTML report, an lcov file and the list of
//! unreached peer-input code; `--min-coverage` turns it into a CI check.

use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;
use wkfuzz::coverage::run::{self, CoverageConfig};
use wkfuzz::coverage::threshold::{self, MinCoverage};
use wkfuzz::coverage::{instrument, replay, table};
use wkfuzz::pages;

#[derive(Debug, Args)]
pub(crate) struct Coverage {
    /// Targets to replay (default: every target the gate replays).
    targets: Vec<String>,
    /// Exit 1 when line coverage is below PCT: `85` (all reported code), `peer=85` (the
    /// peer-input modules together) or `MODULE=85` (e.g. `session=90`). Repeatable.
    #[arg(long = "min-coverage", value_name = "[SCOPE=]PCT")]
    min_coverage: Vec<MinCoverage>,
    /// Corpus root.
    #[arg(long, default_value = "corpus")]
    corpus: PathBuf,
    /// Regressions root.
    #[arg(long, default_value = "regressions")]
    regressions: PathBuf,
    /// Report directory (index.html, html/, lcov.info, summary.json, unreached.txt).
    #[arg(long, default_value = "target/coverage-report")]
    out: PathBuf,
    /// Reuse the instrumented binary in target/coverage instead of building it.
    #[arg(long)]
    no_build: bool,
    /// Skip llvm-cov's per-file HTML pages.
    #[arg(long)]
    no_html: bool,
    /// Worker threads [default: number of CPUs]
    #[arg(long)]
    jobs: Option<usize>,
    /// Internal: replay one target inside the instrumented binary.
    #[arg(long, hide = true, value_name = "T")]
    replay: Option<String>,
}

fn target(name: &str) -> anyhow::Result<wkfuzz::targets::Target> {
    run::target_named(name).ok_or_else(|| anyhow::anyhow!("no target named {name:?}"))
}

impl Coverage {
    pub(crate) fn run(self) -> anyhow::Result<ExitCode> {
        let root = std::env::current_dir()?;
        let mut config = CoverageConfig::new(&instrument::checkout_root(&root)?);
        if let Some(j) = self.jobs {
            config.jobs = j.max(1);
        }
        if let Some(name) = &self.replay {
            let (_, failed) =
                replay::replay(target(name)?, self.corpus, self.regressions, config.jobs)?;
            return Ok(if failed == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            });
        }
        if !self.targets.is_empty() {
            config.targets = self
                .targets
                .iter()
                .map(|n| target(n))
                .collect::<anyhow::Result<_>>()?;
        }
        config.corpus = root.join(self.corpus);
        config.regressions = root.join(self.regressions);
        config.out = root.join(self.out);
        config.build = !self.no_build;
        config.html = !self.no_html;
        let result = run::run(&config, &|line| eprintln!("{line}"))?;
        let page = config.out.join("index.html");
        pages::coverage::write(&page, &result)?;
        print!("{}", table::table(&result.summary));
        println!(
            "\ntime: build {:.1} s, replay {:.1} s, report {:.1} s",
            result.build_secs, result.replay_secs, result.report_secs
        );
        println!("report: {}", page.display());
        println!("lcov:   {}", result.files.lcov.display());
        println!(
            "unreached (all ranges): {}",
            result.files.unreached.display()
        );
        for w in &result.warnings {
            println!("warning: {w}");
        }
        let misses = threshold::check(&result.summary, &self.min_coverage);
        for m in &misses {
            println!("coverage below the minimum: {m}");
        }
        Ok(if misses.is_empty() {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    }
}
