//! Command-line interface: one enum of subcommands, one options file per subcommand; the
//! work itself lives in the library.

mod corpus;
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
    /// Run the reference WuKongIM server (wkproto over TCP, TLS, WebSocket and WSS).
    Serve(Box<serve::Serve>),
    /// Write the generated seed inputs (protocol transcripts, upstream frames, key files)
    /// into the corpus directory.
    SeedCorpus(corpus::SeedCorpus),
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
        Command::Serve(s) => (*s).run(),
        Command::SeedCorpus(c) => c.run(),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("wkfuzz: error: {e:#}");
            ExitCode::from(2)
        }
    }
}
