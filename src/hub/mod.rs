//! The hub: who is online, group membership, message ids and sequences, and the queues that
//! carry deliveries to connections. Pure data, no I/O: the tokio shell keeps it behind a std
//! `Mutex` (never held across an `.await`), fuzz targets own it directly.
//!
//! Call order for one connection: [`Hub::open`] when the transport is up, [`Hub::login`]
//! after a valid CONNECT, then any of [`Hub::send`], [`Hub::recvack`], [`Hub::subscribe`];
//! [`Hub::poll_outgoing`] to drain what must be written to it; [`Hub::close`] exactly once
//! at the end. After each call the caller wakes the connections in [`Hub::take_woken`].

mod config;
mod error;
mod groups;
mod message;
mod pending;
#[cfg(feature = "planted-bugs")]
mod planted;

pub use config::HubConfig;
pub use error::{AuthError, SendError, SubError};
pub use message::{ChannelKey, Message};
pub use pending::QueueFull;

use crate::clock::Time;
use crate::proto::{ChannelType, DeviceFlag, Setting};
use groups::Groups;
use pending::PendingQueues;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// A connection's id, unique for the hub's lifetime.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ConnId(pub u64);

impl std::fmt::Display for ConnId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "c{}", self.0)
    }
}

/// Something the hub wants written to a connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outgoing {
    /// Deliver this message as a RECV.
    Deliver(Arc<Message>),
    /// A newer login with the same uid and device flag took over: DISCONNECT 12 and close.
    Kicked,
}

/// What the hub knows of one open connection.
#[derive(Debug)]
struct Conn {
    /// Set by `login`.
    user: Option<(String, DeviceFlag)>,
    /// Deliveries not yet taken by the connection (invariant: len <= max_outbox).
    outbox: VecDeque<Outgoing>,
    /// The outbox hit its bound: the connection must close as a slow reader.
    overflowed: bool,
}

/// A SEND the session has verified and decrypted.
#[derive(Clone, Debug)]
pub struct SendRequest {
    /// Destination channel.
    pub channel_id: String,
    /// Destination channel type.
    pub channel_type: ChannelType,
    /// Sender's ClientMsgNo.
    pub client_msg_no: String,
    /// Sender's setting byte.
    pub setting: Setting,
    /// Expire seconds.
    pub expire: u32,
    /// Optional topic.
    pub topic: Option<String>,
    /// Plaintext payload.
    pub payload: Vec<u8>,
}

/// Where an accepted message was put.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Accepted {
    /// The assigned id.
    pub message_id: i64,
    /// The assigned per-channel sequence.
    pub message_seq: u64,
}

/// The shared state of all connections.
#[derive(Debug)]
pub struct Hub {
    config: HubConfig,
    /// Source of every per-connection seed.
    rng: ChaCha20Rng,
    next_conn: u64,
    /// Last assigned message id (ids start at 1).
    last_message_id: i64,
    conns: BTreeMap<ConnId, Conn>,
    /// uid -> logged-in connections.
    online: BTreeMap<String, BTreeSet<ConnId>>,
    /// Last assigned sequence per channel.
    seqs: BTreeMap<ChannelKey, u64>,
    groups: Groups,
    pending: PendingQueues,
    /// Connections whose outbox gained something since the last `take_woken`.
    woken: BTreeSet<ConnId>,
    /// What the second planted-bug set remembers.
    #[cfg(feature = "planted-bugs")]
    planted: planted::State,
}

impl Hub {
    /// A hub with the given settings.
    pub fn new(mut config: HubConfig) -> Hub {
        // A login queues the whole backlog at once: the outbox must hold it.
        config.max_outbox = config
            .max_outbox
            .max(config.max_pending_per_user.saturating_add(1));
        let groups = Groups::new(&config);
        Hub {
            rng: ChaCha20Rng::from_seed(config.seed),
            next_conn: 1,
            last_message_id: 0,
            conns: BTreeMap::new(),
            online: BTreeMap::new(),
            seqs: BTreeMap::new(),
            pending: PendingQueues::new(config.max_pending_per_user, config.max_pending_bytes),
            groups,
            woken: BTreeSet::new(),
            #[cfg(feature = "planted-bugs")]
            planted: planted::State::default(),
            config,
        }
    }

    /// The settings.
    pub fn config(&self) -> &HubConfig {
        &self.config
    }

    /// Registers a new transport connection; returns its id and the seed for its RNG.
    pub fn open(&mut self) -> (ConnId, [u8; 32]) {
        let id = ConnId(self.next_conn);
        self.next_conn = self.next_conn.saturating_add(1);
        let mut seed = [0u8; 32];
        self.rng.fill_bytes(&mut seed);
        self.conns.insert(
            id,
            Conn {
                user: None,
                outbox: VecDeque::new(),
                overflowed: false,
            },
        );
        (id, seed)
    }

