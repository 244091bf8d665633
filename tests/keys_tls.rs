//! End to end over real sockets against in-process servers: several certificates chosen by
//! SNI and key type, mutual TLS with uid matching, session tickets shared by servers
//! (resumption across instances, rotation, foreign and expired tickets), and swapping the
//! live config (what SIGHUP does).

mod keys_support;

use std::sync::Arc;
use std::time::Duration;

use keys_support::*;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use wkfuzz::proto::ReasonCode;
use wkfuzz::server::ServeOptions;
use wkfuzz::tls::{ClientAuth, TlsFiles};

const BOTH: [&[&rustls::SupportedProtocolVersion]; 2] =
    [&[&rustls::version::TLS12], &[&rustls::version::TLS13]];

/// Accepts any server certificate (to see which one an unknown name gets) and offers only
/// `schemes`, so the server must pick by key type.
#[derive(Debug)]
struct AnyCert {
    schemes: Vec<SignatureScheme>,
}

impl ServerCertVerifier for AnyCert {
    fn verify_server_cert(
        &self,
        _: &CertificateDer<'_>,
        _: &[CertificateDer<'_>],
        _: &ServerName<'_>,
        _: &[u8],
        _: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }
    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &wkfuzz::tls::provider().signature_verification_algorithms,
        )
    }
    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &wkfuzz::tls::provider().signature_verification_algorithms,
        )
    }
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.schemes.clone()
    }
}

fn any_cert_client(
    versions: &[&'static rustls::SupportedProtocolVersion],
    schemes: &[SignatureScheme],
) -> Arc<rustls::ClientConfig> {
    let config = rustls::ClientConfig::builder_with_provider(wkfuzz::tls::provider())
        .with_protocol_versions(versions)
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(AnyCert {
            schemes: schemes.to_vec(),
        }))
        .with_no_client_auth();
    Arc::new(config)
}

const ED: &[SignatureScheme] = &[SignatureScheme::ED25519];
const EC: &[SignatureScheme] = &[SignatureScheme::ECDSA_NISTP256_SHA256];
const RSA: &[SignatureScheme] = &[
    SignatureScheme::RSA_PSS_SHA256,
    SignatureScheme::RSA_PKCS1_SHA256,
];

