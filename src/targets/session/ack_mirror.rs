//! The RECVACKs, SENDs and CONNECTs the server reads from a connection the script wrote raw
//! bytes into.
//!
//! Raw bytes may be whole frames (a RECVACK or a SEND among them) or break the framing, so
//! that the server reads the client's next frames shifted. Either way the server
//! acknowledges by message id whatever RECVACK it splits out, and accepts a raw SEND that
//! says NO_ENCRYPT (no msgKey to check); the delivery ledger must know both, or a message
//! acknowledged that way is still expected at the uid's next login, and one accepted that
//! way reaches recipients as a message nobody sent; a raw CONNECT on a fresh connection logs
//! in whoever it names, with a key the harness may not hold. From the first raw write on, every
//! wkproto byte the client sends passes through this mirror, which splits the stream as the
//! server does (the same function, the same limit) and decodes each of those frames at the
//! connection's version; other frames' bodies are skipped, not kept.

use crate::proto::{frame_header, Connect, Frame, Packet, PacketType, Send, DEFAULT_MAX_FRAME};

/// A frame the server reads that the ledger must know of.
#[derive(Debug, PartialEq)]
pub(super) enum Read {
    /// A RECVACK of this message id.
    Ack(i64),
    /// A SEND.
    Send(Send),
    /// A CONNECT.
    Connect(Connect),
}

/// The server's split of one connection's stream, as far as RECVACKs, SENDs and CONNECTs go.
#[derive(Debug, Default)]
pub(super) struct AckMirror {
    /// Bytes of the frame being split: its header, or a whole frame of a kept type.
    pending: Vec<u8>,
    /// Body bytes of a frame of another type, still to skip.
    skip: usize,
    /// The stream stopped splitting (or a frame kept did not decode): the server closes the
    /// connection and reads nothing more.
    broken: bool,
}

impl AckMirror {
    /// Follows `bytes` sent after everything fed before; returns the RECVACKs, SENDs and
    /// CONNECTs the server reads in them, in order.
    pub(super) fn feed(&mut self, bytes: &[u8], version: u8) -> Vec<Read> {
        let mut reads = Vec::new();
        let mut rest = bytes;
        while !self.broken && !rest.is_empty() {
            if self.skip > 0 {
                let n = self.skip.min(rest.len());
                self.skip -= n;
                rest = rest.get(n..).unwrap_or_default();
                continue;
            }
            // One header byte at a time (headers are at most five bytes), then a kept
            // frame's body at once: taken byte by byte, a megabyte SEND cost millions of
            // header reads.
            let want = match frame_header(&self.pending, DEFAULT_MAX_FRAME) {
                Ok(Some(bounds)) => bounds.total_len().saturating_sub(self.pending.len()),
                _ => 1,
            }
            .clamp(1, rest.len());
            let (taken, left) = rest.split_at(want);
            self.pending.extend_from_slice(taken);
            rest = left;
            self.step(version, &mut reads);
        }
        reads
    }

