//! Seed inputs for the committed corpus: real protocol transcripts where the target reads
//! wire bytes (a scripted chat between well-behaved clients and the real session, at every
//! version; the upstream frames of wkproto.md section 7; valid PROXY headers and key files;
//! WebSocket client streams like the JS SDK's, whole and cut up, and broken ones),
//! and deterministic pseudo-random inputs for the structured targets. Deterministic: the same
//! build writes the same seeds.

use super::fixture;
use crate::client::Client;
use crate::proto::{ChannelType, DeviceFlag, Frame, Packet, Sub, LATEST_VERSION, MIN_VERSION};
use crate::sim::Sim;
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;

/// The frames of wkproto.md section 7, hex.
const UPSTREAM_FRAMES: &[&str] = &[
    // CONNECT v4
    "10470400000464657631000275310003746f6b0000018bcfe56800002c42364e38764251676b38693356647762454f687374435933537446717146507443392f41737268744848773d",
    // CONNACK v4 (SV)
    "215204fffffffffffffffb01002c57476d76394642556c7a4c4c7175316558666d7a436d326a484c446c644375745774536870326a78706e733d00106162636465663132333435363738393000000000000003e9",
    // SEND v4 RedDot
    "323e000000000700026d310002753201000000000020343034356464393465306632326662623363636537666661313530653338623563697068657274657874",
    // SENDACK
    "40110000000000000063000000070000000801",
    // RECVACK
    "600c000000000000006300000008",
    // PING
    "70",
    // PONG
    "80",
    // DISCONNECT
    "90180c00156c6f67696e20696e206f7468657220646576696365",
];

/// Upstream frames, and the client->server bytes of a scripted chat at every version
/// (the `frame` target prepends its own CONNECT, so each transcript follows one).
pub(crate) fn frame_seeds() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = UPSTREAM_FRAMES
        .iter()
        .filter_map(|h| hex::decode(h.split_whitespace().collect::<String>()).ok())
        .collect();
    for version in MIN_VERSION..=LATEST_VERSION {
        let (to_server, to_client) = chat_transcript(version);
        // First byte selects the version the target's session logs in with.
        let mut seed = vec![version.saturating_sub(MIN_VERSION)];
        seed.extend_from_slice(&to_server);
        out.push(seed);
        out.push(to_client);
    }
    out
}

/// A deterministic chat through the real connection engine: alice (at `version`)
/// subscribes to a group, pings, sends to bob and to the group, acknowledges what she gets.
/// Returns alice's bytes after CONNECT and the server's bytes to bob.
pub fn chat_transcript(version: u8) -> (Vec<u8>, Vec<u8>) {
    let mut sim = Sim::new();
    let login = |sim: &mut Sim, uid: &str, secret: u8| {
        let client = Client::new([secret; 32], version);
        let connect = client.encode(&client.connect(uid, "t", DeviceFlag::APP, 0));
        let i = sim.open_raw_as(client, &connect);
        if let Some(Frame {
            packet: Packet::Connack(c),
            ..
        }) = sim.take(i).first()
        {
            let _ = sim.peers[i].client.handle_connack(c);
        }
        i
    };
    let alice = login(&mut sim, "alice", 1);
    let bob = login(&mut sim, "bob", 2);
    let ca = &mut sim.peers[alice].client;
    let mut sent = Vec::new();
    let sub = Frame::new(Packet::Sub(Sub {
        sub_no: "1".into(),
        channel_id: "g1".into(),
        channel_type: ChannelType::GROUP,
        ..Sub::default()
    }));
    sent.extend(ca.encode(&sub));
    sent.push(0x70);
    for (to, ty, text) in [
        ("bob", ChannelType::PERSON, "hello bob"),
        ("g1", ChannelType::GROUP, "hello group"),
    ] {
        if let Ok((f, _)) = ca.send(to, ty, text.as_bytes()) {
            sent.extend(ca.encode(&f));
        }
    }
    let disconnect = ca.encode(&Frame::new(Packet::Disconnect(
        crate::proto::Disconnect::default(),
    )));
    sim.feed(alice, &sent);
    let to_bob = sim.transmit(bob);
    if let Ok(frames) = sim.peers[bob].client.handle_bytes(&to_bob) {
        for f in frames {
            if let Packet::Recv(r) = &f.packet {
                let ack = sim.peers[bob].client.encode(&Client::recvack(r));
                sim.feed(bob, &ack);
            }
        }
    }
    sent.extend(disconnect);
    (sent, to_bob)
}

