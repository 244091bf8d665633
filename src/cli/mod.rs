//! Command-line interface: one enum of subcommands, one options file per subcommand; the
//! work itself lives in the library.

mod attack;
mod corpus;
mod coverage;
#[cfg(feature = "planted-bugs")]
mod eval;
mod fuzz;
mod gate;
mod load;
mod logging;
mod promote;
mod repro;
mod serve;
mod targets;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// wkfuzz: a robustness harness for TLS instant-messaging servers, and the reference
/// WuKongIM server it drives.
#[derive(Debug, Parser)]
#[command(name = "wkfuzz", version, about, long_about = None)]
struct Cli {
    #[command(flatten)]
    log: logging::LogArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// The harness's main job: fuzz every target for a short budget (cargo-fuzz, stable),
    /// then run the release gate, and summarize. Run it from the checkout.
    Fuzz(fuzz::Fuzz),
    /// What the corpus and regressions reach: an instrumented build replays them through
    /// each target; writes an HTML report, lcov, a per-module table and the unreached
    /// peer-input code. `--min-coverage` fails the run below a threshold.
    Coverage(coverage::Coverage),
    /// Attack a live server over the wire (tcp/tls/ws/wss URLs) with the corpus, fresh and
    /// mutated cases, IM scripts and witness clients; find what kills, hangs or crashes it,
    /// minimize the culprit and keep it as a wire regression. Exit 0 no finding, 1
    /// findings, 2 usage or start-up error.
    Attack(Box<attack::Attack>),
    /// Run the reference WuKongIM server (wkproto over TCP, TLS, WebSocket and WSS).
    Serve(Box<serve::Serve>),
    /// Replay the corpus and every regression through their targets (twice, with time and
    /// memory limits): the release gate. Exit 0 pass, 1 fail, 2 error.
    Gate(gate::Gate),
    /// Run one crash input in-process and print its structured form, outcome, and on a
    /// panic the message, location, signature and backtrace. Exit 1 if it reproduces.
    Repro(repro::Repro),
    /// Minimize a crash input and keep it as a named regression (+ corpus seed).
    Promote(promote::Promote),
    /// List the fuzz targets (the registry): names for scripts and CI, `--long` for people.
    Targets(targets::Targets),
    /// Write the generated seed inputs (protocol transcripts, upstream frames, key files)
    /// into the corpus directory.
    SeedCorpus(corpus::SeedCorpus),
    /// Benchmarks: TLS handshakes per second, messages per second through the core, and
    /// memory per idle connection (the numbers in BENCHMARKS.md).
    Load(load::Load),
    /// Planted-bug evaluation (feature `planted-bugs`): run libFuzzer per (bug, target) with
    /// the bug switched on, measure time-to-reach/trigger/detect, write CSV + BENCHMARKS.md.
    #[cfg(feature = "planted-bugs")]
    Eval(eval::Eval),
}

/// Parses the command line, runs the subcommand, maps its result to an exit code
/// (0 success, 1 failure, 2 usage or start-up error).
pub(crate) fn main() -> ExitCode {
    let cli = Cli::parse();
    // repro shows what the server did: debug logs unless told otherwise.
    let default_filter = if matches!(cli.command, Command::Repro(_)) {
        "debug"
    } else {
        "info"
    };
    if let Err(e) = logging::init(&cli.log, default_filter) {
        eprintln!("wkfuzz: {e:#}");
        return ExitCode::from(2);
    }
    let result = match cli.command {
        Command::Serve(s) => (*s).run(),
        Command::Attack(a) => (*a).run(),
        Command::Fuzz(f) => f.run(),
        Command::SeedCorpus(c) => c.run(),
        Command::Targets(t) => t.run(),
        Command::Gate(g) => g.run(),
        Command::Coverage(c) => c.run(),
        Command::Repro(r) => r.run(),
        Command::Promote(p) => p.run(),
        Command::Load(l) => l.run(),
        #[cfg(feature = "planted-bugs")]
        Command::Eval(e) => e.run(),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("wkfuzz: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
