//! A message the hub accepted: stored once, shared by every recipient's queue.

use crate::proto::{ChannelType, Setting};

/// Identity of a channel for sequence numbering. A person channel is the unordered pair of
/// its two users, so both directions share one sequence.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChannelKey {
    /// Two uids, smaller first.
    Person(String, String),
    /// A group id.
    Group(String),
}

impl ChannelKey {
    /// The key for a person channel between `a` and `b`.
    pub fn person(a: &str, b: &str) -> ChannelKey {
        if a <= b {
            ChannelKey::Person(a.to_owned(), b.to_owned())
        } else {
            ChannelKey::Person(b.to_owned(), a.to_owned())
        }
    }
}

/// An accepted message, with its plaintext payload: each recipient's session encrypts it
/// with that recipient's own key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// Hub-wide, strictly increasing, starting at 1.
    pub message_id: i64,
    /// Per channel, strictly increasing, starting at 1.
    pub message_seq: u64,
    /// Sender.
    pub from_uid: String,
    /// The channel id the sender addressed (a uid for person, a group id for group).
    pub channel_id: String,
    /// Person or Group.
    pub channel_type: ChannelType,
    /// Sender's ClientMsgNo.
    pub client_msg_no: String,
    /// Sender's setting byte (Stream bit cleared: the reference server does not stream).
    pub setting: Setting,
    /// Expire seconds (0 = never).
    pub expire: u32,
    /// Topic, if the sender gave one.
    pub topic: Option<String>,
    /// Server time of acceptance, unix seconds.
    pub timestamp: i32,
    /// Plaintext.
    pub payload: Vec<u8>,
}

impl Message {
    /// The channel id as `recipient` sees it: for a person channel, the other party.
    pub fn channel_id_for(&self, recipient: &str) -> &str {
        if self.channel_type == ChannelType::PERSON && recipient != self.from_uid {
            &self.from_uid
        } else {
            &self.channel_id
        }
    }
}
