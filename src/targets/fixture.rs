//! Fixed key material for the targets: a self-signed ECDSA P-256 certificate for
//! `localhost` valid for a century, committed so every run and machine uses the same bytes.

use std::cell::RefCell;
use std::sync::{Arc, OnceLock};

/// The certificate (PEM).
pub(crate) const CERT_PEM: &str = include_str!("data/fuzz-cert.pem");
/// Its private key (PKCS#8 PEM).
pub(crate) const KEY_PEM: &str = include_str!("data/fuzz-key.pem");

thread_local! {
    /// This run's server config (see [`new_run`]).
    static RUN_CONFIG: RefCell<Option<Arc<rustls::ServerConfig>>> = const { RefCell::new(None) };
}

/// Starts a run on this thread: the seeded random stream from its beginning, no msgKey of
/// an earlier run remembered, and a server that remembers no session of an earlier run. Randomness is seeded, so session ids repeat
/// from run to run, and a session cache shared across runs (or across the gate's threads,
/// which can evict an entry a run still needs) would make outcomes depend on the runs before.
pub(crate) fn new_run() {
    super::det_crypto::reset();
    crate::msg_key_memo::forget();
    RUN_CONFIG.with(|c| *c.borrow_mut() = None);
}

/// The server config for this run: the server's own config (see [`base_server_config`])
/// with an empty session cache of its own.
pub(crate) fn server_config() -> Arc<rustls::ServerConfig> {
    RUN_CONFIG.with(|c| {
        c.borrow_mut()
            .get_or_insert_with(|| {
                let mut config = (*base_server_config()).clone();
                config.session_storage = rustls::server::ServerSessionMemoryCache::new(256);
                Arc::new(config)
            })
            .clone()
    })
}

/// The server config every TLS target uses, built by the same code as the server's, with the
/// seeded crypto provider (see `det_crypto`).
///
/// # Panics
/// If the committed fixture does not load (a build defect, not an input).
fn base_server_config() -> Arc<rustls::ServerConfig> {
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
            crate::tls::server_config_with_provider(
                loaded.key,
                vec![b"wkproto".to_vec()],
                super::det_crypto::provider(),
            )
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
    client_config_from(super::det_crypto::provider(), versions)
}

/// [`client_config`] offering its suites in a browser's order, AES-128-GCM with SHA-256
/// first (rustls lists AES-256-GCM with SHA-384 first). The server follows the client's
/// order, so handshakes hash with SHA-256, which this machine's SHA extensions compute,
/// instead of SHA-384 in software: a few percent of a `session` campaign.
pub(crate) fn aes128_first_client_config(
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<rustls::ClientConfig> {
    let mut provider = (*super::det_crypto::provider()).clone();
    provider.cipher_suites.sort_by_key(|s| {
        !matches!(
            s.suite(),
            rustls::CipherSuite::TLS13_AES_128_GCM_SHA256
                | rustls::CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
        )
    });
    client_config_from(Arc::new(provider), versions)
}

fn client_config_from(
    provider: Arc<rustls::crypto::CryptoProvider>,
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> Arc<rustls::ClientConfig> {
    let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(versions)
        .expect("versions supported")
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(PinnedFixture { provider }))
        .with_no_client_auth();
    config.enable_sni = true;
    Arc::new(config)
}

/// The fixture certificate's DER, parsed once (every handshake of every run compares it).
///
/// # Panics
/// If the committed fixture does not parse (a build defect, not an input).
fn pinned_der() -> &'static [u8] {
    static DER: OnceLock<Vec<u8>> = OnceLock::new();
    DER.get_or_init(|| {
        use rustls::pki_types::{pem::PemObject, CertificateDer};
        CertificateDer::from_pem_slice(CERT_PEM.as_bytes())
            .expect("the committed fuzz certificate parses")
            .to_vec()
    })
}

/// The targets' clients pin the fixture certificate instead of running WebPKI path
/// validation and signature checks: the client is the harness, not the code under test, and
/// those checks were most of a `session` run's time. The server still signs every handshake.
#[derive(Debug)]
struct PinnedFixture {
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl rustls::client::danger::ServerCertVerifier for PinnedFixture {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        _intermediates: &[rustls::pki_types::CertificateDer<'_>],
        _server_name: &rustls::pki_types::ServerName<'_>,
        _ocsp: &[u8],
        _now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        if end_entity.as_ref() == pinned_der() {
            Ok(rustls::client::danger::ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::InvalidCertificate(
                rustls::CertificateError::UnknownIssuer,
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &rustls::pki_types::CertificateDer<'_>,
        _dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &rustls::pki_types::CertificateDer<'_>,
        _dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Ok(rustls::client::danger::HandshakeSignatureValid::assertion())
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The suite a full in-memory handshake of `client` with this run's server settles on.
    fn negotiated(client: Arc<rustls::ClientConfig>) -> rustls::CipherSuite {
        new_run();
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let mut c = rustls::ClientConnection::new(client, name).unwrap();
        let mut s = rustls::ServerConnection::new(server_config()).unwrap();
        for _ in 0..10 {
            let mut wire = Vec::new();
            c.write_tls(&mut wire).unwrap();
            s.read_tls(&mut wire.as_slice()).unwrap();
            s.process_new_packets().unwrap();
            wire.clear();
            s.write_tls(&mut wire).unwrap();
            c.read_tls(&mut wire.as_slice()).unwrap();
            c.process_new_packets().unwrap();
        }
        assert!(!c.is_handshaking() && !s.is_handshaking());
        s.negotiated_cipher_suite().unwrap().suite()
    }

    #[test]
    fn the_aes128_first_client_gets_aes128_where_the_default_one_gets_aes256() {
        use rustls::version::{TLS12, TLS13};
        use rustls::CipherSuite as S;
        let cases = [
            (
                aes128_first_client_config(&[&TLS13]),
                S::TLS13_AES_128_GCM_SHA256,
            ),
            (
                aes128_first_client_config(&[&TLS12]),
                S::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            ),
            (client_config(&[&TLS13]), S::TLS13_AES_256_GCM_SHA384),
            (
                client_config(&[&TLS12]),
                S::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            ),
        ];
        for (client, suite) in cases {
            assert_eq!(negotiated(client), suite);
        }
    }
}
