//! Application-layer crypto (wkproto.md section 6): X25519, the MD5-derived AES-128-CBC key,
//! Salt as IV, payload encryption and msgKey. Obfuscation, not security: implemented exactly
//! for compatibility; TLS is what protects the session.

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::inout::InOutBuf;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use md5::{Digest, Md5};
use subtle::ConstantTimeEq;

use super::packet::{Recv, Send};

/// AES-128 in CBC mode, encrypting side.
type Aes128CbcEnc = cbc::Encryptor<aes::Aes128>;
/// AES-128 in CBC mode, decrypting side.
type Aes128CbcDec = cbc::Decryptor<aes::Aes128>;

/// AES block size: ciphertexts are a positive multiple of it (PKCS7 always pads).
const AES_BLOCK: usize = 16;
/// Sign bytes `msg_key` seals per step: whole AES blocks that are also whole base64 groups
/// of 3 bytes, so each step's ciphertext encodes on its own, without padding.
const SIGN_STEP: usize = 3 * AES_BLOCK * 64;
/// Room for the base64 text of one step plus the final block of padding.
const SIGN_TEXT: usize = (SIGN_STEP + AES_BLOCK).div_ceil(3) * 4;
/// Length of an X25519 public key, secret scalar and shared secret.
pub const X25519_LEN: usize = 32;
/// The characters a Salt is drawn from: [0-9a-zA-Z] (wkproto.md section 6 step 3).
const SALT_ALPHABET: &[u8; 62] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

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

/// Decodes a base64 ClientKey into a 32-byte X25519 public key. Upstream sliced
/// `bytes[:32]` without a length check (a panic on a short key); here every shape is a
/// typed error.
///
/// # Errors
/// `Empty` (CONNACK 21), `NotBase64` or `WrongLength` (CONNACK 2).
pub fn decode_client_key(client_key: &str) -> Result<[u8; 32], ClientKeyError> {
    #[cfg(feature = "planted-bugs")]
    if crate::planted::enabled(crate::planted::Bug::KeyL1) {
        if let Ok(bytes) = STANDARD.decode(client_key) {
            crate::planted::key_l1_client_key(&bytes);
        }
    }
    if client_key.is_empty() {
        return Err(ClientKeyError::Empty);
    }
    let bytes = STANDARD
        .decode(client_key)
        .map_err(|_| ClientKeyError::NotBase64)?;
    <[u8; X25519_LEN]>::try_from(bytes.as_slice())
        .map_err(|_| ClientKeyError::WrongLength(bytes.len()))
}

/// The X25519 public key for a secret scalar (clamped as X25519 does).
pub fn public_key(secret: &[u8; 32]) -> [u8; 32] {
    let secret = x25519_dalek::StaticSecret::from(*secret);
    x25519_dalek::PublicKey::from(&secret).to_bytes()
}

/// The server's X25519 operations, passed in like a rustls `CryptoProvider`: the server
/// uses [`KeyAgreement::X25519`]; the fuzz targets pass a memo of the same two functions,
/// because the scalar multiplications are constant-time library code (no branch for the
/// fuzzer to find) that took a third of a `session` run. The code around them is the same.
#[derive(Clone, Copy, Debug)]
pub struct KeyAgreement {
    /// [`public_key`] or a function with its results.
    pub public_key: fn(&[u8; 32]) -> [u8; 32],
    /// [`shared_secret`] or a function with its results.
    pub shared_secret: SharedSecretFn,
}

/// The signature of [`shared_secret`]: (our secret, the peer's public key) to the secret.
pub type SharedSecretFn = fn(&[u8; 32], &[u8; 32]) -> Result<[u8; 32], ClientKeyError>;

impl KeyAgreement {
    /// X25519 computed every time: what the server runs.
    pub const X25519: KeyAgreement = KeyAgreement {
        public_key,
        shared_secret,
    };
}

/// X25519(secret, peer_public); refuses the all-zero result.
///
/// # Errors
/// `LowOrderPoint` if the shared secret is all zeros (the peer sent a low-order point,
/// which would make the session key independent of our secret).
pub fn shared_secret(
    secret: &[u8; 32],
    peer_public: &[u8; 32],
) -> Result<[u8; 32], ClientKeyError> {
    let secret = x25519_dalek::StaticSecret::from(*secret);
    let shared = secret.diffie_hellman(&x25519_dalek::PublicKey::from(*peer_public));
    if !shared.was_contributory() {
        return Err(ClientKeyError::LowOrderPoint);
    }
    Ok(shared.to_bytes())
}