    /// Ends the frame in `pending` if it is complete (or skips the body of one not kept).
    fn step(&mut self, version: u8, reads: &mut Vec<Read>) {
        let bounds = match frame_header(&self.pending, DEFAULT_MAX_FRAME) {
            Ok(Some(bounds)) => bounds,
            Ok(None) => return,
            Err(_) => {
                self.broken = true;
                return;
            }
        };
        let kept = [PacketType::RECVACK, PacketType::SEND, PacketType::CONNECT]
            .contains(&PacketType(bounds.first_byte >> 4));
        let total = bounds.total_len();
        if kept && self.pending.len() < total {
            return;
        }
        if kept {
            let body = self
                .pending
                .get(bounds.header_len..total)
                .unwrap_or_default();
            match Frame::decode(bounds.first_byte, body, version).map(|f| f.packet) {
                Ok(Packet::Recvack(ack)) => reads.push(Read::Ack(ack.message_id)),
                Ok(Packet::Send(send)) => reads.push(Read::Send(send)),
                Ok(Packet::Connect(connect)) => reads.push(Read::Connect(connect)),
                _ => self.broken = true,
            }
        } else {
            self.skip = total.saturating_sub(self.pending.len());
        }
        self.pending.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::proto::Recvack;

    fn recvack(id: i64, version: u8) -> Vec<u8> {
        Frame::new(Packet::Recvack(Recvack {
            message_id: id,
            message_seq: 9,
        }))
        .to_bytes(version)
    }

    fn send(payload_len: usize) -> Send {
        Send {
            channel_id: "u1".into(),
            expire: Some(0),
            payload: vec![b'A'; payload_len],
            ..Send::default()
        }
    }

    #[test]
    fn recvacks_and_sends_are_read_whole_in_any_pieces_and_other_frames_are_skipped() {
        let sub = Frame::new(Packet::Sub(crate::proto::Sub {
            channel_id: "g".into(),
            ..Default::default()
        }))
        .to_bytes(4);
        let connect = Connect {
            version: 4,
            uid: "raw".into(),
            ..Connect::default()
        };
        let stream = [
            Frame::new(Packet::Connect(connect.clone())).to_bytes(4),
            vec![0x70],
            recvack(1, 4),
            Frame::new(Packet::Send(send(300_000))).to_bytes(4),
            recvack(-7, 4),
            vec![0x80],
            sub,
            recvack(i64::MAX, 4),
        ]
        .concat();
        for piece in [1, 2, 3, 7, 1000, stream.len()] {
            let mut mirror = AckMirror::default();
            let reads: Vec<Read> = stream
                .chunks(piece)
                .flat_map(|c| mirror.feed(c, 4))
                .collect();
            let want = [
                Read::Connect(connect.clone()),
                Read::Ack(1),
                Read::Send(send(300_000)),
                Read::Ack(-7),
                Read::Ack(i64::MAX),
            ];
            assert_eq!(reads, want, "in pieces of {piece}");
            assert!(mirror.pending.is_empty() && mirror.skip == 0);
        }
    }

    #[test]
    fn the_body_of_a_frame_not_kept_is_skipped_not_buffered() {
        let sub = Frame::new(Packet::Sub(crate::proto::Sub {
            channel_id: "g".repeat(5000),
            ..Default::default()
        }))
        .to_bytes(4);
        let bounds = crate::proto::split_frame(&sub, usize::MAX)
            .unwrap()
            .unwrap();
        let mut mirror = AckMirror::default();
        assert!(mirror.feed(&sub[..100], 4).is_empty());
        assert!(mirror.pending.is_empty());
        assert_eq!(mirror.skip, bounds.total_len() - 100);
        let mut rest = sub[100..].to_vec();
        rest.extend(recvack(3, 4));
        assert_eq!(mirror.feed(&rest, 4), [Read::Ack(3)]);
    }

    #[test]
    fn a_stray_header_shifts_what_follows_as_the_server_reads_it() {
        // A RECVACK header with no length: the server reads the next frame's first byte as
        // the length and the rest as the body, so the harness's own RECVACK is not read as one.
        let mut mirror = AckMirror::default();
        assert!(mirror.feed(&[0x60], 4).is_empty());
        let own = recvack(5, 4);
        let reads = mirror.feed(&own, 4);
        assert_ne!(reads, [Read::Ack(5)]);
        // The first byte of `own` (0x60) is a length of 96: the mirror waits for 96 bytes.
        assert!(reads.is_empty() && !mirror.broken);
    }

    #[test]
    fn a_stream_the_server_cannot_split_ends_the_mirror() {
        let mut mirror = AckMirror::default();
        assert!(mirror.feed(&[0x00], 4).is_empty());
        assert!(mirror.broken);
        assert!(mirror.feed(&recvack(1, 4), 4).is_empty());
        // A RECVACK body the decoder refuses closes the connection too.
        let mut mirror = AckMirror::default();
        assert!(mirror.feed(&[0x60, 0x01, 0x00], 4).is_empty());
        assert!(mirror.broken);
    }
}
