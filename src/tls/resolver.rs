//! [`SniResolver`]: picks the certificate for a TLS handshake from the client's SNI name.
//!
//! Today the server has one certificate and `by_name` is empty, so every handshake gets
//! `default`. The shape is the one a multi-certificate server needs: add entries to
//! `by_name` (lower-case DNS names) and they take precedence, without touching
//! [`server_config`](super::server_config).

use std::collections::BTreeMap;
use std::sync::Arc;

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

/// A certificate resolver: exact SNI match in `by_name`, else `default`.
#[derive(Clone, Debug)]
pub struct SniResolver {
    /// Served when the client sends no SNI or a name not in `by_name`.
    pub default: Arc<CertifiedKey>,
    /// Per-name certificates, keyed by lower-case DNS name. BTreeMap so iteration (and
    /// anything logged from it) is deterministic.
    pub by_name: BTreeMap<String, Arc<CertifiedKey>>,
}

impl SniResolver {
    /// A resolver that serves `default` to everyone.
    #[must_use]
    pub fn new(default: Arc<CertifiedKey>) -> Self {
        Self {
            default,
            by_name: BTreeMap::new(),
        }
    }

    /// The certificate for an SNI name (`None` = the client sent none).
    #[must_use]
    pub fn lookup(&self, server_name: Option<&str>) -> &Arc<CertifiedKey> {
        // rustls already lower-cases and validates the SNI name as a DNS name; lower-casing
        // again keeps `lookup` correct when called directly.
        server_name
            .and_then(|name| self.by_name.get(&name.to_ascii_lowercase()))
            .unwrap_or(&self.default)
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
        Some(Arc::clone(self.lookup(client_hello.server_name())))
    }
}

#[cfg(test)]
mod tests {
    use rcgen::PKCS_ED25519;

    use super::*;
    use crate::tls::testutil::{localhost_params, rcgen_pem};
    use crate::tls::{parse_certified_key, CertifiedKeyFiles};

    fn key() -> Arc<CertifiedKey> {
        let (cert, key) = rcgen_pem(&PKCS_ED25519, localhost_params());
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
        let default = key();
        let other = key();
        let mut resolver = SniResolver::new(Arc::clone(&default));
        assert!(Arc::ptr_eq(resolver.lookup(None), &default));
        assert!(Arc::ptr_eq(resolver.lookup(Some("chat.example")), &default));
        resolver
            .by_name
            .insert("chat.example".into(), Arc::clone(&other));
        assert!(Arc::ptr_eq(resolver.lookup(Some("chat.example")), &other));
        assert!(Arc::ptr_eq(resolver.lookup(Some("CHAT.Example")), &other));
        assert!(Arc::ptr_eq(
            resolver.lookup(Some("other.example")),
            &default
        ));
    }
}
