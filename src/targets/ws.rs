//! `ws`: a WebSocket client's bytes through the server's own connection engine
//! ([`ServerConn`] on the ws transport: the WebSocket layer over plain TCP, a real session
//! and [`Hub`]), in reads of varying size, exactly as the network shell drives it; and the
//! server's answers parsed back.
//!
//! Input: the first byte picks the mode (bit 0) and the read sizes (bits 1-3, see
//! [`SCHEDULES`]). Mode 0 takes the rest as the raw client stream (upgrade request, then
//! frames). Mode 1 reads it as a [`WsScript`] (see [`crate::gen::ws`]): an upgrade request,
//! then modelled frames whose binary payloads carry a wkproto stream (CONNECT, PING,
//! SEND, ...) encoded by a real [`Client`].
//!
//! The target knows what the server must do with the stream, from RFC 6455 alone (with
//! tungstenite's choices where the RFC leaves one, noted at `interpret`): the target
//! parses the client's frames itself and derives, for every byte offset, which binary
//! messages must have reached the session, which pings must have been answered, and where
//! the connection must fail and with which close code. After every read it checks:
//! - before the upgrade: nothing is answered while the request is incomplete; a complete or
//!   refused request is answered at once, with `101` (and the right `Sec-WebSocket-Accept`)
//!   or a well-formed HTTP error (400/404/405/426/431, `Content-Length` right, nothing
//!   after it), and the status the layer reports is the one sent;
//! - after it: the session got exactly the payloads of the complete binary messages, no
//!   sooner and no later (so the layer holds at most one partial frame and one partial
//!   message, each bounded by the message limit, which it enforces from a frame header:
//!   no unbounded buffering); the session buffers at most one frame plus one read;
//! - a protocol error gets a close frame with its code (1002, 1003, 1007, 1009) and the
//!   error the layer reports carries the same code; a client close gets the close reply
//!   tungstenite owes; a session that closes itself gets close 1000; in every case the
//!   session ends, the close frame is the last thing sent, and later input is ignored;
//! - everything the server sends is valid server framing: unmasked, FIN set, RSV clear,
//!   only binary, pong and close frames, every pong echoing its ping in order, every binary
//!   message exactly one wkproto frame, and the binary payloads together are exactly what
//!   the session wrote while the layer was open;
//! - in mode 1, when the stream is valid and carries a clean session (a CONNECT at a
//!   supported version, then PINGs, SENDs and RECVACKs), the client gets a successful
//!   CONNACK, one PONG per PING and one SENDACK per SEND, each in its own binary message.
//!
//! Deterministic: a seeded hub, a fixed clock and fixed client keys.

use super::Outcome;
use crate::client::Client;
use crate::clock::Time;
use crate::gen::ws::{
    is_control, is_defined, read_header, unmask, WkOp, WsScript, OP_BINARY, OP_CLOSE,
    OP_CONTINUATION, OP_PING, OP_PONG, OP_TEXT,
};
use crate::hub::{Hub, HubConfig};
use crate::proto::{
    split_frame, ChannelType, DeviceFlag, Disconnect, Frame, Packet, ReasonCode, Recvack, Send,
    Setting,
};
use crate::session::{CloseReason, SessionConfig};
use crate::transport::upgrade::{read_upgrade, Upgrade, MAX_REQUEST_BYTES};
use crate::transport::ws::MAX_WKPROTO_HEADER;
use crate::transport::{
    CloseCause, ConnConfig, ConnEvent, LayerError, ServerConn, Transport, WsError,
};
use arbitrary::{Arbitrary, Unstructured};
use std::sync::Arc;

/// Frame limit of the session here: small, so the message limit (this plus a wkproto
/// header) is easy to reach.
pub const MAX_FRAME: usize = 1024;

/// The layer's message and frame limit.
const MAX_MESSAGE: usize = MAX_FRAME + MAX_WKPROTO_HEADER;

/// The request path served.
const PATH: &str = "/";

/// The virtual time of every call.
const T0: Time = Time::from_unix_millis(1_700_000_000_000);

/// The X25519 secret of the modelled client.
const SECRET: [u8; 32] = [0x42; 32];

/// The session reads at most this much of one call at a time (`session::MAX_INPUT_PIECE`).
const SESSION_PIECE: usize = 16 * 1024;

/// Read sizes, cycled through the stream (chosen by bits 1-3 of the first byte).
pub const SCHEDULES: [&[usize]; 8] = [
    &[usize::MAX],
    &[1],
    &[7, 1, 300, 2, 4096],
    &[2, 3, 5, 8, 13, 21, 34, 55, 89, 144, 233],
    &[64],
    &[3, 1000],
    &[1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048],
    &[16 * 1024],
];

/// The input, read.
#[derive(Debug)]
enum Input {
    /// Mode 0: the client stream as given.
    Raw(Vec<u8>),
    /// Mode 1: a modelled stream.
    Script(WsScript),
}

fn parse(data: &[u8]) -> Option<(usize, Input)> {
    let (&first, rest) = data.split_first()?;
    let schedule = usize::from((first >> 1) & 0x7);
    let input = if first & 1 == 0 {
        Input::Raw(rest.to_vec())
    } else {
        Input::Script(WsScript::arbitrary_take_rest(Unstructured::new(rest)).ok()?)
    };
    Some((schedule, input))
}

/// The readable form: the read sizes, then the script (mode 1) or the stream cut into its
/// request and frames (mode 0).
pub fn describe(data: &[u8]) -> String {
    let Some((schedule, input)) = parse(data) else {
        return "empty input".into();
    };
    let reads = SCHEDULES.get(schedule).copied().unwrap_or_default();
    match input {
        Input::Script(script) => {
            let (wk, _) = wk_stream(&script.wk);
            format!(
                "reads of {reads:?}\n{script:#?}\nwkproto stream ({} bytes):\n{}",
                wk.len(),
                super::outcome::hexdump(&wk)
            )
        }
        Input::Raw(stream) => format!("reads of {reads:?}\n{}", dissect(&stream)),
    }
}

