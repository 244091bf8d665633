//! The sans-IO per-connection state machine: plaintext bytes in (after TLS, WebSocket or
//! nothing), frames decoded and acted on against the [`Hub`], encoded bytes out.
//!
//! Call order, for the caller that owns the transport:
//! 1. [`Session::new`] with the id and seed from [`Hub::open`];
//! 2. [`Session::handle_bytes`] for every chunk read, [`Session::handle_timeout`] when
//!    [`Session::poll_timeout`] is reached, [`Session::handle_close`] when the transport ends;
//! 3. after each of those, and whenever the hub wakes this connection,
//!    [`Session::poll_transmit`] and write what it appended;
//! 4. once [`Session::close_reason`] is `Some`, flush and close the transport. The session
//!    has already left the hub by then.
//!
//! States: [`ExpectConnect`](State::ExpectConnect) -> [`Established`] -> `Closed`, and errors
//! are sticky: after the first, input is ignored.

mod close;
mod config;
mod connect;
mod established;

pub use close::{CloseReason, Stage};
pub use config::SessionConfig;

use crate::clock::Time;
use crate::hub::{ConnId, Hub, Outgoing};
use crate::proto::{split_frame, Disconnect, Frame, Packet, ReasonCode, LATEST_VERSION};
use established::Established;
use rand::SeedableRng;
use rand_chacha::ChaCha20Rng;

/// Input is taken in pieces of at most this size, so the read buffer never holds more than
/// one partial frame plus one piece.
const MAX_INPUT_PIECE: usize = 16 * 1024;

/// Where the connection is.
#[derive(Debug)]
enum State {
    /// Waiting for CONNECT until `deadline`.
    ExpectConnect {
        /// Connect timeout.
        deadline: Time,
    },
    /// Logged in.
    Established(Box<Established>),
    /// Finished; input is ignored.
    Closed {
        /// Why.
        reason: CloseReason,
        /// Where it was when it ended.
        stage: Stage,
    },
}

/// One client connection's protocol state.
#[derive(Debug)]
pub struct Session {
    id: ConnId,
    config: SessionConfig,
    /// Draws the server key pair and the Salt; seeded from the hub.
    rng: ChaCha20Rng,
    state: State,
    /// Bytes of an incomplete frame (invariant: < max_frame + header + MAX_INPUT_PIECE).
    inbuf: Vec<u8>,
    /// Encoded frames not yet handed to the caller.
    out: Vec<u8>,
    /// The uid of a successful CONNECT, kept after close for the log.
    uid: Option<String>,
    /// The only uid CONNECT may log in as (the TLS client certificate's); `None` = any.
    required_uid: Option<String>,
}

impl Session {
    /// A new connection, waiting for CONNECT.
    pub fn new(id: ConnId, seed: [u8; 32], config: SessionConfig, now: Time) -> Session {
        let deadline = now.saturating_add(config.connect_timeout);
        Session {
            id,
            config,
            rng: ChaCha20Rng::from_seed(seed),
            state: State::ExpectConnect { deadline },
            inbuf: Vec::new(),
            out: Vec::new(),
            uid: None,
            required_uid: None,
        }
    }

    /// Restricts CONNECT to `uid` (the subject of the connection's TLS client certificate);
    /// any other uid gets CONNACK 2 (auth fail) and the connection closes. An empty `uid`
    /// (a certificate with no usable subject name) matches no CONNECT.
    pub fn require_uid(&mut self, uid: String) {
        self.required_uid = Some(uid);
    }

    /// This connection's id.
    pub fn id(&self) -> ConnId {
        self.id
    }

    /// The uid this connection logged in as (kept after close).
    pub fn uid(&self) -> Option<&str> {
        self.uid.as_deref()
    }

    /// The negotiated protocol version, once logged in.
    pub fn version(&self) -> Option<u8> {
        match &self.state {
            State::Established(e) => Some(e.version),
            _ => None,
        }
    }

    /// Why the session ended, and at which stage; `None` while it is open.
    pub fn close_reason(&self) -> Option<(&CloseReason, Stage)> {
        match &self.state {
            State::Closed { reason, stage } => Some((reason, *stage)),
            _ => None,
        }
    }

    /// Bytes held for an incomplete frame (bounded by max_frame + header + one read piece).
    pub fn buffered_len(&self) -> usize {
        self.inbuf.len()
    }

    /// Capacity of the read buffer: what the session has allocated for input, which the
    /// frame limit must bound as tightly as [`Session::buffered_len`] (bug class BUF-L5).
    pub fn buffered_capacity(&self) -> usize {
        self.inbuf.capacity()
    }

    /// The stage the connection is in now.
    pub fn stage(&self) -> Stage {
        match &self.state {
            State::ExpectConnect { .. } => Stage::Connect,
            State::Established(_) => Stage::Session,
            State::Closed { stage, .. } => *stage,
        }
    }

    /// Feeds bytes read from the transport.
    pub fn handle_bytes(&mut self, data: &[u8], now: Time, hub: &mut Hub) {
        for piece in data.chunks(MAX_INPUT_PIECE) {
            if self.close_reason().is_some() {
                break;
            }
            self.inbuf.extend_from_slice(piece);
            self.process_frames(now, hub);
        }
        if self.close_reason().is_some() {
            self.inbuf = Vec::new();
        }
    }

    /// The transport ended (EOF, I/O error, shutdown).
    pub fn handle_close(&mut self, reason: CloseReason, hub: &mut Hub) {
        self.close(reason, hub);
    }

