//! Seed scripts for `session`: the ordinary conversations at every version and on every
//! transport, and one script per malformed mode (names of every shape, keys, damaged SENDs,
//! packets in the wrong state, raw frames, large messages to WebSocket users, kicks and
//! reconnects with redelivery, SUB after a reconnect, timeouts), so the gate replays each
//! mode and fuzzing starts next to it.

use crate::gen::names::Name;
use crate::gen::script::{
    Action as A, Body, ClientSpec, CloseHow, Damage, Dest, KeyChoice, Script, Sni, Step,
};
use crate::proto::{LATEST_VERSION, MIN_VERSION};
use crate::transport::Transport;

/// The frames of wkproto.md section 7, hex (the same as the `frame` target's seeds).
const UPSTREAM_FRAMES: &[&str] = &[
    "70",
    "80",
    "600c000000000000006300000008",
    "90180c00156c6f67696e20696e206f7468657220646576696365",
];

fn spec(uid: u8, version: u8, transport: Transport) -> ClientSpec {
    ClientSpec {
        version,
        transport,
        ..ClientSpec::ordinary(uid)
    }
}

fn steps(actions: Vec<A>) -> Vec<Step> {
    actions
        .into_iter()
        .map(|action| Step {
            action,
            hold: false,
        })
        .collect()
}

fn script(clients: Vec<ClientSpec>, actions: Vec<A>) -> Script {
    Script {
        clients,
        groups: [Name::Pool(0), Name::Pool(1), Name::Pool(2)],
        actions: steps(actions),
    }
}

fn text(slot: u8, to: Dest, t: &str) -> A {
    A::Send {
        slot,
        to,
        body: Body::Text(t.as_bytes().to_vec()),
        damage: Damage::None,
        msg_no: Name::Pool(0),
        setting: 0,
        copies: 1,
    }
}

fn sized(slot: u8, to: Dest, body: Body) -> A {
    A::Send {
        slot,
        to,
        body,
        damage: Damage::None,
        msg_no: Name::Pool(0),
        setting: 0,
        copies: 1,
    }
}

fn join(slot: u8, group: u8) -> A {
    A::Sub {
        slot,
        group,
        action: 0,
        ty: 2,
        sub_no: Name::Pool(0),
    }
}

