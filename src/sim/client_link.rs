//! The client's end of a simulated connection on any transport: plain TCP, rustls, or
//! WebSocket over either. It frames what the client sends the way a real client does (one
//! masked binary message per wkproto frame, optionally fragmented) and reads what the server
//! sends strictly: TLS records through rustls, WebSocket frames through tungstenite's client
//! role (which refuses masked or malformed server frames), so a server byte that a real
//! client could not read is an error here, not something silently skipped.

use crate::gen::ws::{WsFrame, KEY, OP_BINARY, OP_CLOSE, OP_CONTINUATION};
use crate::transport::pipe::Pipe;
use crate::transport::Transport;
use std::io::{Read, Write};
use tungstenite::protocol::{Role, WebSocketConfig, WebSocketContext};
use tungstenite::Message;

/// The upgrade request every simulated WebSocket client sends (path `/`).
const UPGRADE_REQUEST: &str = "GET / HTTP/1.1\r\nHost: localhost\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n";

/// Longest HTTP response to an upgrade the client waits for.
const MAX_RESPONSE: usize = 16 * 1024;

/// What one batch of server bytes amounted to.
#[derive(Debug, Default)]
pub struct Incoming {
    /// The wkproto bytes, in order.
    pub bytes: Vec<u8>,
    /// For WebSocket, each binary message's payload (each must be one whole wkproto frame).
    pub messages: Vec<Vec<u8>>,
    /// The server ended the connection at this layer (TLS close_notify, WebSocket close
    /// frame, an HTTP error instead of `101`).
    pub closed: bool,
}

/// Why the server's bytes are unreadable for a real client.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    /// TLS failed on the client side.
    #[error("TLS: {0}")]
    Tls(String),
    /// The upgrade response is not HTTP.
    #[error("upgrade response: {0}")]
    Upgrade(String),
    /// The server broke the WebSocket protocol.
    #[error("websocket: {0}")]
    WebSocket(String),
}

/// Plain TCP or TLS under the client.
#[derive(Debug)]
enum Stream {
    Plain,
    Tls(Box<rustls::ClientConnection>),
}

/// Where the client's WebSocket is.
#[derive(Debug)]
enum Ws {
    /// Not WebSocket.
    None,
    /// The request went out; `response` holds what came back so far.
    Upgrading { response: Vec<u8> },
    /// `101` received: frames flow.
    Open(Box<(WebSocketContext, Pipe)>),
    /// Closed by either side (or refused).
    Closed,
}

/// One client's transport end.
#[derive(Debug)]
pub struct ClientLink {
    stream: Stream,
    ws: Ws,
    /// Fragments per WebSocket message (1: unfragmented).
    fragments: usize,
    /// Wire bytes for the server (plain) or plaintext for rustls to encrypt (TLS).
    to_server: Vec<u8>,
    /// The client closed its side (nothing more is sent).
    closed: bool,
    /// A copy of the wkproto bytes sent since [`ClientLink::tap`], up to its cap.
    tapped: Option<(Vec<u8>, usize)>,
}

impl ClientLink {
    /// A client end on `transport`; `tls` is the client connection of TLS transports.
    /// WebSocket clients queue their upgrade request at once and send frames right behind it.
    pub fn new(
        transport: Transport,
        tls: Option<rustls::ClientConnection>,
        fragments: usize,
    ) -> ClientLink {
        let stream = match tls {
            Some(c) if transport.is_tls() => Stream::Tls(Box::new(c)),
            _ => Stream::Plain,
        };
        let mut link = ClientLink {
            stream,
            ws: Ws::None,
            fragments: fragments.max(1),
            to_server: Vec::new(),
            closed: false,
            tapped: None,
        };
        if transport.is_websocket() {
            let request = format!("{UPGRADE_REQUEST}Sec-WebSocket-Key: {KEY}\r\n\r\n");
            link.write_stream(request.as_bytes());
            link.ws = Ws::Upgrading {
                response: Vec::new(),
            };
        }
        link
    }

    /// From now on keeps a copy of the wkproto bytes sent (the first `cap` of them): the
    /// stream as the server's session reads it, for oracles that split it the same way. A
    /// second call keeps the first copy going.
    pub fn tap(&mut self, cap: usize) {
        self.tapped.get_or_insert_with(|| (Vec::new(), cap));
    }

    /// The bytes kept since [`ClientLink::tap`] (empty if never tapped).
    pub fn tapped(&self) -> &[u8] {
        self.tapped
            .as_ref()
            .map_or(&[], |(copy, _)| copy.as_slice())
    }

