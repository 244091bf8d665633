//! Where a certificate and its key live: the unit every loader and the dev-certificate
//! generator pass around.

use std::path::PathBuf;

/// Where a certificate chain and its private key live on disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CertifiedKeyFiles {
    /// PEM file with the end-entity certificate first, then any intermediates.
    pub cert: PathBuf,
    /// PEM file with the private key (PKCS#8, PKCS#1 or SEC1; may also hold certificates).
    pub key: PathBuf,
}