pub(crate) fn proxy_seeds() -> Vec<Vec<u8>> {
    let mut v2_tcp4 = crate::transport::proxy::V2_SIGNATURE.to_vec();
    v2_tcp4.extend_from_slice(&[
        0x21, 0x11, 0x00, 0x0c, 203, 0, 113, 7, 127, 0, 0, 1, 0x9c, 0x41, 0x13, 0xec,
    ]);
    let mut v2_local = crate::transport::proxy::V2_SIGNATURE.to_vec();
    v2_local.extend_from_slice(&[0x20, 0x00, 0x00, 0x00]);
    let mut v2_tlv = crate::transport::proxy::V2_SIGNATURE.to_vec();
    v2_tlv.extend_from_slice(&[0x21, 0x21, 0x00, 0x29]);
    v2_tlv.extend_from_slice(&[0u8; 15]);
    v2_tlv.push(1);
    v2_tlv.extend_from_slice(&[0u8; 15]);
    v2_tlv.push(1);
    v2_tlv.extend_from_slice(&[0x9c, 0x41, 0x13, 0xec, 0x04, 0x00, 0x01, 0x00, 0x05]);
    vec![
        b"PROXY TCP4 203.0.113.7 127.0.0.1 40001 5100\r\n".to_vec(),
        b"PROXY TCP6 2001:db8::1 ::1 40001 5100\r\n\x10\x00".to_vec(),
        b"PROXY UNKNOWN\r\n".to_vec(),
        v2_tcp4,
        v2_local,
        v2_tlv,
        b"\r\n\r\n\0".to_vec(),
    ]
}

pub(crate) fn key_seeds() -> Vec<Vec<u8>> {
    let cert = fixture::CERT_PEM.as_bytes();
    let key = fixture::KEY_PEM.as_bytes();
    let with = |mode: u8, parts: &[&[u8]]| {
        let mut v = vec![mode];
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                v.push(0);
            }
            v.extend_from_slice(p);
        }
        v
    };
    vec![
        with(0, &[cert, key]),
        with(1, &[key]),
        with(2, &[cert]),
        with(0, &[b"B6N8vBQgk8i3VdwbEOhstCY3StFqqFPtC9/AsrhtHHw="]),
        with(
            1,
            &[b"-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n"],
        ),
    ]
}

/// First flights of well-formed TLS 1.3 and 1.2 clients, the CBC-only TLS 1.2 hello (the
/// WuKongIM #127 trigger), and each cut into small records.
pub(crate) fn record_seeds() -> Vec<Vec<u8>> {
    use crate::gen::{tls12_cbc_only, well_formed_tls12, well_formed_tls13, RecordPlan};
    let hellos = [
        well_formed_tls13().encode(),
        well_formed_tls12().encode(),
        tls12_cbc_only().encode(),
    ];
    let mut out = Vec::new();
    for h in &hellos {
        out.push(RecordPlan::identity().apply(h));
        out.push(RecordPlan::cut_at(vec![5u16, 40, 41, 200]).apply(h));
    }
    out
}

