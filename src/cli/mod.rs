//! Command-line interface: one enum of subcommands, one options file per subcommand; the
//! work itself lives in the library.

mod load;
mod logging;
mod serve;

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
    /// Run the reference WuKongIM server (wkproto over TCP and TLS).
    Serve(serve::Serve),
    /// Benchmarks: TLS handshakes per second, messages per second through the core, and
    /// memory per idle connection (the numbers in BENCHMARKS.md).
    Load(load::Load),
}

/// Parses the command line, runs the subcommand, maps its result to an exit code
/// (0 success, 1 failure, 2 usage or start-up error).
pub(crate) fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Err(e) = logging::init(&cli.log) {
        eprintln!("wkfuzz: {e:#}");
        return ExitCode::from(2);
    }
    let result = match cli.command {
        Command::Serve(s) => s.run(),
        Command::Load(l) => l.run(),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("wkfuzz: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
