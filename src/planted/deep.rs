//! The second planted-bug set: deeper bugs, each needing at least three client steps or going
//! wrong on a server-to-client path, none of them triggered by the committed corpus. They
//! are the kind of mistake a multi-device, multi-transport IM server makes in its hub and
//! its output path, rather than in a parser.
//!
//! | bug | hook (where the real fix lives) | trigger | shortest path |
//! |---|---|---|---|
//! | KICK-ACK | `hub` `Hub::poll_outgoing` (records deliveries), `Hub::recvack` (trims from the front), `Hub::login` (hands over on a kick) | a kicked connection that had itself taken over from an older one holds, in its in-flight list, a message no longer waiting for its user | a user logs in twice on one device; the second connection gets two messages and acknowledges the second; the user logs in a third time on that device |
//! | WSS-BIG | `transport::ws` `Open::write_frames` | a wkproto frame over 16 KiB that follows a RECV in the same write, to a WebSocket client over TLS, outside a login's CONNACK-and-backlog write | two messages reach a WSS client together (sent in one write), the second over 16 KiB |
//! | SUB-2DEV | `hub` `Hub::subscribe` (records the device), `Hub::send` (recipients) | a group send whose recipients include a user who joined from two devices | one user joins a group from two devices, another member sends to it |
//! | NAME-CUT | `hub` `Hub::login` (the backlog replay log) | a group id over 128 bytes whose byte 128 is inside a character, on a message in the backlog of a member who logs in, which no connection of the member was shown before | two members of such a group, one goes offline, the other sends to it, the first logs in again |
//! | ACK-OTHER | `hub` `Hub::recvack` (the feature's `recvack_planted`) | a RECVACK whose id and sequence are a message waiting for another user, not for the acker | a message waits for one user, another acknowledges its id and sequence |
//! | LOGIN-2DEV | `hub` `Hub::login` | a login with messages waiting while another connection of the uid is online | a message reaches one device, a second device logs in |
//!
//! What each does wrong is visible to a client: a message delivered twice or after its
//! acknowledgement (KICK-ACK, SUB-2DEV), a WebSocket stream no client can parse (WSS-BIG),
//! a panic (NAME-CUT), a waiting message that never arrives (ACK-OTHER, LOGIN-2DEV). The
//! functions here only take plain values, so this module imports nothing of the crate: the
//! state they work on stays with the code that owns it (the hub's `planted` part).
#![allow(clippy::indexing_slicing)] // unchecked slicing is the point of NAME-CUT

use super::{reached, triggered, Bug};
use std::collections::VecDeque;

/// KICK-ACK, in `Hub::recvack`: the connection's in-flight list is trimmed from the front on
/// every acknowledgement, as if clients always acknowledged in delivery order. A client that
/// acknowledges the second message first leaves that one in the list.
pub fn kick_ack_trim<T>(in_flight: &mut VecDeque<T>) {
    reached(Bug::KickAck);
    in_flight.pop_front();
}

/// KICK-ACK, in `Hub::login` after a kick of a connection that had itself taken over from
/// an older one (the hub hands over only along such a chain): the kicked connection's
/// in-flight messages that the login's backlog does not already carry are handed to the new
/// connection ("nothing the old device was shown is lost"). Every one of them was acknowledged: handing it over
/// delivers it again. `waiting` is the ids still waiting for the user.
pub fn kick_ack_handover<T: Clone>(
    in_flight: &VecDeque<T>,
    id_of: impl Fn(&T) -> i64,
    waiting: &[i64],
) -> Vec<T> {
    reached(Bug::KickAck);
    let handed: Vec<T> = in_flight
        .iter()
        .filter(|m| !waiting.contains(&id_of(m)))
        .cloned()
        .collect();
    if !handed.is_empty() {
        triggered(Bug::KickAck);
    }
    handed
}

/// Size of the WebSocket fragments WSS-BIG cuts large frames into: one TLS record.
const TLS_RECORD: usize = 16 * 1024;

/// WSS-BIG, in `Open::write_frames` over TLS, for a frame that follows a RECV in the same
/// write (messages delivered together; a login's write, CONNACK and backlog, is spared): a
/// frame longer
/// than one TLS record is sent as record-sized fragments so that each fits one record, but
/// every fragment is written with the binary opcode where all but the first must be
/// continuations (0x0). A large frame written alone or in a login's write takes the right path. Returns the raw
/// WebSocket bytes (server frames are unmasked) for such a frame, `None` for others.
pub fn wss_big_frames(payload: &[u8]) -> Option<Vec<u8>> {
    reached(Bug::WssBig);
    if payload.len() <= TLS_RECORD {
        return None;
    }
    triggered(Bug::WssBig);
    let mut out = Vec::with_capacity(payload.len() + 8 * (payload.len() / TLS_RECORD + 1));
    let mut pieces = payload.chunks(TLS_RECORD).peekable();
    while let Some(piece) = pieces.next() {
        let fin = if pieces.peek().is_none() { 0x80 } else { 0 };
        out.push(fin | 0x2); // the bug: 0x2 (binary) on every fragment
        match piece.len() {
            n @ 0..=125 => out.push(n as u8),
            n => {
                out.push(126);
                out.extend_from_slice(&(n as u16).to_be_bytes());
            }
        }
        out.extend_from_slice(piece);
    }
    Some(out)
}

