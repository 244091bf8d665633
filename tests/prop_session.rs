//! Properties of the keys and ciphertexts a logged-in client controls, driven through the
//! server's connection engine, session and hub (sans-IO, in memory, see `wkfuzz::sim`):
//! - ClientKey in CONNECT: anything but a valid 32-byte standard-base64 X25519 key gets
//!   CONNACK 21 (empty) or 2 (malformed or low-order), then close; a valid one logs in;
//! - encrypted payloads: decrypt(encrypt(p)) == p; a damaged payload or msgKey gets
//!   SENDACK 9 and the connection goes on.

mod prop_support;

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE};
use base64::Engine;
use prop_support::{config, damages};
use proptest::prelude::*;
use wkfuzz::client::Client;
use wkfuzz::gen::Damage;
use wkfuzz::hub::HubConfig;
use wkfuzz::proto::crypto::AppCipher;
use wkfuzz::proto::{ChannelType, DeviceFlag, Frame, Packet, ReasonCode};
use wkfuzz::sim::Sim;

/// X25519 points of small order: 0, 1, the two points of order 8, p-1, and p and p+1
/// (non-canonical 0 and 1); then the same with bit 255 set, which X25519 ignores (RFC 7748
/// section 5). Every clamped scalar maps them to the all-zero shared secret.
const LOW_ORDER: [&str; 14] = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000080",
    "0100000000000000000000000000000000000000000000000000000000000080",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
];

/// One connection to a fresh hub: the server's engine and a client.
struct Conn {
    sim: Sim,
    /// The connection's index in `sim`.
    i: usize,
}

impl Conn {
    fn new(secret: [u8; 32]) -> Conn {
        let mut sim = Sim::with(HubConfig::default());
        let i = sim.open_raw_as(Client::new(secret, 4), &[]);
        Conn { sim, i }
    }

    fn client(&mut self) -> &mut Client {
        &mut self.sim.peers[self.i].client
    }

    /// Whether the server closed the session.
    fn closed(&self) -> bool {
        self.sim.closed(self.i).is_some()
    }

    /// Sends `frame`; returns every frame the server answered.
    fn exchange(&mut self, frame: &Frame) -> Vec<Frame> {
        self.sim.send_frame(self.i, frame);
        self.sim.take(self.i)
    }

    /// CONNECT with `client_key`; the CONNACK reason.
    fn connect_with_key(&mut self, client_key: String) -> ReasonCode {
        let mut connect = self.client().connect("u1", "t", DeviceFlag::APP, 0);
        if let Packet::Connect(c) = &mut connect.packet {
            c.client_key = client_key;
        }
        let frames = self.exchange(&connect);
        match frames.first().map(|f| &f.packet) {
            Some(Packet::Connack(c)) => {
                if c.reason == ReasonCode::SUCCESS {
                    self.client()
                        .handle_connack(c)
                        .expect("CONNACK keys are valid");
                }
                c.reason
            }
            other => panic!("no CONNACK: {other:?}"),
        }
    }
}

/// The documented answer to a ClientKey string, computed independently of the server:
/// 21 when empty; 2 unless it is standard padded base64 of 32 bytes that X25519 does not
/// map to zero; else success.
fn expected(client_key: &str) -> ReasonCode {
    if client_key.is_empty() {
        return ReasonCode::CLIENT_KEY_IS_EMPTY;
    }
    let Ok(bytes) = STANDARD.decode(client_key) else {
        return ReasonCode::AUTH_FAIL;
    };
    let Ok(point) = <[u8; 32]>::try_from(bytes.as_slice()) else {
        return ReasonCode::AUTH_FAIL;
    };
    // Any scalar will do: low-order points give zero for every clamped scalar.
    if x25519_dalek::x25519([0x42; 32], point) == [0; 32] {
        return ReasonCode::AUTH_FAIL;
    }
    ReasonCode::SUCCESS
}

/// How a ClientKey is made, starting from the client's valid key.
#[derive(Debug, Clone)]
enum KeyCase {
    /// The valid key.
    Valid,
    /// The base64 text damaged.
    DamagedText(Vec<Damage>),
    /// The 32 raw bytes damaged (wrong length, other point), then standard base64.
    DamagedBytes(Vec<Damage>),
    /// A low-order point, by index into `LOW_ORDER`.
    LowOrder(usize),
    /// The valid bytes in the wrong base64 dialect (no padding, URL-safe), or with
    /// whitespace.
    WrongEncoding(u8),
    /// Empty.
    Empty,
    /// Any text at all.
    Text(String),
}

fn key_case() -> impl Strategy<Value = KeyCase> {
    prop_oneof![
        2 => Just(KeyCase::Valid),
        4 => damages().prop_map(KeyCase::DamagedText),
        4 => damages().prop_map(KeyCase::DamagedBytes),
        2 => (0usize..LOW_ORDER.len()).prop_map(KeyCase::LowOrder),
        1 => (0u8..4).prop_map(KeyCase::WrongEncoding),
        1 => Just(KeyCase::Empty),
        1 => ".{0,60}".prop_map(KeyCase::Text),
    ]
}

fn make_key(case: &KeyCase, client: &Client) -> String {
    let valid = client.client_key();
    let raw = STANDARD.decode(&valid).unwrap();
    match case {
        KeyCase::Valid => valid,
        KeyCase::DamagedText(d) => {
            String::from_utf8_lossy(&Damage::apply_all(d, valid.as_bytes())).into_owned()
        }
        KeyCase::DamagedBytes(d) => STANDARD.encode(Damage::apply_all(d, &raw)),
        KeyCase::LowOrder(i) => STANDARD.encode(hex::decode(LOW_ORDER[*i]).unwrap()),
        KeyCase::WrongEncoding(0) => STANDARD_NO_PAD.encode(&raw),
        KeyCase::WrongEncoding(1) => URL_SAFE.encode([0xfb; 32]),
        KeyCase::WrongEncoding(2) => format!(" {valid}"),
        KeyCase::WrongEncoding(_) => format!("{}\n{}", &valid[..20], &valid[20..]),
        KeyCase::Empty => String::new(),
        KeyCase::Text(t) => t.clone(),
    }
}