/// Inputs chosen from a deterministic random search so that each kind of case is present:
/// modelled hellos the server answers and rejects, and real clients that complete TLS 1.2
/// and 1.3 handshakes, with and without SNI, ALPN and resumption.
pub(crate) fn handshake_seeds() -> Vec<Vec<u8>> {
    use super::handshake::{run as run_handshake, HandshakeCase};
    use arbitrary::{Arbitrary, Unstructured};
    let mut rng = ChaCha20Rng::seed_from_u64(0x4853);
    let mut wanted: std::collections::BTreeMap<String, Vec<u8>> = std::collections::BTreeMap::new();
    for i in 0..3000usize {
        let mut data = vec![0u8; 8 + (i % 64) * 8];
        rng.fill_bytes(&mut data);
        if i % 2 == 1 {
            // Push the enum choice toward the real client half.
            if let Some(b) = data.get_mut(..4) {
                b.copy_from_slice(&[0xff; 4]);
            }
        }
        let Ok(case) = HandshakeCase::arbitrary_take_rest(Unstructured::new(&data)) else {
            continue;
        };
        let outcome = run_handshake(&data);
        let key = match &case {
            HandshakeCase::Model(_) => {
                let answered = outcome.get("server_flights") > 0;
                format!(
                    "model answered={answered} alert={}",
                    outcome.get("fatal_alerts") > 0
                )
            }
            HandshakeCase::Real(r) => {
                let done = outcome.get("handshakes_completed") > 0;
                format!(
                    "real tls13={} sni={} alpn={} resume={} done={done}",
                    r.tls13, r.sni, r.alpn, r.resume
                )
            }
        };
        wanted.entry(key).or_insert(data);
    }
    let mut out: Vec<Vec<u8>> = wanted.into_values().collect();
    out.push(Vec::new());
    out
}

/// Hand-written scripts covering each feature, as bytes.
pub(crate) fn session_seeds() -> Vec<Vec<u8>> {
    use crate::gen::script::{Action as A, ClientSpec, Damage, Dest, KeyChoice, Script};
    let spec = |uid: u8, version: u8, tls13: bool| ClientSpec {
        uid,
        device: 0,
        version,
        tls13,
        key: KeyChoice::Valid,
    };
    let send = |slot: u8, to: Dest, text: &str| A::Send {
        slot,
        to,
        text: text.as_bytes().to_vec(),
        damage: Damage::None,
    };
    let mut scripts = Vec::new();
    for version in MIN_VERSION..=LATEST_VERSION {
        scripts.push(Script {
            clients: vec![
                spec(0, version, version % 2 == 0),
                spec(1, version, version % 2 == 1),
            ],
            actions: vec![
                send(0, Dest::Person(1), "hello"),
                send(1, Dest::Person(0), "hi there"),
                A::Ack { slot: 0, nth: 0 },
                A::Ack { slot: 1, nth: 0 },
                A::Ping { slot: 0 },
            ],
        });
    }
    scripts.push(Script {
        clients: vec![spec(0, 4, true), spec(1, 3, false), spec(2, 2, true)],
        actions: vec![
            A::Sub {
                slot: 0,
                group: 0,
                leave: false,
            },
            A::Sub {
                slot: 1,
                group: 0,
                leave: false,
            },
            A::Sub {
                slot: 2,
                group: 0,
                leave: false,
            },
            send(0, Dest::Group(0), "to the group"),
            send(1, Dest::Group(0), "reply"),
            A::Sub {
                slot: 2,
                group: 0,
                leave: true,
            },
            send(2, Dest::Group(0), "not a member"),
            send(0, Dest::Other(1), "unsupported channel type"),
        ],
    });
    scripts.push(Script {
        clients: vec![spec(0, 4, true), spec(1, 4, true)],
        actions: vec![
            A::Abrupt { slot: 1 },
            send(0, Dest::Person(1), "while you were away"),
            send(0, Dest::Person(1), "second"),
            A::Connect {
                slot: 1,
                key: KeyChoice::Valid,
            },
            A::Ack { slot: 1, nth: 0 },
            A::Connect {
                slot: 1,
                key: KeyChoice::Valid,
            },
        ],
    });
    scripts.push(Script {
        clients: vec![spec(0, 4, true), spec(0, 4, false)],
        actions: vec![
            send(1, Dest::Person(0), "same uid, same device: kicked"),
            A::Connect {
                slot: 0,
                key: KeyChoice::Valid,
            },
        ],
    });
    let damaged = |d: Damage| A::Send {
        slot: 0,
        to: Dest::Person(1),
        text: b"damaged".to_vec(),
        damage: d,
    };
    scripts.push(Script {
        clients: vec![spec(0, 4, true), spec(1, 2, false)],
        actions: vec![
            damaged(Damage::MsgKey),
            damaged(Damage::NotBase64),
            damaged(Damage::BadLength),
            damaged(Damage::BadPadding),
            damaged(Damage::NoEncrypt),
            send(0, Dest::Person(1), "still fine"),
        ],
    });
    for key in [
        KeyChoice::Empty,
        KeyChoice::Short(20),
        KeyChoice::Long,
        KeyChoice::NotBase64,
        KeyChoice::LowOrder(3),
    ] {
        scripts.push(Script {
            clients: vec![
                ClientSpec {
                    key,
                    ..spec(0, 4, true)
                },
                spec(1, 4, true),
            ],
            actions: vec![send(1, Dest::Person(0), "offline for a bad key")],
        });
    }
    let mut raw = Vec::new();
    for hexed in UPSTREAM_FRAMES {
        raw.push(A::Raw {
            slot: 0,
            bytes: hex::decode(hexed).unwrap_or_default(),
        });
    }
    scripts.push(Script {
        clients: vec![spec(0, 4, true), spec(1, 4, true)],
        actions: raw,
    });
    scripts.push(Script {
        clients: vec![spec(0, 5, true), spec(1, 6, true)],
        actions: vec![
            A::KeyUpdate { slot: 0 },
            send(0, Dest::Person(1), "after key update"),
            A::Advance { steps: 100 },
            A::Ping { slot: 1 },
            A::Advance { steps: 1790 },
            send(1, Dest::Person(0), "alive"),
            A::CloseNotify { slot: 0 },
            A::Advance { steps: 2000 },
        ],
    });
    scripts.iter().map(Script::to_bytes).collect()
}

