//! PROXY protocol v1 and v2 header parser (`HAProxy`'s `proxy-protocol.txt`), sans-IO and pure.
//!
//! A load balancer in front of the server prepends one header to each TCP connection,
//! naming the real client. [`parse_proxy_header`] looks at the first bytes received and
//! says: need more bytes, here is the header and its length, or this is not (a valid)
//! PROXY header. The caller owns the buffer and keeps every byte after `consumed`.
//!
//! Every length is checked before it is used: upstream WuKongIM sliced a header shorter
//! than the 12-byte v2 signature and crashed (issue #458). Here, all reads go through
//! `get`/`first_chunk`/`strip_prefix`, which return `None` instead of panicking, and the
//! caller never needs to buffer more than [`MAX_HEADER_LEN`] bytes: a prefix that long
//! which is still undecided does not exist.
//!
//! Grammar (spec sections 2.1 and 2.2):
//! ```text
//! v1: "PROXY" SP ( "TCP4" SP ip4 SP ip4 SP port SP port
//!                | "TCP6" SP ip6 SP ip6 SP port SP port
//!                | "UNKNOWN" *(any byte but LF) ) CRLF          ; at most 107 bytes
//! v2: signature(12) ver_cmd(1) fam(1) len(u16, big-endian) payload(len)
//!     payload = addresses TLV*   ; TCP4 addresses: 4+4+2+2, TCP6: 16+16+2+2
//! ```

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

/// The v2 signature, the first 12 bytes of every v2 header (spec 2.2). It cannot occur at
/// the start of a v1 header, an HTTP request or a TLS record.
pub const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
/// Every v1 header starts with these 6 bytes (spec 2.1).
const V1_PREFIX: &[u8] = b"PROXY ";
/// Longest v1 header, CRLF included (spec 2.1: the worst case is
/// `PROXY UNKNOWN` + two full IPv6 addresses + two 5-digit ports + CRLF).
pub const MAX_V1_LEN: usize = 107;
/// Bytes before the v2 payload: signature, `ver_cmd`, `fam`, `len`.
pub const V2_FIXED_LEN: usize = 16;
/// Largest v2 payload (addresses + TLVs) accepted. The spec's biggest address block is 216
/// bytes (UNIX); cloud load balancers' TLVs (AWS VPC endpoint id, Azure link id, SSL info)
/// add tens to a few hundred. 1024 leaves room while bounding what a peer makes us buffer.
pub const MAX_V2_PAYLOAD_LEN: usize = 1024;
/// The most bytes a caller ever has to buffer before [`parse_proxy_header`] decides.
pub const MAX_HEADER_LEN: usize = V2_FIXED_LEN + MAX_V2_PAYLOAD_LEN;

/// v2 address block size for TCP over IPv4: src addr, dst addr, src port, dst port.
const V2_TCP4_ADDR_LEN: usize = 4 + 4 + 2 + 2;
/// v2 address block size for TCP over IPv6.
const V2_TCP6_ADDR_LEN: usize = 16 + 16 + 2 + 2;
/// v2 command LOCAL: a health check from the proxy itself; use the real endpoints.
const V2_CMD_LOCAL: u8 = 0x0;
/// v2 command PROXY: relayed on behalf of another node; the addresses are the client's.
const V2_CMD_PROXY: u8 = 0x1;
/// Longest dotted-quad IPv4 text (`255.255.255.255`).
const MAX_V1_IP4_LEN: usize = 15;
/// Longest IPv6 text (`ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255`).
const MAX_V1_IP6_LEN: usize = 45;
/// Longest port text (`65535`).
const MAX_V1_PORT_LEN: usize = 5;

/// A parsed PROXY header. The addresses are `None` for v1 `UNKNOWN`, v2 `LOCAL`, and v2
/// `UNSPEC` (or UDP/UNIX, which this server has no use for): the caller then uses the
/// connection's real endpoints.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProxyHeader {
    /// Protocol version: 1 (text) or 2 (binary).
    pub version: u8,
    /// The original client's address.
    pub source: Option<SocketAddr>,
    /// The address the client connected to (the proxy's listener).
    pub destination: Option<SocketAddr>,
}

impl ProxyHeader {
    /// A header that carries no addresses.
    const fn without_addresses(version: u8) -> Self {
        Self {
            version,
            source: None,
            destination: None,
        }
    }
}

