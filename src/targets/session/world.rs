//! The simulated world of one `session` run: scripted clients, each on its own transport
//! ([`ClientLink`]), each talking to the server's connection engine ([`ServerConn`]), one
//! hub, a virtual clock. Every oracle of the target is checked here as bytes arrive.

use super::ack_mirror::{AckMirror, Read};
use super::ledger::{Accepted, Expected, Ledger};
use crate::client::Client;
use crate::clock::Time;
use crate::gen::names::Name;
use crate::gen::script::{
    Action, Body, ClientSpec, CloseHow, Damage, Dest, KeyChoice, Script, Sni, SIZES,
};
use crate::gen::session_frames::{self as frames, ConnectNames, SendSpec, Text};
use crate::hub::{Hub, HubConfig};
use crate::proto::crypto::PayloadError;
use crate::proto::{
    split_frame, ChannelType, Frame, Packet, ReasonCode, Recv, Sendack, Suback, DEFAULT_MAX_FRAME,
};
use crate::sim::client_link::ClientLink;
use crate::targets::{fixture, Outcome};
use crate::transport::{CloseCause, ConnConfig, ConnEvent, ServerConn, Transport};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

/// Rounds of pumping after one step before the world must be quiet.
const MAX_PUMP_ROUNDS: usize = 64;
/// Slot of the witness connections (no script slot resolves to it).
const WITNESS_SLOT: usize = usize::MAX;
/// Start of the virtual clock.
const T0: Time = Time::from_unix_millis(1_700_000_000_000);
/// Bytes per step fed in the client's chunk size; the rest goes in one read.
const MAX_CHUNKED: usize = 4096;
/// Undelivered messages one user may have waiting: small, so queues fill in a run.
const MAX_PENDING: usize = 64;
/// How much of a connection's stream is kept for the codec oracle once raw bytes broke its
/// framing (the desynchronised frames that matter come right after them).
const TAP_CAP: usize = 64 * 1024;

/// A SEND waiting for its SENDACK.
#[derive(Debug)]
struct Sent {
    channel: Text,
    ty: ChannelType,
    damage: Damage,
    setting: u8,
    content: Option<Vec<u8>>,
}

/// One connection: a scripted client on its transport and the server's engine.
struct Conn {
    slot: usize,
    uid: Text,
    link: ClientLink,
    server: ServerConn,
    wk: Client,
    /// The server reads this client's bytes in pieces of this size (0: all at once).
    chunk: usize,
    /// The client's key choice and version (what its CONNACK must say).
    key: KeyChoice,
    version: u8,
    /// The device flag its CONNECT carries.
    device: u8,
    /// Opened by the final rejoin (its logins and RECVs are counted apart).
    rejoin: bool,
    /// A CONNACK arrived.
    connack: bool,
    logged_in: bool,
    /// Not closed, as far as the client knows.
    open: bool,
    received: Vec<Recv>,
    got: BTreeSet<i64>,
    expected: Expected,
    /// SENDs waiting for their SENDACK, by ClientSeq. A raw SEND may share its ClientSeq
    /// with the harness's own: the server answers them in the order it read them.
    sent: BTreeMap<u32, VecDeque<Sent>>,
    /// RECVACKs sent that the server may not have read yet, and whether the ledger knew
    /// the message when the client sent it (if not, the server may read the RECVACK before
    /// it accepts the message, and then it acknowledges nothing).
    acks: Vec<(i64, bool)>,
    close_events: u32,
    /// SENDs whose message a recipient received before this client read the SENDACK
    /// (client seq -> message id): the SENDACK, if it comes, must be that success.
    adopted: BTreeMap<u32, i64>,
    /// A SENDACK said SENDER_OFFLINE while the client was logged in: a newer login on its
    /// uid and device took over first, so the server must close it as kicked.
    superseded: bool,
    /// Raw bytes that are not whole frames went out: the server reads what follows as part
    /// of another frame, so a later SEND need not get its own SENDACK.
    framing_lost: bool,
    /// A SEND over the frame limit went out with the framing intact: the server must close
    /// the connection on its length alone (the SEND is hollow, see [`frames::send`]).
    over_limit: bool,
    /// The server's split of this stream once the script wrote raw bytes into it.
    ack_mirror: Option<AckMirror>,
    /// A CONNECT went out (the harness's or raw): a later one is the server's second.
    connect_sent: bool,
    /// Logged in (or logging in) by a raw CONNECT with a key the harness does not hold:
    /// its RECVs cannot be opened, only counted and matched to the ledger.
    opaque: bool,
}

impl Conn {
    /// Sends wkproto bytes the harness built; once the script wrote raw bytes here, the
    /// RECVACKs the server will split out of them count as this connection's
    /// acknowledgements.
    fn send(&mut self, bytes: &[u8], ledger: &Ledger) -> bool {
        self.send_read(bytes, ledger).is_some()
    }

    /// Sends raw bytes: from now on the server's split of this stream is followed. A SEND
    /// read in them waits for its SENDACK (behind any SEND with its ClientSeq already
    /// waiting), and a CONNECT read first logs the connection in as it says.
    fn send_raw(&mut self, bytes: &[u8], ledger: &Ledger) -> bool {
        self.ack_mirror.get_or_insert_with(AckMirror::default);
        let Some(reads) = self.send_read(bytes, ledger) else {
            return false;
        };
        for read in reads {
            match read {
                Read::Send(send) => {
                    let sent = self.raw_sent(&send);
                    self.await_sendack(send.client_seq, sent);
                }
                Read::Connect(connect) if !self.connect_sent => self.raw_login(&connect),
                _ => {}
            }
        }
        true
    }

    /// `sent` waits for the SENDACK of ClientSeq `seq`, after any SEND already waiting for it.
    fn await_sendack(&mut self, seq: u32, sent: Sent) {
        self.sent.entry(seq).or_default().push_back(sent);
    }

    /// The SEND the next SENDACK of ClientSeq `seq` answers.
    fn take_sent(&mut self, seq: u32) -> Option<Sent> {
        let waiting = self.sent.get_mut(&seq)?;
        let sent = waiting.pop_front();
        if waiting.is_empty() {
            self.sent.remove(&seq);
        }
        sent
    }

