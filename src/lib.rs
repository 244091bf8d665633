//! wkfuzz: a robustness harness for TLS instant-messaging servers.
//!
//! Layout:
//! - [`proto`]: wkproto codec and application crypto (pure).
//! - [`session`]: sans-IO per-connection state machine.
//! - [`hub`]: who is online, channels, delivery queues (pure).
//! - [`tls`]: rustls `ServerConfig` from key material.
//! - [`transport`]: one connection's layers, sans-IO: PROXY header, TLS glue, WebSocket.
//! - [`net`]: the tokio shell: listeners, socket I/O, limits, isolation, shutdown.
//! - [`attack`]: `wkfuzz attack`, a black-box attack of a live server over the wire.
//! - [`load`]: the benchmarks behind `wkfuzz load` and BENCHMARKS.md.
//! - [`server`]: `wkfuzz serve` as a library: flags + config file -> settings -> a running
//!   server.
//! - `planted` (feature `planted-bugs` only): WuKongIM's crash classes put back behind
//!   switches, with reached/triggered canaries, for the Magma-style evaluation.
//! - [`coverage`]: `wkfuzz coverage`, what the corpus reaches (instrumented build, llvm-cov).
//! - [`pages`]: static HTML pages: the campaign report and the coverage summary.
//! - [`sim`]: clients and engines in one thread with a virtual clock, for tests.
//! - [`client`]: a sans-IO wkproto client; [`clock`]: injected time; [`config`]: TOML file.
#![deny(unsafe_code)] // one exception: triage::alloc, a GlobalAlloc wrapper (the trait is unsafe)
#![warn(missing_docs, unreachable_pub)]

pub mod attack;
pub mod client;
pub mod clock;
pub mod config;
pub mod coverage;
pub mod gen;
pub mod hub;
pub mod load;
mod msg_key_memo;
pub mod net;
pub mod pages;
#[cfg(feature = "planted-bugs")]
pub mod planted;
pub mod proto;
pub mod server;
pub mod session;
pub mod sim;
pub mod targets;
pub mod tls;
pub mod transport;
pub mod triage;
mod x25519_memo;

/// The tokio shell's entry points: serve bound listeners with shared state and settings.
pub use net::{serve, NetSettings, Shared, SharedRef};
