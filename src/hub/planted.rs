//! The hub's side of the second planted-bug set (feature `planted-bugs` only; the buggy
//! decisions are in [`crate::planted::deep`]): the state those bugs keep (each connection's
//! in-flight deliveries, the devices a user joined each group from) and the hub methods the
//! one-line hooks in `hub/mod.rs` call. With no bug of the set switched on, every method
//! here does exactly what the hub does without the feature.

use super::{ConnId, Hub, Message, Outgoing};
use crate::planted::{deep, enabled, Bug};
use crate::proto::{ChannelType, DeviceFlag};
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;

/// What the second set's bugs remember.
#[derive(Debug, Default)]
pub(super) struct State {
    /// KICK-ACK: per connection, the messages it was delivered, oldest first, trimmed from
    /// the front on each acknowledgement.
    in_flight: BTreeMap<ConnId, VecDeque<Arc<Message>>>,
    /// KICK-ACK: connections that took over from an older one (only they hand over).
    took_over: BTreeSet<ConnId>,
    /// SUB-2DEV: per (group, uid), the device flags the user joined from.
    joined_from: BTreeMap<(String, String), BTreeSet<u8>>,
    /// NAME-CUT: (uid, message id) pairs some connection of the uid was written.
    shown: BTreeSet<(String, i64)>,
}

impl Hub {
    /// KICK-ACK: `conn` is about to be written `item`.
    pub(super) fn planted_delivered(&mut self, conn: ConnId, item: &Outgoing) {
        if let Outgoing::Deliver(msg) = item {
            if enabled(Bug::KickAck) {
                let list = self.planted.in_flight.entry(conn).or_default();
                list.push_back(msg.clone());
            }
            if enabled(Bug::NameCut) {
                if let Some(uid) = self.uid_of(conn).map(str::to_owned) {
                    self.planted.shown.insert((uid, msg.message_id));
                }
            }
        }
    }

    /// [`Hub::recvack`] as the session calls it with the feature: RECVACK `message_id`,
    /// `message_seq` from `conn`. ACK-OTHER picks the queue, KICK-ACK trims the in-flight
    /// list. Returns whether the id was pending (in the queue acted on).
    pub fn recvack_planted(&mut self, conn: ConnId, message_id: i64, message_seq: u64) -> bool {
        let Some(uid) = self.uid_of(conn).map(str::to_owned) else {
            return false;
        };
        let mut queue = uid.clone();
        if enabled(Bug::AckOther) && !self.pending.iter(&uid).any(|m| m.message_id == message_id) {
            let holder = self.pending.holder_of(message_id, message_seq);
            if let Some(holder) = deep::ack_other(&uid, holder) {
                queue = holder.to_owned();
            }
        }
        let acked = self.pending.ack(&queue, message_id);
        if acked && enabled(Bug::KickAck) {
            if let Some(list) = self.planted.in_flight.get_mut(&conn) {
                deep::kick_ack_trim(list);
            }
        }
        acked
    }

    /// At `conn`'s login as `uid` (after any kick of `kicked`), given the backlog: what to
    /// queue to it. NAME-CUT logs the backlog's group messages no connection of the uid was
    /// shown (sent while it was offline); LOGIN-2DEV may drop the backlog; KICK-ACK appends
    /// the kicked connection's in-flight messages the backlog lacks, when the kicked one had
    /// itself taken over from an older connection.
    pub(super) fn planted_login(
        &mut self,
        conn: ConnId,
        uid: &str,
        kicked: Option<ConnId>,
        backlog: Vec<Arc<Message>>,
    ) -> Vec<Arc<Message>> {
        let mut out = backlog;
        if enabled(Bug::NameCut) {
            let unseen =
                |m: &&Arc<Message>| !self.planted.shown.contains(&(uid.to_owned(), m.message_id));
            for msg in out
                .iter()
                .filter(|m| m.channel_type == ChannelType::GROUP)
                .filter(unseen)
            {
                deep::name_cut_log(&msg.channel_id);
            }
        }
        if enabled(Bug::Login2Dev) {
            let others = self
                .online
                .get(uid)
                .map_or(0, |set| set.iter().filter(|c| **c != conn).count());
            if deep::login_2dev_skip(others, out.len()) {
                out.clear();
            }
        }
        if let Some(old) = kicked.filter(|_| enabled(Bug::KickAck)) {
            self.planted.took_over.insert(conn);
            let waiting: Vec<i64> = self.pending.iter(uid).map(|m| m.message_id).collect();
            let old_list = self.planted.in_flight.remove(&old).unwrap_or_default();
            let old_list = if self.planted.took_over.remove(&old) {
                old_list
            } else {
                VecDeque::new()
            };
            out.extend(deep::kick_ack_handover(
                &old_list,
                |m| m.message_id,
                &waiting,
            ));
        }
        out
    }

    /// SUB-2DEV: `conn` sent SUB `action` for `group`, and it took effect (`done`).
    pub(super) fn planted_subscribed(&mut self, conn: ConnId, group: &str, action: u8, done: bool) {
        if !enabled(Bug::Sub2Dev) || !done {
            return;
        }
        let Some((uid, DeviceFlag(device))) = self.conns.get(&conn).and_then(|c| c.user.clone())
        else {
            return;
        };
        let key = (group.to_owned(), uid);
        if action == 0 {
            self.planted
                .joined_from
                .entry(key)
                .or_default()
                .insert(device);
        } else {
            self.planted.joined_from.remove(&key);
        }
    }

    /// SUB-2DEV: the recipients of a message to `group`.
    pub(super) fn planted_recipients(&self, group: &str, recipients: Vec<String>) -> Vec<String> {
        if !enabled(Bug::Sub2Dev) {
            return recipients;
        }
        let devices = |uid: &str| {
            self.planted
                .joined_from
                .get(&(group.to_owned(), uid.to_owned()))
                .map_or(1, BTreeSet::len)
        };
        deep::sub_2dev_recipients(recipients, devices)
    }

    /// `conn` is gone.
    pub(super) fn planted_closed(&mut self, conn: ConnId) {
        self.planted.in_flight.remove(&conn);
        self.planted.took_over.remove(&conn);
    }
}
