//! An IM session script (the `session` target's model, [`crate::gen::script`]) played
//! against a live server by real clients over sockets: each slot logs in with its spec's
//! names, version and ClientKey (valid or damaged), takes its keys from the server's
//! CONNACK, and then the actions run in order, each client answering what the server sends
//! (a RECV is kept so a later `Ack` acknowledges it). Frames are built exactly as the
//! fuzz target builds them ([`crate::gen::session_frames`]), malformed fields included.
//!
//! What cannot cross the wire is left out or adapted: every client uses the attack's
//! transport (the target URL's, not the script's per-client choice), `Advance` (the fuzz
//! target's virtual clock) does nothing here, and `Abrupt` shuts both directions (std
//! cannot send a TCP reset). The oracles are the attack's (the process, probes,
//! witnesses); the player itself only counts what it did.

use super::case::Layer;
use super::conn::Dialer;
use super::peer::Peer;
use crate::gen::names::Name;
use crate::gen::script::{Action, Body, CloseHow, Dest, KeyChoice, Script, SIZES};
use crate::gen::session_frames::{self as frames, ConnectNames, SendSpec, Text};
use crate::proto::{ChannelType, Recv, DEFAULT_MAX_FRAME};
use std::sync::Arc;
use std::time::Duration;

/// TLS configs of the two versions a script's clients choose between.
#[derive(Clone, Debug)]
pub struct ScriptTls {
    /// TLS 1.2 only.
    pub tls12: Arc<rustls::ClientConfig>,
    /// TLS 1.3 only.
    pub tls13: Arc<rustls::ClientConfig>,
}

/// A live client of the script.
struct Live {
    slot: usize,
    peer: Peer,
    received: Vec<Recv>,
}

/// Plays `script`; returns how many connections it opened.
pub fn play(script: &Script, dialer: &Dialer, tls: &ScriptTls, settle: Duration) -> u32 {
    let mut player = Player {
        script,
        dialer,
        tls,
        settle,
        live: Vec::new(),
        connections: 0,
        next_sub: 1,
    };
    for slot in 0..script.clients.len() {
        let spec = &script.clients[slot];
        player.connect(slot, &spec.key.clone(), spec.device);
        for g in 0..script.groups.len() {
            if spec.joins & (1 << g) != 0 {
                player.apply(&Action::Sub {
                    slot: u8::try_from(slot).unwrap_or(0),
                    group: u8::try_from(g).unwrap_or(0),
                    action: 0,
                    ty: 2,
                    sub_no: Name::Pool(0),
                });
            }
        }
    }
    for step in &script.actions {
        player.apply(&step.action);
        if !step.hold {
            player.take_frames();
        }
    }
    for mut live in player.live.drain(..) {
        live.peer.conn.finish(settle);
    }
    player.connections
}

struct Player<'a> {
    script: &'a Script,
    dialer: &'a Dialer,
    tls: &'a ScriptTls,
    settle: Duration,
    live: Vec<Live>,
    connections: u32,
    next_sub: u64,
}

