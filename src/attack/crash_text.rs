//! Crash text on a server's stderr: what runtimes and sanitizers print when a process (or
//! one of its threads) crashes. Matched at the start of a line, where only the runtime
//! writes (a log line carrying a peer's text has its own prefix), so a peer cannot forge
//! one by sending the words.
//!
//! | kind | line starts with |
//! |---|---|
//! | Rust panic | `thread '<name>' panicked at <location>` |
//! | Go panic | `panic: ` |
//! | Go fatal error | `fatal error: ` |
//! | sanitizer | `==<pid>==ERROR: <Name>Sanitizer`, `WARNING: ThreadSanitizer`, or `<file>:<line>:<col>: runtime error: ` (UBSan) |
//! | C assertion | `<prog>: <file>:<line>: <func>: Assertion ` |

/// A crash line: its kind and a signature (the location or message with numbers masked,
/// so two crashes of one bug share it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrashLine {
    /// What printed it.
    pub kind: &'static str,
    /// The stable part of the line.
    pub signature: String,
}

/// The crash the line reports, if it is a crash line.
pub fn classify(line: &str) -> Option<CrashLine> {
    let line = line.trim_end();
    let found = |kind: &'static str, sig: &str| {
        Some(CrashLine {
            kind,
            signature: format!("{kind}: {}", sig.trim()),
        })
    };
    if let Some(rest) = line.strip_prefix("thread '") {
        // `thread '<name>' panicked at`, or since Rust 1.90 `thread '<name>' (<id>) panicked at`.
        if let Some((_, at)) = rest.split_once(" panicked at ") {
            // The location (file:line:col) is stable; the thread name and id are not.
            return found("rust panic", at.trim_end_matches(':'));
        }
    }
    if let Some(msg) = line.strip_prefix("panic: ") {
        return found("go panic", &mask_numbers(msg));
    }
    if let Some(msg) = line.strip_prefix("fatal error: ") {
        return found("go fatal error", &mask_numbers(msg));
    }
    if line.starts_with("==") {
        for name in [
            "AddressSanitizer",
            "LeakSanitizer",
            "MemorySanitizer",
            "ThreadSanitizer",
        ] {
            if let Some((_, rest)) = line.split_once(&format!("ERROR: {name}")) {
                let what = rest.split(" on ").next().unwrap_or(rest);
                return found("sanitizer", &format!("{name}{}", mask_numbers(what)));
            }
        }
    }
    if line.starts_with("WARNING: ThreadSanitizer") {
        return found("sanitizer", line);
    }
    if let Some((location, msg)) = line.split_once(": runtime error: ") {
        if !location.contains(' ') {
            return found("sanitizer", &format!("{location}: {}", mask_numbers(msg)));
        }
    }
    if let Some((head, _)) = line.split_once(": Assertion `") {
        if line.ends_with("failed.") {
            return found("assertion", head.split_once(": ").map_or(head, |(_, h)| h));
        }
    }
    None
}

/// `text` with every run of digits replaced by `N`.
pub fn mask_numbers(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_number = false;
    for c in text.chars() {
        if c.is_ascii_digit() {
            if !in_number {
                out.push('N');
            }
            in_number = true;
        } else {
            out.push(c);
            in_number = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_crash_lines_are_recognized() {
        let rust =
            classify("thread 'tokio-runtime-worker' panicked at src/planted.rs:238:25:").unwrap();
        assert_eq!(rust.kind, "rust panic");
        assert_eq!(rust.signature, "rust panic: src/planted.rs:238:25");
        let with_id =
            classify("thread 'tokio-runtime-worker' (4242) panicked at src/planted.rs:238:25:")
                .unwrap();
        assert_eq!(with_id, rust);
        let go = classify("panic: runtime error: index out of range [5] with length 3").unwrap();
        assert_eq!(
            go.signature,
            "go panic: runtime error: index out of range [N] with length N"
        );
        assert_eq!(
            classify("fatal error: concurrent map writes").unwrap().kind,
            "go fatal error"
        );
        let asan = classify(
            "==12345==ERROR: AddressSanitizer: heap-buffer-overflow on address 0x602000000011",
        )
        .unwrap();
        assert_eq!(
            asan.signature,
            "sanitizer: AddressSanitizer: heap-buffer-overflow"
        );
        assert_eq!(
            classify("src/x.c:10:5: runtime error: signed integer overflow: 1 + 2147483647")
                .unwrap()
                .kind,
            "sanitizer"
        );
        assert_eq!(
            classify("srv: srv.c:12: main: Assertion `n > 0' failed.")
                .unwrap()
                .signature,
            "assertion: srv.c:12: main"
        );
    }

    #[test]
    fn log_lines_quoting_crash_words_are_not_crashes() {
        for line in [
            "2026-12-01T15:23:03Z INFO connection closed uid=\"panic: x\" reason=\"panicked at\"",
            "2026-12-01T15:23:03Z ERROR connection task panicked; closing only this connection",
            "note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace",
            "",
        ] {
            assert_eq!(classify(line), None, "{line}");
        }
    }
}
