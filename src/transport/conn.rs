//! The connection engine: one server-side connection, sans-IO, from its first wire byte to
//! its close event. It owns the PROXY header state, the transport [`Layer`], the
//! [`Session`] and the close bookkeeping, and is the only code that moves bytes between
//! them and the hub. The tokio shell, every fuzz target and every test harness drive this
//! same type, so what is fuzzed is what runs (after quinn-proto's `Connection`).
//!
//! Call order, for the driver that owns the socket:
//! 1. [`ServerConn::new`] with the id and seed from [`Hub::open`];
//! 2. feed it: [`ServerConn::handle_wire`] with every chunk read, [`ServerConn::handle_eof`]
//!    when the peer closed (or the read failed), [`ServerConn::handle_timeout`] once
//!    [`ServerConn::poll_timeout`] is reached, [`ServerConn::handle_wake`] when the hub
//!    queued something for this connection, [`ServerConn::handle_shutdown`] when the
//!    server stops;
//! 3. after each of those: [`ServerConn::poll_transmit`] and write all of it; if the write
//!    fails, [`ServerConn::handle_write_error`];
//! 4. then [`ServerConn::poll_event`] until `None`. After the [`ConnEvent::Closed`] event
//!    the connection is over (it has left the hub): close the socket (after lingering if
//!    [`ServerConn::linger`]).
//!
//! Time is the caller's `now`; the engine reads no clock. The hub is reached only through
//! [`HubAccess`], and only for session work: TLS and WebSocket processing happen outside
//! the hub lock.

use super::config::ConnConfig;
use super::event::{CloseCause, CloseEvent, ConnEvent, WriteError};
use super::proxy::parse_proxy_header;
use super::ws::WsConfig;
use super::Layer;
use crate::clock::Time;
use crate::hub::{ConnId, Hub};
use crate::session::{CloseReason, Session, Stage};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::Arc;

/// How the engine reaches the hub: the shell locks a mutex, a single-threaded target owns
/// the hub outright.
pub trait HubAccess {
    /// Runs `f` with the hub.
    fn with_hub<R>(&mut self, f: impl FnOnce(&mut Hub) -> R) -> R;
}

impl HubAccess for Hub {
    fn with_hub<R>(&mut self, f: impl FnOnce(&mut Hub) -> R) -> R {
        f(self)
    }
}

/// Where the connection is.
#[derive(Debug)]
enum Phase {
    /// Waiting for the PROXY header; `buf` holds what came so far (bounded by
    /// [`super::proxy::MAX_HEADER_LEN`] plus one read: the parser decides before that).
    ExpectProxy { buf: Vec<u8> },
    /// The layer (and, after its handshake, the session) runs.
    Running,
    /// Over, its Closed event not yet handed out; input is ignored.
    Closed(Ending),
    /// Over and reported.
    Reported {
        /// Where it was when it ended.
        stage: Stage,
        /// See [`Ending::linger`].
        linger: bool,
    },
}

/// How the connection ended.
#[derive(Debug)]
struct Ending {
    stage: Stage,
    cause: CloseCause,
    /// The layer failed and answered: the driver should let the peer read the answer.
    linger: bool,
    /// A later write failure replaces the cause (a session that closed normally but whose
    /// goodbye could not be written is logged as the write failure, as before).
    write_error_wins: bool,
}

/// Bytes the engine saw pass between the layer and the session, for oracles that check
/// the layer (recorded only when asked for with [`ServerConn::record_plaintext`]).
#[derive(Debug, Default)]
pub struct Plaintext {
    /// What the layer decoded from the peer's bytes, in order (the session gets all of it,
    /// except the last read's part when the layer failed in that read).
    pub from_layer: Vec<u8>,
    /// What the session wrote to the layer, in order.
    pub from_session: Vec<u8>,
}

/// One server-side connection (see the module documentation for the call order).
#[derive(Debug)]
pub struct ServerConn {
    id: ConnId,
    seed: [u8; 32],
    config: Arc<ConnConfig>,
    phase: Phase,
    /// `None` only when the layer could not be set up (then the phase is Closed).
    layer: Option<Layer>,
    /// Created when the layer's handshake is done.
    session: Option<Session>,
    /// PROXY header, TLS handshake and upgrade must be done by then.
    handshake_deadline: Time,
    /// The peer closed (EOF, TLS close_notify, WebSocket close).
    peer_closed: bool,
    /// Wire bytes to send.
    wire_out: Vec<u8>,
    /// Scratch: the layer's plaintext for the session, and the session's output.
    plain_in: Vec<u8>,
    plain_out: Vec<u8>,
    proxied_peer: Option<SocketAddr>,
    bytes_in: u64,
    bytes_out: u64,
    events: VecDeque<ConnEvent>,
    plaintext: Option<Plaintext>,
    /// [`Hub::close`] was called for this connection.
    left_hub: bool,
}

