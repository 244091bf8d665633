//! The WebSocket byte layer (RFC 6455, server side) over an inner plain or TLS [`Stream`]:
//! sans-IO like the rest, so the tokio handler and a fuzz target drive the same code.
//!
//! Call order (the same as [`super::Layer`]'s): [`WsLayer::handle_wire`] with every chunk read from
//! the socket (decrypted WebSocket payload is appended to `plain`); [`WsLayer::write_plain`]
//! with session output; [`WsLayer::close`] to end. Everything to send is appended to
//! `wire_out`. While [`WsLayer::is_handshaking`], no session exists yet.
//!
//! Inside: the upgrade request is answered by [`super::upgrade`]; after `101`, tungstenite's
//! [`WebSocketContext`] runs the frame protocol over an in-memory [`Pipe`] (reads return
//! `WouldBlock` when it is empty, writes append to a `Vec`), so no byte moves unless we
//! move it.
//!
//! Mapping between WebSocket messages and wkproto frames:
//! - in: the payload of every binary message is appended to the session's input, which
//!   reassembles frames across messages and splits several frames in one message;
//! - out: each wkproto frame of the session's output is sent as its own binary message. The
//!   JS SDK 1.0.4 (`ConnectManager.unpackOne`) slices the rest of a message wrongly
//!   (`slice(len, total - len)`), so a second frame in one message is lost or duplicated;
//!   one frame per message is also what upstream WuKongIM sends.
//!
//! Limits and failures (RFC 6455 7.1.7: send a close frame, then close the connection):
//! a message or frame larger than the session's max frame plus a wkproto header (a message
//! carrying one largest legal frame) is refused with close 1009 as soon as its frame header
//! is read; a text message gets 1003 (wkproto is binary); invalid UTF-8 1007; any other
//! protocol violation (unmasked frame, reserved bits, bad continuation) 1002. Ping is
//! answered with pong, a close frame with a close frame.

use super::error::{LayerError, ReadOutcome, WsError};
use super::pipe::Pipe;
use super::stream::Stream;
use super::upgrade::{read_upgrade, Upgrade};
use crate::proto::split_frame;
use std::io;
use tungstenite::protocol::frame::coding::CloseCode;
use tungstenite::protocol::{CloseFrame, Role, WebSocketConfig, WebSocketContext};
use tungstenite::{Bytes, Message};

/// Longest wkproto frame header: the type byte and a 4-byte varint length.
pub const MAX_WKPROTO_HEADER: usize = 5;

/// Size of tungstenite's per-connection read chunk (its default, 128 KiB, would be
/// allocated for every connection).
pub(crate) const WS_READ_CHUNK: usize = 4 * 1024;

/// What a WebSocket layer is configured with.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WsConfig {
    /// The request path served (`*` for any); see [`super::upgrade`].
    pub path: String,
    /// Largest message and frame payload accepted, in bytes.
    pub max_message: usize,
}

impl WsConfig {
    /// Serves `path` with messages up to one wkproto frame of `max_frame` body bytes.
    pub fn new(path: &str, max_frame: usize) -> WsConfig {
        WsConfig {
            path: path.to_owned(),
            max_message: max_frame.saturating_add(MAX_WKPROTO_HEADER),
        }
    }
}

/// The frame protocol after a successful upgrade.
#[derive(Debug)]
struct Open {
    ctx: WebSocketContext,
    pipe: Pipe,
    /// The planted WSS-BIG bug is on and the inner stream is TLS.
    #[cfg(feature = "planted-bugs")]
    wss_big: bool,
}

impl Open {
    fn new(config: &WsConfig, first_bytes: Vec<u8>) -> Open {
        let ws_config = WebSocketConfig::default()
            .read_buffer_size(WS_READ_CHUNK)
            .max_message_size(Some(config.max_message))
            .max_frame_size(Some(config.max_message));
        Open {
            ctx: WebSocketContext::new(Role::Server, Some(ws_config)),
            pipe: Pipe {
                input: first_bytes,
                ..Pipe::default()
            },
            #[cfg(feature = "planted-bugs")]
            wss_big: false,
        }
    }

