//! `session`: a script of client actions (see [`crate::gen::script`]) run between simulated
//! clients and the server's own connection engine ([`crate::transport::ServerConn`]), on one
//! hub, in one thread with a virtual clock. Each client has its own transport (plain TCP,
//! TLS, WebSocket or WSS: TLS only when the script asks for it), names, version and key, so
//! every byte the fuzzer chooses reaches the IM layer through the layers production uses,
//! and the server's answers travel back through them to a strict client.
//!
//! Oracles, checked as bytes arrive and at the end (see `world.rs`):
//! - every byte the server sends a client decodes under that client's version and transport
//!   (TLS records, WebSocket framing with each message exactly one wkproto frame), and the
//!   server sends only server packets, CONNACK first;
//! - a CONNACK Success only for a valid key and a supported version; a refusal or a
//!   DISCONNECT ends the connection;
//! - SENDACK reasons as documented (damage 9, unknown channel types, groups the sender is not
//!   in); a message accepted with SENDACK Success reaches every recipient connection that was
//!   logged in when it was accepted, or that logged in while it still waited, exactly once,
//!   intact at any size on any transport, and no other connection (see `ledger.rs`: offline
//!   delivery and redelivery after a kick or reconnect keep exactly-once). Raw bytes count
//!   as the server reads them (`ack_mirror.rs`): a RECVACK among them acknowledges, a
//!   NO_ENCRYPT SEND among them is a message like any other;
//! - a SEND over the frame limit closes its connection: the server reads its length and no
//!   more (so the harness sends it hollow, without a frame-sized encryption and msgKey);
//! - SUBACK Success only for a group, a name and an action that exist;
//! - raw bytes a client sends pass `frame`'s codec oracles at every version (split bounds,
//!   normal form, encode/decode round trip);
//! - two witness clients that the script cannot touch chat normally at the end;
//! - every closed connection reports exactly one close event, every open one none; no
//!   session buffers (or allocates read buffer for) more than one frame plus one read.

mod ack_mirror;
mod ledger;
pub(crate) mod seeds;
mod world;

use super::Outcome;
use crate::gen::script::Script;

/// The Debug form of the script.
pub fn describe(data: &[u8]) -> String {
    format!("{:#?}", Script::from_bytes(data))
}

/// Runs the target.
///
/// # Panics
/// When an oracle is violated.
pub fn run(data: &[u8]) -> Outcome {
    run_script(&Script::from_bytes(data))
}

/// Runs a script (the structured form of [`run`]).
///
/// # Panics
/// When an oracle is violated.
pub fn run_script(script: &Script) -> Outcome {
    super::fixture::new_run();
    world::World::new(script).run(script)
}

#[cfg(test)]
mod tests;