    /// Whether the transport is TLS.
    pub fn is_tls(&self) -> bool {
        matches!(self.stream, Stream::Tls(_))
    }

    /// Sends `wk` as the client's transport carries wkproto: as is, or as one binary
    /// WebSocket message (in `fragments` frames). Returns false (and sends nothing) once the
    /// client has closed its side.
    pub fn send(&mut self, wk: &[u8]) -> bool {
        if self.closed {
            return false;
        }
        if let Some((copy, cap)) = &mut self.tapped {
            let room = cap.saturating_sub(copy.len());
            copy.extend_from_slice(wk.get(..room.min(wk.len())).unwrap_or_default());
        }
        if matches!(self.ws, Ws::None) {
            self.write_stream(wk);
            return true;
        }
        let mut frames = Vec::new();
        let n = self.fragments.min(wk.len().max(1));
        let step = wk.len().div_ceil(n).max(1);
        let mut pieces: Vec<&[u8]> = wk.chunks(step).collect();
        if pieces.is_empty() {
            pieces.push(&[]);
        }
        let last = pieces.len() - 1;
        for (i, piece) in pieces.iter().enumerate() {
            let opcode = if i == 0 { OP_BINARY } else { OP_CONTINUATION };
            let mut frame = WsFrame::new(opcode, crate::gen::ws::Payload::Empty);
            if i != last {
                frame = frame.more();
            }
            frame.encode_with(piece, &mut frames);
        }
        self.write_stream(&frames);
        true
    }

    /// Ends the client's side politely: a WebSocket close frame, then TLS close_notify.
    pub fn close(&mut self) {
        if self.closed {
            return;
        }
        if matches!(self.ws, Ws::Open(_) | Ws::Upgrading { .. }) {
            // Close 1000. Reading goes on until the server's close frame answers it.
            let mut frame = Vec::new();
            WsFrame::new(OP_CLOSE, crate::gen::ws::Payload::Empty)
                .encode_with(&[3, 232], &mut frame);
            self.write_stream(&frame);
        }
        if let Stream::Tls(c) = &mut self.stream {
            c.send_close_notify();
        }
        self.closed = true;
    }

    /// A TLS 1.3 KeyUpdate (nothing on other transports).
    pub fn key_update(&mut self) {
        if let Stream::Tls(c) = &mut self.stream {
            let _ = c.refresh_traffic_keys();
        }
    }

    /// Appends every byte waiting for the server to `out`.
    pub fn poll_wire(&mut self, out: &mut Vec<u8>) {
        match &mut self.stream {
            Stream::Plain => out.append(&mut self.to_server),
            Stream::Tls(c) => {
                // rustls takes plaintext only as far as its buffer limit (64 KiB): hand it
                // over piece by piece, draining records in between; what it cannot take yet
                // (before the handshake completes) waits here for the next call.
                let mut taken = 0;
                loop {
                    let rest = self.to_server.get(taken..).unwrap_or_default();
                    let n = if rest.is_empty() {
                        0
                    } else {
                        c.writer().write(rest).unwrap_or(0)
                    };
                    taken += n;
                    let mut drained = false;
                    while c.wants_write() {
                        if c.write_tls(out).unwrap_or(0) == 0 {
                            break;
                        }
                        drained = true;
                    }
                    if n == 0 && !drained {
                        break;
                    }
                }
                self.to_server.drain(..taken);
            }
        }
    }

    /// Reads the server's bytes.
    ///
    /// # Errors
    /// When a real client could not read them (see [`LinkError`]).
    pub fn handle_wire(&mut self, wire: &[u8]) -> Result<Incoming, LinkError> {
        let mut incoming = Incoming::default();
        let plain = match &mut self.stream {
            Stream::Plain => wire.to_vec(),
            Stream::Tls(c) => read_tls(c, wire, &mut incoming)?,
        };
        match &mut self.ws {
            Ws::None => incoming.bytes = plain,
            Ws::Closed => {}
            Ws::Upgrading { response } => {
                response.extend_from_slice(&plain);
                self.read_upgrade(&mut incoming)?;
            }
            Ws::Open(open) => {
                open.1.push(&plain);
                self.read_frames(&mut incoming)?;
            }
        }
        Ok(incoming)
    }

