//! The tokio shell: listeners (tcp, tls, ws, wss), PROXY header, TLS, WebSocket, limits,
//! timeouts, per-connection isolation and shutdown, around the sans-IO session and hub.
//!
//! Layout (after mini-redis): [`server::serve`] runs one [`listener::accept_loop`] per
//! listening socket; each accepted socket gets [`connection::run_connection`], which runs a
//! [`handler`] task (the loop socket <-> [`layer::Layer`] <-> session <-> hub) and logs one
//! event when it ends, panic or not.

pub mod clock;
mod connection;
mod handler;
pub mod layer;
mod listener;
pub mod proxy;
mod server;
mod settings;
mod shared;
pub mod upgrade;
pub mod ws;

pub use server::serve;
pub use settings::{NetSettings, Transport};
pub use shared::{Shared, SharedRef};

#[cfg(test)]
mod tests;
