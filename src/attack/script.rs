//! An IM session script (the `session` generator's model, [`crate::gen::script`]) played
//! against a live server by real clients over sockets: each slot logs in with its spec's
//! ClientKey (valid or damaged), takes its keys from the server's CONNACK, and then the
//! actions run in order, each client answering what the server sends (a RECV is kept so a
//! later `Ack` acknowledges it).
//!
//! What cannot cross the wire is left out: `Advance` (the fuzz target's virtual clock)
//! does nothing here, and `Abrupt` shuts both directions (std cannot send a TCP reset).
//! The oracles are the attack's (the process, probes, witnesses); the player itself only
//! counts what it did.

use super::conn::Dialer;
use super::peer::Peer;
use crate::gen::script::{Action, Dest, Script, GROUPS, MAX_CLIENTS};
use crate::proto::{ChannelType, DeviceFlag, Frame, Packet, Recv, Recvack, Setting, Sub};
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
        player.connect(slot, None);
    }
    for action in &script.actions {
        player.apply(action);
        player.take_frames();
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

    fn connect(&mut self, slot: usize, key: Option<&crate::gen::script::KeyChoice>) {
        let Some(spec) = self.script.clients.get(slot) else {
            return;
        };
        let key = key.unwrap_or(&spec.key);
        let tls = if spec.tls13 {
            &self.tls.tls13
        } else {
            &self.tls.tls12
        };
        let mut secret = [0u8; 32];
        secret[0] = u8::try_from(slot).unwrap_or(0).wrapping_add(1);
        secret[31] = 0x40;
        self.connections = self.connections.saturating_add(1);
        let Ok(mut peer) = Peer::connect(
            self.dialer,
            Some(tls),
            &spec.uid(),
            spec.version,
            secret,
            DeviceFlag(spec.device % 3),
            |real| key.render(real),
        ) else {
            return;
        };
        // Refused or not, the conversation goes on as the script says.
        let _ = peer.await_connack(self.settle);
        self.live.push(Live {
            slot,
            peer,
            received: Vec::new(),
        });
    }

    fn apply(&mut self, action: &Action) {
        match action {
            Action::Connect { slot, key } => {
                let slot = self.slot(*slot);
                self.connect(slot, Some(key));
            }
            Action::Send {
                slot,
                to,
                text,
                damage,
            } => {
                let Some(live) = self.live_of(*slot) else {
                    return;
                };
                let (channel, ty) = match to {
                    Dest::Person(n) => (format!("u{}", usize::from(*n) % MAX_CLIENTS), ChannelType::PERSON),
                    Dest::Group(n) => (format!("g{}", n % GROUPS), ChannelType::GROUP),
                    Dest::Other(n) => ("x".to_owned(), ChannelType(3 + n % 10)),
                };
                let Some(cipher) = live.peer.wk.cipher().cloned() else {
                    return;
                };
                let Ok((mut frame, _)) = live.peer.wk.send(&channel, ty, text) else {
                    return;
                };
                if let Packet::Send(s) = &mut frame.packet {
                    damage.apply(s, text, &cipher);
                }
                let _ = live.peer.write_frame(&frame);
            }
            Action::Ack { slot, nth } => {
                let Some(live) = self.live_of(*slot) else {
                    return;
                };
                let ack = match live
                    .received
                    .get(usize::from(*nth) % live.received.len().max(1))
                {
                    Some(r) => crate::client::Client::recvack(r),
                    None => Frame::new(Packet::Recvack(Recvack {
                        message_id: i64::from(*nth),
                        message_seq: 0,
                    })),
                };
                let _ = live.peer.write_frame(&ack);
            }
            Action::Ping { slot } => {
                if let Some(live) = self.live_of(*slot) {
                    let _ = live.peer.write_frame(&Frame::new(Packet::Ping));
                }
            }
            Action::Sub { slot, group, leave } => {
                let sub_no = format!("s{}", self.next_sub);
                self.next_sub += 1;
                if let Some(live) = self.live_of(*slot) {
                    let sub = Sub {
                        setting: Setting::default(),
                        sub_no,
                        channel_id: format!("g{}", group % GROUPS),
                        channel_type: ChannelType::GROUP,
                        action: u8::from(*leave),
                        param: String::new(),
                    };
                    let _ = live.peer.write_frame(&Frame::new(Packet::Sub(sub)));
                }
            }
            Action::Raw { slot, bytes } => {
                if let Some(live) = self.live_of(*slot) {
                    let _ = live.peer.conn.write(super::case::Layer::App, bytes);
                }
            }
            Action::CloseNotify { slot } => {
                if let Some(live) = self.live_of(*slot) {
                    let _ = live.peer.conn.close_notify();
                }
            }
            Action::Abrupt { slot } => {
                let slot = self.slot(*slot);
                if let Some(i) = self.live.iter().rposition(|l| l.slot == slot) {
                    self.live.remove(i).peer.conn.abort();
                }
            }
            Action::KeyUpdate { slot } => {
                if let Some(live) = self.live_of(*slot) {
                    let _ = live.peer.conn.key_update();
                }
            }
            Action::Advance { .. } => {}
        }
    }

    /// Takes what has arrived on every live connection: RECVs are kept (and acked by
    /// `Ack` actions); a connection the server closed is dropped.
    fn take_frames(&mut self) {
        self.live.retain_mut(|live| match live.peer.poll() {
            Ok(frames) => {
                for f in frames {
                    if let Packet::Recv(r) = f.packet {
                        live.received.push(r);
                    }
                }
                true
            }
            Err(_) => false,
        });
    }
}
