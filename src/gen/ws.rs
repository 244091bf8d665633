//! The `ws` target's model: what a WebSocket client sends to the server (RFC 6455), as typed
//! choices that encode to wire bytes. An upgrade request, then a list of frames: any opcode
//! (reserved ones too), FIN and RSV bits, masked or not, the payload length in its minimal
//! 7-bit form, a needlessly wide 16- or 64-bit form, or a declared length that does not
//! match the payload. Binary frames usually carry consecutive slices of one wkproto byte
//! stream (CONNECT, PING, SEND, ... built by the target from [`WkOp`]s), so fragmentation,
//! several wkproto frames in one message and one wkproto frame over several messages all
//! come out of the same few choices.
//!
//! Weighted towards valid (see `gen::pick`): an input that reads as zeros is the JS
//! SDK's upgrade request, a CONNECT, and one masked binary frame carrying it. Every size is
//! bounded: at most [`MAX_FRAMES`] frames, [`MAX_WK_OPS`] wkproto operations, and payloads
//! of at most [`MAX_FILLER`] bytes, so one script encodes to well under 200 KiB.
//!
//! Next to the encoder sits the reader of the same grammar, [`read_header`], which the
//! target uses to parse the client stream (its reference of what the server must do) and
//! the server's answers.
//!
//! Wire grammar (RFC 6455 section 5.2):
//! `FIN:1 RSV1:1 RSV2:1 RSV3:1 opcode:4 | MASK:1 len:7 [len16 | len64] [masking-key:32] payload`,
//! where `len` 126 means a 16-bit length follows and 127 a 64-bit one.

use arbitrary::{Arbitrary, Result, Unstructured};

use super::pick::{bytes_up_to, capped, pick, rarely};

/// Most frames in one script (a tail frame may be added; see [`WsScript::encode`]).
pub const MAX_FRAMES: usize = 32;
/// Most wkproto operations in one script.
pub const MAX_WK_OPS: usize = 16;
/// Longest raw payload or raw wkproto bytes.
pub const MAX_RAW: usize = 256;
/// Longest filler payload: over the target's message limit (1 KiB + 5), so both sides of
/// it are reachable.
pub const MAX_FILLER: usize = 4096;
/// Longest SEND text.
pub const MAX_TEXT: usize = 64;
/// Longest close reason: past the 123 bytes a close frame can carry (RFC 6455 5.5.1).
pub const MAX_CLOSE_REASON: usize = 130;
/// The `Sec-WebSocket-Key` of every modelled request: the nonce of RFC 6455 section 1.3.
pub const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

/// Opcode continuation (RFC 6455 5.2).
pub const OP_CONTINUATION: u8 = 0x0;
/// Opcode text.
pub const OP_TEXT: u8 = 0x1;
/// Opcode binary.
pub const OP_BINARY: u8 = 0x2;
/// Opcode close.
pub const OP_CLOSE: u8 = 0x8;
/// Opcode ping.
pub const OP_PING: u8 = 0x9;
/// Opcode pong.
pub const OP_PONG: u8 = 0xA;

/// Whether `opcode` is a control frame's (the high bit of the 4-bit opcode).
pub fn is_control(opcode: u8) -> bool {
    opcode & 0x8 != 0
}

/// Whether `opcode` is defined by RFC 6455 (0-2 and 8-10; the rest are reserved).
pub fn is_defined(opcode: u8) -> bool {
    matches!(opcode, 0x0..=0x2 | 0x8..=0xA)
}

/// A whole client stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsScript {
    /// The opening handshake.
    pub upgrade: UpgradeRequest,
    /// The wkproto byte stream the binary frames carry, as operations.
    pub wk: Vec<WkOp>,
    /// The frames, in order (at most [`MAX_FRAMES`]).
    pub frames: Vec<WsFrame>,
}

/// The HTTP upgrade request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpgradeRequest {
    /// What a browser running the JS SDK sends (`GET /`, extension offer, Origin, ...).
    Sdk,
    /// Only the headers RFC 6455 4.1 requires, with lowercase names and values.
    Minimal,
    /// The SDK's request at `/?uid=u<n>` (the query is ignored).
    Query(u8),
    /// A request the server must refuse.
    Bad(BadUpgrade),
}

