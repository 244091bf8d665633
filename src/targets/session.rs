//! `session`: a script of client actions (see [`crate::gen::script`]) run over real TLS
//! between in-process rustls clients and the server's own [`Layer`], [`Session`] and [`Hub`],
//! in one thread with a virtual clock, so every byte the fuzzer chooses reaches the IM layer
//! after decryption.
//!
//! Oracles, checked during and after the script:
//! - every RECV a client gets verifies (msgKey) and decrypts, and every server byte decodes;
//! - a message acknowledged with SENDACK Success reaches every recipient connection that was
//!   online when it was sent and is still open at the end exactly once, with its text, and
//!   reaches no connection of a uid that was not a recipient; no connection gets an id twice;
//! - a damaged SEND (msgKey, base64, length) gets SENDACK 9 and the connection goes on;
//! - two witness clients that the script cannot touch chat normally at the end (one client's
//!   bad input never changes another client's outcome);
//! - every closed connection reported exactly one close event, every open one none;
//! - no session buffers more than one frame plus one read.

use super::{fixture, Outcome};
use crate::client::Client;
use crate::clock::Time;
use crate::gen::script::{Action, Damage, Dest, KeyChoice, Script, GROUPS, MAX_CLIENTS};
use crate::hub::{ConnId, Hub, HubConfig};
use crate::proto::{
    ChannelType, DeviceFlag, Frame, Packet, ReasonCode, Recv, Recvack, Setting, Sub,
};
use crate::session::SessionConfig;
use crate::transport::{CloseCause, ConnConfig, ConnEvent, ServerConn, Transport};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::sync::Arc;
use std::time::Duration;

/// Frame limit in this target.
const MAX_FRAME: usize = 64 * 1024;
/// Rounds of pumping after one action before the world must be quiet.
const MAX_PUMP_ROUNDS: usize = 64;
/// Slot of the witness connections (no script slot resolves to it).
const WITNESS_SLOT: usize = usize::MAX;
/// Start of the virtual clock.
const T0: Time = Time::from_unix_millis(1_700_000_000_000);

fn parse(data: &[u8]) -> Option<Script> {
    Some(Script::from_bytes(data))
}

/// The Debug form of the script.
pub fn describe(data: &[u8]) -> String {
    match parse(data) {
        Some(s) => format!("{s:#?}"),
        None => "input too short for a script".into(),
    }
}

/// Runs the target.
///
/// # Panics
/// When an oracle is violated.
pub fn run(data: &[u8]) -> Outcome {
    let Some(script) = parse(data) else {
        return Outcome::new("input too short for a script");
    };
    run_script(&script)
}

/// Runs a script (the structured form of [`run`]).
///
/// # Panics
/// When an oracle is violated.
pub fn run_script(script: &Script) -> Outcome {
    super::fixture::new_run();
    let mut world = World::new(script);
    for (slot, spec) in script.clients.iter().enumerate() {
        world.connect(slot, &spec.key);
    }
    world.pump();
    for action in &script.actions {
        world.apply(action);
        world.pump();
        world.check_buffers();
    }
    let (mut outcome, ends) = world.finish();
    // Every closed connection reported exactly one close event; open ones none.
    for end in &ends {
        let want = u32::from(end.closed);
        assert_eq!(
            end.close_events, want,
            "connection {} reported {} close events, expected {want}",
            end.id, end.close_events
        );
    }
    let session_ends = ends.iter().filter(|e| e.had_session && e.closed).count();
    outcome.count("close_events", session_ends as u64);
    outcome
}

/// How one connection ended, for the close-event oracle.
struct ConnEnd {
    id: ConnId,
    had_session: bool,
    closed: bool,
    close_events: u32,
}

/// The engine's settings in this target: production's, with a smaller frame limit.
fn conn_config(transport: Transport) -> ConnConfig {
    ConnConfig {
        session: SessionConfig {
            max_frame: MAX_FRAME,
            ..SessionConfig::default()
        },
        ..ConnConfig::new(transport)
    }
}

