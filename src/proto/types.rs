//! Small code types of wkproto (wkproto.md section 4). Each is a newtype over its wire byte
//! with named constants, so unknown codes decode and re-encode unchanged (round trip).

use arbitrary::Arbitrary;

macro_rules! code_type {
    ($(#[$doc:meta])* $name:ident { $($(#[$cdoc:meta])* $konst:ident = $val:expr),* $(,)? }) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord, Arbitrary)]
        pub struct $name(pub u8);
        impl $name {
            $(
                $(#[$cdoc])*
                #[doc = concat!("Wire code ", stringify!($val), ".")]
                pub const $konst: $name = $name($val);
            )*
            /// The constant's name, or `None` for a code this version does not name.
            pub fn name(self) -> Option<&'static str> {
                match self.0 {
                    $($val => Some(stringify!($konst)),)*
                    _ => None,
                }
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                match self.name() {
                    Some(n) => write!(f, "{}({})", n, self.0),
                    None => write!(f, "{}", self.0),
                }
            }
        }
    };
}

code_type! {
    /// Packet type: the high nibble of a frame's first byte. 0 and 13..=15 are invalid.
    PacketType {
        CONNECT = 1, CONNACK = 2, SEND = 3, SENDACK = 4, RECV = 5, RECVACK = 6, PING = 7,
        PONG = 8, DISCONNECT = 9, SUB = 10, SUBACK = 11, EVENT = 12,
    }
}

code_type! {
    /// Reason codes carried by CONNACK, SENDACK, SUBACK and DISCONNECT.
    ReasonCode {
        UNKNOWN = 0, SUCCESS = 1, AUTH_FAIL = 2, SUBSCRIBER_NOT_EXIST = 3, IN_BLACKLIST = 4,
        CHANNEL_NOT_EXIST = 5, USER_NOT_ON_NODE = 6, SENDER_OFFLINE = 7, MSG_KEY_ERROR = 8,
        PAYLOAD_DECODE_ERROR = 9, FORWARD_SEND_PACKET_ERROR = 10, NOT_ALLOW_SEND = 11,
        CONNECT_KICK = 12, NOT_IN_WHITELIST = 13, QUERY_TOKEN_ERROR = 14, SYSTEM_ERROR = 15,
        CHANNEL_ID_ERROR = 16, NODE_MATCH_ERROR = 17, NODE_NOT_MATCH = 18, BAN = 19,
        NOT_SUPPORT_HEADER = 20, CLIENT_KEY_IS_EMPTY = 21, RATE_LIMIT = 22,
        NOT_SUPPORT_CHANNEL_TYPE = 23, DISBAND = 24, SEND_BAN = 25, CHANNEL_DELETING = 26,
        PROTOCOL_UPGRADE_REQUIRED = 27, IDEMPOTENCY_CONFLICT = 28, MESSAGE_SEQ_EXHAUSTED = 29,
    }
}

code_type! {
    /// The kind of device a CONNECT comes from; one login per (uid, device flag).
    DeviceFlag { APP = 0, WEB = 1, PC = 2, SYSTEM = 99 }
}

code_type! {
    /// Channel types. The reference server delivers Person and Group; others get
    /// SENDACK `NOT_SUPPORT_CHANNEL_TYPE`.
    ChannelType {
        PERSON = 1, GROUP = 2, CUSTOMER_SERVICE = 3, COMMUNITY = 4, COMMUNITY_TOPIC = 5,
        INFO = 6, DATA = 7, TEMP = 8, LIVE = 9, VISITORS = 10, AGENT = 11, AGENT_GROUP = 12,
    }
}

/// The setting byte of SEND, RECV and SUB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Arbitrary)]
pub struct Setting(pub u8);

impl Setting {
    /// The sender wants a read receipt.
    pub const RECEIPT: u8 = 0x80;
    /// A signal (end-to-end encrypted upstream) message.
    pub const SIGNAL: u8 = 0x20;
    /// Payload is not app-encrypted.
    pub const NO_ENCRYPT: u8 = 0x10;
    /// A Topic string follows MsgKey (SEND) or Timestamp (RECV).
    pub const TOPIC: u8 = 0x08;
    /// Stream fields are present (v2..=4). It was 0x04 before 2025.
    pub const STREAM: u8 = 0x02;

    /// Whether `bit` (one of the constants above) is set.
    pub fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
}

/// Header flag bits (low nibble of byte 0) of every packet but CONNACK.
pub mod flags {
    /// Retransmission.
    pub const DUP: u8 = 0x08;
    /// Deliver once.
    pub const SYNC_ONCE: u8 = 0x04;
    /// Show a red dot.
    pub const RED_DOT: u8 = 0x02;
    /// Do not persist.
    pub const NO_PERSIST: u8 = 0x01;
    /// CONNACK only: a ServerVersion byte starts the body.
    pub const HAS_SERVER_VERSION: u8 = 0x01;
}
