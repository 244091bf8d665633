//! TLS key material: turn PEM files into a rustls [`ServerConfig`](rustls::ServerConfig).
//!
//! Everything here runs once at startup (or on reload), never per connection, but the
//! inputs are still untrusted in the fuzzing sense: a mistyped path, a truncated file, a key
//! for the wrong certificate. Every such case is a [`TlsError`] whose message starts with the
//! file it is about; nothing here panics on file content.
//!
//! Layout:
//! - [`provider`]: the one place the crypto provider (ring) is chosen.
//! - `error`: [`TlsError`], one variant per thing that can be wrong with key material.
//! - `pem`: bounded file reading and PEM sectioning (labels, certificates, private keys).
//! - `keykind`: names the algorithm of a private key, so "unsupported" and "corrupt"
//!   are told apart.
//! - `load`: [`load_certified_key`]: PEM cert chain + key -> validated [`CertifiedKey`],
//!   with warnings for certificates outside their validity period.
//! - `resolver`: [`SniResolver`], the certificate chooser (a default key now, per-SNI later).
//! - `config`: [`server_config`]: TLS 1.2 + 1.3, no client auth, ALPN.
//! - `devcert`: [`generate_dev_cert`]: a self-signed localhost certificate, reused across restarts.
//!
//! [`CertifiedKey`]: rustls::sign::CertifiedKey

mod config;
mod devcert;
mod error;
mod keykind;
mod load;
mod pem;
mod resolver;
#[cfg(test)]
mod testutil;

use std::sync::{Arc, OnceLock};

use rustls::crypto::CryptoProvider;

pub use config::{server_config, server_config_with_provider, MAX_ALPN_PROTOCOL_LEN};
pub use devcert::{generate_dev_cert, DEV_CERT_FILE, DEV_KEY_FILE};
pub use error::TlsError;
pub use keykind::KeyKind;
pub use load::{
    load_certified_key, load_certified_key_at, parse_certified_key, CertifiedKeyFiles, Loaded,
};
pub use pem::MAX_PEM_FILE_LEN;
pub use resolver::SniResolver;

/// The crypto provider every TLS object in the crate is built with: rustls' ring provider.
///
/// One place, so the server config, the key loader and the tests can never disagree about
/// which algorithms exist (ring: RSA, ECDSA P-256/P-384, Ed25519 keys). Built once and shared.
pub fn provider() -> Arc<CryptoProvider> {
    static PROVIDER: OnceLock<Arc<CryptoProvider>> = OnceLock::new();
    PROVIDER
        .get_or_init(|| Arc::new(rustls::crypto::ring::default_provider()))
        .clone()
}
