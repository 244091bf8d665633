//! Planted bugs (cargo feature `planted-bugs`, off by default): WuKongIM's real crash classes
//! (`bug-classes.md`) put back into this server, each behind its own runtime switch, so the
//! harness can be measured the way Magma (HexHive) measures fuzzers: does a target *reach*
//! the buggy code, does it *trigger* the bug, and how long does that take.
//!
//! Layout:
//! - [`Bug`]: the ids; [`enabled`] reads `WKFUZZ_PLANT` (a comma list of ids, or `all`)
//!   once, and [`set_plan`] overrides it for in-process callers;
//! - canaries: [`reached`] and [`triggered`] bump static counters ([`snapshot`] reads
//!   them) and print one line per bug and process to stderr,
//!   `WKFUZZ-PLANTED REACHED <id>` / `WKFUZZ-PLANTED TRIGGERED <id>`: libFuzzer cannot
//!   read our counters, but the evaluation reads its stderr, so that line is the canary
//!   export, time-stamped by the reader;
//! - the buggy code itself: one function per bug below, called from a
//!   `#[cfg(feature = "planted-bugs")]` hook placed exactly where the real fix lives. Each
//!   reproduces the upstream mistake (an unchecked slice, index or length) and calls
//!   [`triggered`] on the path that goes wrong, right before it goes wrong.
//!
//! | bug | hook (where the real fix lives) | trigger | found by |
//! |---|---|---|---|
//! | TLS-127 | `tls::resolver` `resolve()` (rustls calls it with the ClientHello before choosing a suite) | only HMAC-SHA1 CBC suites offered | `handshake`, `records` |
//! | STR-26 | `proto::reader` `Reader::string` | string length >= 0x8000 | `frame`, `session` |
//! | TRUNC | `proto::codec::disconnect` `Disconnect::read` | DISCONNECT body shorter than its fields | `frame`, `session` |
//! | VARINT | `proto::splitter` `split_frame` + `proto::frame` `Frame::read` | 4 length bytes all with bit 7 set | `frame` (oracle: the two disagree) |
//! | PROXY-458 | `net::proxy` `parse_proxy_header` | starts like PROXY v1/v2, shorter than 12 bytes | `proxy` |
//! | KEY-L1 | `proto::crypto` `decode_client_key` | ClientKey decoding to fewer than 32 bytes | `keys`, `crypto`, `session` |
//! | PAD-L2 | `proto::crypto` `AppCipher::decrypt` | not whole blocks, or a bad PKCS7 pad | `crypto`, `session` |
//! | BUF-L5 | `session` `Session::process_frames` | declared length over the frame limit | `frame`, `session` (oracle: buffer capacity bounded) |
//! | AMP-L7 | `session::established` (client EVENT panics) + `net::connection` supervisor (aborts) | a client EVENT after CONNECT | `net` (process abort; `session` sees the latent panic, which the evaluation does not count) |
//!
//! The second set ([`Bug::SECOND`], code in [`deep`]) are deeper: each needs at least three
//! client steps or goes wrong on a server-to-client path, and none is triggered by the
//! committed corpus (`ci/eval.sh --check` runs the gate with each one on). Its table is in
//! [`deep`].
//!
//! Separately from the bugs, [`no_recover`] (`WKFUZZ_NO_RECOVER=1`, or [`set_no_recover`])
//! makes any connection's panic abort the whole process, as a server with no recover does
//! (a Go server without `recover()`, a Rust server without per-task isolation), so an
//! attacker watching the process from outside (`wkfuzz attack --spawn`) sees every planted
//! panic as a process death. Its hook sits in `net::connection`'s panic branch.
//!
//! With the feature off none of this is compiled: `tests/planted.rs` scans the default
//! binary and library for the marker string.
#![allow(clippy::indexing_slicing)] // unchecked slicing is the point of this module

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::RwLock;

pub mod deep;