/// What is wrong with a refused upgrade request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadUpgrade {
    /// `GET /chat` (404).
    WrongPath,
    /// No `Upgrade: websocket`: plain HTTP (426).
    NotWebSocket,
    /// `Connection: keep-alive` without `upgrade` (400).
    NoConnectionUpgrade,
    /// No `Sec-WebSocket-Key` (400).
    NoKey,
    /// A key that is base64 of 5 bytes (400).
    ShortKey,
    /// `Sec-WebSocket-Version` other than 13 (426).
    Version(u8),
    /// `POST` (405).
    Post,
    /// `HTTP/1.0` (400).
    Http10,
    /// No `Host` (400).
    NoHost,
    /// Over 8 KiB of headers (431).
    Oversized,
    /// Not HTTP at all: a TLS ClientHello's first bytes (400).
    Garbage,
}

/// One wkproto operation of the stream the binary frames carry. The target encodes them
/// with a real [`crate::client::Client`] (SENDs encrypted with the keys its CONNACK gives).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WkOp {
    /// CONNECT as uid `u0` at this protocol version (2..=6 is supported).
    Connect {
        /// Version byte.
        version: u8,
    },
    /// PING.
    Ping,
    /// SEND to person `u<to % 4>`.
    Send {
        /// Recipient index.
        to: u8,
        /// Plaintext (at most [`MAX_TEXT`] bytes).
        text: Vec<u8>,
    },
    /// RECVACK of a message id that may not exist.
    Recvack {
        /// Message id.
        id: u8,
    },
    /// DISCONNECT (the session closes).
    Disconnect,
    /// Raw bytes (at most [`MAX_RAW`]).
    Raw(Vec<u8>),
}

/// One frame as the client writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsFrame {
    /// FIN bit.
    pub fin: bool,
    /// RSV1..3 (low 3 bits; must be 0 without extensions).
    pub rsv: u8,
    /// Opcode (low 4 bits; see the `OP_*` consts; others are reserved).
    pub opcode: u8,
    /// Masking key; `None` sends the frame unmasked (a client MUST mask, RFC 6455 5.3).
    pub mask: Option<[u8; 4]>,
    /// How the payload length is written.
    pub length: LengthForm,
    /// What the payload is.
    pub payload: Payload,
}

/// How a frame's payload length is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LengthForm {
    /// The shortest form (what RFC 6455 5.2 requires).
    Minimal,
    /// The 16-bit form even if 7 bits would do (if the length fits in 16 bits).
    Wide16,
    /// The 64-bit form.
    Wide64,
    /// This length in the shortest form that holds it, whatever the payload is: the
    /// stream goes out of step (a long one is refused from the header alone).
    Declared(u64),
}

/// A frame's payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    /// The next `n` bytes of the wkproto stream (0: all that is left).
    Wk(u16),
    /// These bytes (at most [`MAX_RAW`]).
    Raw(Vec<u8>),
    /// `n` bytes of `x` (at most [`MAX_FILLER`]).
    Filler(u16),
    /// A close frame body: the code and a reason (at most [`MAX_CLOSE_REASON`] bytes, not
    /// necessarily UTF-8).
    Close {
        /// Status code.
        code: u16,
        /// Reason bytes.
        reason: Vec<u8>,
    },
    /// Nothing.
    Empty,
}

