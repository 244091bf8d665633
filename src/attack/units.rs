//! A case's bytes cut into the units its protocol is made of, so minimization can drop
//! whole units before single bytes (byte-level ddmin cannot shorten a length-prefixed
//! message: every byte it removes breaks the prefix): wkproto frames on the app layer,
//! TLS records on the socket layer, the HTTP request head and WebSocket frames on the
//! stream layer. What does not parse stays one last unit.

use super::case::{Layer, WireCase};
use crate::gen::ws::read_header;

/// The units of `case`'s bytes; their concatenation is the bytes.
pub fn units(case: &WireCase) -> Vec<Vec<u8>> {
    let WireCase::Bytes { layer, bytes, .. } = case else {
        return vec![case.data().to_vec()];
    };
    let mut out = Vec::new();
    let mut rest: &[u8] = bytes;
    if *layer == Layer::Stream {
        if let Some(end) = rest.windows(4).position(|w| w == b"\r\n\r\n") {
            let (head, tail) = rest.split_at(end + 4);
            out.push(head.to_vec());
            rest = tail;
        }
    }
    while let Some(len) = unit_len(*layer, rest) {
        if len == 0 || len > rest.len() {
            break;
        }
        let (unit, tail) = rest.split_at(len);
        out.push(unit.to_vec());
        rest = tail;
    }
    if !rest.is_empty() {
        out.push(rest.to_vec());
    }
    out
}

/// The length of the unit at the start of `rest`, if one is whole there.
fn unit_len(layer: Layer, rest: &[u8]) -> Option<usize> {
    match layer {
        Layer::App => match crate::proto::split_frame(rest, usize::MAX) {
            Ok(Some(b)) => Some(b.total_len()),
            _ => None,
        },
        Layer::Socket => {
            let header = rest.get(..5)?;
            let len = usize::from(u16::from_be_bytes([*header.get(3)?, *header.get(4)?]));
            Some(5 + len)
        }
        Layer::Stream => {
            let h = read_header(rest)?;
            usize::try_from(h.len).ok()?.checked_add(h.header_len)
        }
        Layer::Proxy => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn app_bytes_split_into_frames_and_a_rest() {
        // PING, a SENDACK header with a 2-byte body, then junk.
        let bytes = vec![0x70, 0x40, 0x02, 0xaa, 0xbb, 0xff];
        let case = WireCase::Bytes {
            layer: Layer::App,
            login: Some(4),
            bytes: bytes.clone(),
        };
        let u = units(&case);
        assert_eq!(
            u,
            vec![vec![0x70], vec![0x40, 0x02, 0xaa, 0xbb], vec![0xff]]
        );
        assert_eq!(u.concat(), bytes);
    }

    #[test]
    fn socket_bytes_split_into_records() {
        let bytes = vec![0x16, 3, 1, 0, 2, 9, 9, 0x15, 3, 3, 0, 9, 1];
        let u = units(&WireCase::bytes(Layer::Socket, bytes.clone()));
        assert_eq!(u.len(), 2);
        assert_eq!(u.concat(), bytes);
        let script = WireCase::Script(vec![1, 2, 3]);
        assert_eq!(units(&script), vec![vec![1, 2, 3]]);
    }
}
