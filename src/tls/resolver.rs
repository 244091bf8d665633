//! [`SniResolver`]: picks the certificate for a TLS handshake from the client's SNI name and
//! the signature schemes it offers.
//!
//! Several certificates may be configured; the first is the default. For a handshake:
//! 1. the candidates are the certificates whose names (see [`CertSet`](super::CertSet))
//!    match the SNI name exactly, else those matching it by a `*.` wildcard (one label),
//!    else every certificate with the default first (no SNI, an IP address, an unknown name);
//! 2. the first candidate whose key can sign with a scheme the client offers wins, so an
//!    RSA, an ECDSA and an Ed25519 certificate for the same name are served side by side,
//!    each to the clients that can verify it; if none can, the first candidate is sent
//!    and the client decides.

use std::collections::BTreeMap;
use std::sync::Arc;

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::SignatureScheme;

/// A certificate resolver by SNI name and signature scheme. See the module docs.
#[derive(Clone, Debug)]
pub struct SniResolver {
    /// Every certificate in configuration order; `keys[0]` is the default. Never empty.
    keys: Vec<Arc<CertifiedKey>>,
    /// Lower-case DNS name or `*.suffix` -> indexes into `keys`, in configuration order.
    /// BTreeMap so iteration (and anything logged from it) is deterministic.
    by_name: BTreeMap<String, Vec<usize>>,
}

impl SniResolver {
    /// A resolver that serves `default` to everyone.
    #[must_use]
    pub fn new(default: Arc<CertifiedKey>) -> Self {
        Self {
            keys: vec![default],
            by_name: BTreeMap::new(),
        }
    }

    /// Adds a certificate under `names` (DNS names, `*.suffix` wildcards; case-insensitive).
    /// The default's own names are added the same way (`add_names(0, ..)`).
    pub fn add(&mut self, key: Arc<CertifiedKey>, names: &[String]) {
        self.keys.push(key);
        self.add_names(self.keys.len() - 1, names);
    }

    /// Registers more names for the certificate at `index` (0 = the default); an index
    /// past the end is ignored.
    pub fn add_names(&mut self, index: usize, names: &[String]) {
        if index >= self.keys.len() {
            return;
        }
        for name in names {
            let entry = self.by_name.entry(name.to_ascii_lowercase()).or_default();
            if !entry.contains(&index) {
                entry.push(index);
            }
        }
    }

    /// The certificate for clients without SNI or with an unknown name.
    #[must_use]
    pub fn default_key(&self) -> &Arc<CertifiedKey> {
        // `keys` is never empty (`new` puts the default in, nothing removes it).
        &self.keys[0]
    }

    /// Every configured certificate, the default first.
    #[must_use]
    pub fn keys(&self) -> &[Arc<CertifiedKey>] {
        &self.keys
    }

    /// The names served, each with how many certificates answer to it.
    pub fn names(&self) -> impl Iterator<Item = (&str, usize)> {
        self.by_name.iter().map(|(n, v)| (n.as_str(), v.len()))
    }

    /// The candidates for an SNI name (`None` = the client sent none), best first.
    fn candidates(&self, server_name: Option<&str>) -> Vec<&Arc<CertifiedKey>> {
        let Some(name) = server_name.map(str::to_ascii_lowercase) else {
            return self.keys.iter().collect();
        };
        let wildcard = name
            .split_once('.')
            .map(|(_, parent)| format!("*.{parent}"));
        let hits = self
            .by_name
            .get(&name)
            .or_else(|| wildcard.and_then(|w| self.by_name.get(&w)));
        match hits {
            Some(indexes) => indexes.iter().filter_map(|&i| self.keys.get(i)).collect(),
            None => self.keys.iter().collect(),
        }
    }

