//! [`TicketKey`]: session-ticket keys in nginx's `ssl_session_ticket_key` file format, and
//! [`load_ticket_keys`], which reads a list of them (the first seals, all open).
//!
//! File format (nginx `ngx_ssl_session_ticket_keys`, binary, no header):
//! - 48 bytes: key name (16) || AES-128 key (16) || HMAC-SHA256 secret (16);
//! - 80 bytes: key name (16) || HMAC-SHA256 secret (32) || AES-256 key (32).
//!
//! Note the different order of the two halves: it is nginx's, so one file generated with
//! `openssl rand 80 > ticket.key` serves nginx and this server alike. Any other length,
//! an unreadable file, or two files with the same key name is a start-up error naming
//! the file.

use std::fmt;
use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};

use super::TlsError;

/// Length of the key name that starts every ticket and every key file.
pub const TICKET_KEY_NAME_LEN: usize = 16;
/// Length of a key file for AES-128-CBC + HMAC-SHA256 (16-byte secret).
pub const TICKET_KEY_FILE_LEN_128: usize = 48;
/// Length of a key file for AES-256-CBC + HMAC-SHA256 (32-byte secret).
pub const TICKET_KEY_FILE_LEN_256: usize = 80;

/// The AES key of a ticket key: its size follows the file's.
#[derive(Clone, PartialEq, Eq)]
pub enum AesKey {
    /// From a 48-byte file.
    Aes128([u8; 16]),
    /// From an 80-byte file.
    Aes256([u8; 32]),
}

/// Key bytes never go to logs.
impl fmt::Debug for AesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AesKey::Aes128(_) => f.write_str("Aes128(..)"),
            AesKey::Aes256(_) => f.write_str("Aes256(..)"),
        }
    }
}

/// One session-ticket key.
#[derive(Clone, PartialEq, Eq)]
pub struct TicketKey {
    /// Written in clear at the start of every ticket it seals; picks the key to open with.
    pub name: [u8; TICKET_KEY_NAME_LEN],
    /// HMAC-SHA256 secret (16 or 32 bytes).
    pub hmac_secret: Vec<u8>,
    /// AES-CBC key.
    pub aes: AesKey,
}

/// Key material never goes to logs: Debug shows the name and the size only.
impl fmt::Debug for TicketKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let bits = match self.aes {
            AesKey::Aes128(_) => 128,
            AesKey::Aes256(_) => 256,
        };
        write!(f, "TicketKey(name {}, AES-{bits})", self.name_hex())
    }
}

impl TicketKey {
    /// Parses the bytes of a key file.
    ///
    /// # Errors
    /// [`TlsError::TicketKeyLength`] (naming `path`) unless `bytes` is 48 or 80 bytes long.
    pub fn parse(bytes: &[u8], path: &Path) -> Result<TicketKey, TlsError> {
        let wrong = || TlsError::TicketKeyLength {
            path: path.to_path_buf(),
            len: bytes.len() as u64,
        };
        // Fixed-size destructuring: every length is checked before any byte is taken.
        if let Ok(b) = <&[u8; TICKET_KEY_FILE_LEN_128]>::try_from(bytes) {
            let (name, rest) = b.split_first_chunk::<16>().ok_or_else(wrong)?;
            let (aes, hmac) = rest.split_first_chunk::<16>().ok_or_else(wrong)?;
            return Ok(TicketKey {
                name: *name,
                hmac_secret: hmac.to_vec(),
                aes: AesKey::Aes128(*aes),
            });
        }
        if let Ok(b) = <&[u8; TICKET_KEY_FILE_LEN_256]>::try_from(bytes) {
            let (name, rest) = b.split_first_chunk::<16>().ok_or_else(wrong)?;
            let (hmac, aes) = rest.split_first_chunk::<32>().ok_or_else(wrong)?;
            let aes = <[u8; 32]>::try_from(aes).map_err(|_| wrong())?;
            return Ok(TicketKey {
                name: *name,
                hmac_secret: hmac.to_vec(),
                aes: AesKey::Aes256(aes),
            });
        }
        Err(wrong())
    }

