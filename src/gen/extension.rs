//! Typed ClientHello extensions. Each [`Extension`] variant carries its payload as typed
//! fields (a list of groups, a key share with its key bytes, PSK identities and binders),
//! and every length prefix inside it is a [`LengthMode`], so a model can be right about
//! everything except one chosen length. [`ExtensionEntry`] adds the extension's own
//! `extension_data` length.
//!
//! Wire grammar (RFC 8446 section 4.2):
//! `struct { ExtensionType extension_type; opaque extension_data<0..2^16-1>; } Extension;`
//!
//! Generation leans towards what a real client sends: lists usually contain the value the
//! test server needs (X25519, ecdsa_secp256r1_sha256, TLS 1.3), and damage is the rarer
//! choice. A `Lean` (crate-private) says which handshake a list should make possible.

use arbitrary::{Arbitrary, Result, Unstructured};

use super::codes::{ExtensionType, NamedGroup, ProtocolVersion, SignatureScheme, WireCode};
use super::length::{put_prefixed, put_u16, LengthMode, Width};
use super::pick::{bytes_exact, bytes_up_to, capped, insert_anywhere, pick, rarely, small_count};

/// Most codes in one list (groups, signature schemes, versions); real clients send < 20.
pub const MAX_LIST_CODES: usize = 32;
/// Longest host name sent in SNI: 253 is the DNS limit, a little over tests the check.
pub const MAX_HOST_LEN: usize = 260;
/// Most ALPN protocol names; real clients send 1 to 3.
pub const MAX_ALPN_PROTOCOLS: usize = 8;
/// Longest ALPN protocol name (the wire allows 255; longer names add no new paths).
pub const MAX_ALPN_NAME: usize = 32;
/// Most key_share entries; real clients send 1 or 2.
pub const MAX_KEY_SHARES: usize = 4;
/// Longest key_share key: an X25519MLKEM768 share is 1216 bytes.
pub const MAX_KEY_LEN: usize = 1280;
/// Most PSK identities (and binders) in one pre_shared_key.
pub const MAX_PSK_IDENTITIES: usize = 4;
/// Longest PSK identity (rustls tickets are ~100-200 bytes).
pub const MAX_PSK_IDENTITY_LEN: usize = 256;
/// Longest PSK binder: SHA-384 binders are 48 bytes.
pub const MAX_BINDER_LEN: usize = 64;
/// Longest opaque body (cookie, renegotiation_info, session ticket, raw extension).
pub const MAX_OPAQUE_LEN: usize = 255;
/// Most entries in a one-byte-code list (ec_point_formats, psk_key_exchange_modes).
pub const MAX_BYTE_LIST: usize = 16;
/// Most zero bytes in a padding extension (clients pad to ~512 bytes).
pub const MAX_PADDING: usize = 1024;

/// The uncompressed secp256r1 base point `04 || Gx || Gy` (SEC 2): a valid P-256 public
/// key that needs no curve arithmetic to produce.
pub const P256_GENERATOR: [u8; 65] = [
    0x04, 0x6b, 0x17, 0xd1, 0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63, 0xa4, 0x40,
    0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33, 0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2,
    0x96, 0x4f, 0xe3, 0x42, 0xe2, 0xfe, 0x1a, 0x7f, 0x9b, 0x8e, 0xe7, 0xeb, 0x4a, 0x7c, 0x0f, 0x9e,
    0x16, 0x2b, 0xce, 0x33, 0x57, 0x6b, 0x31, 0x5e, 0xce, 0xcb, 0xb6, 0x40, 0x68, 0x37, 0xbf, 0x51,
    0xf5,
];

/// An X25519 public value: RFC 7748 section 6.1, Alice's public key. Generated X25519
/// shares are this XOR input bytes, so input that reads as zeros still gives a usable share
/// (the all-zero value is a low-order point every server must refuse), while random input
/// gives uniformly random shares.
pub const X25519_SEED_PUBLIC: [u8; 32] = [
    0x85, 0x20, 0xf0, 0x09, 0x89, 0x30, 0xa7, 0x54, 0x74, 0x8b, 0x7d, 0xdc, 0xb4, 0x3e, 0xf7, 0x5a,
    0x0d, 0xbf, 0x3a, 0x0d, 0x26, 0x38, 0x1a, 0xf4, 0xeb, 0xa4, 0xa9, 0x8e, 0xaa, 0x9b, 0x4e, 0x6a,
];

/// 32 input bytes XOR [`X25519_SEED_PUBLIC`].
fn arbitrary_x25519(u: &mut Unstructured<'_>) -> Result<[u8; 32]> {
    let mut key = <[u8; 32]>::arbitrary(u)?;
    for (k, s) in key.iter_mut().zip(X25519_SEED_PUBLIC.iter()) {
        *k ^= s;
    }
    Ok(key)
}

