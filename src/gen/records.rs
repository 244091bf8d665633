//! [`RecordPlan`]: how handshake bytes are wrapped into TLS records, and how those records
//! are damaged.
//!
//! Wire grammar (RFC 8446 section 5.1):
//! `struct { ContentType type; ProtocolVersion legacy_record_version; uint16 length;
//! opaque fragment[length]; } TLSPlaintext;` with `length <= 2^14`.
//!
//! The identity plan ([`RecordPlan::identity`], also `Default`) writes one correct
//! handshake record (type 22, version 0x0301 as clients use for the first flight) per
//! 2^14-byte chunk. A generated plan may also cut the bytes at arbitrary points or into
//! fixed-size fragments, override a record's type, version or length, insert other records
//! (alerts, ChangeCipherSpec, empty, oversized, application data, anything) before, between
//! or after the handshake records, and drop bytes from the end.

use std::collections::BTreeSet;

use arbitrary::{Arbitrary, Result, Unstructured};

use super::length::{put_prefixed, put_u16, LengthMode, Width};
use super::pick::{bytes_up_to, capped, pick, rarely, small_count};

/// ContentType change_cipher_spec.
pub const CONTENT_CHANGE_CIPHER_SPEC: u8 = 20;
/// ContentType alert.
pub const CONTENT_ALERT: u8 = 21;
/// ContentType handshake.
pub const CONTENT_HANDSHAKE: u8 = 22;
/// ContentType application_data.
pub const CONTENT_APPLICATION_DATA: u8 = 23;
/// Record version of the handshake records (0x0301: what clients put on a ClientHello).
pub const HELLO_RECORD_VERSION: u16 = 0x0301;
/// Record version of inserted records.
pub const RECORD_VERSION: u16 = 0x0303;
/// Largest plaintext fragment (RFC 8446 section 5.1: `length` MUST NOT exceed 2^14).
pub const MAX_FRAGMENT: usize = 16_384;
/// Smallest oversized record: one byte over the plaintext limit.
pub const OVERSIZED_MIN: u16 = 16_385;
/// Largest oversized record: past 2^14+256 (TLS 1.2's compressed limit) and 2^14+2048
/// (the ciphertext limit, where rustls refuses the header alone).
pub const OVERSIZED_MAX: u16 = 18_448;
/// Most extra cut points a plan applies.
pub const MAX_CUTS: usize = 32;
/// Most per-record header overrides (records after these get correct headers).
pub const MAX_HEADER_OVERRIDES: usize = 16;
/// Most inserted records.
pub const MAX_INSERTS: usize = 8;
/// Byte budget for inserted records: an insertion that would overrun it is skipped.
pub const MAX_INSERTED_BYTES: usize = 64 * 1024;
/// Longest application_data or raw record body.
pub const MAX_RECORD_BODY: usize = 512;

/// How to wrap handshake bytes into records. See the module docs.
#[derive(Arbitrary, Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordPlan {
    /// Fragment size: 0 means 2^14 (the identity); n cuts every n bytes.
    #[arbitrary(with = arbitrary_max_fragment)]
    pub max_fragment: u16,
    /// Extra cut points, each taken modulo the handshake length + 1 (at most
    /// [`MAX_CUTS`]; cuts at 0, at the end, or repeated add nothing).
    #[arbitrary(with = arbitrary_cuts)]
    pub cuts: Vec<u16>,
    /// Header overrides for the handshake records, by record index (at most
    /// [`MAX_HEADER_OVERRIDES`]); records without one get a correct header.
    #[arbitrary(with = arbitrary_headers)]
    pub headers: Vec<RecordHeader>,
    /// Records inserted among the handshake records (at most [`MAX_INSERTS`]).
    #[arbitrary(with = arbitrary_inserts)]
    pub inserts: Vec<Insertion>,
    /// Bytes dropped from the end of the output.
    #[arbitrary(with = arbitrary_truncate)]
    pub truncate: u16,
}

/// Overrides for one handshake record's header.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecordHeader {
    /// Content type instead of 22.
    pub content_type: Option<u8>,
    /// Record version instead of [`HELLO_RECORD_VERSION`].
    pub version: Option<u16>,
    /// The record length.
    pub len: LengthMode,
}

/// A record inserted before the handshake record with index `at` (modulo the number of
/// handshake records + 1, so the last slot is after all of them).
#[derive(Arbitrary, Debug, Clone, PartialEq, Eq)]
pub struct Insertion {
    /// Where: before handshake record `at % (records + 1)`.
    pub at: u8,
    /// What.
    pub record: ExtraRecord,
}

