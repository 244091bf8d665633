//! [`server_config`]: the rustls `ServerConfig` the TLS listeners use.

use std::sync::Arc;

use rustls::sign::CertifiedKey;
use rustls::ServerConfig;

use super::{provider, SniResolver, TlsError};

/// Longest ALPN protocol name: the name is prefixed by a one-byte length (RFC 7301 3.1).
pub const MAX_ALPN_PROTOCOL_LEN: usize = 255;

/// A server config: TLS 1.2 and 1.3 with rustls' safe defaults, the crate's [`provider`],
/// no client authentication, certificates from an [`SniResolver`] serving `key`, and
/// `alpn` as the server's ALPN preference list (empty = no ALPN).
///
/// # Errors
/// [`TlsError::InvalidAlpn`] for an empty or over-long protocol name (it could never be
/// negotiated), [`TlsError::Config`] if rustls rejects the provider/version combination.
pub fn server_config(
    key: Arc<CertifiedKey>,
    alpn: Vec<Vec<u8>>,
) -> Result<Arc<ServerConfig>, TlsError> {
    server_config_with_provider(key, alpn, provider())
}

/// [`server_config`] with another crypto provider (the fuzz targets use a seeded one so a
/// run is repeatable); everything else is identical.
///
/// # Errors
/// As [`server_config`].
pub fn server_config_with_provider(
    key: Arc<CertifiedKey>,
    alpn: Vec<Vec<u8>>,
    provider: Arc<rustls::crypto::CryptoProvider>,
) -> Result<Arc<ServerConfig>, TlsError> {
    super::material::build_config(SniResolver::new(key), None, None, alpn, provider)
}

#[cfg(test)]
mod tests {
    use std::io::{Read, Write};

    use rcgen::{PKCS_ECDSA_P384_SHA384, PKCS_ED25519};
    use rustls::pki_types::ServerName;
    use rustls::{
        ClientConfig, ClientConnection, Connection, ProtocolVersion, RootCertStore,
        ServerConnection,
    };
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::CertificateDer;

    use super::*;
    use crate::tls::testutil::{localhost_params, openssl_pair, rcgen_pem, write};
    use crate::tls::{generate_dev_cert, load_certified_key, CertifiedKeyFiles};

    /// Moves every pending TLS byte from `from` to `to` and lets `to` process them.
    fn transfer(from: &mut Connection, to: &mut Connection) {
        let mut wire = Vec::new();
        while from.wants_write() {
            from.write_tls(&mut wire).unwrap();
        }
        let mut rd = wire.as_slice();
        while !rd.is_empty() {
            to.read_tls(&mut rd).unwrap();
        }
        to.process_new_packets().unwrap();
    }

    /// Pumps bytes until neither side has anything to send; bounded, so a stuck
    /// handshake fails instead of looping.
    fn pump(client: &mut Connection, server: &mut Connection) {
        for _ in 0..10 {
            if !client.wants_write() && !server.wants_write() {
                return;
            }
            transfer(client, server);
            transfer(server, client);
        }
        panic!("handshake did not settle");
    }

    /// Handshakes in memory against `server_config(key, alpn)` with a client that trusts
    /// `root`, speaks only `version`, and offers `client_alpn`. Returns the client side
    /// after a round of application data both ways.
    fn handshake(
        files: &CertifiedKeyFiles,
        version: &'static rustls::SupportedProtocolVersion,
        server_name: &str,
        server_alpn: Vec<Vec<u8>>,
        client_alpn: Vec<Vec<u8>>,
    ) -> (Connection, Connection) {
        let loaded = load_certified_key(files).unwrap();
        let server_config = server_config(loaded.key, server_alpn).unwrap();
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_file(&files.cert).unwrap())
            .unwrap();
        let mut client_config = ClientConfig::builder_with_provider(crate::tls::provider())
            .with_protocol_versions(&[version])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        client_config.alpn_protocols = client_alpn;
        let name = ServerName::try_from(server_name.to_string()).unwrap();
        let mut client: Connection = ClientConnection::new(Arc::new(client_config), name)
            .unwrap()
            .into();
        let mut server: Connection = ServerConnection::new(server_config).unwrap().into();
        pump(&mut client, &mut server);
        assert!(!client.is_handshaking() && !server.is_handshaking());

