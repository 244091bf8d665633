//! Simulation tests of the session and hub through the connection engine: well-behaved
//! clients over plain TCP, one hub, a virtual clock (see [`crate::sim`]).

use crate::client::Client;
use crate::hub::HubConfig;
use crate::proto::{ChannelType, DeviceFlag, Frame, Packet, ReasonCode};
use crate::session::{CloseReason, SessionConfig};
use crate::sim::{Sim, T0};
use std::time::Duration;

#[test]
fn two_users_chat_both_ways() {
    let mut sim = Sim::new();
    let a = sim.login("alice", DeviceFlag::APP, 4);
    let b = sim.login("bob", DeviceFlag::APP, 2);
    let ack = sim.send_text(a, "bob", ChannelType::PERSON, "hi bob");
    assert_eq!(ack.reason, ReasonCode::SUCCESS);
    assert_eq!((ack.message_id, ack.message_seq), (1, 1));
    let got = sim.recvs(b);
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].from_uid, "alice");
    assert_eq!(
        got[0].channel_id, "alice",
        "a person channel is seen as the other party"
    );
    assert_eq!(got[0].expire, None, "v2 has no Expire");
    assert_eq!(sim.open_text(b, &got[0]), "hi bob");
    assert!(sim.recvs(a).is_empty(), "the sender gets no copy");

    let ack = sim.send_text(b, "alice", ChannelType::PERSON, "hi alice");
    assert_eq!(
        (ack.message_id, ack.message_seq),
        (2, 2),
        "one sequence per person channel"
    );
    let got = sim.recvs(a);
    assert_eq!(sim.open_text(a, &got[0]), "hi alice");
    assert_eq!(got[0].expire, Some(0), "v4 carries Expire");
}

#[test]
fn recvack_clears_and_unacked_messages_are_resent_on_reconnect() {
    let mut sim = Sim::new();
    let a = sim.login("alice", DeviceFlag::APP, 4);
    for n in 0..3 {
        assert_eq!(
            sim.send_text(a, "bob", ChannelType::PERSON, &format!("m{n}"))
                .reason,
            ReasonCode::SUCCESS
        );
    }
    assert_eq!(sim.hub.pending_count("bob"), 3, "offline messages wait");
    let b = sim.login("bob", DeviceFlag::APP, 4);
    let got = sim.recvs(b);
    let texts: Vec<String> = got.iter().map(|r| sim.open_text(b, r)).collect();
    assert_eq!(
        texts,
        ["m0", "m1", "m2"],
        "offline queue delivered in order on CONNECT"
    );
    sim.send_frame(b, &Client::recvack(&got[0]));
    assert_eq!(sim.hub.pending_count("bob"), 2);
    // Bob reconnects on the same device: the old connection is kicked, the two unacked
    // messages come again.
    let b2 = sim.login("bob", DeviceFlag::APP, 4);
    let again: Vec<i64> = sim.recvs(b2).iter().map(|r| r.message_id).collect();
    assert_eq!(again, [got[1].message_id, got[2].message_id]);
}

#[test]
fn duplicate_login_kicks_the_older_connection_only_on_the_same_device() {
    let mut sim = Sim::new();
    let old = sim.login("alice", DeviceFlag::APP, 4);
    let web = sim.login("alice", DeviceFlag::WEB, 4);
    assert_eq!(sim.closed(old), None, "another device flag does not kick");
    let new = sim.login("alice", DeviceFlag::APP, 4);
    match sim.take(old).as_slice() {
        [Frame {
            packet: Packet::Disconnect(d),
            ..
        }] => {
            assert_eq!(d.reason, ReasonCode::CONNECT_KICK);
        }
        other => panic!("expected DISCONNECT 12, got {other:?}"),
    }
    assert_eq!(sim.closed(old), Some(CloseReason::Kicked));
    assert_eq!(sim.closed(web), None);
    assert_eq!(sim.closed(new), None);
    assert_eq!(sim.hub.online_connections("alice").len(), 2);
    // Messages now reach the new APP connection and the WEB one, not the kicked one.
    let b = sim.login("bob", DeviceFlag::APP, 4);
    sim.send_text(b, "alice", ChannelType::PERSON, "x");
    assert_eq!(sim.recvs(new).len(), 1);
    assert_eq!(sim.recvs(web).len(), 1);
    assert_eq!(sim.recvs(old).len(), 0);
}

