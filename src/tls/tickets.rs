//! [`Ticketer`]: rustls [`ProducesTickets`] with AES-CBC + HMAC-SHA256 under keys loaded from
//! files ([`TicketKey`]), so TLS sessions resume across restarts and across several server
//! instances that share the files.
//!
//! Ticket layout (RFC 5077 section 4's recommendation, the one OpenSSL and nginx use):
//!
//! ```text
//! key_name[16] || iv[16] || AES-CBC(key, iv, PKCS7(issued_at_u64_be || state)) || mac[32]
//! mac = HMAC-SHA256(hmac_secret, key_name || iv || ciphertext)
//! ```
//!
//! `state` is rustls's serialised session; `issued_at` (Unix seconds) makes tickets expire
//! after [`Ticketer::lifetime`] even while their key stays in service (rotation removes
//! keys; expiry bounds each ticket). Opening a ticket checks, in order and before touching
//! any byte it has not length-checked: the total length, the key name, the MAC (constant
//! time), the padding, then the age. Every failure is a [`TicketRefusal`]; rustls turns
//! `None` into a full handshake, and the refusal is logged at debug. This is where WuKongIM's
//! TLS-127 crash lived (an HMAC built from key material mid-handshake), so nothing here can
//! panic on any ticket.
//!
//! Time and randomness are inputs of the pure core ([`Ticketer::seal`], [`Ticketer::open`]);
//! the [`ProducesTickets`] methods, which rustls calls without either, read them from the
//! injected [`Clock`] and the provider's `SecureRandom`.

use std::fmt;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use hmac::{Hmac, Mac};
use rustls::crypto::SecureRandom;
use rustls::server::ProducesTickets;
use sha2::Sha256;
use subtle::ConstantTimeEq;

use super::ticket_keys::{AesKey, TicketKey, TICKET_KEY_NAME_LEN};

/// HMAC-SHA256.
type HmacSha256 = Hmac<Sha256>;

/// Length of the CBC IV that follows the key name.
pub const TICKET_IV_LEN: usize = 16;
/// Length of the HMAC-SHA256 tag that ends a ticket.
pub const TICKET_MAC_LEN: usize = 32;
/// AES block size: the ciphertext is a positive multiple of it (PKCS7 always pads).
const AES_BLOCK: usize = 16;
/// Bytes of the issue time at the start of the plaintext.
const ISSUED_AT_LEN: usize = 8;
/// Shortest possible ticket: name, IV, one cipher block, MAC.
pub const MIN_TICKET_LEN: usize = TICKET_KEY_NAME_LEN + TICKET_IV_LEN + AES_BLOCK + TICKET_MAC_LEN;
/// Longest ticket: tickets travel in a 16-bit length field (RFC 8446 4.6.1 `opaque
/// ticket<1..2^16-1>`, RFC 5077 3.3), so anything longer cannot be ours.
pub const MAX_TICKET_LEN: usize = 65_535;
/// Ticket lifetime when none is configured: 12 hours.
pub const DEFAULT_TICKET_LIFETIME_SECS: u32 = 12 * 60 * 60;
/// Longest lifetime a server may announce (RFC 8446 4.6.1: seven days).
pub const MAX_TICKET_LIFETIME_SECS: u32 = 7 * 24 * 60 * 60;
/// A ticket issued up to this far in the future is accepted: servers behind one load
/// balancer disagree a little about the time.
pub const MAX_CLOCK_SKEW_SECS: u64 = 300;

/// Unix seconds, read when rustls asks to seal or open a ticket.
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The system clock as a [`Clock`].
#[must_use]
pub fn system_clock() -> Clock {
    Arc::new(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs())
    })
}

/// Why a ticket was not opened (or a state not sealed).
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TicketRefusal {
    /// Shorter than [`MIN_TICKET_LEN`], longer than [`MAX_TICKET_LEN`], or a ciphertext
    /// that is not whole AES blocks.
    #[error("ticket length {0} is impossible")]
    BadLength(usize),
    /// The key name is none of the current keys' (a foreign or rotated-out ticket).
    #[error("ticket key name is unknown")]
    UnknownKey,
    /// The MAC does not verify (forged or damaged).
    #[error("ticket MAC does not verify")]
    BadMac,
    /// Authentic but undecryptable: only a key-file mix-up can do this.
    #[error("ticket padding is invalid")]
    BadPadding,
    /// Older than the lifetime.
    #[error("ticket expired {0} s ago")]
    Expired(u64),
    /// Issued further in the future than [`MAX_CLOCK_SKEW_SECS`].
    #[error("ticket issued {0} s in the future")]
    FromFuture(u64),
    /// The state to seal is too large for a ticket.
    #[error("session state of {0} bytes is too large for a ticket")]
    TooLarge(usize),
    /// The ticketer has no key (cannot happen through [`Ticketer::new`]).
    #[error("no ticket key")]
    NoKey,
    /// The random source failed.
    #[error("no random IV available")]
    NoRandom,
}