/// A planted bug, by its id in `bug-classes.md`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Bug {
    /// TLS handshake: an old-client ClientHello (only HMAC-SHA1 CBC suites) makes the
    /// certificate resolver build an HMAC key from material too short for it.
    Tls127,
    /// wkproto string length read as a signed i16, so a length >= 0x8000 passes the check.
    Str26,
    /// The DISCONNECT decoder indexes its body without a bounds check.
    Trunc,
    /// The splitter and `Frame::read` disagree on a 4-byte varint whose last byte has the
    /// continuation bit set (4 vs 5 bytes).
    Varint,
    /// A PROXY header shorter than 12 bytes is sliced as `[..12]`.
    Proxy458,
    /// A CONNECT ClientKey is sliced as `[..32]` without a length check.
    KeyL1,
    /// Payload decrypt without the length check and with hand-rolled PKCS7 unpadding.
    PadL2,
    /// The session reserves a frame's declared length before checking the frame limit.
    BufL5,
    /// A client-sent EVENT panics in the session, and the connection supervisor re-raises
    /// the panic (aborts the process) instead of containing it.
    AmpL7,
    /// Second set: a kick hands the kicked connection's in-flight list (trimmed from the
    /// front on every RECVACK) to the newer connection, so an acknowledged message is
    /// delivered again.
    KickAck,
    /// Second set: over WSS, a RECV longer than one TLS record is sent as record-sized
    /// WebSocket fragments that all carry the binary opcode (continuations mis-framed).
    WssBig,
    /// Second set: group membership is kept per (uid, device), so a user who joined from
    /// two devices is a recipient twice and gets each group message twice.
    Sub2Dev,
    /// Second set: the delivery log shortens a group id over 128 bytes by byte slicing, which
    /// panics when byte 128 falls inside a multi-byte character.
    NameCut,
    /// Second set: a RECVACK for an id not in the acker's queue removes the message from
    /// whichever queue holds it, so another user loses an undelivered message.
    AckOther,
    /// Second set: a login skips the offline backlog when another connection of the same
    /// uid is online, so the new device never gets what is waiting.
    Login2Dev,
}

impl Bug {
    /// Every bug: the first set in the order of `bug-classes.md`, then the second set.
    pub const ALL: [Bug; COUNT] = [
        Bug::Tls127,
        Bug::Str26,
        Bug::Trunc,
        Bug::Varint,
        Bug::Proxy458,
        Bug::KeyL1,
        Bug::PadL2,
        Bug::BufL5,
        Bug::AmpL7,
        Bug::KickAck,
        Bug::WssBig,
        Bug::Sub2Dev,
        Bug::NameCut,
        Bug::AckOther,
        Bug::Login2Dev,
    ];

    /// The second set: deeper bugs (three or more steps, or a server-to-client path).
    pub const SECOND: [Bug; 6] = [
        Bug::KickAck,
        Bug::WssBig,
        Bug::Sub2Dev,
        Bug::NameCut,
        Bug::AckOther,
        Bug::Login2Dev,
    ];

    /// Which set the bug belongs to: 1 (WuKongIM's crash classes) or 2 (deeper bugs).
    pub fn set(self) -> u8 {
        if Bug::SECOND.contains(&self) {
            2
        } else {
            1
        }
    }

    /// The id used in `WKFUZZ_PLANT`, the canary lines and the reports.
    pub fn id(self) -> &'static str {
        match self {
            Bug::Tls127 => "TLS-127",
            Bug::Str26 => "STR-26",
            Bug::Trunc => "TRUNC",
            Bug::Varint => "VARINT",
            Bug::Proxy458 => "PROXY-458",
            Bug::KeyL1 => "KEY-L1",
            Bug::PadL2 => "PAD-L2",
            Bug::BufL5 => "BUF-L5",
            Bug::AmpL7 => "AMP-L7",
            Bug::KickAck => "KICK-ACK",
            Bug::WssBig => "WSS-BIG",
            Bug::Sub2Dev => "SUB-2DEV",
            Bug::NameCut => "NAME-CUT",
            Bug::AckOther => "ACK-OTHER",
            Bug::Login2Dev => "LOGIN-2DEV",
        }
    }

    /// The bug with id `id` (case-insensitive).
    pub fn from_id(id: &str) -> Option<Bug> {
        Bug::ALL
            .into_iter()
            .find(|b| b.id().eq_ignore_ascii_case(id.trim()))
    }

    fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for Bug {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.id())
    }
}

/// The prefix of every canary line on stderr.
pub const CANARY_PREFIX: &str = "WKFUZZ-PLANTED";

/// How many bugs there are (both sets).
const COUNT: usize = 15;

/// Which bugs are on: `None` until first read from the environment.
static PLAN: RwLock<Option<[bool; COUNT]>> = RwLock::new(None);
static REACHED: [AtomicU64; COUNT] = [const { AtomicU64::new(0) }; COUNT];
static TRIGGERED: [AtomicU64; COUNT] = [const { AtomicU64::new(0) }; COUNT];
static REACHED_SAID: [AtomicBool; COUNT] = [const { AtomicBool::new(false) }; COUNT];
static TRIGGERED_SAID: [AtomicBool; COUNT] = [const { AtomicBool::new(false) }; COUNT];

