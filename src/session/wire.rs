//! The one place a refusal or a close becomes what the client is told in wkproto: the
//! reason code of a CONNACK ([`ConnectError`]), SENDACK ([`SendError`]) or SUBACK
//! ([`SubError`]), and the DISCONNECT (if any) a close sends to a logged-in client
//! ([`CloseReason`]). The codes are upstream WuKongIM's (wkproto.md sections 4-6); the
//! TLS alert a failed handshake sends is chosen by the transport, not here.

use super::{CloseReason, ConnectError, SendError};
use crate::hub::{self, SubError};
use crate::proto::crypto::ClientKeyError;
use crate::proto::{Disconnect, ReasonCode};

/// The CONNACK reason of a refused CONNECT.
pub fn connack_reason(error: &ConnectError) -> ReasonCode {
    match error {
        ConnectError::VersionTooOld { .. } => ReasonCode::PROTOCOL_UPGRADE_REQUIRED,
        // Section 6: an empty ClientKey is 21, any malformed one is an auth failure.
        ConnectError::ClientKey(ClientKeyError::Empty) => ReasonCode::CLIENT_KEY_IS_EMPTY,
        ConnectError::ClientKey(_) => ReasonCode::AUTH_FAIL,
        ConnectError::NotCertificateUid { .. } | ConnectError::Auth { .. } => ReasonCode::AUTH_FAIL,
    }
}

/// The SENDACK reason of a refused SEND.
pub fn sendack_reason(error: &SendError) -> ReasonCode {
    match error {
        // Section 6: upstream answers 9 for a bad msgKey too (not 8 MsgKeyError).
        SendError::MsgKey | SendError::Payload(_) => ReasonCode::PAYLOAD_DECODE_ERROR,
        SendError::Refused(refused) => match refused {
            hub::SendError::SenderOffline => ReasonCode::SENDER_OFFLINE,
            hub::SendError::EmptyChannelId => ReasonCode::CHANNEL_ID_ERROR,
            hub::SendError::NoSuchGroup => ReasonCode::CHANNEL_NOT_EXIST,
            hub::SendError::NotAMember => ReasonCode::SUBSCRIBER_NOT_EXIST,
            hub::SendError::UnsupportedChannelType(_) => ReasonCode::NOT_SUPPORT_CHANNEL_TYPE,
            hub::SendError::QueueFull => ReasonCode::RATE_LIMIT,
            hub::SendError::MessageIdsExhausted => ReasonCode::SYSTEM_ERROR,
            hub::SendError::SeqExhausted => ReasonCode::MESSAGE_SEQ_EXHAUSTED,
        },
    }
}

/// The SUBACK reason of a refused SUB.
pub fn suback_reason(error: &SubError) -> ReasonCode {
    match error {
        SubError::SenderOffline => ReasonCode::SENDER_OFFLINE,
        SubError::UnsupportedChannelType(_) => ReasonCode::NOT_SUPPORT_CHANNEL_TYPE,
        SubError::EmptyChannelId => ReasonCode::CHANNEL_ID_ERROR,
        SubError::TooManyGroups | SubError::GroupFull => ReasonCode::RATE_LIMIT,
        SubError::NoSuchGroup => ReasonCode::CHANNEL_NOT_EXIST,
        SubError::NotAMember => ReasonCode::SUBSCRIBER_NOT_EXIST,
        SubError::UnknownAction(_) => ReasonCode::UNKNOWN,
    }
}

/// The DISCONNECT a logged-in client gets before the connection closes for `reason`, or
/// `None` when the server just closes (the transport is gone, a timeout, a slow reader,
/// shutdown). Before login nothing is sent: a refused CONNECT has had its CONNACK.
pub fn disconnect(reason: &CloseReason) -> Option<Disconnect> {
    let (code, text) = match reason {
        CloseReason::Kicked => (ReasonCode::CONNECT_KICK, "login in other device".to_owned()),
        // A protocol error (or the client's own DISCONNECT) is answered with code 0 and
        // the reason in words.
        CloseReason::Decode(_)
        | CloseReason::UnexpectedPacket(_)
        | CloseReason::ClientDisconnect => (ReasonCode::UNKNOWN, reason.to_string()),
        CloseReason::PeerClosed
        | CloseReason::FirstFrameNotConnect(_)
        | CloseReason::ConnectRefused { .. }
        | CloseReason::ConnectTimeout
        | CloseReason::IdleTimeout
        | CloseReason::SlowReader
        | CloseReason::Shutdown => return None,
    };
    Some(Disconnect {
        reason: code,
        reason_text: text,
    })
}

