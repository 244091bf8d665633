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
//! - `resolver`: [`SniResolver`], the certificate chooser: by SNI name (exact, then
//!   `*.` wildcard), then by the client's signature schemes; the first pair is the default.
//! - `cert_set`: [`load_cert_set`]: several pairs into one resolver, names from the SANs.
//! - `ticket_keys`: [`TicketKey`], session-ticket key files in nginx's 48/80-byte format.
//! - `tickets`: [`Ticketer`], rustls `ProducesTickets` with AES-CBC + HMAC-SHA256 and expiry.
//! - `client_auth`: [`ClientAuth`] (mutual TLS from a CA file) and [`client_cert_uid`].
//! - `material`: [`TlsFiles`], every TLS input, and [`TlsFiles::build`], all or nothing.
//! - `reload`: [`LiveConfig`], the config in service, and [`reload`] (SIGHUP).
//! - `config`: [`server_config`]: one certificate, no client auth, ALPN (tests, targets).
//! - `devcert`: [`generate_dev_cert`]: a self-signed localhost certificate, reused across restarts.
//!
//! [`CertifiedKey`]: rustls::sign::CertifiedKey

mod cert_set;
mod client_auth;
mod config;
mod devcert;
mod error;
mod key_files;
mod keykind;
mod load;
mod material;
mod pem;
mod reload;
mod resolver;
#[cfg(test)]
mod testutil;
mod ticket_keys;
mod tickets;

use std::sync::{Arc, OnceLock};

use rustls::crypto::CryptoProvider;

pub use cert_set::{dns_names, load_cert_set, CertSet};
pub use client_auth::{client_cert_uid, client_verifier, ClientAuth, MAX_CERT_UID_LEN};
pub use config::{server_config, server_config_with_provider, MAX_ALPN_PROTOCOL_LEN};
pub use devcert::{generate_dev_cert, DEV_CERT_FILE, DEV_KEY_FILE};
pub use error::TlsError;
pub use key_files::CertifiedKeyFiles;
pub use keykind::KeyKind;
pub use load::{load_certified_key, load_certified_key_at, parse_certified_key, Loaded};
pub use material::{Built, TlsFiles};
pub use pem::MAX_PEM_FILE_LEN;
pub use reload::{reload, LiveConfig};
pub use resolver::SniResolver;
pub use ticket_keys::{
    load_ticket_keys, AesKey, TicketKey, TICKET_KEY_FILE_LEN_128, TICKET_KEY_FILE_LEN_256,
    TICKET_KEY_NAME_LEN,
};
pub use tickets::{
    system_clock, Clock, TicketRefusal, Ticketer, DEFAULT_TICKET_LIFETIME_SECS,
    MAX_CLOCK_SKEW_SECS, MAX_TICKET_LEN, MAX_TICKET_LIFETIME_SECS, MIN_TICKET_LEN, TICKET_IV_LEN,
    TICKET_MAC_LEN,
};

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
