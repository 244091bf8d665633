//! Edge-shape seeds: inputs that a few seconds of fuzzing produce but a transcript of a
//! well-behaved client never contains, so the gate (which only replays stored inputs)
//! meets them too, and fuzzing starts next to them.
//!
//! - `frame`: fixed-size packets (PING, PONG, RECVACK, SENDACK) with one to three stray
//!   bytes, and a RECVACK/SENDACK body of the other sequence width, at every version 2..=6;
//!   frame lengths (varint) and string lengths (u16) equal to, one under and one over the
//!   bytes that remain, and frame lengths at the varint width boundaries;
//! - `records`, `handshake`: ClientHellos whose SNI has many labels, a label of 63 and 64
//!   bytes, a name of 253 to 255 bytes or a trailing dot, and list/name lengths one off;
//!   `handshake` inputs are found in the model's own input space (the raw host bytes of a
//!   found input are patched in place, so the target reads exactly these names);
//! - `proxy`: PROXY v2 headers whose length field and TLV lengths are equal to, one under
//!   and one over what remains, payloads at the 1024-byte limit, address blocks one short;
//!   v1 lines and fields at their length limits;
//! - `ws`: WebSocket frames with lengths at the 125/126 and 65535/65536 form boundaries
//!   (minimal and wider forms, control frames included) and at the message limit.
//!
//! `codec` has no such seeds: its input is a typed frame whose every length the encoder
//! computes, so no length can be near or past what remains.

use crate::gen::extension::{Extension, HostName, ServerName};
use crate::gen::ws::{LengthForm, WsFrame, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING};
use crate::gen::{well_formed_tls12, well_formed_tls13, ClientHelloModel, LengthMode, RecordPlan};
use crate::proto::{
    ChannelType, Connect, DeviceFlag, Disconnect, Event, Frame, Packet, ReasonCode, Recv, Recvack,
    Send, Sendack, Setting, Sub, LATEST_VERSION, MIN_VERSION,
};
use crate::transport::proxy::{MAX_V1_LEN, MAX_V2_PAYLOAD_LEN, V2_SIGNATURE};

/// The PING header byte whose flags make the `frame` target's session log in at `version`
/// (it takes `2 + first byte % 5`), so a seed starts with a harmless fixed-size frame.
fn version_ping(version: u8) -> u8 {
    0x70 | ((version + 1) % 5)
}

/// Header byte and body of `packet` encoded at `version`.
fn split(packet: Packet, version: u8) -> (u8, Vec<u8>) {
    let mut bytes = Vec::new();
    Frame::new(packet).encode(version, &mut bytes);
    let header = bytes.first().copied().unwrap_or(0);
    let body = match crate::proto::split_frame(&bytes, usize::MAX) {
        Ok(Some(b)) => bytes.get(b.header_len..).unwrap_or_default().to_vec(),
        _ => Vec::new(),
    };
    (header, body)
}

/// A frame with `header`, the varint `len` and `body` (any length: it may not match).
fn frame(header: u8, len: usize, body: &[u8]) -> Vec<u8> {
    let mut out = vec![header];
    let mut n = len;
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            break;
        }
        out.push(byte | 0x80);
    }
    out.extend_from_slice(body);
    out
}

/// Client packets whose bodies hold strings, each string a distinct marker.
fn packets_with_strings() -> Vec<(Packet, &'static [&'static str])> {
    vec![
        (
            Packet::Connect(Connect {
                version: 4,
                device_flag: DeviceFlag::APP,
                device_id: "dv1".into(),
                uid: "ui1".into(),
                token: "tk1".into(),
                client_timestamp: 1_700_000_000_000,
                client_key: "ck1".into(),
            }),
            &["dv1", "ui1", "tk1", "ck1"],
        ),
        (
            Packet::Send(Send {
                setting: Setting(Setting::TOPIC),
                client_seq: 7,
                client_msg_no: "cm1".into(),
                channel_id: "ch1".into(),
                channel_type: ChannelType::PERSON,
                expire: Some(0),
                msg_key: "mk1".into(),
                topic: Some("tp1".into()),
                payload: b"pl".to_vec(),
                ..Send::default()
            }),
            &["cm1", "ch1", "mk1", "tp1"],
        ),
        (
            Packet::Sub(Sub {
                sub_no: "sn1".into(),
                channel_id: "gr1".into(),
                channel_type: ChannelType::GROUP,
                param: "pa1".into(),
                ..Sub::default()
            }),
            &["sn1", "gr1", "pa1"],
        ),
        (
            Packet::Disconnect(Disconnect {
                reason: ReasonCode::CONNECT_KICK,
                reason_text: "rt1".into(),
            }),
            &["rt1"],
        ),
        (
            Packet::Event(Event {
                id: "ev1".into(),
                event_type: "et1".into(),
                timestamp: 1,
                data: b"d".to_vec(),
            }),
            &["ev1", "et1"],
        ),
        (
            Packet::Recv(Recv {
                msg_key: "rk1".into(),
                from_uid: "fu1".into(),
                channel_id: "rc1".into(),
                channel_type: ChannelType::PERSON,
                client_msg_no: "rn1".into(),
                message_id: 1,
                message_seq: 1,
                payload: b"p".to_vec(),
                ..Recv::default()
            }),
            &["rk1", "fu1", "rc1", "rn1"],
        ),
    ]
}

