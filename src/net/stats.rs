//! What the connection task records as it goes, so the supervisor can log a connection
//! whose task panicked: byte counts and the stage.

use crate::session::Stage;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};

/// Counters the connection task updates and the supervisor reads, even after a panic.
#[derive(Debug, Default)]
pub(crate) struct ConnStats {
    /// Bytes read from the socket.
    pub(crate) bytes_in: AtomicU64,
    /// Bytes written to the socket.
    pub(crate) bytes_out: AtomicU64,
    /// `Stage` as 0 handshake, 1 connect, 2 session.
    stage: AtomicU8,
}

impl ConnStats {
    /// Records the stage the connection is in.
    pub(crate) fn set_stage(&self, stage: Stage) {
        let v = match stage {
            Stage::Handshake => 0,
            Stage::Connect => 1,
            Stage::Session => 2,
        };
        self.stage.store(v, Ordering::Relaxed);
    }

    /// The stage last recorded.
    pub(crate) fn stage(&self) -> Stage {
        match self.stage.load(Ordering::Relaxed) {
            0 => Stage::Handshake,
            1 => Stage::Connect,
            _ => Stage::Session,
        }
    }
}
