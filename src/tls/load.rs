//! [`load_certified_key`]: a PEM certificate chain and private key -> a validated
//! [`CertifiedKey`], plus human-readable warnings.
//!
//! Checks, in order (the first failure is returned):
//! 1. both files are readable, at most [`MAX_PEM_FILE_LEN`](super::MAX_PEM_FILE_LEN), not
//!    blank, and contain PEM;
//! 2. the certificate file has at least one `CERTIFICATE`, each one parses as X.509;
//! 3. the key file has an unencrypted private key the provider can load (RSA, ECDSA
//!    P-256/P-384, Ed25519; PKCS#8, PKCS#1 or SEC1);
//! 4. the key's public half is the end-entity certificate's public key.
//!
//! Not errors, only warnings: a certificate outside its validity period (a server with an
//! expired certificate is still useful for testing), an end-entity certificate marked as a
//! CA, more than one key in the key file, a chain that is not in leaf-to-root order.
//!
//! Time is an input ([`load_certified_key_at`]); [`load_certified_key`] reads the clock.

use std::path::Path;
use std::sync::Arc;

use rustls::sign::{CertifiedKey, SigningKey};
use rustls::InconsistentKeys;
use rustls_pki_types::{CertificateDer, PrivateKeyDer, UnixTime};
use x509_parser::certificate::X509Certificate;
use x509_parser::prelude::FromDer;

use super::key_files::CertifiedKeyFiles;
use super::keykind::{rsa_modulus_bits, KeyKind};
use super::pem::{self, Scan};
use super::{provider, TlsError};

/// Smallest RSA modulus ring signs with (its `RsaKeyPair` minimum).
const MIN_RSA_BITS: usize = 2048;
/// Largest RSA modulus ring signs with (`PRIVATE_KEY_PUBLIC_MODULUS_MAX_BITS` in ring 0.17).
const MAX_RSA_BITS: usize = 4096;
/// Subjects quoted in warnings are cut to this many characters.
const MAX_SUBJECT_SHOWN_LEN: usize = 80;

/// A loaded, validated certificate chain and key.
#[derive(Clone, Debug)]
pub struct Loaded {
    /// The chain and signing key, ready for a certificate resolver.
    pub key: Arc<CertifiedKey>,
    /// Problems worth logging that do not stop the server, one line each, each starting
    /// with the file it is about.
    pub warnings: Vec<String>,
}

/// Loads and validates `files`, judging certificate validity against the system clock.
///
/// # Errors
/// Any [`TlsError`] about `files.cert` or `files.key`; see the module docs for the checks.
pub fn load_certified_key(files: &CertifiedKeyFiles) -> Result<Loaded, TlsError> {
    load_certified_key_at(files, UnixTime::now())
}

/// Loads and validates `files`, judging certificate validity at `now`.
///
/// # Errors
/// As [`load_certified_key`].
pub fn load_certified_key_at(files: &CertifiedKeyFiles, now: UnixTime) -> Result<Loaded, TlsError> {
    let cert_pem = pem::read_bounded(&files.cert)?;
    let key_pem = pem::read_bounded(&files.key)?;
    parse_certified_key(&cert_pem, &key_pem, files, now)
}

/// Validates key material already in memory; `files` only names it in messages.
///
/// This is the pure core of [`load_certified_key`] (no I/O, time passed in), so the `keys`
/// fuzz target can feed it arbitrary bytes.
///
/// # Errors
/// As [`load_certified_key`], except the I/O ones.
pub fn parse_certified_key(
    cert_pem: &[u8],
    key_pem: &[u8],
    files: &CertifiedKeyFiles,
    now: UnixTime,
) -> Result<Loaded, TlsError> {
    let mut warnings = Vec::new();
    let chain = cert_chain(&files.cert, cert_pem)?;
    let end_entity_spki = check_certificates(&files.cert, &chain, now, &mut warnings)?;
    let key_der = private_key(&files.key, key_pem, &mut warnings)?;
    let signer = signing_key(&files.key, &key_der)?;
    let certified = CertifiedKey::new(chain, signer);
    check_key_matches(files, &certified, &end_entity_spki, &mut warnings)?;
    Ok(Loaded {
        key: Arc::new(certified),
        warnings,
    })
}

