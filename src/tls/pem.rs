//! Bounded file reading and PEM sectioning: bytes -> labels, certificates, private keys.
//!
//! The section parser is rustls-pki-types' (the one rustls-pemfile 2 wraps). It silently
//! skips sections it does not know, such as `ENCRYPTED PRIVATE KEY`, so this module also
//! scans the BEGIN labels itself: that is how "encrypted key" and "you gave me the key file
//! as the certificate" become specific errors instead of a bare "nothing found".

use std::fs::File;
use std::io::Read;
use std::path::Path;

use rustls_pki_types::pem::{self, PemObject, SectionKind};
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use super::TlsError;

/// Largest key or certificate file read, in bytes. A long chain of ten RSA-4096
/// certificates is about 20 KiB; 1 MiB leaves room and bounds memory when a path points at
/// something that is not key material (a log file, `/dev/zero`).
pub const MAX_PEM_FILE_LEN: usize = 1024 * 1024;

/// At most this many section labels are quoted in an error message (keeps it one line).
const MAX_LABELS_SHOWN: usize = 8;
/// A quoted label is cut to this many bytes.
const MAX_LABEL_SHOWN_LEN: usize = 40;

/// Reads `path`, refusing files longer than [`MAX_PEM_FILE_LEN`].
///
/// # Errors
/// [`TlsError::Read`] on any I/O error, [`TlsError::TooLarge`] above the limit.
pub(crate) fn read_bounded(path: &Path) -> Result<Vec<u8>, TlsError> {
    let read_err = |source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    };
    let file = File::open(path).map_err(read_err)?;
    let mut bytes = Vec::new();
    // Read one byte past the limit: that is how "exactly the limit" and "over it" differ.
    let limit = u64::try_from(MAX_PEM_FILE_LEN)
        .unwrap_or(u64::MAX)
        .saturating_add(1);
    file.take(limit).read_to_end(&mut bytes).map_err(read_err)?;
    if bytes.len() > MAX_PEM_FILE_LEN {
        return Err(TlsError::TooLarge {
            path: path.to_path_buf(),
            max: MAX_PEM_FILE_LEN,
        });
    }
    Ok(bytes)
}

/// What a line-by-line look at a PEM file found, before any section is decoded.
#[derive(Debug, Default)]
pub(crate) struct Scan {
    /// The label of every `-----BEGIN <label>-----` line, in order, sanitised for messages.
    pub(crate) labels: Vec<String>,
    /// A legacy OpenSSL `Proc-Type: 4,ENCRYPTED` header was seen (encrypted PKCS#1/SEC1).
    pub(crate) legacy_encrypted: bool,
}

impl Scan {
    /// Whether some section is labelled exactly `label`.
    pub(crate) fn has(&self, label: &str) -> bool {
        self.labels.iter().any(|l| l == label)
    }

    /// `"; found: A, B"` naming the sections present, or `""` when there are none.
    pub(crate) fn found(&self) -> String {
        if self.labels.is_empty() {
            return String::new();
        }
        let shown: Vec<&str> = self
            .labels
            .iter()
            .take(MAX_LABELS_SHOWN)
            .map(String::as_str)
            .collect();
        let more = if self.labels.len() > MAX_LABELS_SHOWN {
            ", ..."
        } else {
            ""
        };
        format!("; found: {}{more}", shown.join(", "))
    }
}

/// Returns true when `bytes` holds nothing but ASCII whitespace.
pub(crate) fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// Scans the BEGIN lines and encryption headers of a PEM file.
///
/// A BEGIN line is recognised exactly as the section parser recognises it: at the start of
/// a line (lines end at `\n` or `\r`), trailing whitespace allowed.
pub(crate) fn scan(bytes: &[u8]) -> Scan {
    let mut out = Scan::default();
    for line in bytes.split(|b| *b == b'\n' || *b == b'\r') {
        let line = line.trim_ascii_end();
        if let Some(label) = line
            .strip_prefix(b"-----BEGIN ")
            .and_then(|rest| rest.strip_suffix(b"-----"))
        {
            out.labels.push(sanitise(label));
        } else if line.starts_with(b"Proc-Type:") && contains(line, b"ENCRYPTED") {
            out.legacy_encrypted = true;
        }
    }
    out
}

/// The certificates and private keys of a PEM file, in file order.
#[derive(Debug, Default)]
pub(crate) struct Sections {
    /// `CERTIFICATE` sections.
    pub(crate) certs: Vec<CertificateDer<'static>>,
    /// `PRIVATE KEY` (PKCS#8), `RSA PRIVATE KEY` (PKCS#1), `EC PRIVATE KEY` (SEC1) sections.
    pub(crate) keys: Vec<PrivateKeyDer<'static>>,
}

