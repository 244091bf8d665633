//! Client certificates (mutual TLS): [`ClientAuth`], the verifier built from a CA file, and
//! [`client_cert_uid`], the uid a client certificate speaks for.
//!
//! With `--client-ca FILE` the server asks every client for a certificate chained to one of
//! the CA certificates in FILE (webpki rules: validity, key usage, signatures). `required`
//! ends handshakes without one (alert certificate_required in TLS 1.3, handshake_failure
//! in 1.2); `optional` lets them in unauthenticated. A certificate that is offered must
//! verify in both modes.
//!
//! A client certificate's uid is the first CommonName of its subject. With uid matching on
//! (`--client-cert-uid`) a CONNECT on that connection must carry exactly that uid, else it
//! gets CONNACK 2 (auth fail); connections without a certificate (`optional`) are not
//! constrained.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::server::danger::ClientCertVerifier;
use rustls::server::WebPkiClientVerifier;
use rustls::RootCertStore;
use rustls_pki_types::CertificateDer;
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

use super::{pem, TlsError};

/// Longest uid taken from a certificate subject (longer CNs match no uid).
pub const MAX_CERT_UID_LEN: usize = 256;

/// Whether and how clients authenticate with certificates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ClientAuth {
    /// No client certificates are asked for (the default).
    #[default]
    None,
    /// Asked for and verified against the CA file if sent; clients without one get in.
    Optional(PathBuf),
    /// Every client must present a certificate that verifies against the CA file.
    Required(PathBuf),
}

impl ClientAuth {
    /// The CA file, if client certificates are asked for.
    #[must_use]
    pub fn ca_file(&self) -> Option<&Path> {
        match self {
            ClientAuth::None => None,
            ClientAuth::Optional(p) | ClientAuth::Required(p) => Some(p),
        }
    }
}

/// The client certificate verifier for `auth`, or `None` for [`ClientAuth::None`].
///
/// # Errors
/// The CA file's read or PEM errors ([`TlsError`] naming it), [`TlsError::NoCertificate`]
/// when it holds none, [`TlsError::ClientCa`] when webpki refuses a CA certificate.
pub fn client_verifier(
    auth: &ClientAuth,
    provider: Arc<CryptoProvider>,
) -> Result<Option<Arc<dyn ClientCertVerifier>>, TlsError> {
    let Some(path) = auth.ca_file() else {
        return Ok(None);
    };
    let roots = load_roots(path)?;
    let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider);
    let builder = match auth {
        ClientAuth::Optional(_) => builder.allow_unauthenticated(),
        _ => builder,
    };
    builder.build().map(Some).map_err(|e| TlsError::ClientCa {
        path: path.to_path_buf(),
        reason: e.to_string(),
    })
}

/// The CA certificates of a PEM file as a root store.
fn load_roots(path: &Path) -> Result<RootCertStore, TlsError> {
    let bytes = pem::read_bounded(path)?;
    if pem::is_blank(&bytes) {
        return Err(TlsError::Empty {
            path: path.to_path_buf(),
        });
    }
    let scan = pem::scan(&bytes);
    if scan.labels.is_empty() {
        return Err(TlsError::NotPem {
            path: path.to_path_buf(),
            hint: "",
        });
    }
    let certs = pem::sections(path, &bytes)?.certs;
    if certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_path_buf(),
            found: scan.found(),
        });
    }
    let mut roots = RootCertStore::empty();
    for (index, cert) in certs.into_iter().enumerate() {
        roots.add(cert).map_err(|e| TlsError::BadCertificate {
            path: path.to_path_buf(),
            index,
            reason: e.to_string(),
        })?;
    }
    Ok(roots)
}

/// The uid a client certificate speaks for: the first subject CommonName, if it is UTF-8,
/// non-empty and at most [`MAX_CERT_UID_LEN`] bytes. Malformed DER gives `None`.
#[must_use]
pub fn client_cert_uid(cert: &CertificateDer<'_>) -> Option<String> {
    let (_, parsed) = X509Certificate::from_der(cert.as_ref()).ok()?;
    let cn = parsed.subject().iter_common_name().next()?;
    let uid = cn.as_str().ok()?;
    (!uid.is_empty() && uid.len() <= MAX_CERT_UID_LEN).then(|| uid.to_owned())
}

#[cfg(test)]
mod tests {
    use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, PKCS_ED25519};

    use super::*;
    use crate::tls::testutil::write;

    fn cert_with_cn(cn: Option<&str>) -> CertificateDer<'static> {
        let key = KeyPair::generate_for(&PKCS_ED25519).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut dn = DistinguishedName::new();
        if let Some(cn) = cn {
            dn.push(DnType::CommonName, cn);
        }
        dn.push(DnType::OrganizationName, "wkfuzz");
        params.distinguished_name = dn;
        params.self_signed(&key).unwrap().der().clone()
    }

    #[test]
    fn uid_is_the_common_name() {
        assert_eq!(
            client_cert_uid(&cert_with_cn(Some("alice"))).as_deref(),
            Some("alice")
        );
        assert_eq!(client_cert_uid(&cert_with_cn(None)), None);
        assert_eq!(
            client_cert_uid(&CertificateDer::from(vec![0x30, 0x03, 1, 2, 3])),
            None
        );
    }

    #[test]
    fn ca_file_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let provider = crate::tls::provider();
        assert!(client_verifier(&ClientAuth::None, provider.clone())
            .unwrap()
            .is_none());
        let empty = write(d, "empty.pem", "");
        let garbage = write(d, "garbage.pem", "hello");
        let key_only = write(
            d,
            "key.pem",
            KeyPair::generate_for(&PKCS_ED25519)
                .unwrap()
                .serialize_pem(),
        );
        for (path, want) in [
            (&empty, "file is empty"),
            (&garbage, "not PEM"),
            (&key_only, "no certificate found"),
        ] {
            let err = client_verifier(&ClientAuth::Required(path.clone()), provider.clone())
                .err()
                .unwrap()
                .to_string();
            assert!(
                err.starts_with(&path.display().to_string()) && err.contains(want),
                "{err}"
            );
        }
        let ca = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
        let ca = ca
            .self_signed(&KeyPair::generate_for(&PKCS_ED25519).unwrap())
            .unwrap();
        let ca = write(d, "ca.pem", ca.pem());
        for auth in [ClientAuth::Required(ca.clone()), ClientAuth::Optional(ca)] {
            assert!(client_verifier(&auth, provider.clone()).unwrap().is_some());
        }
    }
}
