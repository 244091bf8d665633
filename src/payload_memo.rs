//! The harness client's payload crypto (AES-CBC, base64, msgKey) remembered per thread for
//! large inputs. The server always computes: only the wkproto [`Client`] and the `session`
//! target's SEND builder read through this memo.
//!
//! A delivered kilobyte costs AES, base64 and MD5 three times per side (payload, then the
//! msgKey over the sealed payload), and the harness's side of a large message (seal the
//! SEND, then check and open every RECV) was about a fifth of a `session` run. The targets
//! draw the same keys every run, so a mutated script usually seals and opens the same large
//! payloads under the same ciphers as the run before. These are a pure function's results
//! and an entry matches only on the whole input (compared byte for byte), so the memo changes
//! how fast a run is, never what it does.
//!
//! [`Client`]: crate::client::Client

use std::cell::RefCell;
use std::collections::HashMap;

use crate::proto::crypto::{AppCipher, PayloadError};

/// Inputs shorter than this are computed every time: remembering them costs more than it saves.
const MIN_LEN: usize = 1024;

/// Bytes (inputs and results) kept per thread before the memo is emptied.
const CAP_BYTES: usize = 64 << 20;

/// Inputs kept with their results.
type Entries<V> = Vec<(Box<[u8]>, V)>;

/// One operation's remembered results, by cipher and input length.
struct Table<V> {
    entries: HashMap<(AppCipher, usize), Entries<V>>,
}

impl<V> Default for Table<V> {
    fn default() -> Self {
        Table {
            entries: HashMap::new(),
        }
    }
}

impl<V: Clone> Table<V> {
    fn get(&self, cipher: &AppCipher, input: &[u8]) -> Option<V> {
        self.entries
            .get(&(cipher.clone(), input.len()))?
            .iter()
            .find(|(kept, _)| **kept == *input)
            .map(|(_, v)| v.clone())
    }

    fn put(&mut self, cipher: &AppCipher, input: &[u8], value: V) {
        self.entries
            .entry((cipher.clone(), input.len()))
            .or_default()
            .push((input.into(), value));
    }

    fn clear(&mut self) {
        self.entries.clear();
    }
}

#[derive(Default)]
struct Memo {
    encrypted: Table<String>,
    msg_keys: Table<String>,
    decrypted: Table<Result<Vec<u8>, PayloadError>>,
    /// Inputs and results kept, in bytes.
    bytes: usize,
}

impl Memo {
    /// Makes room for `more` bytes: empties everything once the cap would be passed.
    fn reserve(&mut self, more: usize) {
        if self.bytes.saturating_add(more) > CAP_BYTES {
            self.encrypted.clear();
            self.msg_keys.clear();
            self.decrypted.clear();
            self.bytes = 0;
        }
        self.bytes = self.bytes.saturating_add(more);
    }
}

thread_local! {
    static MEMO: RefCell<Memo> = RefCell::new(Memo::default());
}

/// Looks `input` up in the table `pick` selects, or computes, keeps and returns the result.
fn remembered<V: Clone>(
    cipher: &AppCipher,
    input: &[u8],
    pick: fn(&mut Memo) -> &mut Table<V>,
    size: fn(&V) -> usize,
    compute: impl FnOnce() -> V,
) -> V {
    if input.len() < MIN_LEN {
        return compute();
    }
    if let Some(v) = MEMO.with(|m| pick(&mut m.borrow_mut()).get(cipher, input)) {
        return v;
    }
    let value = compute();
    MEMO.with(|m| {
        let mut m = m.borrow_mut();
        m.reserve(input.len().saturating_add(size(&value)));
        pick(&mut m).put(cipher, input, value.clone());
    });
    value
}

/// [`AppCipher::encrypt`], remembered.
pub(crate) fn encrypt(cipher: &AppCipher, plain: &[u8]) -> String {
    remembered(
        cipher,
        plain,
        |m| &mut m.encrypted,
        String::len,
        || cipher.encrypt(plain),
    )
}

/// [`AppCipher::msg_key`], remembered.
pub(crate) fn msg_key(cipher: &AppCipher, sign: &[u8]) -> String {
    remembered(
        cipher,
        sign,
        |m| &mut m.msg_keys,
        String::len,
        || cipher.msg_key(sign),
    )
}

/// [`AppCipher::verify_msg_key`] through the remembered msgKey (the harness's own check:
/// exact match, no need for constant time).
pub(crate) fn verify_msg_key(cipher: &AppCipher, sign: &[u8], key: &str) -> bool {
    msg_key(cipher, sign) == key
}

/// [`AppCipher::decrypt`], remembered (failures too).
pub(crate) fn decrypt(cipher: &AppCipher, payload_b64: &[u8]) -> Result<Vec<u8>, PayloadError> {
    remembered(
        cipher,
        payload_b64,
        |m| &mut m.decrypted,
        |r| r.as_ref().map_or(0, Vec::len),
        || cipher.decrypt(payload_b64),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher(k: u8) -> AppCipher {
        AppCipher::new([k; 16], [b'i'; 16])
    }

    #[test]
    fn remembered_results_equal_computed_ones() {
        let plain: Vec<u8> = (0..5000u32).map(|i| (i % 251) as u8).collect();
        for _ in 0..2 {
            for k in [b'a', b'b'] {
                let c = cipher(k);
                let sealed = encrypt(&c, &plain);
                assert_eq!(sealed, c.encrypt(&plain));
                assert_eq!(msg_key(&c, sealed.as_bytes()), c.msg_key(sealed.as_bytes()));
                assert!(verify_msg_key(
                    &c,
                    sealed.as_bytes(),
                    &c.msg_key(sealed.as_bytes())
                ));
                assert_eq!(decrypt(&c, sealed.as_bytes()), Ok(plain.clone()));
            }
        }
        // Same length, other bytes: a different entry, not the remembered one.
        let mut other = plain.clone();
        other[4999] ^= 1;
        assert_eq!(encrypt(&cipher(b'a'), &other), cipher(b'a').encrypt(&other));
        // Same bytes, other key.
        let a = encrypt(&cipher(b'a'), &plain);
        assert_ne!(
            decrypt(&cipher(b'b'), a.as_bytes()),
            Ok(plain.clone()),
            "a payload opened under another key"
        );
        let damaged = [b"!!".as_slice(), &plain].concat();
        assert_eq!(
            decrypt(&cipher(b'a'), &damaged),
            Err(PayloadError::NotBase64)
        );
        assert_eq!(
            decrypt(&cipher(b'a'), &damaged),
            Err(PayloadError::NotBase64)
        );
    }

    #[test]
    fn the_memo_is_bounded() {
        let c = cipher(b'z');
        let mut memo = Memo::default();
        let input = vec![7u8; 3 << 20];
        for _ in 0..40 {
            memo.reserve(2 * input.len());
            memo.encrypted.put(&c, &input, String::new());
            assert!(memo.bytes <= CAP_BYTES);
        }
        let kept: usize = memo.encrypted.entries.values().map(Vec::len).sum();
        assert!(kept < 40, "the memo was never emptied");
        assert_eq!(memo.encrypted.get(&c, &input), Some(String::new()));
    }
}
