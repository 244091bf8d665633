//! `codec`: a structured frame (every packet type, every field) at a chosen version, encoded
//! and decoded. Oracle: decode(encode(f, v), v) == normalized(f, v), consuming every byte.

use super::Outcome;
use crate::proto::Frame;
use arbitrary::{Arbitrary, Unstructured};

/// The structured input: a protocol version and a frame.
#[derive(Arbitrary, Debug)]
pub struct CodecInput {
    /// Any byte: versions outside 2..=6 must round-trip too.
    pub version: u8,
    /// The frame.
    pub frame: Frame,
}

fn parse(data: &[u8]) -> Option<CodecInput> {
    CodecInput::arbitrary_take_rest(Unstructured::new(data)).ok()
}

/// Runs the target.
///
/// # Panics
/// When the round trip fails.
pub fn run(data: &[u8]) -> Outcome {
    let Some(input) = parse(data) else {
        return Outcome::new("input too short for a frame");
    };
    let CodecInput { version, frame } = input;
    let mut bytes = Vec::new();
    frame.encode(version, &mut bytes);
    let expected = frame.clone().normalized(version);
    match Frame::read(&bytes, version, usize::MAX) {
        Ok(Some((decoded, used))) => {
            assert_eq!(
                used,
                bytes.len(),
                "decode did not consume the whole encoding"
            );
            assert_eq!(
                decoded, expected,
                "decode(encode(f)) != normalized(f) at v{version}"
            );
        }
        other => panic!("encoding of {frame:?} at v{version} does not decode: {other:?}"),
    }
    let mut outcome = Outcome::new(format!(
        "{} round-trips at v{version}",
        expected.packet_type()
    ));
    outcome.count("encoded_bytes", bytes.len() as u64);
    outcome
}

/// The Debug form of the structured input.
pub fn describe(data: &[u8]) -> String {
    match parse(data) {
        Some(input) => format!("{input:#?}"),
        None => "input too short for a frame".into(),
    }
}
