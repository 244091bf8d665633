//! Application-layer crypto (wkproto.md section 6): X25519, the MD5-derived AES-128-CBC key,
//! Salt as IV, payload encryption and msgKey. Obfuscation, not security: implemented exactly
//! for compatibility; TLS is what protects the session.

use super::packet::{Recv, Send};

/// Why a ClientKey was refused. `Empty` maps to CONNACK 21, the rest to 2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ClientKeyError {
    /// The ClientKey string is empty.
    #[error("client key is empty")]
    Empty,
    /// Not valid standard base64.
    #[error("client key is not base64")]
    NotBase64,
    /// Decoded to this many bytes instead of 32.
    #[error("client key decodes to {0} bytes, not 32")]
    WrongLength(usize),
    /// X25519 with it gives the all-zero shared secret (a low-order point).
    #[error("client key is a low-order point (all-zero shared secret)")]
    LowOrderPoint,
}

/// Why a payload could not be decrypted (SENDACK 9).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Not valid base64.
    #[error("payload is not base64")]
    NotBase64,
    /// Ciphertext empty or not a multiple of 16 bytes.
    #[error("ciphertext length {0} is not a positive multiple of 16")]
    BadLength(usize),
    /// PKCS7 padding invalid.
    #[error("bad PKCS7 padding")]
    BadPadding,
}

/// Decodes a base64 ClientKey into a 32-byte X25519 public key.
pub fn decode_client_key(client_key: &str) -> Result<[u8; 32], ClientKeyError> {
    todo!("{client_key}")
}

/// The X25519 public key for a secret scalar.
pub fn public_key(secret: &[u8; 32]) -> [u8; 32] {
    todo!("{secret:?}")
}

/// X25519(secret, peer_public); refuses the all-zero result.
pub fn shared_secret(
    secret: &[u8; 32],
    peer_public: &[u8; 32],
) -> Result<[u8; 32], ClientKeyError> {
    todo!("{secret:?} {peer_public:?}")
}

/// 16 characters from [0-9a-zA-Z], drawn from `rng`: the CONNACK Salt and AES IV.
pub fn random_salt(rng: &mut impl rand::RngCore) -> [u8; 16] {
    todo!("{:?}", rng.next_u32())
}

/// The per-session AES-128-CBC key and IV, and the operations built on them.
#[derive(Clone, PartialEq, Eq)]
pub struct AppCipher {
    key: [u8; 16],
    iv: [u8; 16],
}

impl std::fmt::Debug for AppCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppCipher(..)")
    }
}

impl AppCipher {
    /// From raw key and IV bytes (ASCII in practice).
    pub fn new(key: [u8; 16], iv: [u8; 16]) -> AppCipher {
        AppCipher { key, iv }
    }

    /// key = first 16 chars of lowercase hex MD5 of base64(shared); iv = salt.
    pub fn from_shared(shared: &[u8; 32], salt: &[u8; 16]) -> AppCipher {
        todo!("{shared:?} {salt:?}")
    }

    /// base64(AES-128-CBC(key, iv, PKCS7(plain))).
    pub fn encrypt(&self, plain: &[u8]) -> String {
        todo!("{plain:?}")
    }

    /// Inverse of `encrypt`; every failure is a typed error.
    pub fn decrypt(&self, payload_b64: &[u8]) -> Result<Vec<u8>, PayloadError> {
        todo!("{payload_b64:?}")
    }

    /// lowercase hex MD5 of encrypt(sign).
    pub fn msg_key(&self, sign: &[u8]) -> String {
        todo!("{sign:?}")
    }

    /// Constant-time check of a peer's msgKey against `msg_key(sign)`.
    pub fn verify_msg_key(&self, sign: &[u8], msg_key: &str) -> bool {
        todo!("{sign:?} {msg_key}")
    }
}

/// SEND sign: ClientSeq ++ ClientMsgNo ++ ChannelID ++ ChannelType ++ Payload (decimal numbers).
pub fn send_sign(send: &Send) -> Vec<u8> {
    todo!("{send:?}")
}

/// RECV sign: MessageID ++ MessageSeq ++ ClientMsgNo ++ Timestamp ++ FromUID ++ ChannelID
/// ++ ChannelType ++ Payload (decimal numbers, no separators).
pub fn recv_sign(recv: &Recv) -> Vec<u8> {
    todo!("{recv:?}")
}