/// 16 characters from [0-9a-zA-Z], drawn from `rng`: the CONNACK Salt and AES IV.
/// Pass a CSPRNG (upstream v2 used a time-seeded one); each character is uniform
/// (6 random bits per try, values 62 and 63 drawn again).
pub fn random_salt(rng: &mut impl rand::RngCore) -> [u8; 16] {
    let mut salt = [0u8; 16];
    let mut filled = 0usize;
    let mut random = [0u8; 32];
    while filled < salt.len() {
        rng.fill_bytes(&mut random);
        let chars = random
            .iter()
            .filter_map(|b| SALT_ALPHABET.get(usize::from(b & 0x3f)));
        for (slot, &c) in salt.iter_mut().skip(filled).zip(chars) {
            *slot = c;
            filled += 1;
        }
    }
    salt
}

/// Bytes of AES-128-CBC ciphertext `encrypt` seals a plaintext of `plain_len` bytes into:
/// PKCS7 always adds padding, a whole block when the plaintext fills its last one.
pub fn sealed_len(plain_len: usize) -> usize {
    (plain_len / AES_BLOCK)
        .saturating_add(1)
        .saturating_mul(AES_BLOCK)
}

/// How an [`AppCipher`] gets a sign's msgKey (lowercase hex, as ASCII bytes):
/// [`AppCipher::compute_msg_key`], which the server binary and the tokio shell always use,
/// or a function with its results. The `session` target passes one that remembers the
/// msgKeys of a run (`src/msg_key_memo.rs`), so a check of what the other side just signed
/// costs a lookup instead of a second AES-CBC and MD5 over the whole sign.
pub type MsgKeyFn = fn(&AppCipher, &[u8]) -> [u8; 32];

/// The per-session AES-128-CBC key and IV, and the operations built on them.
#[derive(Clone)]
pub struct AppCipher {
    key: [u8; 16],
    iv: [u8; 16],
    msg_key_fn: MsgKeyFn,
}

/// Equal keys and IVs: the msgKey function says how a result is obtained, not which.
impl PartialEq for AppCipher {
    fn eq(&self, other: &AppCipher) -> bool {
        self.key == other.key && self.iv == other.iv
    }
}

impl Eq for AppCipher {}

impl std::fmt::Debug for AppCipher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AppCipher(..)")
    }
}

impl AppCipher {
    /// From raw key and IV bytes (ASCII in practice).
    pub fn new(key: [u8; 16], iv: [u8; 16]) -> AppCipher {
        AppCipher {
            key,
            iv,
            msg_key_fn: AppCipher::compute_msg_key,
        }
    }

    /// The same cipher, getting its msgKeys from `msg_key_fn`.
    pub fn with_msg_key_fn(self, msg_key_fn: MsgKeyFn) -> AppCipher {
        AppCipher { msg_key_fn, ..self }
    }

    /// key = first 16 chars of lowercase hex MD5 of base64(shared); iv = salt.
    pub fn from_shared(shared: &[u8; 32], salt: &[u8; 16]) -> AppCipher {
        let digest = lower_hex(&Md5::digest(STANDARD.encode(shared)).into());
        let mut key = [0u8; 16];
        // The hex digest has 32 characters; the key is the first 16, as ASCII bytes.
        for (k, h) in key.iter_mut().zip(digest) {
            *k = h;
        }
        AppCipher::new(key, *salt)
    }

    /// base64(AES-128-CBC(key, iv, PKCS7(plain))).
    pub fn encrypt(&self, plain: &[u8]) -> String {
        let cipher = Aes128CbcEnc::new(&self.key.into(), &self.iv.into())
            .encrypt_padded_vec_mut::<Pkcs7>(plain);
        // Payloads run to most of a frame: SIMD base64 (the `base64` crate's rules, tested
        // below) keeps them cheap, also under a fuzzer's per-comparison instrumentation.
        base64_simd::STANDARD.encode_to_string(cipher)
    }

