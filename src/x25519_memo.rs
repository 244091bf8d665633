//! X25519 results remembered per thread, for the harness's own peers (the wkproto [`Client`]
//! and the TLS targets' seeded key exchange) and, in the fuzz targets only, for the server's
//! CONNECT key exchange ([`MEMOIZED`], passed as `SessionConfig::key_agreement`). The
//! server binary and the tokio shell always compute.
//!
//! The targets reset their random stream at the start of every run, so each run draws the
//! same key shares as the last and meets the same peer keys: remembering the results saves
//! most scalar multiplications, which were most of a `session` run's time. These are a pure
//! function's results, so the memo changes how fast a run is, never what it does.
//!
//! [`Client`]: crate::client::Client

use std::cell::RefCell;
use std::collections::HashMap;
use std::hash::Hash;

use crate::proto::crypto::{self, ClientKeyError, KeyAgreement};

/// Entries per map before it is emptied: bounds the memory (about 400 KiB per thread).
const CAP: usize = 4096;

/// (our scalar, the peer's public key).
type Pair = ([u8; 32], [u8; 32]);

#[derive(Default)]
struct Memo {
    public: HashMap<[u8; 32], [u8; 32]>,
    /// `None`: the peer point is of low order (the all-zero secret, refused).
    shared: HashMap<Pair, Option<[u8; 32]>>,
}

thread_local! {
    static MEMO: RefCell<Memo> = RefCell::new(Memo::default());
}

fn remembered<K: Hash + Eq, V: Copy>(
    map: &mut HashMap<K, V>,
    key: K,
    compute: impl FnOnce() -> V,
) -> V {
    if let Some(v) = map.get(&key) {
        return *v;
    }
    if map.len() >= CAP {
        map.clear();
    }
    *map.entry(key).or_insert_with(compute)
}

/// [`crypto::public_key`], remembered.
pub(crate) fn public_key(scalar: [u8; 32]) -> [u8; 32] {
    MEMO.with(|m| {
        remembered(&mut m.borrow_mut().public, scalar, || {
            crypto::public_key(&scalar)
        })
    })
}

/// [`crypto::shared_secret`], remembered: refuses a low-order peer point the same way.
///
/// # Errors
/// `LowOrderPoint` if the shared secret is all zeros.
pub(crate) fn shared_secret(scalar: [u8; 32], peer: [u8; 32]) -> Result<[u8; 32], ClientKeyError> {
    MEMO.with(|m| {
        remembered(&mut m.borrow_mut().shared, (scalar, peer), || {
            crypto::shared_secret(&scalar, &peer).ok()
        })
    })
    .ok_or(ClientKeyError::LowOrderPoint)
}

/// The server's key agreement with remembered results (for the fuzz targets).
pub(crate) const MEMOIZED: KeyAgreement = KeyAgreement {
    public_key: |scalar| public_key(*scalar),
    shared_secret: |scalar, peer| shared_secret(*scalar, *peer),
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembered_results_equal_computed_ones() {
        for _ in 0..2 {
            // RFC 7748 section 6.1: Alice's key pair, Bob's public key, the shared secret.
            let alice: [u8; 32] =
                hex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
            let bob_public =
                hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
            assert_eq!(
                public_key(alice),
                hex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a")
            );
            assert_eq!(
                shared_secret(alice, bob_public),
                Ok(hex(
                    "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
                ))
            );
            assert_eq!(
                shared_secret(alice, [0; 32]),
                Err(ClientKeyError::LowOrderPoint)
            );
        }
    }

    #[test]
    fn the_memo_is_bounded() {
        let mut map = HashMap::new();
        let mut computed = 0;
        for i in 0..CAP + 10 {
            remembered(&mut map, i, || {
                computed += 1;
                [0; 32]
            });
            assert!(map.len() <= CAP);
        }
        remembered(&mut map, CAP + 9, || unreachable!("remembered"));
        assert_eq!(computed, CAP + 10);
    }

    fn hex(s: &str) -> [u8; 32] {
        let bytes: Vec<u8> = (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect();
        bytes.try_into().unwrap()
    }
}