#[tokio::test]
async fn sni_and_key_type_choose_among_several_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let default = pki.server(
        "default",
        &rcgen::PKCS_ECDSA_P256_SHA256,
        &["localhost", "127.0.0.1"],
    );
    let rsa = pki.server("rsa", &rcgen::PKCS_RSA_SHA256, &["rsa.test"]);
    let ed = pki.server("ed", &rcgen::PKCS_ED25519, &["ed.test", "*.wild.test"]);
    let multi_rsa = pki.server("multi-rsa", &rcgen::PKCS_RSA_SHA256, &["multi.test"]);
    let multi_ed = pki.server("multi-ed", &rcgen::PKCS_ED25519, &["multi.test"]);
    let multi_ec = pki.server("multi-ec", &rcgen::PKCS_ECDSA_P256_SHA256, &["multi.test"]);
    let all = [&default, &rsa, &ed, &multi_rsa, &multi_ed, &multi_ec];
    let mut files = TlsFiles::single(default.files());
    files.certs.extend(all[1..].iter().map(|i| i.files()));
    let built = files.build().unwrap();
    assert!(
        built.summary.starts_with("6 certificate(s)"),
        "{}",
        built.summary
    );
    let server = KeyServer::start(&files).await;

    for versions in BOTH {
        // Verified clients (CA trusted): each name gets its certificate.
        let verified = pki.client_config(versions, None);
        for (name, want) in [
            ("localhost", &default),
            ("127.0.0.1", &default), // an IP address: no SNI at all
            ("rsa.test", &rsa),
            ("ed.test", &ed),
            ("a.wild.test", &ed),
        ] {
            let (s, _) = tls_connect(server.addr, verified.clone(), name)
                .await
                .unwrap();
            assert_eq!(server_cert(&s), want.der, "{name} {versions:?}");
        }
        // One name, three key types: the client's signature schemes choose.
        for (schemes, want) in [(ED, &multi_ed), (EC, &multi_ec), (RSA, &multi_rsa)] {
            let client = any_cert_client(versions, schemes);
            let (s, _) = tls_connect(server.addr, client, "multi.test")
                .await
                .unwrap();
            assert_eq!(server_cert(&s), want.der, "multi.test {schemes:?}");
        }
        // Unknown name: the default, unless the client cannot verify its key type.
        let all_schemes = [ED, EC, RSA].concat();
        let (s, _) = tls_connect(
            server.addr,
            any_cert_client(versions, &all_schemes),
            "nobody.test",
        )
        .await
        .unwrap();
        assert_eq!(server_cert(&s), default.der);
        let (s, _) = tls_connect(server.addr, any_cert_client(versions, RSA), "nobody.test")
            .await
            .unwrap();
        assert_eq!(
            server_cert(&s),
            rsa.der,
            "first RSA certificate in file order"
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn client_certificates_required_optional_and_uid_match() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let server_cert = pki.server("server", &rcgen::PKCS_ECDSA_P256_SHA256, &["localhost"]);
    let alice = pki.client("alice", "alice");
    let other_dir = tempfile::tempdir().unwrap();
    let stranger = Pki::new(other_dir.path()).client("mallory", "alice");
    let options = ServeOptions {
        client_cert_uid: true,
        ..ServeOptions::default()
    };
    for (mode, required) in [
        (ClientAuth::Required(pki.ca_file.clone()), true),
        (ClientAuth::Optional(pki.ca_file.clone()), false),
    ] {
        let mut files = TlsFiles::single(server_cert.files());
        files.client_auth = mode.clone();
        let server = KeyServer::start_with(&files, options.clone()).await;
        for versions in BOTH {
            let tag = format!("{mode:?} {versions:?}");
            // The certificate's CN is the only uid.
            let with_cert = pki.client_config(versions, Some(&alice));
            let (s, _) = tls_connect(server.addr, with_cert.clone(), "localhost")
                .await
                .unwrap();
            let (_alice, reason) = Chat::login(s, "alice", 1).await;
            assert_eq!(reason, ReasonCode::SUCCESS, "{tag}");
            let (s, local) = tls_connect(server.addr, with_cert, "localhost")
                .await
                .unwrap();
            let (mut bob, reason) = Chat::login(s, "bob", 2).await;
            assert_eq!(reason, ReasonCode::AUTH_FAIL, "{tag}");
            assert!(bob.closed_by_server().await);
            let lines = close_lines(local).await;
            assert_eq!(lines.len(), 1, "{lines:?}");
            assert!(
                lines[0].contains("is not the client certificate's"),
                "{}",
                lines[0]
            );

            // No certificate: refused when required, any uid when optional.
            let no_cert = pki.client_config(versions, None);
            match tls_connect(server.addr, no_cert, "localhost").await {
                Ok((s, local)) => {
                    if required {
                        // TLS 1.3: the client finishes first; the server's alert follows.
                        let mut buf = [0u8; 16];
                        let mut s = s;
                        let r = tokio::io::AsyncReadExt::read(&mut s, &mut buf).await;
                        assert!(!matches!(r, Ok(n) if n > 0), "{tag}: {r:?}");
                        let lines = close_lines(local).await;
                        assert!(lines[0].contains("stage=handshake"), "{}", lines[0]);
                        // TLS 1.3 sends the alert under the handshake keys ("encrypted").
                        assert!(
                            lines[0].contains("peer sent no certificates"),
                            "{}",
                            lines[0]
                        );
                        assert!(!lines[0].contains("alert=none"), "{}", lines[0]);
                    } else {
                        let (_carol, reason) = Chat::login(s, "carol", 3).await;
                        assert_eq!(reason, ReasonCode::SUCCESS, "{tag}");
                    }
                }
                Err(e) => assert!(required, "{tag}: {e}"),
            }

            // A certificate from another CA is refused in both modes.
            let foreign = pki.client_config(versions, Some(&stranger));
            if let Ok((mut s, _)) = tls_connect(server.addr, foreign, "localhost").await {
                let mut buf = [0u8; 16];
                let r = tokio::io::AsyncReadExt::read(&mut s, &mut buf).await;
                assert!(!matches!(r, Ok(n) if n > 0), "{tag}: foreign CA accepted");
            }
        }
        server.shutdown().await;
    }
}

/// Builds a server config with `keys` as ticket keys (first seals) and `clock_offset`
/// seconds added to the ticket clock.
fn ticket_server_files(pair: &Issued, keys: &[std::path::PathBuf]) -> TlsFiles {
    let mut files = TlsFiles::single(pair.files());
    files.ticket_keys = keys.to_vec();
    files.ticket_lifetime_secs = 3600;
    files
}

fn offset_clock(offset: u64) -> wkfuzz::tls::Clock {
    let system = wkfuzz::tls::system_clock();
    Arc::new(move || system() + offset)
}

#[tokio::test]
async fn tickets_resume_across_servers_and_survive_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pki = Pki::new(d);
    let pair = pki.server("server", &rcgen::PKCS_ECDSA_P256_SHA256, &["localhost"]);
    let old = ticket_key_file(d, "old.key", 1, 80);
    let new = ticket_key_file(d, "new.key", 2, 48);
    let stranger = ticket_key_file(d, "stranger.key", 3, 80);
    let start = |keys: &[std::path::PathBuf]| {
        let files = ticket_server_files(&pair, keys);
        async move { KeyServer::start(&files).await }
    };
    let a = start(std::slice::from_ref(&old)).await;
    let b = start(std::slice::from_ref(&old)).await;
    let rotated = start(&[new.clone(), old.clone()]).await;
    let removed = start(std::slice::from_ref(&new)).await;
    let foreign = start(&[stranger]).await;
    // Its tickets have aged a lifetime: no flag sets the ticket clock, so the config built
    // with a clock an hour ahead replaces the one the flags built.
    let files = ticket_server_files(&pair, std::slice::from_ref(&old));
    let ahead = files
        .build_with(
            wkfuzz::tls::provider(),
            UnixTime::now(),
            Some(offset_clock(3600)),
        )
        .unwrap()
        .config;
    let expired = KeyServer::start_then_swap(&files, ahead).await;

    for versions in BOTH {
        let tag = format!("{versions:?}");
        // Each client config has its own session cache; a fresh ticket per check.
        let fresh = || pki.client_config(versions, None);
        let check = |server: &KeyServer, want: bool, what: &str| {
            let (addr, config, what) = (server.addr, fresh(), format!("{what} {tag}"));
            let a_addr = a.addr;
            async move {
                assert!(!handshake_once(a_addr, &config).await, "first is full");
                assert_eq!(handshake_once(addr, &config).await, want, "{what}");
            }
        };
        check(&a, true, "same server").await;
        check(&b, true, "second instance, same key file").await;
        check(&rotated, true, "rotated: old key still opens").await;
        check(&removed, false, "old key removed").await;
        check(&foreign, false, "foreign key").await;
        check(&expired, false, "expired").await;
        // The rotated server seals with the new key: its tickets open where only the new
        // key is.
        let config = fresh();
        assert!(!handshake_once(rotated.addr, &config).await);
        assert!(handshake_once(removed.addr, &config).await, "new key {tag}");
    }
    let refused = log_lines_with("session ticket refused");
    for why in ["ticket key name is unknown", "expired"] {
        assert!(
            refused
                .iter()
                .any(|l| l.contains(why) && l.contains("DEBUG")),
            "{why}: {refused:?}"
        );
    }
    for s in [a, b, rotated, removed, foreign, expired] {
        s.shutdown().await;
    }
}