/// The checks every PEM file gets: not blank, has at least one BEGIN line.
fn scan_pem(path: &Path, bytes: &[u8]) -> Result<Scan, TlsError> {
    if pem::is_blank(bytes) {
        return Err(TlsError::Empty {
            path: path.to_path_buf(),
        });
    }
    let scan = pem::scan(bytes);
    if scan.labels.is_empty() {
        // 0x30 is a DER SEQUENCE tag: certificates and keys in binary form start with it.
        let hint = if bytes.first() == Some(&0x30) {
            "; it looks like DER, convert it (openssl x509 -inform der, openssl pkey -inform der)"
        } else {
            ""
        };
        return Err(TlsError::NotPem {
            path: path.to_path_buf(),
            hint,
        });
    }
    Ok(scan)
}

/// The `CERTIFICATE` sections of the certificate file, in order.
fn cert_chain(path: &Path, bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let scan = scan_pem(path, bytes)?;
    let sections = pem::sections(path, bytes)?;
    if sections.certs.is_empty() {
        return Err(TlsError::NoCertificate {
            path: path.to_path_buf(),
            found: scan.found(),
        });
    }
    Ok(sections.certs)
}

/// Parses every certificate as X.509, adds validity and ordering warnings, and returns the
/// end-entity certificate's SubjectPublicKeyInfo DER.
fn check_certificates(
    path: &Path,
    chain: &[CertificateDer<'static>],
    now: UnixTime,
    warnings: &mut Vec<String>,
) -> Result<Vec<u8>, TlsError> {
    let now = i64::try_from(now.as_secs()).unwrap_or(i64::MAX);
    let mut parsed = Vec::with_capacity(chain.len());
    for (index, der) in chain.iter().enumerate() {
        let bad = |reason: String| TlsError::BadCertificate {
            path: path.to_path_buf(),
            index,
            reason,
        };
        let (rest, cert) =
            X509Certificate::from_der(der.as_ref()).map_err(|e| bad(e.to_string()))?;
        if !rest.is_empty() {
            return Err(bad(format!(
                "{} trailing bytes after the certificate",
                rest.len()
            )));
        }
        let validity = cert.validity();
        let subject = shown_subject(&cert);
        if now < validity.not_before.timestamp() {
            warnings.push(format!(
                "{}: certificate #{index} ({subject}) is not valid before {}",
                path.display(),
                validity.not_before
            ));
        }
        if now > validity.not_after.timestamp() {
            warnings.push(format!(
                "{}: certificate #{index} ({subject}) expired at {}",
                path.display(),
                validity.not_after
            ));
        }
        // webpki-based clients (rustls) refuse a CA certificate as a server certificate
        // (CaUsedAsEndEntity); `openssl req -x509` makes CA:TRUE by default.
        if index == 0 && cert.is_ca() {
            warnings.push(format!(
                "{}: certificate #0 ({subject}) is a CA certificate (basicConstraints CA:TRUE); \
                 rustls clients reject it as a server certificate",
                path.display()
            ));
        }
        parsed.push(cert);
    }
    // A chain is sent as given; clients expect each certificate to be issued by the next.
    for (index, pair) in parsed.windows(2).enumerate() {
        if let [child, parent] = pair {
            if child.issuer().as_raw() != parent.subject().as_raw() {
                warnings.push(format!(
                    "{}: certificate #{} is not the issuer of certificate #{index}; \
                     the chain should go from the server certificate up to the root",
                    path.display(),
                    index.saturating_add(1)
                ));
            }
        }
    }
    parsed
        .first()
        .map(|ee| ee.public_key().raw.to_vec())
        .ok_or_else(|| TlsError::NoCertificate {
            path: path.to_path_buf(),
            found: String::new(),
        })
}

/// A certificate subject fit for a one-line message.
fn shown_subject(cert: &X509Certificate<'_>) -> String {
    let full = cert.subject().to_string();
    let mut s: String = full
        .chars()
        .take(MAX_SUBJECT_SHOWN_LEN)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if full.chars().count() > MAX_SUBJECT_SHOWN_LEN {
        s.push_str("...");
    }
    if s.is_empty() {
        s.push_str("empty subject");
    }
    s
}

/// The first unencrypted private key of the key file.
fn private_key(
    path: &Path,
    bytes: &[u8],
    warnings: &mut Vec<String>,
) -> Result<PrivateKeyDer<'static>, TlsError> {
    let scan = scan_pem(path, bytes)?;
    // Checked before decoding: the PEM parser skips ENCRYPTED PRIVATE KEY sections and
    // fails on the Proc-Type header with a base64 error, neither of which says "encrypted".
    if scan.has("ENCRYPTED PRIVATE KEY") {
        return Err(TlsError::EncryptedKey {
            path: path.to_path_buf(),
            format: "PKCS#8 ENCRYPTED PRIVATE KEY",
        });
    }
    if scan.legacy_encrypted {
        return Err(TlsError::EncryptedKey {
            path: path.to_path_buf(),
            format: "legacy OpenSSL Proc-Type: 4,ENCRYPTED",
        });
    }
    let mut keys = pem::sections(path, bytes)?.keys.into_iter();
    let Some(first) = keys.next() else {
        return Err(TlsError::NoPrivateKey {
            path: path.to_path_buf(),
            found: scan.found(),
        });
    };
    let extra = keys.count();
    if extra > 0 {
        warnings.push(format!(
            "{}: {} private keys found, using the first",
            path.display(),
            extra.saturating_add(1)
        ));
    }
    Ok(first)
}

