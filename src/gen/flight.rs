//! [`HandshakeInput`]: what the `handshake` fuzz target consumes. A ClientHello, the record
//! plan that carries it, and the records the client sends after it: alerts, CCS, a second
//! ClientHello (the answer to a HelloRetryRequest, or a renegotiation attempt), later
//! handshake messages (ClientKeyExchange, Finished, KeyUpdate, ...) with arbitrary bodies,
//! application data, or unframed garbage.

use arbitrary::{Arbitrary, Result, Unstructured};

use super::client_hello::ClientHelloModel;
use super::length::{put_prefixed, LengthMode, Width};
use super::pick::{bytes_up_to, capped, pick};
use super::records::{put_record, ExtraRecord, RecordPlan, CONTENT_HANDSHAKE, RECORD_VERSION};

/// Most records after the ClientHello.
pub const MAX_LATER_RECORDS: usize = 8;
/// Byte budget for everything after the ClientHello: a record that would overrun it is
/// left out.
pub const MAX_LATER_BYTES: usize = 64 * 1024;
/// Longest body of a later handshake message or garbage run.
pub const MAX_LATER_BODY: usize = 512;

/// The `handshake` target's structured input.
#[derive(Arbitrary, Debug, Clone)]
pub struct HandshakeInput {
    /// The first ClientHello.
    pub hello: ClientHelloModel,
    /// How it is cut into records and damaged.
    pub plan: RecordPlan,
    /// What the client sends next (at most [`MAX_LATER_RECORDS`]).
    #[arbitrary(with = arbitrary_later)]
    pub later: Vec<LaterRecord>,
}

impl HandshakeInput {
    /// The bytes the client sends, in order. Never panics; at most
    /// [`super::MAX_HELLO_LEN`] plus the plan's overhead plus [`MAX_LATER_BYTES`].
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = self.plan.apply(&self.hello.encode());
        let mut budget = MAX_LATER_BYTES;
        for later in self.later.iter().take(MAX_LATER_RECORDS) {
            let mut bytes = Vec::new();
            later.encode(&mut bytes);
            if bytes.len() <= budget {
                budget -= bytes.len();
                out.extend_from_slice(&bytes);
            }
        }
        out
    }
}

/// Something the client sends after its first ClientHello.
#[derive(Debug, Clone)]
pub enum LaterRecord {
    /// A record from the same menu as the plan's insertions.
    Record(ExtraRecord),
    /// Another ClientHello in correct records.
    ClientHello(Box<ClientHelloModel>),
    /// A handshake message in one correct record.
    Handshake {
        /// HandshakeType (16 client_key_exchange, 20 finished, 24 key_update, ...).
        msg_type: u8,
        /// The message body (at most [`MAX_LATER_BODY`]).
        body: Vec<u8>,
        /// The message's u24 length.
        len: LengthMode,
    },
    /// Bytes with no record framing.
    Garbage(Vec<u8>),
}

impl LaterRecord {
    /// Appends the bytes on the wire.
    pub fn encode(&self, out: &mut Vec<u8>) {
        match self {
            LaterRecord::Record(record) => record.encode(out),
            LaterRecord::ClientHello(hello) => {
                out.extend_from_slice(&RecordPlan::identity().apply(&hello.encode()));
            }
            LaterRecord::Handshake {
                msg_type,
                body,
                len,
            } => {
                let mut message = vec![*msg_type];
                put_prefixed(&mut message, Width::U24, *len, |b| {
                    b.extend_from_slice(capped(body, MAX_LATER_BODY));
                });
                put_record(
                    out,
                    CONTENT_HANDSHAKE,
                    RECORD_VERSION,
                    LengthMode::Correct,
                    &message,
                );
            }
            LaterRecord::Garbage(bytes) => out.extend_from_slice(capped(bytes, MAX_LATER_BODY)),
        }
    }
}