impl UpgradeRequest {
    /// The request bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        let sdk = |path: &str| {
            format!(
                "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:5200\r\nConnection: Upgrade\r\nPragma: no-cache\r\nCache-Control: no-cache\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36\r\nUpgrade: websocket\r\nOrigin: http://localhost:8080\r\nSec-WebSocket-Version: 13\r\nAccept-Encoding: gzip, deflate, br\r\nAccept-Language: en-US,en;q=0.9\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Extensions: permessage-deflate; client_max_window_bits\r\n\r\n"
            )
        };
        let with =
            |first: &str, headers: &str| format!("{first}\r\nHost: localhost\r\n{headers}\r\n");
        let upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n";
        let key = format!("Sec-WebSocket-Key: {KEY}\r\n");
        let text = match self {
            UpgradeRequest::Sdk => sdk("/"),
            UpgradeRequest::Minimal => format!(
                "GET / HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: upgrade\r\nsec-websocket-key: {KEY}\r\nsec-websocket-version: 13\r\n\r\n"
            ),
            UpgradeRequest::Query(n) => sdk(&format!("/?uid=u{n}")),
            UpgradeRequest::Bad(bad) => match bad {
                BadUpgrade::WrongPath => with("GET /chat HTTP/1.1", &format!("{upgrade}{key}")),
                BadUpgrade::NotWebSocket => with("GET / HTTP/1.1", "Accept: */*\r\n"),
                BadUpgrade::NoConnectionUpgrade => with(
                    "GET / HTTP/1.1",
                    &format!("Upgrade: websocket\r\nConnection: keep-alive\r\nSec-WebSocket-Version: 13\r\n{key}"),
                ),
                BadUpgrade::NoKey => with("GET / HTTP/1.1", upgrade),
                BadUpgrade::ShortKey => with(
                    "GET / HTTP/1.1",
                    &format!("{upgrade}Sec-WebSocket-Key: c2hvcnQ=\r\n"),
                ),
                BadUpgrade::Version(v) => with(
                    "GET / HTTP/1.1",
                    &format!("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: {}\r\n{key}", v % 13),
                ),
                BadUpgrade::Post => with("POST / HTTP/1.1", &format!("{upgrade}{key}")),
                BadUpgrade::Http10 => with("GET / HTTP/1.0", &format!("{upgrade}{key}")),
                BadUpgrade::NoHost => format!("GET / HTTP/1.1\r\n{upgrade}{key}\r\n"),
                BadUpgrade::Oversized => with(
                    "GET / HTTP/1.1",
                    &format!("{upgrade}{key}X-Filler: {}\r\n", "f".repeat(9000)),
                ),
                BadUpgrade::Garbage => {
                    out.extend_from_slice(&[0x16, 0x03, 0x01, 0x00, 0xa5, 0x01, 0x00, 0x00, 0xa1]);
                    return;
                }
            },
        };
        out.extend_from_slice(text.as_bytes());
    }
}

impl WsFrame {
    /// A masked, final frame of `opcode` with `payload`, length in its minimal form.
    pub fn new(opcode: u8, payload: Payload) -> WsFrame {
        WsFrame {
            fin: true,
            rsv: 0,
            opcode,
            mask: Some([0x37, 0xfa, 0x21, 0x3d]),
            length: LengthForm::Minimal,
            payload,
        }
    }

    /// The same frame with FIN clear.
    pub fn more(mut self) -> WsFrame {
        self.fin = false;
        self
    }

    /// Encodes the frame with `payload` as its payload bytes.
    pub fn encode_with(&self, payload: &[u8], out: &mut Vec<u8>) {
        let first = (u8::from(self.fin) << 7) | ((self.rsv & 0x7) << 4) | (self.opcode & 0xF);
        out.push(first);
        let mask_bit = if self.mask.is_some() { 0x80 } else { 0 };
        let actual = payload.len() as u64;
        let (form, len) = match self.length {
            LengthForm::Minimal => (minimal_form(actual), actual),
            LengthForm::Wide16 if actual <= u64::from(u16::MAX) => (126, actual),
            LengthForm::Wide16 => (minimal_form(actual), actual),
            LengthForm::Wide64 => (127, actual),
            LengthForm::Declared(n) => (minimal_form(n), n),
        };
        match form {
            126 => {
                out.push(mask_bit | 126);
                out.extend_from_slice(&u16::try_from(len).unwrap_or(u16::MAX).to_be_bytes());
            }
            127 => {
                out.push(mask_bit | 127);
                out.extend_from_slice(&len.to_be_bytes());
            }
            _ => out.push(mask_bit | u8::try_from(len).unwrap_or(0)),
        }
        match self.mask {
            Some(key) => {
                out.extend_from_slice(&key);
                let start = out.len();
                out.extend_from_slice(payload);
                apply_mask(out.get_mut(start..).unwrap_or_default(), key);
            }
            None => out.extend_from_slice(payload),
        }
    }
}

/// The 7-bit length code for a payload of `len` bytes: the length itself, 126 or 127.
fn minimal_form(len: u64) -> u64 {
    match len {
        0..=125 => len,
        126..=0xffff => 126,
        _ => 127,
    }
}

impl Payload {
    /// The payload bytes, taking `Wk` slices from `wk` (advanced past them).
    fn bytes(&self, wk: &mut &[u8]) -> Vec<u8> {
        match self {
            Payload::Wk(n) => {
                let n = match usize::from(*n) {
                    0 => wk.len(),
                    n => n.min(wk.len()),
                };
                let (taken, rest) = wk.split_at(n);
                *wk = rest;
                taken.to_vec()
            }
            Payload::Raw(b) => capped(b, MAX_RAW).to_vec(),
            Payload::Filler(n) => vec![b'x'; usize::from(*n).min(MAX_FILLER)],
            Payload::Close { code, reason } => {
                let mut v = code.to_be_bytes().to_vec();
                v.extend_from_slice(capped(reason, MAX_CLOSE_REASON));
                v
            }
            Payload::Empty => Vec::new(),
        }
    }
}