#[tokio::test]
async fn swapping_the_live_config_serves_new_connections_with_it() {
    let dir = tempfile::tempdir().unwrap();
    let pki = Pki::new(dir.path());
    let first = pki.server("first", &rcgen::PKCS_ECDSA_P256_SHA256, &["localhost"]);
    let second = pki.server("second", &rcgen::PKCS_ED25519, &["localhost"]);
    let mut files = TlsFiles::single(first.files());
    let server = KeyServer::start(&files).await;
    let client = pki.client_config(&[&rustls::version::TLS13], None);
    let (old_conn, _) = tls_connect(server.addr, client.clone(), "localhost")
        .await
        .unwrap();
    let (mut old_user, reason) = Chat::login(old_conn, "old", 1).await;
    assert_eq!(reason, ReasonCode::SUCCESS);

    // A bad file: nothing changes.
    files.certs[0].key = second.key.clone();
    let live = server.shared.live_tls().unwrap();
    let err = wkfuzz::tls::reload(&files, live).unwrap_err().to_string();
    assert!(err.contains("does not match"), "{err}");
    let (s, _) = tls_connect(server.addr, client.clone(), "localhost")
        .await
        .unwrap();
    assert_eq!(server_cert(&s), first.der);

    // A good one: new connections get it, open ones go on.
    files.certs[0] = second.files();
    wkfuzz::tls::reload(&files, live).unwrap();
    let (s, _) = tls_connect(server.addr, client, "localhost").await.unwrap();
    assert_eq!(server_cert(&s), second.der);
    let (mut new_user, reason) = Chat::login(s, "new", 2).await;
    assert_eq!(reason, ReasonCode::SUCCESS);
    chat_round(&mut old_user, &mut new_user, "after reload").await;
    tokio::time::sleep(Duration::from_millis(10)).await;
    server.shutdown().await;
}