    /// Sends `bytes`; with a mirror, records the RECVACKs read and returns the SENDs and
    /// CONNECTs read.
    fn send_read(&mut self, bytes: &[u8], ledger: &Ledger) -> Option<Vec<Read>> {
        if !self.link.send(bytes) {
            return None;
        }
        let mut reads = Vec::new();
        if let Some(mirror) = &mut self.ack_mirror {
            for read in mirror.feed(bytes, self.wk.negotiated_version()) {
                match read {
                    Read::Ack(id) => self.acks.push((id, ledger.get(id).is_some())),
                    other => reads.push(other),
                }
            }
        }
        Some(reads)
    }

    /// The server reads a raw CONNECT as this connection's first: the connection becomes
    /// whoever it names, at its version and device, with its key (if the server can use
    /// that key and it is not this client's own, the RECVs it gets cannot be opened).
    fn raw_login(&mut self, connect: &crate::proto::Connect) {
        self.connect_sent = true;
        self.uid = Text::Str(connect.uid.clone());
        self.version = connect.version;
        self.wk.set_version(connect.version);
        self.device = connect.device_flag.0;
        let usable = crate::proto::crypto::decode_client_key(&connect.client_key)
            .ok()
            .is_some_and(|public| crate::x25519_memo::shared_secret([1; 32], public).is_ok());
        self.key = if usable {
            KeyChoice::Valid
        } else {
            KeyChoice::NotBase64
        };
        self.opaque = connect.client_key != self.wk.client_key();
    }

    /// What the server must make of a SEND the script wrote raw: its msgKey and payload
    /// checked with this connection's cipher, as the server will check them.
    fn raw_sent(&self, send: &crate::proto::Send) -> Sent {
        let (damage, content) = if send.setting.has(crate::proto::Setting::NO_ENCRYPT) {
            (Damage::NoEncrypt, Some(send.payload.clone()))
        } else {
            match self.wk.open_send(send) {
                None => (Damage::MsgKey, None),
                Some(Ok(plain)) => (Damage::None, Some(plain)),
                Some(Err(PayloadError::BadPadding)) => (Damage::BadPadding, None),
                Some(Err(_)) => (Damage::NotBase64, None),
            }
        };
        Sent {
            channel: Text::Str(send.channel_id.clone()),
            ty: send.channel_type,
            damage,
            setting: send.setting.0,
            content,
        }
    }
}

/// The world.
pub(super) struct World {
    hub: Hub,
    now: Time,
    specs: Vec<ClientSpec>,
    groups: Vec<Text>,
    conns: Vec<Conn>,
    ledger: Ledger,
    /// Group members as SUBACKs told them.
    members: BTreeMap<String, BTreeSet<String>>,
    configs: BTreeMap<&'static str, Arc<ConnConfig>>,
    tls_clients: Option<(Arc<rustls::ClientConfig>, Arc<rustls::ClientConfig>)>,
    outcome: Outcome,
    next_secret: u64,
    next_sub: u64,
}

impl World {
    pub(super) fn new(script: &Script) -> World {
        let hub = Hub::new(HubConfig {
            seed: [9; 32],
            max_pending_per_user: MAX_PENDING,
            ..HubConfig::default()
        });
        let pool = |n: u8| format!("g{}", n % 3);
        World {
            hub,
            now: T0,
            specs: script.clients.clone(),
            groups: script
                .groups
                .iter()
                .map(|g| Text::new(g.render(pool)))
                .collect(),
            conns: Vec::new(),
            ledger: Ledger::default(),
            members: BTreeMap::new(),
            configs: BTreeMap::new(),
            tls_clients: None,
            outcome: Outcome::new(""),
            next_secret: 1,
            next_sub: 1,
        }
    }

    /// Runs the whole script.
    pub(super) fn run(mut self, script: &Script) -> Outcome {
        for slot in 0..self.specs.len() {
            let key = self.specs[slot].key.clone();
            let i = self.connect(slot, &key);
            for g in 0..self.groups.len() {
                if self.specs[slot].joins & (1 << g) != 0 {
                    let group = self.groups[g].clone();
                    self.join(i, group);
                }
            }
        }
        self.settle();
        for step in &script.actions {
            self.apply(&step.action);
            if !step.hold {
                self.settle();
            }
        }
        self.settle();
        self.check_open();
        self.rejoin();
        self.finish()
    }

    /// Every user who was sent something comes back once more on each device it used (its
    /// slot's transport, a valid key): whatever still waits for it must arrive now, exactly
    /// once, and nothing it acknowledged. Redelivery bugs show only at a login, and a script
    /// need not end with one.
    fn rejoin(&mut self) {
        let mut done = BTreeSet::new();
        for j in (0..self.conns.len()).rev() {
            let c = &self.conns[j];
            let Some(uid) = c
                .uid
                .as_str()
                .filter(|_| c.logged_in && c.slot != WITNESS_SLOT)
            else {
                continue;
            };
            let sent_to = self
                .conns
                .iter()
                .any(|o| o.uid == c.uid && !o.received.is_empty())
                || self.ledger.waits_for(uid);
            if !sent_to || !done.insert((uid.to_owned(), c.device)) {
                continue;
            }
            let (slot, device, uid) = (c.slot, c.device, c.uid.clone());
            let spec = ClientSpec {
                version: c.version,
                key: KeyChoice::Valid,
                ..self.specs[slot].clone()
            };
            let i = self.new_conn(slot, uid, &spec);
            self.conns[i].device = device;
            self.conns[i].rejoin = true;
            self.send_connect(i, slot, &KeyChoice::Valid);
        }
    }

    /// Lets the connections exchange bytes until quiet, then checks buffers and settles
    /// acknowledgements.
    fn settle(&mut self) {
        self.pump();
        self.settle_acks();
        self.check_buffers();
        self.check_over_limit();
    }

    /// A server that read a frame's length over the limit closed the connection (its body
    /// is never read: off-by-ones in the limit show here, not as a delivery).
    fn check_over_limit(&self) {
        for c in &self.conns {
            assert!(
                !c.over_limit || c.server.is_closed(),
                "connection {}: a SEND over the frame limit left it open",
                c.server.id()
            );
        }
    }

