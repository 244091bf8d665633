//! [`TlsError`]: what can be wrong with TLS key material, one variant per problem.
//!
//! Display is always a single line starting with the file it is about (`/x/key.pem: ...`),
//! so an operator can act on the log line alone. The two configuration variants, which are
//! not about a file, start with `TLS config:` instead.

use std::io;
use std::path::{Path, PathBuf};

/// Why key material could not be loaded or a TLS configuration could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TlsError {
    /// The file could not be opened or read (missing, permission denied, a directory...).
    #[error("{}: cannot read: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// The file is longer than [`MAX_PEM_FILE_LEN`](super::MAX_PEM_FILE_LEN).
    #[error("{}: file is larger than the {max}-byte limit for PEM key material", path.display())]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The limit.
        max: usize,
    },
    /// The file is empty or whitespace only.
    #[error("{}: file is empty", path.display())]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// The file has no `-----BEGIN ...-----` line at all.
    #[error("{}: not PEM: no '-----BEGIN ...-----' line found{hint}", path.display())]
    NotPem {
        /// The file.
        path: PathBuf,
        /// Extra advice, starting with `; ` (or empty), e.g. when the file looks like DER.
        hint: &'static str,
    },
    /// A PEM section is broken: missing END line (truncated file), bad base64, bad BEGIN line.
    #[error("{}: malformed PEM: {reason}", path.display())]
    MalformedPem {
        /// The file.
        path: PathBuf,
        /// What the PEM parser reported.
        reason: String,
    },
    /// The certificate file holds no `CERTIFICATE` section.
    #[error("{}: no certificate found (expected a '-----BEGIN CERTIFICATE-----' section){found}", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
        /// The sections that were found, as `; found: A, B` (or empty).
        found: String,
    },
    /// The key file holds no unencrypted private key section.
    #[error("{}: no private key found (expected PKCS#8, PKCS#1 or SEC1 PEM){found}", path.display())]
    NoPrivateKey {
        /// The file.
        path: PathBuf,
        /// The sections that were found, as `; found: A, B` (or empty).
        found: String,
    },
    /// The private key is encrypted; the server has no passphrase to decrypt it with.
    #[error("{}: encrypted private key ({format}) is not supported; decrypt it first (openssl pkey -in KEY -out PLAIN)", path.display())]
    EncryptedKey {
        /// The file.
        path: PathBuf,
        /// Which encryption: PKCS#8 `ENCRYPTED PRIVATE KEY` or legacy OpenSSL `Proc-Type`.
        format: &'static str,
    },
    /// A well-formed private key of an algorithm the provider cannot sign with.
    #[error("{}: unsupported private key type {kind} (supported: RSA, ECDSA P-256/P-384, Ed25519)", path.display())]
    UnsupportedKeyType {
        /// The file.
        path: PathBuf,
        /// The algorithm, by name or OID.
        kind: String,
    },
    /// A private key section whose content the provider rejects (corrupt DER, RSA too small...).
    #[error("{}: invalid private key: {reason}", path.display())]
    InvalidKey {
        /// The file.
        path: PathBuf,
        /// Why, as far as the parser can tell.
        reason: String,
    },
    /// A `CERTIFICATE` section that does not parse as X.509.
    #[error("{}: certificate #{index} is not valid X.509: {reason}", path.display())]
    BadCertificate {
        /// The file.
        path: PathBuf,
        /// Position in the chain, 0 = end-entity.
        index: usize,
        /// What the X.509 parser reported.
        reason: String,
    },
    /// The private key's public half is not the end-entity certificate's public key.
    #[error("{}: private key does not match the certificate in {}", key.display(), cert.display())]
    KeyMismatch {
        /// The key file.
        key: PathBuf,
        /// The certificate file.
        cert: PathBuf,
    },
    /// Writing a generated file (or creating its directory) failed.
    #[error("{}: cannot write: {source}", path.display())]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The underlying I/O error.
        #[source]
        source: io::Error,
    },
    /// rcgen could not generate the development certificate.
    #[error("{}: cannot generate dev certificate: {reason}", path.display())]
    Generate {
        /// The directory the certificate was meant for.
        path: PathBuf,
        /// What rcgen reported.
        reason: String,
    },
    /// A session-ticket key file that is not 48 or 80 bytes long (nginx
    /// `ssl_session_ticket_key` format).
    #[error("{}: session ticket key must be 48 or 80 bytes (nginx ssl_session_ticket_key format), got {len}", path.display())]
    TicketKeyLength {
        /// The file.
        path: PathBuf,
        /// Its length in bytes.
        len: u64,
    },
    /// Two session-ticket key files carry the same 16-byte key name, so a ticket could not
    /// say which key sealed it.
    #[error("{}: session ticket key name {name} is already used by {}", path.display(), first.display())]
    DuplicateTicketKey {
        /// The later file.
        path: PathBuf,
        /// The earlier file with the same name.
        first: PathBuf,
        /// The key name, hex.
        name: String,
    },
    /// The client CA file could not be turned into a client certificate verifier.
    #[error("{}: unusable client CA: {reason}", path.display())]
    ClientCa {
        /// The CA file.
        path: PathBuf,
        /// What webpki or rustls reported.
        reason: String,
    },
    /// No certificate was configured at all.
    #[error("TLS config: no certificate configured")]
    NoCertificates,
    /// Certificate and key files were not given in pairs.
    #[error("TLS config: {certs} certificate file(s) but {keys} key file(s); give --cert and --key in pairs")]
    Unpaired {
        /// Number of certificate files.
        certs: usize,
        /// Number of key files.
        keys: usize,
    },
    /// An ALPN protocol name that cannot go on the wire (RFC 7301: 1..=255 bytes).
    #[error("TLS config: ALPN protocol #{index} has length {len}, expected 1..=255")]
    InvalidAlpn {
        /// Position in the list passed to `server_config`.
        index: usize,
        /// Its length.
        len: usize,
    },
    /// rustls refused the configuration.
    #[error("TLS config: {0}")]
    Config(#[source] rustls::Error),
}

impl TlsError {
    /// The file the error is about, if any (for `KeyMismatch`, the key file).
    #[must_use]
    pub fn path(&self) -> Option<&Path> {
        match self {
            Self::Read { path, .. }
            | Self::TooLarge { path, .. }
            | Self::Empty { path }
            | Self::NotPem { path, .. }
            | Self::MalformedPem { path, .. }
            | Self::NoCertificate { path, .. }
            | Self::NoPrivateKey { path, .. }
            | Self::EncryptedKey { path, .. }
            | Self::UnsupportedKeyType { path, .. }
            | Self::InvalidKey { path, .. }
            | Self::BadCertificate { path, .. }
            | Self::Write { path, .. }
            | Self::Generate { path, .. }
            | Self::TicketKeyLength { path, .. }
            | Self::DuplicateTicketKey { path, .. }
            | Self::ClientCa { path, .. } => Some(path),
            Self::KeyMismatch { key, .. } => Some(key),
            Self::InvalidAlpn { .. }
            | Self::Config(_)
            | Self::NoCertificates
            | Self::Unpaired { .. } => None,
        }
    }
}