/// ec_point_formats value `uncompressed` (the only one rustls accepts).
pub const EC_POINT_UNCOMPRESSED: u8 = 0;
/// psk_key_exchange_modes value `psk_dhe_ke`.
pub const PSK_DHE_KE: u8 = 1;

/// One extension with its `extension_data` length.
#[derive(Arbitrary, Debug, Clone)]
pub struct ExtensionEntry {
    /// Type and typed body.
    pub ext: Extension,
    /// The `extension_data` length prefix.
    pub len: LengthMode,
}

impl ExtensionEntry {
    /// Appends `extension_type`, the length and the body.
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_u16(out, self.ext.code());
        put_prefixed(out, Width::U16, self.len, |b| self.ext.encode_body(b));
    }
}

impl From<Extension> for ExtensionEntry {
    fn from(ext: Extension) -> Self {
        ExtensionEntry {
            ext,
            len: LengthMode::Correct,
        }
    }
}

/// A ClientHello extension with a typed body.
#[derive(Debug, Clone)]
pub enum Extension {
    /// server_name (0), RFC 6066.
    ServerName(ServerName),
    /// supported_groups (10): `NamedGroup named_group_list<2..2^16-1>`.
    SupportedGroups(CodeList<NamedGroup>),
    /// ec_point_formats (11): `ECPointFormat ec_point_format_list<1..2^8-1>`.
    EcPointFormats(ByteList),
    /// signature_algorithms (13): `SignatureScheme supported_signature_algorithms<2..2^16-2>`.
    SignatureAlgorithms(CodeList<SignatureScheme>),
    /// application_layer_protocol_negotiation (16), RFC 7301.
    Alpn(Alpn),
    /// padding (21), RFC 7685: this many zero bytes.
    Padding(u16),
    /// extended_master_secret (23), RFC 7627: empty body.
    ExtendedMasterSecret,
    /// session_ticket (35), RFC 5077: empty (a request) or an opaque ticket.
    SessionTicket(Vec<u8>),
    /// pre_shared_key (41): identities and binders. Must be the last extension.
    PreSharedKey(PreSharedKey),
    /// early_data (42): empty body.
    EarlyData,
    /// supported_versions (43): `ProtocolVersion versions<2..254>` (one-byte length).
    SupportedVersions(CodeList<ProtocolVersion>),
    /// cookie (44): `opaque cookie<1..2^16-1>`.
    Cookie(Opaque),
    /// psk_key_exchange_modes (45): `PskKeyExchangeMode ke_modes<1..255>`.
    PskKeyExchangeModes(ByteList),
    /// key_share (51): `KeyShareEntry client_shares<0..2^16-1>`.
    KeyShare(KeyShare),
    /// renegotiation_info (0xff01), RFC 5746: `opaque renegotiated_connection<0..255>`.
    RenegotiationInfo(Opaque),
    /// Any type with an untyped body: unknown types, GREASE, or a known type whose body
    /// is raw bytes rather than its grammar.
    Raw {
        /// The extension type.
        code: ExtensionType,
        /// The body, sent as is.
        body: Vec<u8>,
    },
}

/// Which handshake a generated extension should make possible (crate-private: it steers
/// generation and is not part of the model).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lean {
    /// Lists contain what a TLS 1.3 handshake with the test server needs.
    Tls13,
    /// Lists contain what a TLS 1.2 ECDHE-ECDSA handshake needs.
    Tls12,
    /// No steering.
    Neutral,
}

/// The kinds of [`Extension`], for choosing one before generating its body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    ServerName,
    SupportedGroups,
    EcPointFormats,
    SignatureAlgorithms,
    Alpn,
    Padding,
    ExtendedMasterSecret,
    SessionTicket,
    PreSharedKey,
    EarlyData,
    SupportedVersions,
    Cookie,
    PskKeyExchangeModes,
    KeyShare,
    RenegotiationInfo,
    Raw,
}

impl Kind {
    /// Every kind with its weight when an extension is chosen freely.
    const WEIGHTED: &'static [(Kind, u16)] = &[
        (Kind::ServerName, 6),
        (Kind::SupportedGroups, 6),
        (Kind::EcPointFormats, 4),
        (Kind::SignatureAlgorithms, 6),
        (Kind::Alpn, 5),
        (Kind::Padding, 3),
        (Kind::ExtendedMasterSecret, 4),
        (Kind::SessionTicket, 4),
        (Kind::PreSharedKey, 4),
        (Kind::EarlyData, 3),
        (Kind::SupportedVersions, 6),
        (Kind::Cookie, 3),
        (Kind::PskKeyExchangeModes, 4),
        (Kind::KeyShare, 6),
        (Kind::RenegotiationInfo, 4),
        (Kind::Raw, 12),
    ];
}