/// Session tickets under a list of keys: the first seals, every one opens.
pub struct Ticketer {
    /// Never empty; `keys[0]` seals.
    keys: Vec<TicketKey>,
    /// Seconds a ticket is valid for (1..=[`MAX_TICKET_LIFETIME_SECS`]).
    lifetime: u32,
    /// Where `encrypt`/`decrypt` read the time.
    clock: Clock,
    /// Where `encrypt` draws IVs.
    random: &'static dyn SecureRandom,
}

impl fmt::Debug for Ticketer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Ticketer")
            .field("keys", &self.keys)
            .field("lifetime", &self.lifetime)
            .finish_non_exhaustive()
    }
}

impl Ticketer {
    /// A ticketer sealing with `keys[0]` and opening with any of `keys`, tickets valid for
    /// `lifetime_secs` (clamped to 1..=[`MAX_TICKET_LIFETIME_SECS`]), the system clock and
    /// the crate provider's random source. `None` when `keys` is empty.
    #[must_use]
    pub fn new(keys: Vec<TicketKey>, lifetime_secs: u32) -> Option<Ticketer> {
        if keys.is_empty() {
            return None;
        }
        Some(Ticketer {
            keys,
            lifetime: lifetime_secs.clamp(1, MAX_TICKET_LIFETIME_SECS),
            clock: system_clock(),
            random: super::provider().secure_random,
        })
    }

    /// The same ticketer reading time from `clock`.
    #[must_use]
    pub fn with_clock(mut self, clock: Clock) -> Ticketer {
        self.clock = clock;
        self
    }

    /// The same ticketer drawing IVs from `random`.
    #[must_use]
    pub fn with_random(mut self, random: &'static dyn SecureRandom) -> Ticketer {
        self.random = random;
        self
    }

    /// The keys, sealing key first.
    #[must_use]
    pub fn keys(&self) -> &[TicketKey] {
        &self.keys
    }

    /// Seals `state` at time `now` (Unix seconds) with IV `iv` under the first key.
    ///
    /// # Errors
    /// [`TicketRefusal::TooLarge`] when the ticket would exceed [`MAX_TICKET_LEN`].
    pub fn seal(&self, state: &[u8], now: u64, iv: [u8; 16]) -> Result<Vec<u8>, TicketRefusal> {
        // `new` refuses an empty list, so there is always a sealing key.
        let key = self.keys.first().ok_or(TicketRefusal::NoKey)?;
        let plain_len = state.len().saturating_add(ISSUED_AT_LEN);
        // PKCS7 adds 1..=16 bytes.
        let ticket_len = (plain_len / AES_BLOCK + 1)
            .saturating_mul(AES_BLOCK)
            .saturating_add(MIN_TICKET_LEN - AES_BLOCK);
        if ticket_len > MAX_TICKET_LEN {
            return Err(TicketRefusal::TooLarge(state.len()));
        }
        let mut plain = Vec::with_capacity(plain_len);
        plain.extend_from_slice(&now.to_be_bytes());
        plain.extend_from_slice(state);
        let ciphertext = match &key.aes {
            AesKey::Aes128(k) => cbc::Encryptor::<aes::Aes128>::new(k.into(), &iv.into())
                .encrypt_padded_vec_mut::<Pkcs7>(&plain),
            AesKey::Aes256(k) => cbc::Encryptor::<aes::Aes256>::new(k.into(), &iv.into())
                .encrypt_padded_vec_mut::<Pkcs7>(&plain),
        };
        let mut ticket = Vec::with_capacity(ticket_len);
        ticket.extend_from_slice(&key.name);
        ticket.extend_from_slice(&iv);
        ticket.extend_from_slice(&ciphertext);
        let mac = mac(key, &ticket).ok_or(TicketRefusal::BadMac)?;
        ticket.extend_from_slice(&mac);
        Ok(ticket)
    }