/// Every seed script.
pub(crate) fn scripts() -> Vec<Script> {
    let mut out = Vec::new();
    // A chat at every version, with the two clients on different transports.
    let transports = [
        Transport::Tcp,
        Transport::Ws,
        Transport::Tls,
        Transport::Wss,
    ];
    for (k, version) in (MIN_VERSION..=LATEST_VERSION).enumerate() {
        let t0 = transports[k % 4];
        let t1 = transports[(k + 1) % 4];
        out.push(script(
            vec![spec(0, version, t0), spec(1, version, t1)],
            vec![
                text(0, Dest::Slot(1), "hello"),
                text(1, Dest::Slot(0), "hi there"),
                A::Ack { slot: 0, nth: 0 },
                A::Ack { slot: 1, nth: 0 },
                A::Ping { slot: 0 },
            ],
        ));
    }
    // Groups: join, talk, leave, talk when not a member, an unknown channel type.
    out.push(script(
        vec![
            spec(0, 4, Transport::Tcp),
            spec(1, 3, Transport::Ws),
            spec(2, 2, Transport::Tcp),
        ],
        vec![
            join(0, 0),
            join(1, 0),
            join(2, 0),
            text(0, Dest::Group(0), "to the group"),
            text(1, Dest::Group(0), "reply"),
            A::Sub {
                slot: 2,
                group: 0,
                action: 1,
                ty: 2,
                sub_no: Name::Pool(0),
            },
            text(2, Dest::Group(0), "not a member"),
            text(
                0,
                Dest::Typed {
                    ty: 3,
                    name: Name::Pool(1),
                },
                "unsupported channel type",
            ),
        ],
    ));
    // Offline delivery, then redelivery of what was not acknowledged on reconnect.
    out.push(script(
        vec![spec(0, 4, Transport::Tcp), spec(1, 4, Transport::Ws)],
        vec![
            A::Close {
                slot: 1,
                how: CloseHow::Abrupt,
            },
            text(0, Dest::Slot(1), "while you were away"),
            text(0, Dest::Slot(1), "second"),
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
    ));
    // Same uid and device: the older connection is kicked, its unacknowledged message goes
    // to the newer one.
    out.push(script(
        vec![spec(0, 4, Transport::Ws), spec(1, 4, Transport::Tcp)],
        vec![
            text(1, Dest::Slot(0), "before the kick"),
            A::Connect {
                slot: 0,
                key: KeyChoice::Valid,
            },
            text(1, Dest::Slot(0), "after the kick"),
        ],
    ));
    // SUB after a reconnect: membership is the user's, not the connection's.
    out.push(script(
        vec![spec(0, 4, Transport::Tcp), spec(1, 4, Transport::Tcp)],
        vec![
            join(0, 1),
            join(1, 1),
            A::Connect {
                slot: 1,
                key: KeyChoice::Valid,
            },
            join(1, 1),
            text(0, Dest::Group(1), "to both"),
        ],
    ));
    // Large messages to a WebSocket and a TLS user, at and just over the frame limit.
    out.push(script(
        vec![
            spec(0, 4, Transport::Tcp),
            spec(1, 4, Transport::Ws),
            spec(2, 4, Transport::Tls),
        ],
        vec![
            join(0, 0),
            join(1, 0),
            join(2, 0),
            sized(0, Dest::Group(0), Body::Sized(13)),
            sized(0, Dest::Slot(1), Body::Sized(15)),
            sized(0, Dest::Slot(1), Body::Fit(0)),
            sized(0, Dest::Slot(2), Body::Fit(1)),
        ],
    ));
    // A second device (no group: with one, the user would join it twice); the message it
    // and the first device get is acknowledged, so the final rejoin finds nothing waiting.
    out.push(script(
        vec![spec(0, 4, Transport::Ws), spec(1, 4, Transport::Tcp)],
        vec![
            A::Device { slot: 0, other: 0 },
            text(1, Dest::Slot(0), "to both devices"),
            A::Ack { slot: 0, nth: 0 },
        ],
    ));
    // Members named in the spec: the group exists from the start; one member is away while
    // the others talk, and gets it at the final rejoin.
    out.push(script(
        vec![
            ClientSpec {
                joins: 0b011,
                ..spec(0, 4, Transport::Tcp)
            },
            ClientSpec {
                joins: 0b001,
                ..spec(1, 4, Transport::Ws)
            },
            ClientSpec {
                joins: 0b010,
                ..spec(2, 5, Transport::Tcp)
            },
        ],
        vec![
            A::Close {
                slot: 1,
                how: CloseHow::Polite,
            },
            text(0, Dest::Group(0), "while one is away"),
            text(2, Dest::Group(1), "to the other group"),
            A::Ack { slot: 2, nth: 0 },
        ],
    ));
    // A client flushing its queue: copies of one SEND in one write, to a TLS user.
    out.push(script(
        vec![spec(0, 4, Transport::Ws), spec(1, 4, Transport::Tls)],
        vec![
            A::Send {
                slot: 0,
                to: Dest::Slot(1),
                body: Body::Text(b"queued".to_vec()),
                damage: Damage::None,
                msg_no: Name::Pool(0),
                setting: 0,
                copies: 3,
            },
            A::Ack { slot: 1, nth: 2 },
        ],
    ));
    // Damaged SENDs, then an undamaged one on the same connection.
    let damaged = |d: Damage| A::Send {
        slot: 0,
        to: Dest::Slot(1),
        body: Body::Text(b"damaged".to_vec()),
        damage: d,
        msg_no: Name::Pool(0),
        setting: 0,
        copies: 1,
    };
    out.push(script(
        vec![spec(0, 4, Transport::Tcp), spec(1, 2, Transport::Ws)],
        vec![
            damaged(Damage::MsgKey),
            damaged(Damage::MsgKeyChars),
            damaged(Damage::MsgKeyLength(0)),
            damaged(Damage::MsgKeyLength(2)),
            damaged(Damage::NotBase64),
            damaged(Damage::BadLength),
            damaged(Damage::BadPadding),
            damaged(Damage::NoEncrypt),
            text(0, Dest::Slot(1), "still fine"),
        ],
    ));
    // Every ClientKey problem.
    for key in [
        KeyChoice::Empty,
        KeyChoice::Short(20),
        KeyChoice::Long,
        KeyChoice::NotBase64,
        KeyChoice::WrongChar(10),
        KeyChoice::MultiByte(43),
        KeyChoice::LowOrder(3),
    ] {
        out.push(script(
            vec![
                ClientSpec {
                    key,
                    ..spec(0, 4, Transport::Tcp)
                },
                spec(1, 4, Transport::Tcp),
            ],
            vec![text(1, Dest::Slot(0), "offline for a bad key")],
        ));
    }
    // Names of every shape: as uids (delivered to), group names, client_msg_no.
    let shapes = [
        Name::Empty,
        Name::Ascii { len: 19 },
        Name::Ascii { len: 29 },
        Name::Ascii { len: 30 },
        Name::Wide {
            ch: 1,
            len: 13,
            shift: 1,
            whole: false,
        },
        Name::Wide {
            ch: 2,
            len: 20,
            shift: 3,
            whole: false,
        },
        Name::Wide {
            ch: 0,
            len: 19,
            shift: 0,
            whole: true,
        },
        Name::Invalid {
            kind: 2,
            len: 13,
            at_start: false,
        },
        Name::Invalid {
            kind: 0,
            len: 4,
            at_start: true,
        },
    ];
    for (k, shape) in shapes.iter().enumerate() {
        let t = transports[k % 4];
        let mut odd = spec(0, 4, t);
        odd.uid = shape.clone();
        let mut s = script(
            vec![odd, spec(1, 4, Transport::Ws)],
            vec![
                text(1, Dest::Slot(0), "to an odd uid"),
                join(0, 0),
                join(1, 0),
                text(1, Dest::Group(0), "to an odd group"),
                A::Send {
                    slot: 1,
                    to: Dest::Slot(0),
                    body: Body::Text(b"odd client_msg_no".to_vec()),
                    damage: Damage::None,
                    msg_no: shape.clone(),
                    setting: 0,
                    copies: 1,
                },
                A::Ack { slot: 0, nth: 0 },
            ],
        );
        s.groups[0] = shape.clone();
        out.push(s);
    }
    // Token and device id of odd shapes, device flags and versions outside the range.
    let mut odd = spec(0, 4, Transport::Tcp);
    odd.token = Name::Wide {
        ch: 2,
        len: 7,
        shift: 2,
        whole: false,
    };
    odd.device_id = Name::Ascii { len: 29 };
    out.push(script(
        vec![
            odd,
            ClientSpec {
                device: 250,
                ..spec(1, 7, Transport::Tcp)
            },
            spec(2, 1, Transport::Ws),
            spec(3, 255, Transport::Tcp),
        ],
        vec![text(0, Dest::Slot(1), "odd fields")],
    ));
    // Every packet type before CONNECT, and after login; a DISCONNECT with packets behind
    // it in the same read.
    for kind in 0..16u8 {
        out.push(script(
            vec![spec(0, 4, Transport::Tcp), spec(1, 4, Transport::Ws)],
            vec![
                A::Open { slot: 0 },
                A::Packet { slot: 0, kind },
                A::Packet { slot: 1, kind },
                A::Ping { slot: 1 },
            ],
        ));
    }
    let mut burst = script(
        vec![spec(0, 4, Transport::Tcp), spec(1, 4, Transport::Tcp)],
        vec![
            A::Disconnect { slot: 0 },
            text(0, Dest::Slot(1), "after DISCONNECT"),
            A::AckBogus {
                slot: 1,
                id: 5,
                seq: 9,
            },
        ],
    );
    burst.actions[0].hold = true;
    out.push(burst);
    // Raw upstream frames through a logged-in connection on each transport.
    for t in transports {
        let raw = UPSTREAM_FRAMES
            .iter()
            .map(|h| A::Raw {
                slot: 0,
                bytes: hex::decode(h).unwrap_or_default(),
            })
            .collect();
        out.push(script(vec![spec(0, 4, t), spec(1, 4, Transport::Tcp)], raw));
    }
    // TLS: 1.2 and 1.3, SNI choices, KeyUpdate, close_notify; timeouts; fragments and reads.
    let mut tls12 = spec(0, 5, Transport::Tls);
    tls12.tls13 = false;
    tls12.sni = Sni::ManyLabels;
    let mut wss = spec(1, 6, Transport::Wss);
    wss.sni = Sni::None;
    wss.fragments = 3;
    wss.chunk = 7;
    out.push(script(
        vec![tls12, wss],
        vec![
            A::Close {
                slot: 1,
                how: CloseHow::KeyUpdate,
            },
            text(0, Dest::Slot(1), "after key update"),
            A::Advance { steps: 100 },
            A::Ping { slot: 1 },
            A::Advance { steps: 1790 },
            text(1, Dest::Slot(0), "alive"),
            A::Close {
                slot: 0,
                how: CloseHow::Polite,
            },
            A::Advance { steps: 2000 },
        ],
    ));
    let mut longest = spec(0, 4, Transport::Tls);
    longest.sni = Sni::Longest;
    let mut unknown = spec(1, 4, Transport::Wss);
    unknown.sni = Sni::Unknown;
    unknown.chunk = 1;
    out.push(script(
        vec![longest, unknown],
        vec![
            text(0, Dest::Slot(1), "over odd SNI"),
            A::Close {
                slot: 1,
                how: CloseHow::Polite,
            },
        ],
    ));
    out.extend(name_shapes());
    out.extend(sizes_and_settings());
    // Every packet type right after a DISCONNECT, in the same read.
    for kind in 0..16u8 {
        let mut s = script(
            vec![spec(0, 4, Transport::Ws), spec(1, 4, Transport::Tcp)],
            vec![
                A::Disconnect { slot: 0 },
                A::Packet { slot: 0, kind },
                A::Ping { slot: 1 },
            ],
        );
        s.actions[0].hold = true;
        out.push(s);
    }
    // Versions at and outside the supported range, on each transport.
    for (k, version) in [0u8, 1, 2, 6, 7, 8, 128, 255].into_iter().enumerate() {
        out.push(script(
            vec![
                spec(0, version, transports[k % 4]),
                spec(1, 4, Transport::Tcp),
            ],
            vec![text(0, Dest::Slot(1), "v"), text(1, Dest::Slot(0), "back")],
        ));
    }
    // A KeyUpdate flood in one read: rustls gives up on the connection.
    let mut flood = script(
        vec![spec(0, 4, Transport::Tls), spec(1, 4, Transport::Tcp)],
        (0..40)
            .map(|_| A::Close {
                slot: 0,
                how: CloseHow::KeyUpdate,
            })
            .chain([text(1, Dest::Slot(0), "after the flood")])
            .collect(),
    );
    for step in flood.actions.iter_mut().take(40) {
        step.hold = true;
    }
    out.push(flood);
    out
}

/// Names of every shape in every role: as the uid others deliver to, as token and device
/// id, and as group name, client_msg_no, SUB number and the id of an offline person.
fn name_shapes() -> Vec<Script> {
    let mut shapes = vec![Name::Empty, Name::Bytes(b"u\0x".to_vec())];
    // ASCII at 1, 15..17, 31..33, 63..65, 127..129, 255..257, 1024, 4096, 32767, 32768.
    for len in [
        0u8, 6, 7, 8, 9, 10, 11, 12, 13, 14, 16, 17, 18, 19, 20, 21, 23, 25, 29, 30,
    ] {
        shapes.push(Name::Ascii { len });
    }
    // Each wide character straddling 16, 64, 128 and 256 by each of its bytes.
    for (ch, width) in [(0u8, 2u8), (1, 3), (2, 4), (3, 3)] {
        for len in [7u8, 13, 17, 20] {
            for shift in 0..width.min(4) {
                shapes.push(Name::Wide {
                    ch,
                    len,
                    shift,
                    whole: false,
                });
            }
        }
        shapes.push(Name::Wide {
            ch,
            len: 19,
            shift: 1,
            whole: true,
        });
    }
    for kind in 0..8u8 {
        shapes.push(Name::Invalid {
            kind,
            len: 13,
            at_start: kind % 2 == 0,
        });
    }
    let mut out = Vec::new();
    for (k, shape) in shapes.iter().enumerate() {
        let transports = [
            Transport::Tcp,
            Transport::Ws,
            Transport::Tcp,
            Transport::Wss,
        ];
        let t = transports[k % 4];
        // As a uid: others send to it, it sends and acknowledges.
        let mut as_uid = spec(0, 4, t);
        as_uid.uid = shape.clone();
        out.push(script(
            vec![as_uid, spec(1, 4, Transport::Tcp)],
            vec![
                text(1, Dest::Slot(0), "to you"),
                text(0, Dest::Slot(1), "from you"),
                A::Ack { slot: 0, nth: 0 },
            ],
        ));
        // As token and device id.
        let mut fields = spec(0, 4, Transport::Tcp);
        fields.token = shape.clone();
        fields.device_id = shape.clone();
        out.push(script(
            vec![fields, spec(1, 4, Transport::Ws)],
            vec![text(1, Dest::Slot(0), "to odd fields")],
        ));
        // As a group, a client_msg_no, a SUB number, an offline person.
        let mut s = script(
            vec![spec(0, 4, t), spec(1, 4, Transport::Tcp)],
            vec![
                A::Sub {
                    slot: 0,
                    group: 0,
                    action: 0,
                    ty: 2,
                    sub_no: shape.clone(),
                },
                join(1, 0),
                text(0, Dest::Group(0), "to an odd group"),
                A::Send {
                    slot: 1,
                    to: Dest::Slot(0),
                    body: Body::Text(b"odd client_msg_no".to_vec()),
                    damage: Damage::None,
                    msg_no: shape.clone(),
                    setting: 0,
                    copies: 1,
                },
                text(1, Dest::Person(shape.clone()), "to an offline person"),
                A::Ack { slot: 0, nth: 1 },
            ],
        );
        s.groups[0] = shape.clone();
        out.push(s);
    }
    out
}

/// Payload sizes from 0 to the frame limit to users on each transport; setting bits
/// (stream, topic, no-encrypt, and unknown ones) with their fields.
fn sizes_and_settings() -> Vec<Script> {
    let mut out = Vec::new();
    for (k, t) in [
        Transport::Ws,
        Transport::Tls,
        Transport::Wss,
        Transport::Tcp,
    ]
    .into_iter()
    .enumerate()
    {
        let mut receiver = spec(1, 4, t);
        receiver.fragments = 1 + u8::try_from(k).unwrap_or(0);
        let mut actions: Vec<A> = (0..16u8)
            .map(|i| sized(0, Dest::Slot(1), Body::Sized(i)))
            .collect();
        actions.push(A::Ack { slot: 1, nth: 3 });
        out.push(script(vec![spec(0, 4, Transport::Tcp), receiver], actions));
    }
    for delta in -2i8..=2 {
        out.push(script(
            vec![spec(0, 6, Transport::Wss), spec(1, 6, Transport::Ws)],
            vec![sized(0, Dest::Slot(1), Body::Fit(delta))],
        ));
    }
    for setting in [0x02u8, 0x08, 0x0a, 0x10, 0x20, 0x80, 0xff] {
        out.push(script(
            vec![spec(0, 5, Transport::Tcp), spec(1, 6, Transport::Ws)],
            vec![
                A::Send {
                    slot: 0,
                    to: Dest::Slot(1),
                    body: Body::Text(b"with settings".to_vec()),
                    damage: Damage::None,
                    msg_no: Name::Wide {
                        ch: 1,
                        len: 4,
                        shift: 1,
                        whole: false,
                    },
                    setting,
                    copies: 1,
                },
                A::Ack { slot: 1, nth: 0 },
            ],
        ));
    }
    out
}

/// The seed scripts as bytes.
pub(crate) fn seeds() -> Vec<Vec<u8>> {
    scripts().iter().map(Script::to_bytes).collect()
}