impl Extension {
    /// The extension_type code.
    pub fn code(&self) -> u16 {
        match self {
            Extension::ServerName(_) => 0,
            Extension::SupportedGroups(_) => 10,
            Extension::EcPointFormats(_) => 11,
            Extension::SignatureAlgorithms(_) => 13,
            Extension::Alpn(_) => 16,
            Extension::Padding(_) => 21,
            Extension::ExtendedMasterSecret => 23,
            Extension::SessionTicket(_) => 35,
            Extension::PreSharedKey(_) => 41,
            Extension::EarlyData => 42,
            Extension::SupportedVersions(_) => 43,
            Extension::Cookie(_) => 44,
            Extension::PskKeyExchangeModes(_) => 45,
            Extension::KeyShare(_) => 51,
            Extension::RenegotiationInfo(_) => 0xff01,
            Extension::Raw { code, .. } => code.code(),
        }
    }

    /// Appends the `extension_data` (without its length).
    pub fn encode_body(&self, out: &mut Vec<u8>) {
        match self {
            Extension::ServerName(sni) => sni.encode(out),
            Extension::SupportedGroups(list) => list.encode(Width::U16, out),
            Extension::EcPointFormats(list) => list.encode(out),
            Extension::SignatureAlgorithms(list) => list.encode(Width::U16, out),
            Extension::Alpn(alpn) => alpn.encode(out),
            Extension::Padding(n) => {
                let n = usize::from(*n).min(MAX_PADDING);
                out.resize(out.len() + n, 0);
            }
            Extension::ExtendedMasterSecret | Extension::EarlyData => {}
            Extension::SessionTicket(ticket) => {
                out.extend_from_slice(capped(ticket, MAX_OPAQUE_LEN));
            }
            Extension::PreSharedKey(psk) => psk.encode(out),
            Extension::SupportedVersions(list) => list.encode(Width::U8, out),
            Extension::Cookie(cookie) => cookie.encode(Width::U16, out),
            Extension::PskKeyExchangeModes(list) => list.encode(out),
            Extension::KeyShare(shares) => shares.encode(out),
            Extension::RenegotiationInfo(info) => info.encode(Width::U8, out),
            Extension::Raw { body, .. } => out.extend_from_slice(capped(body, MAX_OPAQUE_LEN)),
        }
    }

    /// Whether this is the pre_shared_key extension (which must come last).
    pub fn is_pre_shared_key(&self) -> bool {
        matches!(self, Extension::PreSharedKey(_))
    }

    /// An extension of `kind` whose lists lean towards `lean`.
    pub(crate) fn arbitrary_kind(u: &mut Unstructured<'_>, kind: Kind, lean: Lean) -> Result<Self> {
        Ok(match kind {
            Kind::ServerName => Extension::ServerName(ServerName::arbitrary(u)?),
            Kind::SupportedGroups => {
                let required = match lean {
                    Lean::Tls13 => Some(NamedGroup::X25519),
                    Lean::Tls12 => Some(if bool::arbitrary(u)? {
                        NamedGroup::Secp256r1
                    } else {
                        NamedGroup::X25519
                    }),
                    Lean::Neutral => None,
                };
                Extension::SupportedGroups(CodeList::arbitrary_with(u, required)?)
            }
            Kind::EcPointFormats => {
                Extension::EcPointFormats(ByteList::arbitrary_with(u, EC_POINT_UNCOMPRESSED)?)
            }
            Kind::SignatureAlgorithms => {
                let required =
                    (lean != Lean::Neutral).then_some(SignatureScheme::EcdsaSecp256r1Sha256);
                Extension::SignatureAlgorithms(CodeList::arbitrary_with(u, required)?)
            }
            Kind::Alpn => Extension::Alpn(Alpn::arbitrary(u)?),
            Kind::Padding => {
                let n = match pick(u, &[6, 2])? {
                    0 => u.int_in_range(0..=255)?,
                    _ => u.int_in_range(0..=MAX_PADDING)?,
                };
                Extension::Padding(u16::try_from(n).unwrap_or(0))
            }
            Kind::ExtendedMasterSecret => Extension::ExtendedMasterSecret,
            Kind::SessionTicket => Extension::SessionTicket(match pick(u, &[7, 3])? {
                0 => Vec::new(),
                _ => bytes_up_to(u, MAX_OPAQUE_LEN)?,
            }),
            Kind::PreSharedKey => Extension::PreSharedKey(PreSharedKey::arbitrary(u)?),
            Kind::EarlyData => Extension::EarlyData,
            Kind::SupportedVersions => {
                let required = match lean {
                    Lean::Tls13 => Some(ProtocolVersion::Tls13),
                    Lean::Tls12 => Some(ProtocolVersion::Tls12),
                    Lean::Neutral => None,
                };
                Extension::SupportedVersions(CodeList::arbitrary_with(u, required)?)
            }
            Kind::Cookie => Extension::Cookie(Opaque {
                bytes: match pick(u, &[8, 1])? {
                    0 => {
                        let n = u.int_in_range(1..=MAX_OPAQUE_LEN)?;
                        bytes_exact(u, n)?
                    }
                    _ => Vec::new(),
                },
                len: LengthMode::arbitrary(u)?,
            }),
            Kind::PskKeyExchangeModes => {
                Extension::PskKeyExchangeModes(ByteList::arbitrary_with(u, PSK_DHE_KE)?)
            }
            Kind::KeyShare => Extension::KeyShare(KeyShare::arbitrary_with(u, lean)?),
            Kind::RenegotiationInfo => Extension::RenegotiationInfo(Opaque {
                bytes: match pick(u, &[9, 1])? {
                    0 => Vec::new(),
                    _ => bytes_up_to(u, 48)?,
                },
                len: LengthMode::arbitrary(u)?,
            }),
            Kind::Raw => Extension::Raw {
                code: ExtensionType::arbitrary(u)?,
                body: match pick(u, &[4, 4, 1])? {
                    0 => Vec::new(),
                    1 => bytes_up_to(u, 16)?,
                    _ => bytes_up_to(u, MAX_OPAQUE_LEN)?,
                },
            },
        })
    }
}