    /// Checks a CONNECT's token against the auth table (any token when auth is off).
    ///
    /// # Errors
    /// [`AuthError`]: an empty uid, or a token that is not the uid's.
    pub fn authenticate(&self, uid: &str, token: &str) -> Result<(), AuthError> {
        if uid.is_empty() {
            return Err(AuthError::EmptyUid);
        }
        match &self.config.tokens {
            None => Ok(()),
            Some(table) => match table.get(uid) {
                Some(expected) if bool::from(expected.as_bytes().ct_eq(token.as_bytes())) => Ok(()),
                _ => Err(AuthError::WrongToken),
            },
        }
    }

    /// Marks `conn` logged in as (uid, device). An older connection with the same uid and
    /// device flag is kicked (returned). Everything pending for the uid is queued to `conn`.
    pub fn login(&mut self, conn: ConnId, uid: &str, device: DeviceFlag) -> Option<ConnId> {
        let kicked = self.online.get(uid).and_then(|set| {
            set.iter().copied().find(|c| {
                *c != conn
                    && self
                        .conns
                        .get(c)
                        .and_then(|x| x.user.as_ref())
                        .is_some_and(|(_, d)| *d == device)
            })
        });
        if let Some(old) = kicked {
            self.go_offline(old);
            self.enqueue(old, Outgoing::Kicked);
        }
        if let Some(c) = self.conns.get_mut(&conn) {
            c.user = Some((uid.to_owned(), device));
        } else {
            return kicked;
        }
        self.online.entry(uid.to_owned()).or_default().insert(conn);
        let backlog: Vec<Arc<Message>> = self.pending.iter(uid).cloned().collect();
        #[cfg(feature = "planted-bugs")]
        let backlog = self.planted_login(conn, uid, kicked, backlog);
        for msg in backlog {
            self.enqueue(conn, Outgoing::Deliver(msg));
        }
        kicked
    }

    /// Accepts a message from `conn` (must be logged in), assigns its id and sequence, and
    /// queues it for every recipient.
    ///
    /// # Errors
    /// [`SendError`]: why the message was not accepted (nothing was queued).
    pub fn send(
        &mut self,
        conn: ConnId,
        req: SendRequest,
        now: Time,
    ) -> Result<Accepted, SendError> {
        let from = self
            .uid_of(conn)
            .ok_or(SendError::SenderOffline)?
            .to_owned();
        if req.channel_id.is_empty() {
            return Err(SendError::EmptyChannelId);
        }
        let (key, recipients): (ChannelKey, Vec<String>) = match req.channel_type {
            ChannelType::PERSON => (
                ChannelKey::person(&from, &req.channel_id),
                vec![req.channel_id.clone()],
            ),
            ChannelType::GROUP => {
                let members = self.groups.members(&req.channel_id);
                let Some(members) = members else {
                    return Err(SendError::NoSuchGroup);
                };
                if !members.contains(&from) {
                    return Err(SendError::NotAMember);
                }
                let others = members.iter().filter(|m| **m != from).cloned().collect();
                #[cfg(feature = "planted-bugs")]
                let others = self.planted_recipients(&req.channel_id, others);
                (ChannelKey::Group(req.channel_id.clone()), others)
            }
            other => return Err(SendError::UnsupportedChannelType(other)),
        };
        // Nothing accepted is ever dropped: refuse up front if any queue is full.
        self.pending
            .check_room(recipients.iter().map(String::as_str), req.payload.len())
            .map_err(|_| SendError::QueueFull)?;
        let message_id = self
            .last_message_id
            .checked_add(1)
            .ok_or(SendError::MessageIdsExhausted)?;
        let last_seq = self.seqs.get(&key).copied().unwrap_or(0);
        let message_seq = last_seq.checked_add(1).ok_or(SendError::SeqExhausted)?;
        self.last_message_id = message_id;
        self.seqs.insert(key, message_seq);

        let msg = Arc::new(Message {
            message_id,
            message_seq,
            from_uid: from,
            channel_id: req.channel_id,
            channel_type: req.channel_type,
            client_msg_no: req.client_msg_no,
            setting: Setting(req.setting.0 & !Setting::STREAM),
            expire: req.expire,
            topic: req.topic,
            timestamp: now.unix_secs_i32(),
            payload: req.payload,
        });
        for uid in &recipients {
            // check_room above guarantees room.
            if self.pending.push(uid, msg.clone()).is_err() {
                tracing::error!(uid, "pending queue full after room check");
                continue;
            }
            let targets: Vec<ConnId> = self
                .online
                .get(uid)
                .map(|s| s.iter().copied().filter(|c| *c != conn).collect())
                .unwrap_or_default();
            for target in targets {
                self.enqueue(target, Outgoing::Deliver(msg.clone()));
            }
        }
        Ok(Accepted {
            message_id,
            message_seq,
        })
    }