/// Parses a `WKFUZZ_PLANT` value: ids separated by commas, or `all`.
///
/// # Errors
/// The first unknown id.
pub fn parse_plan(spec: &str) -> Result<Vec<Bug>, String> {
    let mut bugs = Vec::new();
    for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        if part.eq_ignore_ascii_case("all") {
            return Ok(Bug::ALL.to_vec());
        }
        bugs.push(Bug::from_id(part).ok_or_else(|| format!("no planted bug {part:?}"))?);
    }
    Ok(bugs)
}

fn plan_from_env() -> [bool; COUNT] {
    let mut on = [false; COUNT];
    let spec = std::env::var("WKFUZZ_PLANT").unwrap_or_default();
    match parse_plan(&spec) {
        Ok(bugs) => bugs.into_iter().for_each(|b| on[b.index()] = true),
        Err(e) => eprintln!("{CANARY_PREFIX} WKFUZZ_PLANT ignored: {e}"),
    }
    on
}

/// Whether `bug` is switched on (`WKFUZZ_PLANT`, read once, or [`set_plan`]).
pub fn enabled(bug: Bug) -> bool {
    if let Some(plan) = *PLAN.read().unwrap_or_else(|p| p.into_inner()) {
        return plan[bug.index()];
    }
    let mut slot = PLAN.write().unwrap_or_else(|p| p.into_inner());
    let plan = *slot.get_or_insert_with(plan_from_env);
    plan[bug.index()]
}

/// Switches exactly `bugs` on for this process, overriding `WKFUZZ_PLANT`.
pub fn set_plan(bugs: &[Bug]) {
    let mut on = [false; COUNT];
    bugs.iter().for_each(|b| on[b.index()] = true);
    *PLAN.write().unwrap_or_else(|p| p.into_inner()) = Some(on);
}

/// The bugs switched on now.
pub fn plan() -> Vec<Bug> {
    Bug::ALL.into_iter().filter(|&b| enabled(b)).collect()
}

/// Canary: the buggy code of `bug` ran.
pub fn reached(bug: Bug) {
    REACHED[bug.index()].fetch_add(1, Ordering::Relaxed);
    if !REACHED_SAID[bug.index()].swap(true, Ordering::Relaxed) {
        eprintln!("{CANARY_PREFIX} REACHED {bug}");
    }
}

/// Canary: `bug`'s faulty condition holds and it is about to go wrong.
pub fn triggered(bug: Bug) {
    TRIGGERED[bug.index()].fetch_add(1, Ordering::Relaxed);
    if !TRIGGERED_SAID[bug.index()].swap(true, Ordering::Relaxed) {
        eprintln!("{CANARY_PREFIX} TRIGGERED {bug}");
    }
}

/// One bug's counters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Canary {
    /// The bug.
    pub bug: Bug,
    /// Times its code ran.
    pub reached: u64,
    /// Times its faulty condition held.
    pub triggered: u64,
}

/// Every bug's counters, in [`Bug::ALL`] order.
pub fn snapshot() -> Vec<Canary> {
    Bug::ALL
        .into_iter()
        .map(|bug| Canary {
            bug,
            reached: REACHED[bug.index()].load(Ordering::Relaxed),
            triggered: TRIGGERED[bug.index()].load(Ordering::Relaxed),
        })
        .collect()
}

/// Zeroes every counter (between in-process runs).
pub fn reset_counters() {
    for i in 0..COUNT {
        REACHED[i].store(0, Ordering::Relaxed);
        TRIGGERED[i].store(0, Ordering::Relaxed);
    }
}

/// `WKFUZZ_NO_RECOVER`: 0 unread, 1 off, 2 on.
static NO_RECOVER: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(0);

/// Whether a connection's panic aborts the process (`WKFUZZ_NO_RECOVER=1`, read once, or
/// [`set_no_recover`]). Off unless asked for, even with the feature.
pub fn no_recover() -> bool {
    match NO_RECOVER.load(Ordering::Relaxed) {
        0 => {
            let on = std::env::var("WKFUZZ_NO_RECOVER").is_ok_and(|v| v == "1");
            NO_RECOVER.store(if on { 2 } else { 1 }, Ordering::Relaxed);
            on
        }
        v => v == 2,
    }
}

/// Switches [`no_recover`] on or off for this process, overriding `WKFUZZ_NO_RECOVER`.
pub fn set_no_recover(on: bool) {
    NO_RECOVER.store(if on { 2 } else { 1 }, Ordering::Relaxed);
}

