//! The `session` target's libFuzzer dictionary (`fuzz/dict/session.dict`), generated from
//! the script format itself: whole fields, each a complete name shape or action. A script is
//! positional, so a one-byte change that picks a longer shape (a name of two bytes instead
//! of one) shifts every later field and loses the rest of the script; inserting a whole
//! field from the dictionary keeps it aligned. The file is committed and a test keeps it
//! equal to [`render`] (`WKFUZZ_WRITE_DICT=1 cargo test --lib script_dict` rewrites it).

use super::names::{Name, BOUNDARIES};
use super::script::{
    Action, Body, ClientSpec, CloseHow, Damage, Dest, KeyChoice, Script, Step, GROUPS,
};

/// Length indices whose names matter most: around 128 (a log or display cut), around the
/// codec's 32,767-byte limit.
const CUTS: [u8; 6] = [16, 17, 18, 28, 29, 30];

/// The dictionary's tokens: a name and the bytes of one field.
pub fn tokens() -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    let name = |n: &Name| {
        let mut b = Vec::new();
        n.write(&mut b);
        b
    };
    out.push(("name_empty".to_owned(), name(&Name::Empty)));
    for len in 0..u8::try_from(BOUNDARIES.len()).unwrap_or(0) {
        let at = BOUNDARIES[usize::from(len)];
        out.push((format!("name_ascii_{at}"), name(&Name::Ascii { len })));
    }
    for len in CUTS {
        let at = BOUNDARIES[usize::from(len)];
        for ch in 0..4 {
            for shift in 0..4 {
                let wide = Name::Wide {
                    ch,
                    len,
                    shift,
                    whole: false,
                };
                out.push((format!("name_wide{ch}_{at}_cut{shift}"), name(&wide)));
            }
            let whole = Name::Wide {
                ch,
                len,
                shift: 1,
                whole: true,
            };
            out.push((format!("name_wide{ch}_{at}_whole"), name(&whole)));
        }
        for kind in 0..8 {
            let invalid = Name::Invalid {
                kind,
                len,
                at_start: false,
            };
            out.push((format!("name_invalid{kind}_{at}"), name(&invalid)));
        }
    }
    for (label, action) in actions() {
        out.push((label, action_bytes(action)));
    }
    out
}

/// `frame`'s length shapes as raw actions through a logged-in connection: a SEND header
/// declaring far over the frame limit, one byte over it (1 MiB + 1), and a length of five
/// bytes (the codec reads at most four).
const RAW_HEADERS: [(&str, &[u8]); 3] = [
    ("raw_header_far_over_limit", &[0x30, 0xff, 0xff, 0xff, 0x7f]),
    ("raw_header_limit_plus_one", &[0x30, 0x81, 0x80, 0x40]),
    (
        "raw_header_five_byte_length",
        &[0x30, 0x80, 0x80, 0x80, 0x80, 0x01],
    ),
];

/// The packet types whose header carries a remaining length: all but PING (7) and PONG (8).
fn types_with_a_length() -> impl Iterator<Item = u8> {
    (1u8..=12).filter(|ty| !matches!(ty, 7 | 8))
}

/// One of each action kind on slot 1, as the ordinary case writes it.
fn actions() -> Vec<(String, Action)> {
    let send = |to, body, copies| Action::Send {
        slot: 1,
        to,
        body,
        damage: Damage::None,
        msg_no: Name::Pool(0),
        setting: 0,
        copies,
    };
    let mut out = vec![
        (
            "send_to_slot0".to_owned(),
            send(Dest::Slot(0), Body::Text(b"hi".to_vec()), 1),
        ),
        (
            "send_70000_twice".to_owned(),
            send(Dest::Slot(0), Body::Sized(15), 2),
        ),
        (
            "send_frame_limit".to_owned(),
            send(Dest::Slot(0), Body::Fit(0), 1),
        ),
        ("ack_first".to_owned(), Action::Ack { slot: 1, nth: 0 }),
        (
            "ack_waiting_elsewhere".to_owned(),
            Action::AckBogus {
                slot: 1,
                id: 7,
                seq: 0,
            },
        ),
        (
            "connect_again".to_owned(),
            Action::Connect {
                slot: 1,
                key: KeyChoice::Valid,
            },
        ),
        (
            "second_device".to_owned(),
            Action::Device { slot: 1, other: 0 },
        ),
        ("disconnect".to_owned(), Action::Disconnect { slot: 1 }),
        (
            "close".to_owned(),
            Action::Close {
                slot: 1,
                how: CloseHow::Polite,
            },
        ),
    ];
    for (label, bytes) in RAW_HEADERS {
        let bytes = bytes.to_vec();
        out.push((label.to_owned(), Action::Raw { slot: 1, bytes }));
    }
    // Every packet type that has a length, with a one-byte body: shorter than its fields,
    // so each decoder must stop at the end (bug class TRUNC).
    for ty in types_with_a_length() {
        let bytes = vec![ty << 4, 1, 0];
        out.push((
            format!("raw_short_body_type{ty}"),
            Action::Raw { slot: 1, bytes },
        ));
    }
    for g in 0..u8::try_from(GROUPS).unwrap_or(0) {
        for (verb, action) in [("join", 0), ("leave", 1)] {
            let sub = Action::Sub {
                slot: 1,
                group: g,
                action,
                ty: 2,
                sub_no: Name::Pool(0),
            };
            out.push((format!("{verb}_group{g}"), sub));
        }
        out.push((
            format!("send_to_group{g}"),
            send(Dest::Group(g), Body::Text(b"hi".to_vec()), 1),
        ));
    }
    out
}

