//! One accepted socket, from accept to the single "connection closed" log event.
//!
//! The connection's protocol work runs in its own task, so a panic in it (a bug in our
//! code reached by one peer's bytes) is caught by tokio, logged with the connection id, and
//! ends only that connection: the lesson of WuKongIM issues #127 and #458, where one bad
//! peer killed the process.

use super::handler::{End, Handler};
use super::{SharedRef, Transport};
use crate::session::Stage;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio::sync::watch;

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
    pub(crate) fn set_stage(&self, stage: Stage) {
        let v = match stage {
            Stage::Handshake => 0,
            Stage::Connect => 1,
            Stage::Session => 2,
        };
        self.stage.store(v, Ordering::Relaxed);
    }

    fn stage(&self) -> Stage {
        match self.stage.load(Ordering::Relaxed) {
            0 => Stage::Handshake,
            1 => Stage::Connect,
            _ => Stage::Session,
        }
    }
}

/// Runs one connection to its end and logs exactly one event for it.
pub(super) async fn run_connection(
    stream: TcpStream,
    peer: SocketAddr,
    transport: Transport,
    shared: SharedRef,
    shutdown: watch::Receiver<bool>,
) {
    let (id, seed, notify) = shared.open();
    let stats = Arc::new(ConnStats::default());
    let handler = Handler::new(
        id,
        seed,
        transport,
        shared.clone(),
        stats.clone(),
        notify,
        shutdown,
    );
    let task = tokio::spawn(handler.run(stream));
    let end = match task.await {
        Ok(end) => end,
        Err(e) if e.is_panic() => {
            let message = panic_message(e.into_panic());
            #[cfg(feature = "planted-bugs")]
            if crate::planted::enabled(crate::planted::Bug::AmpL7) {
                crate::planted::amp_l7_escalate(&message);
            }
            #[cfg(feature = "planted-bugs")]
            crate::planted::abort_unless_recovered(&message);
            tracing::error!(conn = %id, %peer, %transport, panic = %message, "connection task panicked; closing only this connection");
            End::new(stats.stage(), format!("panic: {message}"))
        }
        Err(_) => End::new(stats.stage(), "task cancelled".into()),
    };
    shared.close(id);
    tracing::info!(
        conn = %id,
        peer = %end.proxied_peer.unwrap_or(peer),
        %transport,
        stage = %end.stage,
        reason = %end.reason,
        alert = %end.alert.map_or_else(|| "-".to_owned(), |a| a.to_string()),
        uid = end.uid.as_deref().unwrap_or(""),
        bytes_in = stats.bytes_in.load(Ordering::Relaxed),
        bytes_out = stats.bytes_out.load(Ordering::Relaxed),
        "connection closed"
    );
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "non-string panic payload".to_owned()
    }
}
