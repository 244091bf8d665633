//! The `session` target's model: several clients on one hub, each a list of actions. Slots
//! and recipients are small indices resolved against the live set (STYLE rule 12), so almost
//! every action does something real.
//!
//! The byte format is hand-written and invertible ([`Script::from_bytes`] /
//! [`Script::to_bytes`]), so seed scripts can be written as Rust values and committed as
//! bytes, and a regression's bytes read back as the script a reviewer sees. Every byte string
//! is a valid script (missing bytes read as zero). Choices are weighted toward the ordinary
//! (a supported version, a valid key, an undamaged SEND) so most executions reach the
//! application layer, while every unusual case stays reachable.

use crate::proto::crypto::{self, AppCipher};
use crate::proto::Setting;
use arbitrary::{Arbitrary, Result, Unstructured};
use base64::Engine;

/// Most clients in one script (uids `u0`..`u3`).
pub const MAX_CLIENTS: usize = 4;
/// Most actions in one script: bounds the work of one execution.
pub const MAX_ACTIONS: usize = 48;
/// Groups the script can use (`g0`, `g1`).
pub const GROUPS: u8 = 2;

/// A whole script: every slot connects (with its spec's key) before the actions run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Script {
    /// Client slots (1..=MAX_CLIENTS).
    pub clients: Vec<ClientSpec>,
    /// What happens, in order (at most MAX_ACTIONS).
    pub actions: Vec<Action>,
}

/// Who a slot is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientSpec {
    /// uid index: slots may share a uid (kicks, multi-device).
    pub uid: u8,
    /// Device flag index (0 APP, 1 WEB, 2 PC).
    pub device: u8,
    /// Protocol version sent in CONNECT (any byte).
    pub version: u8,
    /// TLS 1.3 or 1.2.
    pub tls13: bool,
    /// ClientKey of the connection the slot opens when the script starts.
    pub key: KeyChoice,
}

impl ClientSpec {
    /// `u0`..`u3`.
    pub fn uid(&self) -> String {
        format!("u{}", usize::from(self.uid) % MAX_CLIENTS)
    }
}

/// The ClientKey a CONNECT carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyChoice {
    /// The client's real key.
    Valid,
    /// Empty string.
    Empty,
    /// The real key cut to this many base64 characters (mod 44).
    Short(u8),
    /// The real key plus extra base64.
    Long,
    /// Not base64.
    NotBase64,
    /// A low-order X25519 point (all-zero shared secret), by index.
    LowOrder(u8),
}

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

impl KeyChoice {
    /// The ClientKey a CONNECT carries, given the client's real one (base64).
    pub fn render(&self, real: &str) -> String {
        match self {
            KeyChoice::Valid => real.to_owned(),
            KeyChoice::Empty => String::new(),
            KeyChoice::Short(n) => real.chars().take(usize::from(*n) % 44).collect(),
            KeyChoice::Long => format!("{real}AAAA"),
            KeyChoice::NotBase64 => format!("!{real}"),
            KeyChoice::LowOrder(n) => {
                let i = usize::from(*n) % LOW_ORDER_POINTS.len();
                let hexed = LOW_ORDER_POINTS.get(i).copied().unwrap_or_default();
                base64::engine::general_purpose::STANDARD
                    .encode(hex::decode(hexed).unwrap_or_default())
            }
        }
    }
}

/// How a SEND is damaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Damage {
    /// Well-formed.
    None,
    /// msgKey with one character changed.
    MsgKey,
    /// Payload that is not base64 (valid msgKey over it).
    NotBase64,
    /// Ciphertext cut to a non-multiple of 16 (valid msgKey).
    BadLength,
    /// Last ciphertext byte flipped: PKCS7 almost surely broken (valid msgKey).
    BadPadding,
    /// Plaintext with the NoEncrypt setting.
    NoEncrypt,
}

impl Damage {
    /// Applies the damage to a well-formed SEND of `text` encrypted with `cipher`, and
    /// signs the result again (except `MsgKey`, whose point is a wrong signature). Returns
    /// whether the server still decrypts `text` from it (false when the padding may happen
    /// to be valid and decrypt to something else).
    pub fn apply(self, s: &mut crate::proto::Send, text: &[u8], cipher: &AppCipher) -> bool {
        let b64 = base64::engine::general_purpose::STANDARD;
        let mut body_known = true;
        match self {
            Damage::None => return true,
            Damage::MsgKey => {
                let mut k = std::mem::take(&mut s.msg_key).into_bytes();
                if let Some(c) = k.first_mut() {
                    *c = if *c == b'0' { b'1' } else { b'0' };
                }
                s.msg_key = String::from_utf8_lossy(&k).into_owned();
                return true;
            }
            Damage::NotBase64 => s.payload = [b"!!".as_slice(), text].concat(),
            Damage::BadLength => {
                let mut raw = b64.decode(&s.payload).unwrap_or_default();
                raw.pop();
                s.payload = b64.encode(raw).into_bytes();
            }
            Damage::BadPadding => {
                let mut raw = b64.decode(&s.payload).unwrap_or_default();
                if let Some(last) = raw.last_mut() {
                    *last ^= 0x5a;
                }
                s.payload = b64.encode(raw).into_bytes();
                body_known = false;
            }
            Damage::NoEncrypt => {
                s.setting = Setting(s.setting.0 | Setting::NO_ENCRYPT);
                s.payload = text.to_vec();
            }
        }
        s.msg_key = cipher.msg_key(&crypto::send_sign(s));
        body_known
    }
}