impl WsScript {
    /// The client's bytes: the request, each frame (binary payloads slicing `wk_stream` in
    /// order), then, if any of `wk_stream` is left, one more frame with the rest: a final
    /// continuation if a data message is still open, else a final binary frame (both
    /// masked). So a script whose frames are all valid delivers the whole stream.
    pub fn encode(&self, wk_stream: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        self.upgrade.encode(&mut out);
        let mut wk = wk_stream;
        let mut open = false;
        for frame in self.frames.iter().take(MAX_FRAMES) {
            let payload = frame.payload.bytes(&mut wk);
            frame.encode_with(&payload, &mut out);
            if !is_control(frame.opcode) {
                open = !frame.fin && (open || frame.opcode != OP_CONTINUATION);
            }
        }
        if !wk.is_empty() {
            let opcode = if open { OP_CONTINUATION } else { OP_BINARY };
            WsFrame::new(opcode, Payload::Empty).encode_with(wk, &mut out);
        }
        out
    }
}

impl<'a> Arbitrary<'a> for WsScript {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let upgrade = arbitrary_upgrade(u)?;
        let mut wk = vec![arbitrary_first_op(u)?];
        while wk.len() < MAX_WK_OPS && rarely(u, 160)? {
            wk.push(arbitrary_op(u)?);
        }
        let mut frames = vec![arbitrary_frame(u)?];
        while frames.len() < MAX_FRAMES && rarely(u, 170)? {
            frames.push(arbitrary_frame(u)?);
        }
        Ok(WsScript {
            upgrade,
            wk,
            frames,
        })
    }
}

fn arbitrary_upgrade(u: &mut Unstructured<'_>) -> Result<UpgradeRequest> {
    Ok(match pick(u, &[70, 10, 10, 10])? {
        0 => UpgradeRequest::Sdk,
        1 => UpgradeRequest::Minimal,
        2 => UpgradeRequest::Query(u8::arbitrary(u)?),
        _ => UpgradeRequest::Bad(match pick(u, &[1; 11])? {
            0 => BadUpgrade::WrongPath,
            1 => BadUpgrade::NotWebSocket,
            2 => BadUpgrade::NoConnectionUpgrade,
            3 => BadUpgrade::NoKey,
            4 => BadUpgrade::ShortKey,
            5 => BadUpgrade::Version(u8::arbitrary(u)?),
            6 => BadUpgrade::Post,
            7 => BadUpgrade::Http10,
            8 => BadUpgrade::NoHost,
            9 => BadUpgrade::Oversized,
            _ => BadUpgrade::Garbage,
        }),
    })
}

/// The first operation: a CONNECT at a supported version, almost always.
fn arbitrary_first_op(u: &mut Unstructured<'_>) -> Result<WkOp> {
    if rarely(u, 12)? {
        return arbitrary_op(u);
    }
    Ok(WkOp::Connect {
        version: arbitrary_version(u)?,
    })
}

/// 4 (what the JS SDK speaks) from zeros, then 2..=6, rarely any byte.
fn arbitrary_version(u: &mut Unstructured<'_>) -> Result<u8> {
    Ok(match pick(u, &[40, 8, 8, 8, 8, 3])? {
        0 => 4,
        1 => 2,
        2 => 3,
        3 => 5,
        4 => 6,
        _ => u8::arbitrary(u)?,
    })
}

fn arbitrary_op(u: &mut Unstructured<'_>) -> Result<WkOp> {
    Ok(match pick(u, &[30, 30, 10, 4, 6, 3])? {
        0 => WkOp::Ping,
        1 => WkOp::Send {
            to: u8::arbitrary(u)?,
            text: bytes_up_to(u, MAX_TEXT)?,
        },
        2 => WkOp::Recvack {
            id: u8::arbitrary(u)?,
        },
        3 => WkOp::Disconnect,
        4 => WkOp::Raw(bytes_up_to(u, MAX_RAW)?),
        _ => WkOp::Connect {
            version: arbitrary_version(u)?,
        },
    })
}