    /// Inverse of `encrypt`; every failure is a typed error (upstream panicked on each).
    ///
    /// # Errors
    /// `NotBase64`, `BadLength` (empty or not a multiple of 16 bytes), `BadPadding`.
    pub fn decrypt(&self, payload_b64: &[u8]) -> Result<Vec<u8>, PayloadError> {
        let mut cipher = base64_simd::STANDARD
            .decode_to_vec(payload_b64)
            .map_err(|_| PayloadError::NotBase64)?;
        #[cfg(feature = "planted-bugs")]
        if crate::planted::enabled(crate::planted::Bug::PadL2) {
            let raw = Aes128CbcDec::new(&self.key.into(), &self.iv.into())
                .decrypt_padded_vec_mut::<aes::cipher::block_padding::NoPadding>(&cipher)
                .ok();
            return Ok(crate::planted::pad_l2_decrypt(cipher.len(), raw));
        }
        if cipher.is_empty() || cipher.len() % AES_BLOCK != 0 {
            return Err(PayloadError::BadLength(cipher.len()));
        }
        // In place: the plaintext is the ciphertext's buffer minus the padding.
        let plain_len = Aes128CbcDec::new(&self.key.into(), &self.iv.into())
            .decrypt_padded_mut::<Pkcs7>(&mut cipher)
            .map_err(|_| PayloadError::BadPadding)?
            .len();
        cipher.truncate(plain_len);
        Ok(cipher)
    }

    /// lowercase hex MD5 of encrypt(sign), from this cipher's [`MsgKeyFn`].
    pub fn msg_key(&self, sign: &[u8]) -> String {
        String::from_utf8_lossy(&(self.msg_key_fn)(self, sign)).into_owned()
    }

    /// [`AppCipher::msg_key`] as ASCII bytes, computed (the default [`MsgKeyFn`]).
    ///
    /// Streamed in steps of [`SIGN_STEP`] bytes (CBC chains across them), so a sign the
    /// size of a frame needs no frame-sized ciphertext or text.
    pub fn compute_msg_key(&self, sign: &[u8]) -> [u8; 32] {
        let mut aes = Aes128CbcEnc::new(&self.key.into(), &self.iv.into());
        let mut md5 = Md5::new();
        let mut text = [0u8; SIGN_TEXT];
        let mut steps = sign.chunks(SIGN_STEP);
        let last = steps.next_back().unwrap_or_default();
        let mut block = [0u8; SIGN_STEP];
        for step in steps {
            // Every step but the last is SIGN_STEP bytes long (`chunks`).
            block.copy_from_slice(step);
            let (blocks, _) = InOutBuf::from(&mut block[..]).into_chunks();
            aes.encrypt_blocks_inout_mut(blocks);
            md5.update(
                base64_simd::STANDARD.encode(&block, base64_simd::Out::from_slice(&mut text)),
            );
        }
        let sealed = aes.encrypt_padded_vec_mut::<Pkcs7>(last);
        md5.update(base64_simd::STANDARD.encode(&sealed, base64_simd::Out::from_slice(&mut text)));
        lower_hex(&md5.finalize().into())
    }

    /// Constant-time check of a peer's msgKey against `msg_key(sign)` (exact match:
    /// lowercase hex, 32 characters).
    pub fn verify_msg_key(&self, sign: &[u8], msg_key: &str) -> bool {
        (self.msg_key_fn)(self, sign)
            .ct_eq(msg_key.as_bytes())
            .into()
    }
}

/// Lowercase hex of an MD5 digest, as ASCII bytes (`hex::encode` builds a `String` a char
/// at a time, which costs more than the digest for short inputs in a fuzz build).
fn lower_hex(digest: &[u8; 16]) -> [u8; 32] {
    let mut out = [0u8; 32];
    // Fails only when the output is not twice the input, which the types rule out.
    let _ = hex::encode_to_slice(digest, &mut out);
    out
}

/// SEND sign: ClientSeq ++ ClientMsgNo ++ ChannelID ++ ChannelType ++ Payload (decimal numbers).
pub fn send_sign(send: &Send) -> Vec<u8> {
    let mut sign = format!(
        "{}{}{}{}",
        send.client_seq, send.client_msg_no, send.channel_id, send.channel_type.0
    )
    .into_bytes();
    sign.extend_from_slice(&send.payload);
    sign
}

