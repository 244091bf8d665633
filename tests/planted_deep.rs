//! The second planted-bug set (feature `planted-bugs`; `cargo test --features planted-bugs
//! --test planted_deep`): for each bug, the shortest scenario from `src/planted/deep.rs`,
//! run once with the bug off (the server is right) and once with it on (the client sees the
//! documented failure and the TRIGGERED canary counts). The hub scenarios run in the
//! simulation (`wkfuzz::sim`), WSS-BIG over real sockets.
#![cfg(feature = "planted-bugs")]

mod common;

use common::{TestServer, User};
use std::sync::Mutex;
use wkfuzz::client::Client;
use wkfuzz::planted::{self, Bug};
use wkfuzz::proto::{ChannelType, DeviceFlag, Disconnect, Frame, Packet, ReasonCode};
use wkfuzz::sim::Sim;

/// The plan is process-wide: one scenario at a time.
static PLAN: Mutex<()> = Mutex::new(());

/// Runs `scenario` with `bug` off and then on; returns both results and how often the bug
/// triggered in the second run (never in the first).
fn off_and_on<T>(bug: Bug, scenario: impl Fn() -> T) -> (T, T, u64) {
    let _one = PLAN.lock().unwrap_or_else(|p| p.into_inner());
    let triggered = || {
        planted::snapshot()
            .into_iter()
            .find(|c| c.bug == bug)
            .map_or(0, |c| c.triggered)
    };
    planted::set_plan(&[]);
    planted::reset_counters();
    let off = scenario();
    assert_eq!(triggered(), 0, "{bug} triggered while off");
    planted::set_plan(&[bug]);
    let on = scenario();
    let n = triggered();
    planted::set_plan(&[]);
    (off, on, n)
}

/// Message ids connection `i` received since the last look.
fn ids(sim: &mut Sim, i: usize) -> Vec<i64> {
    sim.recvs(i).iter().map(|r| r.message_id).collect()
}

#[test]
fn kick_ack_redelivers_an_acknowledged_message_after_a_kick() {
    let scenario = || {
        let mut sim = Sim::new();
        let alice = sim.login("alice", DeviceFlag::APP, 4);
        let bob = sim.login("bob", DeviceFlag::APP, 4);
        sim.send_text(bob, "alice", ChannelType::PERSON, "first");
        sim.send_text(bob, "alice", ChannelType::PERSON, "second");
        let got = sim.recvs(alice);
        assert_eq!(got.len(), 2);
        // Alice acknowledges the second message only, then logs in again on the same device.
        sim.send_frame(alice, &Client::recvack(&got[1]));
        let again = sim.login("alice", DeviceFlag::APP, 4);
        (got[0].message_id, got[1].message_id, ids(&mut sim, again))
    };
    let ((first, _, off), (_, second, on), triggered) = off_and_on(Bug::KickAck, scenario);
    assert_eq!(off, [first], "only the unacknowledged message comes again");
    assert_eq!(
        on,
        [first, second],
        "the acknowledged one is handed over too"
    );
    assert_eq!(triggered, 1);
}

#[test]
fn sub_2dev_delivers_group_messages_twice_to_a_user_on_two_devices() {
    let scenario = || {
        let mut sim = Sim::new();
        let phone = sim.login("alice", DeviceFlag::APP, 4);
        let desk = sim.login("alice", DeviceFlag::PC, 4);
        let bob = sim.login("bob", DeviceFlag::APP, 4);
        for i in [phone, desk, bob] {
            assert_eq!(sim.subscribe(i, "team", 0), ReasonCode::SUCCESS);
        }
        sim.send_text(bob, "team", ChannelType::GROUP, "hello team");
        (ids(&mut sim, phone), ids(&mut sim, desk))
    };
    let (off, on, triggered) = off_and_on(Bug::Sub2Dev, scenario);
    assert_eq!(off, (vec![1], vec![1]));
    assert_eq!(on, (vec![1, 1], vec![1, 1]), "each device gets it twice");
    assert_eq!(triggered, 1);
}

