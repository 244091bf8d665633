//! Properties of key material: certificate/key loading, session-ticket key files, and
//! session tickets. Every malformed input is built from a valid one (truncated, flipped,
//! spliced, of the wrong type, length or encoding) and must give a typed error, never a
//! panic; every valid input must load.

mod prop_support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine;
use prop_support::{config, damages};
use proptest::prelude::*;
use rustls_pki_types::UnixTime;
use wkfuzz::gen::Damage;
use wkfuzz::tls::{
    parse_certified_key, AesKey, CertifiedKeyFiles, TicketKey, TicketRefusal, Ticketer, TlsError,
    MAX_CLOCK_SKEW_SECS,
};

/// A valid certificate and key, PEM.
#[derive(Debug, Clone)]
struct Pair {
    name: &'static str,
    cert: Vec<u8>,
    key: Vec<u8>,
}

/// RSA (openssl), ECDSA P-256 and Ed25519 (rcgen) pairs, plus an encrypted PKCS#8 key;
/// made once per test binary.
struct Fixtures {
    pairs: Vec<Pair>,
    encrypted_key: Vec<u8>,
    _dir: tempfile::TempDir,
}

fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let openssl = |args: &[&str]| {
            let out = Command::new("openssl")
                .args(args)
                .current_dir(d)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        openssl(&[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "rsa.key",
            "-out",
            "rsa.pem",
            "-days",
            "3650",
            "-subj",
            "/CN=localhost",
            "-addext",
            "subjectAltName=DNS:localhost",
            "-addext",
            "basicConstraints=critical,CA:FALSE",
        ]);
        openssl(&[
            "pkcs8",
            "-topk8",
            "-in",
            "rsa.key",
            "-out",
            "rsa-enc.key",
            "-passout",
            "pass:pw",
        ]);
        let read = |n: &str| std::fs::read(d.join(n)).unwrap();
        let mut pairs = vec![Pair {
            name: "RSA",
            cert: read("rsa.pem"),
            key: read("rsa.key"),
        }];
        for (name, alg) in [
            ("ECDSA", &rcgen::PKCS_ECDSA_P256_SHA256),
            ("Ed25519", &rcgen::PKCS_ED25519),
        ] {
            let key = rcgen::KeyPair::generate_for(alg).unwrap();
            let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
            let cert = params.self_signed(&key).unwrap();
            pairs.push(Pair {
                name,
                cert: cert.pem().into_bytes(),
                key: key.serialize_pem().into_bytes(),
            });
        }
        Fixtures {
            pairs,
            encrypted_key: read("rsa-enc.key"),
            _dir: dir,
        }
    })
}

fn files() -> CertifiedKeyFiles {
    CertifiedKeyFiles {
        cert: PathBuf::from("/keys/cert.pem"),
        key: PathBuf::from("/keys/key.pem"),
    }
}

/// 2027-01-15: inside every fixture's validity.
fn now() -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(1_800_000_000))
}

/// The DER of the first PEM section of `pem`.
fn first_der(pem: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(pem);
    let body: String = text
        .lines()
        .skip_while(|l| !l.starts_with("-----BEGIN"))
        .skip(1)
        .take_while(|l| !l.starts_with("-----END"))
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .unwrap()
}

/// How a file is made wrong, beyond byte damage.
#[derive(Debug, Clone)]
enum Wrong {
    /// Byte-level damage to the PEM text.
    Damage(Vec<Damage>),
    /// Byte-level damage to the DER inside, re-armoured as valid PEM.
    DamageDer(Vec<Damage>),
    /// The other file of the pair in its place (wrong type).
    Swapped,
    /// Binary DER instead of PEM (wrong encoding).
    Der,
    /// The section relabelled as the other kind (CERTIFICATE <-> PRIVATE KEY).
    Relabelled,
    /// The key of another pair (mismatch; only for the key file).
    OtherPairsKey(usize),
    /// An encrypted PKCS#8 key (only for the key file).
    Encrypted,
}

fn wrong() -> impl Strategy<Value = Wrong> {
    prop_oneof![
        4 => damages().prop_map(Wrong::Damage),
        3 => damages().prop_map(Wrong::DamageDer),
        1 => Just(Wrong::Swapped),
        1 => Just(Wrong::Der),
        1 => Just(Wrong::Relabelled),
        1 => (1usize..3).prop_map(Wrong::OtherPairsKey),
        1 => Just(Wrong::Encrypted),
    ]
}

/// Re-armours DER as PEM with `label`.
fn armour(label: &str, der: &[u8]) -> Vec<u8> {
    let b64 = base64::engine::general_purpose::STANDARD.encode(der);
    let mut out = format!("-----BEGIN {label}-----\n");
    for chunk in b64.as_bytes().chunks(64) {
        out.push_str(std::str::from_utf8(chunk).unwrap());
        out.push('\n');
    }
    out.push_str(&format!("-----END {label}-----\n"));
    out.into_bytes()
}

