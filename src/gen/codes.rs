//! TLS code points as weighted enums. Each enum names the values worth hitting on purpose
//! (what rustls supports, what it must refuse, what old clients and scanners send), plus
//! `Grease(n)` (RFC 8701 reserved values `0x?A?A`, which a server must ignore) and
//! `Other(u16)` for everything else. Enums rather than newtypes because a model's `Debug`
//! output is the readable form of a regression (DESIGN principle 7): it should say
//! `EcdheEcdsaAes128CbcSha`, not `49161`.
//!
//! `Arbitrary` picks by weight, and input that reads as zeros picks the first variant, so
//! each list starts with the value a modern client would send.

use arbitrary::{Arbitrary, Result, Unstructured};

use super::pick::pick;

/// The GREASE value with nibble `n` (mod 16): `0x0A0A`, `0x1A1A`, ..., `0xFAFA`.
pub fn grease(n: u8) -> u16 {
    let nibble = u16::from(n & 0x0f);
    0x0a0a | (nibble << 12) | (nibble << 4)
}

/// A code point type that encodes as a big-endian `u16`.
pub trait WireCode: Copy {
    /// The code point on the wire.
    fn wire_code(self) -> u16;
}

/// Defines a `u16` code enum with named variants, `Grease(u8)` and `Other(u16)`, its
/// `code()`, and a weighted `Arbitrary`.
macro_rules! code_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $code:literal, weight $weight:literal; )+
        }
        grease weight $gw:literal; other weight $ow:literal;
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $(
                $(#[$vmeta])*
                #[doc = concat!("(`", stringify!($code), "`)")]
                $variant,
            )+
            /// A GREASE value (RFC 8701), nibble given mod 16; see [`grease`].
            Grease(u8),
            /// Any other code point, sent as is.
            Other(u16),
        }

        impl $name {
            /// Every named variant, in declaration order.
            pub const NAMED: &'static [$name] = &[$($name::$variant),+];

            /// The code point on the wire.
            pub fn code(self) -> u16 {
                match self {
                    $($name::$variant => $code,)+
                    $name::Grease(n) => grease(n),
                    $name::Other(v) => v,
                }
            }
        }

        impl WireCode for $name {
            fn wire_code(self) -> u16 {
                self.code()
            }
        }

        impl<'a> Arbitrary<'a> for $name {
            fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
                const WEIGHTS: &[u16] = &[$($weight,)+ $gw, $ow];
                let i = pick(u, WEIGHTS)?;
                Ok(match $name::NAMED.get(i) {
                    Some(v) => *v,
                    None if i == $name::NAMED.len() => $name::Grease(u8::arbitrary(u)?),
                    None => $name::Other(u16::arbitrary(u)?),
                })
            }

            fn size_hint(_depth: usize) -> (usize, Option<usize>) {
                (2, Some(4))
            }
        }
    };
}

