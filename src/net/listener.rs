//! Accept loop of one listening socket.

use super::connection::run_connection;
use super::SharedRef;
use crate::transport::Transport;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch, Semaphore};

/// Longest pause after repeated accept errors (e.g. out of file descriptors).
const MAX_ACCEPT_BACKOFF: Duration = Duration::from_secs(1);

/// Accepts connections until shutdown. Each accepted socket waits for a permit from `limit`
/// before it is served and before the next accept, so at most `max_connections` are served
/// and the rest wait in the kernel's backlog (plus one accepted socket per listener).
/// Each connection task holds a clone of `done` so shutdown can wait for them all.
pub(super) async fn accept_loop(
    listener: TcpListener,
    transport: Transport,
    shared: SharedRef,
    limit: Arc<Semaphore>,
    mut shutdown: watch::Receiver<bool>,
    done: mpsc::Sender<()>,
) {
    let mut backoff = Duration::from_millis(5);
    loop {
        let accepted = tokio::select! {
            r = listener.accept() => r,
            _ = shutdown.changed() => return,
        };
        let (stream, peer) = match accepted {
            Ok(a) => {
                backoff = Duration::from_millis(5);
                a
            }
            Err(e) => {
                tracing::warn!(%transport, error = %e, ?backoff, "accept failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_ACCEPT_BACKOFF);
                continue;
            }
        };
        // Wait for a slot before serving (or accepting more): with several listeners a
        // permit taken before accept would sit idle in each of them.
        let permit = tokio::select! {
            p = limit.clone().acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return,
            },
            _ = shutdown.changed() => return,
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let shutdown = shutdown.clone();
        let done = done.clone();
        tokio::spawn(async move {
            run_connection(stream, peer, transport, shared, shutdown).await;
            drop(permit);
            drop(done);
        });
    }
}