/// Hands out the engine's events for `c`; returns the cause if it closed now.
fn take_close(c: &mut Conn) -> Option<CloseCause> {
    let mut cause = None;
    while let Some(event) = c.server.poll_event() {
        if let ConnEvent::Closed(end) = event {
            c.close_events += 1;
            cause = Some(end.cause);
        }
    }
    cause
}

/// What the oracle knows of an accepted message.
#[derive(Debug)]
struct Tracked {
    text: Option<Vec<u8>>,
    from: String,
    channel: String,
    /// uids allowed to receive it.
    recipient_uids: BTreeSet<String>,
    /// Connections that must have it at the end if still open.
    must_reach: Vec<usize>,
}

/// A SEND waiting for its SENDACK.
#[derive(Debug)]
struct Sent {
    text: Option<Vec<u8>>,
    expect: Expect,
    channel: String,
    recipient_uids: BTreeSet<String>,
    must_reach: Vec<usize>,
}

/// What a SENDACK must say.
#[derive(Debug, PartialEq)]
enum Expect {
    /// Success if the server can store it (may be RATE_LIMIT).
    Accepted,
    /// This reason.
    Reason(ReasonCode),
    /// Anything (damage the server cannot always detect, e.g. padding that happens to be valid).
    Unknown,
}

/// One connection: a rustls client and the server's connection engine.
struct Conn {
    slot: usize,
    uid: String,
    /// `None` for the witnesses (plain TCP).
    tls: Option<rustls::ClientConnection>,
    server: ServerConn,
    /// Close events the engine reported (the oracle: one per closed connection).
    close_events: u32,
    wk: Client,
    logged_in: bool,
    open: bool,
    received: Vec<Recv>,
    ids: BTreeSet<i64>,
    sent: BTreeMap<u32, Sent>,
    /// Plaintext written by the client not yet given to the layer (plain layer only).
    plain_pending: Vec<u8>,
}

struct World {
    hub: Hub,
    now: Time,
    conns: Vec<Conn>,
    specs: Vec<crate::gen::script::ClientSpec>,
    tls12: Arc<rustls::ClientConfig>,
    tls13: Arc<rustls::ClientConfig>,
    server_config: Arc<rustls::ServerConfig>,
    /// The engine's settings for TLS clients and for the (plain) witnesses.
    tls_conn: Arc<ConnConfig>,
    tcp_conn: Arc<ConnConfig>,
    groups: BTreeMap<String, BTreeSet<String>>,
    tracked: BTreeMap<i64, Tracked>,
    outcome: Outcome,
    next_secret: u64,
    next_sub: u64,
}

impl World {
    fn new(script: &Script) -> World {
        let hub = Hub::new(HubConfig {
            seed: [9; 32],
            max_pending_per_user: 64,
            ..HubConfig::default()
        });
        World {
            hub,
            now: T0,
            conns: Vec::new(),
            specs: script.clients.clone(),
            // Fresh client configs per run: the resumption cache must not carry across runs.
            tls12: fixture::client_config(&[&rustls::version::TLS12]),
            tls13: fixture::client_config(&[&rustls::version::TLS13]),
            server_config: fixture::server_config(),
            tls_conn: Arc::new(conn_config(Transport::Tls)),
            tcp_conn: Arc::new(conn_config(Transport::Tcp)),
            groups: BTreeMap::new(),
            tracked: BTreeMap::new(),
            outcome: Outcome::new(""),
            next_secret: 1,
            next_sub: 1,
        }
    }

    /// The latest open connection of `slot`.
    fn conn_of(&self, slot: u8) -> Option<usize> {
        let slot = usize::from(slot) % self.specs.len().max(1);
        self.conns.iter().rposition(|c| c.slot == slot && c.open)
    }