/// Kind chosen by weight, no steering.
impl<'a> Arbitrary<'a> for Extension {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let weights: Vec<u16> = Kind::WEIGHTED.iter().map(|(_, w)| *w).collect();
        let kind = Kind::WEIGHTED
            .get(pick(u, &weights)?)
            .map_or(Kind::Raw, |(k, _)| *k);
        Extension::arbitrary_kind(u, kind, Lean::Neutral)
    }
}

/// A list of two-byte codes with its length prefix.
#[derive(Debug, Clone)]
pub struct CodeList<T> {
    /// The codes, in order (at most [`MAX_LIST_CODES`] are encoded).
    pub items: Vec<T>,
    /// The list's length prefix (two bytes, or one for supported_versions).
    pub len: LengthMode,
}

impl<T: WireCode> CodeList<T> {
    /// A list with a correct length.
    pub fn new(items: impl Into<Vec<T>>) -> Self {
        CodeList {
            items: items.into(),
            len: LengthMode::Correct,
        }
    }

    /// Appends the prefixed list.
    pub fn encode(&self, width: Width, out: &mut Vec<u8>) {
        put_prefixed(out, width, self.len, |b| {
            for item in self.items.iter().take(MAX_LIST_CODES) {
                put_u16(b, item.wire_code());
            }
        });
    }
}

impl<'a, T: WireCode + Arbitrary<'a>> CodeList<T> {
    /// A few arbitrary codes, with `required` somewhere among them unless a rare choice
    /// leaves it out; with nothing required the list is usually non-empty.
    pub(crate) fn arbitrary_with(u: &mut Unstructured<'a>, required: Option<T>) -> Result<Self> {
        let n = small_count(u, MAX_LIST_CODES)?;
        let mut items = Vec::with_capacity(n + 1);
        for _ in 0..n {
            items.push(T::arbitrary(u)?);
        }
        match required {
            Some(item) if !rarely(u, 6)? => insert_first_or_anywhere(u, &mut items, item)?,
            None if items.is_empty() && !rarely(u, 8)? => items.push(T::arbitrary(u)?),
            _ => {}
        }
        Ok(CodeList {
            items,
            len: LengthMode::arbitrary(u)?,
        })
    }
}

impl<'a, T: WireCode + Arbitrary<'a>> Arbitrary<'a> for CodeList<T> {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        CodeList::arbitrary_with(u, None)
    }
}

/// Inserts `item` first (like a client listing its preference) three times in four,
/// anywhere otherwise.
fn insert_first_or_anywhere<T>(
    u: &mut Unstructured<'_>,
    items: &mut Vec<T>,
    item: T,
) -> Result<()> {
    if pick(u, &[3, 1])? == 0 {
        items.insert(0, item);
        Ok(())
    } else {
        insert_anywhere(u, items, item)
    }
}

/// A list of one-byte codes with a one-byte length (ec_point_formats, psk_key_exchange_modes).
#[derive(Debug, Clone)]
pub struct ByteList {
    /// The codes (at most [`MAX_BYTE_LIST`] are encoded).
    pub items: Vec<u8>,
    /// The one-byte length prefix.
    pub len: LengthMode,
}

impl ByteList {
    /// A list with a correct length.
    pub fn new(items: impl Into<Vec<u8>>) -> Self {
        ByteList {
            items: items.into(),
            len: LengthMode::Correct,
        }
    }