/// The bytes `action` adds to a script.
fn action_bytes(action: Action) -> Vec<u8> {
    let script = |actions| Script {
        clients: vec![ClientSpec::ordinary(0)],
        groups: [Name::Pool(0), Name::Pool(1), Name::Pool(2)],
        actions,
    };
    let bare = script(Vec::new()).to_bytes();
    let with = script(vec![Step {
        action,
        hold: false,
    }])
    .to_bytes();
    with.get(bare.len()..).unwrap_or_default().to_vec()
}

/// The dictionary file's text, in libFuzzer's format.
pub fn render() -> String {
    let mut text = String::from(
        "# The `session` target's script fields (src/gen/script_dict.rs generates this file;\n\
         # do not edit). libFuzzer dictionary format.\n",
    );
    for (label, bytes) in tokens() {
        let escaped: String = bytes.iter().map(|b| format!("\\x{b:02x}")).collect();
        text.push_str(&format!("{label}=\"{escaped}\"\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen::script_bytes::Cursor;

    #[test]
    fn the_committed_dictionary_is_the_generated_one() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/dict/session.dict");
        if std::env::var_os("WKFUZZ_WRITE_DICT").is_some() {
            std::fs::write(path, render()).expect("write the dictionary");
        }
        let committed = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            committed == render(),
            "{path} is stale: WKFUZZ_WRITE_DICT=1 cargo test --lib script_dict"
        );
    }

    #[test]
    fn raw_tokens_are_the_shapes_their_names_say() {
        let limit = crate::proto::DEFAULT_MAX_FRAME;
        let declared = |bytes: &[u8]| {
            let length = bytes.get(1..).unwrap_or_default();
            crate::proto::varint::read(length)
                .ok()
                .flatten()
                .map(|(n, _)| n)
        };
        assert!(declared(RAW_HEADERS[0].1).is_some_and(|n| n > 2 * limit));
        assert_eq!(declared(RAW_HEADERS[1].1), Some(limit + 1));
        assert_eq!(declared(RAW_HEADERS[2].1), None);
        for ty in types_with_a_length() {
            let short = [ty << 4, 1, 0];
            let bounds = crate::proto::split_frame(&short, limit);
            assert!(
                matches!(bounds, Ok(Some(b)) if b.body_len == 1),
                "type {ty}"
            );
            assert!(
                crate::proto::Frame::read(&short, 4, limit).is_err(),
                "type {ty}"
            );
        }
        for (_, bytes) in RAW_HEADERS {
            assert!(crate::proto::split_frame(bytes, limit).is_err());
        }
    }

    #[test]
    fn name_tokens_read_back_as_whole_names_and_actions_as_one_step() {
        for (label, bytes) in tokens() {
            if label.starts_with("name_") {
                let mut c = Cursor::new(&bytes);
                Name::read(&mut c);
                assert!(c.is_empty(), "{label}: one name, nothing left");
            } else {
                let mut script = Script {
                    clients: vec![ClientSpec::ordinary(0)],
                    groups: [Name::Pool(0), Name::Pool(1), Name::Pool(2)],
                    actions: Vec::new(),
                }
                .to_bytes();
                script.extend_from_slice(&bytes);
                assert_eq!(
                    Script::from_bytes(&script).actions.len(),
                    1,
                    "{label}: one action"
                );
            }
        }
    }
}