impl ServerConn {
    /// A new connection at `now`; `tls` is the config TLS transports start with.
    pub fn new(
        id: ConnId,
        seed: [u8; 32],
        config: Arc<ConnConfig>,
        tls: Option<Arc<rustls::ServerConfig>>,
        now: Time,
    ) -> ServerConn {
        let ws = WsConfig::new(&config.ws_path, config.session.max_frame);
        let layer = Layer::new(config.transport, tls, &ws);
        let phase = match &layer {
            Err(reason) => Phase::Closed(Ending::new(
                Stage::Handshake,
                CloseCause::Setup(reason.clone()),
            )),
            Ok(_) if config.proxy_protocol => Phase::ExpectProxy { buf: Vec::new() },
            Ok(_) => Phase::Running,
        };
        ServerConn {
            id,
            seed,
            handshake_deadline: now.saturating_add(config.handshake_timeout),
            config,
            phase,
            layer: layer.ok(),
            session: None,
            peer_closed: false,
            wire_out: Vec::new(),
            plain_in: Vec::new(),
            plain_out: Vec::new(),
            proxied_peer: None,
            bytes_in: 0,
            bytes_out: 0,
            events: VecDeque::new(),
            plaintext: None,
            left_hub: false,
        }
    }

    /// Starts the connection: a plain TCP connection without a PROXY header has no
    /// handshake, so its session starts (and its connect timeout runs) at once.
    pub fn start(&mut self, now: Time, hub: &mut impl HubAccess) {
        if matches!(self.phase, Phase::Running) {
            self.turn(now, hub);
        }
        self.leave_hub_if_closed(hub);
    }

    /// Records the plaintext passing between the layer and the session from now on
    /// (fuzz oracles; the server does not).
    pub fn record_plaintext(&mut self) {
        self.plaintext.get_or_insert_with(Plaintext::default);
    }

    /// The plaintext recorded so far (see [`ServerConn::record_plaintext`]).
    pub fn plaintext(&self) -> Option<&Plaintext> {
        self.plaintext.as_ref()
    }

    /// This connection's id.
    pub fn id(&self) -> ConnId {
        self.id
    }

    /// The session, once the transport handshake is done.
    pub fn session(&self) -> Option<&Session> {
        self.session.as_ref()
    }

    /// The transport layer (`None` if it could not be set up).
    pub fn layer(&self) -> Option<&Layer> {
        self.layer.as_ref()
    }

    /// Where the connection is now.
    pub fn stage(&self) -> Stage {
        match (&self.phase, &self.session) {
            (Phase::Closed(e), _) => e.stage,
            (Phase::Reported { stage, .. }, _) => *stage,
            (_, Some(s)) => s.stage(),
            (_, None) => Stage::Handshake,
        }
    }

    /// Whether the connection is over (its Closed event may still be pending).
    pub fn is_closed(&self) -> bool {
        matches!(self.phase, Phase::Closed(_) | Phase::Reported { .. })
    }

    /// Whether the driver should, after writing the last bytes, half-close and read (and
    /// drop) what the peer still sends for a moment, so that closing a socket with unread
    /// input does not reset the connection and destroy the answer (alert, HTTP error,
    /// close frame) before the peer reads it.
    pub fn linger(&self) -> bool {
        match &self.phase {
            Phase::Closed(e) => e.linger,
            Phase::Reported { linger, .. } => *linger,
            _ => false,
        }
    }

    /// Feeds wire bytes read from the peer.
    pub fn handle_wire(&mut self, data: &[u8], now: Time, hub: &mut impl HubAccess) {
        self.feed(data, now, hub);
        self.leave_hub_if_closed(hub);
    }

    fn feed(&mut self, data: &[u8], now: Time, hub: &mut impl HubAccess) {
        if self.is_closed() || data.is_empty() {
            return;
        }
        self.bytes_in = self.bytes_in.saturating_add(data.len() as u64);
        let rest;
        let mut data = data;
        if let Phase::ExpectProxy { buf } = &mut self.phase {
            buf.extend_from_slice(data);
            match parse_proxy_header(buf) {
                Ok(None) => return,
                Err(e) => return self.end(Stage::Handshake, CloseCause::BadProxyHeader(e)),
                Ok(Some((header, used))) => {
                    self.proxied_peer = header.source;
                    rest = buf.split_off(used.min(buf.len()));
                    data = &rest;
                    self.phase = Phase::Running;
                }
            }
        }
        if !data.is_empty() {
            if let Some(layer) = self.layer.as_mut() {
                let result = layer.handle_wire(data, &mut self.plain_in, &mut self.wire_out);
                if let Some(p) = self.plaintext.as_mut() {
                    p.from_layer.extend_from_slice(&self.plain_in);
                }
                match result {
                    Ok(o) => self.peer_closed |= o.peer_closed,
                    Err(e) => return self.layer_failed(e, hub),
                }
            }
        }
        self.turn(now, hub);
    }