    /// Appends the prefixed list.
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_prefixed(out, Width::U8, self.len, |b| {
            b.extend_from_slice(capped(&self.items, MAX_BYTE_LIST));
        });
    }

    /// Usually exactly `[usual]`; sometimes other codes around it, without it, or empty.
    pub(crate) fn arbitrary_with(u: &mut Unstructured<'_>, usual: u8) -> Result<Self> {
        let items = match pick(u, &[12, 2, 1, 1])? {
            0 => vec![usual],
            1 => {
                let mut items = bytes_up_to(u, 3)?;
                insert_anywhere(u, &mut items, usual)?;
                items
            }
            2 => Vec::new(),
            _ => bytes_up_to(u, MAX_BYTE_LIST)?,
        };
        Ok(ByteList {
            items,
            len: LengthMode::arbitrary(u)?,
        })
    }
}

/// Opaque bytes behind a length prefix (cookie: two bytes; renegotiation_info: one).
#[derive(Debug, Clone, Default)]
pub struct Opaque {
    /// The bytes (at most [`MAX_OPAQUE_LEN`] are encoded).
    pub bytes: Vec<u8>,
    /// The length prefix.
    pub len: LengthMode,
}

impl Opaque {
    /// Appends the prefixed bytes.
    pub fn encode(&self, width: Width, out: &mut Vec<u8>) {
        put_prefixed(out, width, self.len, |b| {
            b.extend_from_slice(capped(&self.bytes, MAX_OPAQUE_LEN));
        });
    }
}

/// server_name: `ServerName server_name_list<1..2^16-1>` holding one
/// `struct { NameType name_type; opaque HostName<1..2^16-1>; }`.
#[derive(Debug, Clone)]
pub struct ServerName {
    /// `name_type`: 0 is host_name, the only one defined.
    pub name_type: u8,
    /// The name.
    pub host: HostName,
    /// The server_name_list length prefix.
    pub list_len: LengthMode,
    /// The HostName length prefix.
    pub name_len: LengthMode,
}

impl ServerName {
    /// A correct host_name entry for `host`.
    pub fn new(host: HostName) -> Self {
        ServerName {
            name_type: 0,
            host,
            list_len: LengthMode::Correct,
            name_len: LengthMode::Correct,
        }
    }

    /// Appends the server_name_list.
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_prefixed(out, Width::U16, self.list_len, |b| {
            b.push(self.name_type);
            put_prefixed(b, Width::U16, self.name_len, |b| {
                b.extend_from_slice(capped(self.host.as_bytes(), MAX_HOST_LEN));
            });
        });
    }
}

impl<'a> Arbitrary<'a> for ServerName {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let name_type = if rarely(u, 6)? { u8::arbitrary(u)? } else { 0 };
        Ok(ServerName {
            name_type,
            host: HostName::arbitrary(u)?,
            list_len: LengthMode::arbitrary(u)?,
            name_len: LengthMode::arbitrary(u)?,
        })
    }
}

/// A host name for SNI.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostName {
    /// `localhost`, the name on the test and dev certificates.
    Localhost,
    /// `example.com`.
    ExampleCom,
    /// A name drawn from `[a-z0-9.]`, starting with a letter, no empty labels: valid
    /// except for a rare all-numeric last label (which reads as an IP address).
    Dns(String),
    /// `127.0.0.1`: an IP literal, which RFC 6066 forbids in SNI.
    Ipv4Literal,
    /// Any bytes, including empty and non-ASCII.
    Raw(Vec<u8>),
}

impl HostName {
    /// The bytes sent.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            HostName::Localhost => b"localhost",
            HostName::ExampleCom => b"example.com",
            HostName::Dns(name) => name.as_bytes(),
            HostName::Ipv4Literal => b"127.0.0.1",
            HostName::Raw(bytes) => bytes,
        }
    }
}

impl<'a> Arbitrary<'a> for HostName {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        // A dot about one time in ten, a letter or digit otherwise.
        const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyzabcdefghij0123456789.....";
        Ok(match pick(u, &[50, 15, 20, 5, 5])? {
            0 => HostName::Localhost,
            1 => HostName::ExampleCom,
            2 => {
                let raw = bytes_up_to(u, 40)?;
                let mut name = String::from("a");
                for b in raw {
                    let i = usize::from(b) % ALPHABET.len();
                    let c = char::from(ALPHABET.get(i).copied().unwrap_or(b'a'));
                    // No empty labels: those are what `Raw` is for.
                    if !(c == '.' && name.ends_with('.')) {
                        name.push(c);
                    }
                }
                HostName::Dns(name)
            }
            3 => HostName::Ipv4Literal,
            _ => HostName::Raw(bytes_up_to(u, MAX_HOST_LEN)?),
        })
    }
}

/// ALPN: `ProtocolName protocol_name_list<2..2^16-1>`.
#[derive(Debug, Clone)]
pub struct Alpn {
    /// The offered protocols (at most [`MAX_ALPN_PROTOCOLS`] are encoded).
    pub protocols: Vec<AlpnProtocol>,
    /// The list's length prefix.
    pub list_len: LengthMode,
}