    /// Reads every complete message in the pipe: binary payloads go to `plain`, pongs and
    /// close replies to `reply`. `Ok(true)` when the peer closed (close frame).
    fn read_messages(&mut self, plain: &mut Vec<u8>, reply: &mut Vec<u8>) -> Result<bool, WsError> {
        let mut peer_closed = false;
        loop {
            match self.ctx.read(&mut self.pipe) {
                Ok(Message::Binary(payload)) => plain.extend_from_slice(&payload),
                Ok(Message::Text(_)) => {
                    return Err(self.fail(CloseCode::Unsupported, "text message".into(), reply))
                }
                Ok(Message::Close(_)) => {
                    // tungstenite queued the reply close frame; flushing it ends the
                    // exchange (and reports ConnectionClosed).
                    peer_closed = true;
                    break;
                }
                // Ping (the pong is queued), pong, raw frame: nothing for the session.
                Ok(_) => {}
                Err(tungstenite::Error::Io(e)) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                    peer_closed = true;
                    break;
                }
                Err(e) => {
                    let (code, detail) = classify(&e);
                    return Err(self.fail(code, detail, reply));
                }
            }
        }
        // Pongs and the close reply; ConnectionClosed after a close reply is expected.
        let _ = self.ctx.flush(&mut self.pipe);
        reply.append(&mut self.pipe.output);
        Ok(peer_closed)
    }

    /// Sends each wkproto frame of `plain` as one binary message, into `out`.
    fn write_frames(&mut self, plain: &[u8], out: &mut Vec<u8>) {
        let mut rest = plain;
        #[cfg(feature = "planted-bugs")]
        let mut after_recv = false;
        #[cfg(feature = "planted-bugs")]
        let login_write = plain.first().is_some_and(|b| b >> 4 == 2); // starts with CONNACK
        while !rest.is_empty() {
            // Our own output, so split_frame always finds a whole frame; anything else is
            // sent as it is rather than dropped.
            let len = match split_frame(rest, usize::MAX) {
                Ok(Some(bounds)) => bounds.total_len().clamp(1, rest.len()),
                _ => rest.len(),
            };
            let (frame, tail) = (
                rest.get(..len).unwrap_or_default(),
                rest.get(len..).unwrap_or_default(),
            );
            #[cfg(feature = "planted-bugs")]
            let follows_recv = std::mem::replace(
                &mut after_recv,
                frame.first().is_some_and(|b| b >> 4 == 5), // RECV
            );
            #[cfg(feature = "planted-bugs")]
            if let Some(raw) = (self.wss_big && follows_recv && !login_write)
                .then(|| crate::planted::deep::wss_big_frames(frame))
                .flatten()
            {
                let _ = self.ctx.flush(&mut self.pipe);
                self.pipe.output.extend_from_slice(&raw);
                rest = tail;
                continue;
            }
            let message = Message::Binary(Bytes::copy_from_slice(frame));
            if self.ctx.write(&mut self.pipe, message).is_err() {
                // Closed (we or the peer sent a close frame): nothing more may be sent.
                break;
            }
            rest = tail;
        }
        let _ = self.ctx.flush(&mut self.pipe);
        out.append(&mut self.pipe.output);
    }

    /// Queues a close frame with `code` and returns the error that ends the connection.
    fn fail(&mut self, code: CloseCode, detail: String, reply: &mut Vec<u8>) -> WsError {
        let frame = CloseFrame {
            code,
            reason: close_text(code).into(),
        };
        let _ = self.ctx.close(&mut self.pipe, Some(frame));
        reply.append(&mut self.pipe.output);
        WsError::Failed {
            code: code.into(),
            detail,
        }
    }
}

/// The close code and log reason for a tungstenite read error.
fn classify(e: &tungstenite::Error) -> (CloseCode, String) {
    match e {
        tungstenite::Error::Capacity(c) => (CloseCode::Size, format!("message too big: {c}")),
        tungstenite::Error::Utf8(_) => {
            (CloseCode::Invalid, "invalid UTF-8 in a text message".into())
        }
        tungstenite::Error::Protocol(p) => (CloseCode::Protocol, format!("protocol error: {p}")),
        other => (CloseCode::Error, other.to_string()),
    }
}

/// The short reason text of our close frames (at most 123 bytes by RFC 6455 5.5.1).
fn close_text(code: CloseCode) -> &'static str {
    match code {
        CloseCode::Unsupported => "wkproto travels in binary messages",
        CloseCode::Size => "message too big",
        CloseCode::Invalid => "invalid UTF-8",
        CloseCode::Protocol => "protocol error",
        CloseCode::Normal => "",
        _ => "server error",
    }
}

/// Where the layer is.
#[derive(Debug)]
enum State {
    /// Waiting for the complete upgrade request; `request` holds what came so far
    /// (bounded by [`super::upgrade::MAX_REQUEST_BYTES`] plus one read).
    ExpectUpgrade { request: Vec<u8> },
    /// Upgraded: binary messages flow.
    Open(Box<Open>),
    /// Closed (close frame or HTTP error sent, inner layer closed): input is ignored.
    Closed,
}