    /// The peer closed its end (or the read failed).
    pub fn handle_eof(&mut self, now: Time, hub: &mut impl HubAccess) {
        match self.phase {
            Phase::Closed(_) | Phase::Reported { .. } => {}
            Phase::ExpectProxy { .. } => {
                self.end(Stage::Handshake, CloseCause::PeerClosedInProxyHeader)
            }
            Phase::Running => {
                self.peer_closed = true;
                self.turn(now, hub);
            }
        }
        self.leave_hub_if_closed(hub);
    }

    /// Fires the timers due at `now`.
    pub fn handle_timeout(&mut self, now: Time, hub: &mut impl HubAccess) {
        if self.is_closed() {
            return;
        }
        match self.session.as_mut() {
            None if now >= self.handshake_deadline => {
                let cause = match self.phase {
                    Phase::ExpectProxy { .. } => CloseCause::ProxyHeaderTimeout,
                    _ => CloseCause::HandshakeTimeout,
                };
                self.end(Stage::Handshake, cause)
            }
            None => {}
            Some(s) => {
                hub.with_hub(|hub| s.handle_timeout(now, hub));
                self.turn(now, hub);
            }
        }
        self.leave_hub_if_closed(hub);
    }

    /// The hub queued something for this connection (a delivery, a kick).
    pub fn handle_wake(&mut self, now: Time, hub: &mut impl HubAccess) {
        if matches!(self.phase, Phase::Running) {
            self.turn(now, hub);
        }
        self.leave_hub_if_closed(hub);
    }

    /// The server is shutting down: say goodbye (WebSocket close, TLS close_notify).
    pub fn handle_shutdown(&mut self, hub: &mut impl HubAccess) {
        match &self.phase {
            Phase::Closed(_) | Phase::Reported { .. } => {}
            Phase::ExpectProxy { .. } => {
                self.end(Stage::Handshake, CloseCause::ShutdownInHandshake)
            }
            Phase::Running => {
                if let Some(s) = self.session.as_mut() {
                    hub.with_hub(|hub| s.handle_close(CloseReason::Shutdown, hub));
                }
                if let Some(layer) = self.layer.as_mut() {
                    layer.close(&mut self.wire_out);
                }
                match self.session_ending() {
                    Some(mut ending) => {
                        ending.write_error_wins = false;
                        self.phase = Phase::Closed(ending);
                    }
                    None => self.end(Stage::Handshake, CloseCause::ShutdownInHandshake),
                }
            }
        }
        self.leave_hub_if_closed(hub);
    }

    /// Writing what [`ServerConn::poll_transmit`] handed out failed: the connection ends
    /// (the session leaves the hub), and nothing more will be sent.
    pub fn handle_write_error(&mut self, error: WriteError, hub: &mut impl HubAccess) {
        match &self.phase {
            Phase::Reported { .. } => return,
            Phase::Closed(e) if !e.write_error_wins => return,
            _ => {}
        }
        if let Some(s) = self.session.as_mut() {
            let why = match error {
                WriteError::Stalled => CloseReason::SlowReader,
                WriteError::Failed(_) => CloseReason::PeerClosed,
            };
            hub.with_hub(|hub| s.handle_close(why, hub));
        }
        let stage = self
            .session
            .as_ref()
            .map_or(Stage::Handshake, Session::stage);
        self.phase = Phase::Closed(Ending::new(stage, CloseCause::Write(error)));
        release(&mut self.wire_out);
        self.leave_hub_if_closed(hub);
    }

    /// When [`ServerConn::handle_timeout`] must next be called (`None` once closed).
    #[must_use]
    pub fn poll_timeout(&self) -> Option<Time> {
        match (&self.phase, &self.session) {
            (Phase::Closed(_) | Phase::Reported { .. }, _) => None,
            (_, None) => Some(self.handshake_deadline),
            (_, Some(s)) => s.poll_timeout(),
        }
    }

    /// Appends every wire byte to send to `out`.
    pub fn poll_transmit(&mut self, out: &mut Vec<u8>) {
        self.bytes_out = self.bytes_out.saturating_add(self.wire_out.len() as u64);
        out.append(&mut self.wire_out);
        release(&mut self.wire_out);
    }