/// `frame` seeds (see the module doc).
pub(crate) fn frame_edges() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for version in MIN_VERSION..=LATEST_VERSION {
        let start = version_ping(version);
        let seed = |frames: &[Vec<u8>]| {
            let mut s = vec![start];
            frames.iter().for_each(|f| s.extend_from_slice(f));
            s
        };
        // Fixed-size packets with 1..=3 stray bytes: after a PING/PONG (the next frame's
        // header), inside a RECVACK/SENDACK (its length counting them).
        let recvack = Packet::Recvack(Recvack {
            message_id: 99,
            message_seq: 8,
        });
        let sendack = Packet::Sendack(Sendack {
            message_id: 99,
            client_seq: 7,
            message_seq: 8,
            reason: ReasonCode::SUCCESS,
        });
        for stray in 1..=3usize {
            let bytes = &[0x01, 0x7f, 0xff][..stray];
            out.push(seed(&[vec![0x70], bytes.to_vec()]));
            out.push(seed(&[vec![0x80], bytes.to_vec()]));
            for packet in [recvack.clone(), sendack.clone()] {
                let (header, mut body) = split(packet, version);
                body.extend_from_slice(bytes);
                out.push(seed(&[frame(header, body.len(), &body), vec![0x70]]));
            }
        }
        // The other sequence width: a v6 body below v6 (4 stray bytes), a v5 body at v6.
        let other = if version >= 6 { 5 } else { 6 };
        for packet in [recvack.clone(), sendack.clone()] {
            let (header, body) = split(packet, other);
            out.push(seed(&[frame(header, body.len(), &body)]));
        }
        // Frame lengths one under and one over the body (the rest is the next frame, or
        // the frame never completes), and string lengths equal to, one under and one over
        // the bytes left in the body.
        for (packet, markers) in packets_with_strings() {
            let (header, body) = split(packet, version);
            for len in [body.len().saturating_sub(1), body.len() + 1] {
                out.push(seed(&[frame(header, len, &body), vec![0x70]]));
            }
            for marker in markers {
                let Some(at) = find(&body, marker.as_bytes()) else {
                    continue;
                };
                let Some(prefix) = at.checked_sub(2) else {
                    continue;
                };
                let left = body.len() - at;
                for declared in [left, left - 1, left + 1] {
                    let mut b = body.clone();
                    let n = u16::try_from(declared).unwrap_or(u16::MAX).to_be_bytes();
                    b[prefix] = n[0];
                    b[prefix + 1] = n[1];
                    out.push(seed(&[frame(header, b.len(), &b)]));
                }
            }
        }
    }
    // Frame lengths at the varint width boundaries, equal to and one over what remains.
    let (header, _) = split(Packet::Disconnect(Disconnect::default()), 4);
    for body_len in [127usize, 128, 16_383, 16_384] {
        let text = "r".repeat(body_len - 3);
        let (_, body) = split(
            Packet::Disconnect(Disconnect {
                reason: ReasonCode::CONNECT_KICK,
                reason_text: text,
            }),
            4,
        );
        out.push([vec![version_ping(4)], frame(header, body.len(), &body)].concat());
        out.push([vec![version_ping(4)], frame(header, body.len() + 1, &body)].concat());
    }
    out
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// SNI host names at the edges: the RFC 1035 limits (63-byte labels, 253-byte names),
/// one over each, many one-letter labels, a trailing dot, an empty label.
fn edge_hosts() -> Vec<Vec<u8>> {
    let label = |n: usize| "a".repeat(n);
    let name = |labels: &[usize]| {
        labels
            .iter()
            .map(|&n| label(n))
            .collect::<Vec<_>>()
            .join(".")
            .into_bytes()
    };
    let many = |n: usize| vec!["b"; n].join(".").into_bytes();
    vec![
        name(&[63, 9]),
        name(&[64, 9]),
        name(&[63, 63, 63, 61]),
        name(&[63, 63, 63, 62]),
        name(&[63, 63, 63, 63]),
        many(127),
        many(128),
        b"localhost.".to_vec(),
        b"local..host".to_vec(),
    ]
}

