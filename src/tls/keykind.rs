//! [`KeyKind`]: which algorithm a private key is for, read from its DER without using it.
//!
//! The provider's key loader answers only "loaded" or a generic "failed to parse as RSA,
//! ECDSA or `EdDSA`". To tell an operator "P-521 is not supported" apart from "this key is
//! corrupt", the algorithm identifier is read here: PKCS#8 `PrivateKeyInfo.algorithm`
//! (RFC 5958), the SEC1 `ECPrivateKey.parameters` curve (RFC 5915), and PKCS#1 is RSA by
//! definition. Parsing goes through asn1-rs (via x509-parser), which returns errors, never
//! panics, on malformed DER.

use std::fmt;

use rustls_pki_types::PrivateKeyDer;
use x509_parser::asn1_rs::{Any, Class, FromDer, Tag};

/// At most this many elements are read from one DER SEQUENCE; key containers have 2..=5.
const MAX_SEQUENCE_ITEMS: usize = 8;
/// Unknown OIDs longer than this are shown truncated (they only go into messages).
const MAX_OID_SHOWN_LEN: usize = 32;

// OID content octets (DER without tag and length) of the algorithms that matter here.
const OID_RSA: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];
const OID_RSA_PSS: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a];
const OID_EC_PUBLIC_KEY: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
const OID_P256: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07];
const OID_P384: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x22];
const OID_P521: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x23];
const OID_SECP256K1: &[u8] = &[0x2b, 0x81, 0x04, 0x00, 0x0a];
const OID_X25519: &[u8] = &[0x2b, 0x65, 0x6e];
const OID_X448: &[u8] = &[0x2b, 0x65, 0x6f];
const OID_ED25519: &[u8] = &[0x2b, 0x65, 0x70];
const OID_ED448: &[u8] = &[0x2b, 0x65, 0x71];
const OID_DSA: &[u8] = &[0x2a, 0x86, 0x48, 0xce, 0x38, 0x04, 0x01];
const OID_DH: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x03, 0x01];

/// The algorithm of a private key, as far as its DER container says.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KeyKind {
    /// RSA (PKCS#1, or PKCS#8 `rsaEncryption`).
    Rsa,
    /// ECDSA on NIST P-256.
    EcdsaP256,
    /// ECDSA on NIST P-384.
    EcdsaP384,
    /// Ed25519.
    Ed25519,
    /// A recognisable key the ring provider cannot sign with: the name (`ECDSA P-521`,
    /// `Ed448`, ...) or, if unknown, the algorithm OID in dotted form.
    Unsupported(String),
    /// The DER is not a well-formed key container, so the algorithm is unknown.
    Unrecognised,
}

impl KeyKind {
    /// Reads the algorithm from a private key's DER. Never fails: malformed input is
    /// [`KeyKind::Unrecognised`].
    #[must_use]
    pub fn identify(der: &PrivateKeyDer<'_>) -> Self {
        match der {
            PrivateKeyDer::Pkcs1(_) => Self::Rsa,
            PrivateKeyDer::Pkcs8(k) => pkcs8_kind(k.secret_pkcs8_der()),
            PrivateKeyDer::Sec1(k) => sec1_kind(k.secret_sec1_der()),
            _ => Self::Unrecognised,
        }
    }

    /// Whether the crate's provider (ring) can sign with this kind of key.
    #[must_use]
    pub fn is_supported(&self) -> bool {
        matches!(
            self,
            Self::Rsa | Self::EcdsaP256 | Self::EcdsaP384 | Self::Ed25519
        )
    }
}

impl fmt::Display for KeyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rsa => f.write_str("RSA"),
            Self::EcdsaP256 => f.write_str("ECDSA P-256"),
            Self::EcdsaP384 => f.write_str("ECDSA P-384"),
            Self::Ed25519 => f.write_str("Ed25519"),
            Self::Unsupported(name) => f.write_str(name),
            Self::Unrecognised => f.write_str("unrecognised"),
        }
    }
}