/// A whole record that is not part of the handshake bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExtraRecord {
    /// An alert: `struct { AlertLevel level; AlertDescription description; }`.
    Alert {
        /// 1 warning, 2 fatal, anything else is illegal.
        level: u8,
        /// The description code.
        description: u8,
    },
    /// ChangeCipherSpec; `value` is 1 in a legal one.
    ChangeCipherSpec {
        /// The single body byte.
        value: u8,
    },
    /// A zero-length record of this content type (legal only for application_data).
    Empty {
        /// The content type.
        content_type: u8,
    },
    /// A record longer than any limit, filled with one byte.
    Oversized {
        /// The content type.
        content_type: u8,
        /// Body length, clamped to [`OVERSIZED_MIN`]`..=`[`OVERSIZED_MAX`] when encoded.
        len: u16,
        /// The fill byte.
        fill: u8,
    },
    /// application_data with this body (at most [`MAX_RECORD_BODY`]).
    ApplicationData(Vec<u8>),
    /// Anything: any content type and version, a body, its length right or wrong.
    Raw {
        /// The content type.
        content_type: u8,
        /// The record version.
        version: u16,
        /// The body (at most [`MAX_RECORD_BODY`]).
        body: Vec<u8>,
        /// The record length.
        len: LengthMode,
    },
}

/// Appends one record header and body.
pub fn put_record(out: &mut Vec<u8>, content_type: u8, version: u16, len: LengthMode, body: &[u8]) {
    out.push(content_type);
    put_u16(out, version);
    put_prefixed(out, Width::U16, len, |b| b.extend_from_slice(body));
}

impl ExtraRecord {
    /// Appends the record.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            ExtraRecord::Alert { level, description } => {
                put_record(
                    out,
                    CONTENT_ALERT,
                    RECORD_VERSION,
                    LengthMode::Correct,
                    &[*level, *description],
                );
            }
            ExtraRecord::ChangeCipherSpec { value } => {
                put_record(
                    out,
                    CONTENT_CHANGE_CIPHER_SPEC,
                    RECORD_VERSION,
                    LengthMode::Correct,
                    &[*value],
                );
            }
            ExtraRecord::Empty { content_type } => {
                put_record(out, *content_type, RECORD_VERSION, LengthMode::Correct, &[]);
            }
            ExtraRecord::Oversized {
                content_type,
                len,
                fill,
            } => {
                let len = (*len).clamp(OVERSIZED_MIN, OVERSIZED_MAX);
                out.push(*content_type);
                put_u16(out, RECORD_VERSION);
                put_u16(out, len);
                out.resize(out.len() + usize::from(len), *fill);
            }
            ExtraRecord::ApplicationData(body) => put_record(
                out,
                CONTENT_APPLICATION_DATA,
                RECORD_VERSION,
                LengthMode::Correct,
                capped(body, MAX_RECORD_BODY),
            ),
            ExtraRecord::Raw {
                content_type,
                version,
                body,
                len,
            } => {
                put_record(
                    out,
                    *content_type,
                    *version,
                    *len,
                    capped(body, MAX_RECORD_BODY),
                );
            }
        }
    }
}

impl<'a> Arbitrary<'a> for ExtraRecord {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(match pick(u, &[30, 25, 10, 5, 15, 15])? {
            0 => ExtraRecord::Alert {
                level: match pick(u, &[5, 4, 1])? {
                    0 => 1,
                    1 => 2,
                    _ => u8::arbitrary(u)?,
                },
                description: match pick(u, &[20, 15, 10, 10, 10, 10, 5, 20])? {
                    0 => 0,   // close_notify
                    1 => 90,  // user_canceled
                    2 => 10,  // unexpected_message
                    3 => 40,  // handshake_failure
                    4 => 50,  // decode_error
                    5 => 100, // no_renegotiation
                    6 => 112, // unrecognized_name
                    _ => u8::arbitrary(u)?,
                },
            },
            1 => ExtraRecord::ChangeCipherSpec {
                value: if rarely(u, 32)? { u8::arbitrary(u)? } else { 1 },
            },
            2 => ExtraRecord::Empty {
                content_type: arbitrary_content_type(u)?,
            },
            3 => ExtraRecord::Oversized {
                content_type: arbitrary_content_type(u)?,
                len: u.int_in_range(OVERSIZED_MIN..=OVERSIZED_MAX)?,
                fill: u8::arbitrary(u)?,
            },
            4 => ExtraRecord::ApplicationData(bytes_up_to(u, MAX_RECORD_BODY)?),
            _ => ExtraRecord::Raw {
                content_type: match pick(u, &[3, 2, 5])? {
                    0 => 24, // heartbeat
                    1 => 25, // tls12_cid
                    _ => u8::arbitrary(u)?,
                },
                version: arbitrary_record_version(u)?,
                body: bytes_up_to(u, 64)?,
                len: LengthMode::arbitrary(u)?,
            },
        })
    }
}