#[cfg(test)]
mod tests {
    //! One row per error: the code written here is the one wkproto.md (sections 4-6,
    //! upstream WuKongIM) or the README's server behaviour gives, not computed from the code
    //! under test. A variant without a row fails `every_variant_has_a_row`.
    use super::*;
    use crate::proto::crypto::PayloadError;
    use crate::proto::{ChannelType, DecodeError, PacketType};
    use std::collections::BTreeSet;

    /// Each variant's index; the match is exhaustive, so a new variant must be added here.
    fn connect_variant(e: &ConnectError) -> usize {
        match e {
            ConnectError::VersionTooOld { .. } => 0,
            ConnectError::ClientKey(_) => 1,
            ConnectError::NotCertificateUid { .. } => 2,
            ConnectError::Auth { .. } => 3,
        }
    }

    fn send_variant(e: &SendError) -> usize {
        match e {
            SendError::MsgKey => 0,
            SendError::Payload(_) => 1,
            SendError::Refused(r) => match r {
                hub::SendError::SenderOffline => 2,
                hub::SendError::EmptyChannelId => 3,
                hub::SendError::NoSuchGroup => 4,
                hub::SendError::NotAMember => 5,
                hub::SendError::UnsupportedChannelType(_) => 6,
                hub::SendError::QueueFull => 7,
                hub::SendError::MessageIdsExhausted => 8,
                hub::SendError::SeqExhausted => 9,
            },
        }
    }

    fn sub_variant(e: &SubError) -> usize {
        match e {
            SubError::SenderOffline => 0,
            SubError::UnsupportedChannelType(_) => 1,
            SubError::EmptyChannelId => 2,
            SubError::TooManyGroups => 3,
            SubError::GroupFull => 4,
            SubError::NoSuchGroup => 5,
            SubError::NotAMember => 6,
            SubError::UnknownAction(_) => 7,
        }
    }

    fn close_variant(r: &CloseReason) -> usize {
        match r {
            CloseReason::PeerClosed => 0,
            CloseReason::ClientDisconnect => 1,
            CloseReason::Decode(_) => 2,
            CloseReason::FirstFrameNotConnect(_) => 3,
            CloseReason::UnexpectedPacket(_) => 4,
            CloseReason::ConnectRefused { .. } => 5,
            CloseReason::ConnectTimeout => 6,
            CloseReason::IdleTimeout => 7,
            CloseReason::Kicked => 8,
            CloseReason::SlowReader => 9,
            CloseReason::Shutdown => 10,
        }
    }

    fn connect_rows() -> Vec<(ConnectError, u8)> {
        use crate::hub::AuthError;
        vec![
            // 27 ProtocolUpgradeRequired (the upstream rewrite's code for old clients).
            (ConnectError::VersionTooOld { version: 1 }, 27),
            // Section 6: empty ClientKey 21 ClientKeyIsEmpty, malformed 2 AuthFail.
            (ConnectError::ClientKey(ClientKeyError::Empty), 21),
            (ConnectError::ClientKey(ClientKeyError::NotBase64), 2),
            (ConnectError::ClientKey(ClientKeyError::WrongLength(3)), 2),
            (ConnectError::ClientKey(ClientKeyError::LowOrderPoint), 2),
            // README: a uid other than the client certificate's CN gets CONNACK 2.
            (
                ConnectError::NotCertificateUid {
                    uid: "bob".into(),
                    required: "alice".into(),
                },
                2,
            ),
            (
                ConnectError::Auth {
                    uid: String::new(),
                    why: AuthError::EmptyUid,
                },
                2,
            ),
            (
                ConnectError::Auth {
                    uid: "u1".into(),
                    why: AuthError::WrongToken,
                },
                2,
            ),
        ]
    }