/// A hello like `base` whose SNI is `host` with the given list and name length modes.
fn with_sni(
    mut base: ClientHelloModel,
    host: &[u8],
    list_len: LengthMode,
    name_len: LengthMode,
) -> ClientHelloModel {
    if let Some(entry) = base.extension_mut(0) {
        entry.ext = Extension::ServerName(ServerName {
            list_len,
            name_len,
            ..ServerName::new(HostName::Raw(host.to_vec()))
        });
    }
    base
}

/// `records` seeds: TLS 1.3 and 1.2 hellos with edge SNI names, and SNI lengths one off.
pub(crate) fn record_edges() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for base in [well_formed_tls13(), well_formed_tls12()] {
        for host in edge_hosts() {
            let hello = with_sni(
                base.clone(),
                &host,
                LengthMode::Correct,
                LengthMode::Correct,
            );
            out.push(RecordPlan::identity().apply(&hello.encode()));
        }
        for (list, name) in [
            (LengthMode::Delta(-1), LengthMode::Correct),
            (LengthMode::Delta(1), LengthMode::Correct),
            (LengthMode::Correct, LengthMode::Delta(-1)),
            (LengthMode::Correct, LengthMode::Delta(1)),
        ] {
            let hello = with_sni(base.clone(), b"localhost", list, name);
            out.push(RecordPlan::identity().apply(&hello.encode()));
        }
    }
    out
}

/// `handshake` seeds: for each edge host name, an input of the target's own model whose
/// ClientHello carries it as its SNI and which the server answers when the name is a
/// valid one. Found by a deterministic search for a modelled hello with a raw SNI name
/// of the same length, whose bytes (taken verbatim from the input) are then replaced.
pub(crate) fn handshake_edges() -> Vec<Vec<u8>> {
    use super::handshake::{run as run_handshake, HandshakeCase};
    use arbitrary::{Arbitrary, Unstructured};
    use rand::{RngCore, SeedableRng};
    let hosts = edge_hosts();
    let mut found: Vec<Option<Vec<u8>>> = vec![None; hosts.len()];
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(0x534e49);
    let raw_sni = |data: &[u8]| -> Option<Vec<u8>> {
        let HandshakeCase::Model(input) =
            HandshakeCase::arbitrary_take_rest(Unstructured::new(data)).ok()?
        else {
            return None;
        };
        let mut hello = input.hello;
        match hello.extension_mut(0).map(|e| &e.ext) {
            Some(Extension::ServerName(ServerName {
                host: HostName::Raw(raw),
                list_len: LengthMode::Correct,
                name_len: LengthMode::Correct,
                ..
            })) => Some(raw.clone()),
            _ => None,
        }
    };
    for _ in 0..400_000 {
        if found.iter().all(Option::is_some) {
            break;
        }
        let mut data = vec![0u8; 700];
        rng.fill_bytes(&mut data);
        let Some(raw) = raw_sni(&data) else {
            continue;
        };
        for (k, host) in hosts.iter().enumerate() {
            if found[k].is_some() || raw.len() != host.len() || raw.len() < 8 {
                continue;
            }
            let Some(at) = find(&data, &raw) else {
                continue;
            };
            let mut patched = data.clone();
            patched[at..at + raw.len()].copy_from_slice(host);
            if raw_sni(&patched).as_deref() != Some(host.as_slice()) {
                continue;
            }
            // The hello must otherwise be one the server answers (checked with a name it
            // accepts, the same length, so that the edge name is what decides).
            let mut plain = data.clone();
            let valid: Vec<u8> = (0..raw.len())
                .map(|i| if i % 60 == 59 { b'.' } else { b'c' })
                .collect();
            plain[at..at + raw.len()].copy_from_slice(&valid);
            if run_handshake(&plain).get("server_flights") > 0 {
                found[k] = Some(patched);
            }
        }
    }
    found.into_iter().flatten().collect()
}