fn arbitrary_frame(u: &mut Unstructured<'_>) -> Result<WsFrame> {
    let opcode = match pick(u, &[40, 12, 8, 4, 3, 4, 3])? {
        0 => OP_BINARY,
        1 => OP_CONTINUATION,
        2 => OP_PING,
        3 => OP_TEXT,
        4 => OP_PONG,
        5 => OP_CLOSE,
        _ => u8::arbitrary(u)? & 0xF,
    };
    let fin = !rarely(u, if is_control(opcode) { 6 } else { 40 })?;
    let rsv = if rarely(u, 8)? {
        (u8::arbitrary(u)? % 7) + 1
    } else {
        0
    };
    let mask = if rarely(u, 10)? {
        None
    } else {
        Some(<[u8; 4]>::arbitrary(u)?)
    };
    let length = match pick(u, &[90, 3, 3, 4])? {
        0 => LengthForm::Minimal,
        1 => LengthForm::Wide16,
        2 => LengthForm::Wide64,
        _ => LengthForm::Declared(match pick(u, &[3, 1])? {
            0 => u64::from(u16::arbitrary(u)?),
            _ => u64::arbitrary(u)?,
        }),
    };
    let payload = if opcode == OP_CLOSE {
        match pick(u, &[60, 20, 10, 10])? {
            0 => Payload::Close {
                code: match pick(u, &[10, 4, 4, 3])? {
                    0 => 1000,
                    1 => 1001,
                    2 => 4000 + u16::arbitrary(u)? % 1000,
                    _ => u16::arbitrary(u)?,
                },
                reason: bytes_up_to(u, MAX_CLOSE_REASON)?,
            },
            1 => Payload::Empty,
            2 => Payload::Raw(bytes_up_to(u, MAX_RAW)?),
            _ => Payload::Filler(u.int_in_range(0..=200)?),
        }
    } else if is_control(opcode) {
        match pick(u, &[60, 20, 20])? {
            0 => Payload::Raw(bytes_up_to(u, 125)?),
            1 => Payload::Empty,
            _ => Payload::Filler(u.int_in_range(0..=200)?),
        }
    } else {
        match pick(u, &[70, 10, 12, 4])? {
            0 => Payload::Wk(match pick(u, &[40, 40, 20])? {
                0 => 0,
                1 => u.int_in_range(1..=64)?,
                _ => u16::arbitrary(u)?,
            }),
            1 => Payload::Raw(bytes_up_to(u, MAX_RAW)?),
            2 => Payload::Filler(u.int_in_range(0..=MAX_FILLER as u16)?),
            _ => Payload::Empty,
        }
    };
    Ok(WsFrame {
        fin,
        rsv,
        opcode,
        mask,
        length,
        payload,
    })
}

/// A frame header as read from the wire, without judging it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FrameHeader {
    /// FIN bit.
    pub fin: bool,
    /// RSV1..3 as the low 3 bits.
    pub rsv: u8,
    /// The 4-bit opcode.
    pub opcode: u8,
    /// Masking key, if the MASK bit is set.
    pub mask: Option<[u8; 4]>,
    /// Declared payload length.
    pub len: u64,
    /// Bytes the header took (2 to 14).
    pub header_len: usize,
}

/// Reads the frame header at the start of `buf`; `None` while it is incomplete. Accepts
/// any bits and non-minimal lengths: judging them is the reader's business.
pub fn read_header(buf: &[u8]) -> Option<FrameHeader> {
    let (&b0, rest) = buf.split_first()?;
    let (&b1, rest) = rest.split_first()?;
    let (len, ext) = match b1 & 0x7F {
        126 => (
            u64::from(u16::from_be_bytes(rest.get(..2)?.try_into().ok()?)),
            2,
        ),
        127 => (u64::from_be_bytes(rest.get(..8)?.try_into().ok()?), 8),
        n => (u64::from(n), 0),
    };
    let rest = rest.get(ext..)?;
    let mask = if b1 & 0x80 != 0 {
        Some(<[u8; 4]>::try_from(rest.get(..4)?).ok()?)
    } else {
        None
    };
    Some(FrameHeader {
        fin: b0 & 0x80 != 0,
        rsv: (b0 >> 4) & 0x7,
        opcode: b0 & 0xF,
        mask,
        len,
        header_len: 2 + ext + if mask.is_some() { 4 } else { 0 },
    })
}

/// `payload` unmasked with `mask` (the same XOR masks and unmasks).
pub fn unmask(payload: &[u8], mask: Option<[u8; 4]>) -> Vec<u8> {
    let mut out = payload.to_vec();
    if let Some(key) = mask {
        apply_mask(&mut out, key);
    }
    out
}