code_enum! {
    /// A cipher suite (IANA TLS Cipher Suites registry). The first three are what rustls
    /// offers for TLS 1.3; the ECDHE AEAD suites are its TLS 1.2 set; the `*CbcSha` suites
    /// are HMAC-SHA1 CBC suites rustls does not implement (bug class TLS-127: a hello
    /// offering only these crashed the upstream server).
    pub enum CipherSuite {
        /// TLS_AES_128_GCM_SHA256.
        Tls13Aes128GcmSha256 = 0x1301, weight 14;
        /// TLS_AES_256_GCM_SHA384.
        Tls13Aes256GcmSha384 = 0x1302, weight 10;
        /// TLS_CHACHA20_POLY1305_SHA256.
        Tls13Chacha20Poly1305Sha256 = 0x1303, weight 10;
        /// TLS_AES_128_CCM_SHA256 (TLS 1.3, not in rustls).
        Tls13Aes128CcmSha256 = 0x1304, weight 2;
        /// TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256.
        EcdheEcdsaAes128GcmSha256 = 0xc02b, weight 10;
        /// TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384.
        EcdheEcdsaAes256GcmSha384 = 0xc02c, weight 8;
        /// TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256.
        EcdheEcdsaChacha20Poly1305 = 0xcca9, weight 8;
        /// TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256.
        EcdheRsaAes128GcmSha256 = 0xc02f, weight 5;
        /// TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384.
        EcdheRsaAes256GcmSha384 = 0xc030, weight 4;
        /// TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256.
        EcdheRsaChacha20Poly1305 = 0xcca8, weight 4;
        /// TLS_RSA_WITH_AES_128_CBC_SHA.
        RsaAes128CbcSha = 0x002f, weight 3;
        /// TLS_RSA_WITH_AES_256_CBC_SHA.
        RsaAes256CbcSha = 0x0035, weight 3;
        /// TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA.
        EcdheRsaAes128CbcSha = 0xc013, weight 3;
        /// TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA.
        EcdheRsaAes256CbcSha = 0xc014, weight 3;
        /// TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA.
        EcdheEcdsaAes128CbcSha = 0xc009, weight 3;
        /// TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA.
        EcdheEcdsaAes256CbcSha = 0xc00a, weight 3;
        /// TLS_RSA_WITH_AES_128_GCM_SHA256 (static RSA key exchange).
        RsaAes128GcmSha256 = 0x009c, weight 2;
        /// TLS_RSA_WITH_3DES_EDE_CBC_SHA.
        Rsa3desEdeCbcSha = 0x000a, weight 1;
        /// TLS_NULL_WITH_NULL_NULL.
        NullWithNullNull = 0x0000, weight 1;
        /// TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746 signalling value).
        EmptyRenegotiationInfoScsv = 0x00ff, weight 2;
        /// TLS_FALLBACK_SCSV (RFC 7507 signalling value).
        FallbackScsv = 0x5600, weight 1;
    }
    grease weight 5; other weight 5;
}

code_enum! {
    /// A named group (supported_groups and key_share). rustls's ring provider implements
    /// X25519, secp256r1 and secp384r1.
    pub enum NamedGroup {
        /// x25519.
        X25519 = 0x001d, weight 40;
        /// secp256r1.
        Secp256r1 = 0x0017, weight 15;
        /// secp384r1.
        Secp384r1 = 0x0018, weight 8;
        /// secp521r1.
        Secp521r1 = 0x0019, weight 3;
        /// x448.
        X448 = 0x001e, weight 3;
        /// ffdhe2048 (RFC 7919).
        Ffdhe2048 = 0x0100, weight 3;
        /// X25519MLKEM768 (hybrid post-quantum).
        X25519Mlkem768 = 0x11ec, weight 5;
    }
    grease weight 10; other weight 5;
}

code_enum! {
    /// A signature scheme (signature_algorithms). The test and dev certificates are
    /// ECDSA P-256, which can only sign with `EcdsaSecp256r1Sha256`.
    pub enum SignatureScheme {
        /// ecdsa_secp256r1_sha256.
        EcdsaSecp256r1Sha256 = 0x0403, weight 30;
        /// ecdsa_secp384r1_sha384.
        EcdsaSecp384r1Sha384 = 0x0503, weight 8;
        /// ecdsa_secp521r1_sha512.
        EcdsaSecp521r1Sha512 = 0x0603, weight 3;
        /// ed25519.
        Ed25519 = 0x0807, weight 8;
        /// rsa_pss_rsae_sha256.
        RsaPssRsaeSha256 = 0x0804, weight 10;
        /// rsa_pss_rsae_sha384.
        RsaPssRsaeSha384 = 0x0805, weight 4;
        /// rsa_pkcs1_sha256.
        RsaPkcs1Sha256 = 0x0401, weight 8;
        /// rsa_pkcs1_sha384.
        RsaPkcs1Sha384 = 0x0501, weight 3;
        /// rsa_pkcs1_sha1 (legacy).
        RsaPkcs1Sha1 = 0x0201, weight 3;
        /// ecdsa_sha1 (legacy).
        EcdsaSha1 = 0x0203, weight 3;
    }
    grease weight 5; other weight 5;
}

code_enum! {
    /// A protocol version (legacy_version and supported_versions).
    pub enum ProtocolVersion {
        /// TLS 1.3.
        Tls13 = 0x0304, weight 40;
        /// TLS 1.2.
        Tls12 = 0x0303, weight 30;
        /// TLS 1.1.
        Tls11 = 0x0302, weight 5;
        /// TLS 1.0.
        Tls10 = 0x0301, weight 5;
        /// SSL 3.0.
        Ssl3 = 0x0300, weight 3;
        /// TLS 1.3 draft 28, as pre-RFC clients sent it.
        Tls13Draft28 = 0x7f1c, weight 3;
        /// DTLS 1.2.
        Dtls12 = 0xfefd, weight 2;
    }
    grease weight 8; other weight 4;
}