/// The bit length of an RSA key's modulus, if `der` is a well-formed PKCS#1 key or a PKCS#8
/// `rsaEncryption` key. Used to explain why ring rejected it (ring 0.17 needs 2048..=4096 bits).
pub(crate) fn rsa_modulus_bits(der: &PrivateKeyDer<'_>) -> Option<usize> {
    let pkcs1 = match der {
        PrivateKeyDer::Pkcs1(k) => k.secret_pkcs1_der(),
        PrivateKeyDer::Pkcs8(k) => {
            // PrivateKeyInfo.privateKey is an OCTET STRING holding the PKCS#1 key.
            let items = sequence_items(k.secret_pkcs8_der())?;
            let octets = items.get(2)?;
            (octets.header.tag() == Tag::OctetString).then_some(octets.data)?
        }
        _ => return None,
    };
    // RSAPrivateKey ::= SEQUENCE { version INTEGER, modulus INTEGER, ... } (RFC 8017 A.1.2)
    let items = sequence_items(pkcs1)?;
    let modulus = items
        .get(1)
        .filter(|m| m.header.tag() == Tag::Integer)?
        .data;
    // A positive INTEGER may carry one leading zero byte; the length counts from the
    // first non-zero byte.
    let significant = modulus.get(modulus.iter().position(|&b| b != 0)?..)?;
    let (&first, rest) = significant.split_first()?;
    let top_bits = usize::try_from(u8::BITS - first.leading_zeros()).ok()?;
    rest.len().checked_mul(8)?.checked_add(top_bits)
}

/// `PrivateKeyInfo ::= SEQUENCE { version INTEGER, privateKeyAlgorithm AlgorithmIdentifier,
/// privateKey OCTET STRING, ... }` (RFC 5958 section 2).
fn pkcs8_kind(der: &[u8]) -> KeyKind {
    let Some(items) = sequence_items(der) else {
        return KeyKind::Unrecognised;
    };
    let Some(alg) = items.get(1).and_then(|a| sequence_items_of(a)) else {
        return KeyKind::Unrecognised;
    };
    let Some(oid) = alg.first().and_then(oid_content) else {
        return KeyKind::Unrecognised;
    };
    match oid {
        OID_RSA => KeyKind::Rsa,
        OID_ED25519 => KeyKind::Ed25519,
        // AlgorithmIdentifier.parameters holds the namedCurve (RFC 5480 section 2.1.1).
        OID_EC_PUBLIC_KEY => match alg.get(1).and_then(oid_content) {
            Some(curve) => curve_kind(curve),
            None => KeyKind::Unsupported("ECDSA with explicit or missing curve".into()),
        },
        other => KeyKind::Unsupported(algorithm_name(other)),
    }
}

/// `ECPrivateKey ::= SEQUENCE { version INTEGER (1), privateKey OCTET STRING,
/// parameters [0] ECParameters OPTIONAL, publicKey [1] BIT STRING OPTIONAL }` (RFC 5915).
///
/// Without `[0]` the curve is implied by context; ring then tries P-256 and P-384, so a
/// key without it is reported as P-256 (a guess only used to pick an error message).
fn sec1_kind(der: &[u8]) -> KeyKind {
    let Some(items) = sequence_items(der) else {
        return KeyKind::Unrecognised;
    };
    let params = items
        .iter()
        .find(|a| a.header.class() == Class::ContextSpecific && a.header.tag() == Tag(0));
    match params {
        None => KeyKind::EcdsaP256,
        Some(p) => match Any::from_der(p.data)
            .ok()
            .and_then(|(_, a)| oid_content(&a))
        {
            Some(curve) => curve_kind(curve),
            None => KeyKind::Unsupported("ECDSA with explicit curve parameters".into()),
        },
    }
}

/// The kind for an `id-ecPublicKey` key on the named curve `curve`.
fn curve_kind(curve: &[u8]) -> KeyKind {
    match curve {
        OID_P256 => KeyKind::EcdsaP256,
        OID_P384 => KeyKind::EcdsaP384,
        OID_P521 => KeyKind::Unsupported("ECDSA P-521".into()),
        OID_SECP256K1 => KeyKind::Unsupported("ECDSA secp256k1".into()),
        other => KeyKind::Unsupported(format!("ECDSA on curve {}", dotted(other))),
    }
}

