//! [`ClientHelloModel`]: a whole ClientHello handshake message as typed choices.
//!
//! Wire grammar (RFC 8446 section 4.1.2, RFC 5246 section 7.4.1.2), inside a handshake
//! header `HandshakeType msg_type (1); uint24 length;`:
//!
//! ```text
//! ProtocolVersion legacy_version; Random random;
//! opaque legacy_session_id<0..32>; CipherSuite cipher_suites<2..2^16-2>;
//! opaque legacy_compression_methods<1..2^8-1>; Extension extensions<8..2^16-1>;
//! ```
//!
//! Generation picks a *profile* first (a TLS 1.3 client, a TLS 1.2 client, or free-form)
//! that decides which extensions the list starts from, then adds, duplicates and reorders
//! a few. Cipher suites start from a template (a browser's list, TLS 1.3 only, CBC-SHA
//! only, ...) and are then mutated. Every length prefix is a [`LengthMode`]. The result is
//! that about a quarter of random inputs (26% measured) complete rustls's ClientHello
//! processing and get a ServerHello (see the acceptance test), while the rest hit its error
//! paths, each for a reason the model chose.

use arbitrary::{Arbitrary, Result, Unstructured};

use super::codes::{CipherSuite, NamedGroup, ProtocolVersion, SignatureScheme};
use super::extension::{
    ByteList, CodeList, Extension, ExtensionEntry, HostName, KeyShare, KeyShareEntry, Kind, Lean,
    Opaque, ServerName, EC_POINT_UNCOMPRESSED, PSK_DHE_KE, X25519_SEED_PUBLIC,
};
use super::length::{put_prefixed, put_u16, LengthMode, Width};
use super::pick::{bytes_exact, bytes_up_to, capped, insert_anywhere, pick, rarely, small_count};

/// Handshake message type of a ClientHello.
pub const HANDSHAKE_CLIENT_HELLO: u8 = 1;
/// Longest session id encoded: 32 is the legal maximum, a few more test the check.
pub const MAX_SESSION_ID: usize = 40;
/// Most cipher suites encoded (browsers send ~16; 64 covers scanners).
pub const MAX_CIPHER_SUITES: usize = 64;
/// Most compression methods encoded (only `null` (0) is still legal).
pub const MAX_COMPRESSION_METHODS: usize = 16;
/// Most extensions encoded (browsers send ~18).
pub const MAX_EXTENSIONS: usize = 32;
/// Largest encoded ClientHello (header included): one plaintext record's worth, 2^14.
pub const MAX_HELLO_LEN: usize = 16_384;
/// Most bytes before the extensions block: header 4, version 2, random 32, session id,
/// cipher suites, compression methods, each with its prefix, and the block's own prefix.
const MAX_FIXED_PART: usize =
    4 + 2 + 32 + 1 + MAX_SESSION_ID + 2 + 2 * MAX_CIPHER_SUITES + 1 + MAX_COMPRESSION_METHODS + 2;
/// Budget for the extensions block: an extension that would overrun it is left out.
pub const MAX_EXTENSIONS_BYTES: usize = MAX_HELLO_LEN - MAX_FIXED_PART;

/// A ClientHello handshake message. [`ClientHelloModel::encode`] gives the handshake
/// message bytes (type 1, u24 length, body); wrap them in records with
/// [`super::RecordPlan`].
#[derive(Arbitrary, Debug, Clone)]
pub struct ClientHelloModel {
    /// `legacy_version` (0x0303 for every modern client).
    #[arbitrary(with = arbitrary_legacy_version)]
    pub legacy_version: ProtocolVersion,
    /// `random`.
    pub random: [u8; 32],
    /// `legacy_session_id`.
    pub session_id: SessionId,
    /// `cipher_suites`, in preference order (at most [`MAX_CIPHER_SUITES`] encoded).
    #[arbitrary(with = arbitrary_cipher_suites)]
    pub cipher_suites: Vec<CipherSuite>,
    /// The cipher_suites length prefix.
    pub cipher_suites_len: LengthMode,
    /// `legacy_compression_methods` (at most [`MAX_COMPRESSION_METHODS`] encoded).
    #[arbitrary(with = arbitrary_compression_methods)]
    pub compression_methods: Vec<u8>,
    /// The compression methods length prefix.
    pub compression_methods_len: LengthMode,
    /// The extensions, in wire order (at most [`MAX_EXTENSIONS`], within
    /// [`MAX_EXTENSIONS_BYTES`]).
    #[arbitrary(with = arbitrary_extensions)]
    pub extensions: Vec<ExtensionEntry>,
    /// The extensions block length prefix.
    pub extensions_len: LengthMode,
    /// Leave the extensions block out entirely, as SSLv3-era clients did.
    #[arbitrary(with = arbitrary_omit_extensions)]
    pub omit_extensions: bool,
    /// The handshake message's u24 length.
    pub body_len: LengthMode,
}

