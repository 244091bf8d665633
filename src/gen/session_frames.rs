//! The frames a `session` script's client sends (see [`super::script`]), built by the real
//! codec and client, with the malformed fields the script asks for. The `session` fuzz
//! target and `wkfuzz attack`'s live script player both build their frames here. A string field the codec cannot carry (invalid
//! UTF-8, or longer than its 32,767-byte limit) is encoded as a placeholder and patched into
//! the encoded frame afterwards, lengths fixed up, so the server sees exactly those bytes.

use crate::client::Client;
use crate::gen::names::as_wire_string;
use crate::gen::script::{Damage, KeyChoice};
use crate::proto::crypto::{self, AppCipher};
use crate::proto::{
    split_frame, ChannelType, Connack, Disconnect, Event, Frame, Packet, Recv, Recvack, Send,
    Sendack, Setting, Sub, Suback,
};
use base64::Engine;

/// X25519 points of small order (Cremers & Jackson's list): each gives an all-zero secret.
const LOW_ORDER_POINTS: [&str; 7] = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
];

/// Client timestamp of every CONNECT.
const CLIENT_TIME_MS: i64 = 1_700_000_000_000;

/// A string field's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Text {
    /// What the codec writes as is.
    Str(String),
    /// Bytes it cannot write (patched in).
    Raw(Vec<u8>),
}

impl Text {
    /// The field for `bytes`: a string when the codec can carry them.
    pub fn new(bytes: Vec<u8>) -> Text {
        match as_wire_string(&bytes) {
            Some(_) => Text::Str(String::from_utf8(bytes).unwrap_or_default()),
            None => Text::Raw(bytes),
        }
    }

    /// The string, if the server can decode it.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Text::Str(s) => Some(s),
            Text::Raw(_) => None,
        }
    }
}

/// Encodes frames whose string fields may hold bytes the codec cannot write.
#[derive(Debug, Default, Clone)]
struct Patcher {
    /// (placeholder, bytes) per raw field, in the order the fields were filled.
    raws: Vec<(String, Vec<u8>)>,
}

impl Patcher {
    /// The value to put in a field: the string, or a placeholder to patch.
    fn field(&mut self, text: &Text) -> String {
        match text {
            Text::Str(s) => s.clone(),
            Text::Raw(bytes) => {
                let placeholder = format!("\u{1}{}\u{2}", self.raws.len());
                self.raws.push((placeholder.clone(), bytes.clone()));
                placeholder
            }
        }
    }

    /// Encodes `frame` at `version` and writes each raw field over its placeholder (with
    /// its own u16 length, cut to 65,535 bytes), then the frame's length.
    fn encode(self, frame: &Frame, version: u8) -> Vec<u8> {
        let encoded = frame.to_bytes(version);
        if self.raws.is_empty() {
            return encoded;
        }
        let Ok(Some(bounds)) = split_frame(&encoded, usize::MAX) else {
            return encoded;
        };
        let mut body = encoded
            .get(bounds.header_len..)
            .unwrap_or_default()
            .to_vec();
        for (placeholder, bytes) in &self.raws {
            let mut needle = u16::try_from(placeholder.len())
                .unwrap_or(0)
                .to_be_bytes()
                .to_vec();
            needle.extend_from_slice(placeholder.as_bytes());
            // memmem, not a comparison per window: each costs a callback in fuzz builds, and a
            // placeholder the frame does not carry means a search through a whole payload.
            let Some(at) = memchr::memmem::find(&body, &needle) else {
                continue;
            };
            let (Some(before), Some(after)) =
                (body.get(..at), body.get(at.saturating_add(needle.len())..))
            else {
                continue;
            };
            let bytes = bytes.get(..usize::from(u16::MAX)).unwrap_or(bytes);
            let len = u16::try_from(bytes.len()).unwrap_or(u16::MAX);
            // Copied in four pieces: `Vec::splice` writes its replacement a byte at a time.
            let mut patched = Vec::with_capacity(body.len().saturating_add(bytes.len()));
            patched.extend_from_slice(before);
            patched.extend_from_slice(&len.to_be_bytes());
            patched.extend_from_slice(bytes);
            patched.extend_from_slice(after);
            body = patched;
        }
        let mut out = vec![bounds.first_byte];
        crate::proto::varint::encode(body.len(), &mut out);
        out.extend_from_slice(&body);
        out
    }
}

/// The names a CONNECT carries.
#[derive(Debug)]
pub struct ConnectNames<'a> {
    /// The uid.
    pub uid: &'a Text,
    /// The token.
    pub token: &'a Text,
    /// The device id.
    pub device_id: &'a Text,
}