/// Why bytes are not a valid PROXY header. The connection should be closed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ProxyError {
    /// The bytes cannot begin either header (they match neither `PROXY ` nor the v2
    /// signature): the peer is not a proxy.
    #[error("not a PROXY protocol header")]
    NotProxy,
    /// No LF within the first [`MAX_V1_LEN`] bytes.
    #[error("PROXY v1: no CRLF within {MAX_V1_LEN} bytes")]
    V1TooLong,
    /// A v1 field is malformed (or missing, or there is an extra one).
    #[error("PROXY v1: invalid {field}")]
    V1Invalid {
        /// The field: `protocol`, `source address`, `destination port`, `line ending`...
        field: &'static str,
    },
    /// The v2 version nibble is not 2.
    #[error("PROXY v2: unsupported version {0} (expected 2)")]
    V2Version(u8),
    /// The v2 command nibble is neither LOCAL (0) nor PROXY (1).
    #[error("PROXY v2: unknown command {0:#x}")]
    V2Command(u8),
    /// The v2 family/protocol byte is not one the spec defines.
    #[error("PROXY v2: unknown address family/protocol {0:#04x}")]
    V2Family(u8),
    /// The v2 length is above [`MAX_V2_PAYLOAD_LEN`].
    #[error("PROXY v2: payload length {len} exceeds limit {max}")]
    V2TooLong {
        /// Declared payload length.
        len: usize,
        /// The limit.
        max: usize,
    },
    /// The v2 payload is shorter than the address block its family requires.
    #[error("PROXY v2: {family} address block needs {need} bytes, payload has {len}")]
    V2AddressTooShort {
        /// `TCP4` or `TCP6`.
        family: &'static str,
        /// Required bytes.
        need: usize,
        /// Declared payload length.
        len: usize,
    },
}

/// Parses a PROXY v1 or v2 header at the start of `buf`.
///
/// - `Ok(None)`: `buf` is a prefix of a possible valid header; read more and call again
///   with the longer buffer. Never returned for `buf.len() >= MAX_HEADER_LEN`. The check is
///   exact for the fixed parts (signature, keywords, ver/cmd/family bytes, ports) and
///   conservative (character set and length) for a partly received v1 address.
/// - `Ok(Some((header, consumed)))`: `buf[..consumed]` is the header,
///   `0 < consumed <= buf.len()`; the bytes after it belong to the application.
///
/// # Errors
/// [`ProxyError::NotProxy`] when `buf` cannot start a PROXY header; the other variants
/// for a header that is malformed or over a limit.
pub fn parse_proxy_header(buf: &[u8]) -> Result<Option<(ProxyHeader, usize)>, ProxyError> {
    #[cfg(feature = "planted-bugs")]
    if crate::planted::enabled(crate::planted::Bug::Proxy458) {
        crate::planted::proxy458_parse(buf, &V2_SIGNATURE);
    }
    if buf.starts_with(&V2_SIGNATURE) {
        return parse_v2(buf);
    }
    if V2_SIGNATURE.starts_with(buf) {
        // Includes the empty buffer: a prefix of both signatures.
        return Ok(None);
    }
    if let Some(rest) = buf.strip_prefix(V1_PREFIX) {
        return parse_v1(rest);
    }
    if V1_PREFIX.starts_with(buf) {
        return Ok(None);
    }
    Err(ProxyError::NotProxy)
}

/// v1, given the bytes after `PROXY `.
fn parse_v1(rest: &[u8]) -> Result<Option<(ProxyHeader, usize)>, ProxyError> {
    let max_rest = MAX_V1_LEN - V1_PREFIX.len();
    let window = rest.get(..max_rest).unwrap_or(rest);
    let Some(lf) = window.iter().position(|&b| b == b'\n') else {
        if rest.len() >= max_rest {
            return Err(ProxyError::V1TooLong);
        }
        check_v1_partial(rest)?;
        return Ok(None);
    };
    let line = window.get(..lf).unwrap_or_default();
    // Spec 2.1: the line ends with CRLF; a bare LF is not accepted.
    let fields = line.strip_suffix(b"\r").ok_or(ProxyError::V1Invalid {
        field: "line ending (expected CRLF)",
    })?;
    let header = parse_v1_fields(fields)?;
    // lf < max_rest, so consumed <= MAX_V1_LEN; saturating only to keep the bound local.
    Ok(Some((header, lf.saturating_add(V1_PREFIX.len() + 1))))
}