impl Alpn {
    /// A correct list of `names`.
    pub fn new(names: impl IntoIterator<Item = AlpnName>) -> Self {
        Alpn {
            protocols: names
                .into_iter()
                .map(|name| AlpnProtocol {
                    name,
                    len: LengthMode::Correct,
                })
                .collect(),
            list_len: LengthMode::Correct,
        }
    }

    /// Appends the prefixed list.
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_prefixed(out, Width::U16, self.list_len, |b| {
            for p in self.protocols.iter().take(MAX_ALPN_PROTOCOLS) {
                put_prefixed(b, Width::U8, p.len, |b| p.name.encode(b));
            }
        });
    }
}

impl<'a> Arbitrary<'a> for Alpn {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let n = 1 + small_count(u, MAX_ALPN_PROTOCOLS - 1)?;
        let mut protocols = Vec::with_capacity(n);
        for _ in 0..n {
            protocols.push(AlpnProtocol::arbitrary(u)?);
        }
        Ok(Alpn {
            protocols,
            list_len: LengthMode::arbitrary(u)?,
        })
    }
}

/// One ALPN `opaque ProtocolName<1..2^8-1>`.
#[derive(Arbitrary, Debug, Clone)]
pub struct AlpnProtocol {
    /// The name.
    pub name: AlpnName,
    /// Its one-byte length prefix.
    pub len: LengthMode,
}

/// An ALPN protocol name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AlpnName {
    /// `h2`.
    H2,
    /// `http/1.1`.
    Http11,
    /// A two-byte GREASE name (RFC 8701), nibble mod 16.
    Grease(u8),
    /// Any bytes, including empty (which the grammar forbids).
    Raw(Vec<u8>),
}

impl AlpnName {
    /// Appends the name's bytes (at most [`MAX_ALPN_NAME`]).
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            AlpnName::H2 => out.extend_from_slice(b"h2"),
            AlpnName::Http11 => out.extend_from_slice(b"http/1.1"),
            AlpnName::Grease(n) => put_u16(out, super::codes::grease(*n)),
            AlpnName::Raw(bytes) => out.extend_from_slice(capped(bytes, MAX_ALPN_NAME)),
        }
    }
}

impl<'a> Arbitrary<'a> for AlpnName {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(match pick(u, &[10, 8, 2, 3])? {
            0 => AlpnName::H2,
            1 => AlpnName::Http11,
            2 => AlpnName::Grease(u8::arbitrary(u)?),
            _ => AlpnName::Raw(bytes_up_to(u, MAX_ALPN_NAME)?),
        })
    }
}

/// key_share: `KeyShareEntry client_shares<0..2^16-1>`.
#[derive(Debug, Clone)]
pub struct KeyShare {
    /// The entries (at most [`MAX_KEY_SHARES`] are encoded).
    pub entries: Vec<KeyShareEntry>,
    /// The client_shares length prefix.
    pub list_len: LengthMode,
}

impl KeyShare {
    /// A correct list of `entries`.
    pub fn new(entries: impl Into<Vec<KeyShareEntry>>) -> Self {
        KeyShare {
            entries: entries.into(),
            list_len: LengthMode::Correct,
        }
    }

    /// Appends the prefixed list.
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_prefixed(out, Width::U16, self.list_len, |b| {
            for entry in self.entries.iter().take(MAX_KEY_SHARES) {
                entry.encode(b);
            }
        });
    }

    /// With a lean towards TLS 1.3: a well-formed X25519 share (usually first) plus a few
    /// arbitrary ones. Otherwise: a few arbitrary shares.
    pub(crate) fn arbitrary_with(u: &mut Unstructured<'_>, lean: Lean) -> Result<Self> {
        let n = small_count(u, MAX_KEY_SHARES)?;
        let must_have_x25519 = lean == Lean::Tls13 && !rarely(u, 6)?;
        let mut entries = Vec::with_capacity(n + 1);
        for _ in 0..n {
            let entry = KeyShareEntry::arbitrary(u)?;
            // Two shares for one group is an error; leave most such extras out.
            if must_have_x25519 && entry.group == NamedGroup::X25519 && !rarely(u, 16)? {
                continue;
            }
            entries.push(entry);
        }
        if must_have_x25519 {
            let entry = KeyShareEntry::x25519(arbitrary_x25519(u)?);
            insert_first_or_anywhere(u, &mut entries, entry)?;
        }
        Ok(KeyShare {
            entries,
            list_len: LengthMode::arbitrary(u)?,
        })
    }
}

/// `struct { NamedGroup group; opaque key_exchange<1..2^16-1>; } KeyShareEntry`.
#[derive(Debug, Clone)]
pub struct KeyShareEntry {
    /// The group named on the wire (need not match the key material).
    pub group: NamedGroup,
    /// The key bytes.
    pub key: KeyMaterial,
    /// The key_exchange length prefix.
    pub len: LengthMode,
}