/// SUB-2DEV, in `Hub::send` for a group: membership is recorded per (uid, device flag) so
/// that devices can be muted one by one, and the recipient list is built from those
/// entries without folding them back to uids. `devices` gives, for each recipient uid, how
/// many devices it joined from; a uid that joined from two is listed (and queued) twice.
pub fn sub_2dev_recipients(
    recipients: Vec<String>,
    devices: impl Fn(&str) -> usize,
) -> Vec<String> {
    reached(Bug::Sub2Dev);
    let mut out = Vec::with_capacity(recipients.len());
    for uid in recipients {
        let n = devices(&uid).max(1);
        if n > 1 {
            triggered(Bug::Sub2Dev);
        }
        out.extend(std::iter::repeat_n(uid, n));
    }
    out
}

/// Longest group id the delivery log shows whole.
const LOGGED_ID: usize = 128;

/// NAME-CUT, in `Hub::login` for each group message of the backlog: the replay log shortens
/// a long group id to its first 128 bytes by slicing the `str`, which panics when byte 128
/// is not a character boundary (the fix: `floor_char_boundary`, or no cut). Live delivery
/// does not log, nor does a replay of a message the member was already shown, so only a
/// member who was offline when the message was sent reaches it.
pub fn name_cut_log(group_id: &str) {
    reached(Bug::NameCut);
    if group_id.len() <= LOGGED_ID {
        return;
    }
    if !group_id.is_char_boundary(LOGGED_ID) {
        triggered(Bug::NameCut);
    }
    let shown = &group_id[..LOGGED_ID];
    std::hint::black_box(shown);
}

/// ACK-OTHER, in `Hub::recvack` when the id is not in the acker's queue: the message is
/// looked up by its id and sequence among every user's queue (both are on the RECVACK, and
/// ids are global), and the ack is applied to whichever queue holds it (`holder`) instead
/// of being refused. Returns the queue to remove it from when that is another user's.
pub fn ack_other<'a>(acker: &str, holder: Option<&'a str>) -> Option<&'a str> {
    reached(Bug::AckOther);
    let holder = holder.filter(|h| *h != acker)?;
    triggered(Bug::AckOther);
    Some(holder)
}

/// LOGIN-2DEV, in `Hub::login`: a user with another connection online counts as online, so
/// the new connection is not sent the offline backlog. True when the backlog is skipped
/// although messages wait.
pub fn login_2dev_skip(others_online: usize, waiting: usize) -> bool {
    if others_online == 0 {
        return false;
    }
    reached(Bug::Login2Dev);
    if waiting > 0 {
        triggered(Bug::Login2Dev);
        return true;
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn handover_is_what_the_backlog_lacks() {
        let in_flight: VecDeque<i64> = [3, 5, 8].into();
        assert_eq!(
            kick_ack_handover(&in_flight, |m| *m, &[3, 5, 8]),
            Vec::<i64>::new()
        );
        assert_eq!(kick_ack_handover(&in_flight, |m| *m, &[3]), vec![5, 8]);
    }

    #[test]
    fn large_frames_get_binary_opcodes_on_every_fragment() {
        assert_eq!(wss_big_frames(&[1; TLS_RECORD]), None);
        let raw = wss_big_frames(&vec![7; TLS_RECORD + 10]).expect("over one record");
        // First fragment: FIN clear, binary, 16-bit length 16384.
        assert_eq!(&raw[..4], &[0x02, 126, 0x40, 0x00]);
        let second = 4 + TLS_RECORD;
        // Second (last) fragment: FIN set and binary again (the bug), 10 bytes.
        assert_eq!(&raw[second..second + 2], &[0x82, 10]);
        assert_eq!(raw.len(), second + 2 + 10);
    }

    #[test]
    fn two_devices_make_two_entries() {
        let devices = |uid: &str| if uid == "a" { 2 } else { 1 };
        assert_eq!(
            sub_2dev_recipients(vec!["a".into(), "b".into()], devices),
            vec!["a", "a", "b"]
        );
    }

    #[test]
    fn the_cut_panics_only_inside_a_character() {
        name_cut_log(&"x".repeat(300));
        name_cut_log(&"é".repeat(100)); // byte 128 is a boundary
        let split = format!("{}{}", "x".repeat(127), "é".repeat(10));
        assert!(std::panic::catch_unwind(|| name_cut_log(&split)).is_err());
    }

    #[test]
    fn acks_go_to_another_queue_only_when_it_holds_the_id() {
        assert_eq!(ack_other("a", Some("b")), Some("b"));
        assert_eq!(ack_other("a", Some("a")), None);
        assert_eq!(ack_other("a", None), None);
        assert!(login_2dev_skip(1, 2));
        assert!(!login_2dev_skip(0, 2));
        assert!(!login_2dev_skip(1, 0));
    }
}
