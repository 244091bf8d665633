//! [`CertSet`]: several certificate/key pairs loaded into one [`SniResolver`], each served
//! under the DNS names its certificate carries.
//!
//! A certificate's names are its subjectAltName dNSName entries (lower-cased; `*.x`
//! wildcards kept), or, when it has no dNSName at all, its subject CN if that looks like a
//! host name (old certificates). IP-address SANs are not names: SNI never carries an
//! address, such clients get the default (the first pair).

use std::path::Path;

use rustls_pki_types::{CertificateDer, UnixTime};
use x509_parser::certificate::X509Certificate;
use x509_parser::extensions::GeneralName;
use x509_parser::prelude::FromDer;

use super::{load_certified_key_at, CertifiedKeyFiles, SniResolver, TlsError};

/// Longest DNS name taken from a certificate (RFC 1035: 253 characters).
const MAX_DNS_NAME_LEN: usize = 253;

/// Loaded certificates, ready for a server config.
#[derive(Clone, Debug)]
pub struct CertSet {
    /// The resolver serving them.
    pub resolver: SniResolver,
    /// Per-file warnings (validity, chain order, names claimed twice...), one line each.
    pub warnings: Vec<String>,
}

/// Loads every pair (the first is the default) and indexes them by name, judging validity
/// at `now`.
///
/// # Errors
/// [`TlsError::NoCertificates`] for an empty list, else the first pair's [`TlsError`].
pub fn load_cert_set(files: &[CertifiedKeyFiles], now: UnixTime) -> Result<CertSet, TlsError> {
    let mut resolver: Option<SniResolver> = None;
    let mut warnings = Vec::new();
    let mut seen: Vec<(String, &Path)> = Vec::new();
    for pair in files {
        let loaded = load_certified_key_at(pair, now)?;
        warnings.extend(loaded.warnings);
        let names = loaded
            .key
            .end_entity_cert()
            .map(dns_names)
            .unwrap_or_default();
        if names.is_empty() {
            warnings.push(format!(
                "{}: certificate has no DNS name; it is served only to clients without a matching SNI name",
                pair.cert.display()
            ));
        }
        for name in &names {
            if let Some((_, first)) = seen.iter().find(|(n, _)| n == name) {
                warnings.push(format!(
                    "{}: name {name} is also in {}; the client's signature schemes choose, in file order",
                    pair.cert.display(),
                    first.display()
                ));
            } else {
                seen.push((name.clone(), &pair.cert));
            }
        }
        match resolver.as_mut() {
            None => {
                let mut r = SniResolver::new(loaded.key);
                r.add_names(0, &names);
                resolver = Some(r);
            }
            Some(r) => r.add(loaded.key, &names),
        }
    }
    let resolver = resolver.ok_or(TlsError::NoCertificates)?;
    Ok(CertSet { resolver, warnings })
}

/// The DNS names a certificate is for; see the module docs. Malformed DER gives none.
#[must_use]
pub fn dns_names(der: &CertificateDer<'_>) -> Vec<String> {
    let Ok((_, cert)) = X509Certificate::from_der(der.as_ref()) else {
        return Vec::new();
    };
    let mut names = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for general in &san.value.general_names {
            if let GeneralName::DNSName(n) = general {
                if let Some(n) = host_name(n) {
                    names.push(n);
                }
            }
        }
    }
    if names.is_empty() {
        let cn = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
            .and_then(host_name);
        names.extend(cn);
    }
    names.dedup();
    names
}

/// `name` lower-cased if it is a plausible DNS name or `*.` wildcard, else `None`.
fn host_name(name: &str) -> Option<String> {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    let body = name.strip_prefix("*.").unwrap_or(&name);
    let plausible = !body.is_empty()
        && name.len() <= MAX_DNS_NAME_LEN
        && body.contains(|c: char| c.is_ascii_alphabetic())
        && body
            .split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    plausible.then_some(name)
}

#[cfg(test)]
mod tests {
    use rcgen::{
        CertificateParams, DistinguishedName, DnType, PKCS_ECDSA_P256_SHA256, PKCS_ED25519,
    };
    use rustls::SignatureScheme;

    use super::*;
    use crate::tls::testutil::{rcgen_pem, write};

    fn pair(
        dir: &Path,
        stem: &str,
        alg: &'static rcgen::SignatureAlgorithm,
        params: CertificateParams,
    ) -> CertifiedKeyFiles {
        let (cert, key) = rcgen_pem(alg, params);
        CertifiedKeyFiles {
            cert: write(dir, &format!("{stem}.crt"), cert),
            key: write(dir, &format!("{stem}.key"), key),
        }
    }

    #[test]
    fn names_come_from_san_then_cn() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let san = CertificateParams::new(vec![
            "Chat.Example".into(),
            "*.example.net".into(),
            "127.0.0.1".into(),
        ])
        .unwrap();
        let mut cn_only = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "legacy.example");
        cn_only.distinguished_name = dn;
        let a = pair(d, "a", &PKCS_ED25519, san);
        let b = pair(d, "b", &PKCS_ECDSA_P256_SHA256, cn_only);
        let set = load_cert_set(&[a.clone(), b], UnixTime::now()).unwrap();
        let names: Vec<_> = set.resolver.names().collect();
        assert_eq!(
            names,
            vec![
                ("*.example.net", 1),
                ("chat.example", 1),
                ("legacy.example", 1)
            ]
        );
        let ed = [SignatureScheme::ED25519];
        let ec = [SignatureScheme::ECDSA_NISTP256_SHA256];
        let keys = set.resolver.keys();
        assert!(std::sync::Arc::ptr_eq(
            set.resolver.lookup(Some("legacy.example"), &ed),
            &keys[1]
        ));
        assert!(std::sync::Arc::ptr_eq(
            set.resolver.lookup(Some("x.example.net"), &ec),
            &keys[0]
        ));
        // The same certificate twice: a warning naming both files.
        let set = load_cert_set(&[a.clone(), a.clone()], UnixTime::now()).unwrap();
        assert!(
            set.warnings.iter().any(|w| w.contains("is also in")),
            "{:?}",
            set.warnings
        );
        assert!(matches!(
            load_cert_set(&[], UnixTime::now()),
            Err(TlsError::NoCertificates)
        ));
    }

    #[test]
    fn host_name_filter() {
        assert_eq!(host_name("A.Example."), Some("a.example".into()));
        assert_eq!(host_name("*.x.org"), Some("*.x.org".into()));
        for bad in [
            "",
            "*.",
            "10.0.0.1",
            "a..b",
            "wkfuzz development certificate",
            "a_b.c",
        ] {
            assert_eq!(host_name(bad), None, "{bad}");
        }
    }
}