impl KeyShareEntry {
    /// A correct X25519 entry with `key` as the public value.
    pub fn x25519(key: [u8; 32]) -> Self {
        KeyShareEntry {
            group: NamedGroup::X25519,
            key: KeyMaterial::X25519(key),
            len: LengthMode::Correct,
        }
    }

    /// Appends group, length and key.
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_u16(out, self.group.code());
        put_prefixed(out, Width::U16, self.len, |b| self.key.encode(b));
    }
}

impl<'a> Arbitrary<'a> for KeyShareEntry {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let (group, key) = match pick(u, &[12, 3, 2, 3])? {
            // Well-formed X25519: every 32-byte string is a public value.
            0 => (
                NamedGroup::X25519,
                KeyMaterial::X25519(arbitrary_x25519(u)?),
            ),
            // Well-formed P-256: the base point.
            1 => (NamedGroup::Secp256r1, KeyMaterial::P256Generator),
            // Right length for an arbitrary group, arbitrary (so probably invalid) content.
            2 => {
                let group = NamedGroup::arbitrary(u)?;
                let key = bytes_exact(u, natural_key_len(group))?;
                (group, KeyMaterial::Bytes(key))
            }
            // Damaged: any length, usually under an X25519 label.
            _ => {
                let group = if rarely(u, 64)? {
                    NamedGroup::arbitrary(u)?
                } else {
                    NamedGroup::X25519
                };
                (group, KeyMaterial::Bytes(bytes_up_to(u, 80)?))
            }
        };
        Ok(KeyShareEntry {
            group,
            key,
            len: LengthMode::arbitrary(u)?,
        })
    }
}

/// The public-value length for `group` (RFC 8446 section 4.2.8.2, RFC 7919, the
/// X25519MLKEM768 draft); 32 for codes with no defined length.
pub fn natural_key_len(group: NamedGroup) -> usize {
    match group {
        NamedGroup::X25519 => 32,
        NamedGroup::Secp256r1 => 65,
        NamedGroup::Secp384r1 => 97,
        NamedGroup::Secp521r1 => 133,
        NamedGroup::X448 => 56,
        NamedGroup::Ffdhe2048 => 256,
        NamedGroup::X25519Mlkem768 => 1216,
        NamedGroup::Grease(_) | NamedGroup::Other(_) => 32,
    }
}

/// The key bytes of a key_share entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyMaterial {
    /// A 32-byte X25519 public value (well-formed: every such string is one).
    X25519([u8; 32]),
    /// The P-256 base point, [`P256_GENERATOR`].
    P256Generator,
    /// Any bytes (at most [`MAX_KEY_LEN`]): wrong length, or right length with content the
    /// group will probably reject.
    Bytes(Vec<u8>),
}

impl KeyMaterial {
    /// Appends the key bytes.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            KeyMaterial::X25519(key) => out.extend_from_slice(key),
            KeyMaterial::P256Generator => out.extend_from_slice(&P256_GENERATOR),
            KeyMaterial::Bytes(bytes) => out.extend_from_slice(capped(bytes, MAX_KEY_LEN)),
        }
    }
}

/// pre_shared_key: `struct { PskIdentity identities<7..2^16-1>; PskBinderEntry
/// binders<33..2^16-1>; } OfferedPsks`.
#[derive(Debug, Clone)]
pub struct PreSharedKey {
    /// The identities (at most [`MAX_PSK_IDENTITIES`] are encoded).
    pub identities: Vec<PskIdentity>,
    /// The binders (at most [`MAX_PSK_IDENTITIES`]); RFC 8446 wants one per identity.
    pub binders: Vec<PskBinder>,
    /// The identities length prefix.
    pub identities_len: LengthMode,
    /// The binders length prefix.
    pub binders_len: LengthMode,
}

impl PreSharedKey {
    /// Appends identities then binders.
    pub fn encode(&self, out: &mut Vec<u8>) {
        put_prefixed(out, Width::U16, self.identities_len, |b| {
            for id in self.identities.iter().take(MAX_PSK_IDENTITIES) {
                put_prefixed(b, Width::U16, id.len, |b| {
                    b.extend_from_slice(capped(&id.identity, MAX_PSK_IDENTITY_LEN));
                });
                b.extend_from_slice(&id.obfuscated_ticket_age.to_be_bytes());
            }
        });
        put_prefixed(out, Width::U16, self.binders_len, |b| {
            for binder in self.binders.iter().take(MAX_PSK_IDENTITIES) {
                put_prefixed(b, Width::U8, binder.len, |b| {
                    b.extend_from_slice(capped(&binder.bytes, MAX_BINDER_LEN));
                });
            }
        });
    }
}

