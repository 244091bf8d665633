//! Test helpers: key material generated into temporary directories with the `openssl`
//! CLI and rcgen.

use std::path::{Path, PathBuf};
use std::process::Command;

use rcgen::{CertificateParams, KeyPair, SignatureAlgorithm};

use super::key_files::CertifiedKeyFiles;

/// Runs `openssl args...` in `dir`, panicking with its stderr on failure.
pub(crate) fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .args(args)
        .current_dir(dir)
        .output()
        .expect("openssl CLI runs");
    assert!(
        out.status.success(),
        "openssl {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A self-signed certificate and its PKCS#8 key from `openssl req`, where `newkey` is an
/// `-newkey` argument (`rsa:2048`, `ec`, `ed25519`...) and `pkeyopt` extra options.
pub(crate) fn openssl_pair(
    dir: &Path,
    stem: &str,
    newkey: &str,
    pkeyopt: &[&str],
) -> CertifiedKeyFiles {
    let cert = format!("{stem}-cert.pem");
    let key = format!("{stem}-key.pem");
    let mut args = vec!["req", "-x509", "-newkey", newkey];
    for opt in pkeyopt {
        args.extend(["-pkeyopt", opt]);
    }
    args.extend([
        "-nodes",
        "-keyout",
        &key,
        "-out",
        &cert,
        "-days",
        "30",
        "-subj",
        "/CN=wkfuzz-test",
        // `req -x509` marks the certificate CA:TRUE by default, which webpki refuses as a
        // server certificate (CaUsedAsEndEntity).
        "-addext",
        "subjectAltName=DNS:localhost",
        "-addext",
        "basicConstraints=critical,CA:FALSE",
    ]);
    openssl(dir, &args);
    CertifiedKeyFiles {
        cert: dir.join(cert),
        key: dir.join(key),
    }
}

/// A self-signed certificate for `localhost` and its PKCS#8 key, both PEM, from rcgen.
pub(crate) fn rcgen_pem(
    alg: &'static SignatureAlgorithm,
    params: CertificateParams,
) -> (String, String) {
    let key = KeyPair::generate_for(alg).unwrap();
    let cert = params.self_signed(&key).unwrap();
    (cert.pem(), key.serialize_pem())
}

/// rcgen parameters for `localhost`.
pub(crate) fn localhost_params() -> CertificateParams {
    CertificateParams::new(vec!["localhost".to_string()]).unwrap()
}

/// Writes `bytes` to `dir/name` and returns the path.
pub(crate) fn write(dir: &Path, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, bytes).unwrap();
    path
}
