//! `tracing` set-up: RUST_LOG-style filtering, pretty or JSON output on stderr.

use clap::{Args, ValueEnum};
use tracing_subscriber::EnvFilter;

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

pub(crate) fn init(args: &LogArgs) -> anyhow::Result<()> {
    let filter = match &args.log {
        Some(f) => EnvFilter::try_new(f)?,
        None => EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info")),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let result = match args.log_format {
        LogFormat::Pretty => builder.with_target(false).try_init(),
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
    };
    result.map_err(|e| anyhow::anyhow!("cannot set up logging: {e}"))
}
