//! [`generate_dev_cert`]: a self-signed ECDSA P-256 certificate for `localhost`,
//! `127.0.0.1` and `::1`, so `wkfuzz serve` works over TLS with no setup.
//!
//! The files are reused across restarts when they still load cleanly, so a client that
//! pinned or trusted the certificate keeps working. Anything wrong with them (missing,
//! half-written, mismatched, expired) means a fresh pair, logged at WARN.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::path::Path;

use rcgen::{
    CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, KeyPair,
    KeyUsagePurpose, PKCS_ECDSA_P256_SHA256,
};

use super::{load_certified_key, CertifiedKeyFiles, TlsError};

/// File name of the development certificate inside the directory.
pub const DEV_CERT_FILE: &str = "wkfuzz-dev-cert.pem";
/// File name of the development private key (PKCS#8) inside the directory.
pub const DEV_KEY_FILE: &str = "wkfuzz-dev-key.pem";
/// Subject alternative names of the development certificate; rcgen turns the addresses
/// into iPAddress entries and the rest into dNSName entries.
const DEV_SUBJECT_ALT_NAMES: [&str; 3] = ["localhost", "127.0.0.1", "::1"];
/// Common name of the development certificate, so it is recognisable in a trust store.
const DEV_COMMON_NAME: &str = "wkfuzz development certificate";

/// Returns the paths of a usable development certificate in `dir`, generating one (and
/// creating `dir`) unless both files already exist and load without errors or warnings.
///
/// The certificate is valid from 1975 to 4096 (rcgen's defaults), so it never expires
/// under a running test and generating it needs no clock.
///
/// # Errors
/// [`TlsError::Write`] if `dir` or a file cannot be written, [`TlsError::Generate`] if
/// rcgen fails.
pub fn generate_dev_cert(dir: &Path) -> Result<CertifiedKeyFiles, TlsError> {
    let files = CertifiedKeyFiles {
        cert: dir.join(DEV_CERT_FILE),
        key: dir.join(DEV_KEY_FILE),
    };
    if files.cert.exists() || files.key.exists() {
        match load_certified_key(&files) {
            Ok(loaded) if loaded.warnings.is_empty() => return Ok(files),
            Ok(loaded) => tracing::warn!(
                dir = %dir.display(),
                warnings = ?loaded.warnings,
                "existing dev certificate has warnings; generating a new one"
            ),
            Err(error) => tracing::warn!(
                dir = %dir.display(),
                %error,
                "existing dev certificate unusable; generating a new one"
            ),
        }
    }
    let (cert_pem, key_pem) = dev_cert_pem(dir)?;
    fs::create_dir_all(dir).map_err(|source| TlsError::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    // Key first: a crash between the two renames leaves a new key with an old (or no)
    // certificate, which the next start detects as a mismatch and regenerates.
    write_replace(&files.key, key_pem.as_bytes(), true)?;
    write_replace(&files.cert, cert_pem.as_bytes(), false)?;
    tracing::info!(cert = %files.cert.display(), "generated self-signed dev certificate");
    Ok(files)
}

/// A fresh certificate and PKCS#8 key, both PEM. `dir` only names errors.
fn dev_cert_pem(dir: &Path) -> Result<(String, String), TlsError> {
    let generate = |e: rcgen::Error| TlsError::Generate {
        path: dir.to_path_buf(),
        reason: e.to_string(),
    };
    let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256).map_err(generate)?;
    let names: Vec<String> = DEV_SUBJECT_ALT_NAMES
        .iter()
        .map(ToString::to_string)
        .collect();
    let mut params = CertificateParams::new(names).map_err(generate)?;
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, DEV_COMMON_NAME);
    params.distinguished_name = dn;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let cert = params.self_signed(&key).map_err(generate)?;
    Ok((cert.pem(), key.serialize_pem()))
}