    /// Fires the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Time, hub: &mut Hub) {
        match &self.state {
            State::ExpectConnect { deadline } if now >= *deadline => {
                self.close(CloseReason::ConnectTimeout, hub)
            }
            State::Established(e) if now >= e.idle_deadline => {
                self.close(CloseReason::IdleTimeout, hub)
            }
            _ => {}
        }
    }

    /// When [`Session::handle_timeout`] must next be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Time> {
        match &self.state {
            State::ExpectConnect { deadline } => Some(*deadline),
            State::Established(e) => Some(e.idle_deadline),
            State::Closed { .. } => None,
        }
    }

    /// Appends to `out` everything to send: replies queued by input, then the deliveries and
    /// kicks the hub holds for this connection.
    pub fn poll_transmit(&mut self, hub: &mut Hub, out: &mut Vec<u8>) {
        if let State::Established(est) = &self.state {
            if hub.is_overflowed(self.id) {
                self.close(CloseReason::SlowReader, hub);
            } else {
                let version = est.version;
                while let Some(item) = hub.poll_outgoing(self.id) {
                    match item {
                        Outgoing::Deliver(msg) => {
                            if let State::Established(est) = &self.state {
                                est.encode_recv(&msg, &mut self.out);
                            }
                        }
                        Outgoing::Kicked => {
                            let d = Disconnect {
                                reason: ReasonCode::CONNECT_KICK,
                                reason_text: "login in other device".into(),
                            };
                            Frame::new(Packet::Disconnect(d)).encode(version, &mut self.out);
                            self.close(CloseReason::Kicked, hub);
                            break;
                        }
                    }
                }
            }
        }
        out.append(&mut self.out);
    }

    /// Splits and handles every complete frame in `inbuf`.
    fn process_frames(&mut self, now: Time, hub: &mut Hub) {
        let mut start = 0usize;
        while self.close_reason().is_none() {
            #[cfg(feature = "planted-bugs")]
            if crate::planted::enabled(crate::planted::Bug::BufL5) && self.planted_buf_l5(start) {
                break;
            }
            let rest = self.inbuf.get(start..).unwrap_or_default();
            let bounds = match split_frame(rest, self.config.max_frame) {
                Ok(Some(b)) => b,
                Ok(None) => break,
                Err(e) => {
                    self.protocol_error(CloseReason::Decode(e), hub);
                    break;
                }
            };
            let body = rest
                .get(bounds.header_len..bounds.total_len())
                .unwrap_or_default();
            let version = self.version().unwrap_or(LATEST_VERSION);
            let decoded = Frame::decode(bounds.first_byte, body, version);
            start = start.saturating_add(bounds.total_len());
            match decoded {
                Ok(frame) => self.handle_frame(frame, now, hub),
                Err(e) => self.protocol_error(CloseReason::Decode(e), hub),
            }
        }
        let consumed = start.min(self.inbuf.len());
        self.inbuf.drain(..consumed);
    }

    /// BUF-L5: size the buffer for the frame at `start` from its declared length and wait
    /// for the body before `split_frame` checks that length against the limit. True: wait.
    #[cfg(feature = "planted-bugs")]
    fn planted_buf_l5(&mut self, start: usize) -> bool {
        let rest = self.inbuf.get(start..).unwrap_or_default();
        let [first, after @ ..] = rest else {
            return false;
        };
        if matches!(first >> 4, 7 | 8) {
            return false;
        }
        match crate::proto::varint::read(after) {
            Ok(Some((declared, used))) => {
                let have = rest.len();
                let max = self.config.max_frame;
                crate::planted::buf_l5_buffer(&mut self.inbuf, have, used + 1, declared, max)
            }
            _ => false,
        }
    }

    fn handle_frame(&mut self, frame: Frame, now: Time, hub: &mut Hub) {
        match &mut self.state {
            State::ExpectConnect { .. } => match frame.packet {
                Packet::Connect(c) => self.handle_connect(c, now, hub),
                other => {
                    let t = Frame::new(other).packet_type();
                    self.close(CloseReason::FirstFrameNotConnect(t), hub)
                }
            },
            State::Established(est) => {
                est.idle_deadline = now.saturating_add(self.config.idle_timeout);
                match est.handle(frame, self.id, now, hub, &mut self.out) {
                    Ok(()) => {}
                    Err(reason) => self.protocol_error(reason, hub),
                }
            }
            State::Closed { .. } => {}
        }
    }

    /// Ends the session for a peer's protocol error: a logged-in client is told why with a
    /// DISCONNECT before the close; one that never logged in is just closed.
    fn protocol_error(&mut self, reason: CloseReason, hub: &mut Hub) {
        if let Some(version) = self.version() {
            let d = Disconnect {
                reason: ReasonCode::UNKNOWN,
                reason_text: reason.to_string(),
            };
            Frame::new(Packet::Disconnect(d)).encode(version, &mut self.out);
        }
        self.close(reason, hub);
    }

    /// Moves to Closed (once) and leaves the hub.
    fn close(&mut self, reason: CloseReason, hub: &mut Hub) {
        if self.close_reason().is_some() {
            return;
        }
        let stage = self.stage();
        tracing::debug!(conn = %self.id, %stage, %reason, "session closed");
        hub.close(self.id);
        self.state = State::Closed { reason, stage };
    }
}

/// CONNECT with this uid panics inside the session (test builds only): the isolation test
/// of the tokio shell.
#[cfg(test)]
pub(crate) const PANIC_UID: &str = "test-panic-in-connect";

#[cfg(test)]
mod tests;