/// Handshake, alert, CCS or application data, or rarely anything.
fn arbitrary_content_type(u: &mut Unstructured<'_>) -> Result<u8> {
    Ok(match pick(u, &[4, 3, 3, 3, 2])? {
        0 => CONTENT_HANDSHAKE,
        1 => CONTENT_ALERT,
        2 => CONTENT_CHANGE_CIPHER_SPEC,
        3 => CONTENT_APPLICATION_DATA,
        _ => u8::arbitrary(u)?,
    })
}

/// A record version worth trying: legal ones, SSL 2, DTLS, zero, or anything.
fn arbitrary_record_version(u: &mut Unstructured<'_>) -> Result<u16> {
    Ok(match pick(u, &[4, 3, 2, 2, 2, 2, 3])? {
        0 => RECORD_VERSION,
        1 => 0x0304,
        2 => 0x0300,
        3 => 0x0200,
        4 => 0xfefd,
        5 => 0x0000,
        _ => u16::arbitrary(u)?,
    })
}

impl<'a> Arbitrary<'a> for RecordHeader {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        let content_type = if rarely(u, 48)? {
            Some(arbitrary_content_type(u)?)
        } else {
            None
        };
        let version = if rarely(u, 48)? {
            Some(arbitrary_record_version(u)?)
        } else {
            None
        };
        Ok(RecordHeader {
            content_type,
            version,
            len: LengthMode::arbitrary(u)?,
        })
    }
}

fn arbitrary_max_fragment(u: &mut Unstructured<'_>) -> Result<u16> {
    if !rarely(u, 24)? {
        return Ok(0);
    }
    Ok(match pick(u, &[3, 3, 3, 1])? {
        0 => 1,
        1 => u.int_in_range(2..=16)?,
        2 => u.int_in_range(17..=1024)?,
        _ => u16::arbitrary(u)?,
    })
}

fn arbitrary_cuts(u: &mut Unstructured<'_>) -> Result<Vec<u16>> {
    if !rarely(u, 48)? {
        return Ok(Vec::new());
    }
    let n = 1 + small_count(u, MAX_CUTS - 1)?;
    let mut cuts = Vec::with_capacity(n);
    for _ in 0..n {
        cuts.push(u16::arbitrary(u)?);
    }
    Ok(cuts)
}

fn arbitrary_headers(u: &mut Unstructured<'_>) -> Result<Vec<RecordHeader>> {
    if !rarely(u, 64)? {
        return Ok(Vec::new());
    }
    let n = 1 + small_count(u, MAX_HEADER_OVERRIDES - 1)?;
    let mut headers = Vec::with_capacity(n);
    for _ in 0..n {
        headers.push(RecordHeader::arbitrary(u)?);
    }
    Ok(headers)
}

fn arbitrary_inserts(u: &mut Unstructured<'_>) -> Result<Vec<Insertion>> {
    if !rarely(u, 64)? {
        return Ok(Vec::new());
    }
    let n = 1 + small_count(u, MAX_INSERTS - 1)?;
    let mut inserts = Vec::with_capacity(n);
    for _ in 0..n {
        inserts.push(Insertion::arbitrary(u)?);
    }
    Ok(inserts)
}

fn arbitrary_truncate(u: &mut Unstructured<'_>) -> Result<u16> {
    if !rarely(u, 8)? {
        return Ok(0);
    }
    Ok(match pick(u, &[3, 1])? {
        0 => u.int_in_range(1..=8)?,
        _ => u16::arbitrary(u)?,
    })
}

impl RecordPlan {
    /// One correct handshake record per 2^14-byte chunk; nothing else.
    pub fn identity() -> Self {
        RecordPlan::default()
    }

    /// A plan that only cuts at `cuts` (handshake offsets).
    pub fn cut_at(cuts: impl Into<Vec<u16>>) -> Self {
        RecordPlan {
            cuts: cuts.into(),
            ..RecordPlan::default()
        }
    }