/// The bytes the client writes for `data` (the upgrade request, then its frames): what
/// `wkfuzz attack` sends to a WebSocket server. Empty for empty input.
pub fn client_stream(data: &[u8]) -> Vec<u8> {
    match parse(data) {
        Some((_, Input::Raw(stream))) => stream,
        Some((_, Input::Script(script))) => script.encode(&wk_stream(&script.wk).0),
        None => Vec::new(),
    }
}

/// The client stream as a person reads it: the request, then one line per frame.
fn dissect(stream: &[u8]) -> String {
    use std::fmt::Write as _;
    let mut out = String::new();
    let mut rest = stream;
    if let Upgrade::Accept { consumed, .. } =
        read_upgrade(stream, crate::transport::upgrade::ANY_PATH)
    {
        let request = stream.get(..consumed).unwrap_or_default();
        let _ = writeln!(out, "request:\n{}", String::from_utf8_lossy(request));
        rest = stream.get(consumed..).unwrap_or_default();
    }
    while let Some(h) = read_header(rest) {
        let end = usize::try_from(h.len)
            .ok()
            .and_then(|n| n.checked_add(h.header_len));
        let body = end
            .and_then(|e| rest.get(h.header_len..e))
            .unwrap_or_default();
        let shown = unmask(body.get(..48).unwrap_or(body), h.mask);
        let _ = writeln!(
            out,
            "frame fin={} rsv={} opcode={:#x} mask={:02x?} len={} payload[..{}]={}",
            u8::from(h.fin),
            h.rsv,
            h.opcode,
            h.mask,
            h.len,
            shown.len(),
            hex::encode(&shown)
        );
        match end.and_then(|e| rest.get(e..)) {
            Some(tail) => rest = tail,
            None => {
                rest = rest.get(h.header_len..).unwrap_or_default();
                let _ = writeln!(out, "(payload cut short: {} bytes follow)", rest.len());
                return out;
            }
        }
    }
    if !rest.is_empty() {
        let _ = write!(out, "rest:\n{}", super::outcome::hexdump(rest));
    }
    out
}

/// Runs the target.
///
/// # Panics
/// When an oracle is violated.
pub fn run(data: &[u8]) -> Outcome {
    let Some((schedule, input)) = parse(data) else {
        return Outcome::new("empty input");
    };
    let reads = SCHEDULES.get(schedule).copied().unwrap_or(&[usize::MAX]);
    match input {
        Input::Raw(stream) => Conn::new(&stream, None).run(reads),
        Input::Script(script) => {
            let mut outcome = run_script(&script, schedule);
            outcome.count("script_frames", script.frames.len() as u64);
            outcome
        }
    }
}

/// Runs a script with the reads of `schedule` (the structured form of [`run`]).
///
/// # Panics
/// When an oracle is violated.
pub fn run_script(script: &WsScript, schedule: usize) -> Outcome {
    let reads = SCHEDULES.get(schedule).copied().unwrap_or(&[usize::MAX]);
    let (wk, version) = wk_stream(&script.wk);
    let expect = SessionPlan::new(&script.wk, wk.clone(), version);
    let stream = script.encode(&wk);
    Conn::new(&stream, Some(expect)).run(reads)
}

fn hub_config() -> HubConfig {
    HubConfig {
        seed: [0x57; 32],
        ..HubConfig::default()
    }
}

/// The engine's settings: the ws transport as served, with a small frame limit.
fn conn_config() -> Arc<ConnConfig> {
    Arc::new(ConnConfig {
        session: SessionConfig {
            max_frame: MAX_FRAME,
            key_agreement: crate::x25519_memo::MEMOIZED,
            ..SessionConfig::default()
        },
        ws_path: PATH.to_owned(),
        ..ConnConfig::new(Transport::Ws)
    })
}

/// The wkproto bytes of `ops` and the version of the client that writes them.
///
/// SENDs are encrypted with the keys of the CONNACK the first CONNECT gets: a dry run of
/// the same hub and session answers it, and since both are deterministic the real run's
/// session answers with the same keys (as long as that CONNECT is the first frame it reads).
pub fn wk_stream(ops: &[WkOp]) -> (Vec<u8>, u8) {
    let version = match ops.first() {
        Some(WkOp::Connect { version }) => *version,
        _ => 4,
    };
    let mut client = Client::new(SECRET, version);
    if let Some(WkOp::Connect { .. }) = ops.first() {
        // The session answers the same over plain TCP: its keys do not depend on the layer.
        let mut hub = Hub::new(hub_config());
        let (id, seed) = hub.open();
        let mut tcp = (*conn_config()).clone();
        tcp.transport = Transport::Tcp;
        let mut server = ServerConn::new(id, seed, Arc::new(tcp), None, T0);
        server.start(T0, &mut hub);
        let connect = client.encode(&client.connect("u0", "t", DeviceFlag::APP, 0));
        server.handle_wire(&connect, T0, &mut hub);
        let mut out = Vec::new();
        server.poll_transmit(&mut out);
        if let Ok(frames) = client.handle_bytes(&out) {
            for f in frames {
                if let Packet::Connack(c) = &f.packet {
                    let _ = client.handle_connack(c);
                }
            }
        }
    }
    let mut out = Vec::new();
    for op in ops.iter().take(crate::gen::ws::MAX_WK_OPS) {
        match op {
            WkOp::Connect { version } => {
                let c = Client::new(SECRET, *version);
                out.extend(c.encode(&c.connect("u0", "t", DeviceFlag::APP, 0)));
            }
            WkOp::Ping => out.extend(client.encode(&Frame::new(Packet::Ping))),
            WkOp::Send { to, text } => {
                let channel = format!("u{}", to % 4);
                let text = text.get(..crate::gen::ws::MAX_TEXT).unwrap_or(text);
                let frame = match client.send(&channel, ChannelType::PERSON, text) {
                    Ok((frame, _)) => frame,
                    // Not logged in: a SEND the session will never accept anyway.
                    Err(_) => Frame::new(Packet::Send(Send {
                        setting: Setting(Setting::NO_ENCRYPT),
                        client_msg_no: "m".into(),
                        channel_id: channel,
                        channel_type: ChannelType::PERSON,
                        payload: text.to_vec(),
                        ..Send::default()
                    })),
                };
                out.extend(client.encode(&frame));
            }
            WkOp::Recvack { id } => {
                out.extend(client.encode(&Frame::new(Packet::Recvack(Recvack {
                    message_id: i64::from(*id),
                    message_seq: 0,
                }))))
            }
            WkOp::Disconnect => {
                out.extend(client.encode(&Frame::new(Packet::Disconnect(Disconnect::default()))))
            }
            WkOp::Raw(bytes) => {
                out.extend_from_slice(bytes.get(..crate::gen::ws::MAX_RAW).unwrap_or(bytes))
            }
        }
    }
    (out, version)
}

