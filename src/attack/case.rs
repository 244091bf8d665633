//! One attack case as it goes on the wire, and how each fuzz target's input becomes one.
//!
//! A case is bytes written at one [`Layer`] of a connection (TLS records under the TLS
//! layer, an HTTP upgrade and WebSocket frames inside it, wkproto frames inside WebSocket
//! messages), or one of two interactive forms that cannot be fixed bytes because the server
//! answers with its own randomness: a real TLS client (the `handshake` generator's input)
//! and an IM session script played by live clients (the `session` generator's input).
//!
//! [`from_input`] is the one place that knows which target's inputs have a wire form.

use super::target::{Protocol, Scheme};
use crate::proto::{Frame, Packet, LATEST_VERSION, MIN_VERSION};
use crate::targets::Target;
use arbitrary::{Arbitrary, Unstructured};

/// Where a case's bytes enter the connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Layer {
    /// In place of the PROXY header, first on the TCP connection (servers run with a PROXY
    /// protocol front end).
    Proxy,
    /// TCP bytes, after the PROXY header if the server expects one: under TLS.
    Socket,
    /// What the server's TLS layer decrypts (tls, wss), or the TCP bytes (tcp, ws): the
    /// HTTP upgrade and WebSocket frames of ws/wss.
    Stream,
    /// The application's bytes: inside WebSocket binary messages after the upgrade
    /// (ws, wss), or the stream itself (tcp, tls).
    App,
}

impl Layer {
    /// Every layer, outermost first.
    pub const ALL: [Layer; 4] = [Layer::Proxy, Layer::Socket, Layer::Stream, Layer::App];

    /// Its name in regressions.
    pub fn name(self) -> &'static str {
        match self {
            Layer::Proxy => "proxy",
            Layer::Socket => "socket",
            Layer::Stream => "stream",
            Layer::App => "app",
        }
    }
}

/// A case.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum WireCase {
    /// Bytes written at `layer` (after a CONNECT at protocol version `login`, if set, on
    /// the app layer), then the write side closed and the answer read to the end.
    Bytes {
        /// Where they go.
        layer: Layer,
        /// Log in first (wkproto) at this version.
        login: Option<u8>,
        /// The bytes.
        bytes: Vec<u8>,
    },
    /// The `handshake` generator's input: a modelled ClientHello and records (written at
    /// the socket layer) or a real TLS client whose first flight is re-cut into records.
    Handshake(Vec<u8>),
    /// The `session` generator's input: a script of IM clients' actions, played by live
    /// clients that log in, derive their keys from CONNACK and answer RECVs.
    Script(Vec<u8>),
}

/// The kind names of regressions (`kind = ...`).
pub const KINDS: [&str; 6] = ["proxy", "socket", "stream", "app", "handshake", "script"];

impl WireCase {
    /// Bytes at `layer`, no login.
    pub fn bytes(layer: Layer, bytes: Vec<u8>) -> WireCase {
        WireCase::Bytes {
            layer,
            login: None,
            bytes,
        }
    }