    fn send_rows() -> Vec<(SendError, u8)> {
        let refused = SendError::Refused;
        vec![
            // Section 6 step 6: 9 PayloadDecodeError for a msgKey or payload that fails.
            (SendError::MsgKey, 9),
            (SendError::Payload(PayloadError::NotBase64), 9),
            (SendError::Payload(PayloadError::BadLength(5)), 9),
            (SendError::Payload(PayloadError::BadPadding), 9),
            (refused(hub::SendError::SenderOffline), 7), // SenderOffline
            (refused(hub::SendError::EmptyChannelId), 16), // ChannelIDError
            (refused(hub::SendError::NoSuchGroup), 5),   // ChannelNotExist
            (refused(hub::SendError::NotAMember), 3),    // SubscriberNotExist (README)
            (
                refused(hub::SendError::UnsupportedChannelType(ChannelType(3))),
                23, // NotSupportChannelType
            ),
            (refused(hub::SendError::QueueFull), 22), // RateLimit (README: SENDACK 22)
            (refused(hub::SendError::MessageIdsExhausted), 15), // SystemError
            (refused(hub::SendError::SeqExhausted), 29), // MessageSeqExhausted
        ]
    }

    fn sub_rows() -> Vec<(SubError, u8)> {
        vec![
            (SubError::SenderOffline, 7),                           // SenderOffline
            (SubError::UnsupportedChannelType(ChannelType(1)), 23), // NotSupportChannelType
            (SubError::EmptyChannelId, 16),                         // ChannelIDError
            (SubError::TooManyGroups, 22),                          // RateLimit
            (SubError::GroupFull, 22),                              // RateLimit
            (SubError::NoSuchGroup, 5),                             // ChannelNotExist
            (SubError::NotAMember, 3),                              // SubscriberNotExist
            (SubError::UnknownAction(7), 0),                        // Unknown
        ]
    }