    /// The next event, if any; [`ConnEvent::Closed`] comes once, last.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<ConnEvent> {
        if let Some(e) = self.events.pop_front() {
            if self.events.is_empty() {
                // Events are rare (start, close): an idle connection keeps no queue.
                self.events = VecDeque::new();
            }
            return Some(e);
        }
        if !matches!(self.phase, Phase::Closed(_)) {
            return None;
        }
        let reported = Phase::Reported {
            stage: self.stage(),
            linger: self.linger(),
        };
        let Phase::Closed(ending) = std::mem::replace(&mut self.phase, reported) else {
            return None;
        };
        Some(ConnEvent::Closed(CloseEvent {
            stage: ending.stage,
            cause: ending.cause,
            proxied_peer: self.proxied_peer,
            uid: self
                .session
                .as_ref()
                .and_then(|s| s.uid().map(str::to_owned)),
            bytes_in: self.bytes_in,
            bytes_out: self.bytes_out,
        }))
    }

    /// One turn after input: start the session once the handshake is done, give it the
    /// layer's plaintext (and the peer's close), write its answer (and the hub's
    /// deliveries) through the layer, and close the layer if the session closed.
    fn turn(&mut self, now: Time, hub: &mut impl HubAccess) {
        let Some(layer) = self.layer.as_mut() else {
            return;
        };
        if self.session.is_none() && !layer.is_handshaking() {
            let mut s = Session::new(self.id, self.seed, self.config.session.clone(), now);
            if self.config.client_cert_uid {
                // A client certificate names the one uid this connection may log in as.
                if let Some(cert) = layer.peer_certificates().and_then(<[_]>::first) {
                    s.require_uid(crate::tls::client_cert_uid(cert).unwrap_or_default());
                }
            }
            self.session = Some(s);
            self.events.push_back(ConnEvent::SessionStarted);
        }
        let Some(s) = self.session.as_mut() else {
            layer.write_plain(&[], &mut self.wire_out);
            if self.peer_closed {
                self.phase = Phase::Closed(Ending::new(
                    Stage::Handshake,
                    CloseCause::PeerClosedInHandshake,
                ));
            }
            return;
        };
        let (plain_in, plain_out, peer_closed) =
            (&self.plain_in, &mut self.plain_out, self.peer_closed);
        hub.with_hub(|hub| {
            if !plain_in.is_empty() {
                s.handle_bytes(plain_in, now, hub);
            }
            if peer_closed {
                s.handle_close(CloseReason::PeerClosed, hub);
            }
            s.poll_transmit(hub, plain_out);
        });
        release(&mut self.plain_in);
        if let Some(p) = self.plaintext.as_mut() {
            p.from_session.extend_from_slice(&self.plain_out);
        }
        layer.write_plain(&self.plain_out, &mut self.wire_out);
        release(&mut self.plain_out);
        if s.close_reason().is_some() && !self.peer_closed {
            layer.close(&mut self.wire_out);
        }
        if let Some(ending) = self.session_ending() {
            self.phase = Phase::Closed(ending);
        }
    }

    /// The layer failed (its answer is in `wire_out`): the session, if any, ends as if the
    /// peer closed, and the connection ends with the layer's error.
    fn layer_failed(&mut self, error: super::LayerError, hub: &mut impl HubAccess) {
        let stage = self
            .session
            .as_ref()
            .map_or(Stage::Handshake, Session::stage);
        if let Some(s) = self.session.as_mut() {
            hub.with_hub(|hub| s.handle_close(CloseReason::PeerClosed, hub));
        }
        let mut ending = Ending::new(stage, CloseCause::Layer(error));
        ending.linger = true;
        ending.write_error_wins = false;
        self.phase = Phase::Closed(ending);
        release(&mut self.plain_in);
    }

    /// The ending a closed session gives the connection (`None` while it is open).
    fn session_ending(&self) -> Option<Ending> {
        let (reason, stage) = self.session.as_ref()?.close_reason()?;
        Some(Ending::new(stage, CloseCause::Session(reason.clone())))
    }

    /// A closed connection leaves the hub (once; the session may have left already).
    fn leave_hub_if_closed(&mut self, hub: &mut impl HubAccess) {
        if self.is_closed() && !self.left_hub {
            self.left_hub = true;
            let id = self.id;
            hub.with_hub(|hub| hub.close(id));
        }
    }

    fn end(&mut self, stage: Stage, cause: CloseCause) {
        self.phase = Phase::Closed(Ending::new(stage, cause));
    }
}

impl Ending {
    fn new(stage: Stage, cause: CloseCause) -> Ending {
        Ending {
            stage,
            cause,
            linger: false,
            write_error_wins: true,
        }
    }
}

/// Empties `v` and gives back its allocation, so an idle connection keeps no buffers
/// (three small ones kept per connection were 5% of an idle TCP connection's memory).
fn release(v: &mut Vec<u8>) {
    *v = Vec::new();
}