    /// The handshake bytes split into record fragments: at every cut and every
    /// `max_fragment` bytes. Empty input gives no fragments.
    pub fn fragments<'h>(&self, handshake: &'h [u8]) -> Vec<&'h [u8]> {
        let len = handshake.len();
        let step = match usize::from(self.max_fragment) {
            0 => MAX_FRAGMENT,
            n => n,
        };
        let mut bounds: BTreeSet<usize> = (step..len).step_by(step).collect();
        let modulus = len.saturating_add(1);
        bounds.extend(
            self.cuts
                .iter()
                .take(MAX_CUTS)
                .map(|&c| usize::from(c) % modulus)
                .filter(|&p| p > 0 && p < len),
        );
        bounds.insert(len);
        let mut fragments = Vec::with_capacity(bounds.len());
        let mut start = 0;
        for end in bounds {
            if end > start {
                fragments.push(handshake.get(start..end).unwrap_or_default());
                start = end;
            }
        }
        fragments
    }

    /// [`apply`](Self::apply) to the messages carried by the records of `wire` (a client's
    /// first flight as rustls wrote it): the same handshake bytes, re-cut by this plan.
    pub fn recut(&self, wire: &[u8]) -> Vec<u8> {
        self.apply(&record_payloads(wire))
    }

    /// The record-layer bytes for `handshake`. Never panics; the output is at most the
    /// handshake plus 5 bytes per fragment plus [`MAX_INSERTED_BYTES`].
    pub fn apply(&self, handshake: &[u8]) -> Vec<u8> {
        let fragments = self.fragments(handshake);
        let slots = fragments.len() + 1;
        let mut out = Vec::with_capacity(handshake.len() + 5 * slots);
        let mut budget = MAX_INSERTED_BYTES;
        let inserts: Vec<&Insertion> = self.inserts.iter().take(MAX_INSERTS).collect();
        for slot in 0..slots {
            for ins in inserts
                .iter()
                .filter(|ins| usize::from(ins.at) % slots == slot)
            {
                let mut record = Vec::new();
                ins.record.encode(&mut record);
                if record.len() <= budget {
                    budget -= record.len();
                    out.extend_from_slice(&record);
                }
            }
            if let Some(fragment) = fragments.get(slot) {
                let header = self
                    .headers
                    .iter()
                    .take(MAX_HEADER_OVERRIDES)
                    .nth(slot)
                    .copied()
                    .unwrap_or_default();
                put_record(
                    &mut out,
                    header.content_type.unwrap_or(CONTENT_HANDSHAKE),
                    header.version.unwrap_or(HELLO_RECORD_VERSION),
                    header.len,
                    fragment,
                );
            }
        }
        let keep = out.len().saturating_sub(usize::from(self.truncate));
        out.truncate(keep);
        out
    }
}