/// The label of the first section of `pem`.
fn label(pem: &[u8]) -> String {
    let text = String::from_utf8_lossy(pem);
    text.lines()
        .find_map(|l| l.strip_prefix("-----BEGIN ")?.strip_suffix("-----"))
        .unwrap_or("")
        .to_owned()
}

/// Applies `wrong` to the cert (`is_key == false`) or key file of `pairs[index]`.
fn make_wrong(index: usize, is_key: bool, wrong: &Wrong) -> (Vec<u8>, Vec<u8>) {
    let f = fixtures();
    let pair = &f.pairs[index];
    let (mut cert, mut key) = (pair.cert.clone(), pair.key.clone());
    let target = if is_key { &mut key } else { &mut cert };
    let original = target.clone();
    *target = match wrong {
        Wrong::Damage(d) => Damage::apply_all(d, &original),
        Wrong::DamageDer(d) => armour(
            &label(&original),
            &Damage::apply_all(d, &first_der(&original)),
        ),
        Wrong::Swapped => {
            if is_key {
                pair.cert.clone()
            } else {
                pair.key.clone()
            }
        }
        Wrong::Der => first_der(&original),
        Wrong::Relabelled => {
            let to = if is_key { "CERTIFICATE" } else { "PRIVATE KEY" };
            armour(to, &first_der(&original))
        }
        Wrong::OtherPairsKey(o) if is_key => f.pairs[(index + o) % f.pairs.len()].key.clone(),
        Wrong::Encrypted if is_key => f.encrypted_key.clone(),
        // Key-only manglings applied to the certificate: swap instead.
        Wrong::OtherPairsKey(_) | Wrong::Encrypted => pair.key.clone(),
    };
    (cert, key)
}

proptest! {
    #![proptest_config(config("prop_keys"))]

    /// Any mangled certificate or key file gives `Ok` (the damage was harmless) or a typed
    /// error about one of the two files, one line, starting with that file's path; and the
    /// kinds of wrongness that can never load are refused with the right variant.
    #[test]
    fn mangled_key_material_gives_a_typed_error(
        index in 0usize..3,
        is_key in any::<bool>(),
        wrong in wrong(),
    ) {
        let (cert, key) = make_wrong(index, is_key, &wrong);
        let files = files();
        match parse_certified_key(&cert, &key, &files, now()) {
            Ok(loaded) => {
                // Harmless damage (outside the sections, or re-encoding): still a usable key.
                prop_assert!(loaded.key.end_entity_cert().is_ok());
                prop_assert!(
                    !matches!(wrong, Wrong::Swapped | Wrong::Der | Wrong::Relabelled | Wrong::Encrypted | Wrong::OtherPairsKey(_)),
                    "{wrong:?} loaded"
                );
            }
            Err(e) => {
                let msg = e.to_string();
                let path = e.path().map(Path::to_path_buf);
                prop_assert!(path == Some(files.cert.clone()) || path == Some(files.key.clone()), "{msg}");
                prop_assert!(msg.starts_with(&path.unwrap().display().to_string()), "{msg}");
                prop_assert!(!msg.contains('\n'), "{msg:?}");
                match (&wrong, is_key) {
                    (Wrong::OtherPairsKey(_), true) => prop_assert!(matches!(e, TlsError::KeyMismatch { .. }), "{msg}"),
                    (Wrong::Encrypted, true) => prop_assert!(matches!(e, TlsError::EncryptedKey { .. }), "{msg}"),
                    (Wrong::Der, _) => prop_assert!(matches!(e, TlsError::NotPem { .. }) && msg.contains("looks like DER"), "{msg}"),
                    _ => {}
                }
            }
        }
    }

    /// A valid pair always loads, whatever harmless formatting it comes in: CRLF line ends,
    /// text before and after the sections, a longer chain.
    #[test]
    fn valid_pairs_always_load(
        index in 0usize..3,
        crlf in any::<bool>(),
        prefix in "[a-zA-Z0-9 :,.]{0,40}",
        suffix in "[a-zA-Z0-9 :,.]{0,40}",
    ) {
        let pair = &fixtures().pairs[index];
        let dress = |pem: &[u8]| {
            let mut text = format!("{prefix}\n{}{suffix}\n", String::from_utf8_lossy(pem));
            if crlf {
                text = text.replace('\n', "\r\n");
            }
            text.into_bytes()
        };
        let loaded = parse_certified_key(&dress(&pair.cert), &dress(&pair.key), &files(), now());
        prop_assert!(loaded.is_ok(), "{}: {:?}", pair.name, loaded.err().map(|e| e.to_string()));
    }

    /// A session-ticket key file loads exactly when it is 48 or 80 bytes long.
    #[test]
    fn ticket_key_files_load_only_at_48_or_80_bytes(
        long in any::<bool>(),
        seed in any::<u8>(),
        damage in proptest::option::of(damages()),
    ) {
        let valid = vec![seed; if long { 80 } else { 48 }];
        let bytes = damage.map_or(valid.clone(), |d| Damage::apply_all(&d, &valid));
        let got = TicketKey::parse(&bytes, Path::new("/keys/t.key"));
        if bytes.len() == 48 || bytes.len() == 80 {
            prop_assert!(got.is_ok());
        } else {
            let e = got.unwrap_err();
            let ok = matches!(e, TlsError::TicketKeyLength { len, .. } if len == bytes.len() as u64);
            prop_assert!(ok, "{}", e);
            prop_assert!(e.to_string().starts_with("/keys/t.key: session ticket key must be 48 or 80 bytes"));
        }
    }
}