#[test]
fn name_cut_panics_replaying_a_backlog_with_a_split_character_at_byte_128() {
    let group = format!("{}{}", "g".repeat(127), "é".repeat(20));
    let ascii = "h".repeat(200);
    let scenario = || {
        let mut sim = Sim::new();
        let alice = sim.login("alice", DeviceFlag::APP, 4);
        let bob = sim.login("bob", DeviceFlag::APP, 4);
        for (i, g) in [
            (alice, &group),
            (bob, &group),
            (alice, &ascii),
            (bob, &ascii),
        ] {
            assert_eq!(sim.subscribe(i, g, 0), ReasonCode::SUCCESS);
        }
        // Delivered live, the split id is never cut: the bug is on the backlog path only.
        sim.send_text(bob, &group, ChannelType::GROUP, "live");
        let live = sim.recvs(alice);
        assert_eq!(live.len(), 1);
        sim.send_frame(alice, &Client::recvack(&live[0]));
        sim.send_frame(
            alice,
            &Frame::new(Packet::Disconnect(Disconnect {
                reason: ReasonCode::SUCCESS,
                reason_text: String::new(),
            })),
        );
        sim.send_text(
            bob,
            &ascii,
            ChannelType::GROUP,
            "a long ASCII id is cut safely",
        );
        sim.send_text(bob, &group, ChannelType::GROUP, "while you were away");
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let again = sim.login("alice", DeviceFlag::APP, 4);
            let mut ids: Vec<String> = sim.recvs(again).into_iter().map(|r| r.channel_id).collect();
            ids.sort();
            ids
        }))
        .map_err(|e| e.downcast_ref::<String>().cloned().unwrap_or_default())
    };
    let (off, on, triggered) = off_and_on(Bug::NameCut, scenario);
    let mut both = vec![group.clone(), ascii.clone()];
    both.sort();
    assert_eq!(off, Ok(both), "the member gets both ids whole");
    let message = on.expect_err("the login panics");
    assert!(message.contains("not a char boundary"), "{message}");
    assert_eq!(triggered, 1);
}

#[test]
fn ack_other_drops_another_users_waiting_message() {
    let scenario = || {
        let mut sim = Sim::new();
        let alice = sim.login("alice", DeviceFlag::APP, 4);
        let bob = sim.login("bob", DeviceFlag::APP, 4);
        let ack = sim.send_text(bob, "alice", ChannelType::PERSON, "for alice");
        let got = sim.recvs(alice);
        // Bob acknowledges the message he sent to alice: first with a wrong sequence (not
        // found even by the bug's lookup), then with its id and sequence.
        let mut wrong = got[0].clone();
        wrong.message_seq += 1;
        sim.send_frame(bob, &Client::recvack(&wrong));
        sim.send_frame(bob, &Client::recvack(&got[0]));
        let again = sim.login("alice", DeviceFlag::APP, 4);
        (
            ack.message_id,
            sim.hub.pending_count("alice"),
            ids(&mut sim, again),
        )
    };
    let ((id, waiting, off), (_, left, on), triggered) = off_and_on(Bug::AckOther, scenario);
    assert_eq!((waiting, off), (1, vec![id]), "unacknowledged: sent again");
    assert_eq!(
        (left, on),
        (0, vec![]),
        "bob's ack removed it from alice's queue"
    );
    assert_eq!(triggered, 1);
}

#[test]
fn login_2dev_skips_the_backlog_for_a_second_device() {
    let scenario = || {
        let mut sim = Sim::new();
        let phone = sim.login("alice", DeviceFlag::APP, 4);
        let bob = sim.login("bob", DeviceFlag::APP, 4);
        sim.send_text(bob, "alice", ChannelType::PERSON, "read it later");
        assert_eq!(ids(&mut sim, phone), [1]);
        let desk = sim.login("alice", DeviceFlag::PC, 4);
        ids(&mut sim, desk)
    };
    let (off, on, triggered) = off_and_on(Bug::Login2Dev, scenario);
    assert_eq!(
        off,
        [1],
        "the unacknowledged message waits for every device"
    );
    assert_eq!(on, Vec::<i64>::new());
    assert_eq!(triggered, 1);
}

#[test]
fn wss_big_misframes_a_large_backlog_message_to_a_websocket_client_over_tls() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let scenario = || {
        runtime.block_on(async {
            let server = TestServer::start().await;
            let mut bob = User::tcp(&server, "bob", 4).await;
            bob.login(DeviceFlag::APP).await;
            let mut carol = User::websocket(&server, true, "carol", 4).await;
            carol.login(DeviceFlag::APP).await;
            // A large message written alone takes the right path, bug or not.
            let alone = "y".repeat(20_000);
            bob.send_text("carol", ChannelType::PERSON, &alone).await;
            assert_eq!(carol.recv_text().await.1, alone);
            // Alice is offline: her login writes CONNACK and the waiting message together.
            let big = "x".repeat(20_000);
            bob.send_text("alice", ChannelType::PERSON, &big).await;
            let mut alice = User::websocket(&server, true, "alice", 4).await;
            alice.login(DeviceFlag::APP).await;
            let got = alice
                .try_expect(|p| matches!(p, Packet::Recv(_)))
                .await
                .map(|f| match f.packet {
                    Packet::Recv(r) => alice.client.open(&r).map(|p| p.len()).unwrap_or(0),
                    _ => 0,
                });
            server.shutdown().await;
            got
        })
    };
    let (off, on, triggered) = off_and_on(Bug::WssBig, scenario);
    assert_eq!(off, Ok(20_000), "the large message arrives whole");
    let error = on.expect_err("the client cannot read the fragments");
    assert!(error.contains("read error"), "{error}");
    assert_eq!(triggered, 1);
}