    /// Opens `ticket` at time `now` (Unix seconds): the sealed state, if the ticket was
    /// sealed by one of the keys, is intact and has not expired.
    ///
    /// # Errors
    /// A [`TicketRefusal`] saying which check failed first.
    pub fn open(&self, ticket: &[u8], now: u64) -> Result<Vec<u8>, TicketRefusal> {
        let bad_length = TicketRefusal::BadLength(ticket.len());
        if !(MIN_TICKET_LEN..=MAX_TICKET_LEN).contains(&ticket.len()) {
            return Err(bad_length);
        }
        let (name, rest) = ticket
            .split_first_chunk::<TICKET_KEY_NAME_LEN>()
            .ok_or(bad_length)?;
        let (iv, rest) = rest
            .split_first_chunk::<TICKET_IV_LEN>()
            .ok_or(bad_length)?;
        let (ciphertext, tag) = rest
            .split_last_chunk::<TICKET_MAC_LEN>()
            .ok_or(bad_length)?;
        if ciphertext.is_empty() || ciphertext.len() % AES_BLOCK != 0 {
            return Err(bad_length);
        }
        let key = self
            .keys
            .iter()
            .find(|k| bool::from(k.name.ct_eq(name)))
            .ok_or(TicketRefusal::UnknownKey)?;
        let authenticated = ticket
            .get(..ticket.len() - TICKET_MAC_LEN)
            .ok_or(bad_length)?;
        let expected = mac(key, authenticated).ok_or(TicketRefusal::BadMac)?;
        if !bool::from(expected.ct_eq(tag)) {
            return Err(TicketRefusal::BadMac);
        }
        let iv = *iv;
        let plain = match &key.aes {
            AesKey::Aes128(k) => cbc::Decryptor::<aes::Aes128>::new(k.into(), &iv.into())
                .decrypt_padded_vec_mut::<Pkcs7>(ciphertext),
            AesKey::Aes256(k) => cbc::Decryptor::<aes::Aes256>::new(k.into(), &iv.into())
                .decrypt_padded_vec_mut::<Pkcs7>(ciphertext),
        }
        .map_err(|_| TicketRefusal::BadPadding)?;
        let (issued, state) = plain
            .split_first_chunk::<ISSUED_AT_LEN>()
            .ok_or(TicketRefusal::BadPadding)?;
        let issued = u64::from_be_bytes(*issued);
        if issued > now.saturating_add(MAX_CLOCK_SKEW_SECS) {
            return Err(TicketRefusal::FromFuture(issued.saturating_sub(now)));
        }
        let age = now.saturating_sub(issued);
        if age >= u64::from(self.lifetime) {
            return Err(TicketRefusal::Expired(age - u64::from(self.lifetime)));
        }
        Ok(state.to_vec())
    }
}

/// HMAC-SHA256 of `data` under the key's secret.
fn mac(key: &TicketKey, data: &[u8]) -> Option<[u8; TICKET_MAC_LEN]> {
    // HMAC takes keys of any length; the error case does not occur.
    let mut mac = HmacSha256::new_from_slice(&key.hmac_secret).ok()?;
    mac.update(data);
    Some(mac.finalize().into_bytes().into())
}

impl ProducesTickets for Ticketer {
    fn enabled(&self) -> bool {
        true
    }

    fn lifetime(&self) -> u32 {
        self.lifetime
    }

    fn encrypt(&self, plain: &[u8]) -> Option<Vec<u8>> {
        let mut iv = [0u8; TICKET_IV_LEN];
        let sealed = self
            .random
            .fill(&mut iv)
            .map_err(|_| TicketRefusal::NoRandom)
            .and_then(|()| self.seal(plain, (self.clock)(), iv));
        match sealed {
            Ok(ticket) => Some(ticket),
            Err(reason) => {
                tracing::debug!(%reason, "session ticket not issued");
                None
            }
        }
    }

