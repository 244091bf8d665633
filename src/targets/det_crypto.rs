//! A deterministic rustls `CryptoProvider` for the TLS targets: ring's primitives, but the
//! random bytes (hello randoms, session ids, tickets) and the X25519 key shares come from a
//! ChaCha20 RNG that every run resets. Without it a real client's ClientHello differs on every
//! run, so the same fuzz input could meet a different byte under the same damage and give a
//! different outcome. ECDSA nonces stay random: they only change signature bytes that no
//! damage touches, never an outcome.

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use rustls::crypto::{
    ActiveKeyExchange, CryptoProvider, GetRandomFailed, SecureRandom, SharedSecret,
    SupportedKxGroup,
};
use rustls::{Error, NamedGroup, PeerMisbehaved};
use std::cell::RefCell;
use std::sync::Arc;

thread_local! {
    static RNG: RefCell<ChaCha20Rng> = RefCell::new(ChaCha20Rng::seed_from_u64(0));
}

/// Restarts this thread's random stream (call at the start of every run).
pub(crate) fn reset() {
    RNG.with(|r| *r.borrow_mut() = ChaCha20Rng::seed_from_u64(0));
}

fn fill(buf: &mut [u8]) {
    RNG.with(|r| r.borrow_mut().fill_bytes(buf));
}

#[derive(Debug)]
struct SeededRandom;

impl SecureRandom for SeededRandom {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        fill(buf);
        Ok(())
    }
}

#[derive(Debug)]
struct SeededX25519;

impl SupportedKxGroup for SeededX25519 {
    fn start(&self) -> Result<Box<dyn ActiveKeyExchange>, Error> {
        let mut scalar = [0u8; 32];
        fill(&mut scalar);
        let public = crate::x25519_memo::public_key(scalar);
        Ok(Box::new(ActiveX25519 { scalar, public }))
    }

    fn name(&self) -> NamedGroup {
        NamedGroup::X25519
    }
}

struct ActiveX25519 {
    scalar: [u8; 32],
    public: [u8; 32],
}

impl ActiveKeyExchange for ActiveX25519 {
    fn complete(self: Box<Self>, peer_pub_key: &[u8]) -> Result<SharedSecret, Error> {
        let peer: [u8; 32] = peer_pub_key
            .try_into()
            .map_err(|_| Error::PeerMisbehaved(PeerMisbehaved::InvalidKeyShare))?;
        // A low-order peer point is refused (RFC 7748 section 6.1).
        let shared = crate::x25519_memo::shared_secret(self.scalar, peer)
            .map_err(|_| Error::PeerMisbehaved(PeerMisbehaved::InvalidKeyShare))?;
        Ok(SharedSecret::from(&shared[..]))
    }

    fn pub_key(&self) -> &[u8] {
        &self.public
    }

    fn group(&self) -> NamedGroup {
        NamedGroup::X25519
    }
}

/// ring's provider with seeded randomness and X25519 first (ring's P-256/P-384 follow).
pub(crate) fn provider() -> Arc<CryptoProvider> {
    let ring = rustls::crypto::ring::default_provider();
    let mut kx_groups: Vec<&'static dyn SupportedKxGroup> = vec![&SeededX25519];
    kx_groups.extend(
        ring.kx_groups
            .iter()
            .copied()
            .filter(|g| g.name() != NamedGroup::X25519),
    );
    Arc::new(CryptoProvider {
        kx_groups,
        secure_random: &SeededRandom,
        ..ring
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reset_replays_the_same_bytes_and_key_shares() {
        let draw = || {
            reset();
            let mut b = [0u8; 8];
            SeededRandom.fill(&mut b).unwrap();
            let kx = SeededX25519.start().unwrap();
            (b, kx.pub_key().to_vec())
        };
        assert_eq!(draw(), draw());
    }

    #[test]
    fn key_exchange_agrees_and_refuses_low_order_points() {
        reset();
        let a = SeededX25519.start().unwrap();
        let b = SeededX25519.start().unwrap();
        let b_pub = b.pub_key().to_vec();
        let a_pub = a.pub_key().to_vec();
        let s1 = a.complete(&b_pub).unwrap();
        let s2 = b.complete(&a_pub).unwrap();
        assert_eq!(s1.secret_bytes(), s2.secret_bytes());
        assert!(SeededX25519.start().unwrap().complete(&[0u8; 32]).is_err());
        assert!(SeededX25519.start().unwrap().complete(&[1u8; 31]).is_err());
    }
}