/// A ticket key from a seed byte, AES-128 or AES-256.
fn ticket_key(seed: u8, big: bool) -> TicketKey {
    let bytes: Vec<u8> = (0..if big { 80 } else { 48 })
        .map(|i: u8| i.wrapping_mul(31) ^ seed)
        .collect();
    TicketKey::parse(&bytes, Path::new("k")).unwrap()
}

const NOW: u64 = 1_800_000_000;
const LIFETIME: u32 = 3600;

fn ticketer(keys: Vec<TicketKey>) -> Ticketer {
    Ticketer::new(keys, LIFETIME).unwrap()
}

proptest! {
    #![proptest_config(config("prop_keys"))]

    /// Any ticket the current keys produced opens to the same state, at any time within
    /// its lifetime.
    #[test]
    fn produced_tickets_open_to_the_same_state(
        state in proptest::collection::vec(any::<u8>(), 0..2048),
        seed in any::<u8>(),
        big in any::<bool>(),
        iv in any::<[u8; 16]>(),
        age in 0u64..u64::from(LIFETIME),
    ) {
        let t = ticketer(vec![ticket_key(seed, big)]);
        let ticket = t.seal(&state, NOW, iv).unwrap();
        prop_assert_eq!(t.open(&ticket, NOW + age).unwrap(), state);
    }

    /// Any ticket not produced by the current keys is refused: a produced one damaged in
    /// any way, random bytes, one sealed under foreign keys (even with the same name), an
    /// expired one, one from too far in the future.
    #[test]
    fn tickets_not_produced_by_the_current_keys_are_refused(
        state in proptest::collection::vec(any::<u8>(), 0..512),
        seed in any::<u8>(),
        big in any::<bool>(),
        damage in damages(),
        random in proptest::collection::vec(any::<u8>(), 0..400),
        foreign_secret in any::<[u8; 32]>(),
        late in 0u64..1_000_000,
    ) {
        let key = ticket_key(seed, big);
        let t = ticketer(vec![key.clone()]);
        let ticket = t.seal(&state, NOW, [seed; 16]).unwrap();
        let damaged = Damage::apply_all(&damage, &ticket);
        if damaged != ticket {
            prop_assert!(t.open(&damaged, NOW).is_err());
        }
        prop_assert!(t.open(&random, NOW).is_err());
        let foreign = ticketer(vec![TicketKey::from_parts(
            key.name,
            foreign_secret.to_vec(),
            AesKey::Aes256(foreign_secret),
        )]);
        let forged = foreign.seal(&state, NOW, [seed; 16]).unwrap();
        prop_assert_eq!(t.open(&forged, NOW), Err(TicketRefusal::BadMac));
        prop_assert!(matches!(t.open(&ticket, NOW + u64::from(LIFETIME) + late), Err(TicketRefusal::Expired(_))));
        prop_assert!(matches!(
            t.open(&ticket, NOW - MAX_CLOCK_SKEW_SECS - 1 - late),
            Err(TicketRefusal::FromFuture(_))
        ));
    }

    /// Rotation: keys are added at the front one at a time and the oldest dropped beyond
    /// `keep`; a ticket opens exactly while the key that sealed it is still in the list,
    /// and new tickets are always sealed with the newest key.
    #[test]
    fn rotation_keeps_old_tickets_valid_until_their_key_is_removed(
        generations in 2usize..8,
        keep in 1usize..4,
        sizes in proptest::collection::vec(any::<bool>(), 8),
    ) {
        let keys: Vec<TicketKey> = (0..generations).map(|g| ticket_key(g as u8, sizes[g])).collect();
        let mut tickets = Vec::new();
        for g in 0..generations {
            // Newest first, at most `keep` keys.
            let in_service: Vec<TicketKey> = keys[..=g].iter().rev().take(keep).cloned().collect();
            let t = ticketer(in_service);
            let ticket = t.seal(&[g as u8], NOW, [0; 16]).unwrap();
            prop_assert_eq!(&ticket[..16], &keys[g].name[..]);
            tickets.push(ticket);
            for (h, old) in tickets.iter().enumerate() {
                let opened = t.open(old, NOW);
                if g - h < keep {
                    prop_assert_eq!(opened.unwrap(), vec![h as u8]);
                } else {
                    prop_assert_eq!(opened, Err(TicketRefusal::UnknownKey));
                }
            }
        }
    }
}
