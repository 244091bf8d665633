//! Per-user queues of messages not yet acknowledged: the offline queue and the unacked RECVs
//! in one, bounded per user and in total bytes.

use super::message::Message;
use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

/// Why a message could not be queued for a user.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueueFull {
    /// The user already has `max_pending_per_user` messages waiting.
    User,
    /// All queues together hold `max_pending_bytes`.
    Bytes,
}

/// Messages waiting for an acknowledgement, per uid.
#[derive(Debug, Default)]
pub(super) struct PendingQueues {
    by_uid: BTreeMap<String, VecDeque<Arc<Message>>>,
    /// Sum of payload lengths of every queued entry (invariant: <= max_bytes).
    bytes: usize,
    max_per_user: usize,
    max_bytes: usize,
}

impl PendingQueues {
    /// Empty queues with the given bounds.
    pub(super) fn new(max_per_user: usize, max_bytes: usize) -> PendingQueues {
        PendingQueues {
            by_uid: BTreeMap::new(),
            bytes: 0,
            max_per_user,
            max_bytes,
        }
    }

    /// Whether `msg` could be queued for each of `uids` right now.
    pub(super) fn check_room<'a>(
        &self,
        uids: impl IntoIterator<Item = &'a str>,
        msg_len: usize,
    ) -> Result<(), QueueFull> {
        let mut need = 0usize;
        for uid in uids {
            if self.len(uid) >= self.max_per_user {
                return Err(QueueFull::User);
            }
            need = need.saturating_add(msg_len);
        }
        if self.bytes.saturating_add(need) > self.max_bytes {
            return Err(QueueFull::Bytes);
        }
        Ok(())
    }

    /// Queues `msg` for `uid`.
    pub(super) fn push(&mut self, uid: &str, msg: Arc<Message>) -> Result<(), QueueFull> {
        self.check_room([uid], msg.payload.len())?;
        self.bytes = self.bytes.saturating_add(msg.payload.len());
        self.by_uid
            .entry(uid.to_owned())
            .or_default()
            .push_back(msg);
        Ok(())
    }

    /// Removes `message_id` from `uid`'s queue; returns whether it was there.
    pub(super) fn ack(&mut self, uid: &str, message_id: i64) -> bool {
        let Some(queue) = self.by_uid.get_mut(uid) else {
            return false;
        };
        let Some(pos) = queue.iter().position(|m| m.message_id == message_id) else {
            return false;
        };
        if let Some(m) = queue.remove(pos) {
            self.bytes = self.bytes.saturating_sub(m.payload.len());
        }
        if queue.is_empty() {
            self.by_uid.remove(uid);
        }
        true
    }

    /// The messages waiting for `uid`, oldest first.
    pub(super) fn iter(&self, uid: &str) -> impl Iterator<Item = &Arc<Message>> {
        self.by_uid.get(uid).into_iter().flatten()
    }

    /// The first uid (in uid order) whose queue holds the message `message_id` with
    /// sequence `message_seq` (the planted ACK-OTHER bug's lookup).
    #[cfg(feature = "planted-bugs")]
    pub(super) fn holder_of(&self, message_id: i64, message_seq: u64) -> Option<&str> {
        self.by_uid
            .iter()
            .find(|(_, q)| {
                q.iter()
                    .any(|m| m.message_id == message_id && m.message_seq == message_seq)
            })
            .map(|(uid, _)| uid.as_str())
    }

    /// How many messages wait for `uid`.
    pub(super) fn len(&self, uid: &str) -> usize {
        self.by_uid.get(uid).map_or(0, VecDeque::len)
    }

    /// Payload bytes held in all queues.
    #[cfg(test)]
    pub(super) fn total_bytes(&self) -> usize {
        self.bytes
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::{ChannelType, Setting};

    fn msg(id: i64, len: usize) -> Arc<Message> {
        Arc::new(Message {
            message_id: id,
            message_seq: 1,
            from_uid: "a".into(),
            channel_id: "b".into(),
            channel_type: ChannelType::PERSON,
            client_msg_no: String::new(),
            setting: Setting::default(),
            expire: 0,
            topic: None,
            timestamp: 0,
            payload: vec![0; len],
        })
    }

    #[test]
    fn bounded_per_user_and_in_bytes() {
        let mut q = PendingQueues::new(2, 100);
        q.push("u", msg(1, 10)).unwrap();
        q.push("u", msg(2, 10)).unwrap();
        assert_eq!(q.push("u", msg(3, 10)), Err(QueueFull::User));
        assert_eq!(q.push("v", msg(4, 81)), Err(QueueFull::Bytes));
        q.push("v", msg(4, 80)).unwrap();
        assert_eq!(q.total_bytes(), 100);
        assert!(q.ack("u", 1));
        assert!(!q.ack("u", 1), "an id is acknowledged once");
        assert_eq!(q.total_bytes(), 90);
        assert_eq!(
            q.iter("u").map(|m| m.message_id).collect::<Vec<_>>(),
            vec![2]
        );
    }
}