/// The `ws` target's first byte for raw mode with the reads of `SCHEDULES[schedule]`.
fn ws_raw(schedule: u8, stream: &[u8]) -> Vec<u8> {
    let mut v = vec![(schedule & 0x7) << 1];
    v.extend_from_slice(stream);
    v
}

/// Named raw-mode `ws` seeds (the target's tests check what each one gets): JS-SDK-like
/// sessions (upgrade, then CONNECT, SEND, PING, RECVACK each in its own masked binary
/// message), the same in one message, fragmented and cut across messages, a text message,
/// ping and close, protocol violations, and refused upgrade requests.
pub fn ws_named_seeds() -> Vec<(&'static str, Vec<u8>)> {
    use crate::gen::ws::{
        BadUpgrade, LengthForm, Payload as P, UpgradeRequest, WkOp, WsFrame, WsScript, OP_BINARY,
        OP_CLOSE, OP_CONTINUATION, OP_PING, OP_TEXT,
    };
    let ops = |version: u8| {
        vec![
            WkOp::Connect { version },
            WkOp::Send {
                to: 1,
                text: b"hello from the browser".to_vec(),
            },
            WkOp::Ping,
            WkOp::Recvack { id: 1 },
        ]
    };
    let bin = |p: P| WsFrame::new(OP_BINARY, p);
    let cont = |p: P| WsFrame::new(OP_CONTINUATION, p);
    let encode = |upgrade: UpgradeRequest, wk: Vec<WkOp>, frames: Vec<WsFrame>| {
        let (stream, _) = super::ws::wk_stream(&wk);
        WsScript {
            upgrade,
            wk,
            frames,
        }
        .encode(&stream)
    };
    // One message per wkproto frame, as the SDK sends them.
    let per_frame = |version: u8| {
        let (stream, _) = super::ws::wk_stream(&ops(version));
        let mut sizes = Vec::new();
        let mut rest = stream.as_slice();
        while let Ok(Some(b)) = crate::proto::split_frame(rest, usize::MAX) {
            sizes.push(bin(P::Wk(u16::try_from(b.total_len()).unwrap_or(u16::MAX))));
            rest = rest.get(b.total_len()..).unwrap_or_default();
        }
        encode(UpgradeRequest::Sdk, ops(version), sizes)
    };
    let sdk = per_frame(4);
    let mut out = vec![
        ("sdk session v4", ws_raw(0, &sdk)),
        ("sdk session v4, 1-byte reads", ws_raw(1, &sdk)),
        ("sdk session v4, growing reads", ws_raw(6, &sdk)),
        ("sdk session v2", ws_raw(2, &per_frame(2))),
        (
            "one message, several frames",
            ws_raw(
                0,
                &encode(UpgradeRequest::Minimal, ops(4), vec![bin(P::Wk(0))]),
            ),
        ),
        (
            "fragmented, with a ping inside",
            ws_raw(
                3,
                &encode(
                    UpgradeRequest::Query(7),
                    ops(4),
                    vec![
                        bin(P::Wk(10)).more(),
                        WsFrame::new(OP_PING, P::Raw(b"keepalive".to_vec())),
                        cont(P::Wk(40)).more(),
                        cont(P::Wk(1)),
                        WsFrame {
                            length: LengthForm::Wide16,
                            ..bin(P::Wk(30))
                        },
                        WsFrame {
                            length: LengthForm::Wide64,
                            ..bin(P::Wk(0))
                        },
                    ],
                ),
            ),
        ),
        (
            "text message",
            ws_raw(
                0,
                &encode(
                    UpgradeRequest::Sdk,
                    ops(4),
                    vec![WsFrame::new(OP_TEXT, P::Raw(b"{\"hello\":1}".to_vec()))],
                ),
            ),
        ),
        (
            "ping then close",
            ws_raw(
                5,
                &encode(
                    UpgradeRequest::Sdk,
                    vec![WkOp::Connect { version: 4 }],
                    vec![
                        bin(P::Wk(0)),
                        WsFrame::new(OP_PING, P::Raw(b"p".to_vec())),
                        WsFrame::new(
                            OP_CLOSE,
                            P::Close {
                                code: 1000,
                                reason: b"bye".to_vec(),
                            },
                        ),
                    ],
                ),
            ),
        ),
        (
            "frame over the limit",
            ws_raw(
                0,
                &encode(UpgradeRequest::Sdk, ops(4), vec![bin(P::Filler(2000))]),
            ),
        ),
        (
            "unmasked frame",
            ws_raw(
                0,
                &encode(
                    UpgradeRequest::Sdk,
                    ops(4),
                    vec![WsFrame {
                        mask: None,
                        ..bin(P::Wk(0))
                    }],
                ),
            ),
        ),
        (
            "invalid UTF-8 text",
            ws_raw(
                4,
                &encode(
                    UpgradeRequest::Sdk,
                    ops(4),
                    vec![WsFrame::new(OP_TEXT, P::Raw(vec![b'o', b'k', 0xc0, 0x80]))],
                ),
            ),
        ),
    ];
    for (name, bad) in [
        ("upgrade at a wrong path", BadUpgrade::WrongPath),
        ("plain HTTP request", BadUpgrade::NotWebSocket),
        ("upgrade without a key", BadUpgrade::NoKey),
        ("upgrade with version 8", BadUpgrade::Version(8)),
        ("POST upgrade", BadUpgrade::Post),
        ("TLS bytes on the ws port", BadUpgrade::Garbage),
    ] {
        out.push((
            name,
            ws_raw(0, &encode(UpgradeRequest::Bad(bad), ops(4), vec![])),
        ));
    }
    out
}