/// Where a SEND goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dest {
    /// Person channel to uid index.
    Person(u8),
    /// Group index.
    Group(u8),
    /// An unsupported channel type.
    Other(u8),
}

/// One step. `slot` indices are taken modulo the number of clients.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Open a new TLS connection for the slot and send CONNECT.
    Connect {
        /// Slot.
        slot: u8,
        /// ClientKey variant.
        key: KeyChoice,
    },
    /// SEND a text.
    Send {
        /// Slot.
        slot: u8,
        /// Destination.
        to: Dest,
        /// Plaintext (at most 255 bytes).
        text: Vec<u8>,
        /// Damage.
        damage: Damage,
    },
    /// RECVACK the nth RECV received (or a bogus id if none).
    Ack {
        /// Slot.
        slot: u8,
        /// Which one.
        nth: u8,
    },
    /// PING.
    Ping {
        /// Slot.
        slot: u8,
    },
    /// SUB (join) or unsubscribe.
    Sub {
        /// Slot.
        slot: u8,
        /// Group index.
        group: u8,
        /// Leave instead of join.
        leave: bool,
    },
    /// Raw application bytes inside TLS (at most 255).
    Raw {
        /// Slot.
        slot: u8,
        /// Bytes.
        bytes: Vec<u8>,
    },
    /// TLS close_notify from the client.
    CloseNotify {
        /// Slot.
        slot: u8,
    },
    /// The client vanishes (TCP reset).
    Abrupt {
        /// Slot.
        slot: u8,
    },
    /// TLS 1.3 KeyUpdate from the client.
    KeyUpdate {
        /// Slot.
        slot: u8,
    },
    /// Advance the clock by this many 100 ms steps (timeouts fire).
    Advance {
        /// Steps.
        steps: u16,
    },
}

/// Action kinds by tag (tag % 16): SEND is the most frequent.
const ACTION_TABLE: [u8; 16] = [0, 0, 0, 0, 0, 1, 1, 2, 3, 3, 4, 5, 6, 7, 8, 9];

/// Reads bytes; past the end every byte is zero.
struct Cursor<'a>(&'a [u8]);

impl Cursor<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((b, rest)) => {
                self.0 = rest;
                *b
            }
            None => 0,
        }
    }

    fn bytes(&mut self) -> Vec<u8> {
        let n = usize::from(self.u8()).min(self.0.len());
        let (taken, rest) = self.0.split_at(n);
        self.0 = rest;
        taken.to_vec()
    }

    fn key(&mut self) -> KeyChoice {
        match self.u8() {
            0..=191 => KeyChoice::Valid,
            192..=201 => KeyChoice::Empty,
            202..=213 => KeyChoice::Short(self.u8()),
            214..=223 => KeyChoice::Long,
            224..=233 => KeyChoice::NotBase64,
            _ => KeyChoice::LowOrder(self.u8()),
        }
    }

    fn damage(&mut self) -> Damage {
        match self.u8() {
            0..=159 => Damage::None,
            160..=175 => Damage::MsgKey,
            176..=191 => Damage::NotBase64,
            192..=207 => Damage::BadLength,
            208..=223 => Damage::BadPadding,
            _ => Damage::NoEncrypt,
        }
    }

    fn dest(&mut self) -> Dest {
        let b = self.u8();
        match b % 4 {
            0 | 1 => Dest::Person(b / 4),
            2 => Dest::Group(b / 4),
            _ => Dest::Other(b / 4),
        }
    }
}

impl Script {
    /// Parses any bytes into a script.
    pub fn from_bytes(data: &[u8]) -> Script {
        let mut c = Cursor(data);
        let n = 1 + usize::from(c.u8()) % MAX_CLIENTS;
        let clients = (0..n)
            .map(|_| {
                let uid = c.u8();
                let device = c.u8();
                let v = c.u8();
                let version = if v < 240 { 2 + v % 5 } else { v };
                let tls13 = c.u8() % 2 == 0;
                ClientSpec {
                    uid,
                    device,
                    version,
                    tls13,
                    key: c.key(),
                }
            })
            .collect();
        let mut actions = Vec::new();
        while !c.0.is_empty() && actions.len() < MAX_ACTIONS {
            let tag = c.u8();
            let slot = c.u8();
            let kind = ACTION_TABLE
                .get(usize::from(tag % 16))
                .copied()
                .unwrap_or(0);
            actions.push(match kind {
                0 => Action::Send {
                    slot,
                    to: c.dest(),
                    text: c.bytes(),
                    damage: c.damage(),
                },
                1 => Action::Ack { slot, nth: c.u8() },
                2 => Action::Ping { slot },
                3 => Action::Sub {
                    slot,
                    group: c.u8(),
                    leave: c.u8() % 2 == 1,
                },
                4 => Action::Raw {
                    slot,
                    bytes: c.bytes(),
                },
                5 => Action::Connect { slot, key: c.key() },
                6 => Action::CloseNotify { slot },
                7 => Action::Abrupt { slot },
                8 => Action::KeyUpdate { slot },
                _ => Action::Advance {
                    steps: u16::from_be_bytes([c.u8(), c.u8()]),
                },
            });
        }
        Script { clients, actions }
    }

