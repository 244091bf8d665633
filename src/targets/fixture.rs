//! Fixed key material for the targets: a self-signed ECDSA P-256 certificate for
//! `localhost` valid for a century, committed so every run and machine uses the same bytes.

use std::sync::{Arc, OnceLock};

/// The certificate (PEM).
pub(crate) const CERT_PEM: &str = include_str!("data/fuzz-cert.pem");
/// Its private key (PKCS#8 PEM).
pub(crate) const KEY_PEM: &str = include_str!("data/fuzz-key.pem");

/// The server config every TLS target uses, built by the same code as the server's, with the
/// seeded crypto provider (see `det_crypto`).
///
/// # Panics
/// If the committed fixture does not load (a build defect, not an input).
pub(crate) fn server_config() -> Arc<rustls::ServerConfig> {
    static CONFIG: OnceLock<Arc<rustls::ServerConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let files = crate::tls::CertifiedKeyFiles {
                cert: "fuzz-cert.pem".into(),
                key: "fuzz-key.pem".into(),
            };
            let now = rustls::pki_types::UnixTime::since_unix_epoch(
                std::time::Duration::from_secs(1_800_000_000),
            );
            let loaded = crate::tls::parse_certified_key(
                CERT_PEM.as_bytes(),
                KEY_PEM.as_bytes(),
                &files,
                now,
            )
            .expect("the committed fuzz certificate loads");
            crate::tls::server_config(loaded.key, vec![b"wkproto".to_vec()])
                .expect("server config builds")
        })
        .clone()
}

/// A client config trusting the fixture certificate.
///
/// # Panics
/// If the committed fixture does not parse.
pub(crate) fn client_config(
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let mut roots = rustls::RootCertStore::empty();
    let cert = CertificateDer::from_pem_slice(CERT_PEM.as_bytes()).expect("fixture cert parses");
    roots.add(cert).expect("fixture cert is a valid root");
    let config = rustls::ClientConfig::builder_with_provider(super::det_crypto::provider())
        .with_protocol_versions(versions)
        .expect("versions supported")
        .with_root_certificates(roots)
        .with_no_client_auth();
    Arc::new(config)
}