#[test]
fn group_delivers_to_subscribers_except_the_sender() {
    let mut sim = Sim::new();
    let a = sim.login("a", DeviceFlag::APP, 4);
    let b = sim.login("b", DeviceFlag::APP, 3);
    let c = sim.login("c", DeviceFlag::APP, 2);
    let outsider = sim.login("d", DeviceFlag::APP, 4);
    for i in [a, b, c] {
        assert_eq!(sim.subscribe(i, "g1", 0), ReasonCode::SUCCESS);
    }
    let ack = sim.send_text(a, "g1", ChannelType::GROUP, "hello group");
    assert_eq!(ack.reason, ReasonCode::SUCCESS);
    for i in [b, c] {
        let got = sim.recvs(i);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].channel_id, "g1");
        assert_eq!(sim.open_text(i, &got[0]), "hello group");
    }
    assert!(sim.recvs(a).is_empty());
    assert!(
        sim.recvs(outsider).is_empty(),
        "nothing reaches a non-member"
    );
    assert_eq!(
        sim.send_text(outsider, "g1", ChannelType::GROUP, "x")
            .reason,
        ReasonCode::SUBSCRIBER_NOT_EXIST
    );
    assert_eq!(
        sim.send_text(a, "nope", ChannelType::GROUP, "x").reason,
        ReasonCode::CHANNEL_NOT_EXIST
    );
    assert_eq!(sim.subscribe(c, "g1", 1), ReasonCode::SUCCESS);
    let ack2 = sim.send_text(a, "g1", ChannelType::GROUP, "again");
    assert_eq!(ack2.message_seq, 2, "group sequence is per channel");
    assert!(sim.recvs(c).is_empty(), "unsubscribed");
    assert_eq!(sim.recvs(b).len(), 1);
    assert_eq!(
        sim.send_text(a, "x", ChannelType(9), "x").reason,
        ReasonCode::NOT_SUPPORT_CHANNEL_TYPE
    );
}

#[test]
fn client_key_problems_get_the_documented_connack_reason() {
    let cases: [(&str, ReasonCode); 6] = [
        ("", ReasonCode::CLIENT_KEY_IS_EMPTY),
        ("not base64!", ReasonCode::AUTH_FAIL),
        ("AAAA", ReasonCode::AUTH_FAIL), // 3 bytes
        (
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==",
            ReasonCode::AUTH_FAIL,
        ), // 34 bytes
        (
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            ReasonCode::AUTH_FAIL,
        ), // 32 zero bytes: low order
        (
            "AQAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            ReasonCode::AUTH_FAIL,
        ), // u = 1: low order
    ];
    for (key, want) in cases {
        let mut sim = Sim::new();
        let connect = Frame::new(Packet::Connect(crate::proto::Connect {
            version: 4,
            uid: "u".into(),
            client_key: key.into(),
            ..Default::default()
        }));
        let mut bytes = Vec::new();
        connect.encode(4, &mut bytes);
        let i = sim.open_raw(&bytes);
        match sim.take(i).as_slice() {
            [Frame {
                packet: Packet::Connack(c),
                ..
            }] => assert_eq!(c.reason, want, "key {key:?}"),
            other => panic!("key {key:?}: expected one CONNACK, got {other:?}"),
        }
        assert!(
            matches!(sim.closed(i), Some(CloseReason::ConnectRefused { .. })),
            "key {key:?}"
        );
        assert_eq!(sim.hub.online_connections("u").len(), 0);
    }
}