/// The v1 line between `PROXY ` and CRLF.
fn parse_v1_fields(fields: &[u8]) -> Result<ProxyHeader, ProxyError> {
    let mut parts = fields.split(|&b| b == b' ');
    let v6 = match parts.next().unwrap_or_default() {
        // Spec 2.1: for UNKNOWN the receiver ignores everything up to the CRLF.
        b"UNKNOWN" => return Ok(ProxyHeader::without_addresses(1)),
        b"TCP4" => false,
        b"TCP6" => true,
        _ => return Err(ProxyError::V1Invalid { field: "protocol" }),
    };
    let src = parse_v1_ip(parts.next(), v6, "source address")?;
    let dst = parse_v1_ip(parts.next(), v6, "destination address")?;
    let sport = parse_v1_port(parts.next(), "source port")?;
    let dport = parse_v1_port(parts.next(), "destination port")?;
    if parts.next().is_some() {
        return Err(ProxyError::V1Invalid {
            field: "field count (extra field)",
        });
    }
    Ok(ProxyHeader {
        version: 1,
        source: Some(SocketAddr::new(src, sport)),
        destination: Some(SocketAddr::new(dst, dport)),
    })
}

/// A v1 address: TCP4 requires dotted-quad IPv4, TCP6 requires IPv6 text (spec 2.1).
/// std's parsers reject leading zeros in IPv4 octets and zone ids in IPv6.
fn parse_v1_ip(field: Option<&[u8]>, v6: bool, what: &'static str) -> Result<IpAddr, ProxyError> {
    let invalid = ProxyError::V1Invalid { field: what };
    let text = field
        .and_then(|f| std::str::from_utf8(f).ok())
        .ok_or(invalid)?;
    if v6 {
        text.parse::<Ipv6Addr>()
            .map(IpAddr::V6)
            .map_err(|_| invalid)
    } else {
        text.parse::<Ipv4Addr>()
            .map(IpAddr::V4)
            .map_err(|_| invalid)
    }
}

/// A v1 port: decimal 0..=65535, digits only (no sign, no spaces), no leading zero
/// except `0` itself, so each port has exactly one spelling.
fn parse_v1_port(field: Option<&[u8]>, what: &'static str) -> Result<u16, ProxyError> {
    let invalid = ProxyError::V1Invalid { field: what };
    let digits = field.ok_or(invalid)?;
    // The prefix check rules out what `u16::from_str` would let through (a leading `+`,
    // leading zeros); the parse itself rejects empty input and values above 65535.
    if !is_port_prefix(digits) {
        return Err(invalid);
    }
    std::str::from_utf8(digits)
        .ok()
        .and_then(|text| text.parse::<u16>().ok())
        .ok_or(invalid)
}

/// Whether `digits` can begin a valid port: at most 5 ASCII digits, no leading zero
/// before another digit, and a 5-digit value at most 65535.
fn is_port_prefix(digits: &[u8]) -> bool {
    if digits.len() > MAX_V1_PORT_LEN || !digits.iter().all(u8::is_ascii_digit) {
        return false;
    }
    if digits.len() > 1 && digits.first() == Some(&b'0') {
        return false;
    }
    // Compare as text: equal-length digit strings order like their values.
    digits.len() < MAX_V1_PORT_LEN || digits <= b"65535".as_slice()
}