/// A PROXY v2 header: signature, version/command, family/protocol, the length field
/// `declared`, then `payload`.
fn v2(command: u8, family: u8, declared: usize, payload: &[u8]) -> Vec<u8> {
    let mut out = V2_SIGNATURE.to_vec();
    out.push(0x20 | command);
    out.push(family);
    out.extend_from_slice(&u16::try_from(declared).unwrap_or(u16::MAX).to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// A TLV with `declared` as its length and `value` as its bytes.
fn tlv(kind: u8, declared: usize, value: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    out.extend_from_slice(&u16::try_from(declared).unwrap_or(u16::MAX).to_be_bytes());
    out.extend_from_slice(value);
    out
}

/// `proxy` seeds (see the module doc).
pub(crate) fn proxy_edges() -> Vec<Vec<u8>> {
    const TCP4: u8 = 0x11;
    const TCP6: u8 = 0x21;
    const UNIX: u8 = 0x31;
    let tcp4 = [203, 0, 113, 7, 127, 0, 0, 1, 0x9c, 0x41, 0x13, 0xec];
    let mut out = Vec::new();
    // One TLV after the addresses, its length equal to, one under, one over what is left;
    // the header's length field the same around the true payload length.
    let value = b"example.com";
    for declared in [value.len(), value.len() - 1, value.len() + 1] {
        let payload = [&tcp4[..], &tlv(0x02, declared, value)].concat();
        out.push(v2(1, TCP4, payload.len(), &payload));
    }
    let payload = [&tcp4[..], &tlv(0x02, value.len(), value)].concat();
    for declared in [payload.len() - 1, payload.len() + 1] {
        out.push(v2(1, TCP4, declared, &payload));
    }
    // A TLV header cut after one and two bytes.
    for cut in 1..=2 {
        let t = tlv(0x04, 4, b"\0\0\0\x01");
        let payload = [&tcp4[..], &t[..cut]].concat();
        out.push(v2(1, TCP4, payload.len(), &payload));
    }
    // Payloads at the limit: one big TLV so the length field is 1023, 1024, 1025.
    for total in [
        MAX_V2_PAYLOAD_LEN - 1,
        MAX_V2_PAYLOAD_LEN,
        MAX_V2_PAYLOAD_LEN + 1,
    ] {
        let fill = vec![0x61; total - tcp4.len() - 3];
        let payload = [&tcp4[..], &tlv(0x02, fill.len(), &fill)].concat();
        out.push(v2(1, TCP4, payload.len(), &payload));
    }
    // Address blocks one short and exact, for each family; LOCAL with a payload.
    let tcp6: Vec<u8> = (0..36).map(|i| i as u8).collect();
    let unix = vec![0x2f; 216];
    for (family, block) in [(TCP4, &tcp4[..]), (TCP6, &tcp6[..]), (UNIX, &unix[..])] {
        let short = &block[..block.len() - 1];
        out.push(v2(1, family, short.len(), short));
        out.push(v2(1, family, block.len(), block));
    }
    out.push(v2(0, 0x00, 3, &tlv(0x03, 0, b"")));
    // v1 at its line limit (107 bytes with CRLF) and one over, and fields one over their
    // longest forms (IPv4 15, IPv6 45, port 5 characters).
    for len in [MAX_V1_LEN, MAX_V1_LEN + 1] {
        let head = "PROXY UNKNOWN ";
        let pad = "f".repeat(len - head.len() - 2);
        out.push(format!("{head}{pad}\r\n").into_bytes());
    }
    out.push(b"PROXY TCP4 203.000.113.0071 127.0.0.1 40001 5100\r\n".to_vec());
    out.push(b"PROXY TCP4 203.0.113.7 127.0.0.1 400010 5100\r\n".to_vec());
    let ip6 = "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.2555";
    out.push(format!("PROXY TCP6 {ip6} ::1 1 2\r\n").into_bytes());
    out
}

/// `ws` seeds (see the module doc): raw client streams, each an upgrade, a CONNECT in a
/// binary message, then frames with edge lengths.
pub(crate) fn ws_edges() -> Vec<Vec<u8>> {
    use crate::gen::ws::{Payload as P, UpgradeRequest, WkOp, WsScript};
    let connect = vec![WkOp::Connect { version: 4 }];
    let (wk, _) = super::ws::wk_stream(&connect);
    let head = WsScript {
        upgrade: UpgradeRequest::Sdk,
        wk: connect,
        frames: vec![WsFrame::new(OP_BINARY, P::Wk(0))],
    }
    .encode(&wk);
    let limit = super::ws::MAX_FRAME + crate::transport::ws::MAX_WKPROTO_HEADER;
    let with = |frames: &[(WsFrame, Vec<u8>)]| {
        let mut s = vec![0u8]; // raw mode, all in one read
        s.extend_from_slice(&head);
        for (f, payload) in frames {
            f.encode_with(payload, &mut s);
        }
        s
    };
    let sized = |op: u8, length: LengthForm, n: usize| {
        (
            WsFrame {
                length,
                ..WsFrame::new(op, P::Empty)
            },
            vec![0x70; n],
        )
    };
    let mut out = Vec::new();
    // 125 / 126 / 127: the 7-bit form's edge, minimal and in the wider forms.
    for n in [125usize, 126, 127] {
        for form in [LengthForm::Minimal, LengthForm::Wide16, LengthForm::Wide64] {
            out.push(with(&[sized(OP_BINARY, form, n)]));
        }
    }
    // Control frames may carry at most 125 bytes.
    for n in [125usize, 126] {
        out.push(with(&[sized(OP_PING, LengthForm::Minimal, n)]));
        out.push(with(&[sized(OP_CLOSE, LengthForm::Minimal, n)]));
    }
    // 65535 / 65536: the 16-bit form's edge (over the message limit: refused from the
    // header, so only a few payload bytes follow).
    for (n, form) in [
        (65_535u64, LengthForm::Declared(65_535)),
        (65_536, LengthForm::Declared(65_536)),
        (65_535, LengthForm::Wide64),
    ] {
        let frame = WsFrame {
            length: if matches!(form, LengthForm::Wide64) {
                LengthForm::Declared(n)
            } else {
                form
            },
            ..WsFrame::new(OP_BINARY, P::Empty)
        };
        out.push(with(&[(frame, vec![0x70; 8])]));
    }
    // The message limit: one frame of exactly the limit and one over; two fragments that
    // together are the limit and one over.
    for n in [limit, limit + 1] {
        out.push(with(&[sized(OP_BINARY, LengthForm::Minimal, n)]));
        let first = (WsFrame::new(OP_BINARY, P::Empty).more(), vec![0x70; n / 2]);
        let second = (
            WsFrame::new(OP_CONTINUATION, P::Empty),
            vec![0x70; n - n / 2],
        );
        out.push(with(&[first, second]));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_version_ping_selects_each_version() {
        for v in MIN_VERSION..=LATEST_VERSION {
            let b = version_ping(v);
            assert_eq!(b >> 4, 7, "a PING");
            assert_eq!(MIN_VERSION + b % 5, v);
        }
    }

    #[test]
    fn string_lengths_are_set_around_what_remains() {
        let seeds = frame_edges();
        // A SUB at v4 whose channel id length is exactly the rest of the body: the decoder
        // takes the rest as the id and then misses channel type, action and param.
        let (header, body) = split(
            Packet::Sub(Sub {
                sub_no: "sn1".into(),
                channel_id: "gr1".into(),
                channel_type: ChannelType::GROUP,
                param: "pa1".into(),
                ..Sub::default()
            }),
            4,
        );
        let at = find(&body, b"gr1").unwrap();
        let mut b = body.clone();
        b[at - 1] = (body.len() - at) as u8;
        let wanted = [vec![version_ping(4)], frame(header, b.len(), &b)].concat();
        assert!(seeds.contains(&wanted));
        assert!(Frame::read(&wanted[1..], 4, usize::MAX).is_err());
    }

    #[test]
    fn record_seeds_carry_the_edge_names() {
        let seeds = record_edges();
        let many = vec!["b"; 127].join(".");
        assert_eq!(many.len(), 253);
        assert!(seeds.iter().any(|s| find(s, many.as_bytes()).is_some()));
        assert!(seeds
            .iter()
            .any(|s| find(s, &[b'a'; 64]).is_some() && find(s, &[b'a'; 65]).is_none()));
    }

    #[test]
    fn proxy_seeds_straddle_the_payload_limit() {
        let seeds = proxy_edges();
        let declared = |s: &Vec<u8>| usize::from(u16::from_be_bytes([s[14], s[15]]));
        for len in [1023, 1024, 1025] {
            assert!(seeds
                .iter()
                .any(|s| s.starts_with(&V2_SIGNATURE) && declared(s) == len));
        }
        let over = seeds
            .iter()
            .find(|s| s.starts_with(&V2_SIGNATURE) && declared(s) == 1025)
            .unwrap();
        assert!(crate::transport::proxy::parse_proxy_header(over).is_err());
    }
}
