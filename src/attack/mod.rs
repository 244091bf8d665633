//! `wkfuzz attack`: a black-box attack of a live server over the wire.
//!
//! Layout:
//! - [`target`]: the server's URL and the protocol it speaks;
//! - [`case`]: one case as it goes on the wire, and which fuzz inputs have a wire form;
//! - [`conn`], [`peer`]: a client connection over any transport, and a wkproto user on one;
//! - [`play`], [`script`]: wire rendering: a case sent over real connections;
pub mod campaign;
pub mod case;
pub mod conn;
pub mod crash_text;
pub mod culprit;
pub mod finding;
pub mod mutate;
pub mod peer;
pub mod play;
pub mod probe;
pub mod reference;
pub mod regression;
pub mod replay;
pub mod report;
pub mod resources;
pub mod script;
pub mod source;
pub mod spawn;
pub mod subject;
pub mod target;
pub mod units;
pub mod witness;