    /// The kind name: the layer for bytes, else `handshake` or `script`.
    pub fn kind(&self) -> &'static str {
        match self {
            WireCase::Bytes { layer, .. } => layer.name(),
            WireCase::Handshake(_) => "handshake",
            WireCase::Script(_) => "script",
        }
    }

    /// The case's bytes (what a regression's `.bin` holds).
    pub fn data(&self) -> &[u8] {
        match self {
            WireCase::Bytes { bytes, .. } => bytes,
            WireCase::Handshake(d) | WireCase::Script(d) => d,
        }
    }

    /// The same case with other bytes.
    pub fn with_data(&self, data: Vec<u8>) -> WireCase {
        match self {
            WireCase::Bytes { layer, login, .. } => WireCase::Bytes {
                layer: *layer,
                login: *login,
                bytes: data,
            },
            WireCase::Handshake(_) => WireCase::Handshake(data),
            WireCase::Script(_) => WireCase::Script(data),
        }
    }

    /// The case of `kind` (see [`KINDS`]) with `data`.
    pub fn from_kind(kind: &str, login: Option<u8>, data: Vec<u8>) -> Option<WireCase> {
        Some(match kind {
            "handshake" => WireCase::Handshake(data),
            "script" => WireCase::Script(data),
            layer => WireCase::Bytes {
                layer: Layer::ALL.into_iter().find(|l| l.name() == layer)?,
                login,
                bytes: data,
            },
        })
    }

    /// The login version, for bytes on the app layer.
    pub fn login(&self) -> Option<u8> {
        match self {
            WireCase::Bytes { login, .. } => *login,
            _ => None,
        }
    }

    /// Whether this case means something to a server of `protocol` over `scheme` (with a
    /// PROXY header in front when `proxy`).
    pub fn applies(&self, protocol: Protocol, scheme: Scheme, proxy: bool) -> bool {
        let secure = scheme.is_secure();
        match (self, protocol) {
            (
                WireCase::Bytes {
                    layer: Layer::Proxy,
                    ..
                },
                _,
            ) => proxy,
            (
                WireCase::Bytes {
                    layer: Layer::Socket,
                    ..
                }
                | WireCase::Handshake(_),
                _,
            ) => secure,
            (_, Protocol::Tls) => false,
            (WireCase::Script(_), p) => p == Protocol::Wkproto,
            (WireCase::Bytes { login: Some(_), .. }, p) => p == Protocol::Wkproto,
            // On tcp and tls the stream is the app layer: the app cases cover it.
            (
                WireCase::Bytes {
                    layer: Layer::Stream,
                    ..
                },
                p,
            ) => scheme.is_websocket() || p == Protocol::Raw,
            (
                WireCase::Bytes {
                    layer: Layer::App, ..
                },
                _,
            ) => true,
        }
    }

    /// The case as a person reads it (for a regression's `.txt`).
    pub fn describe(&self) -> String {
        match self {
            WireCase::Handshake(d) => describe_as("handshake", d),
            WireCase::Script(d) => describe_as("session", d),
            WireCase::Bytes {
                layer: Layer::Stream,
                bytes,
                ..
            } => {
                // The ws target's raw mode (first byte 0) reads a client stream.
                let mut raw = vec![0u8];
                raw.extend_from_slice(bytes);
                describe_as("ws", &raw)
            }
            WireCase::Bytes {
                layer: Layer::App,
                login: Some(v),
                bytes,
            } => format!("after a CONNECT at v{v}:\n{}", app_frames(bytes, *v)),
            WireCase::Bytes { bytes, .. } => crate::targets::hexdump(bytes),
        }
    }
}

/// `data` as the target `name` reads it.
fn describe_as(name: &str, data: &[u8]) -> String {
    Target::from_name(name).map_or_else(|| crate::targets::hexdump(data), |t| t.describe(data))
}

/// The frames `bytes` decodes to at `version`, one per line, then the rest as hex.
fn app_frames(bytes: &[u8], version: u8) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut rest = bytes;
    while let Ok(Some((frame, used))) = Frame::read(rest, version, usize::MAX) {
        let _ = writeln!(out, "{:?}", frame.packet);
        rest = rest.get(used..).unwrap_or_default();
    }
    if !rest.is_empty() {
        let _ = write!(out, "then:\n{}", crate::targets::hexdump(rest));
    }
    out
}

/// The protocol version a target input's first byte picks (as the `frame` and `net`
/// targets read it).
pub fn version_of(first: u8) -> u8 {
    MIN_VERSION + first % (LATEST_VERSION - MIN_VERSION + 1)
}

