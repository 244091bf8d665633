//! Runs every listener until a shutdown signal, then drains the connections.

use super::listener::accept_loop;
use super::SharedRef;
use crate::transport::Transport;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch, Semaphore};

/// How long shutdown waits for connections to say goodbye.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Serves on already-bound listeners (tests bind `127.0.0.1:0`) until `shutdown` completes;
/// then tells every connection to close and waits for them (at most [`DRAIN_TIMEOUT`]).
pub async fn serve(
    listeners: Vec<(TcpListener, Transport)>,
    shared: SharedRef,
    shutdown: impl Future<Output = ()>,
) {
    let (stop_tx, stop_rx) = watch::channel(false);
    let (done_tx, mut done_rx) = mpsc::channel::<()>(1);
    let limit = Arc::new(Semaphore::new(shared.settings.max_connections));
    for (listener, transport) in listeners {
        tokio::spawn(accept_loop(
            listener,
            transport,
            shared.clone(),
            limit.clone(),
            stop_rx.clone(),
            done_tx.clone(),
        ));
    }
    drop(done_tx);
    shutdown.await;
    tracing::info!("shutting down: closing connections");
    let _ = stop_tx.send(true);
    // Every accept loop and connection task holds a sender; recv() yields None once all
    // of them are gone.
    if tokio::time::timeout(DRAIN_TIMEOUT, done_rx.recv())
        .await
        .is_err()
    {
        tracing::warn!("some connections did not close within {DRAIN_TIMEOUT:?}");
    }
}
