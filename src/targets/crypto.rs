//! `crypto`: the application-layer crypto under structured operations: payload decrypt of
//! arbitrary and damaged ciphertexts, PKCS7, base64, msgKey, ClientKey and X25519.
//!
//! Oracles: decrypt(encrypt(p)) == p; whatever decrypts re-encrypts to the same text (CBC with
//! a fixed IV and canonical base64 are one-to-one); a msgKey verifies for its own sign string
//! and for no damaged one; a ClientKey that decodes is the canonical base64 of 32 bytes; the
//! X25519 shared secret is symmetric and never all-zero.

use super::Outcome;
use crate::proto::crypto::{self, AppCipher};
use arbitrary::{Arbitrary, Unstructured};
use base64::Engine;

/// The structured input.
#[derive(Arbitrary, Debug)]
pub struct CryptoInput {
    /// AES key (ASCII in the real protocol; any bytes here).
    pub key: [u8; 16],
    /// IV (the CONNACK Salt).
    pub iv: [u8; 16],
    /// What to do with them.
    pub ops: Vec<CryptoOp>,
}

/// One operation.
#[derive(Arbitrary, Debug)]
pub enum CryptoOp {
    /// Encrypt then decrypt.
    RoundTrip(Vec<u8>),
    /// Decrypt arbitrary bytes.
    Decrypt(Vec<u8>),
    /// Encrypt, damage the base64 text, decrypt.
    Damaged {
        /// Plaintext.
        plain: Vec<u8>,
        /// Byte index (modulo length) and XOR mask (0 = truncate there instead).
        at: u16,
        /// XOR mask.
        xor: u8,
    },
    /// msgKey over a sign string, checked against itself and a damaged copy.
    MsgKey {
        /// Sign string.
        sign: Vec<u8>,
        /// Index of the msgKey character to change.
        at: u8,
    },
    /// Decode a ClientKey string.
    ClientKey(String),
    /// X25519 between two secrets, and with an arbitrary public key.
    Exchange {
        /// One side's scalar.
        a: [u8; 32],
        /// Other side's scalar.
        b: [u8; 32],
        /// An arbitrary peer public key.
        peer: [u8; 32],
    },
}

fn parse(data: &[u8]) -> Option<CryptoInput> {
    CryptoInput::arbitrary_take_rest(Unstructured::new(data)).ok()
}

/// Runs the target.
///
/// # Panics
/// When an oracle is violated.
pub fn run(data: &[u8]) -> Outcome {
    let Some(input) = parse(data) else {
        return Outcome::new("input too short");
    };
    let cipher = AppCipher::new(input.key, input.iv);
    let mut outcome = Outcome::new(format!("{} operations", input.ops.len()));
    for op in &input.ops {
        apply(&cipher, op, &mut outcome);
    }
    outcome
}

fn apply(cipher: &AppCipher, op: &CryptoOp, outcome: &mut Outcome) {
    match op {
        CryptoOp::RoundTrip(plain) => {
            let text = cipher.encrypt(plain);
            assert_eq!(
                cipher.decrypt(text.as_bytes()).as_ref(),
                Ok(plain),
                "decrypt(encrypt(p)) != p"
            );
            outcome.count("round_trips", 1);
        }
        CryptoOp::Decrypt(bytes) => check_decrypt(cipher, bytes, outcome),
        CryptoOp::Damaged { plain, at, xor } => {
            let mut text = cipher.encrypt(plain).into_bytes();
            let i = usize::from(*at) % text.len().max(1);
            if *xor == 0 {
                text.truncate(i);
            } else if let Some(b) = text.get_mut(i) {
                *b ^= xor;
            }
            check_decrypt(cipher, &text, outcome);
        }
        CryptoOp::MsgKey { sign, at } => {
            let key = cipher.msg_key(sign);
            assert_eq!(key.len(), 32, "msgKey is 32 hex chars");
            assert!(key
                .bytes()
                .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
            assert!(
                cipher.verify_msg_key(sign, &key),
                "a msgKey must verify its own sign"
            );
            let mut damaged = key.into_bytes();
            if let Some(c) = damaged.get_mut(usize::from(*at) % 32) {
                *c = if *c == b'0' { b'1' } else { b'0' };
            }
            let damaged = String::from_utf8_lossy(&damaged).into_owned();
            assert!(
                !cipher.verify_msg_key(sign, &damaged),
                "a damaged msgKey verified"
            );
            outcome.count("msg_keys", 1);
        }
        CryptoOp::ClientKey(text) => match crypto::decode_client_key(text) {
            Ok(key) => {
                let canonical = base64::engine::general_purpose::STANDARD.encode(key);
                assert_eq!(
                    &canonical, text,
                    "an accepted ClientKey is canonical base64 of 32 bytes"
                );
                outcome.count("client_keys_ok", 1);
            }
            Err(_) => outcome.count("client_keys_refused", 1),
        },
        CryptoOp::Exchange { a, b, peer } => {
            let ab = crypto::shared_secret(a, &crypto::public_key(b));
            let ba = crypto::shared_secret(b, &crypto::public_key(a));
            assert_eq!(ab, ba, "X25519 is symmetric");
            for secret in [ab, crypto::shared_secret(a, peer)].into_iter().flatten() {
                assert_ne!(secret, [0u8; 32], "an all-zero shared secret was accepted");
            }
            outcome.count("exchanges", 1);
        }
    }
}

/// Whatever decrypts must re-encrypt to exactly the same text.
fn check_decrypt(cipher: &AppCipher, text: &[u8], outcome: &mut Outcome) {
    match cipher.decrypt(text) {
        Ok(plain) => {
            assert_eq!(
                cipher.encrypt(&plain).as_bytes(),
                text,
                "decrypt is not one-to-one"
            );
            outcome.count("decrypted", 1);
        }
        Err(_) => outcome.count("decrypt_refused", 1),
    }
}

/// The Debug form of the structured input.
pub fn describe(data: &[u8]) -> String {
    match parse(data) {
        Some(input) => format!("{input:#?}"),
        None => "input too short".into(),
    }
}