impl Player<'_> {
    fn slot(&self, slot: u8) -> usize {
        usize::from(slot) % self.script.clients.len().max(1)
    }

    /// The latest live connection of `slot`.
    fn live_of(&mut self, slot: u8) -> Option<&mut Live> {
        let slot = self.slot(slot);
        self.live.iter_mut().rev().find(|l| l.slot == slot)
    }

    /// The uid of `slot`, as the fuzz target renders it.
    fn uid(&self, slot: usize) -> Text {
        let spec = &self.script.clients[slot];
        Text::new(spec.uid.render(|n| format!("u{}", n % 4)))
    }

    /// Opens a connection for `slot` without sending anything.
    fn open(&mut self, slot: usize) -> Option<usize> {
        let spec = self.script.clients.get(slot)?;
        let tls = if spec.tls13 {
            &self.tls.tls13
        } else {
            &self.tls.tls12
        };
        let mut secret = [0u8; 32];
        secret[0] = u8::try_from(slot).unwrap_or(0).wrapping_add(1);
        secret[31] = 0x40;
        self.connections = self.connections.saturating_add(1);
        let peer = Peer::open(self.dialer, Some(tls), spec.version, secret).ok()?;
        self.live.push(Live {
            slot,
            peer,
            received: Vec::new(),
        });
        Some(self.live.len() - 1)
    }

    /// Opens a connection for `slot` and logs in with `key` as device flag `device`.
    fn connect(&mut self, slot: usize, key: &KeyChoice, device: u8) {
        let Some(i) = self.open(slot) else {
            return;
        };
        let uid = self.uid(slot);
        let spec = &self.script.clients[slot];
        let token = Text::new(spec.token.render(|_| "token".into()));
        let device_of = uid.as_str().unwrap_or("u").to_owned();
        let device_id = Text::new(spec.device_id.render(|_| format!("{device_of}-device")));
        let names = ConnectNames {
            uid: &uid,
            token: &token,
            device_id: &device_id,
        };
        let live = &mut self.live[i];
        let bytes = frames::connect(&live.peer.wk, &names, device, key);
        if live.peer.conn.write(Layer::App, &bytes).is_ok() {
            // Refused or not, the conversation goes on as the script says.
            let _ = live.peer.await_connack(self.settle);
        }
    }

    fn apply(&mut self, action: &Action) {
        match action {
            Action::Connect { slot, key } => {
                let slot = self.slot(*slot);
                self.connect(slot, key, self.script.clients[slot].device);
            }
            Action::Device { slot, other } => {
                let slot = self.slot(*slot);
                let device = self.script.clients[slot].other_device(*other);
                self.connect(slot, &KeyChoice::Valid, device);
            }
            Action::Open { slot } => {
                let slot = self.slot(*slot);
                self.open(slot);
            }
            Action::Send {
                slot,
                to,
                body,
                damage,
                msg_no,
                setting,
                copies,
            } => {
                let person = |n: u8| format!("u{}", n % 4);
                let (channel, ty) = match to {
                    Dest::Slot(k) => (self.uid(self.slot(*k)), ChannelType::PERSON),
                    Dest::Person(name) => (Text::new(name.render(person)), ChannelType::PERSON),
                    Dest::Group(k) => (self.group(*k), ChannelType::GROUP),
                    Dest::Typed { ty, name } => (Text::new(name.render(person)), ChannelType(*ty)),
                };
                let msg_no = match msg_no {
                    crate::gen::names::Name::Pool(_) => None,
                    other => Some(Text::new(other.render(|_| String::new()))),
                };
                let plain = payload(body);
                let Some(live) = self.live_of(*slot) else {
                    return;
                };
                let spec = SendSpec {
                    channel: &channel,
                    ty,
                    plain: &plain,
                    damage: *damage,
                    msg_no: msg_no.as_ref(),
                    setting: *setting,
                    // The live server's limit is its own: every SEND is built in full.
                    frame_limit: usize::MAX,
                };
                // Copies are built one by one (each has its own client seq) and written
                // together.
                let mut bytes = Vec::new();
                for _ in 0..(*copies).max(1) {
                    if let Some(built) = frames::send(&mut live.peer.wk, &spec) {
                        bytes.extend_from_slice(&built.bytes);
                    }
                }
                let _ = live.peer.conn.write(Layer::App, &bytes);
            }
            Action::Ack { slot, nth } => {
                let Some(live) = self.live_of(*slot) else {
                    return;
                };
                let (id, seq) = live
                    .received
                    .get(usize::from(*nth) % live.received.len().max(1))
                    .map_or((i64::from(*nth), 0), |r| (r.message_id, r.message_seq));
                let bytes = frames::recvack(&live.peer.wk, id, seq);
                let _ = live.peer.conn.write(Layer::App, &bytes);
            }
            Action::AckBogus { slot, id, seq } => {
                if let Some(live) = self.live_of(*slot) {
                    let bytes = frames::recvack(&live.peer.wk, i64::from(*id), u64::from(*seq));
                    let _ = live.peer.conn.write(Layer::App, &bytes);
                }
            }
            Action::Ping { slot } => self.write(*slot, &[0x70]),
            Action::Sub {
                slot,
                group,
                action,
                ty,
                sub_no,
            } => {
                let channel = self.group(*group);
                let n = self.next_sub;
                self.next_sub += 1;
                let sub_no = Text::new(sub_no.render(|_| format!("s{n}")));
                if let Some(live) = self.live_of(*slot) {
                    let bytes = frames::sub(&live.peer.wk, &channel, &sub_no, *ty, *action);
                    let _ = live.peer.conn.write(Layer::App, &bytes);
                }
            }
            Action::Packet { slot, kind } => {
                if let Some(live) = self.live_of(*slot) {
                    let bytes = frames::packet(&live.peer.wk, *kind);
                    let _ = live.peer.conn.write(Layer::App, &bytes);
                }
            }
            Action::Disconnect { slot } => {
                if let Some(live) = self.live_of(*slot) {
                    let bytes = frames::packet(&live.peer.wk, 9);
                    let _ = live.peer.conn.write(Layer::App, &bytes);
                }
            }
            Action::Raw { slot, bytes } => self.write(*slot, bytes),
            Action::Close { slot, how } => match how {
                CloseHow::Polite => {
                    if let Some(live) = self.live_of(*slot) {
                        let _ = live.peer.conn.close_notify();
                    }
                }
                CloseHow::Abrupt => {
                    let slot = self.slot(*slot);
                    if let Some(i) = self.live.iter().rposition(|l| l.slot == slot) {
                        self.live.remove(i).peer.conn.abort();
                    }
                }
                CloseHow::KeyUpdate => {
                    if let Some(live) = self.live_of(*slot) {
                        let _ = live.peer.conn.key_update();
                    }
                }
            },
            Action::Advance { .. } => {}
        }
    }

    /// The script's group `k`, as the fuzz target renders it.
    fn group(&self, k: u8) -> Text {
        let groups = &self.script.groups;
        let name = &groups[usize::from(k) % groups.len()];
        Text::new(name.render(|n| format!("g{}", n % 3)))
    }

    /// Writes application bytes on `slot`'s latest connection.
    fn write(&mut self, slot: u8, bytes: &[u8]) {
        if let Some(live) = self.live_of(slot) {
            let _ = live.peer.conn.write(Layer::App, bytes);
        }
    }

    /// Takes what has arrived on every live connection: RECVs are kept (and acked by
    /// `Ack` actions); a connection the server closed is dropped.
    fn take_frames(&mut self) {
        self.live.retain_mut(|live| match live.peer.poll() {
            Ok(frames) => {
                for f in frames {
                    if let crate::proto::Packet::Recv(r) = f.packet {
                        live.received.push(r);
                    }
                }
                true
            }
            Err(_) => false,
        });
    }
}

/// A SEND's plaintext: the script's text, or a generated payload of the chosen size (for
/// `Fit`, about the largest a frame carries).
fn payload(body: &Body) -> Vec<u8> {
    let n = match body {
        Body::Text(t) => return t.clone(),
        Body::Sized(k) => SIZES[usize::from(*k) % SIZES.len()] as usize,
        Body::Fit(delta) => (DEFAULT_MAX_FRAME / 4 * 3)
            .saturating_sub(256)
            .saturating_add_signed(isize::from(*delta)),
    };
    (0..n).map(|i| (i % 251) as u8).collect()
}
