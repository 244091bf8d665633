//! Unit tests of [`Session`] that need it without the engine around it: the engine pulls
//! the hub's deliveries on every turn, so only a session driven directly can show what
//! happens when its outbox overflows. Whole conversations are simulated in
//! `src/transport/tests.rs`, through the engine.

use super::*;
use crate::client::Client;
use crate::hub::HubConfig;
use crate::proto::{ChannelType, DeviceFlag, Recvack};

const T0: Time = Time::from_unix_millis(1_700_000_000_000);

/// A client logged in on a session of `hub`.
fn login(hub: &mut Hub, uid: &str, secret: u8) -> (Session, Client) {
    let (id, seed) = hub.open();
    let mut session = Session::new(id, seed, SessionConfig::default(), T0);
    let mut client = Client::new([secret; 32], 4);
    let connect = client.encode(&client.connect(uid, "t", DeviceFlag::APP, 0));
    session.handle_bytes(&connect, T0, hub);
    let mut out = Vec::new();
    session.poll_transmit(hub, &mut out);
    let frames = client.handle_bytes(&out).expect("CONNACK decodes");
    let Some(Frame {
        packet: Packet::Connack(ack),
        ..
    }) = frames.first()
    else {
        panic!("expected CONNACK, got {frames:?}")
    };
    client.handle_connack(ack).expect("login succeeds");
    (session, client)
}

#[test]
fn outbox_overflow_closes_a_slow_reader_and_keeps_its_messages() {
    // Every queued delivery is also pending, so with outbox > pending-per-user an outbox
    // overflows only if the client acknowledges what it has not read (guessing ids).
    let mut hub = Hub::new(HubConfig {
        max_outbox: 4,
        max_pending_per_user: 3,
        ..HubConfig::default()
    });
    let (mut a, mut ca) = login(&mut hub, "a", 1);
    let (mut b, cb) = login(&mut hub, "b", 2);
    let mut send_unread = |hub: &mut Hub, n: usize| {
        for _ in 0..n {
            let (frame, _) = ca.send("b", ChannelType::PERSON, b"x").expect("logged in");
            a.handle_bytes(&ca.encode(&frame), T0, hub);
        }
    };
    send_unread(&mut hub, 3);
    // b acknowledges ids 1..=3 without reading them (bytes fed directly, no poll).
    for id in 1..=3 {
        let ack = Frame::new(Packet::Recvack(Recvack {
            message_id: id,
            message_seq: 0,
        }));
        b.handle_bytes(&cb.encode(&ack), T0, &mut hub);
    }
    send_unread(&mut hub, 2);
    let mut out = Vec::new();
    b.poll_transmit(&mut hub, &mut out);
    assert_eq!(
        b.close_reason().map(|(r, _)| r.clone()),
        Some(CloseReason::SlowReader)
    );
    assert!(out.is_empty());
    assert_eq!(
        hub.pending_count("b"),
        2,
        "nothing accepted and unacknowledged is lost"
    );
}