/// XORs `data` with the repeated masking key, 64 bytes at a time: the compiler unrolls the
/// fixed-length inner loop into one block, where a byte loop would cost a coverage callback
/// per byte in fuzz builds (and megabyte frames are common in `session`).
fn apply_mask(data: &mut [u8], key: [u8; 4]) {
    let mask: [u8; 64] = std::array::from_fn(|i| key[i % 4]);
    let mut blocks = data.chunks_exact_mut(mask.len());
    for block in &mut blocks {
        for (b, m) in block.iter_mut().zip(mask) {
            *b ^= m;
        }
    }
    for (b, m) in blocks.into_remainder().iter_mut().zip(mask) {
        *b ^= m;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngCore, SeedableRng};

    #[test]
    fn zeros_are_the_sdk_request_a_connect_and_one_binary_frame() {
        let s = WsScript::arbitrary_take_rest(Unstructured::new(&[])).unwrap();
        assert_eq!(s.upgrade, UpgradeRequest::Sdk);
        assert_eq!(s.wk, vec![WkOp::Connect { version: 4 }]);
        assert_eq!(s.frames.len(), 1);
        let f = &s.frames[0];
        assert_eq!(
            (f.fin, f.rsv, f.opcode, f.length, &f.payload),
            (true, 0, OP_BINARY, LengthForm::Minimal, &Payload::Wk(0))
        );
        assert!(f.mask.is_some());
    }

    #[test]
    fn frames_read_back_in_every_length_form() {
        for (len, form, header_len) in [
            (5usize, LengthForm::Minimal, 6),
            (5, LengthForm::Wide16, 8),
            (5, LengthForm::Wide64, 14),
            (300, LengthForm::Minimal, 8),
            (70_000, LengthForm::Minimal, 14),
            (70_000, LengthForm::Wide16, 14),
        ] {
            let payload = vec![0xa5; len];
            let mut f = WsFrame::new(OP_BINARY, Payload::Empty);
            f.length = form;
            let mut out = Vec::new();
            f.encode_with(&payload, &mut out);
            let h = read_header(&out).unwrap();
            assert_eq!((h.len, h.header_len), (len as u64, header_len), "{form:?}");
            assert_eq!(unmask(&out[h.header_len..], h.mask), payload);
            assert_eq!(read_header(&out[..header_len - 1]), None);
        }
        let mut f = WsFrame::new(OP_PING, Payload::Empty);
        f.mask = None;
        f.length = LengthForm::Declared(1 << 40);
        let mut out = Vec::new();
        f.encode_with(b"ab", &mut out);
        let h = read_header(&out).unwrap();
        assert_eq!((h.len, h.mask, h.opcode), (1 << 40, None, OP_PING));
        assert_eq!(&out[h.header_len..], b"ab");
    }

    #[test]
    fn the_stream_is_sliced_in_order_and_the_rest_closes_an_open_message() {
        let script = WsScript {
            upgrade: UpgradeRequest::Minimal,
            wk: vec![],
            frames: vec![
                WsFrame::new(OP_BINARY, Payload::Wk(3)).more(),
                WsFrame::new(OP_PING, Payload::Raw(b"p".to_vec())),
                WsFrame::new(OP_CONTINUATION, Payload::Wk(2)).more(),
            ],
        };
        let bytes = script.encode(b"abcdefgh");
        let mut rest = &bytes[bytes.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4..];
        let mut got = Vec::new();
        while let Some(h) = read_header(rest) {
            let end = h.header_len + h.len as usize;
            got.push((h.fin, h.opcode, unmask(&rest[h.header_len..end], h.mask)));
            rest = &rest[end..];
        }
        assert!(rest.is_empty());
        assert_eq!(
            got,
            vec![
                (false, OP_BINARY, b"abc".to_vec()),
                (true, OP_PING, b"p".to_vec()),
                (false, OP_CONTINUATION, b"de".to_vec()),
                (true, OP_CONTINUATION, b"fgh".to_vec()),
            ]
        );
    }

    #[test]
    fn random_scripts_are_bounded() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(3);
        for len in (0..4000).step_by(7) {
            let mut data = vec![0u8; len];
            rng.fill_bytes(&mut data);
            let s = WsScript::arbitrary_take_rest(Unstructured::new(&data)).unwrap();
            assert!(s.frames.len() <= MAX_FRAMES && s.wk.len() <= MAX_WK_OPS);
            let bytes = s.encode(&[0u8; 4000]);
            assert!(bytes.len() < 200 * 1024, "{}", bytes.len());
        }
    }
}