/// The connection supervisor's panic branch: with [`no_recover`] on, the process aborts
/// there (SIGABRT, as an unrecovered panic kills a Go server) instead of closing only the
/// connection that panicked.
pub fn abort_unless_recovered(message: &str) {
    if no_recover() {
        eprintln!("{CANARY_PREFIX} ABORT no-recover: a connection panicked: {message}");
        std::process::abort();
    }
}

// ---------------------------------------------------------------------------------------
// The buggy code, one function per bug. Each is called only when its bug is enabled.

/// TLS-127, in `SniResolver::resolve`: upstream's forked TLS built the HMAC-SHA1 for CBC
/// suites wrongly and panicked. Here: a hello offering only HMAC-SHA1 CBC suites (SCSVs
/// and GREASE aside) makes the resolver derive a MAC key by slicing a 64-byte HMAC block
/// out of 20 bytes of SHA-1 output.
pub fn tls127_resolve(suites: &[u16]) {
    reached(Bug::Tls127);
    const SHA1_CBC: &[u16] = &[
        0x000A, 0x002F, 0x0035, 0x0033, 0x0039, 0xC008, 0xC009, 0xC00A, 0xC012, 0xC013, 0xC014,
    ];
    let signalling = |s: u16| s == 0x00FF || s == 0x5600 || (s & 0x0F0F) == 0x0A0A;
    let real: Vec<u16> = suites.iter().copied().filter(|&s| !signalling(s)).collect();
    if !real.is_empty() && real.iter().all(|s| SHA1_CBC.contains(s)) {
        triggered(Bug::Tls127);
        let digest: Vec<u8> = vec![0x5a; 20]; // SHA-1 output
        let block = 64; // HMAC-SHA1 block size: the key the fix pads to, never slices to
        let mac_key = &digest[..block];
        std::hint::black_box(mac_key);
    }
}

/// STR-26, in `Reader::string`: the length read as an `i16`, so 0x8000..=0xFFFF is
/// negative, passes `len > left`, and the slice end wraps. `left` is the bytes after the
/// prefix; returns nothing when the length is fine (the real reader then goes on).
pub fn str26_string(raw_len: u16, body: &[u8]) {
    reached(Bug::Str26);
    let len = raw_len as i16; // the upstream bug: a signed length
    if isize::from(len) > body.len() as isize {
        return; // "truncated": upstream's check, which negatives pass
    }
    if len < 0 {
        triggered(Bug::Str26);
        let end = isize::from(len) as usize;
        std::hint::black_box(&body[..end]);
    }
}

/// TRUNC, in the DISCONNECT decoder: ReasonCode and the Reason string's length read by
/// indexing the body, and the string sliced by its length, none of it bounds-checked.
pub fn trunc_disconnect(body: &[u8]) {
    reached(Bug::Trunc);
    let short =
        body.len() < 3 || body.len() < 3 + usize::from(u16::from_be_bytes([body[1], body[2]]));
    if short {
        triggered(Bug::Trunc);
    }
    let _reason = body[0];
    let len = usize::from(u16::from_be_bytes([body[1], body[2]]));
    std::hint::black_box(&body[3..3 + len]);
}

/// VARINT, in `split_frame`: the splitter takes four length bytes whatever the 4th byte's
/// continuation bit says (upstream's splitter counted 4), ignoring that bit's meaning.
/// Returns `Some((value, 4))` when it overrides the real reader.
pub fn varint_splitter(after_first: &[u8]) -> Option<(usize, usize)> {
    let bytes = after_first.get(..4)?;
    if bytes.iter().all(|b| b & 0x80 != 0) {
        reached(Bug::Varint);
        let mut value = 0usize;
        for (i, b) in bytes.iter().enumerate() {
            value |= usize::from(b & 0x7f) << (7 * i);
        }
        return Some((value, 4));
    }
    None
}

/// VARINT, in `Frame::read`: the decoder's own varint, which (as upstream's did) reads a
/// 5th byte after a 4th with the continuation bit set. Returns the header length it
/// measured when it disagrees with the splitter's.
pub fn varint_decoder(buf: &[u8], splitter_header_len: usize) -> Option<usize> {
    // The last byte is the first without the continuation bit; after four with it set,
    // a fifth is read whether or not it is there.
    let used = buf
        .iter()
        .skip(1)
        .take(4)
        .position(|b| b & 0x80 == 0)
        .map_or(5, |i| i + 1);
    let header_len = used + 1;
    if header_len != splitter_header_len && splitter_header_len == 5 {
        triggered(Bug::Varint);
        return Some(header_len);
    }
    None
}