    /// The certificate for an SNI name and the client's signature schemes (an empty list
    /// means "no preference": the first candidate).
    #[must_use]
    pub fn lookup(
        &self,
        server_name: Option<&str>,
        schemes: &[SignatureScheme],
    ) -> &Arc<CertifiedKey> {
        let candidates = self.candidates(server_name);
        let usable = candidates
            .iter()
            .find(|k| schemes.is_empty() || k.key.choose_scheme(schemes).is_some());
        usable
            .or_else(|| candidates.first())
            .copied()
            .unwrap_or_else(|| self.default_key())
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        #[cfg(feature = "planted-bugs")]
        if crate::planted::enabled(crate::planted::Bug::Tls127) {
            let suites: Vec<u16> = client_hello
                .cipher_suites()
                .iter()
                .map(|&s| u16::from(s))
                .collect();
            crate::planted::tls127_resolve(&suites);
        }
        // rustls has already lower-cased and validated the SNI name as a DNS name.
        Some(Arc::clone(self.lookup(
            client_hello.server_name(),
            client_hello.signature_schemes(),
        )))
    }
}

#[cfg(test)]
mod tests {
    use rcgen::{PKCS_ECDSA_P256_SHA256, PKCS_ED25519};

    use super::*;
    use crate::tls::testutil::{localhost_params, rcgen_pem};
    use crate::tls::{parse_certified_key, CertifiedKeyFiles};

    fn key(alg: &'static rcgen::SignatureAlgorithm) -> Arc<CertifiedKey> {
        let (cert, key) = rcgen_pem(alg, localhost_params());
        let files = CertifiedKeyFiles {
            cert: "c.pem".into(),
            key: "k.pem".into(),
        };
        let now = rustls_pki_types::UnixTime::now();
        parse_certified_key(cert.as_bytes(), key.as_bytes(), &files, now)
            .unwrap()
            .key
    }

    #[test]
    fn by_name_wins_else_default() {
        let default = key(&PKCS_ED25519);
        let other = key(&PKCS_ED25519);
        let mut resolver = SniResolver::new(Arc::clone(&default));
        assert!(Arc::ptr_eq(resolver.lookup(None, &[]), &default));
        assert!(Arc::ptr_eq(
            resolver.lookup(Some("chat.example"), &[]),
            &default
        ));
        resolver.add(Arc::clone(&other), &["chat.example".into()]);
        assert!(Arc::ptr_eq(
            resolver.lookup(Some("chat.example"), &[]),
            &other
        ));
        assert!(Arc::ptr_eq(
            resolver.lookup(Some("CHAT.Example"), &[]),
            &other
        ));
        assert!(Arc::ptr_eq(
            resolver.lookup(Some("other.example"), &[]),
            &default
        ));
    }

    #[test]
    fn wildcards_and_key_types() {
        let ed = key(&PKCS_ED25519);
        let ec = key(&PKCS_ECDSA_P256_SHA256);
        let mut resolver = SniResolver::new(Arc::clone(&ed));
        resolver.add_names(0, &["*.example.org".into()]);
        resolver.add(Arc::clone(&ec), &["*.example.org".into()]);
        let ecdsa = [SignatureScheme::ECDSA_NISTP256_SHA256];
        let eddsa = [SignatureScheme::ED25519];
        assert!(Arc::ptr_eq(
            resolver.lookup(Some("a.example.org"), &eddsa),
            &ed
        ));
        assert!(Arc::ptr_eq(
            resolver.lookup(Some("a.example.org"), &ecdsa),
            &ec
        ));
        // A wildcard covers one label: a deeper name falls back to every certificate.
        assert!(Arc::ptr_eq(
            resolver.lookup(Some("a.b.example.org"), &ecdsa),
            &ec
        ));
        assert!(Arc::ptr_eq(
            resolver.lookup(Some("example.org"), &ecdsa),
            &ec
        ));
        // No SNI: the default unless the client cannot verify it.
        assert!(Arc::ptr_eq(resolver.lookup(None, &eddsa), &ed));
        assert!(Arc::ptr_eq(resolver.lookup(None, &ecdsa), &ec));
        // Nobody fits: the first candidate.
        let rsa = [SignatureScheme::RSA_PSS_SHA256];
        assert!(Arc::ptr_eq(resolver.lookup(None, &rsa), &ed));
        assert_eq!(
            resolver.names().collect::<Vec<_>>(),
            vec![("*.example.org", 2)]
        );
    }
}