/// CONNECT with the client's key changed as `key` says.
pub fn connect(wk: &Client, names: &ConnectNames<'_>, device: u8, key: &KeyChoice) -> Vec<u8> {
    let mut p = Patcher::default();
    let uid = p.field(names.uid);
    let token = p.field(names.token);
    let mut frame = wk.connect(
        &uid,
        &token,
        crate::proto::DeviceFlag(device),
        CLIENT_TIME_MS,
    );
    if let Packet::Connect(c) = &mut frame.packet {
        c.device_id = p.field(names.device_id);
        c.client_key = client_key(key, &c.client_key);
    }
    p.encode(&frame, wk.negotiated_version())
}

/// The ClientKey string `key` asks for, from the client's real one.
fn client_key(key: &KeyChoice, real: &str) -> String {
    let replace_at = |n: &u8, with: char| {
        let at = usize::from(*n) % real.len().max(1);
        real.char_indices()
            .map(|(i, c)| if i == at { with } else { c })
            .collect()
    };
    match key {
        KeyChoice::Valid => real.to_owned(),
        KeyChoice::Empty => String::new(),
        KeyChoice::Short(n) => real.chars().take(usize::from(*n) % 44).collect(),
        KeyChoice::Long => format!("{real}AAAA"),
        KeyChoice::NotBase64 => format!("!{real}"),
        KeyChoice::WrongChar(n) => replace_at(n, '*'),
        KeyChoice::MultiByte(n) => replace_at(n, 'é'),
        KeyChoice::LowOrder(n) => {
            let hexed = LOW_ORDER_POINTS[usize::from(*n) % LOW_ORDER_POINTS.len()];
            base64::engine::general_purpose::STANDARD.encode(hex::decode(hexed).unwrap_or_default())
        }
    }
}

/// A SEND as built, and what its recipients must read.
#[derive(Debug)]
pub struct BuiltSend {
    /// The wire bytes.
    pub bytes: Vec<u8>,
    /// Its ClientSeq.
    pub seq: u32,
    /// What a recipient's client must get from the RECV (`None`: unknown, the damage may or
    /// may not be caught).
    pub content: Option<Vec<u8>>,
}

/// The parts of a SEND the script chooses.
#[derive(Debug)]
pub struct SendSpec<'a> {
    /// Channel id.
    pub channel: &'a Text,
    /// Channel type.
    pub ty: ChannelType,
    /// Plaintext.
    pub plain: &'a [u8],
    /// Damage to apply.
    pub damage: Damage,
    /// client_msg_no, or `None` for the client's own (`m<seq>`).
    pub msg_no: Option<&'a Text>,
    /// Setting bits added (stream and topic bring their fields along).
    pub setting: u8,
    /// The server's frame limit: a SEND over it is built hollow (see [`send`]).
    /// `usize::MAX` builds every SEND in full.
    pub frame_limit: usize,
}

/// A SEND from a logged-in client; `None` if it is not logged in.
///
/// A SEND over `spec.frame_limit` is hollow: its payload is the base64 of zeros as long as
/// the ciphertext and its msgKey 32 zeros, so every length, and every byte up to the
/// payload, is the real SEND's. The server must close the connection on the frame's length
/// alone (the `session` target checks that it does), so it never reads what a frame-sized
/// encryption and signature would have cost.
pub fn send(wk: &mut Client, spec: &SendSpec<'_>) -> Option<BuiltSend> {
    let mut p = Patcher::default();
    let channel = p.field(spec.channel);
    let (mut s, seq) = wk.send_template(&channel, spec.ty).ok()?;
    let version = wk.negotiated_version();
    let cipher = wk.cipher()?;
    if let Some(no) = spec.msg_no {
        s.client_msg_no = p.field(no);
    }
    s.setting = Setting(s.setting.0 | spec.setting);
    if s.setting.has(Setting::STREAM) {
        s.stream_no = Some(s.client_msg_no.clone());
    }
    if s.setting.has(Setting::TOPIC) {
        s.topic = Some("topic".into());
    }
    // Only a payload over half the limit can take the frame over it (base64 adds a third).
    if spec.plain.len() > spec.frame_limit / 2 {
        let mut hollow = s.clone();
        hollow.payload = base64_simd::STANDARD
            .encode_to_string(vec![0; crypto::sealed_len(spec.plain.len())])
            .into_bytes();
        damage_send(
            &mut hollow,
            spec.damage,
            spec.plain,
            &Signer::Hollow,
            &mut None,
        );
        let bytes = p.clone().encode(&Frame::new(Packet::Send(hollow)), version);
        if split_frame(&bytes, spec.frame_limit).is_err() {
            return Some(BuiltSend {
                bytes,
                seq,
                content: None,
            });
        }
    }
    s.payload = cipher.encrypt(spec.plain).into_bytes();
    let mut content = Some(spec.plain.to_vec());
    damage_send(
        &mut s,
        spec.damage,
        spec.plain,
        &Signer::Cipher(cipher),
        &mut content,
    );
    if s.setting.has(Setting::NO_ENCRYPT) {
        // The payload travels as it is, damaged or not: the recipient reads those bytes.
        content = Some(s.payload.clone());
    }
    let frame = Frame::new(Packet::Send(s));
    Some(BuiltSend {
        bytes: p.encode(&frame, version),
        seq,
        content,
    })
}