/// The wire cases of one input of `target` (none if the target has no wire form).
pub fn from_input(target: Target, data: &[u8]) -> Vec<WireCase> {
    match target.name() {
        "records" => vec![WireCase::bytes(Layer::Socket, data.to_vec())],
        "handshake" => vec![WireCase::Handshake(data.to_vec())],
        "proxy" => vec![WireCase::bytes(Layer::Proxy, data.to_vec())],
        "session" => vec![WireCase::Script(data.to_vec())],
        "ws" => {
            let stream = crate::targets::ws::client_stream(data);
            if stream.is_empty() {
                return Vec::new();
            }
            vec![WireCase::bytes(Layer::Stream, stream)]
        }
        name @ ("frame" | "net") => {
            let Some((&first, rest)) = data.split_first() else {
                return Vec::new();
            };
            let logged_in = WireCase::Bytes {
                layer: Layer::App,
                login: Some(version_of(first)),
                bytes: rest.to_vec(),
            };
            if name == "net" {
                return vec![logged_in];
            }
            // The same bytes before any CONNECT reach the connect stage instead.
            vec![logged_in, WireCase::bytes(Layer::App, data.to_vec())]
        }
        "codec" => {
            let Ok(input) =
                crate::targets::codec::CodecInput::arbitrary_take_rest(Unstructured::new(data))
            else {
                return Vec::new();
            };
            let version = version_of(input.version);
            let bytes = input.frame.to_bytes(version);
            let login = match input.frame.packet {
                Packet::Connect(_) => None,
                _ => Some(version),
            };
            vec![WireCase::Bytes {
                layer: Layer::App,
                login,
                bytes,
            }]
        }
        // crypto, keys, selftest: inputs of functions no peer reaches directly.
        _ => Vec::new(),
    }
}

/// The names of the targets whose inputs [`from_input`] turns into cases.
pub const WIRE_TARGETS: [&str; 8] = [
    "records",
    "handshake",
    "proxy",
    "session",
    "ws",
    "frame",
    "net",
    "codec",
];

/// The registry's targets of [`WIRE_TARGETS`].
pub fn wire_targets() -> Vec<Target> {
    WIRE_TARGETS
        .iter()
        .filter_map(|n| Target::from_name(n))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_round_trip() {
        for kind in KINDS {
            let case = WireCase::from_kind(kind, None, vec![1, 2]).unwrap();
            assert_eq!(case.kind(), kind);
            assert_eq!(case.data(), [1, 2]);
        }
        assert_eq!(WireCase::from_kind("nope", None, vec![]), None);
    }

    #[test]
    fn frame_inputs_go_in_logged_in_and_not() {
        let target = |n| Target::from_name(n).unwrap();
        assert_eq!(wire_targets().len(), WIRE_TARGETS.len());
        let cases = from_input(target("frame"), &[3, 0xc0, 0x00]);
        assert_eq!(
            cases,
            vec![
                WireCase::Bytes {
                    layer: Layer::App,
                    login: Some(5),
                    bytes: vec![0xc0, 0x00]
                },
                WireCase::bytes(Layer::App, vec![3, 0xc0, 0x00]),
            ]
        );
        assert!(from_input(target("keys"), b"x").is_empty());
        assert!(from_input(target("frame"), b"").is_empty());
    }

    #[test]
    fn applicability_follows_protocol_scheme_and_proxy() {
        let socket = WireCase::bytes(Layer::Socket, vec![0x16]);
        let login = WireCase::Bytes {
            layer: Layer::App,
            login: Some(4),
            bytes: vec![],
        };
        let stream = WireCase::bytes(Layer::Stream, b"GET /".to_vec());
        let proxy = WireCase::bytes(Layer::Proxy, b"PROXY".to_vec());
        let script = WireCase::Script(vec![]);
        use Protocol::*;
        use Scheme::*;
        assert!(socket.applies(Protocol::Tls, Scheme::Tls, false));
        assert!(!socket.applies(Wkproto, Tcp, false));
        assert!(login.applies(Wkproto, Wss, false));
        assert!(!login.applies(Raw, Tcp, false));
        assert!(!login.applies(Protocol::Tls, Scheme::Tls, false));
        assert!(stream.applies(Wkproto, Ws, false));
        assert!(!stream.applies(Wkproto, Tcp, false));
        assert!(stream.applies(Raw, Tcp, false));
        assert!(proxy.applies(Wkproto, Tcp, true));
        assert!(!proxy.applies(Wkproto, Tcp, false));
        assert!(script.applies(Wkproto, Tcp, false));
        assert!(!script.applies(Raw, Tcp, false));
    }
}
