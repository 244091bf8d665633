//! `wkfuzz serve`: parse the flags, resolve and start the server through the library
//! ([`wkfuzz::server`]), print where it listens, run until SIGINT/SIGTERM.

use clap::Args;
use std::process::ExitCode;
use wkfuzz::server::{shutdown_signal, ServeOptions, Server, ServerSettings};

#[derive(Debug, Args)]
pub(crate) struct Serve {
    #[command(flatten)]
    options: ServeOptions,
}

impl Serve {
    /// Exit 0 after a signalled shutdown; start-up errors are exit 2 (in `cli::main`).
    pub(crate) fn run(self) -> anyhow::Result<ExitCode> {
        let server = Server::new(ServerSettings::resolve(&self.options)?)?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async move {
            let listening = server.bind().await?;
            for (transport, addr) in listening.local_addrs() {
                println!("wkfuzz: listening {transport} {addr}");
            }
            listening.run(shutdown_signal()).await;
            anyhow::Ok(())
        })?;
        Ok(ExitCode::SUCCESS)
    }
}