/// Where a SEND's msgKey comes from.
enum Signer<'a> {
    /// The session cipher: the real msgKey.
    Cipher(&'a AppCipher),
    /// A hollow SEND's: as long as a real one, never checked.
    Hollow,
}

impl Signer<'_> {
    fn msg_key(&self, s: &Send) -> String {
        match self {
            Signer::Cipher(cipher) => cipher.msg_key(&crypto::send_sign(s)),
            Signer::Hollow => "0".repeat(32),
        }
    }
}

/// Applies `damage` to an unsigned SEND and signs it (wrongly, for the msgKey damages): one
/// signature per SEND, as a megabyte payload's msgKey costs as much as its encryption.
fn damage_send(
    s: &mut Send,
    damage: Damage,
    text: &[u8],
    signer: &Signer<'_>,
    content: &mut Option<Vec<u8>>,
) {
    let b64 = base64_simd::STANDARD;
    match damage {
        Damage::None => {}
        Damage::MsgKey | Damage::MsgKeyChars => {
            let mut k = signer.msg_key(s).into_bytes();
            if let Some(c) = k.first_mut() {
                *c = match damage {
                    Damage::MsgKeyChars => b'g',
                    _ if *c == b'0' => b'1',
                    _ => b'0',
                };
            }
            s.msg_key = String::from_utf8_lossy(&k).into_owned();
            return;
        }
        Damage::MsgKeyLength(n) => {
            let key = signer.msg_key(s);
            s.msg_key = match n % 3 {
                0 => String::new(),
                1 => key.chars().take(16).collect(),
                _ => format!("{key}00"),
            };
            return;
        }
        Damage::NotBase64 => s.payload = [b"!!".as_slice(), text].concat(),
        Damage::BadLength => {
            let mut raw = b64.decode_to_vec(&s.payload).unwrap_or_default();
            raw.pop();
            s.payload = b64.encode_to_string(raw).into_bytes();
        }
        Damage::BadPadding => {
            let mut raw = b64.decode_to_vec(&s.payload).unwrap_or_default();
            if let Some(last) = raw.last_mut() {
                *last ^= 0x5a;
            }
            s.payload = b64.encode_to_string(raw).into_bytes();
            *content = None;
        }
        Damage::NoEncrypt => {
            s.setting = Setting(s.setting.0 | Setting::NO_ENCRYPT);
            s.payload = text.to_vec();
            *content = Some(text.to_vec());
        }
    }
    s.msg_key = signer.msg_key(s);
}

/// SUB for `channel` with `action` and channel type `ty`.
pub fn sub(wk: &Client, channel: &Text, sub_no: &Text, ty: u8, action: u8) -> Vec<u8> {
    let mut p = Patcher::default();
    let frame = Frame::new(Packet::Sub(Sub {
        setting: Setting::default(),
        sub_no: p.field(sub_no),
        channel_id: p.field(channel),
        channel_type: ChannelType(ty),
        action,
        param: String::new(),
    }));
    p.encode(&frame, wk.negotiated_version())
}

/// RECVACK of `id` and `seq`.
pub fn recvack(wk: &Client, message_id: i64, message_seq: u64) -> Vec<u8> {
    wk.encode(&Frame::new(Packet::Recvack(Recvack {
        message_id,
        message_seq,
    })))
}