    fn apply(&mut self, action: &Action) {
        match action {
            Action::Connect { slot, key } => {
                self.connect(usize::from(*slot) % self.specs.len().max(1), key)
            }
            Action::Send {
                slot,
                to,
                text,
                damage,
            } => {
                if let Some(i) = self.conn_of(*slot) {
                    self.send(i, *to, text, *damage);
                }
            }
            Action::Ack { slot, nth } => {
                if let Some(i) = self.conn_of(*slot) {
                    let c = &self.conns[i];
                    let ack = match c.received.get(usize::from(*nth) % c.received.len().max(1)) {
                        Some(r) => Client::recvack(r),
                        None => Frame::new(Packet::Recvack(Recvack {
                            message_id: i64::from(*nth),
                            message_seq: 0,
                        })),
                    };
                    self.write_frame(i, &ack);
                }
            }
            Action::Ping { slot } => {
                if let Some(i) = self.conn_of(*slot) {
                    self.write_plain(i, &[0x70]);
                }
            }
            Action::Sub { slot, group, leave } => {
                if let Some(i) = self.conn_of(*slot) {
                    let sub = Sub {
                        setting: Setting::default(),
                        sub_no: format!("s{}", self.next_sub),
                        channel_id: format!("g{}", group % GROUPS),
                        channel_type: ChannelType::GROUP,
                        action: u8::from(*leave),
                        param: String::new(),
                    };
                    self.next_sub += 1;
                    self.write_frame(i, &Frame::new(Packet::Sub(sub)));
                }
            }
            Action::Raw { slot, bytes } => {
                if let Some(i) = self.conn_of(*slot) {
                    self.write_plain(i, bytes);
                    self.outcome.count("raw_actions", 1);
                }
            }
            Action::CloseNotify { slot } => {
                if let Some(i) = self.conn_of(*slot) {
                    if let Some(tls) = self.conns[i].tls.as_mut() {
                        tls.send_close_notify();
                    }
                }
            }
            Action::Abrupt { slot } => {
                if let Some(i) = self.conn_of(*slot) {
                    self.peer_gone(i);
                }
            }
            Action::KeyUpdate { slot } => {
                if let Some(i) = self.conn_of(*slot) {
                    if let Some(tls) = self.conns[i].tls.as_mut() {
                        let _ = tls.refresh_traffic_keys();
                    }
                }
            }
            Action::Advance { steps } => {
                self.now = self
                    .now
                    .saturating_add(Duration::from_millis(u64::from(*steps) * 100));
                let now = self.now;
                for c in &mut self.conns {
                    c.server.handle_timeout(now, &mut self.hub);
                }
            }
        }
    }

    fn new_conn(&mut self, slot: usize, uid: String, version: u8, tls13: Option<bool>) -> usize {
        let (id, seed) = self.hub.open();
        let mut secret = [0u8; 32];
        secret[..8].copy_from_slice(&self.next_secret.to_le_bytes());
        secret[31] = 0x40;
        self.next_secret += 1;
        let (tls, server) = match tls13 {
            Some(v13) => {
                let cfg = if v13 {
                    self.tls13.clone()
                } else {
                    self.tls12.clone()
                };
                let name =
                    rustls::pki_types::ServerName::try_from("localhost").expect("valid name");
                let client =
                    rustls::ClientConnection::new(cfg, name).expect("client config is valid");
                let config = self.tls_conn.clone();
                let tls = Some(self.server_config.clone());
                (
                    Some(client),
                    ServerConn::new(id, seed, config, tls, self.now),
                )
            }
            None => {
                let config = self.tcp_conn.clone();
                (None, ServerConn::new(id, seed, config, None, self.now))
            }
        };
        let mut server = server;
        server.start(self.now, &mut self.hub);
        self.conns.push(Conn {
            slot,
            uid,
            tls,
            server,
            close_events: 0,
            wk: Client::new(secret, version),
            logged_in: false,
            open: true,
            received: Vec::new(),
            ids: BTreeSet::new(),
            sent: BTreeMap::new(),
            plain_pending: Vec::new(),
        });
        self.conns.len() - 1
    }

    fn connect(&mut self, slot: usize, key: &KeyChoice) {
        let Some(spec) = self.specs.get(slot).cloned() else {
            return;
        };
        let i = self.new_conn(slot, spec.uid(), spec.version, Some(spec.tls13));
        let device = DeviceFlag(spec.device % 3);
        let mut frame = self.conns[i]
            .wk
            .connect(&spec.uid(), "token", device, 1_700_000_000_000);
        if let Packet::Connect(c) = &mut frame.packet {
            c.client_key = key.render(&c.client_key);
        }
        self.write_frame(i, &frame);
        self.outcome.count("connects", 1);
    }

