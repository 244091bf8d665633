//! The `keys` target's TLS-files modes (first byte `0xF0` and above): a server's whole key
//! material built the way `wkfuzz serve` builds it, and a peer's session ticket opened.
//!
//! - `0xF0..=0xF7` material: the rest, split at NUL bytes, is a certificate, its key, a
//!   session-ticket key file, a client-CA file and a second certificate (for the fixture
//!   key); an empty certificate or key part means the fixture's, a missing part means "not
//!   configured" (so a ticket key file cannot hold a NUL byte). The files are written to a per-thread directory and built with
//!   [`TlsFiles::build_with`] (certificate set and SNI names, ticket keys, client CA,
//!   ALPN). Mode bits: 1 = optional (else required) client certificates, 2 = ALPN
//!   `wkproto`, 4 = the ticket key file listed twice.
//! - `0xF8..=0xFF` ticket: the rest is a session ticket a client presents, opened by a
//!   ticketer with a fixed key (bit 1: AES-256, else AES-128) at a fixed time.
//!
//! Oracles: an error is one line naming one of the files (or "TLS config"); a built config
//! has as many certificates and ticket keys as configured, and its ticketer (as rustls
//! calls it) has the configured lifetime, opens what it seals, refuses it damaged and keeps
//! the key bytes out of `Debug`; an opened ticket stops opening when its MAC is damaged, and its state sealed
//! again opens to the same state.

use super::fixture::{CERT_PEM, KEY_PEM};
use super::Outcome;
use crate::tls::{
    AesKey, CertifiedKeyFiles, ClientAuth, TicketKey, TicketRefusal, Ticketer, TlsFiles,
    DEFAULT_TICKET_LIFETIME_SECS,
};
use rustls::pki_types::UnixTime;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// The first mode byte of these modes (the `keys` target's others are below).
pub(crate) const FIRST_MODE: u8 = 0xF0;
/// The first mode byte of the ticket mode.
const TICKET_MODE: u8 = 0xF8;
/// The fixed "now" of certificate validity and tickets (as `keys` uses).
const NOW_SECS: u64 = 1_800_000_000;

const CERT: &str = "cert.pem";
const KEY: &str = "key.pem";
const TICKET_KEY: &str = "ticket.key";
const CA: &str = "ca.pem";
const SECOND: &str = "second.pem";

/// Runs a TLS-files mode.
///
/// # Panics
/// When an oracle is violated.
pub(super) fn run(mode: u8, rest: &[u8]) -> Outcome {
    if mode >= TICKET_MODE {
        ticket(mode, rest)
    } else {
        material(mode, rest)
    }
}

thread_local! {
    /// Where this thread writes its files (the same names every run).
    static DIR: Option<tempfile::TempDir> = tempfile::Builder::new().prefix("wkfuzz-keys-").tempdir().ok();
}

fn material(mode: u8, rest: &[u8]) -> Outcome {
    let written = DIR.with(|dir| {
        let dir = dir.as_ref()?.path();
        Some((dir.to_path_buf(), write_files(dir, mode, rest)))
    });
    let Some((dir, Ok(files))) = written else {
        // The environment, not the input: no temp directory or a full disk.
        return Outcome::new("no scratch directory");
    };
    let clock_now: crate::tls::Clock = Arc::new(|| NOW_SECS);
    let now = UnixTime::since_unix_epoch(Duration::from_secs(NOW_SECS));
    match files.build_with(crate::tls::provider(), now, Some(clock_now)) {
        Ok(built) => {
            let pairs = files.certs.len();
            assert!(
                built
                    .summary
                    .starts_with(&format!("{pairs} certificate(s)")),
                "{pairs} pairs configured, built: {}",
                built.summary
            );
            let keys = usize::from(!files.ticket_keys.is_empty());
            assert!(
                built.summary.contains(&format!(", {keys} ticket key(s)")),
                "{keys} ticket keys configured, built: {}",
                built.summary
            );
            assert_eq!(built.config.alpn_protocols, files.alpn);
            if keys > 0 {
                check_ticketer(&built.config, &ticket_secret(rest));
            }
            let mut o = Outcome::new(format!("built: {}", built.summary));
            o.count("warnings", built.warnings.len() as u64);
            o
        }
        Err(e) => {
            let msg = e.to_string().replace(&format!("{}/", dir.display()), "");
            assert!(
                !msg.contains('\n'),
                "error message must be one line: {msg:?}"
            );
            assert!(
                [CERT, KEY, TICKET_KEY, CA, SECOND, "TLS config"]
                    .iter()
                    .any(|f| msg.starts_with(f)),
                "error must name the file: {msg}"
            );
            Outcome::new(format!("refused: {msg}"))
        }
    }
}