/// PROXY-458, in `parse_proxy_header`: upstream compared the first 12 bytes with the v2
/// signature before knowing it had 12 bytes, so a header that starts like PROXY v1 or v2
/// and is shorter than that panicked.
pub fn proxy458_parse(buf: &[u8], v2_signature: &[u8; 12]) {
    reached(Bug::Proxy458);
    let looks_like_proxy = buf.first().is_some_and(|&b| b == b'P' || b == 0x0D);
    if looks_like_proxy && buf.len() < 12 {
        triggered(Bug::Proxy458);
    }
    if looks_like_proxy {
        std::hint::black_box(&buf[..12] == v2_signature);
    }
}

/// KEY-L1, in `decode_client_key`: the decoded ClientKey sliced as `[..32]` with no
/// length check (an empty key decodes to nothing and is sliced too).
pub fn key_l1_client_key(decoded: &[u8]) {
    reached(Bug::KeyL1);
    if decoded.len() < 32 {
        triggered(Bug::KeyL1);
    }
    std::hint::black_box(&decoded[..32]);
}

/// PAD-L2, in `AppCipher::decrypt`: no check that the ciphertext is whole blocks (Go's
/// `CryptBlocks` panics on that), and PKCS7 removed by hand from the last byte with no
/// check of its value or of the padding bytes. `raw` is the CBC decryption without
/// unpadding (when `cipher` is whole blocks). Returns the plaintext the bug yields.
pub fn pad_l2_decrypt(cipher_len: usize, raw: Option<Vec<u8>>) -> Vec<u8> {
    reached(Bug::PadL2);
    let Some(mut plain) = raw.filter(|_| cipher_len != 0 && cipher_len % 16 == 0) else {
        triggered(Bug::PadL2);
        panic!("crypto/cipher: input not full blocks");
    };
    let last = plain[plain.len().wrapping_sub(1)];
    let pad = usize::from(last);
    let valid = (1..=16).contains(&pad)
        && pad <= plain.len()
        && plain[plain.len() - pad..].iter().all(|&b| b == last);
    if !valid {
        triggered(Bug::PadL2);
    }
    let end = plain.len().wrapping_sub(pad);
    plain.truncate(plain[..end].len());
    plain
}

/// Upstream's per-connection buffering ceiling.
const BUF_L5_CEILING: usize = 50 * 1024 * 1024;

/// BUF-L5, in `Session::process_frames`: upstream sized its read buffer from the declared
/// frame length and checked the frame limit only once the whole frame had arrived (it
/// buffered up to 50 MiB per connection before rejecting). `rest` is the buffered input
/// from the frame's start, `header` its header length. Returns true when the session
/// should wait for more input instead of checking the limit now.
pub fn buf_l5_buffer(
    inbuf: &mut Vec<u8>,
    rest: usize,
    header: usize,
    declared: usize,
    max_frame: usize,
) -> bool {
    reached(Bug::BufL5);
    if declared <= max_frame || rest >= header.saturating_add(declared) {
        return false;
    }
    triggered(Bug::BufL5);
    inbuf.reserve(declared.min(BUF_L5_CEILING));
    true
}

/// AMP-L7, the latent half, in the established session: a client-sent EVENT (a
/// server-to-client packet) reaches a handler that indexes its data unchecked.
pub fn amp_l7_event(data: &[u8], event_type: &str) {
    reached(Bug::AmpL7);
    let i = event_type.len();
    std::hint::black_box(data[i.wrapping_add(data.len())]);
}

/// AMP-L7, the escape, in the connection supervisor: upstream's network loop recovered a
/// panic and re-panicked, so the process exited. Here the supervisor aborts the process.
pub fn amp_l7_escalate(message: &str) -> ! {
    triggered(Bug::AmpL7);
    eprintln!("{CANARY_PREFIX} ABORT AMP-L7: connection panic escaped isolation: {message}");
    std::process::abort()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_parse() {
        assert_eq!(parse_plan("all").unwrap().len(), Bug::ALL.len());
        assert_eq!(parse_plan("kick-ack").unwrap(), vec![Bug::KickAck]);
        assert_eq!(
            parse_plan("tls-127, PAD-L2").unwrap(),
            vec![Bug::Tls127, Bug::PadL2]
        );
        assert!(parse_plan("NOPE").is_err());
        assert_eq!(parse_plan("").unwrap(), vec![]);
        for bug in Bug::ALL {
            assert_eq!(Bug::from_id(bug.id()), Some(bug));
            assert_eq!(bug.set() == 2, Bug::SECOND.contains(&bug));
        }
        assert_eq!(Bug::ALL.iter().filter(|b| b.set() == 1).count(), 9);
    }
}