/// Decodes every section of a PEM file, keeping certificates and private keys.
///
/// Strict: one broken section (truncated, bad base64) fails the whole file, even if an
/// earlier section was fine, because a half-read chain is worse than a clear error.
///
/// # Errors
/// [`TlsError::MalformedPem`] naming `path`.
pub(crate) fn sections(path: &Path, bytes: &[u8]) -> Result<Sections, TlsError> {
    let mut out = Sections::default();
    for item in <(SectionKind, Vec<u8>) as PemObject>::pem_slice_iter(bytes) {
        let (kind, der) = item.map_err(|e| TlsError::MalformedPem {
            path: path.to_path_buf(),
            reason: describe(&e),
        })?;
        match kind {
            SectionKind::Certificate => out.certs.push(CertificateDer::from(der)),
            SectionKind::PrivateKey => out.keys.push(PrivateKeyDer::Pkcs8(der.into())),
            SectionKind::RsaPrivateKey => out.keys.push(PrivateKeyDer::Pkcs1(der.into())),
            SectionKind::EcPrivateKey => out.keys.push(PrivateKeyDer::Sec1(der.into())),
            _ => {}
        }
    }
    Ok(out)
}

/// One line of text for a PEM parser error.
fn describe(e: &pem::Error) -> String {
    match e {
        pem::Error::MissingSectionEnd { end_marker } => format!(
            "missing '-----END {}-----' line (file truncated?)",
            sanitise(end_marker)
        ),
        pem::Error::IllegalSectionStart { line } => {
            format!("malformed BEGIN line '{}'", sanitise(line))
        }
        pem::Error::Base64Decode(why) => format!("section body is not valid base64 ({why})"),
        other => other.to_string(),
    }
}

/// Printable, bounded form of file bytes for an error message: keeps it one line.
fn sanitise(bytes: &[u8]) -> String {
    let mut s: String = bytes
        .iter()
        .take(MAX_LABEL_SHOWN_LEN)
        .map(|&b| {
            if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '?'
            }
        })
        .collect();
    if bytes.len() > MAX_LABEL_SHOWN_LEN {
        s.push_str("...");
    }
    s
}

/// Whether `needle` occurs in `haystack`.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    // `windows(0)` panics, so the empty needle is answered before asking.
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_finds_labels_and_legacy_encryption() {
        let text = b"junk\n-----BEGIN ENCRYPTED PRIVATE KEY-----  \r\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n\
                     -----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\n";
        let s = scan(text);
        assert_eq!(s.labels, ["ENCRYPTED PRIVATE KEY", "RSA PRIVATE KEY"]);
        assert!(s.legacy_encrypted);
        assert!(s.has("RSA PRIVATE KEY"));
        assert_eq!(s.found(), "; found: ENCRYPTED PRIVATE KEY, RSA PRIVATE KEY");
    }

    #[test]
    fn scan_ignores_indented_begin_and_sanitises() {
        let s = scan(b"  -----BEGIN CERTIFICATE-----\n-----BEGIN A\x00\x7fB-----\n");
        assert_eq!(s.labels, ["A??B"]);
        assert!(!s.legacy_encrypted);
        assert_eq!(scan(b"").found(), "");
    }

    #[test]
    fn sections_reports_truncation() {
        let e = sections(Path::new("/p.pem"), b"-----BEGIN CERTIFICATE-----\nAAAA\n")
            .err()
            .map(|e| e.to_string());
        assert_eq!(
            e.as_deref(),
            Some(
                "/p.pem: malformed PEM: missing '-----END CERTIFICATE-----' line (file truncated?)"
            )
        );
    }

    #[test]
    fn read_bounded_limits_size() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.pem");
        std::fs::write(&big, vec![b'a'; MAX_PEM_FILE_LEN + 1]).unwrap();
        assert!(matches!(read_bounded(&big), Err(TlsError::TooLarge { .. })));
        let ok = dir.path().join("ok.pem");
        std::fs::write(&ok, vec![b'a'; MAX_PEM_FILE_LEN]).unwrap();
        assert_eq!(read_bounded(&ok).unwrap().len(), MAX_PEM_FILE_LEN);
        assert!(matches!(
            read_bounded(dir.path()),
            Err(TlsError::Read { .. })
        ));
    }
}