/// The secret part (after the 16-byte name) of the ticket key file in `rest`, if any.
fn ticket_secret(rest: &[u8]) -> Vec<u8> {
    let ticket_file = rest.splitn(5, |&b| b == 0).nth(2).unwrap_or_default();
    ticket_file.get(16..).unwrap_or_default().to_vec()
}

/// The built ticketer as rustls sees it: enabled with the configured lifetime, opens what
/// it seals and nothing damaged, and keeps its key material out of `Debug` (which logs
/// and panic messages may print).
fn check_ticketer(config: &rustls::ServerConfig, secret: &[u8]) {
    let t = &config.ticketer;
    assert!(t.enabled());
    assert_eq!(t.lifetime(), DEFAULT_TICKET_LIFETIME_SECS);
    let state = b"resumption state";
    let sealed = t.encrypt(state).expect("the ticketer seals a small state");
    assert_eq!(t.decrypt(&sealed).as_deref(), Some(&state[..]));
    let mut damaged = sealed;
    if let Some(last) = damaged.last_mut() {
        *last ^= 1;
    }
    assert_eq!(t.decrypt(&damaged), None, "a damaged ticket opened");
    let debug = format!("{config:?}");
    // Secret bytes printed as a byte list or as hex would contain these.
    if let Some(head) = secret.get(..8) {
        let as_list = format!("{head:?}");
        let as_list = as_list.trim_end_matches(']');
        assert!(
            !debug.contains(as_list),
            "ticket key bytes in Debug: {debug}"
        );
        assert!(
            !debug.contains(&hex::encode(head)),
            "ticket key hex in Debug: {debug}"
        );
    }
}

/// Writes the parts of `rest` and returns the [`TlsFiles`] naming them.
fn write_files(dir: &Path, mode: u8, rest: &[u8]) -> std::io::Result<TlsFiles> {
    let mut parts = rest.splitn(5, |&b| b == 0);
    let file = |name: &str, data: &[u8]| -> std::io::Result<PathBuf> {
        let path = dir.join(name);
        std::fs::write(&path, data)?;
        Ok(path)
    };
    let cert = parts
        .next()
        .filter(|p| !p.is_empty())
        .unwrap_or(CERT_PEM.as_bytes());
    let key = parts
        .next()
        .filter(|p| !p.is_empty())
        .unwrap_or(KEY_PEM.as_bytes());
    let mut certs = vec![CertifiedKeyFiles {
        cert: file(CERT, cert)?,
        key: file(KEY, key)?,
    }];
    let mut ticket_keys = Vec::new();
    if let Some(t) = parts.next() {
        let path = file(TICKET_KEY, t)?;
        ticket_keys.push(path.clone());
        if mode & 4 != 0 {
            ticket_keys.push(path);
        }
    }
    let client_auth = match parts.next() {
        None => ClientAuth::None,
        Some(ca) if mode & 1 != 0 => ClientAuth::Optional(file(CA, ca)?),
        Some(ca) => ClientAuth::Required(file(CA, ca)?),
    };
    if let Some(second) = parts.next() {
        certs.push(CertifiedKeyFiles {
            cert: file(SECOND, second)?,
            key: file(KEY, key)?,
        });
    }
    Ok(TlsFiles {
        certs,
        ticket_keys,
        ticket_lifetime_secs: DEFAULT_TICKET_LIFETIME_SECS,
        client_auth,
        alpn: if mode & 2 != 0 {
            vec![b"wkproto".to_vec()]
        } else {
            Vec::new()
        },
    })
}

/// The fixed ticket key of the ticket mode: AES-256 (80-byte file) or AES-128 (48-byte).
fn ticket_key(aes256: bool) -> TicketKey {
    if aes256 {
        TicketKey::from_parts([0x11; 16], vec![0x22; 32], AesKey::Aes256([0x33; 32]))
    } else {
        TicketKey::from_parts([0x44; 16], vec![0x66; 16], AesKey::Aes128([0x55; 16]))
    }
}

fn ticketer(mode: u8) -> Option<Ticketer> {
    Ticketer::new(
        vec![ticket_key(mode & 2 != 0)],
        DEFAULT_TICKET_LIFETIME_SECS,
    )
}

fn ticket(mode: u8, rest: &[u8]) -> Outcome {
    let Some(t) = ticketer(mode) else {
        return Outcome::new("no ticketer");
    };
    match t.open(rest, NOW_SECS) {
        Ok(state) => {
            let mut forged = rest.to_vec();
            if let Some(last) = forged.last_mut() {
                *last ^= 1;
            }
            assert_eq!(
                t.open(&forged, NOW_SECS),
                Err(TicketRefusal::BadMac),
                "a damaged MAC opened"
            );
            let again = t.seal(&state, NOW_SECS, [7; 16]);
            let again = again.expect("an opened state seals again");
            assert_eq!(t.open(&again, NOW_SECS).as_deref(), Ok(&state[..]));
            let mut o = Outcome::new("ticket opened");
            o.count("state_bytes", state.len() as u64);
            o
        }
        Err(refusal) => Outcome::new(format!("ticket refused: {refusal}")),
    }
}