/// A well-formed packet of type `kind` (1..=12; 0 and 13..=15 are unknown types, sent as
/// a bare header with a one-byte body), whatever the connection's state.
pub fn packet(wk: &Client, kind: u8) -> Vec<u8> {
    let packet = match kind {
        1 => return wk.encode(&wk.connect("u0", "token", crate::proto::DeviceFlag::APP, 0)),
        2 => Packet::Connack(Connack::default()),
        3 => Packet::Send(Send {
            channel_id: "u0".into(),
            channel_type: ChannelType::PERSON,
            payload: b"x".to_vec(),
            ..Send::default()
        }),
        4 => Packet::Sendack(Sendack::default()),
        5 => Packet::Recv(Recv::default()),
        6 => Packet::Recvack(Recvack::default()),
        7 => Packet::Ping,
        8 => Packet::Pong,
        9 => Packet::Disconnect(Disconnect::default()),
        10 => Packet::Sub(Sub {
            channel_id: "g0".into(),
            channel_type: ChannelType::GROUP,
            ..Sub::default()
        }),
        11 => Packet::Suback(Suback::default()),
        12 => Packet::Event(Event::default()),
        other => return vec![(other & 0xf) << 4, 1, 0],
    };
    wk.encode(&Frame::new(packet))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_fields_are_patched_in_with_their_lengths() {
        let wk = Client::new([7; 32], 4);
        let bad = Text::new(vec![b'a', 0xff, b'b']);
        let long = Text::new(vec![b'x'; 40_000]);
        let token = Text::new(b"token".to_vec());
        assert!(matches!(bad, Text::Raw(_)) && matches!(long, Text::Raw(_)));
        let names = ConnectNames {
            uid: &bad,
            token: &token,
            device_id: &long,
        };
        let bytes = connect(&wk, &names, 0, &KeyChoice::Valid);
        let bounds = split_frame(&bytes, usize::MAX).unwrap().unwrap();
        assert_eq!(
            bounds.total_len(),
            bytes.len(),
            "the frame length covers the patch"
        );
        let at = bytes.windows(5).position(|w| w == [0, 3, b'a', 0xff, b'b']);
        assert!(at.is_some(), "the uid field holds the invalid bytes");
        assert!(bytes.windows(2).any(|w| w == 40_000u16.to_be_bytes()));
        // The server's decoder refuses what the codec could not have written.
        let body = &bytes[bounds.header_len..];
        assert!(Frame::decode(bounds.first_byte, body, 4).is_err());
    }

    /// A client logged in as if the server's X25519 key were `[3; 32]`.
    fn logged_in() -> Client {
        let mut wk = Client::new([7; 32], 4);
        let connack = Connack {
            server_key: base64::engine::general_purpose::STANDARD
                .encode(crypto::public_key(&[3; 32])),
            salt: "0123456789abcdef".into(),
            reason: crate::proto::ReasonCode::SUCCESS,
            ..Connack::default()
        };
        wk.handle_connack(&connack).expect("a valid server key");
        wk
    }

    fn decoded_send(bytes: &[u8]) -> Send {
        match Frame::read(bytes, 4, usize::MAX) {
            Ok(Some((
                Frame {
                    packet: Packet::Send(s),
                    ..
                },
                _,
            ))) => s,
            other => panic!("not a SEND: {other:?}"),
        }
    }

    #[test]
    fn a_send_over_the_limit_is_hollow_and_as_long_as_the_full_one() {
        let channel = Text::new(b"g1".to_vec());
        let limit = 4096;
        let (mut hollow, mut full) = (0, 0);
        for damage in [
            Damage::None,
            Damage::MsgKey,
            Damage::MsgKeyChars,
            Damage::MsgKeyLength(0),
            Damage::MsgKeyLength(1),
            Damage::MsgKeyLength(2),
            Damage::NotBase64,
            Damage::BadLength,
            Damage::BadPadding,
            Damage::NoEncrypt,
        ] {
            for len in [0, 2048, 2049, 2900, 3000, 3040, 3070, 3100, 5000] {
                let plain = vec![b'p'; len];
                let spec = |frame_limit| SendSpec {
                    channel: &channel,
                    ty: ChannelType::GROUP,
                    plain: &plain,
                    damage,
                    msg_no: None,
                    setting: 0,
                    frame_limit,
                };
                let whole = send(&mut logged_in(), &spec(usize::MAX)).expect("logged in");
                let built = send(&mut logged_in(), &spec(limit)).expect("logged in");
                let what = format!("{damage:?}, {len} bytes");
                if split_frame(&whole.bytes, limit).is_ok() {
                    full += 1;
                    assert_eq!(built.bytes, whole.bytes, "{what}");
                    assert_eq!(built.content, whole.content, "{what}");
                    continue;
                }
                hollow += 1;
                assert_eq!(built.bytes.len(), whole.bytes.len(), "{what}");
                assert_eq!(built.content, None, "{what}");
                let (mut b, mut w) = (decoded_send(&built.bytes), decoded_send(&whole.bytes));
                assert_eq!(b.msg_key.len(), w.msg_key.len(), "{what}");
                assert_eq!(b.payload.len(), w.payload.len(), "{what}");
                (b.msg_key, b.payload, w.msg_key, w.payload) = Default::default();
                assert_eq!(b, w, "{what}: every other field as the full SEND's");
            }
        }
        assert!(hollow >= 20 && full >= 40, "{hollow} hollow, {full} full");
    }
}