/// RECV sign: MessageID ++ MessageSeq ++ ClientMsgNo ++ Timestamp ++ FromUID ++ ChannelID
/// ++ ChannelType ++ Payload (decimal numbers, no separators).
///
/// MessageSeq is signed as stored; below v6 only its low 32 bits travel, so sign the RECV
/// as the client will decode it (`Frame::normalized`) or the client's check fails.
pub fn recv_sign(recv: &Recv) -> Vec<u8> {
    let mut sign = format!(
        "{}{}{}{}{}{}{}",
        recv.message_id,
        recv.message_seq,
        recv.client_msg_no,
        recv.timestamp,
        recv.from_uid,
        recv.channel_id,
        recv.channel_type.0
    )
    .into_bytes();
    sign.extend_from_slice(&recv.payload);
    sign
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::types::ChannelType;
    use aes::cipher::block_padding::NoPadding;
    use proptest::prelude::*;
    use rand::SeedableRng;

    // wkproto.md section 7.
    const AES_KEY: &[u8; 16] = b"1234567890abcdef";
    const IV: &[u8; 16] = b"abcdef1234567890";
    const CLIENT_KEY: &str = "B6N8vBQgk8i3VdwbEOhstCY3StFqqFPtC9/AsrhtHHw=";
    const SERVER_KEY: &str = "WGmv9FBUlzLLqu1eXfmzCm2jHLDldCutWtShp2jxpns=";
    const SHARED: &str = "a84dc7c3c8f058b1b2dc4cd1e9b5dc0a7987f88b6a9564cde3391fc421159e77";

    fn cipher() -> AppCipher {
        AppCipher::new(*AES_KEY, *IV)
    }

    /// Bytes `first..=first + 31`, the raw scalars of the vectors.
    fn scalar(first: u8) -> [u8; 32] {
        std::array::from_fn(|i| first + i as u8)
    }

    fn vector_send() -> Send {
        Send {
            client_seq: 7,
            client_msg_no: "m1".into(),
            channel_id: "u2".into(),
            channel_type: ChannelType::PERSON,
            payload: b"ciphertext".to_vec(),
            ..Send::default()
        }
    }

    fn vector_recv() -> Recv {
        Recv {
            message_id: 99,
            message_seq: 8,
            client_msg_no: "m1".into(),
            timestamp: 123,
            from_uid: "u1".into(),
            channel_id: "u2".into(),
            channel_type: ChannelType::PERSON,
            payload: b"lHmhQSLj/3y7tkoSCBhwmw==".to_vec(),
            ..Recv::default()
        }
    }

    #[test]
    fn send_msg_key_vector() {
        let sign = send_sign(&vector_send());
        assert_eq!(sign, b"7m1u21ciphertext");
        assert_eq!(cipher().msg_key(&sign), "4045dd94e0f22fbb3cce7ffa150e38b5");
        assert!(cipher().verify_msg_key(&sign, "4045dd94e0f22fbb3cce7ffa150e38b5"));
    }

    #[test]
    fn encrypt_vector() {
        assert_eq!(cipher().encrypt(b"hello"), "lHmhQSLj/3y7tkoSCBhwmw==");
        assert_eq!(
            cipher().decrypt(b"lHmhQSLj/3y7tkoSCBhwmw=="),
            Ok(b"hello".to_vec())
        );
    }

    #[test]
    fn recv_msg_key_vector() {
        let sign = recv_sign(&vector_recv());
        assert_eq!(sign, b"998m1123u1u21lHmhQSLj/3y7tkoSCBhwmw==");
        assert_eq!(cipher().msg_key(&sign), "e7f97fc2ba14d308688a00cf8cc96817");
    }

    #[test]
    fn x25519_vectors() {
        let client_priv = scalar(0x01);
        let server_priv = scalar(0x21);
        let client_pub = public_key(&client_priv);
        let server_pub = public_key(&server_priv);
        assert_eq!(STANDARD.encode(client_pub), CLIENT_KEY);
        assert_eq!(STANDARD.encode(server_pub), SERVER_KEY);
        assert_eq!(decode_client_key(CLIENT_KEY), Ok(client_pub));
        let server_side = shared_secret(&server_priv, &client_pub).expect("contributory");
        let client_side = shared_secret(&client_priv, &server_pub).expect("contributory");
        assert_eq!(hex::encode(server_side), SHARED);
        assert_eq!(server_side, client_side);
        let session = AppCipher::from_shared(&server_side, IV);
        assert_eq!(&session.key, b"8e65549ac3e59ba4");
        assert_eq!(&session.iv, IV);
    }

    #[test]
    fn client_key_errors() {
        assert_eq!(decode_client_key(""), Err(ClientKeyError::Empty));
        assert_eq!(
            decode_client_key("not base64!"),
            Err(ClientKeyError::NotBase64)
        );
        // Missing padding is not standard base64.
        assert_eq!(
            decode_client_key(CLIENT_KEY.trim_end_matches('=')),
            Err(ClientKeyError::NotBase64)
        );
        for len in [1usize, 16, 31, 33, 64] {
            let key = STANDARD.encode(vec![9u8; len]);
            assert_eq!(
                decode_client_key(&key),
                Err(ClientKeyError::WrongLength(len))
            );
        }
    }

    #[test]
    fn low_order_points_are_refused() {
        let server_priv = scalar(0x21);
        // u = 0 and u = 1 are low-order points: X25519 with them is all zeros.
        let mut one = [0u8; 32];
        one[0] = 1;
        for point in [[0u8; 32], one] {
            assert_eq!(
                shared_secret(&server_priv, &point),
                Err(ClientKeyError::LowOrderPoint)
            );
        }
    }

    #[test]
    fn decrypt_round_trips_every_padding_length() {
        let c = cipher();
        for len in 0..=48usize {
            let plain: Vec<u8> = (0..len).map(|i| i as u8).collect();
            let text = c.encrypt(&plain);
            let raw_len = STANDARD.decode(&text).expect("base64").len();
            assert_eq!(raw_len, (len / 16 + 1) * 16);
            assert_eq!(c.decrypt(text.as_bytes()), Ok(plain));
        }
    }

    #[test]
    fn decrypt_errors_never_panic() {
        let c = cipher();
        assert_eq!(c.decrypt(b"%%%%"), Err(PayloadError::NotBase64));
        assert_eq!(
            c.decrypt(b"lHmhQSLj/3y7tkoSCBhwmw"),
            Err(PayloadError::NotBase64)
        );
        assert_eq!(c.decrypt(b""), Err(PayloadError::BadLength(0)));
        assert_eq!(
            c.decrypt(STANDARD.encode([1u8; 5]).as_bytes()),
            Err(PayloadError::BadLength(5))
        );
        assert_eq!(
            c.decrypt(STANDARD.encode([1u8; 17]).as_bytes()),
            Err(PayloadError::BadLength(17))
        );
        // Blocks whose plaintext ends in a bad PKCS7 pad: 0x00, 0x11 (> 16), and
        // 0x02 preceded by a byte that is not 0x02.
        let mut bad_last = [[7u8; 16], [7u8; 16], [7u8; 16]];
        bad_last[0][15] = 0x00;
        bad_last[1][15] = 0x11;
        bad_last[2][15] = 0x02;
        for block in bad_last {
            let raw = Aes128CbcEnc::new(AES_KEY.into(), IV.into())
                .encrypt_padded_vec_mut::<NoPadding>(&block);
            assert_eq!(
                c.decrypt(STANDARD.encode(raw).as_bytes()),
                Err(PayloadError::BadPadding)
            );
        }
    }

    #[test]
    fn verify_msg_key_is_exact() {
        let c = cipher();
        let sign = b"7m1u21ciphertext";
        assert!(c.verify_msg_key(sign, "4045dd94e0f22fbb3cce7ffa150e38b5"));
        assert!(!c.verify_msg_key(sign, "4045DD94E0F22FBB3CCE7FFA150E38B5"));
        assert!(!c.verify_msg_key(sign, "4045dd94e0f22fbb3cce7ffa150e38b4"));
        assert!(!c.verify_msg_key(sign, "4045dd94e0f22fbb3cce7ffa150e38b"));
        assert!(!c.verify_msg_key(sign, ""));
        assert!(!c.verify_msg_key(b"7m1u21ciphertexT", "4045dd94e0f22fbb3cce7ffa150e38b5"));
    }

    #[test]
    fn salts_are_alphanumeric_and_seed_driven() {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        let a = random_salt(&mut rng);
        let b = random_salt(&mut rng);
        assert_ne!(a, b);
        assert!(a.iter().chain(&b).all(u8::is_ascii_alphanumeric));
        let mut again = rand_chacha::ChaCha20Rng::seed_from_u64(1);
        assert_eq!(random_salt(&mut again), a);
        // Every character of the alphabet shows up over enough draws.
        let mut seen = [false; 128];
        for _ in 0..200 {
            for c in random_salt(&mut rng) {
                if let Some(s) = seen.get_mut(usize::from(c)) {
                    *s = true;
                }
            }
        }
        assert!(SALT_ALPHABET.iter().all(|&c| seen[usize::from(c)]));
        assert_eq!(seen.iter().filter(|&&s| s).count(), 62);
    }

    /// What the streamed `msg_key` and the SIMD `encrypt` must equal: the definitions,
    /// in one piece, with the `base64` crate.
    fn sealed_in_one_piece(c: &AppCipher, plain: &[u8]) -> String {
        STANDARD.encode(
            Aes128CbcEnc::new(&c.key.into(), &c.iv.into()).encrypt_padded_vec_mut::<Pkcs7>(plain),
        )
    }

    #[test]
    fn large_payloads_and_signs_match_the_definitions_across_step_boundaries() {
        let c = cipher();
        for len in [
            0,
            1,
            47,
            SIGN_STEP - 1,
            SIGN_STEP,
            SIGN_STEP + 1,
            2 * SIGN_STEP,
            2 * SIGN_STEP + 17,
            100_003,
        ] {
            let plain: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
            let whole = sealed_in_one_piece(&c, &plain);
            assert_eq!(c.encrypt(&plain), whole, "encrypt, {len} bytes");
            assert_eq!(
                c.msg_key(&plain),
                hex::encode(Md5::digest(&whole)),
                "msg_key, {len} bytes"
            );
            assert_eq!(
                c.decrypt(whole.as_bytes()),
                Ok(plain),
                "decrypt, {len} bytes"
            );
        }
    }

    #[test]
    fn sealed_len_is_the_length_encrypt_seals_to() {
        let c = cipher();
        for len in (0..=70).chain([1_000, 4_095, 4_096, SIGN_STEP + 1, 100_003]) {
            let sealed = STANDARD
                .decode(c.encrypt(&vec![7; len]))
                .expect("encrypt writes base64");
            assert_eq!(sealed_len(len), sealed.len(), "{len} bytes");
        }
    }

    /// base64 text near valid: an encoding of `bytes`, cut to `cut` characters (if shorter)
    /// and with character `at` replaced by `with`.
    fn near_base64() -> impl Strategy<Value = Vec<u8>> {
        let alphabet =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_ \n\0\xff";
        (
            proptest::collection::vec(any::<u8>(), 0..40),
            any::<prop::sample::Index>(),
            prop::sample::select(alphabet.to_vec()),
            prop::option::of(any::<prop::sample::Index>()),
            any::<bool>(),
        )
            .prop_map(|(bytes, at, with, cut, edit)| {
                let mut text = STANDARD.encode(bytes).into_bytes();
                if edit && !text.is_empty() {
                    let i = at.index(text.len());
                    text[i] = with;
                }
                if let Some(cut) = cut {
                    text.truncate(cut.index(text.len() + 1));
                }
                text
            })
    }

    proptest::proptest! {
        /// Payloads are decoded by `base64_simd`, keys by `base64`: both accept exactly the
        /// same texts (padding required, no stray bits, no whitespace) with the same bytes.
        #[test]
        fn payload_base64_accepts_what_the_base64_crate_accepts(text in near_base64()) {
            proptest::prop_assert_eq!(
                base64_simd::STANDARD.decode_to_vec(&text).ok(),
                STANDARD.decode(&text).ok()
            );
        }
    }

    #[test]
    fn debug_hides_the_key() {
        assert_eq!(format!("{:?}", cipher()), "AppCipher(..)");
    }
}