/// Loads the key with the crate's provider, naming the algorithm when it is unsupported.
fn signing_key(path: &Path, der: &PrivateKeyDer<'static>) -> Result<Arc<dyn SigningKey>, TlsError> {
    provider()
        .key_provider
        .load_private_key(der.clone_key())
        .map_err(|_| {
            // The provider's own error is a generic "failed to parse as RSA, ECDSA or EdDSA";
            // the key's DER says more.
            let reason = match KeyKind::identify(der) {
                KeyKind::Unsupported(kind) => {
                    return TlsError::UnsupportedKeyType {
                        path: path.to_path_buf(),
                        kind,
                    }
                }
                KeyKind::Unrecognised => format!("not a well-formed {} key", encoding(der)),
                KeyKind::Rsa => match rsa_modulus_bits(der) {
                    Some(bits) if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) => format!(
                        "{bits}-bit RSA key in {} (supported: {MIN_RSA_BITS} to {MAX_RSA_BITS} bits)",
                        encoding(der)
                    ),
                    _ => format!("RSA key in {} is malformed or inconsistent", encoding(der)),
                },
                kind => format!("{kind} key in {} is malformed or inconsistent", encoding(der)),
            };
            TlsError::InvalidKey {
                path: path.to_path_buf(),
                reason,
            }
        })
}