impl<'a> Arbitrary<'a> for LaterRecord {
    fn arbitrary(u: &mut Unstructured<'a>) -> Result<Self> {
        Ok(match pick(u, &[45, 10, 35, 10])? {
            0 => LaterRecord::Record(ExtraRecord::arbitrary(u)?),
            1 => LaterRecord::ClientHello(Box::new(ClientHelloModel::arbitrary(u)?)),
            2 => LaterRecord::Handshake {
                msg_type: match pick(u, &[6, 5, 3, 2, 2, 2, 2, 1, 3])? {
                    0 => 16, // client_key_exchange
                    1 => 20, // finished
                    2 => 11, // certificate
                    3 => 15, // certificate_verify
                    4 => 24, // key_update
                    5 => 5,  // end_of_early_data
                    6 => 1,  // client_hello (raw)
                    7 => 0,  // hello_request
                    _ => u8::arbitrary(u)?,
                },
                body: match pick(u, &[3, 2, 1])? {
                    0 => bytes_up_to(u, 64)?,
                    1 => {
                        // client_key_exchange for X25519: a one-byte length and 32 bytes.
                        let mut b = vec![32];
                        b.extend_from_slice(&<[u8; 32]>::arbitrary(u)?);
                        b
                    }
                    _ => bytes_up_to(u, MAX_LATER_BODY)?,
                },
                len: LengthMode::arbitrary(u)?,
            },
            _ => LaterRecord::Garbage(bytes_up_to(u, MAX_LATER_BODY)?),
        })
    }
}

/// None about half the time; otherwise a few.
fn arbitrary_later(u: &mut Unstructured<'_>) -> Result<Vec<LaterRecord>> {
    let n = super::pick::small_count(u, MAX_LATER_RECORDS)?;
    let mut later = Vec::with_capacity(n);
    for _ in 0..n {
        later.push(LaterRecord::arbitrary(u)?);
    }
    Ok(later)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gen::client_hello::{well_formed_tls12, well_formed_tls13};
    use crate::gen::records::Insertion;
    use crate::gen::testutil::{drive, random_buffers};

    #[test]
    fn a_plain_input_is_the_identity_plan_over_the_hello() {
        let input = HandshakeInput {
            hello: well_formed_tls13(),
            plan: RecordPlan::identity(),
            later: Vec::new(),
        };
        assert_eq!(
            input.to_bytes(),
            RecordPlan::identity().apply(&input.hello.encode())
        );
        assert!(drive(&input.to_bytes()).server_hello());
    }

    #[test]
    fn later_records_follow_the_hello() {
        let input = HandshakeInput {
            hello: well_formed_tls12(),
            plan: RecordPlan::identity(),
            later: vec![
                LaterRecord::Handshake {
                    msg_type: 16,
                    body: vec![32; 33],
                    len: LengthMode::Correct,
                },
                LaterRecord::Record(ExtraRecord::ChangeCipherSpec { value: 1 }),
                LaterRecord::Garbage(vec![0xff; 8]),
            ],
        };
        let bytes = input.to_bytes();
        let hello_len = RecordPlan::identity().apply(&input.hello.encode()).len();
        assert_eq!(
            bytes.get(hello_len..hello_len + 9),
            Some(&[22, 3, 3, 0, 37, 16, 0, 0, 33][..])
        );
        assert_eq!(bytes.len(), hello_len + 42 + 6 + 8);
        // The server answers the hello, takes the key exchange and the CCS, then fails on
        // the garbage (content type 0xff), without panicking.
        let out = drive(&bytes);
        assert!(out.error.is_some(), "{out:?}");
    }

    #[test]
    fn a_tls13_hello_then_a_ccs_then_junk_is_an_error_not_a_panic() {
        let input = HandshakeInput {
            hello: well_formed_tls13(),
            plan: RecordPlan {
                inserts: vec![Insertion {
                    at: 1,
                    record: ExtraRecord::ChangeCipherSpec { value: 1 },
                }],
                ..RecordPlan::default()
            },
            later: vec![LaterRecord::Record(ExtraRecord::ApplicationData(vec![
                0;
                40
            ]))],
        };
        let out = drive(&input.to_bytes());
        assert!(out.error.is_some(), "{out:?}");
    }

    #[test]
    fn random_inputs_are_deterministic_bounded_and_never_panic() {
        let mut hello_seen = 0;
        for data in random_buffers(0xf1e7, 500, 4096) {
            let a = HandshakeInput::arbitrary(&mut Unstructured::new(&data)).unwrap();
            let b = HandshakeInput::arbitrary_take_rest(Unstructured::new(&data)).unwrap();
            let bytes = a.to_bytes();
            assert_eq!(
                bytes,
                HandshakeInput::arbitrary(&mut Unstructured::new(&data))
                    .unwrap()
                    .to_bytes()
            );
            // take_rest generates the same prefix fields, so the hello is the same.
            assert_eq!(a.hello.encode(), b.hello.encode());
            assert!(bytes.len() <= crate::gen::MAX_HELLO_LEN * 6 + 2 * 64 * 1024);
            let out = drive(&bytes);
            if out.output.first() == Some(&22) {
                hello_seen += 1;
            }
        }
        println!("random handshake inputs: {hello_seen}/500 got a handshake record back");
    }
}