/// The payloads of the records in `wire`, concatenated (for a first flight: the handshake
/// messages). Stops at the first truncated record.
pub fn record_payloads(wire: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = wire;
    while let [_, _, _, hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
        let Some(body) = tail.get(..len) else { break };
        out.extend_from_slice(body);
        rest = tail.get(len..).unwrap_or_default();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen::client_hello::{well_formed_tls12, well_formed_tls13};
    use crate::gen::testutil::{drive, random_buffers};

    #[test]
    fn identity_frames_like_the_test_helper() {
        let hs: Vec<u8> = (0..MAX_FRAGMENT * 2 + 3).map(|i| i as u8).collect();
        assert_eq!(
            RecordPlan::identity().apply(&hs),
            crate::gen::testutil::in_records(&hs)
        );
    }

    #[test]
    fn identity_is_one_correct_record() {
        let hs = [1, 0, 0, 2, 0xaa, 0xbb];
        assert_eq!(
            RecordPlan::identity().apply(&hs),
            [22, 3, 1, 0, 6, 1, 0, 0, 2, 0xaa, 0xbb]
        );
        assert!(RecordPlan::identity().apply(&[]).is_empty());
    }

    #[test]
    fn record_payloads_undoes_the_identity_plan() {
        let hs: Vec<u8> = (0..MAX_FRAGMENT * 2 + 3).map(|i| i as u8).collect();
        let wire = RecordPlan::identity().apply(&hs);
        assert_eq!(record_payloads(&wire), hs);
        // A truncated last record is left out, whole records before it are kept.
        let cut = wire.get(..wire.len() - 1).unwrap_or_default();
        assert_eq!(
            record_payloads(cut),
            hs.get(..MAX_FRAGMENT * 2).unwrap_or_default()
        );
    }

    #[test]
    fn identity_chunks_at_the_fragment_limit() {
        let hs = vec![7u8; MAX_FRAGMENT * 2 + 1];
        let out = RecordPlan::identity().apply(&hs);
        assert_eq!(out.len(), hs.len() + 15);
        assert_eq!(out.get(..5), Some(&[22, 3, 1, 0x40, 0][..]));
        let third = 2 * (5 + MAX_FRAGMENT);
        assert_eq!(out.get(third..third + 5), Some(&[22, 3, 1, 0, 1][..]));
    }

    #[test]
    fn cuts_and_inserts_land_where_asked() {
        let plan = RecordPlan {
            cuts: vec![2, 2, 0, 100],
            inserts: vec![Insertion {
                at: 1,
                record: ExtraRecord::ChangeCipherSpec { value: 1 },
            }],
            ..RecordPlan::default()
        };
        // 100 % 5 == 0: no cut; 2 twice: one cut.
        let out = plan.apply(&[1, 2, 3, 4]);
        assert_eq!(
            out,
            [22, 3, 1, 0, 2, 1, 2, 20, 3, 3, 0, 1, 1, 22, 3, 1, 0, 2, 3, 4]
        );
    }

    #[test]
    fn oversized_records_are_clamped_and_truncation_is_applied() {
        let mut out = Vec::new();
        ExtraRecord::Oversized {
            content_type: 22,
            len: 5,
            fill: 9,
        }
        .encode(&mut out);
        assert_eq!(out.len(), 5 + usize::from(OVERSIZED_MIN));
        let plan = RecordPlan {
            truncate: 3,
            ..RecordPlan::default()
        };
        assert_eq!(plan.apply(&[1, 2, 3, 4]), [22, 3, 1, 0, 4, 1]);
        let plan = RecordPlan {
            truncate: u16::MAX,
            ..RecordPlan::default()
        };
        assert!(plan.apply(&[1, 2, 3, 4]).is_empty());
    }

    #[test]
    fn fragmenting_at_every_position_still_gets_a_server_hello() {
        for hello in [well_formed_tls13(), well_formed_tls12()] {
            let hs = hello.encode();
            for p in 1..hs.len() {
                let p = u16::try_from(p).unwrap();
                let out = drive(&RecordPlan::cut_at([p]).apply(&hs));
                assert!(out.server_hello(), "cut at {p}: {out:?}");
            }
        }
    }

    #[test]
    fn one_byte_records_still_get_a_server_hello() {
        let hs = well_formed_tls13().encode();
        let plan = RecordPlan {
            max_fragment: 1,
            ..RecordPlan::default()
        };
        let bytes = plan.apply(&hs);
        assert_eq!(bytes.len(), hs.len() * 6);
        assert!(drive(&bytes).server_hello());
    }

    #[test]
    fn damaged_records_are_errors_not_panics() {
        let hs = well_formed_tls13().encode();
        let damaged = [
            RecordPlan {
                headers: vec![RecordHeader {
                    content_type: Some(23),
                    ..RecordHeader::default()
                }],
                ..RecordPlan::default()
            },
            RecordPlan {
                headers: vec![RecordHeader {
                    version: Some(0x0200),
                    ..RecordHeader::default()
                }],
                ..RecordPlan::default()
            },
            RecordPlan {
                inserts: vec![Insertion {
                    at: 0,
                    record: ExtraRecord::Empty { content_type: 22 },
                }],
                ..RecordPlan::default()
            },
            RecordPlan {
                inserts: vec![Insertion {
                    at: 0,
                    record: ExtraRecord::Oversized {
                        content_type: 22,
                        len: 16_641,
                        fill: 0,
                    },
                }],
                ..RecordPlan::default()
            },
            // An alert between two halves of the hello.
            RecordPlan {
                cuts: vec![10],
                inserts: vec![Insertion {
                    at: 1,
                    record: ExtraRecord::Alert {
                        level: 1,
                        description: 90,
                    },
                }],
                ..RecordPlan::default()
            },
        ];
        for plan in damaged {
            let out = drive(&plan.apply(&hs));
            assert!(
                out.error.is_some() || out.io_error.is_some(),
                "{plan:?}: {out:?}"
            );
            assert!(!out.server_hello());
        }
    }

    #[test]
    fn random_plans_never_panic_and_stay_bounded() {
        let hs = well_formed_tls13().encode();
        let mut accepted = 0;
        for data in random_buffers(0xec0d, 500, 1024) {
            let plan = RecordPlan::arbitrary(&mut Unstructured::new(&data)).unwrap();
            let again = RecordPlan::arbitrary(&mut Unstructured::new(&data)).unwrap();
            assert_eq!(plan, again);
            let bytes = plan.apply(&hs);
            assert!(bytes.len() <= hs.len() * 6 + MAX_INSERTED_BYTES);
            if drive(&bytes).server_hello() {
                accepted += 1;
            }
        }
        println!("random plans over a well-formed hello: {accepted}/500 accepted");
        assert!(accepted > 100, "{accepted}");
    }
}