/// How a SEND is damaged.
#[derive(Debug, Clone)]
enum SendDamage {
    /// Payload damaged, msgKey left as computed for the original.
    Payload(Vec<Damage>),
    /// msgKey damaged.
    MsgKey(Vec<Damage>),
    /// Payload damaged and msgKey recomputed (a client that holds the key but sends bad
    /// ciphertext): refused exactly when the payload does not decrypt.
    ResignedPayload(Vec<Damage>),
}

fn send_damage() -> impl Strategy<Value = SendDamage> {
    prop_oneof![
        damages().prop_map(SendDamage::Payload),
        damages().prop_map(SendDamage::MsgKey),
        damages().prop_map(SendDamage::ResignedPayload),
    ]
}

proptest! {
    #![proptest_config(config("prop_session"))]

    /// Every ClientKey gets the documented CONNACK; a refused one closes the session.
    #[test]
    fn client_key_gets_the_documented_connack(secret in any::<[u8; 32]>(), case in key_case()) {
        let mut conn = Conn::new(secret);
        let key = make_key(&case, conn.client());
        let want = expected(&key);
        let got = conn.connect_with_key(key.clone());
        prop_assert_eq!(got, want, "key {:?}", key);
        prop_assert_eq!(conn.closed(), want != ReasonCode::SUCCESS);
        if let KeyCase::Valid = case {
            prop_assert_eq!(got, ReasonCode::SUCCESS);
        }
    }

    /// decrypt(encrypt(p)) == p for every key, IV and plaintext.
    #[test]
    fn payload_decrypt_inverts_encrypt(
        key in any::<[u8; 16]>(),
        iv in any::<[u8; 16]>(),
        plain in proptest::collection::vec(any::<u8>(), 0..600),
    ) {
        let cipher = AppCipher::new(key, iv);
        prop_assert_eq!(cipher.decrypt(cipher.encrypt(&plain).as_bytes()).unwrap(), plain);
    }

    /// A SEND with a damaged payload or msgKey gets SENDACK 9 (for a re-signed payload:
    /// exactly when it does not decrypt), and the connection goes on: the next valid SEND
    /// succeeds.
    #[test]
    fn damaged_payload_or_msg_key_gets_sendack_9(
        secret in any::<[u8; 32]>(),
        text in proptest::collection::vec(any::<u8>(), 0..200),
        damage in send_damage(),
    ) {
        let mut conn = Conn::new(secret);
        let key = conn.client().client_key();
        prop_assert_eq!(conn.connect_with_key(key), ReasonCode::SUCCESS);
        let (mut frame, seq) = conn.client().send("u2", ChannelType::PERSON, &text).unwrap();
        let Packet::Send(send) = &mut frame.packet else { unreachable!() };
        let cipher = conn.client().cipher().unwrap().clone();
        let original = send.clone();
        let want = match &damage {
            SendDamage::Payload(d) => {
                send.payload = Damage::apply_all(d, &send.payload);
                if send.payload == original.payload { ReasonCode::SUCCESS } else { ReasonCode::PAYLOAD_DECODE_ERROR }
            }
            SendDamage::MsgKey(d) => {
                send.msg_key = String::from_utf8_lossy(&Damage::apply_all(d, send.msg_key.as_bytes())).into_owned();
                if send.msg_key == original.msg_key { ReasonCode::SUCCESS } else { ReasonCode::PAYLOAD_DECODE_ERROR }
            }
            SendDamage::ResignedPayload(d) => {
                send.payload = Damage::apply_all(d, &send.payload);
                send.msg_key = cipher.msg_key(&wkfuzz::proto::crypto::send_sign(send));
                if cipher.decrypt(&send.payload).is_ok() { ReasonCode::SUCCESS } else { ReasonCode::PAYLOAD_DECODE_ERROR }
            }
        };
        let answer = conn.exchange(&frame);
        let ack = answer.iter().find_map(|f| match &f.packet {
            Packet::Sendack(a) if a.client_seq == seq => Some(a.clone()),
            _ => None,
        });
        prop_assert_eq!(ack.map(|a| a.reason), Some(want));
        prop_assert!(!conn.closed(), "the session goes on");
        let (next, next_seq) = conn.client().send("u2", ChannelType::PERSON, b"after").unwrap();
        let answer = conn.exchange(&next);
        let ok = answer.iter().any(|f| matches!(&f.packet, Packet::Sendack(a) if a.client_seq == next_seq && a.reason == ReasonCode::SUCCESS));
        prop_assert!(ok, "{:?}", answer);
    }
}

/// The low-order list is what it claims: each entry gives CONNACK 2 as a 32-byte key.
#[test]
fn every_low_order_point_is_refused() {
    for (i, hexed) in LOW_ORDER.iter().enumerate() {
        let mut conn = Conn::new([i as u8 + 1; 32]);
        let key = STANDARD.encode(hex::decode(hexed).unwrap());
        assert_eq!(expected(&key), ReasonCode::AUTH_FAIL, "{hexed}");
        assert_eq!(conn.connect_with_key(key), ReasonCode::AUTH_FAIL, "{hexed}");
    }
}