/// `legacy_session_id`: empty, 32 bytes (TLS 1.3 middlebox compatibility), or other.
#[derive(Debug, Clone, Default)]
pub struct SessionId {
    /// The id (at most [`MAX_SESSION_ID`] bytes encoded; over 32 is illegal).
    pub bytes: Vec<u8>,
    /// Its one-byte length prefix.
    pub len: LengthMode,
}

impl<'a> Arbitrary<'a> for SessionId {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let bytes = match pick(u, &[12, 6, 1])? {
            0 => bytes_exact(u, 32)?,
            1 => Vec::new(),
            _ => bytes_up_to(u, MAX_SESSION_ID)?,
        };
        Ok(SessionId {
            bytes,
            len: LengthMode::arbitrary(u)?,
        })
    }
}

impl ClientHelloModel {
    /// The handshake message: type 1, u24 length, body. At most [`MAX_HELLO_LEN`] bytes;
    /// never panics.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        out.push(HANDSHAKE_CLIENT_HELLO);
        put_prefixed(&mut out, Width::U24, self.body_len, |b| self.encode_body(b));
        out
    }

    /// Appends the ClientHello body.
    fn encode_body(&self, out: &mut Vec<u8>) {
        put_u16(out, self.legacy_version.code());
        out.extend_from_slice(&self.random);
        put_prefixed(out, Width::U8, self.session_id.len, |b| {
            b.extend_from_slice(capped(&self.session_id.bytes, MAX_SESSION_ID));
        });
        put_prefixed(out, Width::U16, self.cipher_suites_len, |b| {
            for suite in self.cipher_suites.iter().take(MAX_CIPHER_SUITES) {
                put_u16(b, suite.code());
            }
        });
        put_prefixed(out, Width::U8, self.compression_methods_len, |b| {
            b.extend_from_slice(capped(&self.compression_methods, MAX_COMPRESSION_METHODS));
        });
        if self.omit_extensions {
            return;
        }
        put_prefixed(out, Width::U16, self.extensions_len, |b| {
            let start = b.len();
            for entry in self.extensions.iter().take(MAX_EXTENSIONS) {
                let mark = b.len();
                entry.encode(b);
                if b.len().saturating_sub(start) > MAX_EXTENSIONS_BYTES {
                    b.truncate(mark);
                }
            }
        });
    }

    /// The first extension of `code`'s type, for tests and seeds that damage one field.
    pub fn extension_mut(&mut self, code: u16) -> Option<&mut ExtensionEntry> {
        self.extensions.iter_mut().find(|e| e.ext.code() == code)
    }
}

/// The fixed random of the constructors (seeds must be deterministic).
const SEED_RANDOM: [u8; 32] = [0x5a; 32];

/// A model with correct lengths everywhere.
fn correct_hello(
    session_id: Vec<u8>,
    cipher_suites: Vec<CipherSuite>,
    extensions: Vec<Extension>,
) -> ClientHelloModel {
    ClientHelloModel {
        legacy_version: ProtocolVersion::Tls12,
        random: SEED_RANDOM,
        session_id: SessionId {
            bytes: session_id,
            len: LengthMode::Correct,
        },
        cipher_suites,
        cipher_suites_len: LengthMode::Correct,
        compression_methods: vec![0],
        compression_methods_len: LengthMode::Correct,
        extensions: extensions.into_iter().map(ExtensionEntry::from).collect(),
        extensions_len: LengthMode::Correct,
        omit_extensions: false,
        body_len: LengthMode::Correct,
    }
}