    /// The latest open connection of `slot`.
    fn conn_of(&self, slot: u8) -> Option<usize> {
        let slot = usize::from(slot) % self.specs.len().max(1);
        self.conns.iter().rposition(|c| c.slot == slot && c.open)
    }

    fn apply(&mut self, action: &Action) {
        let slot_index = |s: &u8, n: usize| usize::from(*s) % n.max(1);
        match action {
            Action::Connect { slot, key } => {
                self.connect(slot_index(slot, self.specs.len()), key);
            }
            Action::Device { slot, other } => {
                let slot = slot_index(slot, self.specs.len());
                self.second_device(slot, *other);
            }
            Action::Open { slot } => {
                self.open_conn(slot_index(slot, self.specs.len()));
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
            other => {
                let Some(i) = self.conn_of(other.slot()) else {
                    return;
                };
                self.act_on(i, other);
            }
        }
    }

    /// The slot's user logs in on another device and, as an app does on a new device,
    /// joins again every group the user is in (so a group has one user on two devices).
    fn second_device(&mut self, slot: usize, other: u8) {
        let i = self.open_conn(slot);
        self.conns[i].device = self.specs[slot].other_device(other);
        self.send_connect(i, slot, &KeyChoice::Valid);
        self.outcome.count("second_devices", 1);
        let Some(uid) = self.conns[i].uid.as_str().map(str::to_owned) else {
            return;
        };
        let joined: Vec<String> = self
            .members
            .iter()
            .filter(|(_, m)| m.contains(&uid))
            .map(|(g, _)| g.clone())
            .collect();
        for group in joined {
            self.join(i, Text::Str(group));
        }
    }

    /// Connection `i` sends SUB join for `group`, numbered as the world's own SUBs.
    fn join(&mut self, i: usize, group: Text) {
        let sub_no = Text::Str(format!("s{}", self.next_sub));
        self.next_sub += 1;
        let c = &mut self.conns[i];
        let bytes = frames::sub(&c.wk, &group, &sub_no, 2, 0);
        c.send(&bytes, &self.ledger);
    }

    /// An action on connection `i`.
    fn act_on(&mut self, i: usize, action: &Action) {
        match action {
            Action::Send {
                to,
                body,
                damage,
                msg_no,
                setting,
                copies,
                ..
            } => {
                // Copies go out without the world settling in between: one write.
                for _ in 0..(*copies).max(1) {
                    self.send(i, to, body, *damage, msg_no, *setting);
                }
            }
            Action::Ack { nth, .. } => {
                let c = &mut self.conns[i];
                // With nothing received, `nth` itself is the id: it may still name a message
                // waiting for this uid (the server acknowledges by id, for the whole uid).
                let (bytes, id) = match c.received.get(usize::from(*nth) % c.received.len().max(1))
                {
                    Some(r) => (
                        frames::recvack(&c.wk, r.message_id, r.message_seq),
                        r.message_id,
                    ),
                    None => (frames::recvack(&c.wk, i64::from(*nth), 0), i64::from(*nth)),
                };
                // A mirrored connection's acknowledgements are what the server splits out.
                if c.send(&bytes, &self.ledger) && c.ack_mirror.is_none() {
                    c.acks.push((id, self.ledger.get(id).is_some()));
                }
            }
            Action::AckBogus { id, seq, .. } => {
                let last = self.ledger.last_id().unwrap_or(0);
                // 7: an id and sequence that are real, of a message waiting for someone else.
                let elsewhere = if id % 8 == 7 {
                    let uid = self.conns[i].uid.as_str().unwrap_or_default();
                    self.ledger.waiting_elsewhere(uid)
                } else {
                    None
                };
                let c = &mut self.conns[i];
                let newest = c.received.last().map_or(0, |r| r.message_id);
                let seq = u64::from(*seq);
                let (id, seq) = match (id % 8, elsewhere) {
                    (0, _) => (0, seq),
                    (1, _) => (-1, seq),
                    (2, _) => (i64::MAX, seq),
                    (3, _) => (i64::MIN, seq),
                    (4, _) => (newest.saturating_add(1), seq),
                    (5, _) => (last, seq),
                    (6, _) => (last.saturating_add(1), seq),
                    (_, Some((other, other_seq))) => (other, other_seq),
                    (_, None) => (i64::from(*id), seq),
                };
                let bytes = frames::recvack(&c.wk, id, seq);
                // Any id counts: one waiting for this uid leaves its queue, received or not.
                // A mirrored connection's acknowledgements are what the server splits out.
                if c.send(&bytes, &self.ledger) && c.ack_mirror.is_none() {
                    c.acks.push((id, self.ledger.get(id).is_some()));
                }
            }
            Action::Ping { .. } => {
                self.conns[i].send(&[0x70], &self.ledger);
            }
            Action::Sub {
                group,
                action,
                ty,
                sub_no,
                ..
            } => {
                let channel = self.groups[usize::from(*group) % self.groups.len()].clone();
                let n = self.next_sub;
                self.next_sub += 1;
                let sub_no = Text::new(sub_no.render(|_| format!("s{n}")));
                let c = &mut self.conns[i];
                let bytes = frames::sub(&c.wk, &channel, &sub_no, *ty, *action);
                c.send(&bytes, &self.ledger);
            }
            Action::Packet { kind: 1, .. } => {
                // A CONNECT with the connection's own names and its real key (a second one
                // if it already sent one).
                let slot = self.conns[i].slot;
                self.send_connect(i, slot, &KeyChoice::Valid);
            }
            Action::Packet { kind, .. } => {
                let c = &mut self.conns[i];
                let bytes = frames::packet(&c.wk, *kind);
                c.send(&bytes, &self.ledger);
            }
            Action::Disconnect { .. } => {
                let c = &mut self.conns[i];
                let bytes = frames::packet(&c.wk, 9);
                c.send(&bytes, &self.ledger);
            }
            Action::Raw { bytes, .. } => {
                // `frame`'s codec oracles on the bytes, so a codec bug that only corrupts
                // (no panic in the server) shows here too. Bytes that are not whole frames
                // change how the server splits what follows: from here on the connection's
                // stream is kept and checked whole at the end.
                crate::targets::frame::check_codec(bytes, DEFAULT_MAX_FRAME);
                let whole = whole_frames(bytes);
                if !whole {
                    self.conns[i].link.tap(TAP_CAP);
                }
                if self.conns[i].send_raw(bytes, &self.ledger) {
                    self.outcome.count("raw_actions", 1);
                    if !whole {
                        self.conns[i].framing_lost = true;
                    }
                }
            }
            Action::Close { how, .. } => match how {
                CloseHow::Polite => {
                    self.conns[i].link.close();
                    if !self.conns[i].link.is_tls() && !self.is_websocket(i) {
                        // Plain TCP says goodbye with a FIN: the server reads end of stream.
                        self.peer_gone(i);
                    }
                }
                CloseHow::Abrupt => self.peer_gone(i),
                CloseHow::KeyUpdate => self.conns[i].link.key_update(),
            },
            Action::Connect { .. }
            | Action::Device { .. }
            | Action::Open { .. }
            | Action::Advance { .. } => {}
        }
    }

    fn is_websocket(&self, i: usize) -> bool {
        let slot = self.conns[i].slot;
        self.specs
            .get(slot)
            .is_some_and(|s| s.transport.is_websocket())
    }

    /// The engine's settings for `transport`: production's.
    fn config(&mut self, transport: Transport) -> Arc<ConnConfig> {
        let key = match transport {
            Transport::Tcp => "tcp",
            Transport::Tls => "tls",
            Transport::Ws => "ws",
            Transport::Wss => "wss",
        };
        self.configs
            .entry(key)
            .or_insert_with(|| {
                let mut config = ConnConfig::new(transport);
                config.session.key_agreement = crate::x25519_memo::MEMOIZED;
                config.session.msg_key_fn = crate::msg_key_memo::REMEMBERED;
                Arc::new(config)
            })
            .clone()
    }

    /// Opens a connection for `slot` (nothing sent yet); returns its index.
    fn open_conn(&mut self, slot: usize) -> usize {
        let spec = self.specs[slot].clone();
        let uid = Text::new(spec.uid.render(|n| format!("u{}", n % 4)));
        self.new_conn(slot, uid, &spec)
    }

    fn new_conn(&mut self, slot: usize, uid: Text, spec: &ClientSpec) -> usize {
        let (id, seed) = self.hub.open();
        let mut secret = [0u8; 32];
        secret[..8].copy_from_slice(&self.next_secret.to_le_bytes());
        secret[31] = 0x40;
        self.next_secret += 1;
        let config = self.config(spec.transport);
        let (server_tls, client_tls) = if spec.transport.is_tls() {
            (Some(fixture::server_config()), Some(self.tls_client(spec)))
        } else {
            (None, None)
        };
        let mut server = ServerConn::new(id, seed, config, server_tls, self.now);
        server.start(self.now, &mut self.hub);
        let fragments = usize::from(spec.fragments);
        self.outcome.count(transport_counter(spec.transport), 1);
        self.conns.push(Conn {
            slot,
            uid,
            link: ClientLink::new(spec.transport, client_tls, fragments),
            server,
            wk: Client::new(secret, spec.version).with_msg_key_fn(crate::msg_key_memo::REMEMBERED),
            chunk: usize::from(spec.chunk),
            key: spec.key.clone(),
            version: spec.version,
            device: spec.device,
            rejoin: false,
            connack: false,
            logged_in: false,
            open: true,
            received: Vec::new(),
            got: BTreeSet::new(),
            expected: Expected::default(),
            sent: BTreeMap::new(),
            acks: Vec::new(),
            superseded: false,
            framing_lost: false,
            over_limit: false,
            ack_mirror: None,
            connect_sent: false,
            opaque: false,
            adopted: BTreeMap::new(),
            close_events: 0,
        });
        self.conns.len() - 1
    }

    /// A rustls client for `spec` (configs made once per run: their resumption caches must
    /// not carry over between runs).
    fn tls_client(&mut self, spec: &ClientSpec) -> rustls::ClientConnection {
        let (v12, v13) = self.tls_clients.get_or_insert_with(|| {
            (
                fixture::aes128_first_client_config(&[&rustls::version::TLS12]),
                fixture::aes128_first_client_config(&[&rustls::version::TLS13]),
            )
        });
        let config = if spec.tls13 { v13.clone() } else { v12.clone() };
        let longest = [
            "a".repeat(63),
            "b".repeat(63),
            "c".repeat(63),
            "d".repeat(61),
        ]
        .join(".");
        let name = match spec.sni {
            Sni::Localhost => "localhost".to_owned(),
            Sni::None => "127.0.0.1".to_owned(),
            Sni::ManyLabels => {
                "a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t.u.v.w.x.y.z.localhost".into()
            }
            Sni::Longest => longest,
            Sni::Unknown => "unknown.example".to_owned(),
        };
        let server_name = rustls::pki_types::ServerName::try_from(name)
            .expect("every SNI choice is a valid server name");
        rustls::ClientConnection::new(config, server_name).expect("client config is valid")
    }

    fn connect(&mut self, slot: usize, key: &KeyChoice) -> usize {
        let i = self.open_conn(slot);
        self.send_connect(i, slot, key);
        self.outcome.count("connects", 1);
        i
    }

    /// Connection `i` sends CONNECT with its slot's names and `key`.
    fn send_connect(&mut self, i: usize, slot: usize, key: &KeyChoice) {
        let Some(spec) = self.specs.get(slot) else {
            return;
        };
        let token = Text::new(spec.token.render(|_| "token".into()));
        let uid_for_device = self.conns[i].uid.as_str().unwrap_or("u").to_owned();
        let device_id = Text::new(
            spec.device_id
                .render(|_| format!("{uid_for_device}-device")),
        );
        let c = &mut self.conns[i];
        let device = c.device;
        c.key = key.clone();
        let names = ConnectNames {
            uid: &c.uid,
            token: &token,
            device_id: &device_id,
        };
        let bytes = frames::connect(&c.wk, &names, device, key);
        c.send(&bytes, &self.ledger);
        c.connect_sent = true;
    }

    fn send(
        &mut self,
        i: usize,
        to: &Dest,
        body: &Body,
        damage: Damage,
        msg_no: &Name,
        setting: u8,
    ) {
        if !self.conns[i].logged_in {
            return;
        }
        let person = |n: u8| format!("u{}", n % 4);
        let (channel, ty) = match to {
            Dest::Slot(k) => {
                let slot = usize::from(*k) % self.specs.len().max(1);
                let uid = Text::new(self.specs[slot].uid.render(person));
                (uid, ChannelType::PERSON)
            }
            Dest::Person(name) => (Text::new(name.render(person)), ChannelType::PERSON),
            Dest::Group(k) => (
                self.groups[usize::from(*k) % self.groups.len()].clone(),
                ChannelType::GROUP,
            ),
            Dest::Typed { ty, name } => (Text::new(name.render(person)), ChannelType(*ty)),
        };
        let msg_no = match msg_no {
            Name::Pool(_) => None,
            other => Some(Text::new(other.render(|_| String::new()))),
        };
        let plain = match body {
            Body::Text(t) => t.clone(),
            Body::Sized(k) => pattern(SIZES[usize::from(*k) % SIZES.len()] as usize),
            Body::Fit(delta) => {
                let fit = self.largest_fitting(i, &channel, ty, msg_no.as_ref());
                pattern(fit.saturating_add_signed(isize::from(*delta)))
            }
        };
        let spec = SendSpec {
            channel: &channel,
            ty,
            plain: &plain,
            damage,
            msg_no: msg_no.as_ref(),
            setting,
            frame_limit: DEFAULT_MAX_FRAME,
        };
        let c = &mut self.conns[i];
        let Some(built) = frames::send(&mut c.wk, &spec) else {
            return;
        };
        if plain.len() > 16 * 1024 {
            self.outcome.count("large_sends", 1);
        }
        if !c.send(&built.bytes, &self.ledger) {
            return;
        }
        self.outcome.count("sends", 1);
        // A SEND the server can decode must get a SENDACK; one over the frame limit or with a
        // field it cannot read closes the connection instead.
        let too_large = split_frame(&built.bytes, DEFAULT_MAX_FRAME).is_err();
        let readable =
            channel.as_str().is_some() && msg_no.as_ref().is_none_or(|m| m.as_str().is_some());
        c.over_limit |= too_large && !c.framing_lost;
        if !too_large && readable {
            c.await_sendack(
                built.seq,
                Sent {
                    channel,
                    ty,
                    damage,
                    setting,
                    content: built.content,
                },
            );
        }
    }

    /// The largest plaintext whose SEND on connection `i` still fits the frame limit.
    fn largest_fitting(
        &mut self,
        i: usize,
        channel: &Text,
        ty: ChannelType,
        msg_no: Option<&Text>,
    ) -> usize {
        let dry = SendSpec {
            channel,
            ty,
            plain: &[],
            damage: Damage::None,
            msg_no,
            setting: 0,
            frame_limit: DEFAULT_MAX_FRAME,
        };
        let Some(empty) = frames::send(&mut self.conns[i].wk, &dry) else {
            return 0;
        };
        let Ok(Some(bounds)) = split_frame(&empty.bytes, usize::MAX) else {
            return 0;
        };
        // An empty plaintext is one AES block (24 base64 bytes); n bytes take
        // k = n / 16 + 1 blocks and 4 * ceil(16k / 3) base64 bytes.
        let overhead = bounds.body_len.saturating_sub(24);
        let room = DEFAULT_MAX_FRAME.saturating_sub(overhead);
        let b64 = |k: usize| 4 * (16 * k).div_ceil(3);
        let mut k = room / 4 * 3 / 16 + 1;
        while k > 1 && b64(k) > room {
            k -= 1;
        }
        (16 * k).saturating_sub(1)
    }

    /// The client vanishes: what it already sent arrives, then the server reads end of
    /// stream and what it answers is lost.
    fn peer_gone(&mut self, i: usize) {
        self.step(i);
        let now = self.now;
        let c = &mut self.conns[i];
        c.open = false;
        c.server.handle_eof(now, &mut self.hub);
        c.server.poll_transmit(&mut Vec::new());
        take_close(c);
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
        c.link.poll_wire(&mut wire_in);
        if wire_in.is_empty() {
            c.server.handle_wake(now, &mut self.hub);
        } else {
            // The first bytes in reads of the client's chunk size, the rest in one read: cuts
            // matter at frame and record boundaries, and a large message cut into one-byte
            // reads would only make the run slow.
            let split = if c.chunk == 0 {
                0
            } else {
                wire_in.len().min(MAX_CHUNKED)
            };
            let (cut, rest) = wire_in.split_at(split);
            for piece in cut.chunks(c.chunk.max(1)) {
                c.server.handle_wire(piece, now, &mut self.hub);
            }
            c.server.handle_wire(rest, now, &mut self.hub);
        }
        let mut wire_out = Vec::new();
        c.server.poll_transmit(&mut wire_out);
        let end = take_close(c);
        let moved = !wire_in.is_empty() || !wire_out.is_empty();
        let incoming = match c.link.handle_wire(&wire_out) {
            Ok(incoming) => incoming,
            Err(e) => panic!(
                "connection {}: server bytes a real client cannot read: {e}",
                c.server.id()
            ),
        };
        if incoming.closed {
            assert!(
                c.server.is_closed(),
                "connection {}: the server ended the transport but its connection is open",
                c.server.id()
            );
        }
        let version = c.wk.negotiated_version();
        for m in &incoming.messages {
            match crate::proto::Frame::read(m, version, usize::MAX) {
                Ok(Some((_, n))) if n == m.len() => {}
                other => panic!(
                    "a WebSocket message of {} bytes is not one wkproto frame at v{version}: {other:?}",
                    m.len()
                ),
            }
        }
        if let Some(cause) = &end {
            c.open = false;
            self.outcome.count("server_closes", 1);
            if let CloseCause::Layer(e) = cause {
                self.outcome.count("layer_failures", 1);
                assert!(
                    e.follows_alert_table(),
                    "TLS failure off the alert table: {e}"
                );
            }
        }
        if !incoming.bytes.is_empty() {
            self.client_receives(i, &incoming.bytes);
        }
        moved
    }

    /// The client decodes and checks what the server sent.
    fn client_receives(&mut self, i: usize, bytes: &[u8]) {
        let frames = match self.conns[i].wk.handle_bytes(bytes) {
            Ok(f) => f,
            Err(e) => panic!("server sent bytes the client cannot decode: {e}"),
        };
        for frame in frames {
            if !self.conns[i].connack && !matches!(frame.packet, Packet::Connack(_)) {
                panic!(
                    "server sent {:?} before CONNACK",
                    Frame::new(frame.packet).packet_type()
                );
            }
            match frame.packet {
                Packet::Connack(ack) => self.on_connack(i, &ack),
                Packet::Recv(r) => self.on_recv(i, r),
                Packet::Sendack(ack) => self.on_sendack(i, &ack),
                Packet::Suback(ack) => self.on_suback(i, &ack),
                Packet::Pong => self.outcome.count("pongs", 1),
                Packet::Disconnect(d) => {
                    self.outcome.count("disconnects", 1);
                    if d.reason == ReasonCode::CONNECT_KICK {
                        self.outcome.count("kicks", 1);
                    }
                    assert!(
                        self.conns[i].server.is_closed(),
                        "DISCONNECT sent but the connection stays open"
                    );
                }
                other => panic!("server sent a client-only packet: {other:?}"),
            }
        }
    }

    fn on_connack(&mut self, i: usize, ack: &crate::proto::Connack) {
        let c = &mut self.conns[i];
        assert!(!c.connack, "a second CONNACK");
        c.connack = true;
        if ack.reason != ReasonCode::SUCCESS {
            self.outcome.count("connack_refused", 1);
            assert!(
                c.server.is_closed(),
                "CONNACK {} but the connection stays open",
                ack.reason
            );
            return;
        }
        assert!(
            c.key == KeyChoice::Valid && c.version >= crate::proto::MIN_VERSION,
            "CONNACK Success for key {:?} at version {}",
            c.key,
            c.version
        );
        assert!(
            c.uid.as_str().is_some(),
            "CONNACK Success for a uid the codec cannot carry"
        );
        if !c.opaque {
            c.wk.handle_connack(ack)
                .expect("a successful CONNACK has usable keys");
        }
        c.logged_in = true;
        let uid = c.uid.as_str().unwrap_or_default().to_owned();
        let mut expected = self.ledger.login(&uid);
        // RECVACKs of this uid not yet settled may have been read before this login (then
        // the message is not in its backlog) or not: such a message may come, need not.
        for other in self
            .conns
            .iter()
            .filter(|o| o.logged_in && o.uid.as_str() == Some(&uid))
        {
            for (id, _) in &other.acks {
                expected.must.remove(id);
            }
        }
        let c = &mut self.conns[i];
        c.expected = expected;
        if c.rejoin {
            self.outcome.count("rejoins", 1);
        } else if c.slot != WITNESS_SLOT {
            self.outcome.count("connack_success", 1);
        }
    }

    fn on_recv(&mut self, i: usize, r: Recv) {
        let c = &mut self.conns[i];
        // A connection logged in raw with a key the harness does not hold: not openable.
        let plain = match c.wk.open(&r) {
            _ if c.opaque => None,
            Ok(p) => Some(p),
            Err(e) => panic!(
                "RECV {} does not verify/decrypt for {:?}: {e}",
                r.message_id, c.uid
            ),
        };
        assert!(
            c.got.insert(r.message_id),
            "connection {} got message {} twice",
            c.server.id(),
            r.message_id
        );
        if self.ledger.get(r.message_id).is_none() {
            self.adopt(&r, plain.as_deref());
        }
        let c = &mut self.conns[i];
        let Some(t) = self.ledger.get(r.message_id) else {
            panic!(
                "RECV of message {}, which no SENDACK accepted and no SEND of {} can be",
                r.message_id, r.from_uid
            )
        };
        assert!(
            c.expected.may.contains(&r.message_id),
            "message {} reached connection {} ({:?}), which was not waiting for it",
            r.message_id,
            c.server.id(),
            c.uid
        );
        assert_eq!(r.from_uid, t.from, "RECV from_uid");
        let seen_channel = if t.person { &t.from } else { &t.channel };
        assert_eq!(
            &r.channel_id, seen_channel,
            "RECV channel as the recipient sees it"
        );
        if let (Some(content), Some(plain)) = (&t.content, &plain) {
            assert!(
                plain == content,
                "RECV content differs from what was sent ({} vs {} bytes)",
                plain.len(),
                content.len()
            );
        }
        if plain.as_ref().map_or(r.payload.len(), Vec::len) > 16 * 1024 {
            self.outcome.count("large_recv", 1);
        }
        if c.rejoin {
            self.outcome.count("rejoin_recv", 1);
        } else if c.slot != WITNESS_SLOT {
            self.outcome.count("recv", 1);
        }
        c.received.push(r);
    }

    fn on_sendack(&mut self, i: usize, ack: &Sendack) {
        if let Some(id) = self.conns[i].adopted.remove(&ack.client_seq) {
            assert_eq!(
                (ack.reason, ack.message_id),
                (ReasonCode::SUCCESS, id),
                "SENDACK of a SEND whose message was already delivered"
            );
            return;
        }
        let Some(sent) = self.conns[i].take_sent(ack.client_seq) else {
            return; // the ack of a SEND the script sent raw
        };
        if ack.reason == ReasonCode::SENDER_OFFLINE && self.conns[i].logged_in {
            // Its input was read after the kick, before the kick's DISCONNECT went out.
            self.conns[i].superseded = true;
            self.outcome.count("sends_after_kick", 1);
            return;
        }
        let from = self.conns[i].uid.as_str().unwrap_or_default().to_owned();
        let channel = sent.channel.as_str().unwrap_or_default().to_owned();
        let (expect, recipients) = self.expectation(&from, &channel, &sent);
        if let Some(expect) = expect {
            if expect == ReasonCode::SUCCESS {
                assert!(
                    ack.reason == ReasonCode::SUCCESS || ack.reason == ReasonCode::RATE_LIMIT,
                    "SENDACK {} for a valid SEND to {channel:?} ({:?})",
                    ack.reason,
                    sent.ty
                );
            } else {
                assert_eq!(ack.reason, expect, "SENDACK reason for {sent:?}");
            }
        }
        let witness = self.conns[i].slot == WITNESS_SLOT;
        if ack.reason != ReasonCode::SUCCESS {
            self.outcome.count("sendack_refused", 1);
            return;
        }
        if !witness {
            self.outcome.count("sendack_success", 1);
        }
        self.accept(
            i,
            (ack.message_id, ack.message_seq),
            sent,
            from,
            channel,
            recipients,
        );
    }

    /// Records message `message_id` of connection `i`'s SEND `sent` as accepted for
    /// `recipients`: the ledger's, and every open recipient connection must get it.
    fn accept(
        &mut self,
        i: usize,
        (message_id, seq): (i64, u64),
        sent: Sent,
        from: String,
        channel: String,
        recipients: BTreeSet<String>,
    ) {
        let accepted = Accepted {
            from,
            channel,
            seq,
            person: sent.ty == ChannelType::PERSON,
            recipients: recipients.clone(),
            content: sent.content,
        };
        assert!(
            self.ledger.accepted(message_id, accepted),
            "message id {message_id} reused"
        );
        for (j, c) in self.conns.iter_mut().enumerate() {
            let uid = c.uid.as_str().unwrap_or_default();
            if j != i && c.open && c.logged_in && recipients.contains(uid) {
                c.expected.may.insert(message_id);
                c.expected.must.insert(message_id);
            }
        }
    }

    /// A RECV of a message no SENDACK announced yet: its sender's SENDACK may still be
    /// unread (held steps, or a sender that closed first). Finds the sender's oldest
    /// unanswered SEND with that content (any, if either is unknown) and records it as
    /// accepted, the way its SENDACK would have (if there is none, the caller's check fails).
    fn adopt(&mut self, r: &Recv, plain: Option<&[u8]>) {
        let found = self.conns.iter().enumerate().find_map(|(j, c)| {
            if !c.logged_in || c.uid.as_str() != Some(r.from_uid.as_str()) {
                return None;
            }
            c.sent
                .iter()
                .flat_map(|(seq, waiting)| {
                    waiting.iter().enumerate().map(move |(k, s)| (*seq, k, s))
                })
                .find(|(_, _, s)| match (s.content.as_deref(), plain) {
                    (Some(content), Some(plain)) => content == plain,
                    _ => true,
                })
                .map(|(seq, k, _)| (j, seq, k))
        });
        let Some((j, seq, k)) = found else {
            return;
        };
        let Some(waiting) = self.conns[j].sent.get_mut(&seq) else {
            return;
        };
        let Some(sent) = waiting.remove(k) else {
            return;
        };
        if waiting.is_empty() {
            self.conns[j].sent.remove(&seq);
        }
        self.conns[j].adopted.insert(seq, r.message_id);
        let channel = sent.channel.as_str().unwrap_or_default().to_owned();
        let (_, recipients) = self.expectation(&r.from_uid, &channel, &sent);
        self.outcome.count("recv_before_sendack", 1);
        self.accept(
            j,
            (r.message_id, r.message_seq),
            sent,
            r.from_uid.clone(),
            channel,
            recipients,
        );
    }

    /// What a SEND's SENDACK must say (`None`: not determined) and whom it is for, as the
    /// world stands now.
    fn expectation(
        &self,
        from: &str,
        channel: &str,
        sent: &Sent,
    ) -> (Option<ReasonCode>, BTreeSet<String>) {
        let recipients = match sent.ty {
            ChannelType::PERSON => BTreeSet::from([channel.to_owned()]),
            ChannelType::GROUP => self
                .members
                .get(channel)
                .map(|m| m.iter().filter(|u| *u != from).cloned().collect())
                .unwrap_or_default(),
            _ => BTreeSet::new(),
        };
        if sent.setting != 0 {
            // Setting bits change how the payload is read (NoEncrypt, stream, topic).
            return (None, recipients);
        }
        let by_damage = match sent.damage {
            Damage::MsgKey
            | Damage::MsgKeyChars
            | Damage::MsgKeyLength(_)
            | Damage::NotBase64
            | Damage::BadLength => Some(Some(ReasonCode::PAYLOAD_DECODE_ERROR)),
            Damage::BadPadding => Some(None),
            Damage::None | Damage::NoEncrypt => None,
        };
        if let Some(e) = by_damage {
            return (e, recipients);
        }
        let expect = if channel.is_empty() {
            ReasonCode::CHANNEL_ID_ERROR
        } else {
            match sent.ty {
                ChannelType::PERSON => ReasonCode::SUCCESS,
                ChannelType::GROUP => match self.members.get(channel) {
                    None => ReasonCode::CHANNEL_NOT_EXIST,
                    Some(m) if !m.contains(from) => ReasonCode::SUBSCRIBER_NOT_EXIST,
                    Some(_) => ReasonCode::SUCCESS,
                },
                _ => ReasonCode::NOT_SUPPORT_CHANNEL_TYPE,
            }
        };
        (Some(expect), recipients)
    }

    fn on_suback(&mut self, i: usize, ack: &Suback) {
        if ack.reason != ReasonCode::SUCCESS {
            self.outcome.count("suback_refused", 1);
            return;
        }
        assert!(
            ack.channel_type == ChannelType::GROUP && !ack.channel_id.is_empty() && ack.action < 2,
            "SUBACK Success for {ack:?}"
        );
        self.outcome.count("suback_success", 1);
        let uid = self.conns[i].uid.as_str().unwrap_or_default().to_owned();
        let members = self.members.entry(ack.channel_id.clone()).or_default();
        if ack.action == 0 {
            members.insert(uid);
        } else {
            members.remove(&uid);
            if members.is_empty() {
                self.members.remove(&ack.channel_id);
            }
        }
    }

    /// Acknowledgements of a connection whose input the server has consumed count; those of
    /// one that closed (or holds a partial frame) may have been lost.
    fn settle_acks(&mut self) {
        for c in &mut self.conns {
            if c.acks.is_empty() {
                continue;
            }
            let Some(uid) = c.uid.as_str().filter(|_| c.logged_in) else {
                c.acks.clear();
                continue;
            };
            let consumed =
                !c.server.is_closed() && c.server.session().is_some_and(|s| s.buffered_len() == 0);
            for (id, known) in c.acks.drain(..) {
                if consumed && known {
                    self.ledger.acked(uid, id);
                } else {
                    self.ledger.maybe_acked(uid, id);
                }
            }
        }
    }

    fn check_buffers(&self) {
        for c in &self.conns {
            if let Some(s) = c.server.session() {
                assert!(
                    s.buffered_len() <= DEFAULT_MAX_FRAME + 5 + 16 * 1024,
                    "session buffers {} bytes",
                    s.buffered_len()
                );
                // What is allocated counts too (bug class BUF-L5: reserving a declared
                // length before the limit check). Vec growth at most doubles the longest
                // content, hence the factor.
                assert!(
                    s.buffered_capacity() <= 2 * (DEFAULT_MAX_FRAME + 5 + 16 * 1024),
                    "session allocated {} bytes of read buffer",
                    s.buffered_capacity()
                );
            }
        }
    }

    /// Final oracles (after the rejoin).
    fn finish(mut self) -> Outcome {
        self.settle();
        self.check_open();
        self.witness_chat();
        for c in &self.conns {
            crate::targets::frame::check_codec(c.link.tapped(), DEFAULT_MAX_FRAME);
            let want = u32::from(c.server.is_closed());
            assert_eq!(
                c.close_events,
                want,
                "connection {} reported {} close events, expected {want}",
                c.server.id(),
                c.close_events
            );
        }
        let closed = self.conns.iter().filter(|c| c.server.is_closed()).count();
        let mut outcome = self.outcome;
        outcome.count("close_events", closed as u64);
        outcome.verdict = format!(
            "{} connections, {} logins, {} messages accepted",
            self.conns.len(),
            outcome.get("connack_success"),
            self.ledger.len()
        );
        outcome
    }

    /// Every open, logged-in connection got all it must have and a SENDACK for each SEND
    /// the server read, and none was told SENDER_OFFLINE without being kicked.
    fn check_open(&self) {
        for c in &self.conns {
            if !(c.open && c.logged_in) || c.server.is_closed() {
                continue;
            }
            assert!(
                !c.superseded,
                "SENDER_OFFLINE to logged-in connection {}, which was never kicked",
                c.server.id()
            );
            if let Some(missing) = c.expected.must.difference(&c.got).next() {
                panic!(
                    "message {missing} never reached open connection {} ({:?})",
                    c.server.id(),
                    c.uid
                );
            }
            if !c.framing_lost && c.server.session().is_some_and(|s| s.buffered_len() == 0) {
                if let Some(seq) = c.sent.keys().next() {
                    panic!("SEND {seq} of connection {} got no SENDACK", c.server.id());
                }
            }
        }
    }

    /// Two clients the script cannot address log in over plain TCP and chat.
    fn witness_chat(&mut self) {
        let witness = ClientSpec {
            version: 4,
            ..ClientSpec::ordinary(0)
        };
        let a = self.new_conn(WITNESS_SLOT, Text::Str("witness-a".into()), &witness);
        let b = self.new_conn(WITNESS_SLOT, Text::Str("witness-b".into()), &witness);
        for i in [a, b] {
            let c = &mut self.conns[i];
            let uid = c.uid.as_str().unwrap_or_default().to_owned();
            let bytes = c.wk.encode(
                &c.wk
                    .connect(&uid, "token", crate::proto::DeviceFlag::APP, 0),
            );
            c.send(&bytes, &self.ledger);
        }
        self.pump();
        assert!(
            self.conns[a].logged_in && self.conns[b].logged_in,
            "witnesses could not log in"
        );
        let Ok((frame, seq)) = self.conns[a]
            .wk
            .send("witness-b", ChannelType::PERSON, b"witness")
        else {
            panic!("witness cannot build a SEND")
        };
        let sent = Sent {
            channel: Text::Str("witness-b".into()),
            ty: ChannelType::PERSON,
            damage: Damage::None,
            setting: 0,
            content: Some(b"witness".to_vec()),
        };
        self.conns[a].await_sendack(seq, sent);
        let bytes = self.conns[a].wk.encode(&frame);
        self.conns[a].send(&bytes, &self.ledger);
        self.pump();
        let got = self.conns[b]
            .received
            .iter()
            .filter(|r| r.from_uid == "witness-a")
            .count();
        assert_eq!(got, 1, "the witness chat was disturbed");
        self.outcome.count("witness_ok", 1);
    }
}

/// Whether `bytes` are a run of complete frames the server can split.
fn whole_frames(mut bytes: &[u8]) -> bool {
    while !bytes.is_empty() {
        match split_frame(bytes, DEFAULT_MAX_FRAME) {
            Ok(Some(bounds)) => match bytes.get(bounds.total_len()..) {
                Some(rest) if bounds.total_len() > 0 => bytes = rest,
                _ => return false,
            },
            _ => return false,
        }
    }
    true
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

fn transport_counter(t: Transport) -> &'static str {
    match t {
        Transport::Tcp => "conns_tcp",
        Transport::Tls => "conns_tls",
        Transport::Ws => "conns_ws",
        Transport::Wss => "conns_wss",
    }
}

/// Period of [`pattern`]: a prime, so no power-of-two cut or shift maps it onto itself.
const PATTERN_PERIOD: usize = 251;

/// A generated plaintext of `n` bytes (a pattern, so a cut or shift shows): byte `i` is
/// `(31 i + 7) mod 251`. Built by doubling one period with memcpy, as a frame-limit payload
/// byte by byte cost milliseconds under coverage instrumentation.
pub(crate) fn pattern(n: usize) -> Vec<u8> {
    let mut out: Vec<u8> = (0..PATTERN_PERIOD)
        .map(|i| ((i * 31 + 7) % PATTERN_PERIOD) as u8)
        .collect();
    out.reserve(n.saturating_sub(out.len()));
    // Every length here is a multiple of the period, so a copied prefix continues it.
    while out.len() < n {
        out.extend_from_within(..out.len().min(n - out.len()));
    }
    out.truncate(n);
    out
}