/// WebSocket over plain TCP (ws) or TLS (wss).
#[derive(Debug)]
pub struct WsLayer {
    inner: Stream,
    state: State,
    config: WsConfig,
}

impl WsLayer {
    /// WebSocket over `inner` (plain or TLS), waiting for the upgrade.
    pub fn new(inner: Stream, config: WsConfig) -> WsLayer {
        WsLayer {
            inner,
            state: State::ExpectUpgrade {
                request: Vec::new(),
            },
            config,
        }
    }

    /// The layer WebSocket runs over (plain or TLS).
    pub fn inner(&self) -> &Stream {
        &self.inner
    }

    /// Whether the TLS handshake or the upgrade is still in progress.
    pub fn is_handshaking(&self) -> bool {
        self.inner.is_handshaking() || matches!(self.state, State::ExpectUpgrade { .. })
    }

    /// Feeds wire bytes; appends the payload of complete binary messages to `plain` and
    /// everything to send (101, pongs, close frames, HTTP errors) to `wire_out`.
    ///
    /// # Errors
    /// The inner TLS layer failed, the upgrade was refused, or the peer broke the
    /// WebSocket protocol; the answer (alert, HTTP response or close frame, then TLS
    /// close_notify) is in `wire_out` and the connection should end.
    pub fn handle_wire(
        &mut self,
        data: &[u8],
        plain: &mut Vec<u8>,
        wire_out: &mut Vec<u8>,
    ) -> Result<ReadOutcome, LayerError> {
        let mut inner_plain = Vec::new();
        let mut outcome = self.inner.handle_wire(data, &mut inner_plain, wire_out)?;
        let mut reply = Vec::new();
        let result = self.handle_plain(&inner_plain, plain, &mut reply);
        self.inner.write_plain(&reply, wire_out);
        match result {
            Ok(peer_closed) => {
                if peer_closed {
                    outcome.peer_closed = true;
                    self.inner.close(wire_out);
                    self.state = State::Closed;
                }
                Ok(outcome)
            }
            Err(e) => {
                self.inner.close(wire_out);
                self.state = State::Closed;
                Err(LayerError::WebSocket(e))
            }
        }
    }

    /// The WebSocket part of [`WsLayer::handle_wire`], on the inner layer's plaintext.
    /// `Ok(true)` when the peer closed.
    fn handle_plain(
        &mut self,
        bytes: &[u8],
        plain: &mut Vec<u8>,
        reply: &mut Vec<u8>,
    ) -> Result<bool, WsError> {
        if let State::ExpectUpgrade { request } = &mut self.state {
            if bytes.is_empty() {
                return Ok(false);
            }
            request.extend_from_slice(bytes);
            match read_upgrade(request, &self.config.path) {
                Upgrade::Incomplete => return Ok(false),
                Upgrade::Reject(r) => {
                    reply.extend_from_slice(&r.response());
                    return Err(WsError::Upgrade {
                        status: r.status,
                        detail: r.detail,
                    });
                }
                Upgrade::Accept { response, consumed } => {
                    reply.extend_from_slice(&response);
                    // Bytes behind the request are the client's first frames.
                    let first_bytes = request.get(consumed..).unwrap_or_default().to_vec();
                    self.state = State::Open(Box::new(Open::new(&self.config, first_bytes)));
                }
            }
        } else if let State::Open(open) = &mut self.state {
            open.pipe.push(bytes);
        }
        match &mut self.state {
            State::Open(open) => open.read_messages(plain, reply),
            _ => Ok(false),
        }
    }

    /// Sends each wkproto frame in `plain` as one binary message (nothing before the
    /// upgrade or after a close: no session exists then) and appends every pending wire
    /// byte to `wire_out`.
    pub fn write_plain(&mut self, plain: &[u8], wire_out: &mut Vec<u8>) {
        let mut out = Vec::new();
        if let State::Open(open) = &mut self.state {
            #[cfg(feature = "planted-bugs")]
            {
                open.wss_big = matches!(self.inner, Stream::Tls(_))
                    && crate::planted::enabled(crate::planted::Bug::WssBig);
            }
            open.write_frames(plain, &mut out);
        }
        self.inner.write_plain(&out, wire_out);
    }