    /// Connections of `uid` that are logged in and open, except `except`.
    fn online(&self, uid: &str, except: usize) -> Vec<usize> {
        (0..self.conns.len())
            .filter(|&j| {
                j != except
                    && self.conns[j].open
                    && self.conns[j].logged_in
                    && self.conns[j].uid == uid
            })
            .collect()
    }

    fn send(&mut self, i: usize, to: Dest, text: &[u8], damage: Damage) {
        if !self.conns[i].logged_in {
            return;
        }
        let from = self.conns[i].uid.clone();
        let (channel, ty) = match to {
            Dest::Person(n) => (format!("u{}", n % MAX_CLIENTS as u8), ChannelType::PERSON),
            Dest::Group(n) => (format!("g{}", n % GROUPS), ChannelType::GROUP),
            Dest::Other(n) => ("x".to_owned(), ChannelType(3 + n % 10)),
        };
        let Ok((mut frame, seq)) = self.conns[i].wk.send(&channel, ty, text) else {
            return;
        };
        let Some(cipher) = self.conns[i].wk.cipher().cloned() else {
            return;
        };
        let mut body_known = true;
        if let Packet::Send(s) = &mut frame.packet {
            body_known = damage.apply(s, text, &cipher);
        }
        let (mut expect, recipient_uids) = match ty {
            ChannelType::PERSON => (Expect::Accepted, BTreeSet::from([channel.clone()])),
            ChannelType::GROUP => match self.groups.get(&channel) {
                None => (
                    Expect::Reason(ReasonCode::CHANNEL_NOT_EXIST),
                    BTreeSet::new(),
                ),
                Some(m) if !m.contains(&from) => (
                    Expect::Reason(ReasonCode::SUBSCRIBER_NOT_EXIST),
                    BTreeSet::new(),
                ),
                Some(m) => (
                    Expect::Accepted,
                    m.iter().filter(|u| **u != from).cloned().collect(),
                ),
            },
            _ => (
                Expect::Reason(ReasonCode::NOT_SUPPORT_CHANNEL_TYPE),
                BTreeSet::new(),
            ),
        };
        match damage {
            Damage::MsgKey | Damage::NotBase64 | Damage::BadLength => {
                expect = Expect::Reason(ReasonCode::PAYLOAD_DECODE_ERROR)
            }
            Damage::BadPadding => expect = Expect::Unknown,
            Damage::None | Damage::NoEncrypt => {}
        }
        let must_reach = recipient_uids
            .iter()
            .flat_map(|u| self.online(u, i))
            .collect();
        let sent = Sent {
            text: body_known.then(|| text.to_vec()),
            expect,
            channel,
            recipient_uids,
            must_reach,
        };
        self.conns[i].sent.insert(seq, sent);
        self.write_frame(i, &frame);
        self.outcome.count("sends", 1);
    }

    fn write_frame(&mut self, i: usize, frame: &Frame) {
        let bytes = self.conns[i].wk.encode(frame);
        self.write_plain(i, &bytes);
    }

    fn write_plain(&mut self, i: usize, bytes: &[u8]) {
        let c = &mut self.conns[i];
        match c.tls.as_mut() {
            Some(tls) => {
                let _ = tls.writer().write_all(bytes);
            }
            None => c.plain_pending.extend_from_slice(bytes),
        }
    }

    /// The client vanished: the server sees end of stream.
    fn peer_gone(&mut self, i: usize) {
        let c = &mut self.conns[i];
        c.open = false;
        c.server.handle_eof(self.now, &mut self.hub);
        // The client is gone: what the server answers is lost.
        c.server.poll_transmit(&mut Vec::new());
        let _ = take_close(c);
    }

    /// Moves bytes both ways on every open connection until nothing moves.
    fn pump(&mut self) {
        for _ in 0..MAX_PUMP_ROUNDS {
            let mut moved = false;
            for i in 0..self.conns.len() {
                if self.conns[i].open {
                    moved |= self.step(i);
                }
            }
            if !moved {
                return;
            }
        }
        panic!("the connections did not go quiet after {MAX_PUMP_ROUNDS} rounds");
    }

