//! One accepted socket, from accept to the single "connection closed" log event.
//!
//! The connection's protocol work runs in its own task, so a panic in it (a bug in our
//! code reached by one peer's bytes) is caught by tokio, logged with the connection id, and
//! ends only that connection: the lesson of WuKongIM issues #127 and #458, where one bad
//! peer killed the process.

use super::handler::Handler;
use super::stats::ConnStats;
use super::SharedRef;
use crate::session::Stage;
use crate::transport::{SentAlert, Transport};
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::net::TcpStream;
use tokio::sync::watch;

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
    let handler = Handler {
        id,
        seed,
        transport,
        shared: shared.clone(),
        stats: stats.clone(),
        notify,
        shutdown,
    };
    let task = tokio::spawn(handler.run(stream));
    let end = match task.await {
        Ok(end) => Summary {
            stage: end.stage,
            reason: end.cause.to_string(),
            alert: end.alert(),
            uid: end.uid,
            proxied_peer: end.proxied_peer,
        },
        Err(e) if e.is_panic() => {
            let message = panic_message(e.into_panic());
            #[cfg(feature = "planted-bugs")]
            if crate::planted::enabled(crate::planted::Bug::AmpL7) {
                crate::planted::amp_l7_escalate(&message);
            }
            #[cfg(feature = "planted-bugs")]
            crate::planted::abort_unless_recovered(&message);
            tracing::error!(conn = %id, %peer, %transport, panic = %message, "connection task panicked; closing only this connection");
            Summary::new(stats.stage(), format!("panic: {message}"))
        }
        Err(_) => Summary::new(stats.stage(), "task cancelled".into()),
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

/// What the log line says of a connection's end.
struct Summary {
    stage: Stage,
    reason: String,
    alert: Option<SentAlert>,
    uid: Option<String>,
    proxied_peer: Option<SocketAddr>,
}

impl Summary {
    /// An end the engine did not report (its task panicked or was cancelled).
    fn new(stage: Stage, reason: String) -> Summary {
        Summary {
            stage,
            reason,
            alert: None,
            uid: None,
            proxied_peer: None,
        }
    }
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