    /// Reads and parses one key file, reading at most one byte more than the longest
    /// valid file (a path to a log file or `/dev/zero` costs nothing).
    ///
    /// # Errors
    /// [`TlsError::Read`] or [`TlsError::TicketKeyLength`], naming `path`.
    pub fn load(path: &Path) -> Result<TicketKey, TlsError> {
        let read_err = |source| TlsError::Read {
            path: path.to_path_buf(),
            source,
        };
        let file = File::open(path).map_err(read_err)?;
        let mut bytes = Vec::new();
        let limit = TICKET_KEY_FILE_LEN_256 as u64 + 1;
        file.take(limit).read_to_end(&mut bytes).map_err(read_err)?;
        if bytes.len() > TICKET_KEY_FILE_LEN_256 {
            // Name the real size when the file system knows it.
            let len = std::fs::metadata(path).map_or(limit, |m| m.len().max(limit));
            return Err(TlsError::TicketKeyLength {
                path: path.to_path_buf(),
                len,
            });
        }
        TicketKey::parse(&bytes, path)
    }

    /// A key from its parts (tests, generated keys).
    #[must_use]
    pub fn from_parts(name: [u8; 16], hmac_secret: Vec<u8>, aes: AesKey) -> TicketKey {
        TicketKey {
            name,
            hmac_secret,
            aes,
        }
    }

    /// The key name as lower-case hex, for logs and messages.
    #[must_use]
    pub fn name_hex(&self) -> String {
        hex::encode(self.name)
    }
}

/// Loads every key file in order (the first is the one that seals new tickets).
///
/// # Errors
/// The first file that cannot be read or has the wrong length, or
/// [`TlsError::DuplicateTicketKey`] when two files share a key name.
pub fn load_ticket_keys(paths: &[PathBuf]) -> Result<Vec<TicketKey>, TlsError> {
    let mut keys: Vec<(TicketKey, &PathBuf)> = Vec::with_capacity(paths.len());
    for path in paths {
        let key = TicketKey::load(path)?;
        if let Some((_, first)) = keys.iter().find(|(k, _)| k.name == key.name) {
            return Err(TlsError::DuplicateTicketKey {
                path: path.clone(),
                first: (*first).clone(),
                name: key.name_hex(),
            });
        }
        keys.push((key, path));
    }
    Ok(keys.into_iter().map(|(k, _)| k).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::testutil::write;

    #[test]
    fn both_lengths_parse_in_nginx_order() {
        let b48: Vec<u8> = (0u8..48).collect();
        let k = TicketKey::parse(&b48, Path::new("k")).unwrap();
        assert_eq!(k.name.to_vec(), (0u8..16).collect::<Vec<_>>());
        assert_eq!(
            k.aes,
            AesKey::Aes128(<[u8; 16]>::try_from((16u8..32).collect::<Vec<_>>()).unwrap())
        );
        assert_eq!(k.hmac_secret, (32u8..48).collect::<Vec<_>>());

        let b80: Vec<u8> = (0u8..80).collect();
        let k = TicketKey::parse(&b80, Path::new("k")).unwrap();
        assert_eq!(k.hmac_secret, (16u8..48).collect::<Vec<_>>());
        assert_eq!(
            k.aes,
            AesKey::Aes256(<[u8; 32]>::try_from((48u8..80).collect::<Vec<_>>()).unwrap())
        );
        assert_eq!(
            format!("{k:?}"),
            "TicketKey(name 000102030405060708090a0b0c0d0e0f, AES-256)"
        );
    }

    #[test]
    fn other_lengths_are_typed_errors_naming_the_file() {
        for len in [0usize, 1, 16, 47, 49, 79, 81, 96] {
            let err = TicketKey::parse(&vec![7u8; len], Path::new("/t/k.key")).unwrap_err();
            assert_eq!(
                err.to_string(),
                format!("/t/k.key: session ticket key must be 48 or 80 bytes (nginx ssl_session_ticket_key format), got {len}")
            );
        }
    }

    #[test]
    fn load_bounds_the_read_and_finds_duplicates() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let big = write(d, "big.key", vec![1u8; 5000]);
        let err = TicketKey::load(&big).unwrap_err().to_string();
        assert!(err.ends_with("got 5000"), "{err}");
        assert!(matches!(
            TicketKey::load(&d.join("missing.key")),
            Err(TlsError::Read { .. })
        ));
        let a = write(d, "a.key", [1u8; 80]);
        let b = write(d, "b.key", [2u8; 48]);
        let mut same_name = [1u8; 48];
        same_name[20] = 9;
        let c = write(d, "c.key", same_name);
        let keys = load_ticket_keys(&[a.clone(), b.clone()]).unwrap();
        assert_eq!(keys.len(), 2);
        let err = load_ticket_keys(&[a.clone(), b, c.clone()]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "{}: session ticket key name {} is already used by {}",
                c.display(),
                "01".repeat(16),
                a.display()
            )
        );
    }
}