/// A TLS 1.3 ClientHello a modern client would send: TLS 1.3 and ECDHE-ECDSA TLS 1.2
/// suites, SNI `localhost`, X25519 key share, ecdsa_secp256r1_sha256 first,
/// supported_versions `[TLS 1.3]`, psk_dhe_ke, a 32-byte session id.
pub fn well_formed_tls13() -> ClientHelloModel {
    correct_hello(
        vec![0x11; 32],
        vec![
            CipherSuite::Tls13Aes128GcmSha256,
            CipherSuite::Tls13Aes256GcmSha384,
            CipherSuite::Tls13Chacha20Poly1305Sha256,
            CipherSuite::EcdheEcdsaAes128GcmSha256,
            CipherSuite::EcdheEcdsaAes256GcmSha384,
            CipherSuite::EcdheEcdsaChacha20Poly1305,
        ],
        vec![
            Extension::ServerName(ServerName::new(HostName::Localhost)),
            Extension::SupportedGroups(CodeList::new([NamedGroup::X25519, NamedGroup::Secp256r1])),
            Extension::SignatureAlgorithms(CodeList::new([
                SignatureScheme::EcdsaSecp256r1Sha256,
                SignatureScheme::RsaPssRsaeSha256,
                SignatureScheme::Ed25519,
            ])),
            Extension::SupportedVersions(CodeList::new([ProtocolVersion::Tls13])),
            Extension::KeyShare(KeyShare::new([KeyShareEntry::x25519(X25519_SEED_PUBLIC)])),
            Extension::PskKeyExchangeModes(ByteList::new([PSK_DHE_KE])),
        ],
    )
}

/// A TLS 1.2 ClientHello (no supported_versions): ECDHE-ECDSA and ECDHE-RSA AEAD suites,
/// SNI, X25519 and P-256, uncompressed points, ecdsa_secp256r1_sha256, extended master
/// secret, empty renegotiation_info and session_ticket.
pub fn well_formed_tls12() -> ClientHelloModel {
    correct_hello(
        Vec::new(),
        vec![
            CipherSuite::EcdheEcdsaAes128GcmSha256,
            CipherSuite::EcdheEcdsaAes256GcmSha384,
            CipherSuite::EcdheEcdsaChacha20Poly1305,
            CipherSuite::EcdheRsaAes128GcmSha256,
            CipherSuite::EcdheRsaAes256GcmSha384,
        ],
        vec![
            Extension::ServerName(ServerName::new(HostName::Localhost)),
            Extension::SupportedGroups(CodeList::new([NamedGroup::X25519, NamedGroup::Secp256r1])),
            Extension::EcPointFormats(ByteList::new([EC_POINT_UNCOMPRESSED])),
            Extension::SignatureAlgorithms(CodeList::new([
                SignatureScheme::EcdsaSecp256r1Sha256,
                SignatureScheme::RsaPssRsaeSha256,
                SignatureScheme::RsaPkcs1Sha256,
            ])),
            Extension::ExtendedMasterSecret,
            Extension::RenegotiationInfo(Opaque::default()),
            Extension::SessionTicket(Vec::new()),
        ],
    )
}

/// Bug class TLS-127: a TLS 1.2 ClientHello offering only HMAC-SHA1 CBC suites (what old
/// clients and scanners send), otherwise well formed. A correct server refuses it with a
/// handshake_failure alert; the upstream server crashed building the SHA-1 HMAC.
pub fn tls12_cbc_only() -> ClientHelloModel {
    correct_hello(
        Vec::new(),
        vec![
            CipherSuite::EcdheEcdsaAes128CbcSha,
            CipherSuite::EcdheEcdsaAes256CbcSha,
            CipherSuite::EcdheRsaAes128CbcSha,
            CipherSuite::EcdheRsaAes256CbcSha,
            CipherSuite::RsaAes128CbcSha,
            CipherSuite::RsaAes256CbcSha,
        ],
        vec![
            Extension::ServerName(ServerName::new(HostName::Localhost)),
            Extension::SupportedGroups(CodeList::new([NamedGroup::X25519, NamedGroup::Secp256r1])),
            Extension::EcPointFormats(ByteList::new([EC_POINT_UNCOMPRESSED])),
            Extension::SignatureAlgorithms(CodeList::new([
                SignatureScheme::EcdsaSecp256r1Sha256,
                SignatureScheme::RsaPkcs1Sha256,
                SignatureScheme::RsaPkcs1Sha1,
                SignatureScheme::EcdsaSha1,
            ])),
        ],
    )
}

