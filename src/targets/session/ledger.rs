//! The delivery oracle: what the hub must do with accepted messages, written from the
//! documented behaviour alone (README "What the server does"), never from the hub's state.
//!
//! - A message accepted with SENDACK Success waits in the queue of every recipient uid
//!   until a connection of that uid acknowledges it.
//! - It goes at once to every connection of a recipient uid that is logged in (but the
//!   sending connection), and, to a connection that logs in later, as part of its backlog:
//!   everything still waiting for its uid at login.
//! - So a connection may receive exactly what was waiting at its login or accepted while it
//!   was logged in ([`Ledger::login`], [`Ledger::accepted`]), each at most once; and one that
//!   is still open at the end must have received all of it.
//!
//! An acknowledgement counts once the server has certainly read it (the connection's input
//! was all consumed); one that may have been lost in a closing connection makes the message
//! "maybe waiting": a later login may or may not get it.

use std::collections::{BTreeMap, BTreeSet};

/// What the oracle knows of one accepted message.
#[derive(Debug)]
pub(super) struct Accepted {
    /// The sender's uid.
    pub(super) from: String,
    /// The channel id the sender used.
    pub(super) channel: String,
    /// Its sequence in the channel (as the SENDACK or a RECV told it).
    pub(super) seq: u64,
    /// Whether it went to a person channel (recipients see the sender's uid as channel).
    pub(super) person: bool,
    /// uids it is for.
    pub(super) recipients: BTreeSet<String>,
    /// The plaintext a recipient must read (`None`: unknown).
    pub(super) content: Option<Vec<u8>>,
}

/// Accepted messages and the queues they wait in.
#[derive(Debug, Default)]
pub(super) struct Ledger {
    messages: BTreeMap<i64, Accepted>,
    /// Per uid: accepted, not acknowledged.
    waiting: BTreeMap<String, BTreeSet<i64>>,
    /// Per uid: acknowledged by a connection that closed before we knew the server read it.
    maybe_waiting: BTreeMap<String, BTreeSet<i64>>,
}

/// What a connection may and must receive.
#[derive(Debug, Default)]
pub(super) struct Expected {
    /// May receive (each once).
    pub(super) may: BTreeSet<i64>,
    /// Must have received by the end if still open.
    pub(super) must: BTreeSet<i64>,
}

impl Ledger {
    /// Records message `id`; returns whether the id is new (an id must never repeat).
    pub(super) fn accepted(&mut self, id: i64, message: Accepted) -> bool {
        for uid in &message.recipients {
            self.waiting.entry(uid.clone()).or_default().insert(id);
        }
        self.messages.insert(id, message).is_none()
    }

    /// The message `id`, if it was accepted.
    pub(super) fn get(&self, id: i64) -> Option<&Accepted> {
        self.messages.get(&id)
    }

    /// The most recently accepted message id.
    pub(super) fn last_id(&self) -> Option<i64> {
        self.messages.keys().next_back().copied()
    }

    /// The newest message waiting for some user other than `uid` and not for `uid`: its id
    /// and sequence (a RECVACK of it from `uid` must acknowledge nothing).
    pub(super) fn waiting_elsewhere(&self, uid: &str) -> Option<(i64, u64)> {
        let mine = self.waiting.get(uid);
        self.waiting
            .iter()
            .filter(|(other, _)| other.as_str() != uid)
            .flat_map(|(_, ids)| ids.iter().copied())
            .filter(|id| mine.is_none_or(|m| !m.contains(id)))
            .max()
            .and_then(|id| Some((id, self.messages.get(&id)?.seq)))
    }

    /// Messages accepted so far.
    pub(super) fn len(&self) -> usize {
        self.messages.len()
    }

    /// What a connection of `uid` that logs in now gets as backlog.
    pub(super) fn login(&self, uid: &str) -> Expected {
        let must = self.waiting.get(uid).cloned().unwrap_or_default();
        let mut may = must.clone();
        may.extend(self.maybe_waiting.get(uid).into_iter().flatten());
        Expected { may, must }
    }

    /// Whether anything waits (or may wait) for `uid`: what [`Ledger::login`] would return
    /// is not empty.
    pub(super) fn waits_for(&self, uid: &str) -> bool {
        let any = |m: &BTreeMap<String, BTreeSet<i64>>| m.get(uid).is_some_and(|w| !w.is_empty());
        any(&self.waiting) || any(&self.maybe_waiting)
    }

    /// A connection of `uid` acknowledged `id`, and the server certainly read it.
    pub(super) fn acked(&mut self, uid: &str, id: i64) {
        if let Some(w) = self.waiting.get_mut(uid) {
            w.remove(&id);
        }
        if let Some(w) = self.maybe_waiting.get_mut(uid) {
            w.remove(&id);
        }
    }

    /// A connection of `uid` sent an acknowledgement of `id` the server may not have read.
    pub(super) fn maybe_acked(&mut self, uid: &str, id: i64) {
        if self.waiting.get_mut(uid).is_some_and(|w| w.remove(&id)) {
            self.maybe_waiting
                .entry(uid.to_owned())
                .or_default()
                .insert(id);
        }
    }
}