    /// One exchange on connection `i`; returns whether any byte moved.
    fn step(&mut self, i: usize) -> bool {
        let now = self.now;
        let c = &mut self.conns[i];
        let mut wire_in = Vec::new();
        match c.tls.as_mut() {
            Some(tls) => {
                while tls.wants_write() {
                    if tls.write_tls(&mut wire_in).unwrap_or(0) == 0 {
                        break;
                    }
                }
            }
            None => wire_in = std::mem::take(&mut c.plain_pending),
        }
        let mut moved = !wire_in.is_empty();
        if wire_in.is_empty() {
            c.server.handle_wake(now, &mut self.hub);
        } else {
            c.server.handle_wire(&wire_in, now, &mut self.hub);
        }
        let mut wire_out = Vec::new();
        c.server.poll_transmit(&mut wire_out);
        let end = take_close(c);
        if let Some(CloseCause::Layer(e)) = &end {
            // The shell sends the alert and drops the connection.
            self.outcome.count("tls_failures", 1);
            if let Some(tls) = c.tls.as_mut() {
                let _ = tls.read_tls(&mut wire_out.as_slice());
                let _ = tls.process_new_packets();
            }
            let alert = e.alert().unwrap_or(crate::transport::SentAlert::None);
            assert_ne!(
                alert,
                crate::transport::SentAlert::None,
                "a TLS failure must send a fatal alert: {e}"
            );
            c.open = false;
            return true;
        }
        moved |= !wire_out.is_empty();
        let mut plain_to_client = Vec::new();
        match c.tls.as_mut() {
            Some(tls) => {
                let mut rd = wire_out.as_slice();
                while !rd.is_empty() {
                    if tls.read_tls(&mut rd).unwrap_or(0) == 0 {
                        break;
                    }
                    if tls.process_new_packets().is_err() {
                        break;
                    }
                }
                let mut buf = [0u8; 4096];
                while let Ok(n) = tls.reader().read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    plain_to_client.extend_from_slice(&buf[..n]);
                }
            }
            None => plain_to_client = wire_out,
        }
        if end.is_some() {
            c.open = false;
            self.outcome.count("server_closes", 1);
        }
        if !plain_to_client.is_empty() {
            self.client_receives(i, &plain_to_client);
        }
        moved
    }

    /// The client side decodes and checks what the server sent.
    fn client_receives(&mut self, i: usize, bytes: &[u8]) {
        let frames = match self.conns[i].wk.handle_bytes(bytes) {
            Ok(f) => f,
            Err(e) => panic!("server sent bytes the client cannot decode: {e}"),
        };
        for frame in frames {
            match frame.packet {
                Packet::Connack(ack) => {
                    if ack.reason == ReasonCode::SUCCESS {
                        self.conns[i]
                            .wk
                            .handle_connack(&ack)
                            .expect("a successful CONNACK has usable keys");
                        self.conns[i].logged_in = true;
                        if self.conns[i].slot != WITNESS_SLOT {
                            self.outcome.count("connack_success", 1);
                        }
                    } else {
                        self.outcome.count("connack_refused", 1);
                    }
                }
                Packet::Recv(r) => self.on_recv(i, r),
                Packet::Sendack(ack) => self.on_sendack(i, ack),
                Packet::Suback(ack) => {
                    if ack.reason == ReasonCode::SUCCESS {
                        let uid = self.conns[i].uid.clone();
                        let members = self.groups.entry(ack.channel_id.clone()).or_default();
                        if ack.action == 0 {
                            members.insert(uid);
                        } else {
                            members.remove(&uid);
                            if members.is_empty() {
                                self.groups.remove(&ack.channel_id);
                            }
                        }
                    }
                }
                Packet::Pong => self.outcome.count("pongs", 1),
                Packet::Disconnect(_) => self.outcome.count("disconnects", 1),
                other => panic!("server sent a client-only packet: {other:?}"),
            }
        }
    }

    fn on_recv(&mut self, i: usize, r: Recv) {
        let c = &mut self.conns[i];
        let plain = match c.wk.open(&r) {
            Ok(p) => p,
            Err(e) => panic!(
                "RECV {} does not verify/decrypt for {}: {e}",
                r.message_id, c.uid
            ),
        };
        assert!(
            c.ids.insert(r.message_id),
            "connection {} got message {} twice",
            c.server.id(),
            r.message_id
        );
        if let Some(t) = self.tracked.get(&r.message_id) {
            assert!(
                t.recipient_uids.contains(&c.uid),
                "message {} reached non-recipient {}",
                r.message_id,
                c.uid
            );
            assert_eq!(r.from_uid, t.from, "RECV from_uid");
            let seen_channel = if r.channel_type == ChannelType::PERSON {
                &t.from
            } else {
                &t.channel
            };
            assert_eq!(
                &r.channel_id, seen_channel,
                "RECV channel as the recipient sees it"
            );
            if let Some(text) = &t.text {
                assert_eq!(&plain, text, "RECV content differs from what was sent");
            }
        }
        if c.slot != WITNESS_SLOT {
            self.outcome.count("recv", 1);
        }
        c.received.push(r);
    }

    fn on_sendack(&mut self, i: usize, ack: crate::proto::Sendack) {
        let c = &mut self.conns[i];
        let Some(sent) = c.sent.remove(&ack.client_seq) else {
            return; // a raw SEND's ack
        };
        match &sent.expect {
            Expect::Reason(r) => assert_eq!(ack.reason, *r, "SENDACK reason for {sent:?}"),
            Expect::Accepted => assert!(
                ack.reason == ReasonCode::SUCCESS || ack.reason == ReasonCode::RATE_LIMIT,
                "SENDACK {} for a valid SEND {sent:?}",
                ack.reason
            ),
            Expect::Unknown => {}
        }
        if ack.reason == ReasonCode::SUCCESS {
            self.outcome.count("sendack_success", 1);
            let tracked = Tracked {
                text: sent.text,
                from: c.uid.clone(),
                channel: sent.channel,
                recipient_uids: sent.recipient_uids,
                must_reach: sent.must_reach,
            };
            assert!(
                self.tracked.insert(ack.message_id, tracked).is_none(),
                "message id {} reused",
                ack.message_id
            );
        } else {
            self.outcome.count("sendack_refused", 1);
        }
    }

    fn check_buffers(&self) {
        for c in &self.conns {
            if let Some(s) = c.server.session() {
                assert!(
                    s.buffered_len() <= MAX_FRAME + 5 + 16 * 1024,
                    "session buffers {} bytes",
                    s.buffered_len()
                );
            }
        }
    }

    /// Final oracles; returns the outcome and how each connection ended.
    fn finish(mut self) -> (Outcome, Vec<ConnEnd>) {
        self.pump();
        for (id, t) in &self.tracked {
            for &j in &t.must_reach {
                let c = &self.conns[j];
                if c.open {
                    assert!(
                        c.ids.contains(id),
                        "message {id} never reached open recipient connection {} ({})",
                        c.server.id(),
                        c.uid
                    );
                }
            }
        }
        self.witness_chat();
        let sessions = self
            .conns
            .iter()
            .map(|c| ConnEnd {
                id: c.server.id(),
                had_session: c.server.session().is_some(),
                closed: c.server.is_closed(),
                close_events: c.close_events,
            })
            .collect();
        let mut outcome = self.outcome;
        outcome.verdict = format!(
            "{} connections, {} logins, {} messages accepted",
            self.conns.len(),
            outcome.get("connack_success"),
            self.tracked.len()
        );
        (outcome, sessions)
    }

    /// Two clients the script cannot address log in over the plain layer and chat.
    fn witness_chat(&mut self) {
        let a = self.new_conn(WITNESS_SLOT, "witness-a".into(), 4, None);
        let b = self.new_conn(WITNESS_SLOT, "witness-b".into(), 4, None);
        for i in [a, b] {
            let uid = self.conns[i].uid.clone();
            let frame = self.conns[i].wk.connect(&uid, "token", DeviceFlag::APP, 0);
            self.write_frame(i, &frame);
        }
        self.pump();
        assert!(
            self.conns[a].logged_in && self.conns[b].logged_in,
            "witnesses could not log in"
        );
        let Ok((frame, _)) = self.conns[a]
            .wk
            .send("witness-b", ChannelType::PERSON, b"witness")
        else {
            panic!("witness cannot build a SEND")
        };
        self.write_frame(a, &frame);
        self.pump();
        let got: Vec<&Recv> = self.conns[b]
            .received
            .iter()
            .filter(|r| r.from_uid == "witness-a")
            .collect();
        assert_eq!(got.len(), 1, "the witness chat was disturbed");
        self.outcome.count("witness_ok", 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngCore, SeedableRng};

    use crate::gen::script::ClientSpec;

    fn spec(uid: u8, tls13: bool) -> ClientSpec {
        ClientSpec {
            uid,
            device: 0,
            version: 4,
            tls13,
            key: KeyChoice::Valid,
        }
    }

    #[test]
    fn a_scripted_chat_delivers_and_damage_gets_sendack_9() {
        let script = Script {
            clients: vec![spec(0, true), spec(1, false)],
            actions: vec![
                Action::Send {
                    slot: 0,
                    to: Dest::Person(1),
                    text: b"hi".to_vec(),
                    damage: Damage::None,
                },
                Action::Send {
                    slot: 0,
                    to: Dest::Person(1),
                    text: b"x".to_vec(),
                    damage: Damage::MsgKey,
                },
                Action::Send {
                    slot: 0,
                    to: Dest::Person(1),
                    text: b"y".to_vec(),
                    damage: Damage::BadLength,
                },
                Action::Send {
                    slot: 1,
                    to: Dest::Person(0),
                    text: b"plain".to_vec(),
                    damage: Damage::NoEncrypt,
                },
                Action::Sub {
                    slot: 0,
                    group: 0,
                    leave: false,
                },
                Action::Sub {
                    slot: 1,
                    group: 0,
                    leave: false,
                },
                Action::Send {
                    slot: 1,
                    to: Dest::Group(0),
                    text: b"all".to_vec(),
                    damage: Damage::None,
                },
                Action::Ping { slot: 1 },
                Action::KeyUpdate { slot: 0 },
                Action::Send {
                    slot: 1,
                    to: Dest::Person(0),
                    text: b"after key update".to_vec(),
                    damage: Damage::None,
                },
                Action::CloseNotify { slot: 0 },
                Action::Advance { steps: 50 },
            ],
        };
        let o = run_script(&script);
        assert_eq!(o.get("connack_success"), 2, "{o}");
        assert_eq!(o.get("recv"), 4, "{o}");
        assert_eq!(o.get("sendack_success"), 4, "{o}");
        assert_eq!(o.get("sendack_refused"), 2, "{o}");
        assert_eq!(o.get("pongs"), 1, "{o}");
        assert_eq!(o.get("witness_ok"), 1, "{o}");
        assert_eq!(run_script(&script), o, "deterministic");
    }

    #[test]
    fn bad_client_keys_are_refused_and_logged() {
        for key in [
            KeyChoice::Empty,
            KeyChoice::Short(10),
            KeyChoice::Long,
            KeyChoice::NotBase64,
            KeyChoice::LowOrder(2),
        ] {
            let script = Script {
                clients: vec![ClientSpec {
                    key: key.clone(),
                    ..spec(0, true)
                }],
                actions: vec![],
            };
            let o = run_script(&script);
            assert_eq!(
                (o.get("connack_refused"), o.get("connack_success")),
                (1, 0),
                "{key:?}: {o}"
            );
            assert_eq!(o.get("close_events"), 1, "{key:?}: {o}");
        }
    }

    #[test]
    fn random_scripts_reach_the_application_layer() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let (mut logins, mut recvs, n) = (0, 0, 200);
        for i in 0..n {
            let mut data = vec![0u8; 64 + i * 4];
            rng.fill_bytes(&mut data);
            let o = run(&data);
            logins += u32::from(o.get("connack_success") > 0);
            recvs += u32::from(o.get("recv") > 0);
        }
        eprintln!("{logins}/{n} log in, {recvs}/{n} deliver a RECV");
        assert!(logins > 0);
    }
}