/// A readable name for a non-EC, non-RSA, non-Ed25519 algorithm OID.
fn algorithm_name(oid: &[u8]) -> String {
    match oid {
        OID_RSA_PSS => "RSASSA-PSS (RSA key restricted to PSS)".into(),
        OID_ED448 => "Ed448".into(),
        OID_X25519 => "X25519 (key agreement only)".into(),
        OID_X448 => "X448 (key agreement only)".into(),
        OID_DSA => "DSA".into(),
        OID_DH => "Diffie-Hellman (key agreement only)".into(),
        other => format!("OID {}", dotted(other)),
    }
}

/// The elements of the DER SEQUENCE `der` (which must be exactly one SEQUENCE).
fn sequence_items(der: &[u8]) -> Option<Vec<Any<'_>>> {
    let (rest, seq) = Any::from_der(der).ok()?;
    if !rest.is_empty() {
        return None;
    }
    sequence_items_of(&seq)
}

/// The elements of an already-parsed SEQUENCE, at most [`MAX_SEQUENCE_ITEMS`].
fn sequence_items_of<'a>(seq: &Any<'a>) -> Option<Vec<Any<'a>>> {
    if seq.header.tag() != Tag::Sequence {
        return None;
    }
    let mut data = seq.data;
    let mut items = Vec::new();
    while !data.is_empty() && items.len() < MAX_SEQUENCE_ITEMS {
        let (rest, item) = Any::from_der(data).ok()?;
        items.push(item);
        data = rest;
    }
    Some(items)
}

/// The content octets of an OBJECT IDENTIFIER element.
fn oid_content<'a>(any: &Any<'a>) -> Option<&'a [u8]> {
    (any.header.tag() == Tag::Oid).then_some(any.data)
}

/// Dotted-decimal form of OID content octets (X.690 section 8.19), or hex if it does not
/// decode into u64 arcs. Bounded: only used in messages.
fn dotted(oid: &[u8]) -> String {
    let shown = oid.get(..MAX_OID_SHOWN_LEN).unwrap_or(oid);
    let hex = || hex::encode(shown);
    let mut arcs: Vec<u64> = Vec::new();
    let mut acc: u64 = 0;
    for (i, &b) in shown.iter().enumerate() {
        let Some(next) = acc
            .checked_mul(128)
            .and_then(|v| v.checked_add(u64::from(b & 0x7f)))
        else {
            return hex();
        };
        acc = next;
        if b & 0x80 == 0 {
            if arcs.is_empty() {
                // The first subidentifier packs two arcs: 40 * X + Y, X in 0..=2.
                let (x, y) = match acc {
                    0..=39 => (0, acc),
                    40..=79 => (1, acc - 40),
                    _ => (2, acc - 80),
                };
                arcs.push(x);
                arcs.push(y);
            } else {
                arcs.push(acc);
            }
            acc = 0;
        } else if i + 1 == shown.len() {
            return hex();
        }
    }
    if arcs.is_empty() {
        return hex();
    }
    let mut s = arcs
        .iter()
        .map(u64::to_string)
        .collect::<Vec<_>>()
        .join(".");
    if oid.len() > MAX_OID_SHOWN_LEN {
        s.push_str("...");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_decodes_known_oids_and_survives_junk() {
        assert_eq!(dotted(OID_RSA), "1.2.840.113549.1.1.1");
        assert_eq!(dotted(OID_P521), "1.3.132.0.35");
        assert_eq!(dotted(&[0x88, 0x37]), "2.999");
        assert_eq!(dotted(&[0x81]), "81");
        assert_eq!(dotted(&[]), "");
        assert_eq!(dotted(&[0xff; 40]), "ff".repeat(32));
    }

    #[test]
    fn identify_never_panics_on_junk() {
        for der in [
            &[][..],
            &[0x30],
            &[0x30, 0x80],
            &[0x30, 0x03, 0x02, 0x01, 0x00],
            &[0xff; 9],
        ] {
            assert_eq!(
                KeyKind::identify(&PrivateKeyDer::Pkcs8(der.to_vec().into())),
                KeyKind::Unrecognised
            );
            assert_eq!(
                KeyKind::identify(&PrivateKeyDer::Sec1(der.to_vec().into())),
                if der == [0x30, 0x03, 0x02, 0x01, 0x00] {
                    KeyKind::EcdsaP256
                } else {
                    KeyKind::Unrecognised
                }
            );
        }
    }
}
