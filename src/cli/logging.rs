//! `tracing` set-up: RUST_LOG-style filtering, pretty or JSON output on stderr.

use clap::{Args, ValueEnum};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

#[derive(Clone, Copy, Debug, ValueEnum)]
pub(crate) enum LogFormat {
    /// Human-readable lines.
    Pretty,
    /// One JSON object per event.
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct LogArgs {
    /// Log output format.
    #[arg(long, value_enum, default_value_t = LogFormat::Pretty, global = true)]
    log_format: LogFormat,
    /// Log filter, RUST_LOG syntax (e.g. `info,wkfuzz=debug`); overrides RUST_LOG.
    #[arg(long, global = true)]
    log: Option<String>,
}

pub(crate) fn init(args: &LogArgs, default_filter: &str) -> anyhow::Result<()> {
    let filter = match &args.log {
        Some(f) => EnvFilter::try_new(f)?,
        None => {
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter))
        }
    };
    // Colour only on a terminal: log files and pipes get plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let fmt = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_ansi(ansi);
    let fmt = match args.log_format {
        LogFormat::Pretty => fmt.with_target(false).boxed(),
        LogFormat::Json => fmt.json().flatten_event(true).boxed(),
    };
    tracing_subscriber::registry()
        .with(fmt.with_filter(filter))
        .try_init()
        .map_err(|e| anyhow::anyhow!("cannot set up logging: {e}"))
}
