//! The tokio shell: listeners (tcp, tls, ws, wss), socket reads and writes, limits,
//! timeouts, per-connection isolation and shutdown, around the sans-IO transport, session
//! and hub.
//!
//! Layout (after mini-redis): [`server::serve`] runs one [`listener::accept_loop`] per
//! listening socket; each accepted socket gets [`connection::run_connection`], which runs a
//! [`handler`] task (the loop socket <-> [`crate::transport::Layer`] <-> session <-> hub) and logs one
//! event when it ends, panic or not.

pub mod clock;
mod connection;
mod handler;
mod listener;
mod server;
mod settings;
mod shared;
mod stats;

pub use server::serve;
pub use settings::NetSettings;
pub use shared::{Shared, SharedRef};

#[cfg(test)]
mod tests;