/// What a modelled stream's session must answer, when the stream arrives whole.
#[derive(Debug)]
struct SessionPlan {
    /// The wkproto stream the binary frames carry.
    wk: Vec<u8>,
    /// The client's version.
    version: u8,
    /// A CONNECT at a supported version, then only PINGs, SENDs and RECVACKs.
    clean: bool,
    /// PINGs in the stream.
    pings: u64,
    /// SENDs in the stream.
    sends: u64,
}

impl SessionPlan {
    fn new(ops: &[WkOp], wk: Vec<u8>, version: u8) -> SessionPlan {
        let first_ok = matches!(ops.first(), Some(WkOp::Connect { version: 2..=6 }));
        let rest_ok = ops
            .iter()
            .skip(1)
            .all(|op| matches!(op, WkOp::Ping | WkOp::Send { .. } | WkOp::Recvack { .. }));
        let count = |f: fn(&WkOp) -> bool| ops.iter().filter(|op| f(op)).count() as u64;
        SessionPlan {
            wk,
            version,
            clean: first_ok && rest_ok,
            pings: count(|op| matches!(op, WkOp::Ping)),
            sends: count(|op| matches!(op, WkOp::Send { .. })),
        }
    }
}

/// What the server must do at a byte offset of the client stream.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    /// A binary message completed: its payload goes to the session.
    Deliver(Vec<u8>),
    /// A ping: a pong with this payload goes back.
    Pong(Vec<u8>),
    /// The client broke the protocol: close frame with this code, connection failed.
    Fail(u16),
    /// The client closed: this close frame payload goes back, connection over.
    PeerClose(Vec<u8>),
}

/// Close codes a peer may send (RFC 6455 7.4.1 and 7.4.2, as tungstenite's
/// `CloseCode::is_allowed`: 1004-1006, 1014 and 1015 are refused along with 0-999,
/// 1016-2999 and from 5000).
fn close_code_allowed(code: u16) -> bool {
    matches!(code, 1000..=1003 | 1007..=1013 | 3000..=4999)
}

/// Whether `bytes` are UTF-8 (`Ok(true)`), a valid prefix of UTF-8 that stops inside a
/// character (`Ok(false)`), or not UTF-8 at all (`Err`).
fn utf8_state(bytes: &[u8]) -> Result<bool, ()> {
    match std::str::from_utf8(bytes) {
        Ok(_) => Ok(true),
        Err(e) if e.error_len().is_none() => Ok(false),
        Err(_) => Err(()),
    }
}

/// The reference: what a server must do with the client frames in `stream` from `start`
/// (just after the upgrade request), as (offset at which it must have happened, event).
/// Stops at the first failure or close, and where the stream stops in a frame.
///
/// RFC 6455 (section 5 framing, 5.4 fragmentation, 5.5 control frames, 5.6 UTF-8 in text,
/// 7.4 close codes) leaves the order of checks to the server; this follows tungstenite's:
/// a reserved opcode (1002) or a length over the limit (1009) is refused as soon as the
/// header (with its mask key) is in, everything else once the whole frame is: unmasked
/// (1002), RSV bits (1002), a fragmented or over-125-byte control frame (1002), a 1-byte
/// close body (1002), a close reason that is not UTF-8 (1007), a continuation with no
/// message open or a new message while one is open (1002), a message growing over the
/// limit (1009), a text message that is not UTF-8 as far as it goes (1007) and any complete
/// text message (1003: wkproto is binary). Non-minimal length encodings are accepted.
fn interpret(stream: &[u8], start: usize) -> Vec<(usize, Event)> {
    let mut events = Vec::new();
    let mut pos = start;
    // The open fragmented message: (is text, bytes so far).
    let mut open: Option<(bool, Vec<u8>)> = None;
    while let Some(h) = stream.get(pos..).and_then(read_header) {
        let header_end = pos + h.header_len;
        if !is_defined(h.opcode) {
            events.push((header_end, Event::Fail(1002)));
            break;
        }
        if h.len > MAX_MESSAGE as u64 {
            events.push((header_end, Event::Fail(1009)));
            break;
        }
        // h.len <= MAX_MESSAGE, so this fits.
        let end = header_end + h.len as usize;
        let Some(body) = stream.get(header_end..end) else {
            break;
        };
        let payload = unmask(body, h.mask);
        pos = end;
        let fail = |events: &mut Vec<(usize, Event)>, code| events.push((end, Event::Fail(code)));
        if h.mask.is_none() || h.rsv != 0 {
            fail(&mut events, 1002);
            break;
        }
        if is_control(h.opcode) {
            if !h.fin || payload.len() > 125 {
                fail(&mut events, 1002);
                break;
            }
            match h.opcode {
                OP_CLOSE => {
                    let reply = match payload.as_slice() {
                        [] => Vec::new(),
                        [_] => {
                            fail(&mut events, 1002);
                            break;
                        }
                        [hi, lo, reason @ ..] => {
                            if std::str::from_utf8(reason).is_err() {
                                fail(&mut events, 1007);
                                break;
                            }
                            if close_code_allowed(u16::from_be_bytes([*hi, *lo])) {
                                payload.clone()
                            } else {
                                let mut v = 1002u16.to_be_bytes().to_vec();
                                v.extend_from_slice(b"Protocol violation");
                                v
                            }
                        }
                    };
                    events.push((end, Event::PeerClose(reply)));
                    break;
                }
                OP_PING => events.push((end, Event::Pong(payload))),
                _ => {} // pong: nothing to do
            }
            continue;
        }
        let (text, mut bytes) = match (h.opcode, open.take()) {
            (OP_CONTINUATION, Some(message)) => message,
            (OP_CONTINUATION, None) | (_, Some(_)) => {
                fail(&mut events, 1002);
                break;
            }
            (opcode, None) => (opcode == OP_TEXT, Vec::new()),
        };
        if bytes.len() + payload.len() > MAX_MESSAGE {
            fail(&mut events, 1009);
            break;
        }
        bytes.extend_from_slice(&payload);
        if text {
            match utf8_state(&bytes) {
                Err(()) => {
                    fail(&mut events, 1007);
                    break;
                }
                Ok(false) if h.fin => {
                    fail(&mut events, 1007);
                    break;
                }
                Ok(_) if h.fin => {
                    fail(&mut events, 1003);
                    break;
                }
                Ok(_) => {}
            }
        }
        if !h.fin {
            open = Some((text, bytes));
        } else {
            events.push((end, Event::Deliver(bytes)));
        }
    }
    events
}