    /// The bytes [`Script::from_bytes`] reads back as this script. Exact for any script it
    /// produced; values outside the format (a version in 7..240, a text over 255 bytes, more
    /// than MAX_CLIENTS clients or MAX_ACTIONS actions) are mapped into it.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = vec![u8::try_from(self.clients.len().clamp(1, MAX_CLIENTS) - 1).unwrap_or(0)];
        for spec in self.clients.iter().take(MAX_CLIENTS) {
            out.push(spec.uid);
            out.push(spec.device);
            out.push(match spec.version {
                2..=6 => spec.version - 2,
                v if v >= 240 => v,
                v => 240 + v % 16,
            });
            out.push(if spec.tls13 { 0 } else { 1 });
            put_key(&mut out, &spec.key);
        }
        for action in self.actions.iter().take(MAX_ACTIONS) {
            let (kind, slot) = match action {
                Action::Send { slot, .. } => (0, slot),
                Action::Ack { slot, .. } => (1, slot),
                Action::Ping { slot } => (2, slot),
                Action::Sub { slot, .. } => (3, slot),
                Action::Raw { slot, .. } => (4, slot),
                Action::Connect { slot, .. } => (5, slot),
                Action::CloseNotify { slot } => (6, slot),
                Action::Abrupt { slot } => (7, slot),
                Action::KeyUpdate { slot } => (8, slot),
                Action::Advance { .. } => (9, &0),
            };
            let tag = ACTION_TABLE.iter().position(|&k| k == kind).unwrap_or(0);
            out.push(u8::try_from(tag).unwrap_or(0));
            out.push(*slot);
            match action {
                Action::Send {
                    to, text, damage, ..
                } => {
                    out.push(match to {
                        Dest::Person(n) => n.wrapping_mul(4),
                        Dest::Group(n) => n.wrapping_mul(4) | 2,
                        Dest::Other(n) => n.wrapping_mul(4) | 3,
                    });
                    put_bytes(&mut out, text);
                    out.push(match damage {
                        Damage::None => 0,
                        Damage::MsgKey => 160,
                        Damage::NotBase64 => 176,
                        Damage::BadLength => 192,
                        Damage::BadPadding => 208,
                        Damage::NoEncrypt => 224,
                    });
                }
                Action::Ack { nth, .. } => out.push(*nth),
                Action::Sub { group, leave, .. } => {
                    out.push(*group);
                    out.push(u8::from(*leave));
                }
                Action::Raw { bytes, .. } => put_bytes(&mut out, bytes),
                Action::Connect { key, .. } => put_key(&mut out, key),
                Action::Advance { steps } => out.extend_from_slice(&steps.to_be_bytes()),
                _ => {}
            }
        }
        out
    }
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    let n = bytes.len().min(255);
    out.push(u8::try_from(n).unwrap_or(255));
    out.extend_from_slice(bytes.get(..n).unwrap_or_default());
}

fn put_key(out: &mut Vec<u8>, key: &KeyChoice) {
    match key {
        KeyChoice::Valid => out.push(0),
        KeyChoice::Empty => out.push(192),
        KeyChoice::Short(n) => out.extend_from_slice(&[202, *n]),
        KeyChoice::Long => out.push(214),
        KeyChoice::NotBase64 => out.push(224),
        KeyChoice::LowOrder(n) => out.extend_from_slice(&[234, *n]),
    }
}

impl<'a> Arbitrary<'a> for Script {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let n = u.len();
        Ok(Script::from_bytes(u.bytes(n)?))
    }

    fn arbitrary_take_rest(u: Unstructured<'a>) -> Result<Self> {
        Ok(Script::from_bytes(u.take_rest()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{RngCore, SeedableRng};

    #[test]
    fn bytes_round_trip_through_the_script() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        for len in 0..400 {
            let mut data = vec![0u8; len];
            rng.fill_bytes(&mut data);
            let script = Script::from_bytes(&data);
            assert_eq!(Script::from_bytes(&script.to_bytes()), script, "len {len}");
        }
    }

    #[test]
    fn empty_input_is_one_client_and_no_actions() {
        let s = Script::from_bytes(&[]);
        assert_eq!(s.clients.len(), 1);
        assert_eq!(s.clients[0].key, KeyChoice::Valid);
        assert_eq!(s.clients[0].version, 2);
        assert!(s.actions.is_empty());
    }
}