#[test]
fn bad_msg_key_or_payload_gets_sendack_9_and_the_session_goes_on() {
    let mut sim = Sim::new();
    let a = sim.login("a", DeviceFlag::APP, 4);
    let b = sim.login("b", DeviceFlag::APP, 4);
    let (frame, _) = sim.peers[a]
        .client
        .send("b", ChannelType::PERSON, b"x")
        .unwrap();
    let Packet::Send(good) = frame.packet else {
        unreachable!()
    };

    let mut bad_key = good.clone();
    bad_key.msg_key = "00000000000000000000000000000000".into();
    let mut bad_payload = good.clone();
    bad_payload.payload = b"AAAA".to_vec(); // 3 bytes: not a block multiple
    let cipher = sim.peers[a].client.cipher().unwrap().clone();
    bad_payload.msg_key = cipher.msg_key(&crate::proto::crypto::send_sign(&bad_payload));
    let mut not_base64 = good.clone();
    not_base64.payload = b"not base64 at all".to_vec();
    not_base64.msg_key = cipher.msg_key(&crate::proto::crypto::send_sign(&not_base64));

    for bad in [bad_key, bad_payload, not_base64] {
        sim.send_frame(a, &Frame::new(Packet::Send(bad.clone())));
        match sim.take(a).as_slice() {
            [Frame {
                packet: Packet::Sendack(ack),
                ..
            }] => {
                assert_eq!(ack.reason, ReasonCode::PAYLOAD_DECODE_ERROR, "{bad:?}");
                assert_eq!(ack.client_seq, bad.client_seq);
            }
            other => panic!("expected SENDACK, got {other:?}"),
        }
        assert_eq!(sim.closed(a), None);
    }
    assert!(sim.recvs(b).is_empty(), "nothing refused is delivered");
    assert_eq!(
        sim.send_text(a, "b", ChannelType::PERSON, "fine").reason,
        ReasonCode::SUCCESS
    );
    assert_eq!(sim.recvs(b).len(), 1);
}

#[test]
fn first_frame_must_be_connect() {
    let mut sim = Sim::new();
    let i = sim.open_raw(&[0x70]); // PING
    assert_eq!(
        sim.closed(i),
        Some(CloseReason::FirstFrameNotConnect(
            crate::proto::PacketType::PING
        ))
    );
    assert!(sim.take(i).is_empty(), "nothing is answered before CONNECT");
}

#[test]
fn oversized_frame_is_refused_from_its_header_alone() {
    let mut sim = Sim::new();
    let a = sim.login("a", DeviceFlag::APP, 4);
    // SEND declaring 2 MiB (varint 0x80 0x80 0x80 0x01), no body sent.
    sim.input(a, &[0x30, 0x80, 0x80, 0x80, 0x01]);
    assert!(matches!(
        sim.closed(a),
        Some(CloseReason::Decode(
            crate::proto::DecodeError::FrameTooLarge { .. }
        ))
    ));
    assert!(
        sim.peers[a]
            .conn
            .session()
            .is_some_and(|s| s.buffered_capacity() == 0),
        "nothing buffered past the header"
    );
    match sim.take(a).as_slice() {
        [Frame {
            packet: Packet::Disconnect(_),
            ..
        }] => {}
        other => panic!("a logged-in client is told why: {other:?}"),
    }
}

#[test]
fn timeouts_connect_and_idle_with_ping_keepalive() {
    let mut sim = Sim::new();
    let i = sim.open_raw(&[]);
    assert_eq!(
        sim.peers[i].conn.poll_timeout(),
        Some(T0.saturating_add(Duration::from_secs(4)))
    );
    sim.timeout(i, T0.saturating_add(Duration::from_millis(3999)));
    assert_eq!(sim.closed(i), None);
    sim.timeout(i, T0.saturating_add(Duration::from_secs(4)));
    assert_eq!(sim.closed(i), Some(CloseReason::ConnectTimeout));

    let a = sim.login("a", DeviceFlag::APP, 4);
    let idle = SessionConfig::default().idle_timeout;
    sim.now = T0.saturating_add(idle / 2);
    sim.input(a, &[0x70]);
    assert!(matches!(
        sim.take(a).as_slice(),
        [Frame {
            packet: Packet::Pong,
            ..
        }]
    ));
    sim.timeout(a, T0.saturating_add(idle));
    assert_eq!(sim.closed(a), None, "PING moved the idle deadline");
    sim.timeout(a, sim.now.saturating_add(idle));
    assert_eq!(sim.closed(a), Some(CloseReason::IdleTimeout));
    assert!(sim.hub.online_connections("a").is_empty());
}