/// Seeds for these modes: the fixture material with and without each optional file
/// (valid and broken), and tickets sealed with the fixed keys (valid, expired, from the
/// future, truncated).
pub(crate) fn seeds() -> Vec<Vec<u8>> {
    let cert = CERT_PEM.as_bytes();
    let key = KEY_PEM.as_bytes();
    let key80: Vec<u8> = (1..=80u8).collect();
    let key48: Vec<u8> = (100..148u8).collect();
    let join = |mode: u8, parts: &[&[u8]]| {
        let mut v = vec![mode];
        for (i, p) in parts.iter().enumerate() {
            if i > 0 {
                v.push(0);
            }
            v.extend_from_slice(p);
        }
        v
    };
    let mut out = vec![
        join(FIRST_MODE, &[b"", b""]),
        join(FIRST_MODE | 2, &[cert, key, &key80]),
        join(FIRST_MODE, &[b"", b"", &key48, cert]),
        join(FIRST_MODE | 1, &[b"", b"", &key80, cert, cert]),
        join(FIRST_MODE | 4, &[b"", b"", &key80]),
        join(FIRST_MODE, &[b"", b"", &key80[..47]]),
        join(FIRST_MODE, &[b"", b"", &key48, b"not a CA"]),
        join(FIRST_MODE | 1, &[b"", b"", &key48, key]),
        join(
            FIRST_MODE,
            &[
                b"",
                b"",
                &key48,
                cert,
                b"-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n",
            ],
        ),
        join(FIRST_MODE, &[key, cert]),
        join(FIRST_MODE, &[b"", cert]),
    ];
    for mode in [TICKET_MODE, TICKET_MODE | 2] {
        let Some(t) = ticketer(mode) else { continue };
        let lifetime = u64::from(DEFAULT_TICKET_LIFETIME_SECS);
        for (issued, state) in [
            (NOW_SECS, &b"a resumption state of some length"[..]),
            (NOW_SECS - 60, b""),
            (NOW_SECS - lifetime - 1, b"expired"),
            (NOW_SECS + 3600, b"from the future"),
        ] {
            if let Ok(sealed) = t.seal(state, issued, [9; 16]) {
                let mut seed = vec![mode];
                seed.extend_from_slice(&sealed);
                out.push(seed.clone());
                seed.truncate(seed.len() - 16);
                out.push(seed);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_build_open_and_refuse_as_expected() {
        let outcomes: Vec<String> = seeds()
            .iter()
            .map(|s| run(s[0], &s[1..]).to_string())
            .collect();
        let has = |needle: &str| outcomes.iter().filter(|o| o.contains(needle)).count();
        assert!(has("built: 1 certificate(s)") >= 2, "{outcomes:#?}");
        assert!(has("built: 2 certificate(s)") >= 1, "{outcomes:#?}");
        assert!(has("1 ticket key(s)") >= 2, "{outcomes:#?}");
        assert!(
            has("refused: ticket.key: session ticket key must be 48 or 80 bytes") == 1,
            "{outcomes:#?}"
        );
        assert!(has("is already used by ticket.key") == 1, "{outcomes:#?}");
        assert!(has("refused: ca.pem") >= 1, "{outcomes:#?}");
        assert!(has("refused: key.pem") >= 1, "{outcomes:#?}");
        assert_eq!(has("ticket opened"), 4, "{outcomes:#?}");
        assert!(has("ticket refused: ticket expired") == 2, "{outcomes:#?}");
        assert!(has("in the future") == 2, "{outcomes:#?}");
        assert!(
            has("ticket refused: ticket MAC does not verify") >= 4,
            "{outcomes:#?}"
        );
        // The Debug oracle is not vacuous: rustls prints the ticketer, which names its key.
        let dir = tempfile::tempdir().unwrap();
        let key80: Vec<u8> = (1..=80u8).collect();
        let files = write_files(dir.path(), FIRST_MODE, &[&b"\0\0"[..], &key80].concat()).unwrap();
        let clock: crate::tls::Clock = Arc::new(|| NOW_SECS);
        let now = UnixTime::since_unix_epoch(Duration::from_secs(NOW_SECS));
        let built = files
            .build_with(crate::tls::provider(), now, Some(clock))
            .unwrap();
        let debug = format!("{:?}", built.config);
        assert!(
            debug.contains("TicketKey(name 0102030405060708090a0b0c0d0e0f10"),
            "{debug}"
        );
        assert!(!debug.contains("[17, 18, 19"), "{debug}");
        // Deterministic, whatever the thread's directory.
        let again = std::thread::spawn(|| {
            seeds()
                .iter()
                .map(|s| run(s[0], &s[1..]).to_string())
                .collect::<Vec<_>>()
        });
        assert_eq!(again.join().unwrap(), outcomes);
    }
}
