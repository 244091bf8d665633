//! Crash signatures: the panic message with numbers masked, plus where in *our* code it
//! happened (the first backtrace frame in this crate outside the harness, and its file and
//! line). Two inputs that hit one bug share it; two bugs never do, even when they share a
//! message (`index out of bounds` in two functions) or a call path (ClusterFuzz's top three
//! frames merge distinct Rust panics whose top frames are all std's panic machinery).

/// A crash's identity.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Signature(pub String);

impl std::fmt::Display for Signature {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Replaces every run of decimal digits with `N` and every `0x` hex literal with `0xN`.
pub fn mask_numbers(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut chars = message.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '0' && chars.peek() == Some(&'x') {
            chars.next();
            while chars.peek().is_some_and(char::is_ascii_hexdigit) {
                chars.next();
            }
            out.push_str("0xN");
        } else if c.is_ascii_digit() {
            while chars.peek().is_some_and(char::is_ascii_digit) {
                chars.next();
            }
            out.push('N');
        } else {
            out.push(c);
        }
    }
    out
}

/// One frame of a rendered backtrace.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// Demangled function path without the hash.
    pub function: String,
    /// `path:line` if known.
    pub location: Option<String>,
}

/// Parses `std::backtrace::Backtrace`'s Display form.
pub fn parse_backtrace(text: &str) -> Vec<Frame> {
    let mut frames: Vec<Frame> = Vec::new();
    for line in text.lines() {
        let t = line.trim();
        if let Some(rest) = t.strip_prefix("at ") {
            if let Some(last) = frames.last_mut() {
                if last.location.is_none() {
                    // `path:line:col` -> `path:line`
                    let loc = match rest.rsplit_once(':') {
                        Some((head, col)) if col.chars().all(|c| c.is_ascii_digit()) => head,
                        _ => rest,
                    };
                    last.location = Some(loc.to_owned());
                }
            }
        } else if let Some((num, func)) = t.split_once(": ") {
            if !num.is_empty() && num.chars().all(|c| c.is_ascii_digit()) {
                frames.push(Frame {
                    function: strip_hash(func),
                    location: None,
                });
            }
        }
    }
    frames
}

fn strip_hash(func: &str) -> String {
    match func.rsplit_once("::h") {
        Some((head, hash)) if hash.len() == 16 && hash.chars().all(|c| c.is_ascii_hexdigit()) => {
            head.to_owned()
        }
        _ => func.to_owned(),
    }
}

/// Whether a frame is in this crate's code under test (not std, not a dependency, not the
/// harness that catches the panic).
fn is_ours(frame: &Frame) -> bool {
    let f = frame.function.trim_start_matches('<');
    f.starts_with("wkfuzz::") && !f.starts_with("wkfuzz::triage::")
}

/// The signature of a panic with `message` at `panic_location` (`file:line:col`) and a
/// rendered `backtrace`. The location part is the first frame of ours; when the backtrace
/// has none (no debug info) it falls back to the panic location.
pub fn signature(message: &str, panic_location: &str, backtrace: &str) -> Signature {
    let masked = mask_numbers(message.lines().next().unwrap_or(""));
    let frames = parse_backtrace(backtrace);
    let site = match frames.iter().find(|f| is_ours(f)) {
        Some(f) => {
            let function = f.function.trim_end_matches("::{{closure}}");
            match &f.location {
                Some(loc) => format!("{function} ({})", short_path(loc)),
                None => function.to_owned(),
            }
        }
        None => short_path(
            panic_location
                .rsplit_once(':')
                .map_or(panic_location, |(h, _)| h),
        )
        .to_owned(),
    };
    Signature(format!("{masked} @ {site}"))
}

/// A path from `src/` on if it has one (so signatures match across checkouts).
fn short_path(path: &str) -> &str {
    match path.rfind("/src/") {
        Some(i) => path.get(i + 1..).unwrap_or(path),
        None => path.strip_prefix("./").unwrap_or(path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_masked() {
        assert_eq!(
            mask_numbers("range end index 40 out of range for slice of length 7 at 0xdeadBEEF"),
            "range end index N out of range for slice of length N at 0xN"
        );
    }

    const BT: &str = "   0: __rustc::rust_begin_unwind
             at /rustc/abc/library/std/src/panicking.rs:689:5
   1: core::panicking::panic_fmt
             at /rustc/abc/library/core/src/panicking.rs:80:14
   2: wkfuzz::proto::codec::send::read::h0123456789abcdef
             at /work/x/src/proto/codec/send.rs:42:13
   3: wkfuzz::targets::frame::run
             at ./src/targets/frame.rs:10:5
   4: wkfuzz::triage::capture::run_caught
             at ./src/triage/capture.rs:1:1";

    #[test]
    fn first_frame_of_ours_names_the_site() {
        let s = signature(
            "index out of bounds: the len is 3 but the index is 9",
            "src/proto/codec/send.rs:42:13",
            BT,
        );
        assert_eq!(
            s.0,
            "index out of bounds: the len is N but the index is N @ wkfuzz::proto::codec::send::read (src/proto/codec/send.rs:42)"
        );
    }

    #[test]
    fn same_message_in_two_places_is_two_signatures() {
        let other = BT
            .replace("send::read", "recv::read")
            .replace("send.rs:42", "recv.rs:77");
        let msg = "index out of bounds: the len is 3 but the index is 9";
        assert_ne!(signature(msg, "", BT), signature(msg, "", &other));
        // Different numbers, same bug.
        assert_eq!(
            signature(msg, "", BT),
            signature(
                "index out of bounds: the len is 5 but the index is 5",
                "",
                BT
            )
        );
    }

    #[test]
    fn without_our_frames_the_panic_location_is_used() {
        let s = signature(
            "boom",
            "/home/u/.cargo/registry/src/x/rustls/src/msgs/codec.rs:12:5",
            "",
        );
        assert_eq!(s.0, "boom @ src/msgs/codec.rs:12");
    }
}