/// Replaces `path` with `bytes` atomically (temporary file + rename in the same
/// directory), owner-only permissions when `private`.
fn write_replace(path: &Path, bytes: &[u8], private: bool) -> Result<(), TlsError> {
    let write_err = |source| TlsError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut tmp_name = path.as_os_str().to_owned();
    tmp_name.push(format!(".tmp-{}", std::process::id()));
    let tmp = Path::new(&tmp_name);
    // A stale temporary from a crashed run would keep its old permissions; start fresh.
    let _ = fs::remove_file(tmp);
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = private;
    let result = options.open(tmp).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    if let Err(e) = result.and_then(|()| fs::rename(tmp, path)) {
        let _ = fs::remove_file(tmp);
        return Err(write_err(e));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::net::IpAddr;

    use x509_parser::extensions::GeneralName;
    use x509_parser::prelude::FromDer;

    use super::*;
    use crate::tls::load_certified_key;

    #[test]
    fn generates_a_loadable_localhost_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("a/b");
        let files = generate_dev_cert(&nested).unwrap();
        assert_eq!(files.cert, nested.join(DEV_CERT_FILE));
        assert_eq!(files.key, nested.join(DEV_KEY_FILE));
        let loaded = load_certified_key(&files).unwrap();
        assert!(loaded.warnings.is_empty(), "{:?}", loaded.warnings);
        assert_eq!(
            loaded.key.key.algorithm(),
            rustls::SignatureAlgorithm::ECDSA
        );

        let der = loaded.key.end_entity_cert().unwrap();
        let (_, cert) = x509_parser::certificate::X509Certificate::from_der(der).unwrap();
        let san = cert.subject_alternative_name().unwrap().unwrap();
        let mut dns = Vec::new();
        let mut ips = Vec::new();
        for name in &san.value.general_names {
            match name {
                GeneralName::DNSName(n) => dns.push(n.to_string()),
                GeneralName::IPAddress(b) => match b.len() {
                    4 => ips.push(IpAddr::from(<[u8; 4]>::try_from(*b).unwrap())),
                    _ => ips.push(IpAddr::from(<[u8; 16]>::try_from(*b).unwrap())),
                },
                other => panic!("unexpected SAN {other:?}"),
            }
        }
        assert_eq!(dns, ["localhost"]);
        assert_eq!(
            ips,
            [
                "127.0.0.1".parse::<IpAddr>().unwrap(),
                "::1".parse().unwrap()
            ]
        );
        assert!(!cert.is_ca());
        assert!(cert.subject().to_string().contains(DEV_COMMON_NAME));

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(&files.key).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        // No temporary files left behind.
        assert_eq!(fs::read_dir(&nested).unwrap().count(), 2);
    }

    #[test]
    fn reuses_good_files_and_replaces_bad_ones() {
        let dir = tempfile::tempdir().unwrap();
        let files = generate_dev_cert(dir.path()).unwrap();
        let read = |f: &CertifiedKeyFiles| (fs::read(&f.cert).unwrap(), fs::read(&f.key).unwrap());
        let first = read(&files);

        // A restart keeps the same certificate (clients may have pinned it).
        assert_eq!(generate_dev_cert(dir.path()).unwrap(), files);
        assert_eq!(read(&files), first);

        // A damaged certificate is replaced by a fresh, loadable pair.
        fs::write(&files.cert, "-----BEGIN CERTIFICATE-----\nAAAA\n").unwrap();
        generate_dev_cert(dir.path()).unwrap();
        let second = read(&files);
        assert_ne!(second, first);
        assert!(load_certified_key(&files).unwrap().warnings.is_empty());

        // Half a pair (the certificate missing) is replaced too.
        fs::remove_file(&files.cert).unwrap();
        generate_dev_cert(dir.path()).unwrap();
        assert_ne!(read(&files), second);
        assert!(load_certified_key(&files).is_ok());
    }

    #[test]
    fn unwritable_directory_is_a_write_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("not-a-dir");
        fs::write(&file, "x").unwrap();
        let err = generate_dev_cert(&file).unwrap_err();
        assert!(matches!(err, TlsError::Write { .. }), "{err:?}");
        assert!(err
            .to_string()
            .starts_with(&format!("{}: cannot write", file.display())));
    }
}