    /// Parses the upgrade response once it is complete; frames behind it are read too.
    fn read_upgrade(&mut self, incoming: &mut Incoming) -> Result<(), LinkError> {
        let Ws::Upgrading { response } = &mut self.ws else {
            return Ok(());
        };
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut parsed = httparse::Response::new(&mut headers);
        let consumed = match parsed.parse(response) {
            Ok(httparse::Status::Complete(n)) => n,
            Ok(httparse::Status::Partial) if response.len() <= MAX_RESPONSE => return Ok(()),
            Ok(httparse::Status::Partial) => {
                return Err(LinkError::Upgrade("no end of headers".into()))
            }
            Err(e) => return Err(LinkError::Upgrade(e.to_string())),
        };
        if parsed.code != Some(101) {
            // An HTTP error: the server refused us and closes.
            incoming.closed = true;
            self.ws = Ws::Closed;
            return Ok(());
        }
        let rest = response.get(consumed..).unwrap_or_default().to_vec();
        // The server's read chunk: tungstenite zeroes its default 128 KiB on every read (2%
        // of a `session` fuzz run in a profile).
        let config =
            WebSocketConfig::default().read_buffer_size(crate::transport::ws::WS_READ_CHUNK);
        let mut pipe = Pipe::default();
        pipe.push(&rest);
        self.ws = Ws::Open(Box::new((
            WebSocketContext::new(Role::Client, Some(config)),
            pipe,
        )));
        self.read_frames(incoming)
    }

    /// Reads every complete server message.
    fn read_frames(&mut self, incoming: &mut Incoming) -> Result<(), LinkError> {
        let Ws::Open(open) = &mut self.ws else {
            return Ok(());
        };
        let (ctx, pipe) = &mut **open;
        loop {
            match ctx.read(pipe) {
                Ok(Message::Binary(payload)) => {
                    incoming.bytes.extend_from_slice(&payload);
                    incoming.messages.push(payload.to_vec());
                }
                Ok(Message::Close(_)) => {
                    incoming.closed = true;
                    self.ws = Ws::Closed;
                    return Ok(());
                }
                Ok(Message::Text(_)) => {
                    return Err(LinkError::WebSocket(
                        "a text message from the server".into(),
                    ))
                }
                Ok(_) => {}
                Err(tungstenite::Error::Io(e)) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    // What tungstenite queued (pong replies) is not sent: the server never
                    // pings, and a reply's random mask would make runs differ.
                    pipe.output.clear();
                    return Ok(());
                }
                Err(tungstenite::Error::ConnectionClosed | tungstenite::Error::AlreadyClosed) => {
                    incoming.closed = true;
                    self.ws = Ws::Closed;
                    return Ok(());
                }
                Err(e) => return Err(LinkError::WebSocket(e.to_string())),
            }
        }
    }

    /// Queues bytes for the stream (encrypted when TLS).
    fn write_stream(&mut self, bytes: &[u8]) {
        self.to_server.extend_from_slice(bytes);
    }
}

/// Feeds TLS records to the client connection; returns the plaintext.
fn read_tls(
    conn: &mut rustls::ClientConnection,
    wire: &[u8],
    incoming: &mut Incoming,
) -> Result<Vec<u8>, LinkError> {
    let mut plain = Vec::new();
    let mut rest = wire;
    while !rest.is_empty() {
        match conn.read_tls(&mut rest) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => return Err(LinkError::Tls(e.to_string())),
        }
        match conn.process_new_packets() {
            Ok(_) => {}
            // The server ended TLS with an alert: the connection is over, not unreadable.
            Err(rustls::Error::AlertReceived(_)) => {
                incoming.closed = true;
                return Ok(plain);
            }
            Err(e) => return Err(LinkError::Tls(e.to_string())),
        }
        let mut buf = [0u8; 16 * 1024];
        loop {
            match conn.reader().read(&mut buf) {
                Ok(0) => {
                    incoming.closed = true;
                    break;
                }
                Ok(n) => plain.extend_from_slice(buf.get(..n).unwrap_or_default()),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break,
                Err(_) => {
                    incoming.closed = true;
                    break;
                }
            }
        }
    }
    Ok(plain)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tap_keeps_what_is_sent_after_it_up_to_its_cap() {
        let mut link = ClientLink::new(Transport::Tcp, None, 1);
        link.send(b"before");
        assert!(link.tapped().is_empty());
        link.tap(10);
        link.send(b"abcdef");
        link.tap(1000);
        link.send(b"ghijkl");
        assert_eq!(
            link.tapped(),
            b"abcdefghij",
            "first cap kept, nothing from before"
        );
    }
}