    /// RECVACK from `conn`: the message is delivered and leaves its user's queue.
    /// Returns whether it was pending.
    pub fn recvack(&mut self, conn: ConnId, message_id: i64) -> bool {
        match self.uid_of(conn).map(str::to_owned) {
            Some(uid) => self.pending.ack(&uid, message_id),
            None => false,
        }
    }

    /// SUB: action 0 joins `conn`'s user to group `channel_id` (creating it), 1 leaves.
    ///
    /// # Errors
    /// [`SubError`]: why nothing changed.
    pub fn subscribe(
        &mut self,
        conn: ConnId,
        channel_id: &str,
        channel_type: ChannelType,
        action: u8,
    ) -> Result<(), SubError> {
        let Some(uid) = self.uid_of(conn).map(str::to_owned) else {
            return Err(SubError::SenderOffline);
        };
        if channel_type != ChannelType::GROUP {
            return Err(SubError::UnsupportedChannelType(channel_type));
        }
        if channel_id.is_empty() {
            return Err(SubError::EmptyChannelId);
        }
        let reason = match action {
            0 => self.groups.join(channel_id, &uid),
            1 => self.groups.leave(channel_id, &uid),
            other => Err(SubError::UnknownAction(other)),
        };
        #[cfg(feature = "planted-bugs")]
        self.planted_subscribed(conn, channel_id, action, reason.is_ok());
        reason
    }

    /// Takes the next thing to write to `conn`.
    pub fn poll_outgoing(&mut self, conn: ConnId) -> Option<Outgoing> {
        let item = self.conns.get_mut(&conn).and_then(|c| c.outbox.pop_front());
        #[cfg(feature = "planted-bugs")]
        if let Some(item) = &item {
            self.planted_delivered(conn, item);
        }
        item
    }

    /// Whether `conn`'s outbox overflowed (it must close as a slow reader).
    pub fn is_overflowed(&self, conn: ConnId) -> bool {
        self.conns.get(&conn).is_some_and(|c| c.overflowed)
    }

    /// Forgets `conn`. What it was sent but did not acknowledge stays pending for its uid.
    pub fn close(&mut self, conn: ConnId) {
        #[cfg(feature = "planted-bugs")]
        self.planted_closed(conn);
        self.go_offline(conn);
        self.conns.remove(&conn);
        self.woken.remove(&conn);
    }

    /// Connections that have new outgoing items since the last call.
    pub fn take_woken(&mut self) -> Vec<ConnId> {
        std::mem::take(&mut self.woken).into_iter().collect()
    }

    /// The uid `conn` is logged in as.
    pub fn uid_of(&self, conn: ConnId) -> Option<&str> {
        self.conns
            .get(&conn)?
            .user
            .as_ref()
            .map(|(u, _)| u.as_str())
    }

    /// Logged-in connections of `uid`.
    pub fn online_connections(&self, uid: &str) -> Vec<ConnId> {
        self.online
            .get(uid)
            .map(|s| s.iter().copied().collect())
            .unwrap_or_default()
    }

    /// Number of open connections.
    pub fn connection_count(&self) -> usize {
        self.conns.len()
    }

    /// Messages waiting for `uid`'s acknowledgement.
    pub fn pending_count(&self, uid: &str) -> usize {
        self.pending.len(uid)
    }

    /// Members of a group, if it exists.
    pub fn group_members(&self, group: &str) -> Option<&BTreeSet<String>> {
        self.groups.members(group)
    }

    fn go_offline(&mut self, conn: ConnId) {
        let Some(uid) = self
            .conns
            .get_mut(&conn)
            .and_then(|c| c.user.take())
            .map(|(u, _)| u)
        else {
            return;
        };
        if let Some(set) = self.online.get_mut(&uid) {
            set.remove(&conn);
            if set.is_empty() {
                self.online.remove(&uid);
            }
        }
    }

    fn enqueue(&mut self, conn: ConnId, item: Outgoing) {
        let max = self.config.max_outbox;
        let Some(c) = self.conns.get_mut(&conn) else {
            return;
        };
        if c.overflowed {
            return;
        }
        if c.outbox.len() >= max && item != Outgoing::Kicked {
            c.overflowed = true;
            c.outbox.clear();
        } else {
            c.outbox.push_back(item);
        }
        self.woken.insert(conn);
    }
}

#[cfg(test)]
mod tests;
