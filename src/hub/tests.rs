use super::*;

fn req(to: &str, ty: ChannelType, payload: &[u8]) -> SendRequest {
    SendRequest {
        channel_id: to.into(),
        channel_type: ty,
        client_msg_no: "n".into(),
        setting: Setting(Setting::STREAM | Setting::RECEIPT),
        expire: 0,
        topic: None,
        payload: payload.to_vec(),
    }
}

fn online(hub: &mut Hub, uid: &str) -> ConnId {
    let (id, _) = hub.open();
    hub.login(id, uid, DeviceFlag::APP);
    id
}

fn drain(hub: &mut Hub, id: ConnId) -> Vec<Outgoing> {
    std::iter::from_fn(|| hub.poll_outgoing(id)).collect()
}

#[test]
fn ids_are_global_and_sequences_per_channel() {
    let mut hub = Hub::new(HubConfig::default());
    let a = online(&mut hub, "a");
    let now = Time::from_unix_millis(5_000);
    let r1 = hub
        .send(a, req("b", ChannelType::PERSON, b"1"), now)
        .unwrap();
    let r2 = hub
        .send(a, req("c", ChannelType::PERSON, b"2"), now)
        .unwrap();
    let r3 = hub
        .send(a, req("b", ChannelType::PERSON, b"3"), now)
        .unwrap();
    assert_eq!([r1.message_id, r2.message_id, r3.message_id], [1, 2, 3]);
    assert_eq!([r1.message_seq, r2.message_seq, r3.message_seq], [1, 1, 2]);
    let b = online(&mut hub, "b");
    let got = drain(&mut hub, b);
    assert_eq!(got.len(), 2);
    let Outgoing::Deliver(m) = &got[0] else {
        panic!()
    };
    assert_eq!(m.timestamp, 5);
    assert!(!m.setting.has(Setting::STREAM), "the server never streams");
    assert!(m.setting.has(Setting::RECEIPT));
}

#[test]
fn full_user_queue_refuses_instead_of_dropping() {
    let mut hub = Hub::new(HubConfig {
        max_pending_per_user: 2,
        ..HubConfig::default()
    });
    let a = online(&mut hub, "a");
    let now = Time::default();
    assert!(hub
        .send(a, req("b", ChannelType::PERSON, b"x"), now)
        .is_ok());
    assert!(hub
        .send(a, req("b", ChannelType::PERSON, b"x"), now)
        .is_ok());
    assert_eq!(
        hub.send(a, req("b", ChannelType::PERSON, b"x"), now),
        Err(SendError::QueueFull)
    );
    assert_eq!(hub.pending_count("b"), 2);
    let r = hub
        .send(a, req("c", ChannelType::PERSON, b"x"), now)
        .unwrap();
    assert_eq!(r.message_id, 3, "a refused SEND consumes no id");
}

#[test]
fn byte_budget_is_shared_by_all_users() {
    let mut hub = Hub::new(HubConfig {
        max_pending_bytes: 10,
        ..HubConfig::default()
    });
    let a = online(&mut hub, "a");
    let now = Time::default();
    assert!(hub
        .send(a, req("b", ChannelType::PERSON, &[0; 6]), now)
        .is_ok());
    assert_eq!(
        hub.send(a, req("c", ChannelType::PERSON, &[0; 6]), now),
        Err(SendError::QueueFull)
    );
    let b = online(&mut hub, "b");
    drain(&mut hub, b);
    assert!(hub.recvack(b, 1));
    assert!(
        hub.send(a, req("c", ChannelType::PERSON, &[0; 6]), now)
            .is_ok(),
        "an ack frees budget"
    );
}

#[test]
fn preconfigured_groups_and_membership_limits() {
    let mut groups = BTreeMap::new();
    groups.insert("g".to_owned(), vec!["a".to_owned(), "b".to_owned()]);
    let mut hub = Hub::new(HubConfig {
        groups,
        max_groups: 1,
        max_group_members: 2,
        ..HubConfig::default()
    });
    let a = online(&mut hub, "a");
    let c = online(&mut hub, "c");
    assert_eq!(
        hub.subscribe(c, "g", ChannelType::GROUP, 0),
        Err(SubError::GroupFull)
    );
    assert_eq!(
        hub.subscribe(c, "h", ChannelType::GROUP, 0),
        Err(SubError::TooManyGroups)
    );
    assert_eq!(
        hub.subscribe(c, "g", ChannelType::PERSON, 0),
        Err(SubError::UnsupportedChannelType(ChannelType::PERSON))
    );
    assert_eq!(
        hub.subscribe(c, "g", ChannelType::GROUP, 7),
        Err(SubError::UnknownAction(7))
    );
    assert_eq!(
        hub.subscribe(c, "g", ChannelType::GROUP, 1),
        Err(SubError::NotAMember)
    );
    assert!(hub
        .send(a, req("g", ChannelType::GROUP, b"x"), Time::default())
        .is_ok());
    assert_eq!(hub.pending_count("b"), 1);
    assert_eq!(hub.pending_count("a"), 0);
}

#[test]
fn close_is_idempotent_and_forgets_the_connection() {
    let mut hub = Hub::new(HubConfig::default());
    let a = online(&mut hub, "a");
    hub.close(a);
    hub.close(a);
    assert_eq!(hub.connection_count(), 0);
    assert!(hub.online_connections("a").is_empty());
    assert_eq!(
        hub.send(a, req("b", ChannelType::PERSON, b"x"), Time::default()),
        Err(SendError::SenderOffline)
    );
}

#[test]
fn per_connection_seeds_are_distinct_and_reproducible() {
    let seeds = |seed| {
        let mut hub = Hub::new(HubConfig {
            seed,
            ..HubConfig::default()
        });
        (hub.open().1, hub.open().1)
    };
    let (s1, s2) = seeds([1; 32]);
    assert_ne!(s1, s2);
    assert_eq!(seeds([1; 32]), (s1, s2));
    assert_ne!(seeds([2; 32]).0, s1);
}