/// One frame the server sent.
#[derive(Debug, PartialEq, Eq)]
enum Sent {
    Binary(Vec<u8>),
    Pong(Vec<u8>),
    Close(Vec<u8>),
}

/// Parses server frames: all of `wire` must be whole, valid server frames (RFC 6455 5.1:
/// a server never masks; no extension, so RSV clear; it only sends binary, pong, close).
fn server_frames(wire: &[u8]) -> Vec<Sent> {
    let mut out = Vec::new();
    let mut rest = wire;
    while !rest.is_empty() {
        let Some(h) = read_header(rest) else {
            panic!("server sent a partial frame header: {rest:02x?}");
        };
        assert!(h.mask.is_none(), "server sent a masked frame: {h:?}");
        assert!(
            h.fin && h.rsv == 0,
            "server frame with FIN clear or RSV: {h:?}"
        );
        let body = usize::try_from(h.len)
            .ok()
            .and_then(|n| rest.get(h.header_len..h.header_len.checked_add(n)?));
        let Some(body) = body else {
            panic!(
                "server frame {h:?} longer than what was sent ({} bytes)",
                rest.len()
            );
        };
        if is_control(h.opcode) {
            assert!(body.len() <= 125, "server control frame of {}", body.len());
        }
        out.push(match h.opcode {
            OP_BINARY => Sent::Binary(body.to_vec()),
            OP_PONG => Sent::Pong(body.to_vec()),
            OP_CLOSE => {
                if let [_, _, reason @ ..] = body {
                    assert!(
                        std::str::from_utf8(reason).is_ok(),
                        "close reason not UTF-8"
                    );
                }
                assert_ne!(body.len(), 1, "server close frame with a 1-byte body");
                Sent::Close(body.to_vec())
            }
            other => panic!("server sent opcode {other:#x}"),
        });
        rest = rest.get(h.header_len + body.len()..).unwrap_or_default();
    }
    out
}

/// The close code in a close frame body.
fn close_code(body: &[u8]) -> Option<u16> {
    match body {
        [hi, lo, ..] => Some(u16::from_be_bytes([*hi, *lo])),
        _ => None,
    }
}

/// Checks a complete HTTP response at the start of `wire` with `status`; returns its
/// length (a `101` has no body; an error's body is `Content-Length` long).
fn check_response(wire: &[u8], status: u16) -> usize {
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut response = httparse::Response::new(&mut headers);
    let head = match response.parse(wire) {
        Ok(httparse::Status::Complete(n)) => n,
        other => panic!(
            "server answer is not a complete HTTP response ({other:?}): {:?}",
            String::from_utf8_lossy(wire)
        ),
    };
    assert_eq!(response.version, Some(1), "HTTP/1.1");
    assert_eq!(response.code, Some(status), "HTTP status");
    let header = |name: &str| {
        response
            .headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).into_owned())
    };
    if status == 101 {
        return head;
    }
    let len: usize = header("content-length")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or_else(|| panic!("HTTP {status} without a Content-Length"));
    assert!(
        header("connection").is_some_and(|c| c.to_ascii_lowercase().contains("close")),
        "HTTP {status} without Connection: close"
    );
    match status {
        426 => assert_eq!(
            header("upgrade").as_deref(),
            Some("websocket"),
            "426 Upgrade"
        ),
        405 => assert_eq!(header("allow").as_deref(), Some("GET"), "405 Allow"),
        400 | 404 | 431 => {}
        other => panic!("upgrade refused with unexpected status {other}"),
    }
    head.saturating_add(len)
}

/// Checks the `101` at the start of `wire` for `request`; returns its length.
fn check_switching(wire: &[u8], request: &[u8]) -> usize {
    let n = check_response(wire, 101);
    let mut headers = [httparse::EMPTY_HEADER; 16];
    let mut response = httparse::Response::new(&mut headers);
    let _ = response.parse(wire);
    let value = |headers: &[httparse::Header<'_>], name: &str| {
        headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.trim_ascii().to_vec())
    };
    let mut req_headers = [httparse::EMPTY_HEADER; crate::transport::upgrade::MAX_HEADERS];
    let mut req = httparse::Request::new(&mut req_headers);
    let _ = req.parse(request);
    let key = value(req.headers, "sec-websocket-key").unwrap_or_default();
    let accept = tungstenite::handshake::derive_accept_key(&key);
    assert_eq!(
        value(response.headers, "sec-websocket-accept"),
        Some(accept.into_bytes()),
        "Sec-WebSocket-Accept (RFC 6455 4.2.2)"
    );
    assert!(
        value(response.headers, "upgrade").is_some_and(|v| v.eq_ignore_ascii_case(b"websocket")),
        "101 without Upgrade: websocket"
    );
    n
}

/// How the connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum End {
    /// Upgrade refused with this HTTP status.
    Refused(u16),
    /// WebSocket failed with this close code.
    Failed(u16),
    /// The client sent a close frame.
    PeerClosed,
    /// The session closed itself (close 1000 sent).
    SessionClosed,
}