/// Whether `text` can begin a v1 address of the given family (charset and length only).
fn is_ip_prefix(text: &[u8], v6: bool) -> bool {
    if v6 {
        text.len() <= MAX_V1_IP6_LEN
            && text
                .iter()
                .all(|&b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
    } else {
        text.len() <= MAX_V1_IP4_LEN && text.iter().all(|&b| b.is_ascii_digit() || b == b'.')
    }
}

/// Rejects an incomplete v1 line (no LF yet) that no further bytes could make valid.
fn check_v1_partial(rest: &[u8]) -> Result<(), ProxyError> {
    if let Some(fields) = rest.strip_suffix(b"\r") {
        // Only the LF is missing: the line must already be complete and valid.
        return parse_v1_fields(fields).map(|_| ());
    }
    let parts: Vec<&[u8]> = rest.split(|&b| b == b' ').collect();
    let last = parts.len().saturating_sub(1);
    let mut v6 = false;
    for (i, part) in parts.iter().enumerate() {
        let complete = i < last;
        let ok = match i {
            0 if complete => {
                if *part == b"UNKNOWN" {
                    return Ok(());
                }
                v6 = *part == b"TCP6";
                V1_PROTOCOLS.contains(part)
            }
            0 => V1_PROTOCOLS.iter().any(|p| p.starts_with(part)),
            1 | 2 if complete => parse_v1_ip(Some(part), v6, "address").is_ok(),
            1 | 2 => is_ip_prefix(part, v6),
            3 if complete => parse_v1_port(Some(part), "port").is_ok(),
            3 | 4 => is_port_prefix(part),
            _ => false,
        };
        if !ok {
            return Err(ProxyError::V1Invalid {
                field: V1_FIELD_NAMES
                    .get(i)
                    .copied()
                    .unwrap_or("field count (extra field)"),
            });
        }
    }
    Ok(())
}

/// The v1 protocol keywords (spec 2.1).
const V1_PROTOCOLS: [&[u8]; 3] = [b"TCP4", b"TCP6", b"UNKNOWN"];

/// Names of the v1 fields after `PROXY `, by position, for errors.
const V1_FIELD_NAMES: [&str; 5] = [
    "protocol",
    "source address",
    "destination address",
    "source port",
    "destination port",
];

/// What the v2 family/protocol byte (spec 2.2, 14th byte) means for this parser.
enum V2Family {
    /// `0x11`: TCP over IPv4.
    Tcp4,
    /// `0x21`: TCP over IPv6.
    Tcp6,
    /// `0x00` UNSPEC, or a defined family this server does not represent (UDP, UNIX):
    /// the spec lets a receiver fall back to the real connection endpoints.
    NoAddresses,
}

impl V2Family {
    /// Spec 2.2: "other values are unspecified and must not be emitted", so a receiver
    /// rejects them.
    fn read(byte: u8) -> Result<Self, ProxyError> {
        match byte {
            0x11 => Ok(Self::Tcp4),
            0x21 => Ok(Self::Tcp6),
            0x00 | 0x12 | 0x22 | 0x31 | 0x32 => Ok(Self::NoAddresses),
            other => Err(ProxyError::V2Family(other)),
        }
    }
}

/// v2, given a buffer that starts with the full signature.
fn parse_v2(buf: &[u8]) -> Result<Option<(ProxyHeader, usize)>, ProxyError> {
    // Check each fixed byte as soon as it arrives, so garbage fails fast.
    let command = match buf.get(V2_SIGNATURE.len()) {
        None => return Ok(None),
        Some(&ver_cmd) => {
            // Spec 2.2, 13th byte: high nibble version (must be 2), low nibble command.
            let version = ver_cmd >> 4;
            if version != 2 {
                return Err(ProxyError::V2Version(version));
            }
            match ver_cmd & 0x0f {
                c @ (V2_CMD_LOCAL | V2_CMD_PROXY) => c,
                other => return Err(ProxyError::V2Command(other)),
            }
        }
    };
    // Spec 2.2: with LOCAL the family "is ignored", so only PROXY validates it.
    let family = match buf.get(V2_SIGNATURE.len() + 1) {
        None => return Ok(None),
        Some(_) if command == V2_CMD_LOCAL => V2Family::NoAddresses,
        Some(&fam) => V2Family::read(fam)?,
    };
    let Some(fixed) = buf.first_chunk::<V2_FIXED_LEN>() else {
        return Ok(None);
    };
    let [.., len_hi, len_lo] = *fixed;
    let len = usize::from(u16::from_be_bytes([len_hi, len_lo]));
    if len > MAX_V2_PAYLOAD_LEN {
        return Err(ProxyError::V2TooLong {
            len,
            max: MAX_V2_PAYLOAD_LEN,
        });
    }
    let need = match family {
        V2Family::Tcp4 => Some(("TCP4", V2_TCP4_ADDR_LEN)),
        V2Family::Tcp6 => Some(("TCP6", V2_TCP6_ADDR_LEN)),
        V2Family::NoAddresses => None,
    };
    if let Some((family, need)) = need {
        if len < need {
            return Err(ProxyError::V2AddressTooShort { family, need, len });
        }
    }
    // len <= MAX_V2_PAYLOAD_LEN, so total <= MAX_HEADER_LEN: no overflow.
    let total = V2_FIXED_LEN + len;
    let Some(payload) = buf.get(V2_FIXED_LEN..total) else {
        return Ok(None);
    };
    // TLVs after the address block are skipped: this server uses none of them.
    let header = match family {
        V2Family::Tcp4 => v2_tcp4(payload),
        V2Family::Tcp6 => v2_tcp6(payload),
        V2Family::NoAddresses => Some(ProxyHeader::without_addresses(2)),
    };
    // The address block length was checked above; `None` here would be a bug, reported
    // as the same typed error rather than a panic.
    let header = header.ok_or(ProxyError::V2AddressTooShort {
        family: "TCP",
        need: V2_TCP4_ADDR_LEN,
        len,
    })?;
    Ok(Some((header, total)))
}

/// TCP4 address block: src addr(4) dst addr(4) src port(2) dst port(2), big-endian.
fn v2_tcp4(payload: &[u8]) -> Option<ProxyHeader> {
    let [s0, s1, s2, s3, d0, d1, d2, d3, sp0, sp1, dp0, dp1] =
        *payload.first_chunk::<V2_TCP4_ADDR_LEN>()?;
    let src = Ipv4Addr::new(s0, s1, s2, s3);
    let dst = Ipv4Addr::new(d0, d1, d2, d3);
    Some(ProxyHeader {
        version: 2,
        source: Some(SocketAddr::new(src.into(), u16::from_be_bytes([sp0, sp1]))),
        destination: Some(SocketAddr::new(dst.into(), u16::from_be_bytes([dp0, dp1]))),
    })
}

/// TCP6 address block: src addr(16) dst addr(16) src port(2) dst port(2), big-endian.
fn v2_tcp6(payload: &[u8]) -> Option<ProxyHeader> {
    let (src, rest) = payload.split_first_chunk::<16>()?;
    let (dst, rest) = rest.split_first_chunk::<16>()?;
    let [sp0, sp1, dp0, dp1] = *rest.first_chunk::<4>()?;
    let src = Ipv6Addr::from(*src);
    let dst = Ipv6Addr::from(*dst);
    Some(ProxyHeader {
        version: 2,
        source: Some(SocketAddr::new(src.into(), u16::from_be_bytes([sp0, sp1]))),
        destination: Some(SocketAddr::new(dst.into(), u16::from_be_bytes([dp0, dp1]))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sa(s: &str) -> Option<SocketAddr> {
        Some(s.parse().unwrap())
    }

    /// A v2 header: signature, ver_cmd, fam, big-endian length, payload.
    fn v2(ver_cmd: u8, fam: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = V2_SIGNATURE.to_vec();
        out.push(ver_cmd);
        out.push(fam);
        out.extend_from_slice(&u16::try_from(payload.len()).unwrap().to_be_bytes());
        out.extend_from_slice(payload);
        out
    }

    /// TCP4 payload 10.0.0.1:4000 -> 10.0.0.2:443, then one TLV (PP2_TYPE_AUTHORITY).
    fn v2_tcp4_with_tlv() -> Vec<u8> {
        let mut p = vec![10, 0, 0, 1, 10, 0, 0, 2];
        p.extend_from_slice(&4000u16.to_be_bytes());
        p.extend_from_slice(&443u16.to_be_bytes());
        p.extend_from_slice(&[0x02, 0x00, 0x09]);
        p.extend_from_slice(b"localhost");
        v2(0x21, 0x11, &p)
    }

    fn v2_tcp6_with_tlv() -> Vec<u8> {
        let src: Ipv6Addr = "2001:db8::1".parse().unwrap();
        let dst: Ipv6Addr = "2001:db8::2".parse().unwrap();
        let mut p = src.octets().to_vec();
        p.extend_from_slice(&dst.octets());
        p.extend_from_slice(&65535u16.to_be_bytes());
        p.extend_from_slice(&0u16.to_be_bytes());
        // PP2_TYPE_NOOP with 4 bytes of padding.
        p.extend_from_slice(&[0x04, 0x00, 0x04, 0, 0, 0, 0]);
        v2(0x21, 0x21, &p)
    }

    fn v2_local_with_tlv() -> Vec<u8> {
        v2(0x20, 0x00, &[0x04, 0x00, 0x01, 0xff])
    }

    const V1_TCP4: &[u8] = b"PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n";
    const V1_TCP6: &[u8] = b"PROXY TCP6 2001:db8::1 ::ffff:10.0.0.1 0 65535\r\n";
    const V1_UNKNOWN: &[u8] = b"PROXY UNKNOWN\r\n";
    /// Spec 2.1: whatever follows UNKNOWN up to the CRLF is ignored, valid or not.
    const V1_UNKNOWN_JUNK: &[u8] = b"PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n";

    /// The spec's worst case: exactly MAX_V1_LEN bytes.
    fn v1_unknown_longest() -> Vec<u8> {
        let ip = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
        format!("PROXY UNKNOWN {ip} {ip} 65535 65535\r\n").into_bytes()
    }

    fn valid_headers() -> Vec<(Vec<u8>, ProxyHeader)> {
        vec![
            (
                V1_TCP4.to_vec(),
                ProxyHeader {
                    version: 1,
                    source: sa("192.168.0.1:56324"),
                    destination: sa("192.168.0.11:443"),
                },
            ),
            (
                V1_TCP6.to_vec(),
                ProxyHeader {
                    version: 1,
                    source: sa("[2001:db8::1]:0"),
                    destination: sa("[::ffff:10.0.0.1]:65535"),
                },
            ),
            (V1_UNKNOWN.to_vec(), ProxyHeader::without_addresses(1)),
            (V1_UNKNOWN_JUNK.to_vec(), ProxyHeader::without_addresses(1)),
            (v1_unknown_longest(), ProxyHeader::without_addresses(1)),
            (
                v2_tcp4_with_tlv(),
                ProxyHeader {
                    version: 2,
                    source: sa("10.0.0.1:4000"),
                    destination: sa("10.0.0.2:443"),
                },
            ),
            (
                v2_tcp6_with_tlv(),
                ProxyHeader {
                    version: 2,
                    source: sa("[2001:db8::1]:65535"),
                    destination: sa("[2001:db8::2]:0"),
                },
            ),
            (v2_local_with_tlv(), ProxyHeader::without_addresses(2)),
            // UDP and UNIX are defined families this server does not represent.
            (v2(0x21, 0x12, &[0; 12]), ProxyHeader::without_addresses(2)),
            (v2(0x21, 0x31, &[0; 216]), ProxyHeader::without_addresses(2)),
            (v2(0x21, 0x00, &[]), ProxyHeader::without_addresses(2)),
            // LOCAL ignores the family byte, whatever it holds.
            (v2(0x20, 0xff, &[]), ProxyHeader::without_addresses(2)),
            (
                v2(0x20, 0x11, &[0; MAX_V2_PAYLOAD_LEN]),
                ProxyHeader::without_addresses(2),
            ),
        ]
    }

    #[test]
    fn valid_headers_parse_and_leave_trailing_bytes() {
        assert_eq!(v1_unknown_longest().len(), MAX_V1_LEN);
        for (bytes, want) in valid_headers() {
            let mut buf = bytes.clone();
            buf.extend_from_slice(b"\x16\x03\x01 tls follows");
            assert_eq!(
                parse_proxy_header(&buf),
                Ok(Some((want, bytes.len()))),
                "{:?}",
                String::from_utf8_lossy(&bytes)
            );
            assert_eq!(parse_proxy_header(&bytes), Ok(Some((want, bytes.len()))));
        }
    }

    #[test]
    fn every_prefix_of_a_valid_header_needs_more() {
        for (bytes, _) in valid_headers() {
            for n in 0..bytes.len() {
                assert_eq!(
                    parse_proxy_header(&bytes[..n]),
                    Ok(None),
                    "prefix {n} of {:?}",
                    String::from_utf8_lossy(&bytes)
                );
            }
        }
    }

    #[test]
    fn short_v2_signature_prefixes_need_more() {
        // Upstream issue #458: a header shorter than 12 bytes crashed the server.
        for n in 0..V2_SIGNATURE.len() {
            assert_eq!(parse_proxy_header(&V2_SIGNATURE[..n]), Ok(None));
        }
        assert_eq!(parse_proxy_header(&V2_SIGNATURE), Ok(None));
        assert_eq!(
            parse_proxy_header(b"\r\n\r\n\0\r\nQUIX"),
            Err(ProxyError::NotProxy)
        );
    }

    #[test]
    fn malformed_headers_are_typed_errors() {
        use ProxyError::*;
        let field = |field| V1Invalid { field };
        let too_long_v1 = {
            let mut b = b"PROXY UNKNOWN ".to_vec();
            b.resize(MAX_V1_LEN, b'a');
            b
        };
        let cases: Vec<(Vec<u8>, ProxyError)> = vec![
            (b"GET / HTTP/1.1\r\n".to_vec(), NotProxy),
            (b"\x16\x03\x01\x02\x00".to_vec(), NotProxy),
            (b"PROXYTCP4".to_vec(), NotProxy),
            (b"proxy TCP4".to_vec(), NotProxy),
            (
                b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n".to_vec(),
                field("line ending (expected CRLF)"),
            ),
            (
                b"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n".to_vec(),
                field("protocol"),
            ),
            (b"PROXY TCP5".to_vec(), field("protocol")),
            (b"PROXY UNKNOWNX\r\n".to_vec(), field("protocol")),
            (b"PROXY \r\n".to_vec(), field("protocol")),
            (
                b"PROXY TCP4 ::1 ::1 1 2\r\n".to_vec(),
                field("source address"),
            ),
            (
                b"PROXY TCP6 1.2.3.4 ::1 1 2\r\n".to_vec(),
                field("source address"),
            ),
            (
                b"PROXY TCP4 1.2.3.4 5.6.7 1 2\r\n".to_vec(),
                field("destination address"),
            ),
            (
                b"PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n".to_vec(),
                field("source address"),
            ),
            (
                b"PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n".to_vec(),
                field("destination address"),
            ),
            (
                b"PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n".to_vec(),
                field("source port"),
            ),
            (
                b"PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n".to_vec(),
                field("source port"),
            ),
            (
                b"PROXY TCP4 1.2.3.4 5.6.7.8 1 02\r\n".to_vec(),
                field("destination port"),
            ),
            (
                b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n".to_vec(),
                field("destination port"),
            ),
            (
                b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n".to_vec(),
                field("field count (extra field)"),
            ),
            (
                b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n".to_vec(),
                field("field count (extra field)"),
            ),
            (
                b"PROXY TCP4 1.2.3.4 5.6.7.8 70000".to_vec(),
                field("source port"),
            ),
            (
                b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX".to_vec(),
                field("destination port"),
            ),
            (
                b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3".to_vec(),
                field("field count (extra field)"),
            ),
            (
                b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r".to_vec(),
                field("destination port"),
            ),
            (b"PROXY TCP4 1:2".to_vec(), field("source address")),
            (b"PROXY TCP6 1.2.3.4 ::g".to_vec(), field("source address")),
            (too_long_v1, V1TooLong),
            (v2(0x11, 0x11, &[0; 12]), V2Version(1)),
            (
                V2_SIGNATURE.iter().copied().chain([0x31]).collect(),
                V2Version(3),
            ),
            (v2(0x22, 0x11, &[0; 12]), V2Command(2)),
            (
                V2_SIGNATURE.iter().copied().chain([0x2f]).collect(),
                V2Command(0xf),
            ),
            (v2(0x21, 0x41, &[0; 12]), V2Family(0x41)),
            (v2(0x21, 0x13, &[0; 12]), V2Family(0x13)),
            (
                V2_SIGNATURE.iter().copied().chain([0x21, 0x10]).collect(),
                V2Family(0x10),
            ),
            (
                v2(0x21, 0x11, &[0; MAX_V2_PAYLOAD_LEN + 1]),
                V2TooLong {
                    len: MAX_V2_PAYLOAD_LEN + 1,
                    max: MAX_V2_PAYLOAD_LEN,
                },
            ),
            (
                // Rejected from the 16 fixed bytes alone, before any payload arrives.
                V2_SIGNATURE
                    .iter()
                    .copied()
                    .chain([0x21, 0x11, 0xff, 0xff])
                    .collect(),
                V2TooLong {
                    len: 65535,
                    max: MAX_V2_PAYLOAD_LEN,
                },
            ),
            (
                v2(0x21, 0x11, &[0; 11]),
                V2AddressTooShort {
                    family: "TCP4",
                    need: 12,
                    len: 11,
                },
            ),
            (
                V2_SIGNATURE
                    .iter()
                    .copied()
                    .chain([0x21, 0x21, 0, 35])
                    .collect(),
                V2AddressTooShort {
                    family: "TCP6",
                    need: 36,
                    len: 35,
                },
            ),
            (
                v2(0x21, 0x11, &[]),
                V2AddressTooShort {
                    family: "TCP4",
                    need: 12,
                    len: 0,
                },
            ),
        ];
        for (bytes, want) in cases {
            assert_eq!(
                parse_proxy_header(&bytes),
                Err(want),
                "{:?}",
                String::from_utf8_lossy(&bytes)
            );
        }
    }

    #[test]
    fn error_messages_are_one_line() {
        let e = parse_proxy_header(&v2(0x21, 0x11, &[0; 3])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "PROXY v2: TCP4 address block needs 12 bytes, payload has 3"
        );
        assert_eq!(
            ProxyError::V1TooLong.to_string(),
            "PROXY v1: no CRLF within 107 bytes"
        );
    }

    /// Oracles for any input: no panic (implicit), consumed within the buffer, the
    /// header re-parses from exactly its own bytes, and "need more" only below the cap.
    fn check_invariants(buf: &[u8]) {
        match parse_proxy_header(buf) {
            Ok(Some((header, consumed))) => {
                assert!(consumed > 0 && consumed <= buf.len(), "{buf:?}");
                assert!(consumed <= MAX_HEADER_LEN);
                assert_eq!(
                    parse_proxy_header(&buf[..consumed]),
                    Ok(Some((header, consumed)))
                );
                assert!(header.version == 1 || header.version == 2);
                assert_eq!(header.source.is_some(), header.destination.is_some());
            }
            Ok(None) => assert!(buf.len() < MAX_HEADER_LEN, "{buf:?}"),
            Err(_) => {}
        }
    }

    #[test]
    fn all_one_and_two_byte_inputs() {
        for a in 0..=255u8 {
            check_invariants(&[a]);
            for b in 0..=255u8 {
                check_invariants(&[a, b]);
            }
        }
        // Only bytes that start a signature may ask for more.
        for a in 0..=255u8 {
            let need_more = parse_proxy_header(&[a]) == Ok(None);
            assert_eq!(need_more, a == b'\r' || a == b'P');
        }
    }

    /// xorshift64*: deterministic pseudo-random numbers without a dependency.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 >> 12;
            self.0 ^= self.0 << 25;
            self.0 ^= self.0 >> 27;
            self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
        }
        fn below(&mut self, n: usize) -> usize {
            usize::try_from(self.next() % u64::try_from(n.max(1)).unwrap()).unwrap()
        }
    }

    #[test]
    fn random_mutations_of_valid_headers() {
        let seeds = valid_headers();
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        let interesting = [
            0u8, b' ', b'\r', b'\n', b':', b'.', b'0', b'9', 0x11, 0x21, 0xff,
        ];
        let mut parsed = 0;
        for _ in 0..20_000 {
            let (base, _) = &seeds[rng.below(seeds.len())];
            let mut buf = base.clone();
            for _ in 0..=rng.below(3) {
                let at = rng.below(buf.len());
                let byte = if rng.below(2) == 0 {
                    interesting[rng.below(interesting.len())]
                } else {
                    rng.next().to_le_bytes()[0]
                };
                match rng.below(5) {
                    0 => buf.truncate(at),
                    1 => buf.insert(at, byte),
                    2 if at < buf.len() => {
                        buf.remove(at);
                    }
                    3 => buf.extend(std::iter::repeat_n(byte, rng.below(40))),
                    _ if at < buf.len() => buf[at] = byte,
                    _ => buf.push(byte),
                }
            }
            if parse_proxy_header(&buf).is_ok_and(|r| r.is_some()) {
                parsed += 1;
            }
            check_invariants(&buf);
        }
        // The mutations keep some inputs valid (appended bytes, mutated TLVs), so the
        // success path is exercised too.
        assert!(parsed > 100, "only {parsed} mutants parsed");
    }
}
