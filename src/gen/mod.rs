//! Structure-aware input models for the TLS fuzz targets (STYLE rule 12). Each model derives
//! [`arbitrary::Arbitrary`] and encodes to wire bytes, so a fuzzer mutates *typed* choices
//! (which cipher suites, which extensions, which length is wrong) instead of raw bytes, and
//! most generated inputs get past rustls's parser into the handshake logic behind it.
//!
//! Models are weighted towards valid: an input that reads as zeros (an exhausted
//! `Unstructured`) picks the first, most ordinary option at every choice, and damage
//! (a wrong length, a bad record header, an interleaved alert) is a deliberate, rarer choice.
//! Encoding never panics on any model value and every model has a named size bound.
//!
//! Layout:
//! - [`length`]: [`LengthMode`], how each length prefix is written (correct or deliberately
//!   wrong), and the one helper that writes prefixes.
//! - [`codes`]: TLS code points (cipher suites, groups, signature schemes, versions,
//!   extension types) as weighted enums with GREASE and `Other` escape hatches.
//! - [`extension`]: the typed ClientHello extensions (SNI, ALPN, groups, key_share,
//!   signature algorithms, supported_versions, PSK, early_data, cookie, padding, raw).
//! - [`client_hello`]: [`ClientHelloModel`], a whole ClientHello handshake message, plus the
//!   `well_formed_*` and [`tls12_cbc_only`] constructors used for seeds and tests.
//! - [`records`]: [`RecordPlan`], how handshake bytes are cut into TLS records and damaged
//!   (fragmentation, header overrides, inserted alerts/CCS/empty/oversized records,
//!   truncation).
//! - [`flight`]: [`HandshakeInput`], the `handshake` fuzz target's input: a hello, its
//!   record plan, and the records the client sends after it.
//! - [`script`]: [`script::Script`], the `session` target's input: client slots and their
//!   actions, in an invertible byte format; [`script_dict`] generates its libFuzzer
//!   dictionary (whole fields, so an insertion keeps the rest of a script aligned).
//! - [`strategy`]: [`strategy::from_bytes`], the bridge that lets property tests drive
//!   these models from byte strings, and [`Damage`], byte-level damage to valid inputs.
//! - [`ws`]: [`ws::WsScript`], the `ws` target's input: a WebSocket upgrade request and
//!   client frames (any opcode, bits, mask and length form) carrying a wkproto stream, plus
//!   the frame-header reader the target judges the server's answers with.
//! - `pick` (private): weighted choices over an `Unstructured`.

pub mod client_hello;
pub mod codes;
pub mod extension;
pub mod flight;
pub mod length;
pub mod names;
mod pick;
pub mod records;
pub mod script;
pub(crate) mod script_bytes;
pub mod script_dict;
pub mod session_frames;
pub mod strategy;
#[cfg(test)]
mod testutil;
pub mod ws;

pub use client_hello::{
    tls12_cbc_only, well_formed_tls12, well_formed_tls13, ClientHelloModel, MAX_HELLO_LEN,
};
pub use flight::{HandshakeInput, LaterRecord};
pub use length::LengthMode;
pub use records::{ExtraRecord, RecordPlan};
pub use strategy::Damage;
