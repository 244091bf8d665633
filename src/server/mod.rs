//! Starting the reference server the way `wkfuzz serve` does, as a library: the end-to-end
//! tests go through exactly this path, so what they test is what a user's flags run.
//!
//! Layout, in the order a start goes through it:
//! - [`ServeOptions`] (options.rs): the `serve` flags, as clap parses them;
//! - [`ServerSettings::resolve`] (settings.rs): flags + config file -> validated settings
//!   (listeners, [`crate::net::NetSettings`], [`crate::hub::HubConfig`], TLS files), with
//!   the merge rules (flags win, paths relative to the config file, "off" listeners);
//! - [`Server::new`] (start.rs): the dev certificate if no certificate was given, the
//!   rustls config, the hub; [`Server::bind`] opens the listeners (and installs the SIGHUP
//!   reload), [`Listening::run`] serves until shutdown;
//! - [`shutdown_signal`] (signals.rs): SIGINT/SIGTERM, and the SIGHUP reload task;
//! - [`ServeError`] (error.rs): every way a start fails, one line each.

mod error;
mod options;
mod settings;
mod signals;
mod start;

pub use error::ServeError;
pub use options::ServeOptions;
pub use settings::{ServerSettings, TlsSettings, DEFAULT_LISTENERS};
pub use signals::shutdown_signal;
pub use start::{Listening, Server};