    /// `None`: no DISCONNECT, the connection just closes.
    fn close_rows() -> Vec<(CloseReason, Option<(u8, &'static str)>)> {
        let decode = DecodeError::Truncated { what: "Send.topic" };
        vec![
            // Section 7's vector: DISCONNECT 12 ConnectKick "login in other device".
            (CloseReason::Kicked, Some((12, "login in other device"))),
            // A logged-in client's protocol error: 0 Unknown and the reason in words.
            (
                CloseReason::Decode(decode),
                Some((0, "malformed frame: truncated: body ends inside Send.topic")),
            ),
            (
                CloseReason::UnexpectedPacket(PacketType::CONNECT),
                Some((0, "unexpected packet CONNECT(1) from client")),
            ),
            (
                CloseReason::ClientDisconnect,
                Some((0, "client sent DISCONNECT")),
            ),
            (CloseReason::PeerClosed, None),
            (CloseReason::FirstFrameNotConnect(PacketType::PING), None),
            (
                CloseReason::ConnectRefused {
                    reason: ReasonCode(27),
                    error: ConnectError::VersionTooOld { version: 1 },
                },
                None,
            ),
            (CloseReason::ConnectTimeout, None),
            (CloseReason::IdleTimeout, None),
            (CloseReason::SlowReader, None),
            (CloseReason::Shutdown, None),
        ]
    }

    #[test]
    fn connack_codes() {
        for (error, code) in connect_rows() {
            assert_eq!(connack_reason(&error), ReasonCode(code), "{error:?}");
        }
    }

    #[test]
    fn sendack_codes() {
        for (error, code) in send_rows() {
            assert_eq!(sendack_reason(&error), ReasonCode(code), "{error:?}");
        }
    }

    #[test]
    fn suback_codes() {
        for (error, code) in sub_rows() {
            assert_eq!(suback_reason(&error), ReasonCode(code), "{error:?}");
        }
    }

    #[test]
    fn disconnects_on_close() {
        for (reason, want) in close_rows() {
            let got = disconnect(&reason).map(|d| (d.reason, d.reason_text));
            let want = want.map(|(code, text)| (ReasonCode(code), text.to_owned()));
            assert_eq!(got, want, "{reason:?}");
        }
    }

    #[test]
    fn every_variant_has_a_row() {
        let covered = |v: Vec<usize>| v.into_iter().collect::<BTreeSet<usize>>();
        let all = |n: usize| (0..n).collect::<BTreeSet<usize>>();
        let c = connect_rows()
            .iter()
            .map(|(e, _)| connect_variant(e))
            .collect();
        assert_eq!(covered(c), all(4));
        let s = send_rows().iter().map(|(e, _)| send_variant(e)).collect();
        assert_eq!(covered(s), all(10));
        let s = sub_rows().iter().map(|(e, _)| sub_variant(e)).collect();
        assert_eq!(covered(s), all(8));
        let r = close_rows().iter().map(|(r, _)| close_variant(r)).collect();
        assert_eq!(covered(r), all(11));
    }

    #[test]
    fn a_refused_connect_closes_with_its_code_in_the_log_text() {
        let reason = CloseReason::ConnectRefused {
            reason: ReasonCode(2),
            error: ConnectError::NotCertificateUid {
                uid: "bob".into(),
                required: "alice".into(),
            },
        };
        assert_eq!(
            reason.to_string(),
            "CONNECT refused with AUTH_FAIL(2): uid \"bob\" is not the client certificate's \"alice\""
        );
    }

    /// A session's output after CONNECT as `uid` (logged in) and then `bytes`.
    fn session_output(login: bool, bytes: &[u8]) -> (Vec<crate::proto::Frame>, bool) {
        use crate::client::Client;
        use crate::clock::Time;
        use crate::hub::{Hub, HubConfig};
        use crate::proto::{DeviceFlag, Packet};
        use crate::session::{Session, SessionConfig};
        let now = Time::from_unix_millis(1_700_000_000_000);
        let mut hub = Hub::new(HubConfig::default());
        let (id, seed) = hub.open();
        let mut session = Session::new(id, seed, SessionConfig::default(), now);
        let mut client = Client::new([7; 32], 4);
        let mut out = Vec::new();
        if login {
            let connect = client.connect("u1", "t", DeviceFlag::APP, 0);
            session.handle_bytes(&client.encode(&connect), now, &mut hub);
            session.poll_transmit(&mut hub, &mut out);
            let frames = client.handle_bytes(&out).unwrap();
            let Some(Packet::Connack(c)) = frames.first().map(|f| &f.packet) else {
                panic!("no CONNACK: {frames:?}")
            };
            client.handle_connack(c).unwrap();
            out.clear();
        }
        session.handle_bytes(bytes, now, &mut hub);
        session.poll_transmit(&mut hub, &mut out);
        (
            client.handle_bytes(&out).unwrap(),
            session.close_reason().is_some(),
        )
    }

    #[test]
    fn a_session_sends_the_disconnect_of_the_table_only_once_logged_in() {
        use crate::proto::{Frame, Packet};
        // PING then a second CONNECT (a packet a logged-in client must not send).
        let connect =
            crate::client::Client::new([9; 32], 4).connect("u2", "t", Default::default(), 0);
        let mut bytes = vec![0x70];
        connect.encode(4, &mut bytes);
        let (frames, closed) = session_output(true, &bytes);
        let packets: Vec<&Packet> = frames.iter().map(|f: &Frame| &f.packet).collect();
        assert!(closed);
        assert_eq!(packets.len(), 2, "{packets:?}");
        assert_eq!(packets[0], &Packet::Pong);
        let Packet::Disconnect(d) = packets[1] else {
            panic!("{packets:?}")
        };
        assert_eq!(
            (d.reason, d.reason_text.as_str()),
            (ReasonCode(0), "unexpected packet CONNECT(1) from client")
        );
        // The same bytes before login: the PING closes it, nothing is sent.
        let (frames, closed) = session_output(false, &bytes);
        assert!(closed && frames.is_empty(), "{frames:?}");
    }
}