code_enum! {
    /// An extension type, used by [`super::extension::Extension::Raw`] to send any body
    /// under any type, including known types with untyped bodies.
    pub enum ExtensionType {
        /// server_name.
        ServerName = 0, weight 3;
        /// status_request.
        StatusRequest = 5, weight 3;
        /// supported_groups.
        SupportedGroups = 10, weight 2;
        /// ec_point_formats.
        EcPointFormats = 11, weight 2;
        /// signature_algorithms.
        SignatureAlgorithms = 13, weight 2;
        /// application_layer_protocol_negotiation.
        Alpn = 16, weight 2;
        /// signed_certificate_timestamp.
        SignedCertificateTimestamp = 18, weight 2;
        /// client_certificate_type (RFC 7250).
        ClientCertificateType = 19, weight 2;
        /// server_certificate_type (RFC 7250).
        ServerCertificateType = 20, weight 2;
        /// padding.
        Padding = 21, weight 1;
        /// encrypt_then_mac.
        EncryptThenMac = 22, weight 2;
        /// extended_master_secret.
        ExtendedMasterSecret = 23, weight 2;
        /// compress_certificate (RFC 8879).
        CompressCertificate = 27, weight 2;
        /// session_ticket.
        SessionTicket = 35, weight 2;
        /// pre_shared_key.
        PreSharedKey = 41, weight 1;
        /// early_data.
        EarlyData = 42, weight 1;
        /// supported_versions.
        SupportedVersions = 43, weight 2;
        /// cookie.
        Cookie = 44, weight 1;
        /// psk_key_exchange_modes.
        PskKeyExchangeModes = 45, weight 2;
        /// certificate_authorities.
        CertificateAuthorities = 47, weight 2;
        /// post_handshake_auth.
        PostHandshakeAuth = 49, weight 2;
        /// signature_algorithms_cert.
        SignatureAlgorithmsCert = 50, weight 2;
        /// key_share.
        KeyShare = 51, weight 2;
        /// quic_transport_parameters.
        QuicTransportParameters = 57, weight 2;
        /// ticket_request (RFC 9149).
        TicketRequest = 58, weight 2;
        /// encrypted_client_hello.
        EncryptedClientHello = 0xfe0d, weight 2;
        /// renegotiation_info.
        RenegotiationInfo = 0xff01, weight 2;
    }
    grease weight 20; other weight 15;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grease_values_have_the_reserved_shape() {
        for n in 0..=255u8 {
            let g = grease(n);
            assert_eq!(g & 0x0f0f, 0x0a0a);
            assert_eq!(g >> 12, (g >> 4) & 0x0f);
        }
        assert_eq!(grease(0), 0x0a0a);
        assert_eq!(grease(0xf), 0xfafa);
    }

    #[test]
    fn zeros_pick_the_modern_choice() {
        let mut u = Unstructured::new(&[]);
        assert_eq!(
            CipherSuite::arbitrary(&mut u).unwrap(),
            CipherSuite::Tls13Aes128GcmSha256
        );
        assert_eq!(NamedGroup::arbitrary(&mut u).unwrap(), NamedGroup::X25519);
        assert_eq!(
            SignatureScheme::arbitrary(&mut u).unwrap(),
            SignatureScheme::EcdsaSecp256r1Sha256
        );
        assert_eq!(
            ProtocolVersion::arbitrary(&mut u).unwrap(),
            ProtocolVersion::Tls13
        );
    }

    #[test]
    fn cbc_sha_suites_have_their_iana_codes() {
        let codes: Vec<u16> = [
            CipherSuite::RsaAes128CbcSha,
            CipherSuite::RsaAes256CbcSha,
            CipherSuite::EcdheRsaAes128CbcSha,
            CipherSuite::EcdheRsaAes256CbcSha,
            CipherSuite::EcdheEcdsaAes128CbcSha,
            CipherSuite::EcdheEcdsaAes256CbcSha,
        ]
        .iter()
        .map(|s| s.code())
        .collect();
        assert_eq!(codes, [0x002f, 0x0035, 0xc013, 0xc014, 0xc009, 0xc00a]);
    }
}
