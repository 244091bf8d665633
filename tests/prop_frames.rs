//! Properties of the wkproto codec: decode(encode(f)) == f (normalised for the version) for
//! every frame the codec fuzz model generates and every version byte; and any byte string,
//! random or a damaged encoding, either decodes or gives an error, consuming at most its
//! length, and what decodes re-encodes to the same frame.

mod prop_support;

use prop_support::{config, damages, model};
use proptest::prelude::*;
use wkfuzz::gen::Damage;
use wkfuzz::proto::{split_frame, Frame};

/// Model bytes per frame: enough for every field of the largest packet.
const FRAME_MODEL_BYTES: usize = 600;

/// The decoding properties every input must satisfy; returns whether it decoded.
fn check_decode(bytes: &[u8], version: u8, max_frame: usize) -> Result<bool, TestCaseError> {
    if let Ok(Some(b)) = split_frame(bytes, max_frame) {
        prop_assert!(b.total_len() <= bytes.len(), "split past the end");
    }
    match Frame::read(bytes, version, max_frame) {
        Ok(Some((frame, used))) => {
            prop_assert!(used <= bytes.len(), "consumed {used} of {}", bytes.len());
            prop_assert!(used > 0);
            // What decodes re-encodes to bytes that decode to the same frame.
            let again = frame.to_bytes(version);
            match Frame::read(&again, version, usize::MAX) {
                Ok(Some((f2, n))) => {
                    prop_assert_eq!(n, again.len());
                    prop_assert_eq!(f2, frame.normalized(version));
                }
                other => prop_assert!(false, "re-encoding does not decode: {other:?}"),
            }
            Ok(true)
        }
        Ok(None) | Err(_) => Ok(false),
    }
}

proptest! {
    #![proptest_config(config("prop_frames"))]

    /// decode(encode(f, v), v) == normalized(f, v), consuming exactly the encoding.
    #[test]
    fn decode_inverts_encode(frame in model::<Frame>(FRAME_MODEL_BYTES), version in any::<u8>()) {
        let bytes = frame.to_bytes(version);
        let expected = frame.clone().normalized(version);
        match Frame::read(&bytes, version, usize::MAX) {
            Ok(Some((decoded, used))) => {
                prop_assert_eq!(used, bytes.len());
                prop_assert_eq!(decoded, expected);
            }
            other => prop_assert!(false, "{frame:?} at v{version}: {other:?}"),
        }
    }

    /// Any byte string decodes or errs, consuming at most its length.
    #[test]
    fn any_bytes_decode_or_err(
        bytes in proptest::collection::vec(any::<u8>(), 0..300),
        version in any::<u8>(),
        max_frame in prop_oneof![Just(usize::MAX), Just(1024 * 1024), 0usize..64],
    ) {
        check_decode(&bytes, version, max_frame)?;
    }

    /// A damaged valid encoding decodes or errs, consuming at most its length.
    #[test]
    fn damaged_frames_decode_or_err(
        frame in model::<Frame>(FRAME_MODEL_BYTES),
        version in 2u8..=6,
        damage in damages(),
    ) {
        let bytes = Damage::apply_all(&damage, &frame.to_bytes(version));
        check_decode(&bytes, version, usize::MAX)?;
    }
}