        client.writer().write_all(b"CONNECT").unwrap();
        server.writer().write_all(b"CONNACK").unwrap();
        pump(&mut client, &mut server);
        let mut got = [0u8; 7];
        server.reader().read_exact(&mut got).unwrap();
        assert_eq!(&got, b"CONNECT");
        client.reader().read_exact(&mut got).unwrap();
        assert_eq!(&got, b"CONNACK");
        (client, server)
    }

    #[test]
    fn dev_cert_handshakes_over_tls12_and_tls13_with_alpn() {
        let dir = tempfile::tempdir().unwrap();
        let files = generate_dev_cert(dir.path()).unwrap();
        let server_alpn = vec![b"wkproto".to_vec(), b"http/1.1".to_vec()];
        for (version, want) in [
            (&rustls::version::TLS12, ProtocolVersion::TLSv1_2),
            (&rustls::version::TLS13, ProtocolVersion::TLSv1_3),
        ] {
            for name in ["localhost", "127.0.0.1", "::1"] {
                let client_alpn = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
                let (client, server) =
                    handshake(&files, version, name, server_alpn.clone(), client_alpn);
                assert_eq!(client.protocol_version(), Some(want), "{name}");
                assert_eq!(server.protocol_version(), Some(want), "{name}");
                assert_eq!(client.alpn_protocol(), Some(&b"http/1.1"[..]), "{name}");
                assert_eq!(server.alpn_protocol(), Some(&b"http/1.1"[..]), "{name}");
            }
            // A client that offers no ALPN still connects, with none negotiated.
            let (client, _) = handshake(&files, version, "localhost", server_alpn.clone(), vec![]);
            assert_eq!(client.alpn_protocol(), None);
        }
    }

    #[test]
    fn other_key_types_handshake() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let rsa = openssl_pair(d, "rsa", "rsa:2048", &[]);
        let mut all = vec![("RSA", rsa)];
        for (name, alg) in [
            ("P-384", &PKCS_ECDSA_P384_SHA384),
            ("Ed25519", &PKCS_ED25519),
        ] {
            let (cert, key) = rcgen_pem(alg, localhost_params());
            all.push((
                name,
                CertifiedKeyFiles {
                    cert: write(d, &format!("{name}-cert.pem"), cert),
                    key: write(d, &format!("{name}-key.pem"), key),
                },
            ));
        }
        for (name, files) in &all {
            for version in [&rustls::version::TLS12, &rustls::version::TLS13] {
                let (client, _) =
                    handshake(files, version, "localhost", vec![], vec![b"x".to_vec()]);
                assert!(client.protocol_version().is_some(), "{name}");
                assert_eq!(client.alpn_protocol(), None, "{name}");
            }
        }
    }

    #[test]
    fn invalid_alpn_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let files = generate_dev_cert(dir.path()).unwrap();
        let key = load_certified_key(&files).unwrap().key;
        let err = server_config(Arc::clone(&key), vec![b"ok".to_vec(), vec![]]).unwrap_err();
        assert!(
            matches!(err, TlsError::InvalidAlpn { index: 1, len: 0 }),
            "{err:?}"
        );
        assert_eq!(
            err.to_string(),
            "TLS config: ALPN protocol #1 has length 0, expected 1..=255"
        );
        assert!(err.path().is_none());
        let long = vec![b'a'; MAX_ALPN_PROTOCOL_LEN + 1];
        assert!(matches!(
            server_config(Arc::clone(&key), vec![long]),
            Err(TlsError::InvalidAlpn { index: 0, len: 256 })
        ));
        assert!(server_config(key, vec![vec![b'a'; MAX_ALPN_PROTOCOL_LEN]]).is_ok());
    }
}
