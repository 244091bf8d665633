//! `frame`: raw bytes through the wkproto splitter and decoders at every version, then
//! through a real session (after a valid CONNECT) the way the server reads a socket.
//!
//! Oracles: a frame's bounds fit in the input and its body in the limit; `Frame::read`
//! consumes exactly what `split_frame` measured and decodes (or fails on) the body it
//! measured; every decoded frame is in normal form and survives encode -> decode; the
//! session buffers (and allocates) at most one frame plus one read.

use super::Outcome;
use crate::client::Client;
use crate::clock::Time;
use crate::hub::{Hub, HubConfig};
use crate::proto::{split_frame, DeviceFlag, Frame, LATEST_VERSION, MIN_VERSION};
use crate::session::{Session, SessionConfig};

/// Frame limit used here: small, so over-limit lengths are common.
pub const MAX_FRAME: usize = 64 * 1024;

/// Runs the target.
///
/// # Panics
/// When an oracle is violated.
pub fn run(data: &[u8]) -> Outcome {
    let mut outcome = Outcome::new("");
    let mut verdicts = Vec::new();
    for version in MIN_VERSION..=LATEST_VERSION {
        verdicts.push(split_all(data, version, MAX_FRAME, &mut outcome));
    }
    let session_verdict = through_session(data, &mut outcome);
    outcome.verdict = format!("{}; session: {session_verdict}", verdicts.join(", "));
    outcome
}

/// The codec oracles above on `data` at every version and the frame limit `limit`, for
/// targets that send raw bytes inside a larger world (`session`'s raw action, at the
/// server's limit): the server reads the same bytes.
pub(crate) fn check_codec(data: &[u8], limit: usize) {
    let mut scratch = Outcome::new("");
    for version in MIN_VERSION..=LATEST_VERSION {
        split_all(data, version, limit, &mut scratch);
    }
}

/// Splits and decodes every frame of `data` at `version` under the frame limit `limit`;
/// returns a short verdict.
fn split_all(data: &[u8], version: u8, limit: usize, outcome: &mut Outcome) -> String {
    let mut rest = data;
    let mut frames = 0u64;
    loop {
        let bounds = match split_frame(rest, limit) {
            Ok(Some(b)) => b,
            Ok(None) => {
                return format!("v{version}: {frames} frames, {} bytes pending", rest.len())
            }
            Err(e) => {
                outcome.count("split_errors", 1);
                return format!("v{version}: {frames} frames, then {e}");
            }
        };
        let total = bounds.total_len();
        assert!(
            total <= rest.len(),
            "split_frame bounds {bounds:?} exceed the {} bytes given",
            rest.len()
        );
        assert!(
            bounds.body_len <= limit,
            "body {} over the limit",
            bounds.body_len
        );
        // Frame::read is split_frame and then Frame::decode of that body: a reader that
        // measures the header its own way decodes other bytes, and fails or succeeds
        // differently (bug class VARINT), even when both fail.
        let body = rest.get(bounds.header_len..total).unwrap_or_default();
        let direct = Frame::decode(bounds.first_byte, body, version);
        match Frame::read(rest, version, limit) {
            Ok(Some((frame, used))) => {
                assert_eq!(
                    used, total,
                    "Frame::read and split_frame disagree on the frame size"
                );
                assert_eq!(
                    direct.as_ref(),
                    Ok(&frame),
                    "Frame::read and split_frame + decode disagree"
                );
                check_round_trip(&frame, version);
                frames += 1;
                outcome.count("frames", 1);
            }
            Ok(None) => panic!("split_frame found a whole frame that Frame::read calls incomplete"),
            Err(e) => {
                assert_eq!(
                    direct.err(),
                    Some(e),
                    "Frame::read and split_frame + decode disagree"
                );
                outcome.count("decode_errors", 1);
                return format!("v{version}: {frames} frames, then {e}");
            }
        }
        rest = rest.get(total..).unwrap_or_default();
    }
}

/// decode(encode(f)) == f for a decoded frame, which is already in normal form.
pub(crate) fn check_round_trip(frame: &Frame, version: u8) {
    assert_eq!(
        &frame.clone().normalized(version),
        frame,
        "a decoded frame is not in normal form"
    );
    let mut bytes = Vec::new();
    frame.encode(version, &mut bytes);
    match Frame::read(&bytes, version, usize::MAX) {
        Ok(Some((again, used))) => {
            assert_eq!(&again, frame, "decode(encode(f)) != f at v{version}");
            assert_eq!(used, bytes.len(), "re-encoded frame not consumed whole");
        }
        other => panic!("re-encoded frame does not decode at v{version}: {other:?}"),
    }
}

/// Feeds `data` to a session that has just logged in, in reads of varying size.
fn through_session(data: &[u8], outcome: &mut Outcome) -> String {
    let (first, stream) = match data.split_first() {
        Some((f, s)) => (*f, s),
        None => return "no input".into(),
    };
    let version = MIN_VERSION + first % (LATEST_VERSION - MIN_VERSION + 1);
    let config = SessionConfig {
        max_frame: MAX_FRAME,
        key_agreement: crate::x25519_memo::MEMOIZED,
        ..SessionConfig::default()
    };
    let mut hub = Hub::new(HubConfig::default());
    let (id, seed) = hub.open();
    let now = Time::from_unix_millis(1_700_000_000_000);
    let mut session = Session::new(id, seed, config, now);
    let client = Client::new([7; 32], version);
    let connect = client.encode(&client.connect("fuzz", "t", DeviceFlag::APP, 0));
    session.handle_bytes(&connect, now, &mut hub);
    let mut out = Vec::new();
    session.poll_transmit(&mut hub, &mut out);
    assert!(
        session.close_reason().is_none(),
        "a valid CONNECT was refused"
    );
    // Read sizes cycle through a few values so frames straddle reads.
    let sizes = [1usize, 7, 4096, 3, 16 * 1024 + 5];
    let mut rest = stream;
    let mut i = 0usize;
    while !rest.is_empty() && session.close_reason().is_none() {
        let n = sizes
            .get(i % sizes.len())
            .copied()
            .unwrap_or(1)
            .min(rest.len());
        let (chunk, tail) = rest.split_at(n);
        session.handle_bytes(chunk, now, &mut hub);
        assert!(
            session.buffered_len() <= MAX_FRAME + 5 + 16 * 1024,
            "session buffers {} bytes",
            session.buffered_len()
        );
        // What is allocated counts too, not only what is filled (BUF-L5: reserving a
        // declared length before the limit check allocates without buffering). Vec growth
        // at most doubles the longest content, hence the factor.
        assert!(
            session.buffered_capacity() <= 2 * (MAX_FRAME + 5 + 16 * 1024),
            "session allocated {} bytes of read buffer",
            session.buffered_capacity()
        );
        session.poll_transmit(&mut hub, &mut out);
        rest = tail;
        i += 1;
    }
    outcome.count("session_bytes_out", out.len() as u64);
    match session.close_reason() {
        Some((reason, stage)) => {
            outcome.count("session_closed", 1);
            format!("closed at {stage}: {reason}")
        }
        None => "open".into(),
    }
}