/// Mostly 0x0303, as every client since TLS 1.2 sends; sometimes older, newer or any.
fn arbitrary_legacy_version(u: &mut Unstructured<'_>) -> Result<ProtocolVersion> {
    Ok(match pick(u, &[80, 5, 3, 3, 3, 6])? {
        0 => ProtocolVersion::Tls12,
        1 => ProtocolVersion::Tls10,
        2 => ProtocolVersion::Tls11,
        3 => ProtocolVersion::Tls13,
        4 => ProtocolVersion::Ssl3,
        _ => ProtocolVersion::arbitrary(u)?,
    })
}

/// Cipher suite templates: what kinds of clients send.
const BROWSER_SUITES: &[CipherSuite] = &[
    CipherSuite::Tls13Aes128GcmSha256,
    CipherSuite::Tls13Aes256GcmSha384,
    CipherSuite::Tls13Chacha20Poly1305Sha256,
    CipherSuite::EcdheEcdsaAes128GcmSha256,
    CipherSuite::EcdheRsaAes128GcmSha256,
    CipherSuite::EcdheEcdsaAes256GcmSha384,
    CipherSuite::EcdheRsaAes256GcmSha384,
    CipherSuite::EcdheEcdsaChacha20Poly1305,
    CipherSuite::EcdheRsaChacha20Poly1305,
    CipherSuite::EcdheRsaAes128CbcSha,
    CipherSuite::EcdheRsaAes256CbcSha,
    CipherSuite::RsaAes128GcmSha256,
    CipherSuite::RsaAes128CbcSha,
    CipherSuite::RsaAes256CbcSha,
];
const TLS13_SUITES: &[CipherSuite] = &[
    CipherSuite::Tls13Aes128GcmSha256,
    CipherSuite::Tls13Aes256GcmSha384,
    CipherSuite::Tls13Chacha20Poly1305Sha256,
];
const TLS12_ECDSA_SUITES: &[CipherSuite] = &[
    CipherSuite::EcdheEcdsaAes128GcmSha256,
    CipherSuite::EcdheEcdsaAes256GcmSha384,
    CipherSuite::EcdheEcdsaChacha20Poly1305,
];
const LEGACY_SUITES: &[CipherSuite] = &[
    CipherSuite::EcdheRsaAes128GcmSha256,
    CipherSuite::EcdheRsaAes256GcmSha384,
    CipherSuite::EcdheRsaAes128CbcSha,
    CipherSuite::EcdheRsaAes256CbcSha,
    CipherSuite::RsaAes128GcmSha256,
    CipherSuite::RsaAes128CbcSha,
    CipherSuite::RsaAes256CbcSha,
    CipherSuite::Rsa3desEdeCbcSha,
    CipherSuite::EmptyRenegotiationInfoScsv,
];
const CBC_SHA_SUITES: &[CipherSuite] = &[
    CipherSuite::EcdheEcdsaAes128CbcSha,
    CipherSuite::EcdheEcdsaAes256CbcSha,
    CipherSuite::EcdheRsaAes128CbcSha,
    CipherSuite::EcdheRsaAes256CbcSha,
    CipherSuite::RsaAes128CbcSha,
    CipherSuite::RsaAes256CbcSha,
];

/// A template (browser, TLS 1.3 only, ECDSA TLS 1.2, legacy RSA, CBC-SHA only, or random),
/// then a few edits: insert any suite, remove one, or lead with GREASE.
fn arbitrary_cipher_suites(u: &mut Unstructured<'_>) -> Result<Vec<CipherSuite>> {
    let mut suites = match pick(u, &[40, 15, 10, 8, 7, 10])? {
        0 => BROWSER_SUITES.to_vec(),
        1 => TLS13_SUITES.to_vec(),
        2 => TLS12_ECDSA_SUITES.to_vec(),
        3 => LEGACY_SUITES.to_vec(),
        4 => CBC_SHA_SUITES.to_vec(),
        _ => {
            let n = u.int_in_range(1..=16)?;
            let mut v = Vec::with_capacity(n);
            for _ in 0..n {
                v.push(CipherSuite::arbitrary(u)?);
            }
            v
        }
    };
    for _ in 0..small_count(u, 6)? {
        match pick(u, &[5, 3, 2])? {
            0 => {
                let suite = CipherSuite::arbitrary(u)?;
                insert_anywhere(u, &mut suites, suite)?;
            }
            1 if !suites.is_empty() => {
                let i = u.choose_index(suites.len())?;
                if i < suites.len() {
                    suites.remove(i);
                }
            }
            _ => suites.insert(0, CipherSuite::Grease(u8::arbitrary(u)?)),
        }
    }
    suites.truncate(MAX_CIPHER_SUITES);
    Ok(suites)
}