    /// Sends a close frame (1000) if upgraded, then closes the inner layer.
    pub fn close(&mut self, wire_out: &mut Vec<u8>) {
        match std::mem::replace(&mut self.state, State::Closed) {
            State::Closed => {}
            State::ExpectUpgrade { .. } => self.inner.close(wire_out),
            State::Open(mut open) => {
                let frame = CloseFrame {
                    code: CloseCode::Normal,
                    reason: close_text(CloseCode::Normal).into(),
                };
                let _ = open.ctx.close(&mut open.pipe, Some(frame));
                self.inner.write_plain(&open.pipe.output, wire_out);
                self.inner.close(wire_out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const UPGRADE: &[u8] = b"GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";

    /// A masked client frame (mask 0x01020304).
    fn client_frame(fin: bool, opcode: u8, payload: &[u8]) -> Vec<u8> {
        let mask = [1u8, 2, 3, 4];
        let mut out = vec![(u8::from(fin) << 7) | opcode];
        match payload.len() {
            n @ 0..=125 => out.push(0x80 | n as u8),
            n @ 126..=0xffff => {
                out.push(0x80 | 126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
            n => {
                out.push(0x80 | 127);
                out.extend_from_slice(&(n as u64).to_be_bytes());
            }
        }
        out.extend_from_slice(&mask);
        out.extend(payload.iter().enumerate().map(|(i, b)| b ^ mask[i % 4]));
        out
    }

    fn upgraded(max_frame: usize) -> WsLayer {
        let mut layer = WsLayer::new(Stream::Plain, WsConfig::new("/", max_frame));
        let (mut plain, mut wire) = (Vec::new(), Vec::new());
        assert!(layer.is_handshaking());
        layer.handle_wire(UPGRADE, &mut plain, &mut wire).unwrap();
        assert!(wire.starts_with(b"HTTP/1.1 101 "));
        assert!(!layer.is_handshaking());
        layer
    }

    fn feed(layer: &mut WsLayer, data: &[u8]) -> (Result<ReadOutcome, String>, Vec<u8>, Vec<u8>) {
        let (mut plain, mut wire) = (Vec::new(), Vec::new());
        let r = layer
            .handle_wire(data, &mut plain, &mut wire)
            .map_err(|e| e.to_string());
        (r, plain, wire)
    }

    #[test]
    fn binary_payloads_reach_the_session_byte_by_byte_and_across_messages() {
        let mut layer = upgraded(1024);
        let mut wire = client_frame(true, 2, &[0x70, 0x70]);
        wire.extend(client_frame(false, 2, b"ab"));
        wire.extend(client_frame(true, 0, b"cd"));
        let mut got = Vec::new();
        for b in &wire {
            let (r, plain, out) = feed(&mut layer, &[*b]);
            assert_eq!(r, Ok(ReadOutcome::default()));
            assert!(out.is_empty());
            got.extend(plain);
        }
        assert_eq!(got, b"\x70\x70abcd");
    }

    #[test]
    fn request_and_first_frame_in_one_read() {
        let mut layer = WsLayer::new(Stream::Plain, WsConfig::new("/", 1024));
        let mut wire = UPGRADE.to_vec();
        wire.extend(client_frame(true, 2, &[0x70]));
        let (r, plain, out) = feed(&mut layer, &wire);
        assert_eq!(r, Ok(ReadOutcome::default()));
        assert_eq!(plain, [0x70]);
        assert!(out.starts_with(b"HTTP/1.1 101 "));
    }

    #[test]
    fn each_output_frame_is_its_own_message() {
        let mut layer = upgraded(1024);
        let mut wire = Vec::new();
        // SENDACK (2 + 17 bytes) then PONG.
        let mut frames = vec![0x40, 17];
        frames.extend([0u8; 17]);
        frames.push(0x80);
        layer.write_plain(&frames, &mut wire);
        let mut expected = vec![0x82, 19, 0x40, 17];
        expected.extend([0u8; 17]);
        expected.extend([0x82, 1, 0x80]);
        assert_eq!(wire, expected);
    }

    #[test]
    fn ping_gets_pong_and_close_gets_close() {
        let mut layer = upgraded(1024);
        let (r, plain, out) = feed(&mut layer, &client_frame(true, 9, b"hi"));
        assert_eq!(r, Ok(ReadOutcome::default()));
        assert!(plain.is_empty());
        assert_eq!(out, [0x8a, 2, b'h', b'i']);
        let (r, _, out) = feed(&mut layer, &client_frame(true, 8, &[0x03, 0xe8]));
        assert_eq!(r, Ok(ReadOutcome { peer_closed: true }));
        assert_eq!(out, [0x88, 2, 0x03, 0xe8]);
        // Closed: more input is ignored, close sends nothing more.
        let (r, plain, out) = feed(&mut layer, &client_frame(true, 2, b"x"));
        assert_eq!(
            (r, plain, out),
            (Ok(ReadOutcome::default()), vec![], vec![])
        );
        let mut wire = Vec::new();
        layer.close(&mut wire);
        assert!(wire.is_empty());
    }

    /// The close code in a server close frame.
    fn close_code(out: &[u8]) -> u16 {
        assert_eq!(out.first(), Some(&0x88), "{out:?}");
        u16::from_be_bytes([out[2], out[3]])
    }

    #[test]
    fn violations_get_their_close_codes() {
        let mut oversized = vec![0x82, 0x80 | 127];
        oversized.extend(1_000_000u64.to_be_bytes());
        oversized.extend([1, 2, 3, 4]);
        let mut unmasked = client_frame(true, 2, b"x");
        unmasked[1] &= 0x7f;
        unmasked.truncate(2);
        unmasked.push(b'x');
        let cases: Vec<(Vec<u8>, u16, &str)> = vec![
            (client_frame(true, 1, b"hello"), 1003, "text message"),
            (oversized, 1009, "too big"),
            (
                [
                    client_frame(false, 2, &[0; 600]),
                    client_frame(true, 0, &[0; 600]),
                ]
                .concat(),
                1009,
                "too big",
            ),
            (client_frame(true, 1, &[0xff]), 1007, "UTF-8"),
            (unmasked, 1002, "protocol error"),
            (client_frame(true, 0, b"x"), 1002, "protocol error"),
            (client_frame(true, 3, b"x"), 1002, "protocol error"),
        ];
        for (wire, code, needle) in cases {
            let mut layer = upgraded(1000);
            let (r, _, out) = feed(&mut layer, &wire);
            let err = r.unwrap_err();
            assert!(
                err.contains(needle) && err.contains(&format!("close {code}")),
                "{err}"
            );
            assert_eq!(close_code(&out), code, "{err}");
        }
    }

    #[test]
    fn refused_upgrade_answers_http_and_fails() {
        let mut layer = WsLayer::new(Stream::Plain, WsConfig::new("/", 1024));
        let (r, _, out) = feed(&mut layer, b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
        let err = r.unwrap_err();
        assert!(err.contains("HTTP 404"), "{err}");
        assert!(out.starts_with(b"HTTP/1.1 404 Not Found\r\n"));
    }

    #[test]
    fn server_close_sends_1000() {
        let mut layer = upgraded(1024);
        let mut wire = Vec::new();
        layer.close(&mut wire);
        assert_eq!(close_code(&wire), 1000);
        let mut again = Vec::new();
        layer.close(&mut again);
        layer.write_plain(&[0x80], &mut again);
        assert!(again.is_empty());
    }

    /// Deterministic xorshift, so a failure replays.
    struct Rng(u64);
    impl Rng {
        fn below(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            (self.0 % n.max(1) as u64) as usize
        }
    }

    #[test]
    fn mutated_streams_in_random_chunks_never_panic_and_stay_bounded() {
        let mut valid = UPGRADE.to_vec();
        valid.extend(client_frame(true, 2, &[0x70; 40]));
        valid.extend(client_frame(false, 2, b"ab"));
        valid.extend(client_frame(true, 9, b"p"));
        valid.extend(client_frame(true, 0, b"cd"));
        valid.extend(client_frame(true, 8, &[0x03, 0xe8]));
        let mut rng = Rng(0x2545_f491_4f6c_dd1d);
        for _ in 0..5_000 {
            let mut wire = valid.clone();
            for _ in 0..=rng.below(4) {
                let at = rng.below(wire.len());
                let byte = (rng.below(256)) as u8;
                match rng.below(4) {
                    0 => wire.truncate(at),
                    1 => wire.insert(at, byte),
                    2 if at < wire.len() => wire[at] = byte,
                    _ => wire.extend(std::iter::repeat_n(byte, rng.below(300))),
                }
            }
            let mut layer = WsLayer::new(Stream::Plain, WsConfig::new("/", 100));
            let (mut plain, mut out) = (Vec::new(), Vec::new());
            let mut rest = &wire[..];
            while !rest.is_empty() {
                let n = 1 + rng.below(rest.len().min(64));
                let (chunk, tail) = rest.split_at(n);
                rest = tail;
                if layer.handle_wire(chunk, &mut plain, &mut out).is_err() {
                    // Failed: the answer is out, and the layer stays closed.
                    assert!(
                        out.starts_with(b"HTTP/1.1 ") || out.contains(&0x88),
                        "{out:?}"
                    );
                    let mut more = Vec::new();
                    assert!(layer.handle_wire(tail, &mut plain, &mut more).is_ok());
                    assert!(more.is_empty());
                    break;
                }
            }
            assert!(plain.len() <= wire.len());
            assert!(out.len() <= 4096, "{} bytes answered", out.len());
        }
    }
}
