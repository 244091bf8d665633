//! The second planted-bug set (feature `planted-bugs`; `cargo test --features planted-bugs
//! --test planted_deep`): for each bug, the shortest scenario from `src/planted/deep.rs`,
//! run once with the bug off (the server is right) and once with it on (the client sees the
//! documented failure and the TRIGGERED canary counts). The hub scenarios run in the
//! simulation (`wkfuzz::sim`), WSS-BIG in the `session` target's world (real TLS and
//! WebSocket layers on both sides). The last two tests are first-set bugs (BUF-L5, VARINT)
//! that the `session` world must catch too.
#![cfg(feature = "planted-bugs")]

use std::sync::Mutex;
use wkfuzz::client::Client;
use wkfuzz::gen::names::Name;
use wkfuzz::gen::script::{Action, Body, ClientSpec, Damage, Dest, Script, Step};
use wkfuzz::planted::{self, Bug};
use wkfuzz::proto::{ChannelType, DeviceFlag, Disconnect, Frame, Packet, ReasonCode};
use wkfuzz::sim::Sim;
use wkfuzz::targets::session::run_script;
use wkfuzz::transport::Transport;

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
fn kick_ack_redelivers_an_acknowledged_message_after_a_second_kick() {
    let scenario = || {
        let mut sim = Sim::new();
        sim.login("alice", DeviceFlag::APP, 4);
        // The bug hands over only from a connection that took over from an older one.
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
fn wss_big_misframes_a_large_message_that_reaches_a_wss_client_with_another() {
    let send = |body, hold| Step {
        hold,
        ..send_step(0, Dest::Slot(1), body, 1)
    };
    // A TCP sender and a WSS receiver in the `session` world: the production engine on
    // both sides, the strict client reader on the receiver's.
    let run = |actions: Vec<Step>| {
        let script = Script {
            clients: vec![
                ClientSpec::ordinary(0),
                ClientSpec {
                    transport: Transport::Wss,
                    ..ClientSpec::ordinary(1)
                },
            ],
            groups: [Name::Pool(0), Name::Pool(1), Name::Pool(2)],
            actions,
        };
        session(&script, "large_recv")
    };
    let (tiny, large) = (Body::Sized(1), Body::Sized(15)); // 1 and 70,000 bytes
    let scenario = || {
        // Alone, it goes out in a write of its own; at the final rejoin, in the login's
        // write after the CONNACK.
        let alone = run(vec![send(large.clone(), false)]);
        // Held behind a tiny one, both SENDs reach the server in one read and both RECVs go
        // out in one write.
        let together = run(vec![send(tiny.clone(), true), send(large.clone(), false)]);
        (alone, together)
    };
    let (off, on, triggered) = off_and_on(Bug::WssBig, scenario);
    assert_eq!(off, (Ok(2), Ok(2)), "live and again at the rejoin, whole");
    assert_eq!(
        on.0,
        Ok(2),
        "alone and in a login's write it still arrives whole"
    );
    let error = on.1.expect_err("the client cannot read the fragments");
    assert!(error.contains("WebSocket"), "{error}");
    assert_eq!(triggered, 1);
}

/// Runs `script` in the `session` world: its counters' `key`, or the failure's message.
fn session(script: &Script, key: &str) -> Result<u64, String> {
    std::panic::catch_unwind(|| run_script(script).get(key)).map_err(|e| {
        e.downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default()
    })
}

fn step(action: Action) -> Step {
    Step {
        action,
        hold: false,
    }
}

fn send_step(slot: u8, to: Dest, body: Body, copies: u8) -> Step {
    step(Action::Send {
        slot,
        to,
        body,
        damage: Damage::None,
        msg_no: Name::Pool(0),
        setting: 0,
        copies,
    })
}

/// The `session` script's own moves reach each bug in one or two steps: the fuzzer's
/// shortest paths (copies of a SEND, members named in the spec, an ack of a message that
/// waits for someone else).
#[test]
fn wss_big_is_one_send_sent_twice_to_a_wss_user() {
    let script = Script {
        clients: vec![
            ClientSpec::ordinary(0),
            ClientSpec {
                transport: Transport::Wss,
                ..ClientSpec::ordinary(1)
            },
        ],
        groups: [Name::Pool(0), Name::Pool(1), Name::Pool(2)],
        actions: vec![send_step(0, Dest::Slot(1), Body::Sized(15), 2)],
    };
    let (off, on, triggered) = off_and_on(Bug::WssBig, || session(&script, "large_recv"));
    assert_eq!(off, Ok(4), "both live, both again at the rejoin");
    let error = on.expect_err("the second frame is misframed");
    assert!(error.contains("WebSocket"), "{error}");
    assert!(triggered >= 1);
}

#[test]
fn name_cut_is_a_member_away_while_the_group_talks() {
    let member = |uid| ClientSpec {
        joins: 0b001,
        ..ClientSpec::ordinary(uid)
    };
    // 127 ASCII bytes and then "中": byte 128 is inside it.
    let split = Name::Wide {
        ch: 1,
        len: 17,
        shift: 1,
        whole: false,
    };
    let script = Script {
        clients: vec![member(0), member(1)],
        groups: [split, Name::Pool(1), Name::Pool(2)],
        actions: vec![
            step(Action::Close {
                slot: 0,
                how: wkfuzz::gen::script::CloseHow::Polite,
            }),
            send_step(1, Dest::Group(0), Body::Text(b"while away".to_vec()), 1),
        ],
    };
    let (off, on, triggered) = off_and_on(Bug::NameCut, || session(&script, "rejoin_recv"));
    assert_eq!(off, Ok(1), "the member gets it when it comes back");
    let message = on.expect_err("the login's backlog replay panics");
    assert!(message.contains("char boundary"), "{message}");
    assert_eq!(triggered, 1);
}

#[test]
fn ack_other_is_an_ack_naming_a_message_that_waits_for_someone_else() {
    let script = Script {
        clients: vec![ClientSpec::ordinary(0), ClientSpec::ordinary(1)],
        groups: [Name::Pool(0), Name::Pool(1), Name::Pool(2)],
        actions: vec![
            send_step(0, Dest::Slot(1), Body::Text(b"for u1".to_vec()), 1),
            step(Action::AckBogus {
                slot: 0,
                id: 7,
                seq: 0,
            }),
        ],
    };
    let (off, on, triggered) = off_and_on(Bug::AckOther, || session(&script, "rejoin_recv"));
    assert_eq!(off, Ok(1), "u1 gets it again when it comes back");
    let message = on.expect_err("u1's rejoin misses it");
    assert!(message.contains("never reached"), "{message}");
    assert_eq!(triggered, 1);
}

/// BUF-L5 (first set) in the `session` world: a logged-in client sends a header declaring
/// far more than the frame limit. The server closes at once; with the bug it reserves the
/// declared length and waits, which only the read-buffer capacity oracle sees (nothing is
/// buffered yet).
#[test]
fn buf_l5_over_limit_header_is_caught_by_the_read_buffer_capacity_oracle() {
    // SEND header, remaining length 2^28 - 1.
    let script = one_client_sends_raw(vec![0x30, 0xff, 0xff, 0xff, 0x7f]);
    let (off, on, triggered) = off_and_on(Bug::BufL5, || session(&script, "server_closes"));
    assert_eq!(off, Ok(1), "the server closes the connection at the header");
    let error = on.expect_err("the session reserves the declared length");
    assert!(error.contains("allocated"), "{error}");
    assert!(triggered >= 1);
}

/// VARINT (first set) in the `session` world: raw bytes whose length field is four bytes
/// that all carry the continuation bit. The splitter and the decoder must agree (both
/// refuse it); with the bug they measure different headers, which `frame`'s codec oracle,
/// run on every raw action, reports.
#[test]
fn varint_disagreement_is_caught_by_the_codec_oracle_on_raw_bytes() {
    // DISCONNECT header, then four length bytes with bit 7 set and nothing after them.
    let script = one_client_sends_raw(vec![0x90, 0x80, 0x80, 0x80, 0x80]);
    let (off, on, triggered) = off_and_on(Bug::Varint, || session(&script, "server_closes"));
    assert_eq!(off, Ok(1), "the server refuses the length and closes");
    let error = on.expect_err("splitter and decoder disagree");
    assert!(
        error.contains("disagree") || error.contains("incomplete"),
        "{error}"
    );
    assert!(triggered >= 1);
}

/// One ordinary logged-in client that sends `bytes` raw.
fn one_client_sends_raw(bytes: Vec<u8>) -> Script {
    Script {
        clients: vec![ClientSpec::ordinary(0)],
        groups: [Name::Pool(0), Name::Pool(1), Name::Pool(2)],
        actions: vec![step(Action::Raw { slot: 0, bytes })],
    }
}