/// The container format of a key, for messages.
fn encoding(der: &PrivateKeyDer<'_>) -> &'static str {
    match der {
        PrivateKeyDer::Pkcs1(_) => "PKCS#1",
        PrivateKeyDer::Pkcs8(_) => "PKCS#8",
        PrivateKeyDer::Sec1(_) => "SEC1",
        _ => "unknown",
    }
}

/// Fails unless the signing key's public key is the end-entity certificate's.
///
/// rustls' `keys_match` compares SubjectPublicKeyInfo bytes but needs webpki to parse the
/// certificate; where it cannot decide, the same comparison is made against x509-parser's
/// SPKI, so a stricter webpki never turns into a false "mismatch".
fn check_key_matches(
    files: &CertifiedKeyFiles,
    certified: &CertifiedKey,
    end_entity_spki: &[u8],
    warnings: &mut Vec<String>,
) -> Result<(), TlsError> {
    let mismatch = || TlsError::KeyMismatch {
        key: files.key.clone(),
        cert: files.cert.clone(),
    };
    match certified.keys_match() {
        Ok(()) => Ok(()),
        Err(rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch)) => Err(mismatch()),
        Err(_) => match certified.key.public_key() {
            Some(spki) if spki.as_ref() == end_entity_spki => Ok(()),
            Some(_) => Err(mismatch()),
            None => {
                warnings.push(format!(
                    "{}: cannot check that the private key matches {}",
                    files.key.display(),
                    files.cert.display()
                ));
                Ok(())
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::PathBuf;
    use std::time::Duration;

    use rcgen::{date_time_ymd, PKCS_ECDSA_P256_SHA256, PKCS_ED25519};
    use rustls::SignatureAlgorithm;

    use super::*;
    use crate::tls::testutil::{localhost_params, openssl, openssl_pair, rcgen_pem, write};

    fn load_ok(files: &CertifiedKeyFiles) -> Loaded {
        match load_certified_key(files) {
            Ok(loaded) => loaded,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn every_key_type_and_encoding_loads() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let rsa = openssl_pair(d, "rsa", "rsa:2048", &[]);
        let p256 = openssl_pair(d, "p256", "ec", &["ec_paramgen_curve:P-256"]);
        let p384 = openssl_pair(d, "p384", "ec", &["ec_paramgen_curve:P-384"]);
        let ed = openssl_pair(d, "ed25519", "ed25519", &[]);
        openssl(
            d,
            &[
                "rsa",
                "-in",
                "rsa-key.pem",
                "-traditional",
                "-out",
                "rsa-pkcs1.pem",
            ],
        );
        openssl(d, &["ec", "-in", "p256-key.pem", "-out", "p256-sec1.pem"]);
        openssl(d, &["ec", "-in", "p384-key.pem", "-out", "p384-sec1.pem"]);
        let with_key = |files: &CertifiedKeyFiles, key: &str| CertifiedKeyFiles {
            cert: files.cert.clone(),
            key: d.join(key),
        };
        let cases = [
            (
                "RSA PKCS#8",
                rsa.clone(),
                "PRIVATE KEY",
                SignatureAlgorithm::RSA,
            ),
            (
                "RSA PKCS#1",
                with_key(&rsa, "rsa-pkcs1.pem"),
                "RSA PRIVATE KEY",
                SignatureAlgorithm::RSA,
            ),
            (
                "P-256 PKCS#8",
                p256.clone(),
                "PRIVATE KEY",
                SignatureAlgorithm::ECDSA,
            ),
            (
                "P-256 SEC1",
                with_key(&p256, "p256-sec1.pem"),
                "EC PRIVATE KEY",
                SignatureAlgorithm::ECDSA,
            ),
            (
                "P-384 PKCS#8",
                p384.clone(),
                "PRIVATE KEY",
                SignatureAlgorithm::ECDSA,
            ),
            (
                "P-384 SEC1",
                with_key(&p384, "p384-sec1.pem"),
                "EC PRIVATE KEY",
                SignatureAlgorithm::ECDSA,
            ),
            (
                "Ed25519 PKCS#8",
                ed,
                "PRIVATE KEY",
                SignatureAlgorithm::ED25519,
            ),
        ];
        for (name, files, label, alg) in cases {
            let key_text = fs::read_to_string(&files.key).unwrap();
            assert!(
                key_text.starts_with(&format!("-----BEGIN {label}-----")),
                "{name}"
            );
            let loaded = load_ok(&files);
            assert_eq!(loaded.key.key.algorithm(), alg, "{name}");
            assert!(loaded.warnings.is_empty(), "{name}: {:?}", loaded.warnings);
            assert_eq!(loaded.key.cert.len(), 1, "{name}");
        }
    }

    #[test]
    fn combined_file_and_chain() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        // One file holding both certificate and key, used for both paths.
        let (cert, key) = rcgen_pem(&PKCS_ECDSA_P256_SHA256, localhost_params());
        let both = write(d, "both.pem", format!("{key}{cert}"));
        let loaded = load_ok(&CertifiedKeyFiles {
            cert: both.clone(),
            key: both,
        });
        assert!(loaded.warnings.is_empty());

        // A leaf signed by a CA, chain leaf-first: no warnings; root-first: a warning.
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "ca-key.pem",
                "-out",
                "ca.pem",
                "-days",
                "30",
                "-subj",
                "/CN=test CA",
            ],
        );
        openssl(
            d,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "leaf-key.pem",
                "-out",
                "leaf.csr",
                "-subj",
                "/CN=localhost",
            ],
        );
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca-key.pem",
                "-CAcreateserial",
                "-days",
                "30",
                "-out",
                "leaf.pem",
            ],
        );
        let leaf = fs::read_to_string(d.join("leaf.pem")).unwrap();
        let ca = fs::read_to_string(d.join("ca.pem")).unwrap();
        let good = CertifiedKeyFiles {
            cert: write(d, "chain.pem", format!("{leaf}{ca}")),
            key: d.join("leaf-key.pem"),
        };
        let loaded = load_ok(&good);
        assert_eq!(loaded.key.cert.len(), 2);
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);

        // The CA certificate served as a leaf: loads, with a warning.
        let ca_as_leaf = CertifiedKeyFiles {
            cert: d.join("ca.pem"),
            key: d.join("ca-key.pem"),
        };
        let loaded = load_ok(&ca_as_leaf);
        assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
        assert!(loaded.warnings[0].contains("is a CA certificate"));

        let two_leaves = CertifiedKeyFiles {
            cert: write(d, "odd-chain.pem", format!("{leaf}{leaf}")),
            key: d.join("leaf-key.pem"),
        };
        let loaded = load_ok(&two_leaves);
        assert_eq!(loaded.warnings.len(), 1, "{:?}", loaded.warnings);
        assert!(loaded.warnings[0].contains("is not the issuer of certificate #0"));

        // Two keys in the key file: the first is used, with a warning.
        let leaf_key = fs::read_to_string(d.join("leaf-key.pem")).unwrap();
        let ca_key = fs::read_to_string(d.join("ca-key.pem")).unwrap();
        let two_keys = CertifiedKeyFiles {
            cert: good.cert.clone(),
            key: write(d, "two-keys.pem", format!("{leaf_key}{ca_key}")),
        };
        let loaded = load_ok(&two_keys);
        assert_eq!(loaded.warnings.len(), 1);
        assert!(loaded.warnings[0].ends_with("2 private keys found, using the first"));
    }

    #[test]
    fn validity_period_gives_warnings_not_errors() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let mut params = localhost_params();
        params.not_before = date_time_ymd(2000, 1, 1);
        params.not_after = date_time_ymd(2001, 1, 1);
        let (cert, key) = rcgen_pem(&PKCS_ED25519, params);
        let expired = CertifiedKeyFiles {
            cert: write(d, "expired.pem", cert),
            key: write(d, "expired-key.pem", key),
        };
        let loaded = load_ok(&expired);
        assert_eq!(loaded.warnings.len(), 1);
        let w = &loaded.warnings[0];
        assert!(
            w.starts_with(&format!("{}: certificate #0", expired.cert.display())),
            "{w}"
        );
        assert!(w.contains("expired at"), "{w}");

        // The same certificate judged in 1999: not yet valid.
        let in_1999 = UnixTime::since_unix_epoch(Duration::from_secs(915_148_800));
        let loaded = load_certified_key_at(&expired, in_1999).unwrap();
        assert_eq!(loaded.warnings.len(), 1);
        assert!(
            loaded.warnings[0].contains("is not valid before"),
            "{:?}",
            loaded.warnings
        );
    }

    #[test]
    fn key_match_is_checked_even_where_webpki_cannot_parse() {
        // An X.509 v1 certificate: x509-parser reads it, webpki (inside rustls'
        // `keys_match`) refuses it, so the SubjectPublicKeyInfo comparison falls back.
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        openssl(
            d,
            &[
                "req",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "v1-key.pem",
                "-out",
                "v1.csr",
                "-subj",
                "/CN=localhost",
            ],
        );
        openssl(
            d,
            &[
                "x509",
                "-req",
                "-in",
                "v1.csr",
                "-signkey",
                "v1-key.pem",
                "-days",
                "30",
                "-out",
                "v1.pem",
            ],
        );
        let v1 = CertifiedKeyFiles {
            cert: d.join("v1.pem"),
            key: d.join("v1-key.pem"),
        };
        let loaded = load_ok(&v1);
        assert!(
            loaded.key.keys_match().is_err(),
            "webpki now parses v1; fallback untested"
        );
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);

        let other = openssl_pair(d, "other", "ec", &["ec_paramgen_curve:P-256"]);
        let mismatched = CertifiedKeyFiles {
            cert: v1.cert.clone(),
            key: other.key,
        };
        assert!(matches!(
            load_certified_key(&mismatched),
            Err(TlsError::KeyMismatch { .. })
        ));
    }

    /// How a malformed case must fail: the variant, the file the message starts with, and
    /// a fragment of the message.
    struct Case {
        name: &'static str,
        files: CertifiedKeyFiles,
        variant: fn(&TlsError) -> bool,
        about: PathBuf,
        says: &'static str,
    }

    #[test]
    fn malformed_material_gives_typed_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let good = openssl_pair(d, "good", "ec", &["ec_paramgen_curve:P-256"]);
        let other = openssl_pair(d, "other", "ec", &["ec_paramgen_curve:P-256"]);
        let rsa = openssl_pair(d, "rsa", "rsa:2048", &[]);
        let p521 = openssl_pair(d, "p521", "ec", &["ec_paramgen_curve:P-521"]);
        let ed448 = openssl_pair(d, "ed448", "ed448", &[]);
        openssl(d, &["ec", "-in", "p521-key.pem", "-out", "p521-sec1.pem"]);
        openssl(d, &["genrsa", "-out", "rsa1024.pem", "1024"]);
        openssl(
            d,
            &[
                "pkcs8",
                "-topk8",
                "-in",
                "good-key.pem",
                "-passout",
                "pass:secret",
                "-out",
                "encrypted.pem",
            ],
        );
        openssl(
            d,
            &[
                "rsa",
                "-in",
                "rsa-key.pem",
                "-aes128",
                "-traditional",
                "-passout",
                "pass:secret",
                "-out",
                "legacy-encrypted.pem",
            ],
        );
        openssl(
            d,
            &[
                "x509",
                "-in",
                "good-cert.pem",
                "-outform",
                "der",
                "-out",
                "cert.der",
            ],
        );

        let cert_text = fs::read_to_string(&good.cert).unwrap();
        let key_text = fs::read_to_string(&good.key).unwrap();
        let cert_lines: Vec<&str> = cert_text.lines().collect();
        // Cut mid-body: no END line.
        let truncated = write(d, "truncated.pem", &cert_text[..cert_text.len() / 2]);
        // Whole 64-character lines removed: base64 still decodes, the DER is cut short.
        let short_body = [&cert_lines[..3], &cert_lines[cert_lines.len() - 2..]]
            .concat()
            .join("\n");
        let short_body = write(d, "short-body.pem", short_body + "\n");
        let bad_base64 = write(d, "bad-base64.pem", cert_text.replacen("MII", "M!I", 1));
        let not_x509 = write(
            d,
            "not-x509.pem",
            "-----BEGIN CERTIFICATE-----\nMAMCAQA=\n-----END CERTIFICATE-----\n",
        );
        let junk_key = write(
            d,
            "junk-key.pem",
            "-----BEGIN PRIVATE KEY-----\nMAMCAQA=\n-----END PRIVATE KEY-----\n",
        );
        let missing = d.join("missing.pem");
        let empty = write(d, "empty.pem", "");
        let blank = write(d, "blank.pem", " \n\t\r\n");
        let garbage = write(
            d,
            "garbage.pem",
            b"hello, this is not a certificate\n\x00\xff",
        );

        let files = |cert: &Path, key: &Path| CertifiedKeyFiles {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
        };
        let gc = &good.cert;
        let gk = &good.key;
        let cases = vec![
            Case { name: "missing cert", files: files(&missing, gk),
                variant: |e| matches!(e, TlsError::Read { .. }), about: missing.clone(), says: "cannot read" },
            Case { name: "missing key", files: files(gc, &missing),
                variant: |e| matches!(e, TlsError::Read { .. }), about: missing.clone(), says: "cannot read" },
            Case { name: "directory as cert", files: files(d, gk),
                variant: |e| matches!(e, TlsError::Read { .. }), about: d.to_path_buf(), says: "cannot read" },
            Case { name: "empty cert", files: files(&empty, gk),
                variant: |e| matches!(e, TlsError::Empty { .. }), about: empty.clone(), says: "file is empty" },
            Case { name: "blank key", files: files(gc, &blank),
                variant: |e| matches!(e, TlsError::Empty { .. }), about: blank.clone(), says: "file is empty" },
            Case { name: "garbage cert", files: files(&garbage, gk),
                variant: |e| matches!(e, TlsError::NotPem { .. }), about: garbage.clone(), says: "not PEM" },
            Case { name: "garbage key", files: files(gc, &garbage),
                variant: |e| matches!(e, TlsError::NotPem { .. }), about: garbage.clone(), says: "not PEM" },
            Case { name: "DER cert", files: files(&d.join("cert.der"), gk),
                variant: |e| matches!(e, TlsError::NotPem { .. }), about: d.join("cert.der"), says: "looks like DER" },
            Case { name: "cert file holds only a key", files: files(gk, gk),
                variant: |e| matches!(e, TlsError::NoCertificate { .. }), about: gk.clone(),
                says: "no certificate found (expected a '-----BEGIN CERTIFICATE-----' section); found: PRIVATE KEY" },
            Case { name: "key file holds only a certificate", files: files(gc, gc),
                variant: |e| matches!(e, TlsError::NoPrivateKey { .. }), about: gc.clone(),
                says: "no private key found (expected PKCS#8, PKCS#1 or SEC1 PEM); found: CERTIFICATE" },
            Case { name: "encrypted PKCS#8", files: files(gc, &d.join("encrypted.pem")),
                variant: |e| matches!(e, TlsError::EncryptedKey { .. }), about: d.join("encrypted.pem"),
                says: "encrypted private key (PKCS#8 ENCRYPTED PRIVATE KEY) is not supported" },
            Case { name: "legacy encrypted PKCS#1", files: files(&rsa.cert, &d.join("legacy-encrypted.pem")),
                variant: |e| matches!(e, TlsError::EncryptedKey { .. }), about: d.join("legacy-encrypted.pem"),
                says: "Proc-Type" },
            Case { name: "mismatched key", files: files(gc, &other.key),
                variant: |e| matches!(e, TlsError::KeyMismatch { .. }), about: other.key.clone(),
                says: "private key does not match the certificate in" },
            Case { name: "RSA key for an EC certificate", files: files(gc, &rsa.key),
                variant: |e| matches!(e, TlsError::KeyMismatch { .. }), about: rsa.key.clone(),
                says: "does not match" },
            Case { name: "truncated PEM", files: files(&truncated, gk),
                variant: |e| matches!(e, TlsError::MalformedPem { .. }), about: truncated.clone(),
                says: "missing '-----END CERTIFICATE-----' line (file truncated?)" },
            Case { name: "truncated DER inside intact PEM", files: files(&short_body, gk),
                variant: |e| matches!(e, TlsError::BadCertificate { index: 0, .. }), about: short_body.clone(),
                says: "certificate #0 is not valid X.509" },
            Case { name: "bad base64", files: files(&bad_base64, gk),
                variant: |e| matches!(e, TlsError::MalformedPem { .. }), about: bad_base64.clone(),
                says: "not valid base64" },
            Case { name: "CERTIFICATE section that is not X.509", files: files(&not_x509, gk),
                variant: |e| matches!(e, TlsError::BadCertificate { .. }), about: not_x509.clone(),
                says: "not valid X.509" },
            Case { name: "P-521 PKCS#8", files: files(&p521.cert, &p521.key),
                variant: |e| matches!(e, TlsError::UnsupportedKeyType { .. }), about: p521.key.clone(),
                says: "unsupported private key type ECDSA P-521" },
            Case { name: "P-521 SEC1", files: files(&p521.cert, &d.join("p521-sec1.pem")),
                variant: |e| matches!(e, TlsError::UnsupportedKeyType { .. }), about: d.join("p521-sec1.pem"),
                says: "ECDSA P-521" },
            Case { name: "Ed448", files: files(&ed448.cert, &ed448.key),
                variant: |e| matches!(e, TlsError::UnsupportedKeyType { .. }), about: ed448.key.clone(),
                says: "unsupported private key type Ed448" },
            Case { name: "RSA-1024", files: files(&rsa.cert, &d.join("rsa1024.pem")),
                variant: |e| matches!(e, TlsError::InvalidKey { .. }), about: d.join("rsa1024.pem"),
                says: "invalid private key: 1024-bit RSA key in PKCS#8 (supported: 2048 to 4096 bits)" },
            Case { name: "junk PKCS#8", files: files(gc, &junk_key),
                variant: |e| matches!(e, TlsError::InvalidKey { .. }), about: junk_key.clone(),
                says: "invalid private key: not a well-formed PKCS#8 key" },
        ];
        for case in cases {
            let err = match load_certified_key(&case.files) {
                Ok(_) => panic!("{}: loaded", case.name),
                Err(e) => e,
            };
            let msg = err.to_string();
            assert!((case.variant)(&err), "{}: wrong variant {err:?}", case.name);
            assert!(
                msg.starts_with(&format!("{}: ", case.about.display())),
                "{}: message does not start with the file: {msg}",
                case.name
            );
            assert!(msg.contains(case.says), "{}: {msg}", case.name);
            assert!(
                !msg.contains('\n'),
                "{}: multi-line message {msg:?}",
                case.name
            );
            assert_eq!(err.path(), Some(case.about.as_path()), "{}", case.name);
        }
        // Keep the key text alive for the case list above (the key file is reused as a cert).
        assert!(key_text.contains("PRIVATE KEY"));
    }

    #[test]
    fn parse_never_panics_on_mangled_material() {
        let (cert, key) = rcgen_pem(&PKCS_ECDSA_P256_SHA256, localhost_params());
        let files = CertifiedKeyFiles {
            cert: PathBuf::from("/c.pem"),
            key: PathBuf::from("/k.pem"),
        };
        let now = UnixTime::now();
        assert!(parse_certified_key(cert.as_bytes(), key.as_bytes(), &files, now).is_ok());
        // Every truncation and a byte flip at every position of both files.
        for (which, text) in [(0, &cert), (1, &key)] {
            let bytes = text.as_bytes();
            for n in 0..bytes.len() {
                let mut flipped = bytes.to_vec();
                flipped[n] ^= 0x01;
                for candidate in [&bytes[..n], &flipped[..]] {
                    let (c, k) = if which == 0 {
                        (candidate, key.as_bytes())
                    } else {
                        (cert.as_bytes(), candidate)
                    };
                    if let Err(e) = parse_certified_key(c, k, &files, now) {
                        let msg = e.to_string();
                        assert!(
                            msg.starts_with("/c.pem: ") || msg.starts_with("/k.pem: "),
                            "{msg}"
                        );
                    }
                }
            }
        }
    }
}
