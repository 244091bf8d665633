//! The bodies of the twelve wkproto packets (wkproto.md section 4), as plain data.
//!
//! Version-gated fields are `Option`s: the encoder writes a field iff the negotiated version
//! (and, for Stream/Topic, the setting byte) says it is on the wire, using the default value
//! when the field is `None`; the decoder fills it iff it was on the wire.
//! [`super::Frame::normalized`] maps any frame to the form a decode at that version returns.

use super::types::{ChannelType, DeviceFlag, ReasonCode, Setting};
use arbitrary::Arbitrary;

/// CONNECT (c→s): `Version u8, DeviceFlag u8, DeviceID str, UID str, Token str,
/// ClientTimestamp i64, ClientKey str`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Arbitrary)]
pub struct Connect {
    /// Protocol version the client speaks.
    pub version: u8,
    /// Device kind; one login per (uid, device_flag).
    pub device_flag: DeviceFlag,
    /// Client-chosen device id.
    pub device_id: String,
    /// User id.
    pub uid: String,
    /// Auth token.
    pub token: String,
    /// Client clock, unix milliseconds.
    pub client_timestamp: i64,
    /// base64 of the client's 32-byte X25519 public key.
    pub client_key: String,
}

/// CONNACK (s→c): `[ServerVersion u8 if flag], TimeDiff i64, ReasonCode u8, ServerKey str,
/// Salt str, [NodeId u64 if v >= 4]`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Arbitrary)]
pub struct Connack {
    /// Present iff header flag `HAS_SERVER_VERSION` is set (the encoder sets it from this).
    pub server_version: Option<u8>,
    /// server_now_ms - ClientTimestamp.
    pub time_diff: i64,
    /// Outcome of the login.
    pub reason: ReasonCode,
    /// base64 of the server's X25519 public key.
    pub server_key: String,
    /// 16 characters, the AES IV.
    pub salt: String,
    /// v >= 4.
    pub node_id: Option<u64>,
}

/// SEND (c→s): `Setting u8, ClientSeq u32, ClientMsgNo str, [StreamNo str], ChannelID str,
/// ChannelType u8, [Expire u32], MsgKey str, [Topic str], Payload`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Arbitrary)]
pub struct Send {
    /// Setting byte.
    pub setting: Setting,
    /// Client's sequence number, echoed in SENDACK.
    pub client_seq: u32,
    /// Client's unique message number.
    pub client_msg_no: String,
    /// 2 <= v < 5 and setting STREAM.
    pub stream_no: Option<String>,
    /// Destination channel.
    pub channel_id: String,
    /// Destination channel type.
    pub channel_type: ChannelType,
    /// v >= 3, seconds.
    pub expire: Option<u32>,
    /// 32 lowercase hex chars (wkproto.md section 6).
    pub msg_key: String,
    /// Setting TOPIC.
    pub topic: Option<String>,
    /// The rest of the body: base64 ciphertext unless NO_ENCRYPT.
    pub payload: Vec<u8>,
}

/// SENDACK (s→c): `MessageID i64, ClientSeq u32, MessageSeq u32 (u64 if v >= 6), ReasonCode u8`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Arbitrary)]
pub struct Sendack {
    /// Server-assigned message id.
    pub message_id: i64,
    /// Echo of SEND's ClientSeq.
    pub client_seq: u32,
    /// Per-channel sequence; only the low 32 bits travel below v6.
    pub message_seq: u64,
    /// Outcome.
    pub reason: ReasonCode,
}

/// RECV stream fields, present when 2 <= v < 5 and setting STREAM.
#[derive(Clone, Debug, Default, PartialEq, Eq, Arbitrary)]
pub struct RecvStream {
    /// StreamFlag u8.
    pub flag: u8,
    /// StreamNo str.
    pub no: String,
    /// StreamId u64.
    pub id: u64,
}