impl<'a> Arbitrary<'a> for PreSharedKey {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let n = match pick(u, &[12, 3, 1])? {
            0 => 1,
            1 => u.int_in_range(2..=MAX_PSK_IDENTITIES)?,
            _ => 0,
        };
        let mut identities = Vec::with_capacity(n);
        for _ in 0..n {
            let identity = match pick(u, &[12, 1])? {
                0 => {
                    let len = u.int_in_range(1..=MAX_PSK_IDENTITY_LEN)?;
                    bytes_exact(u, len)?
                }
                _ => Vec::new(),
            };
            identities.push(PskIdentity {
                identity,
                obfuscated_ticket_age: u32::arbitrary(u)?,
                len: LengthMode::arbitrary(u)?,
            });
        }
        let binders_n = if rarely(u, 12)? {
            u.int_in_range(0..=MAX_PSK_IDENTITIES)?
        } else {
            n
        };
        let mut binders = Vec::with_capacity(binders_n);
        for _ in 0..binders_n {
            let len = match pick(u, &[10, 4, 2])? {
                0 => 32,
                1 => 48,
                _ => u.int_in_range(0..=MAX_BINDER_LEN)?,
            };
            binders.push(PskBinder {
                bytes: bytes_exact(u, len)?,
                len: LengthMode::arbitrary(u)?,
            });
        }
        Ok(PreSharedKey {
            identities,
            binders,
            identities_len: LengthMode::arbitrary(u)?,
            binders_len: LengthMode::arbitrary(u)?,
        })
    }
}

/// `struct { opaque identity<1..2^16-1>; uint32 obfuscated_ticket_age; } PskIdentity`.
#[derive(Debug, Clone)]
pub struct PskIdentity {
    /// The ticket or external PSK label (at most [`MAX_PSK_IDENTITY_LEN`] bytes).
    pub identity: Vec<u8>,
    /// The obfuscated ticket age.
    pub obfuscated_ticket_age: u32,
    /// The identity's length prefix.
    pub len: LengthMode,
}

/// `opaque PskBinderEntry<32..255>`.
#[derive(Debug, Clone)]
pub struct PskBinder {
    /// The binder MAC (at most [`MAX_BINDER_LEN`] bytes).
    pub bytes: Vec<u8>,
    /// Its one-byte length prefix.
    pub len: LengthMode,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoded(entry: impl Into<ExtensionEntry>) -> Vec<u8> {
        let mut out = Vec::new();
        entry.into().encode(&mut out);
        out
    }

    #[test]
    fn server_name_matches_rfc_6066_layout() {
        let sni = Extension::ServerName(ServerName::new(HostName::Localhost));
        let mut want = vec![0, 0, 0, 14, 0, 12, 0, 0, 9];
        want.extend_from_slice(b"localhost");
        assert_eq!(encoded(sni), want);
    }

    #[test]
    fn key_share_matches_rfc_8446_layout() {
        let ks = Extension::KeyShare(KeyShare::new([KeyShareEntry::x25519([7; 32])]));
        let out = encoded(ks);
        assert_eq!(out.get(..8), Some(&[0, 51, 0, 38, 0, 36, 0, 0x1d][..]));
        assert_eq!(out.get(8..10), Some(&[0, 32][..]));
        assert_eq!(out.len(), 4 + 2 + 4 + 32);
    }

    #[test]
    fn supported_versions_uses_a_one_byte_length() {
        let sv = Extension::SupportedVersions(CodeList::new([ProtocolVersion::Tls13]));
        assert_eq!(encoded(sv), [0, 43, 0, 3, 2, 3, 4]);
    }

    #[test]
    fn pre_shared_key_layout() {
        let psk = Extension::PreSharedKey(PreSharedKey {
            identities: vec![PskIdentity {
                identity: vec![1, 2, 3],
                obfuscated_ticket_age: 0x0a0b0c0d,
                len: LengthMode::Correct,
            }],
            binders: vec![PskBinder {
                bytes: vec![9; 32],
                len: LengthMode::Correct,
            }],
            identities_len: LengthMode::Correct,
            binders_len: LengthMode::Correct,
        });
        let out = encoded(psk);
        assert_eq!(
            out.get(..15),
            Some(&[0, 41, 0, 46, 0, 9, 0, 3, 1, 2, 3, 0x0a, 0x0b, 0x0c, 0x0d][..])
        );
        assert_eq!(out.get(15..18), Some(&[0, 33, 32][..]));
        assert_eq!(out.len(), 4 + 46);
    }

    #[test]
    fn fields_are_capped_when_encoding() {
        let huge = Extension::Raw {
            code: ExtensionType::Other(0x1234),
            body: vec![0; 100_000],
        };
        assert_eq!(encoded(huge).len(), 4 + MAX_OPAQUE_LEN);
        let pad = Extension::Padding(u16::MAX);
        assert_eq!(encoded(pad).len(), 4 + MAX_PADDING);
    }

    #[test]
    fn p256_generator_is_an_uncompressed_point() {
        assert_eq!(P256_GENERATOR.first(), Some(&4));
        assert_eq!(P256_GENERATOR.len(), natural_key_len(NamedGroup::Secp256r1));
    }
}