/// Usually `[null]`; sometimes with DEFLATE, without null, empty, or anything.
fn arbitrary_compression_methods(u: &mut Unstructured<'_>) -> Result<Vec<u8>> {
    Ok(match pick(u, &[90, 3, 2, 2, 3])? {
        0 => vec![0],
        1 => vec![1, 0],
        2 => vec![1],
        3 => Vec::new(),
        _ => bytes_up_to(u, MAX_COMPRESSION_METHODS)?,
    })
}

/// About 1 hello in 85 has no extensions block.
fn arbitrary_omit_extensions(u: &mut Unstructured<'_>) -> Result<bool> {
    rarely(u, 3)
}

/// Which extensions a generated list starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Profile {
    /// A TLS 1.3 client.
    Tls13,
    /// A TLS 1.2 client.
    Tls12,
    /// Only arbitrary extensions.
    Free,
}

impl Profile {
    /// The base kinds, each with the chance (per 256) that it is present.
    fn base(self) -> &'static [(Kind, u8)] {
        const ALWAYS: u8 = 250;
        match self {
            Profile::Tls13 => &[
                (Kind::ServerName, 200),
                (Kind::ExtendedMasterSecret, 60),
                (Kind::RenegotiationInfo, 60),
                (Kind::SupportedGroups, ALWAYS),
                (Kind::EcPointFormats, 60),
                (Kind::SessionTicket, 60),
                (Kind::Alpn, 100),
                (Kind::SignatureAlgorithms, ALWAYS),
                (Kind::KeyShare, ALWAYS),
                (Kind::PskKeyExchangeModes, 180),
                (Kind::SupportedVersions, ALWAYS),
                (Kind::Cookie, 10),
                (Kind::EarlyData, 20),
                (Kind::Padding, 40),
                (Kind::PreSharedKey, 30),
            ],
            Profile::Tls12 => &[
                (Kind::ServerName, 200),
                (Kind::ExtendedMasterSecret, 150),
                (Kind::RenegotiationInfo, 150),
                (Kind::SupportedGroups, ALWAYS),
                (Kind::EcPointFormats, 150),
                (Kind::SessionTicket, 100),
                (Kind::Alpn, 60),
                (Kind::SignatureAlgorithms, ALWAYS),
                (Kind::Padding, 20),
            ],
            Profile::Free => &[],
        }
    }

    fn lean(self) -> Lean {
        match self {
            Profile::Tls13 => Lean::Tls13,
            Profile::Tls12 => Lean::Tls12,
            Profile::Free => Lean::Neutral,
        }
    }
}

