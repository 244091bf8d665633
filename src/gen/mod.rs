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
//! - `pick` (private): weighted choices over an `Unstructured`.

pub mod codes;
pub mod length;
mod pick;

pub use length::LengthMode;