#[test]
fn version_negotiation_and_connack_fields() {
    for (client_v, server_version, node) in [
        (2, None, None),
        (3, None, None),
        (4, Some(4), Some(1)),
        (5, Some(5), Some(1)),
        (9, Some(6), Some(1)),
    ] {
        let mut sim = Sim::new();
        let client = Client::new([7; 32], client_v);
        let bytes = client.encode(&client.connect("u", "t", DeviceFlag::APP, 0));
        let i = sim.open_raw_as(client, &bytes);
        let frames = sim.take(i);
        let Some(Frame {
            packet: Packet::Connack(c),
            ..
        }) = frames.first()
        else {
            panic!("no CONNACK for v{client_v}: {frames:?}")
        };
        assert_eq!(c.server_version, server_version, "v{client_v}");
        assert_eq!(c.node_id, node, "v{client_v}");
        assert_eq!(c.salt.len(), 16);
        assert!(c.salt.bytes().all(|b| b.is_ascii_alphanumeric()));
        let session = sim.peers[i].conn.session().expect("started");
        assert_eq!(session.version(), Some(client_v.min(6)));
    }
    let mut sim = Sim::new();
    let client = Client::new([7; 32], 1);
    let bytes = client.encode(&client.connect("u", "t", DeviceFlag::APP, 0));
    let i = sim.open_raw_as(client, &bytes);
    assert!(matches!(
        sim.closed(i),
        Some(CloseReason::ConnectRefused {
            reason: ReasonCode::PROTOCOL_UPGRADE_REQUIRED,
            ..
        })
    ));
}

#[test]
fn token_auth_when_configured() {
    let config = HubConfig {
        tokens: Some(
            [("u1".to_owned(), "right".to_owned())]
                .into_iter()
                .collect(),
        ),
        ..HubConfig::default()
    };
    for (uid, token, want) in [
        ("u1", "right", ReasonCode::SUCCESS),
        ("u1", "wrong", ReasonCode::AUTH_FAIL),
        ("u2", "right", ReasonCode::AUTH_FAIL),
    ] {
        let mut sim = Sim::with(config.clone());
        let client = Client::new([7; 32], 4);
        let i = sim.open_raw(&client.encode(&client.connect(uid, token, DeviceFlag::APP, 0)));
        match sim.take(i).as_slice() {
            [Frame {
                packet: Packet::Connack(c),
                ..
            }] => assert_eq!(c.reason, want, "{uid}/{token}"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
fn same_seed_same_bytes() {
    let run = || {
        let mut sim = Sim::new();
        let client = Client::new([9; 32], 4);
        let i = sim.open_raw(&client.encode(&client.connect("u", "t", DeviceFlag::APP, 0)));
        sim.take(i)
    };
    assert_eq!(run(), run());
}

#[test]
fn input_split_at_every_byte_gives_the_same_result() {
    let client = Client::new([3; 32], 4);
    let mut bytes = client.encode(&client.connect("u", "t", DeviceFlag::APP, 0));
    bytes.extend_from_slice(&[0x70, 0x70]);
    let whole = {
        let mut sim = Sim::new();
        let i = sim.open_raw(&bytes);
        sim.take(i)
    };
    assert_eq!(whole.len(), 3, "CONNACK + 2 PONG");
    let mut sim = Sim::new();
    let i = sim.open_raw(&[]);
    for b in &bytes {
        sim.input(i, std::slice::from_ref(b));
    }
    assert_eq!(sim.take(i), whole);
}
