//! `proxy`: raw bytes into the PROXY v1/v2 header parser (WuKongIM #458: a header shorter
//! than 12 bytes crashed the server).
//!
//! Oracles: consumed <= len; a header parses the same from exactly its own bytes (it is
//! self-delimiting); one byte less is "need more", never an error or a different header;
//! "need more" only below the longest possible header.

use super::Outcome;
use crate::transport::proxy::{parse_proxy_header, MAX_HEADER_LEN};

/// Runs the target.
///
/// # Panics
/// When an oracle is violated.
pub fn run(data: &[u8]) -> Outcome {
    match parse_proxy_header(data) {
        Ok(Some((header, used))) => {
            assert!(
                used <= data.len(),
                "consumed {used} of {} bytes",
                data.len()
            );
            let own = data.get(..used).unwrap_or_default();
            match parse_proxy_header(own) {
                Ok(Some((again, n))) => {
                    assert_eq!(n, used, "header is not self-delimiting");
                    assert_eq!(
                        again, header,
                        "header parses differently from its own bytes"
                    );
                }
                other => panic!("header does not parse from its own bytes: {other:?}"),
            }
            let shorter = own.get(..used.saturating_sub(1)).unwrap_or_default();
            assert!(
                matches!(parse_proxy_header(shorter), Ok(None)),
                "a header minus its last byte must need more"
            );
            let mut o = Outcome::new(format!("v{} header, {used} bytes", header.version));
            o.count("consumed", used as u64);
            o
        }
        Ok(None) => {
            assert!(
                data.len() < MAX_HEADER_LEN,
                "still needs more after {} bytes",
                data.len()
            );
            Outcome::new("needs more bytes")
        }
        Err(e) => {
            let msg = e.to_string();
            assert!(
                !msg.contains('\n'),
                "error message must be one line: {msg:?}"
            );
            Outcome::new(format!("rejected: {msg}"))
        }
    }
}
