//! Fuzz targets: one module per target, each `pub fn run(data: &[u8]) -> Outcome`.
//!
//! The same functions are called by the libFuzzer wrappers in `fuzz/fuzz_targets/`, by
//! `wkfuzz gate` and `wkfuzz repro`, and by the corpus-replay tests, so what is fuzzed is what
//! is gated. A target panics when an oracle is violated (that is the crash libFuzzer
//! reports); otherwise it returns a deterministic [`Outcome`]: the same bytes give the same
//! outcome on every run and machine.
//!
//! | target | input | reaches |
//! |---|---|---|
//! | `frame` | raw bytes | wkproto splitter and decoders at every version |
//! | `codec` | structured frame | encode/decode round trip of every packet type |
//! | `handshake` | structured ClientHello + flights with record damage | the real rustls acceptor and config |
//! | `records` | raw bytes | the same acceptor, byte-level baseline |
//! | `session` | script of client actions over TLS, several clients, one hub | CONNECT, crypto, SEND/RECV/ACK, SUB, PING, kicks, closes |
//! | `keys` | raw bytes | PEM/DER key and certificate loading, ClientKey decoding |
//! | `proxy` | raw bytes | PROXY v1/v2 header parsing |
//! | `crypto` | structured | payload decrypt, PKCS7, base64, msgKey checks |
//! | `ws` | raw or structured WebSocket client stream | upgrade, frame protocol, message reassembly into the session and hub |
//! | `net` | raw bytes after a CONNECT, over a real socket | the tokio shell and its per-connection isolation (not in `ALL`) |

pub mod codec;
pub mod corpus;
pub mod crypto;
mod det_crypto;
mod fixture;
pub mod frame;
pub mod handshake;
pub mod keys;
pub mod log_capture;
pub mod net;
mod outcome;
pub mod proxy;
pub mod records;
pub mod seeds;
pub mod selftest;
pub mod session;
mod tls_server;
pub mod ws;

pub(crate) use outcome::hexdump;
pub use outcome::Outcome;

/// A fuzz target, by name.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Target {
    /// Raw wkproto bytes.
    Frame,
    /// Structured frame round trip.
    Codec,
    /// Raw PROXY header bytes.
    Proxy,
    /// Structured app-crypto operations.
    Crypto,
    /// Raw key/certificate bytes.
    Keys,
    /// A script of client actions over TLS.
    Session,
    /// Structured ClientHello and client flights.
    Handshake,
    /// Raw bytes into the TLS acceptor.
    Records,
    /// A WebSocket client stream (raw or modelled) through the WebSocket layer into a session.
    Ws,
    /// Two planted bugs, for testing the triage pipeline (not in `ALL`).
    Selftest,
    /// Raw bytes through the real tokio shell over loopback TCP (not in `ALL`).
    Net,
}

impl Target {
    /// Every target, in a fixed order.
    pub const ALL: &'static [Target] = &[
        Target::Frame,
        Target::Codec,
        Target::Proxy,
        Target::Crypto,
        Target::Keys,
        Target::Session,
        Target::Handshake,
        Target::Records,
        Target::Ws,
    ];

    /// Every target including `selftest`: what may appear in `regressions/`.
    pub const EVERY: &'static [Target] = &[
        Target::Frame,
        Target::Codec,
        Target::Proxy,
        Target::Crypto,
        Target::Keys,
        Target::Session,
        Target::Handshake,
        Target::Records,
        Target::Ws,
        Target::Selftest,
        Target::Net,
    ];

    /// The name used for directories and the fuzz binaries.
    pub fn name(self) -> &'static str {
        match self {
            Target::Frame => "frame",
            Target::Codec => "codec",
            Target::Proxy => "proxy",
            Target::Crypto => "crypto",
            Target::Keys => "keys",
            Target::Session => "session",
            Target::Handshake => "handshake",
            Target::Records => "records",
            Target::Ws => "ws",
            Target::Selftest => "selftest",
            Target::Net => "net",
        }
    }

    /// The target called `name`.
    pub fn from_name(name: &str) -> Option<Target> {
        Target::EVERY.iter().copied().find(|t| t.name() == name)
    }

    /// Runs the target on `data`.
    pub fn run(self, data: &[u8]) -> Outcome {
        fixture::new_run();
        match self {
            Target::Frame => frame::run(data),
            Target::Codec => codec::run(data),
            Target::Proxy => proxy::run(data),
            Target::Crypto => crypto::run(data),
            Target::Keys => keys::run(data),
            Target::Session => session::run(data),
            Target::Handshake => handshake::run(data),
            Target::Records => records::run(data),
            Target::Ws => ws::run(data),
            Target::Selftest => selftest::run(data),
            Target::Net => net::run(data),
        }
    }

    /// The structured form of `data` as this target interprets it (its Debug form), for
    /// `repro` and readable regressions.
    pub fn describe(self, data: &[u8]) -> String {
        match self {
            Target::Frame
            | Target::Proxy
            | Target::Keys
            | Target::Records
            | Target::Selftest
            | Target::Net => outcome::hexdump(data),
            Target::Handshake => handshake::describe(data),
            Target::Codec => codec::describe(data),
            Target::Crypto => crypto::describe(data),
            Target::Session => session::describe(data),
            Target::Ws => ws::describe(data),
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