/// A profile's base extensions (each present with its chance), then a few arbitrary extra
/// extensions anywhere, rarely a duplicate, and pre_shared_key moved last unless a rare
/// choice leaves it where it is.
fn arbitrary_extensions(u: &mut Unstructured<'_>) -> Result<Vec<ExtensionEntry>> {
    let profile = match pick(u, &[45, 35, 20])? {
        0 => Profile::Tls13,
        1 => Profile::Tls12,
        _ => Profile::Free,
    };
    let mut list: Vec<ExtensionEntry> = Vec::new();
    for &(kind, chance) in profile.base() {
        // Zeros keep the likely extensions and leave out the unlikely ones.
        let present = if chance >= 128 {
            !rarely(u, 255 - chance)?
        } else {
            rarely(u, chance)?
        };
        if present {
            list.push(ExtensionEntry {
                ext: Extension::arbitrary_kind(u, kind, profile.lean())?,
                len: LengthMode::arbitrary(u)?,
            });
        }
    }
    let extras = match profile {
        Profile::Free => 1 + small_count(u, MAX_EXTENSIONS / 2)?,
        _ => small_count(u, 4)?,
    };
    for _ in 0..extras {
        let entry = ExtensionEntry::arbitrary(u)?;
        // A second extension of a type already present is a duplicate; keep only a few.
        let code = entry.ext.code();
        if list.iter().any(|e| e.ext.code() == code) && !rarely(u, 16)? {
            continue;
        }
        insert_anywhere(u, &mut list, entry)?;
    }
    if !list.is_empty() && rarely(u, 6)? {
        let i = u.choose_index(list.len())?;
        if let Some(dup) = list.get(i).cloned() {
            insert_anywhere(u, &mut list, dup)?;
        }
    }
    if let Some(i) = list.iter().position(|e| e.ext.is_pre_shared_key()) {
        if !rarely(u, 16)? && i < list.len() {
            let psk = list.remove(i);
            list.push(psk);
        }
    }
    list.truncate(MAX_EXTENSIONS);
    Ok(list)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen::extension::{Alpn, AlpnName};
    use crate::gen::testutil::{drive, in_records, random_buffers, Outcome};

    fn run(hello: &ClientHelloModel) -> Outcome {
        drive(&in_records(&hello.encode()))
    }

    #[test]
    fn well_formed_tls13_is_accepted_as_tls13() {
        let out = run(&well_formed_tls13());
        assert!(out.server_hello(), "{out:?}");
        assert_eq!(out.version, Some(rustls::ProtocolVersion::TLSv1_3));
        // The ServerHello carries supported_versions = 0x0304.
        assert!(out.output.windows(6).any(|w| w == [0, 43, 0, 2, 3, 4]));
    }

    #[test]
    fn well_formed_tls12_is_accepted_as_tls12() {
        let out = run(&well_formed_tls12());
        assert!(out.server_hello(), "{out:?}");
        assert_eq!(out.version, Some(rustls::ProtocolVersion::TLSv1_2));
    }

    #[test]
    fn well_formed_hellos_with_alpn_and_padding_are_accepted() {
        let mut hello = well_formed_tls13();
        hello.extensions.insert(
            1,
            Extension::Alpn(Alpn::new([AlpnName::H2, AlpnName::Http11])).into(),
        );
        hello.extensions.push(Extension::Padding(200).into());
        assert!(run(&hello).server_hello());
    }

    #[test]
    fn tls12_cbc_only_is_refused_with_an_alert() {
        let out = run(&tls12_cbc_only());
        assert!(
            matches!(
                out.error,
                Some(rustls::Error::PeerIncompatible(
                    rustls::PeerIncompatible::NoCipherSuitesInCommon
                ))
            ),
            "{out:?}"
        );
        assert!(out.alerted(), "an alert record is queued");
        assert_eq!(
            out.output.get(5..7),
            Some(&[2, 40][..]),
            "fatal handshake_failure"
        );
    }

    /// Each deliberately wrong length gives a decode error (and a decode_error alert).
    #[test]
    fn wrong_lengths_are_decode_errors() {
        type Damage = fn(&mut ClientHelloModel, LengthMode);
        let cases: &[(&str, Damage)] = &[
            ("extensions block", |h, m| h.extensions_len = m),
            ("server_name extension", |h, m| {
                if let Some(e) = h.extension_mut(0) {
                    e.len = m;
                }
            }),
            ("server_name list", |h, m| {
                if let Some(Extension::ServerName(sni)) = h.extension_mut(0).map(|e| &mut e.ext) {
                    sni.list_len = m;
                }
            }),
            ("key_share extension", |h, m| {
                if let Some(e) = h.extension_mut(51) {
                    e.len = m;
                }
            }),
            ("key_share list", |h, m| {
                if let Some(Extension::KeyShare(ks)) = h.extension_mut(51).map(|e| &mut e.ext) {
                    ks.list_len = m;
                }
            }),
            ("key_share entry", |h, m| {
                if let Some(Extension::KeyShare(ks)) = h.extension_mut(51).map(|e| &mut e.ext) {
                    if let Some(entry) = ks.entries.first_mut() {
                        entry.len = m;
                    }
                }
            }),
            ("cipher suites", |h, m| h.cipher_suites_len = m),
            ("session id", |h, m| h.session_id.len = m),
            ("handshake body", |h, m| h.body_len = m),
        ];
        for (name, damage) in cases {
            for mode in [
                LengthMode::Delta(-1),
                LengthMode::Delta(1),
                LengthMode::Delta(-5),
                LengthMode::Delta(7),
                LengthMode::Fixed(0),
            ] {
                let mut hello = well_formed_tls13();
                damage(&mut hello, mode);
                let out = run(&hello);
                if *name == "handshake body" && matches!(mode, LengthMode::Delta(d) if d > 0) {
                    // A longer message claim just waits for bytes that never come.
                    assert!(
                        out.error.is_none() && out.output.is_empty(),
                        "{name} {mode:?}"
                    );
                    continue;
                }
                assert!(
                    matches!(out.error, Some(rustls::Error::InvalidMessage(_))),
                    "{name} {mode:?}: {out:?}"
                );
                if *name == "handshake body" && mode == LengthMode::Fixed(0) {
                    // The bytes after an empty hello read as a handshake header claiming
                    // ~200 KiB: rustls fails with HandshakePayloadTooLarge while
                    // deframing, before any message is processed, and queues no alert.
                    continue;
                }
                assert_eq!(
                    out.output.get(5..7),
                    Some(&[2, 50][..]),
                    "{name} {mode:?} {out:?}"
                );
            }
        }
    }

    /// Not every wrong length is an error: a host_name one byte short leaves the last byte
    /// where the next name_type would be, and rustls skips unknown name types to the end of
    /// the list (RFC 6066 says the rest cannot be parsed). It sees `localhos`.
    #[test]
    fn a_short_host_name_length_is_tolerated() {
        let mut hello = well_formed_tls13();
        if let Some(Extension::ServerName(sni)) = hello.extension_mut(0).map(|e| &mut e.ext) {
            sni.name_len = LengthMode::Delta(-1);
        }
        let out = run(&hello);
        assert!(out.server_hello(), "{out:?}");
        assert_eq!(out.sni.as_deref(), Some("localhos"));
    }

    #[test]
    fn encoding_is_bounded_for_huge_hand_built_models() {
        let mut hello = well_formed_tls13();
        hello.session_id.bytes = vec![1; 10_000];
        hello.cipher_suites = vec![CipherSuite::Other(7); 10_000];
        hello.compression_methods = vec![0; 10_000];
        let big = Extension::Padding(u16::MAX);
        hello.extensions = vec![big.into(); 1000];
        assert!(hello.encode().len() <= MAX_HELLO_LEN);
    }

    #[test]
    fn same_bytes_give_the_same_hello() {
        for data in random_buffers(7, 50, 2048) {
            let a = ClientHelloModel::arbitrary(&mut Unstructured::new(&data)).unwrap();
            let b = ClientHelloModel::arbitrary(&mut Unstructured::new(&data)).unwrap();
            assert_eq!(a.encode(), b.encode());
        }
    }

    #[test]
    fn exhausted_input_gives_a_hello_rustls_accepts() {
        let hello = ClientHelloModel::arbitrary(&mut Unstructured::new(&[])).unwrap();
        let out = run(&hello);
        assert!(out.server_hello(), "{hello:?}\n{out:?}");
    }

    /// Every feature the model promises shows up in 2,000 random models.
    #[test]
    fn random_models_reach_every_feature() {
        use crate::gen::extension::KeyMaterial;
        use std::collections::BTreeSet;

        let mut seen: BTreeSet<&str> = BTreeSet::new();
        let mut ext_codes: BTreeSet<u16> = BTreeSet::new();
        for data in random_buffers(0xfea7, 2000, 4096) {
            let hello = ClientHelloModel::arbitrary(&mut Unstructured::new(&data)).unwrap();
            let mut note = |cond: bool, what: &'static str| {
                if cond {
                    seen.insert(what);
                }
            };
            let suites = &hello.cipher_suites;
            note(
                suites.iter().any(|s| matches!(s, CipherSuite::Grease(_))),
                "grease suite",
            );
            note(
                suites.iter().any(|s| matches!(s, CipherSuite::Other(_))),
                "unknown suite",
            );
            note(suites == CBC_SHA_SUITES, "cbc-sha only");
            note(
                hello.legacy_version != ProtocolVersion::Tls12,
                "odd legacy version",
            );
            note(hello.session_id.bytes.len() > 32, "overlong session id");
            note(
                !hello.compression_methods.contains(&0),
                "no null compression",
            );
            note(hello.omit_extensions, "no extensions block");
            note(hello.body_len != LengthMode::Correct, "wrong body length");
            note(
                hello.extensions_len != LengthMode::Correct,
                "wrong extensions length",
            );
            note(
                hello
                    .extensions
                    .iter()
                    .any(|e| e.len != LengthMode::Correct),
                "wrong ext length",
            );
            let exts = &hello.extensions;
            ext_codes.extend(exts.iter().map(|e| e.ext.code()));
            let codes: Vec<u16> = exts.iter().map(|e| e.ext.code()).collect();
            let unique: BTreeSet<u16> = codes.iter().copied().collect();
            note(unique.len() < codes.len(), "duplicate extension");
            let psk_at = exts.iter().position(|e| e.ext.is_pre_shared_key());
            note(psk_at.is_some_and(|i| i + 1 == exts.len()), "psk last");
            note(psk_at.is_some_and(|i| i + 1 < exts.len()), "psk not last");
            for e in exts {
                match &e.ext {
                    Extension::KeyShare(ks) => {
                        for entry in &ks.entries {
                            note(matches!(entry.key, KeyMaterial::X25519(_)), "x25519 share");
                            note(entry.key == KeyMaterial::P256Generator, "p256 share");
                            note(matches!(entry.key, KeyMaterial::Bytes(_)), "raw key bytes");
                            note(entry.len != LengthMode::Correct, "wrong key length");
                        }
                    }
                    Extension::PreSharedKey(psk) => {
                        note(psk.identities.len() > 1, "several psk identities");
                        note(
                            psk.binders.len() != psk.identities.len(),
                            "binder count mismatch",
                        );
                    }
                    Extension::SupportedVersions(v) => {
                        note(v.items.contains(&ProtocolVersion::Tls12), "offers tls1.2");
                        note(
                            v.items
                                .iter()
                                .any(|x| matches!(x, ProtocolVersion::Grease(_))),
                            "grease version",
                        );
                    }
                    Extension::ServerName(sni) => {
                        note(matches!(sni.host, HostName::Raw(_)), "raw host name");
                        note(
                            sni.name_len != LengthMode::Correct,
                            "wrong host name length",
                        );
                    }
                    Extension::Raw { code, .. } => {
                        note(
                            matches!(code, crate::gen::codes::ExtensionType::Grease(_)),
                            "grease extension",
                        );
                    }
                    _ => {}
                }
            }
        }
        let want = [
            "grease suite",
            "unknown suite",
            "cbc-sha only",
            "odd legacy version",
            "overlong session id",
            "no null compression",
            "no extensions block",
            "wrong body length",
            "wrong extensions length",
            "wrong ext length",
            "duplicate extension",
            "psk last",
            "psk not last",
            "x25519 share",
            "p256 share",
            "raw key bytes",
            "wrong key length",
            "several psk identities",
            "binder count mismatch",
            "offers tls1.2",
            "grease version",
            "raw host name",
            "wrong host name length",
            "grease extension",
        ];
        let missing: Vec<_> = want.iter().filter(|w| !seen.contains(*w)).collect();
        assert!(missing.is_empty(), "never generated: {missing:?}");
        for code in [
            0, 10, 11, 13, 16, 21, 23, 35, 41, 42, 43, 44, 45, 51, 0xff01,
        ] {
            assert!(
                ext_codes.contains(&code),
                "extension {code} never generated"
            );
        }
    }

    /// The point of the model: random inputs get past parsing. Prints the measured share.
    #[test]
    fn a_fifth_of_random_models_are_accepted() {
        const N: usize = 2000;
        let mut accepted = 0;
        let mut tls13 = 0;
        let mut retries = 0;
        let mut errors: std::collections::BTreeMap<String, usize> = Default::default();
        for data in random_buffers(0x5eed, N, 4096) {
            let hello = ClientHelloModel::arbitrary(&mut Unstructured::new(&data)).unwrap();
            let bytes = hello.encode();
            assert!(bytes.len() <= MAX_HELLO_LEN);
            let out = run(&hello);
            if out.server_hello() {
                accepted += 1;
                if out.version == Some(rustls::ProtocolVersion::TLSv1_3) {
                    tls13 += 1;
                }
                if out.hello_retry_request() {
                    retries += 1;
                }
            } else {
                let key = match &out.error {
                    Some(e) => format!("{e:?}"),
                    None => "no error, no ServerHello".to_owned(),
                };
                *errors.entry(key).or_default() += 1;
            }
        }
        let share = accepted as f64 / N as f64;
        println!(
            "accepted {accepted}/{N} ({:.1}%): {tls13} as TLS 1.3 ({retries} of them a \
             HelloRetryRequest), {} as TLS 1.2",
            share * 100.0,
            accepted - tls13
        );
        let mut errors: Vec<_> = errors.into_iter().collect();
        errors.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        for (e, n) in errors.iter().take(25) {
            println!("{n:5} {e}");
        }
        assert!(share >= 0.20, "only {accepted}/{N} accepted");
    }
}