/// The named `ws` seeds, then modelled (mode 1) inputs from a deterministic random search,
/// one for each kind of outcome it finds (clean sessions, each close code, refusals).
pub(crate) fn ws_seeds() -> Vec<Vec<u8>> {
    let mut out: Vec<Vec<u8>> = ws_named_seeds().into_iter().map(|(_, s)| s).collect();
    let mut rng = ChaCha20Rng::seed_from_u64(0x5753);
    let mut wanted: std::collections::BTreeMap<String, Vec<u8>> = std::collections::BTreeMap::new();
    for i in 0..600usize {
        let mut data = vec![0u8; 1 + (i % 48) * 6];
        rng.fill_bytes(&mut data);
        if let Some(b) = data.first_mut() {
            *b |= 1;
        }
        let outcome = super::ws::run(&data);
        let verdict: String = outcome
            .verdict
            .split(':')
            .take(2)
            .collect::<Vec<_>>()
            .join(":");
        let key = format!("{verdict} clean={}", outcome.get("clean_sessions"));
        wanted.entry(key).or_insert(data);
    }
    out.extend(wanted.into_values());
    out
}

/// `n` pseudo-random inputs of growing length, seeded by the target's name.
pub(crate) fn random_seeds(name: &str, n: usize) -> Vec<Vec<u8>> {
    let mut rng = ChaCha20Rng::seed_from_u64(name.bytes().map(u64::from).sum());
    (0..n)
        .map(|i| {
            let mut v = vec![0u8; 16 + i * 8];
            rng.fill_bytes(&mut v);
            v
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_frames_decode() {
        let frames = frame_seeds();
        for (i, hexed) in UPSTREAM_FRAMES.iter().enumerate() {
            let bytes = &frames[i];
            assert_eq!(
                bytes.len() * 2,
                hexed.split_whitespace().collect::<String>().len()
            );
            assert!(
                matches!(Frame::read(bytes, 4, usize::MAX), Ok(Some(_))),
                "frame {i}: {bytes:02x?}"
            );
        }
    }

    #[test]
    fn session_seeds_reach_the_application_layer() {
        let seeds = session_seeds();
        let outcomes: Vec<_> = seeds
            .iter()
            .map(|s| super::super::session::run(s))
            .collect();
        let logged_in = outcomes
            .iter()
            .filter(|o| o.get("connack_success") > 0)
            .count();
        let delivered = outcomes.iter().filter(|o| o.get("recv") > 0).count();
        assert_eq!(logged_in, seeds.len(), "{outcomes:#?}");
        assert!(
            delivered * 2 >= seeds.len(),
            "{delivered}/{}: {outcomes:#?}",
            seeds.len()
        );
    }

    #[test]
    fn handshake_seeds_complete_handshakes_of_both_versions() {
        let seeds = handshake_seeds();
        let descriptions: Vec<String> = seeds
            .iter()
            .map(|s| super::super::handshake::describe(s))
            .collect();
        let completed: Vec<&String> = seeds
            .iter()
            .zip(&descriptions)
            .filter(|(s, _)| super::super::handshake::run(s).get("handshakes_completed") > 0)
            .map(|(_, d)| d)
            .collect();
        assert!(
            completed.iter().any(|d| d.contains("tls13: true")),
            "no TLS 1.3 completion"
        );
        assert!(
            completed.iter().any(|d| d.contains("tls13: false")),
            "no TLS 1.2 completion"
        );
        assert!(
            completed.iter().any(|d| d.contains("resume: true")),
            "no resumption"
        );
    }

    #[test]
    fn transcripts_are_deterministic_and_reach_delivery() {
        for v in MIN_VERSION..=LATEST_VERSION {
            let (a, b) = chat_transcript(v);
            assert_eq!((a.clone(), b.clone()), chat_transcript(v));
            let mut c = Client::new([0; 32], v);
            let frames = c.handle_bytes(&b).unwrap();
            assert!(
                frames.iter().any(|f| matches!(f.packet, Packet::Recv(_))),
                "v{v}: bob got a RECV"
            );
        }
    }
}
