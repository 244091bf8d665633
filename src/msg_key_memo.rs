//! msgKeys remembered within one run of the `session` target, shared by the server under
//! test and the harness's clients ([`REMEMBERED`], passed to both as their
//! [`MsgKeyFn`]). The server binary and the tokio shell always compute.
//!
//! Every intact message has its msgKey computed twice over the same sign: by its sender and
//! by whoever checks it (the server for a SEND, the recipient's strict oracle for each
//! RECV). That is an AES-CBC and an MD5 over a sign as long as the payload, which ran to a
//! quarter of a campaign. The second computation finds the first one's result here. Entries
//! are found by the whole cipher and sign, byte for byte, so a hit is the value computing
//! would give: a damaged sign, a wrong key or a sign the server built differently misses
//! and is computed. The memo is emptied at the start of every run, so what a run computes
//! and covers depends on its input alone.

use std::cell::RefCell;
use std::collections::VecDeque;

use crate::proto::crypto::{AppCipher, MsgKeyFn};

/// Most signs kept; the oldest goes first.
const ENTRIES: usize = 64;

/// Most sign bytes kept (a few frame-limit payloads); a longer sign is computed every time.
const BYTES: usize = 8 << 20;

struct Entry {
    cipher: AppCipher,
    sign: Vec<u8>,
    msg_key: [u8; 32],
}

#[derive(Default)]
struct Memo {
    entries: VecDeque<Entry>,
    bytes: usize,
}

impl Memo {
    fn find(&self, cipher: &AppCipher, sign: &[u8]) -> Option<[u8; 32]> {
        self.entries
            .iter()
            .find(|e| e.sign.len() == sign.len() && e.cipher == *cipher && e.sign == sign)
            .map(|e| e.msg_key)
    }

    fn keep(&mut self, cipher: &AppCipher, sign: &[u8], msg_key: [u8; 32]) {
        if sign.len() > BYTES {
            return;
        }
        while self.entries.len() >= ENTRIES || self.bytes.saturating_add(sign.len()) > BYTES {
            let Some(oldest) = self.entries.pop_front() else {
                break;
            };
            self.bytes = self.bytes.saturating_sub(oldest.sign.len());
        }
        self.bytes = self.bytes.saturating_add(sign.len());
        self.entries.push_back(Entry {
            cipher: cipher.clone(),
            sign: sign.to_vec(),
            msg_key,
        });
    }
}

thread_local! {
    static MEMO: RefCell<Memo> = RefCell::new(Memo::default());
}

/// [`AppCipher::compute_msg_key`], remembered for the rest of the run.
fn msg_key(cipher: &AppCipher, sign: &[u8]) -> [u8; 32] {
    if let Some(known) = MEMO.with(|m| m.borrow().find(cipher, sign)) {
        return known;
    }
    let msg_key = cipher.compute_msg_key(sign);
    MEMO.with(|m| m.borrow_mut().keep(cipher, sign, msg_key));
    msg_key
}

/// The msgKey function with remembered results.
pub(crate) const REMEMBERED: MsgKeyFn = msg_key;

/// Forgets every msgKey: called at the start of a run.
pub(crate) fn forget() {
    MEMO.with(|m| *m.borrow_mut() = Memo::default());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cipher(k: u8) -> AppCipher {
        AppCipher::new([k; 16], *b"abcdef1234567890").with_msg_key_fn(REMEMBERED)
    }

    fn kept() -> usize {
        MEMO.with(|m| m.borrow().entries.len())
    }

    #[test]
    fn a_remembered_msg_key_is_the_computed_one_for_the_same_cipher_and_sign() {
        forget();
        let sign = b"1clientmsgnog11hello".repeat(50);
        let first = cipher(1).msg_key(&sign);
        assert_eq!(kept(), 1);
        assert_eq!(cipher(1).msg_key(&sign), first);
        assert_eq!(kept(), 1, "the second call found the first one's entry");
        let computed = String::from_utf8(cipher(1).compute_msg_key(&sign).to_vec()).unwrap();
        assert_eq!(first, computed);
    }

    #[test]
    fn another_key_or_one_byte_of_sign_more_or_changed_is_computed() {
        forget();
        let sign = b"7ab1payload".to_vec();
        let mut longer = sign.clone();
        longer.push(b'x');
        let mut changed = sign.clone();
        changed[3] ^= 1;
        let known = cipher(1).msg_key(&sign);
        for (c, s) in [
            (cipher(2), &sign),
            (cipher(1), &longer),
            (cipher(1), &changed),
        ] {
            let got = c.msg_key(s);
            assert_ne!(got, known);
            assert_eq!(got.as_bytes(), c.compute_msg_key(s));
        }
        assert_eq!(kept(), 4);
    }

    #[test]
    fn verify_through_the_memo_refuses_a_damaged_msg_key() {
        forget();
        let sign = b"1msg".repeat(300);
        let key = cipher(3).msg_key(&sign);
        assert!(cipher(3).verify_msg_key(&sign, &key));
        let mut damaged = key.into_bytes();
        damaged[0] = if damaged[0] == b'0' { b'1' } else { b'0' };
        let damaged = String::from_utf8(damaged).unwrap();
        assert!(!cipher(3).verify_msg_key(&sign, &damaged));
    }

    #[test]
    fn the_memo_keeps_at_most_its_entries_and_bytes() {
        forget();
        for n in 0..ENTRIES + 10 {
            cipher(1).msg_key(n.to_string().as_bytes());
        }
        assert_eq!(kept(), ENTRIES);
        forget();
        let big = vec![b'a'; BYTES / 3 + 1];
        for k in 0..4 {
            cipher(k).msg_key(&big);
        }
        assert_eq!(
            kept(),
            2,
            "a third sign of a third of the bytes evicts the oldest"
        );
        cipher(9).msg_key(&vec![b'b'; BYTES + 1]);
        assert_eq!(kept(), 2, "a sign over the byte bound is not kept");
        forget();
        assert_eq!(kept(), 0);
    }
}
