//! The per-connection task: socket reads and writes around one [`ServerConn`].
//!
//! Each turn: write everything the engine handed out (bounded by the write timeout), hand
//! over its events, then wait for the first of: readable socket, a hub wake-up, the
//! engine's timer, shutdown; and tell the engine. Reads stop while a write is pending, so a
//! peer that does not read cannot make us buffer. All protocol decisions are the engine's.

use super::stats::ConnStats;
use super::SharedRef;
use crate::hub::ConnId;
use crate::transport::{CloseEvent, ConnEvent, ServerConn, Transport, WriteError};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{watch, Notify};
use tokio::time::{sleep_until, timeout, Instant};

/// Size of one socket read.
const READ_BUF: usize = 16 * 1024;

/// Longest wait for the peer to close after a layer failure was answered.
const LINGER_TIME: std::time::Duration = std::time::Duration::from_millis(500);

/// Most bytes read and dropped while lingering.
const LINGER_BYTES: usize = 64 * 1024;

/// Drives one connection.
pub(crate) struct Handler {
    pub(crate) id: ConnId,
    pub(crate) seed: [u8; 32],
    pub(crate) transport: Transport,
    pub(crate) shared: SharedRef,
    /// Socket byte counts and stage, for the log even if this task panics.
    pub(crate) stats: Arc<ConnStats>,
    /// Notified when the hub queued something for this connection.
    pub(crate) notify: Arc<Notify>,
    pub(crate) shutdown: watch::Receiver<bool>,
}

impl Handler {
    /// Runs the connection to its end and returns the engine's close event.
    pub(crate) async fn run(mut self, mut stream: TcpStream) -> CloseEvent {
        let shared = self.shared.clone();
        let clock = shared.clock;
        // The shell reaches the hub through its mutex.
        let mut hub = &*shared;
        let tls = self
            .transport
            .is_tls()
            .then(|| shared.tls_config())
            .flatten();
        let config = shared.conn_config(self.transport);
        let mut conn = ServerConn::new(self.id, self.seed, config, tls, clock.now());
        conn.start(clock.now(), &mut hub);
        let mut wire_out = Vec::new();
        loop {
            conn.poll_transmit(&mut wire_out);
            let written = self.write(&mut stream, &mut wire_out).await;
            if let Err(e) = &written {
                conn.handle_write_error(e.clone(), &mut hub);
            }
            self.stats.set_stage(conn.stage());
            while let Some(event) = conn.poll_event() {
                if let ConnEvent::Closed(end) = event {
                    if conn.linger() && written.is_ok() {
                        self.linger(&mut stream).await;
                    }
                    return end;
                }
            }
            let timer = conn.poll_timeout().map(|t| clock.instant_at(t));
            tokio::select! {
                _ = self.shutdown.changed() => conn.handle_shutdown(&mut hub),
                ready = stream.readable() => {
                    // A read buffer only while there is something to read: an idle
                    // connection holds none (16 KiB each was most of its memory).
                    let mut chunk = Vec::with_capacity(READ_BUF);
                    match ready.and_then(|()| stream.try_read_buf(&mut chunk)) {
                        Ok(0) => conn.handle_eof(clock.now(), &mut hub),
                        Ok(n) => {
                            self.stats.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
                            conn.handle_wire(&chunk, clock.now(), &mut hub);
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(_) => conn.handle_eof(clock.now(), &mut hub),
                    }
                },
                _ = self.notify.notified() => conn.handle_wake(clock.now(), &mut hub),
                _ = sleep_until_some(timer) => conn.handle_timeout(clock.now(), &mut hub),
            }
        }
    }

    /// After the layer failed and its answer (alert, HTTP error, close frame) was written:
    /// half-closes and reads (and drops) what the peer still sends, for at most
    /// [`LINGER_TIME`] and [`LINGER_BYTES`], so that closing a socket with unread input
    /// does not reset the connection and destroy the answer before the peer reads it.
    async fn linger(&self, stream: &mut TcpStream) {
        let _ = stream.shutdown().await;
        let drain = async {
            let mut buf = [0u8; 4096];
            let mut left = LINGER_BYTES;
            while left > 0 {
                match stream.read(&mut buf).await {
                    Ok(n) if n > 0 => {
                        self.stats.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
                        left = left.saturating_sub(n);
                    }
                    _ => break,
                }
            }
        };
        let _ = timeout(LINGER_TIME, drain).await;
    }

    /// Writes and clears `wire_out`; a write that takes longer than the write timeout means
    /// the peer is not reading.
    async fn write(
        &self,
        stream: &mut TcpStream,
        wire_out: &mut Vec<u8>,
    ) -> Result<(), WriteError> {
        if wire_out.is_empty() {
            return Ok(());
        }
        let result = timeout(
            self.shared.settings.write_timeout,
            stream.write_all(wire_out),
        )
        .await;
        let n = wire_out.len() as u64;
        release(wire_out);
        match result {
            Ok(Ok(())) => {
                self.stats.bytes_out.fetch_add(n, Ordering::Relaxed);
                Ok(())
            }
            Ok(Err(e)) => Err(WriteError::Failed(e.to_string())),
            Err(_) => Err(WriteError::Stalled),
        }
    }
}

/// Sleeps until `deadline`, or forever without one.
async fn sleep_until_some(deadline: Option<Instant>) {
    match deadline {
        Some(d) => sleep_until(d).await,
        None => std::future::pending().await,
    }
}

/// Empties `v` and gives back its allocation, so an idle connection keeps no buffers.
fn release(v: &mut Vec<u8>) {
    *v = Vec::new();
}