/// RECV (s→c): `Setting u8, MsgKey str, FromUID str, ChannelID str, ChannelType u8,
/// [Expire u32], ClientMsgNo str, [StreamFlag u8, StreamNo str, StreamId u64], MessageID i64,
/// MessageSeq u32 (u64 if v >= 6), Timestamp i32, [Topic str], Payload`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Arbitrary)]
pub struct Recv {
    /// Setting byte.
    pub setting: Setting,
    /// msgKey over the RECV sign string.
    pub msg_key: String,
    /// Sender.
    pub from_uid: String,
    /// Channel as the recipient sees it (the sender's uid for a person channel).
    pub channel_id: String,
    /// Channel type.
    pub channel_type: ChannelType,
    /// v >= 3.
    pub expire: Option<u32>,
    /// Sender's ClientMsgNo.
    pub client_msg_no: String,
    /// 2 <= v < 5 and setting STREAM.
    pub stream: Option<RecvStream>,
    /// Server-assigned id.
    pub message_id: i64,
    /// Per-channel sequence; only the low 32 bits travel below v6.
    pub message_seq: u64,
    /// Unix seconds.
    pub timestamp: i32,
    /// Setting TOPIC.
    pub topic: Option<String>,
    /// base64 ciphertext unless NO_ENCRYPT.
    pub payload: Vec<u8>,
}

/// RECVACK (c→s): `MessageID i64, MessageSeq u32 (u64 if v >= 6)`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Arbitrary)]
pub struct Recvack {
    /// Acknowledged message.
    pub message_id: i64,
    /// Its sequence.
    pub message_seq: u64,
}

/// DISCONNECT (both ways): `ReasonCode u8, Reason str`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Arbitrary)]
pub struct Disconnect {
    /// Why.
    pub reason: ReasonCode,
    /// Human-readable reason.
    pub reason_text: String,
}

/// SUB (c→s): `Setting u8, SubNo str, ChannelID str, ChannelType u8, Action u8, Param str`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Arbitrary)]
pub struct Sub {
    /// Setting byte.
    pub setting: Setting,
    /// Client's request number, echoed in SUBACK.
    pub sub_no: String,
    /// Channel.
    pub channel_id: String,
    /// Channel type.
    pub channel_type: ChannelType,
    /// 0 subscribe, 1 unsubscribe.
    pub action: u8,
    /// Free-form parameter.
    pub param: String,
}

/// SUBACK (s→c): `SubNo str, ChannelID str, ChannelType u8, Action u8, ReasonCode u8`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Arbitrary)]
pub struct Suback {
    /// Echo of SUB's SubNo.
    pub sub_no: String,
    /// Channel.
    pub channel_id: String,
    /// Channel type.
    pub channel_type: ChannelType,
    /// Echo of the action.
    pub action: u8,
    /// Outcome.
    pub reason: ReasonCode,
}

/// EVENT (s→c): `Id str, Type str, Timestamp i64, Data = rest`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Arbitrary)]
pub struct Event {
    /// Event id.
    pub id: String,
    /// Event type.
    pub event_type: String,
    /// Unix milliseconds.
    pub timestamp: i64,
    /// The rest of the body.
    pub data: Vec<u8>,
}

/// Any packet body.
#[derive(Clone, Debug, PartialEq, Eq, Arbitrary)]
pub enum Packet {
    /// CONNECT.
    Connect(Connect),
    /// CONNACK.
    Connack(Connack),
    /// SEND.
    Send(Send),
    /// SENDACK.
    Sendack(Sendack),
    /// RECV.
    Recv(Recv),
    /// RECVACK.
    Recvack(Recvack),
    /// PING: one byte, no length.
    Ping,
    /// PONG: one byte, no length.
    Pong,
    /// DISCONNECT.
    Disconnect(Disconnect),
    /// SUB.
    Sub(Sub),
    /// SUBACK.
    Suback(Suback),
    /// EVENT.
    Event(Event),
}
