//! `keys`: raw bytes as PEM/DER certificates and keys through the real loader, and as a
//! ClientKey. The first byte picks what the rest replaces: both files, only the key next to
//! the valid fuzzing certificate, or only the certificate next to its valid key; from
//! `0xF0` on, a whole server's key material or a client's session ticket
//! ([`super::tls_files`]).
//!
//! Oracles: every failure is a typed error whose message is one line naming the file;
//! a loaded key signs; a ClientKey either decodes to 32 bytes or is refused.

use super::fixture;
use super::tls_files;
use super::Outcome;
use crate::proto::crypto;
use crate::tls::{parse_certified_key, CertifiedKeyFiles};
use rustls::pki_types::UnixTime;
use std::path::PathBuf;
use std::time::Duration;

/// Runs the target.
///
/// # Panics
/// When an oracle is violated.
pub fn run(data: &[u8]) -> Outcome {
    let Some((&mode, rest)) = data.split_first() else {
        return Outcome::new("empty");
    };
    if mode >= tls_files::FIRST_MODE {
        return with_client_key(tls_files::run(mode, rest), rest);
    }
    let (cert, key): (&[u8], &[u8]) = match mode % 3 {
        0 => {
            let cut = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
            (
                rest.get(..cut).unwrap_or_default(),
                rest.get(cut.saturating_add(1)..).unwrap_or_default(),
            )
        }
        1 => (fixture::CERT_PEM.as_bytes(), rest),
        _ => (rest, fixture::KEY_PEM.as_bytes()),
    };
    let files = CertifiedKeyFiles {
        cert: PathBuf::from("fuzz-cert.pem"),
        key: PathBuf::from("fuzz-key.pem"),
    };
    // A fixed time: the same input gives the same warnings on every run.
    let now = UnixTime::since_unix_epoch(Duration::from_secs(1_800_000_000));
    let outcome = match parse_certified_key(cert, key, &files, now) {
        Ok(loaded) => {
            let signer = loaded.key.key.choose_scheme(ALL_SCHEMES);
            assert!(signer.is_some(), "a loaded key offers no signature scheme");
            let mut o = Outcome::new(format!("loaded, {} warnings", loaded.warnings.len()));
            o.count("loaded", 1);
            o
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(
                !msg.contains('\n'),
                "error message must be one line: {msg:?}"
            );
            assert!(
                msg.starts_with("fuzz-") || msg.starts_with("TLS config"),
                "error must name the file: {msg}"
            );
            Outcome::new(format!("rejected: {msg}"))
        }
    };
    with_client_key(outcome, rest)
}

/// `outcome` plus what `rest` gives as a ClientKey.
fn with_client_key(mut outcome: Outcome, rest: &[u8]) -> Outcome {
    let text = String::from_utf8_lossy(rest);
    match crypto::decode_client_key(&text) {
        Ok(k) => {
            assert_eq!(k.len(), 32);
            outcome.count("client_key_ok", 1);
        }
        Err(_) => outcome.count("client_key_refused", 1),
    }
    outcome
}

/// Every signature scheme a supported key type can offer.
const ALL_SCHEMES: &[rustls::SignatureScheme] = &[
    rustls::SignatureScheme::ECDSA_NISTP256_SHA256,
    rustls::SignatureScheme::ECDSA_NISTP384_SHA384,
    rustls::SignatureScheme::ECDSA_NISTP521_SHA512,
    rustls::SignatureScheme::ED25519,
    rustls::SignatureScheme::RSA_PSS_SHA256,
    rustls::SignatureScheme::RSA_PKCS1_SHA256,
];