/// One connection as the shell runs it, plus what the oracles track.
struct Conn<'a> {
    stream: &'a [u8],
    server: ServerConn,
    hub: Hub,
    /// Bytes of `stream` fed so far.
    fed: usize,
    /// The reference events, once the upgrade is accepted; `next` is the first not yet due.
    events: Vec<(usize, Event)>,
    next: usize,
    accepted: bool,
    /// The layer still sends (not failed, not closed by either side).
    layer_open: bool,
    /// A close frame went out; nothing may follow it.
    close_sent: bool,
    end: Option<End>,
    /// What the session wrote while the layer was open.
    session_out: Vec<u8>,
    /// The server's binary messages.
    messages: Vec<Vec<u8>>,
    plan: Option<SessionPlan>,
    /// Everything the layer gave the session side, in order.
    delivered: Vec<u8>,
    /// The session's protocol version once it logged in.
    version: Option<u8>,
    /// The engine reported its close event.
    close_reported: bool,
    outcome: Outcome,
}

impl<'a> Conn<'a> {
    fn new(stream: &'a [u8], plan: Option<SessionPlan>) -> Conn<'a> {
        let mut hub = Hub::new(hub_config());
        let (id, seed) = hub.open();
        let mut server = ServerConn::new(id, seed, conn_config(), None, T0);
        server.record_plaintext();
        server.start(T0, &mut hub);
        Conn {
            stream,
            server,
            hub,
            fed: 0,
            events: Vec::new(),
            next: 0,
            accepted: false,
            layer_open: true,
            close_sent: false,
            end: None,
            session_out: Vec::new(),
            messages: Vec::new(),
            plan,
            delivered: Vec::new(),
            version: None,
            close_reported: false,
            outcome: Outcome::new(""),
        }
    }

    fn run(mut self, reads: &[usize]) -> Outcome {
        let mut i = 0usize;
        while self.fed < self.stream.len() && self.end.is_none() {
            let n = reads
                .get(i % reads.len().max(1))
                .copied()
                .unwrap_or(1)
                .max(1);
            let to = self.fed.saturating_add(n).min(self.stream.len());
            self.step(to);
            i += 1;
        }
        if self.end.is_none() {
            self.finish_open();
        } else {
            self.check_ignored();
        }
        self.final_checks();
        let verdict = match &self.end {
            None if self.accepted => "open until the end (server shut down: close 1000)".to_owned(),
            None => "upgrade request incomplete at the end".to_owned(),
            Some(End::Refused(s)) => format!("upgrade refused: HTTP {s}"),
            Some(End::Failed(c)) => format!("websocket failed: close {c}"),
            Some(End::PeerClosed) => "client closed".to_owned(),
            Some(End::SessionClosed) => {
                match self.server.session().and_then(|s| s.close_reason()) {
                    Some((reason, stage)) => format!("session closed at {stage}: {reason}"),
                    None => "session closed".to_owned(),
                }
            }
        };
        self.outcome.verdict = verdict;
        self.outcome
    }

    /// Feeds the stream up to offset `to` as one read (the engine's layer answers, the
    /// session gets the plaintext and answers too), then checks everything that came out.
    fn step(&mut self, to: usize) {
        let chunk = self.stream.get(self.fed..to).unwrap_or_default();
        self.fed = to;
        self.outcome.count("reads", 1);
        let (plain, out, wire, closed) = self.feed(chunk);
        let mut frames_wire = wire.as_slice();
        if !self.accepted {
            let request = self.stream.get(..to).unwrap_or_default();
            match read_upgrade(request, PATH) {
                Upgrade::Incomplete => {
                    assert!(
                        closed.is_none() && plain.is_empty() && wire.is_empty(),
                        "the layer answered an incomplete request: {closed:?}, {} bytes",
                        wire.len()
                    );
                    assert!(
                        self.server.session().is_none(),
                        "a session before the upgrade"
                    );
                    assert!(
                        to < MAX_REQUEST_BYTES,
                        "{to} request bytes held without an answer"
                    );
                    return;
                }
                Upgrade::Reject(r) => {
                    match &closed {
                        Some(CloseCause::Layer(LayerError::WebSocket(WsError::Upgrade {
                            status,
                            ..
                        }))) => assert_eq!(*status, r.status, "reported vs expected status"),
                        other => {
                            panic!("refused request ({} {}) gave {other:?}", r.status, r.detail)
                        }
                    }
                    let n = check_response(&wire, r.status);
                    assert_eq!(n, wire.len(), "bytes after the HTTP error response");
                    assert!(plain.is_empty());
                    self.outcome.count("refused", 1);
                    self.end = Some(End::Refused(r.status));
                    self.layer_open = false;
                    return;
                }
                Upgrade::Accept { consumed, .. } => {
                    let n = check_switching(&wire, request.get(..consumed).unwrap_or_default());
                    frames_wire = wire.get(n..).unwrap_or_default();
                    assert!(
                        self.server.layer().is_some_and(|l| !l.is_handshaking()),
                        "accepted but still handshaking"
                    );
                    self.accepted = true;
                    self.events = interpret(self.stream, consumed);
                    self.outcome.count("upgraded", 1);
                }
            }
        }
        // What the reference says must have happened by now.
        let mut want_plain = Vec::new();
        let mut want_pongs = Vec::new();
        let mut want_end = None;
        while let Some((at, event)) = self.events.get(self.next) {
            if *at > to {
                break;
            }
            self.next += 1;
            match event {
                Event::Deliver(p) => want_plain.extend_from_slice(p),
                Event::Pong(p) => want_pongs.push(Sent::Pong(p.clone())),
                Event::Fail(code) => want_end = Some((End::Failed(*code), *code, None)),
                Event::PeerClose(reply) => {
                    let code = close_code(reply).unwrap_or(1005);
                    want_end = Some((End::PeerClosed, code, Some(reply.clone())));
                }
            }
        }
        match (&closed, &want_end) {
            (
                Some(CloseCause::Layer(LayerError::WebSocket(WsError::Failed { code, .. }))),
                Some((End::Failed(c), ..)),
            ) => assert_eq!(code, c, "close code reported vs expected"),
            (Some(CloseCause::Session(CloseReason::PeerClosed)), None) => {
                panic!("peer close reported without one")
            }
            (Some(CloseCause::Session(_)), Some((End::PeerClosed, ..))) => {}
            (None | Some(CloseCause::Session(_)), None) => {}
            (c, w) => panic!("the connection ended with {c:?}, the reference expects {w:?}"),
        }
        assert!(
            plain == want_plain,
            "the session side got {} bytes, the complete binary messages hold {}",
            plain.len(),
            want_plain.len()
        );
        self.delivered.extend_from_slice(&plain);
        if let Some(s) = self.server.session() {
            assert!(
                s.buffered_len() <= MAX_MESSAGE + SESSION_PIECE,
                "session buffers {} bytes",
                s.buffered_len()
            );
            self.version = self.version.or(s.version());
        }
        // The layer's answers (pongs, then the close frame of a failure or a peer close)
        // come first; then, while the layer is open, the session's frames and the close
        // 1000 of a session that ended itself.
        let mut sent = server_frames(frames_wire);
        self.outcome.count("pongs", want_pongs.len() as u64);
        let rest = if sent.len() >= want_pongs.len() {
            sent.split_off(want_pongs.len())
        } else {
            Vec::new()
        };
        assert_eq!(sent, want_pongs, "the layer's answers to this read");
        match want_end {
            Some((end, code, reply)) => {
                let [Sent::Close(body)] = rest.as_slice() else {
                    panic!("expected one close frame after the pongs, got {rest:?}")
                };
                match reply {
                    Some(reply) => assert_eq!(body, &reply, "close reply"),
                    None => assert_eq!(close_code(body), Some(code), "close code on the wire"),
                }
                self.sent_close();
                self.end = Some(end);
            }
            None => {
                self.session_out.extend_from_slice(&out);
                let close = closed.is_some().then_some(1000);
                self.take_output(rest, close);
                if closed.is_some() {
                    self.end = Some(End::SessionClosed);
                }
            }
        }
    }

    /// Gives the engine one read; returns what the layer gave the session, what the
    /// session wrote, the wire output, and the cause if the connection closed now.
    fn feed(&mut self, chunk: &[u8]) -> (Vec<u8>, Vec<u8>, Vec<u8>, Option<CloseCause>) {
        let tapped = |c: &ServerConn| {
            c.plaintext()
                .map_or((0, 0), |p| (p.from_layer.len(), p.from_session.len()))
        };
        let (to_before, from_before) = tapped(&self.server);
        self.server.handle_wire(chunk, T0, &mut self.hub);
        let mut wire = Vec::new();
        self.server.poll_transmit(&mut wire);
        let closed = self.take_close();
        let (plain, out) = match self.server.plaintext() {
            Some(p) => (
                p.from_layer.get(to_before..).unwrap_or_default().to_vec(),
                p.from_session
                    .get(from_before..)
                    .unwrap_or_default()
                    .to_vec(),
            ),
            None => (Vec::new(), Vec::new()),
        };
        (plain, out, wire, closed)
    }

    /// The engine's close event, if it reported one now (at most one ever).
    fn take_close(&mut self) -> Option<CloseCause> {
        let mut cause = None;
        while let Some(event) = self.server.poll_event() {
            if let ConnEvent::Closed(end) = event {
                assert!(cause.is_none() && !self.close_reported, "two close events");
                self.close_reported = true;
                cause = Some(end.cause);
            }
        }
        cause
    }

    /// Notes that the close frame is out.
    fn sent_close(&mut self) {
        assert!(!self.close_sent, "two close frames");
        self.close_sent = true;
        self.layer_open = false;
    }

    /// Checks session output on the wire: binary messages, then the close frame with
    /// `close` if one was due.
    fn take_output(&mut self, mut sent: Vec<Sent>, close: Option<u16>) {
        if !self.layer_open {
            assert!(
                sent.is_empty(),
                "{} frames sent after the close",
                sent.len()
            );
            return;
        }
        if let Some(code) = close {
            match sent.pop() {
                Some(Sent::Close(body)) => assert_eq!(close_code(&body), Some(code)),
                other => panic!("expected close {code}, got {other:?}"),
            }
            self.sent_close();
        }
        for s in sent {
            match s {
                Sent::Binary(m) => {
                    match split_frame(&m, usize::MAX) {
                        Ok(Some(b)) if b.total_len() == m.len() => {}
                        other => {
                            panic!("server message is not one wkproto frame: {other:?} {m:02x?}")
                        }
                    }
                    self.outcome.count("server_messages", 1);
                    self.messages.push(m);
                }
                other => panic!("unexpected server frame {other:?} with session output"),
            }
        }
    }

    /// The stream ended with the connection open: the server shuts down (close 1000 if
    /// upgraded, nothing otherwise).
    fn finish_open(&mut self) {
        self.server.handle_shutdown(&mut self.hub);
        let mut wire = Vec::new();
        self.server.poll_transmit(&mut wire);
        assert!(
            self.take_close().is_some(),
            "shutdown did not close the connection"
        );
        if self.accepted {
            self.take_output(server_frames(&wire), Some(1000));
        } else {
            assert!(wire.is_empty(), "close before the upgrade sent {wire:02x?}");
        }
    }

    /// After the end, whatever else the client sends is ignored.
    fn check_ignored(&mut self) {
        let rest = self.stream.get(self.fed..).unwrap_or_default();
        if rest.is_empty() {
            return;
        }
        let (plain, _, wire, closed) = self.feed(rest);
        assert!(
            closed.is_none() && plain.is_empty() && wire.is_empty(),
            "input after the end was not ignored: {closed:?}, {} plain, {} wire bytes",
            plain.len(),
            wire.len()
        );
        self.outcome.count("ignored_bytes", rest.len() as u64);
    }

    fn final_checks(&mut self) {
        let binary: Vec<u8> = self.messages.concat();
        assert!(
            binary == self.session_out,
            "binary messages ({} bytes) differ from the session's output ({} bytes)",
            binary.len(),
            self.session_out.len()
        );
        if let Some(s) = self.server.session() {
            if self.end.is_some() {
                assert!(s.close_reason().is_some(), "connection over, session open");
            }
            if let Some(v) = self.version {
                // Logged in at v: every message, CONNACK included, decodes at v.
                for m in &self.messages {
                    match Frame::read(m, v, usize::MAX) {
                        Ok(Some((f, n))) if n == m.len() => {
                            self.outcome.count(
                                match f.packet {
                                    Packet::Connack(_) => "wk_connack",
                                    Packet::Pong => "wk_pong",
                                    Packet::Sendack(_) => "wk_sendack",
                                    Packet::Recv(_) => "wk_recv",
                                    Packet::Disconnect(_) => "wk_disconnect",
                                    _ => "wk_other",
                                },
                                1,
                            );
                        }
                        other => panic!("server message does not decode at v{v}: {other:?}"),
                    }
                }
            }
            self.outcome.count("session", 1);
        }
        self.outcome
            .count("delivered_bytes", self.delivered.len() as u64);
        self.check_plan();
    }

    /// Mode 1: a clean session that arrived whole got its answers.
    fn check_plan(&mut self) {
        let Some(plan) = &self.plan else { return };
        let whole = self.delivered == plan.wk
            && !matches!(self.end, Some(End::Failed(_) | End::Refused(_)));
        if !(plan.clean && whole) {
            return;
        }
        // The session saw the whole stream; a peer close after it is fine.
        let mut client = Client::new(SECRET, plan.version);
        let (mut connacks, mut pongs, mut sendacks) = (0u64, 0u64, 0u64);
        for m in &self.messages {
            let frames = client
                .handle_bytes(m)
                .unwrap_or_else(|e| panic!("client cannot decode a server message: {e}"));
            assert_eq!(frames.len(), 1, "one wkproto frame per message");
            for f in frames {
                match f.packet {
                    Packet::Connack(c) => {
                        assert_eq!(c.reason, ReasonCode::SUCCESS, "CONNACK of a clean CONNECT");
                        connacks += 1;
                    }
                    Packet::Pong => pongs += 1,
                    Packet::Sendack(_) => sendacks += 1,
                    _ => {}
                }
            }
        }
        if self.end == Some(End::PeerClosed) {
            // The answers to the last read were dropped with the close: only check bounds.
            assert!(connacks <= 1 && pongs <= plan.pings && sendacks <= plan.sends);
            return;
        }
        assert_eq!(connacks, 1, "CONNACK");
        assert_eq!(pongs, plan.pings, "one PONG per PING");
        assert_eq!(sendacks, plan.sends, "one SENDACK per SEND");
        self.outcome.count("clean_sessions", 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen::ws::{LengthForm, Payload, UpgradeRequest, WsFrame};

    fn script(wk: Vec<WkOp>, frames: Vec<WsFrame>) -> WsScript {
        WsScript {
            upgrade: UpgradeRequest::Sdk,
            wk,
            frames,
        }
    }

    fn chat() -> Vec<WkOp> {
        vec![
            WkOp::Connect { version: 4 },
            WkOp::Send {
                to: 1,
                text: b"hello".to_vec(),
            },
            WkOp::Ping,
        ]
    }

    #[test]
    fn a_clean_session_gets_connack_sendack_and_pong_at_every_read_size() {
        for schedule in 0..SCHEDULES.len() {
            let s = script(chat(), vec![WsFrame::new(OP_BINARY, Payload::Wk(0))]);
            let o = run_script(&s, schedule);
            assert_eq!(o.get("clean_sessions"), 1, "{schedule}: {o}");
            assert_eq!(o.get("server_messages"), 3, "{schedule}: {o}");
            assert_eq!(
                o.verdict, "open until the end (server shut down: close 1000)",
                "{o}"
            );
            assert_eq!((o.get("wk_pong"), o.get("wk_sendack")), (1, 1), "{o}");
        }
    }

    #[test]
    fn fragments_pings_and_split_frames_still_deliver() {
        let frames = vec![
            WsFrame::new(OP_BINARY, Payload::Wk(3)).more(),
            WsFrame::new(OP_PING, Payload::Raw(b"are you there".to_vec())),
            WsFrame::new(OP_CONTINUATION, Payload::Wk(50)).more(),
            WsFrame::new(OP_CONTINUATION, Payload::Wk(1)),
            WsFrame::new(OP_PONG, Payload::Empty),
            WsFrame {
                length: LengthForm::Wide64,
                ..WsFrame::new(OP_BINARY, Payload::Wk(2))
            },
        ];
        let o = run_script(&script(chat(), frames), 3);
        assert_eq!(o.get("clean_sessions"), 1, "{o}");
        assert_eq!(o.get("pongs"), 1, "{o}");
    }

    #[test]
    fn each_violation_gets_its_close_code() {
        let unmasked = WsFrame {
            mask: None,
            ..WsFrame::new(OP_BINARY, Payload::Wk(0))
        };
        let cases = vec![
            (WsFrame::new(OP_TEXT, Payload::Raw(b"hi".to_vec())), 1003),
            (WsFrame::new(OP_TEXT, Payload::Raw(vec![0xff])), 1007),
            (WsFrame::new(OP_BINARY, Payload::Filler(2000)), 1009),
            (unmasked, 1002),
            (WsFrame::new(3, Payload::Empty), 1002),
            (WsFrame::new(OP_CONTINUATION, Payload::Empty), 1002),
            (WsFrame::new(OP_PING, Payload::Filler(126)), 1002),
            (WsFrame::new(OP_PING, Payload::Empty).more(), 1002),
            (
                WsFrame {
                    rsv: 4,
                    ..WsFrame::new(OP_BINARY, Payload::Empty)
                },
                1002,
            ),
            (
                WsFrame {
                    length: LengthForm::Declared(1 << 62),
                    ..WsFrame::new(OP_BINARY, Payload::Empty)
                },
                1009,
            ),
        ];
        for (frame, code) in cases {
            let s = script(chat(), vec![frame.clone()]);
            for schedule in [0, 1] {
                let o = run_script(&s, schedule);
                assert_eq!(
                    o.verdict,
                    format!("websocket failed: close {code}"),
                    "{frame:?}"
                );
            }
        }
    }

    #[test]
    fn client_close_is_answered_and_ends_the_session() {
        for (payload, reply) in [
            (Payload::Empty, "client closed"),
            (
                Payload::Close {
                    code: 1000,
                    reason: b"bye".to_vec(),
                },
                "client closed",
            ),
            (
                Payload::Close {
                    code: 1005,
                    reason: vec![],
                },
                "client closed",
            ),
            (
                Payload::Close {
                    code: 1000,
                    reason: vec![0xc3],
                },
                "websocket failed: close 1007",
            ),
            (Payload::Raw(vec![3]), "websocket failed: close 1002"),
        ] {
            let frames = vec![
                WsFrame::new(OP_BINARY, Payload::Wk(0)),
                WsFrame::new(OP_CLOSE, payload.clone()),
                WsFrame::new(OP_BINARY, Payload::Raw(vec![0x70])),
            ];
            let o = run_script(&script(chat(), frames), 2);
            assert_eq!(o.verdict, reply, "{payload:?}: {o}");
        }
    }

    #[test]
    fn bad_upgrades_get_http_errors() {
        use crate::gen::ws::BadUpgrade as B;
        for (bad, status) in [
            (B::WrongPath, 404),
            (B::NotWebSocket, 426),
            (B::NoConnectionUpgrade, 400),
            (B::NoKey, 400),
            (B::ShortKey, 400),
            (B::Version(8), 426),
            (B::Post, 405),
            (B::Http10, 400),
            (B::NoHost, 400),
            (B::Oversized, 431),
            (B::Garbage, 400),
        ] {
            let s = WsScript {
                upgrade: UpgradeRequest::Bad(bad),
                ..script(chat(), vec![])
            };
            for schedule in [0, 4] {
                let o = run_script(&s, schedule);
                assert_eq!(
                    o.verdict,
                    format!("upgrade refused: HTTP {status}"),
                    "{bad:?}"
                );
            }
        }
    }

    #[test]
    fn a_bad_connect_closes_the_session_with_1000() {
        let o = run_script(
            &script(
                vec![WkOp::Ping],
                vec![WsFrame::new(OP_BINARY, Payload::Wk(0))],
            ),
            0,
        );
        assert!(o.verdict.starts_with("session closed at connect"), "{o}");
    }

    #[test]
    fn the_reference_reads_tungstenite_s_rules() {
        let mut stream = Vec::new();
        WsFrame::new(OP_TEXT, Payload::Empty)
            .more()
            .encode_with(&[0xe2, 0x82], &mut stream);
        WsFrame::new(OP_CONTINUATION, Payload::Empty).encode_with(&[0xac], &mut stream);
        assert_eq!(
            interpret(&stream, 0),
            vec![(stream.len(), Event::Fail(1003))]
        );
        let mut stream = Vec::new();
        WsFrame::new(OP_TEXT, Payload::Empty)
            .more()
            .encode_with(&[0xe2, 0x28], &mut stream);
        assert_eq!(
            interpret(&stream, 0),
            vec![(stream.len(), Event::Fail(1007))]
        );
        // A long header is judged as soon as its length is in (with the mask key).
        let mut stream = Vec::new();
        WsFrame {
            length: LengthForm::Declared(70_000),
            ..WsFrame::new(OP_BINARY, Payload::Empty)
        }
        .encode_with(&[], &mut stream);
        assert_eq!(interpret(&stream, 0), vec![(14, Event::Fail(1009))]);
    }

    #[test]
    fn each_named_seed_gets_what_it_should() {
        const OPEN: &str = "open until the end (server shut down: close 1000)";
        for (name, seed) in crate::targets::seeds::ws_named_seeds() {
            let o = run(&seed);
            let (verdict, pongs, wk_pongs): (&str, u64, u64) = match name {
                "sdk session v4"
                | "sdk session v4, 1-byte reads"
                | "sdk session v4, growing reads"
                | "sdk session v2"
                | "one message, several frames" => (OPEN, 0, 1),
                "fragmented, with a ping inside" => (OPEN, 1, 1),
                "ping then close" => ("client closed", 1, 0),
                "text message" => ("websocket failed: close 1003", 0, 0),
                "frame over the limit" => ("websocket failed: close 1009", 0, 0),
                "unmasked frame" => ("websocket failed: close 1002", 0, 0),
                "invalid UTF-8 text" => ("websocket failed: close 1007", 0, 0),
                "upgrade at a wrong path" => ("upgrade refused: HTTP 404", 0, 0),
                "plain HTTP request" | "upgrade with version 8" => {
                    ("upgrade refused: HTTP 426", 0, 0)
                }
                "upgrade without a key" | "TLS bytes on the ws port" => {
                    ("upgrade refused: HTTP 400", 0, 0)
                }
                "POST upgrade" => ("upgrade refused: HTTP 405", 0, 0),
                other => panic!("no expectation for seed {other:?}"),
            };
            assert_eq!(o.verdict, verdict, "{name}: {o}");
            assert_eq!(
                (o.get("pongs"), o.get("wk_pong")),
                (pongs, wk_pongs),
                "{name}: {o}"
            );
            if verdict == OPEN {
                assert_eq!(
                    (o.get("wk_connack"), o.get("wk_sendack")),
                    (1, 1),
                    "{name}: {o}"
                );
            }
            assert_eq!(run(&seed), o, "{name}: deterministic");
        }
    }

    #[test]
    fn random_inputs_keep_every_oracle() {
        use rand::{RngCore, SeedableRng};
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(11);
        let mut verdicts = std::collections::BTreeSet::new();
        for i in 0..400usize {
            let mut data = vec![0u8; 1 + (i % 80) * 5];
            rng.fill_bytes(&mut data);
            data[0] |= 1;
            let o = run(&data);
            verdicts.insert(o.verdict.split(':').next().unwrap_or_default().to_owned());
        }
        assert!(verdicts.len() >= 4, "{verdicts:?}");
    }

    #[test]
    fn raw_mode_and_describe() {
        let mut data = vec![0u8];
        let s = script(chat(), vec![WsFrame::new(OP_BINARY, Payload::Wk(0))]);
        let (wk, _) = wk_stream(&s.wk);
        data.extend(s.encode(&wk));
        let o = run(&data);
        assert_eq!(o.get("server_messages"), 3, "{o}");
        assert_eq!(run(&data), o, "deterministic");
        let d = describe(&data);
        assert!(
            d.contains("request:\nGET / HTTP/1.1") && d.contains("opcode=0x2"),
            "{d}"
        );
        assert!(describe(&[1, 2, 3]).contains("WsScript"));
        assert_eq!(run(&[]).verdict, "empty input");
    }
}
