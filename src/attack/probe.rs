//! The liveness probe: is the server still serving? A wkproto server must accept a
//! connection (TLS handshake, WebSocket upgrade as its URL says) and answer a valid
//! CONNECT with a successful CONNACK; a TLS server must complete a handshake; a raw server
//! must accept a connection (and its TLS handshake or upgrade). Each step is bounded by
//! the hang threshold, so a probe that stalls is a failed probe, never a stuck one.

use super::case::Layer;
use super::conn::Dialer;
use super::peer::Peer;
use super::target::Protocol;
use std::time::{Duration, Instant};

/// A failed probe.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProbeFailure {
    /// What went wrong (the step and the error).
    pub error: String,
    /// How long the probe ran.
    pub elapsed: Duration,
    /// Whether it failed by running out of time (a hang, not a refusal).
    pub timed_out: bool,
}

impl std::fmt::Display for ProbeFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} (after {:.0?})", self.error, self.elapsed)
    }
}

/// The X25519 secret of the probe's login.
const PROBE_SECRET: [u8; 32] = [0x29; 32];

/// Probes the server once; returns the time it took to answer.
///
/// # Errors
/// The probe failed; see [`ProbeFailure`].
pub fn probe(dialer: &Dialer, protocol: Protocol) -> Result<Duration, ProbeFailure> {
    let start = Instant::now();
    let fail = |error: String, timed_out: bool| ProbeFailure {
        error,
        elapsed: start.elapsed(),
        timed_out,
    };
    let result = match protocol {
        Protocol::Wkproto => {
            Peer::login(dialer, "wkfuzz-probe", PROBE_SECRET, dialer.timeout).map(drop)
        }
        Protocol::Tls => dialer.open(Layer::Stream).map(drop).map_err(Into::into),
        Protocol::Raw => dialer.open(Layer::App).map(drop).map_err(Into::into),
    };
    match result {
        Ok(()) => Ok(start.elapsed()),
        Err(e) => {
            let timed_out = e.is_timeout() || start.elapsed() >= dialer.timeout;
            Err(fail(e.to_string(), timed_out))
        }
    }
}