    fn decrypt(&self, cipher: &[u8]) -> Option<Vec<u8>> {
        match self.open(cipher, (self.clock)()) {
            Ok(state) => Some(state),
            Err(reason) => {
                tracing::debug!(%reason, len = cipher.len(), "session ticket refused; full handshake");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_800_000_000;

    fn key(name: u8, big: bool) -> TicketKey {
        let aes = if big {
            AesKey::Aes256([name ^ 0x55; 32])
        } else {
            AesKey::Aes128([name ^ 0x55; 16])
        };
        TicketKey::from_parts(
            [name; 16],
            vec![name ^ 0xaa; if big { 32 } else { 16 }],
            aes,
        )
    }

    fn ticketer(keys: Vec<TicketKey>) -> Ticketer {
        Ticketer::new(keys, 3600).unwrap()
    }

    #[test]
    fn seal_open_round_trip_and_layout() {
        for big in [false, true] {
            let t = ticketer(vec![key(1, big)]);
            for len in [0usize, 1, 7, 8, 15, 16, 300] {
                let state: Vec<u8> = (0..len).map(|i| i as u8).collect();
                let ticket = t.seal(&state, NOW, [9; 16]).unwrap();
                assert_eq!(ticket.get(..16), Some(&[1u8; 16][..]));
                assert_eq!(ticket.get(16..32), Some(&[9u8; 16][..]));
                assert_eq!((ticket.len() - MIN_TICKET_LEN) % 16, 0);
                assert_eq!(t.open(&ticket, NOW + 10).unwrap(), state);
            }
        }
    }

    #[test]
    fn every_refusal() {
        let t = ticketer(vec![key(1, true)]);
        let ticket = t.seal(b"state", NOW, [3; 16]).unwrap();
        assert_eq!(
            t.open(&ticket[..79], NOW),
            Err(TicketRefusal::BadLength(79))
        );
        assert_eq!(t.open(&[], NOW), Err(TicketRefusal::BadLength(0)));
        let mut long = ticket.clone();
        long.push(0);
        assert_eq!(
            t.open(&long, NOW),
            Err(TicketRefusal::BadLength(ticket.len() + 1))
        );
        assert_eq!(
            t.open(&vec![0; MAX_TICKET_LEN + 1], NOW),
            Err(TicketRefusal::BadLength(MAX_TICKET_LEN + 1))
        );
        let mut other_name = ticket.clone();
        other_name[0] ^= 1;
        assert_eq!(t.open(&other_name, NOW), Err(TicketRefusal::UnknownKey));
        for i in [16, 40, ticket.len() - 1] {
            let mut flipped = ticket.clone();
            flipped[i] ^= 0x80;
            assert_eq!(
                t.open(&flipped, NOW),
                Err(TicketRefusal::BadMac),
                "byte {i}"
            );
        }
        assert_eq!(t.open(&ticket, NOW + 3600), Err(TicketRefusal::Expired(0)));
        assert_eq!(t.open(&ticket, NOW + 3599).unwrap(), b"state");
        assert_eq!(
            t.open(&ticket, NOW - MAX_CLOCK_SKEW_SECS - 1),
            Err(TicketRefusal::FromFuture(MAX_CLOCK_SKEW_SECS + 1))
        );
        assert!(t.open(&ticket, NOW - MAX_CLOCK_SKEW_SECS).is_ok());
        assert_eq!(
            t.seal(&vec![0; MAX_TICKET_LEN], NOW, [0; 16]),
            Err(TicketRefusal::TooLarge(MAX_TICKET_LEN))
        );
    }

    #[test]
    fn rotation_and_foreign_keys() {
        let old = ticketer(vec![key(1, false)]);
        let rotated = ticketer(vec![key(2, true), key(1, false)]);
        let new_only = ticketer(vec![key(2, true)]);
        let t_old = old.seal(b"s", NOW, [0; 16]).unwrap();
        assert_eq!(rotated.open(&t_old, NOW).unwrap(), b"s");
        assert_eq!(new_only.open(&t_old, NOW), Err(TicketRefusal::UnknownKey));
        let t_new = rotated.seal(b"s", NOW, [0; 16]).unwrap();
        assert_eq!(t_new.get(..16), Some(&[2u8; 16][..]));
        assert_eq!(new_only.open(&t_new, NOW).unwrap(), b"s");
        // Same name, other secrets: a foreign ticket forged under a colliding name.
        let impostor = ticketer(vec![TicketKey::from_parts(
            [1; 16],
            vec![0; 16],
            AesKey::Aes128([0; 16]),
        )]);
        assert_eq!(impostor.open(&t_old, NOW), Err(TicketRefusal::BadMac));
    }

    #[test]
    fn produces_tickets_uses_clock_and_random() {
        let now = Arc::new(std::sync::atomic::AtomicU64::new(NOW));
        let n = now.clone();
        let t = ticketer(vec![key(1, true)]).with_clock(Arc::new(move || {
            n.load(std::sync::atomic::Ordering::Relaxed)
        }));
        assert!(t.enabled());
        assert_eq!(t.lifetime(), 3600);
        let a = t.encrypt(b"x").unwrap();
        let b = t.encrypt(b"x").unwrap();
        assert_ne!(a.get(16..32), b.get(16..32), "fresh IV per ticket");
        assert_eq!(t.decrypt(&a).unwrap(), b"x");
        now.store(NOW + 3600, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(t.decrypt(&a), None);
        assert_eq!(t.decrypt(b"short"), None);
        assert!(Ticketer::new(vec![], 10).is_none());
        assert_eq!(Ticketer::new(vec![key(1, false)], 0).unwrap().lifetime(), 1);
        assert!(!format!("{t:?}").contains("aaaa"));
    }
}
