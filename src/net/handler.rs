//! The per-connection loop: socket <-> [`Layer`] <-> [`Session`] <-> hub.
//!
//! Each turn: feed what was read through the layer into the session, let the session
//! answer and take its deliveries, write everything (bounded by the write timeout), then
//! wait for the first of: readable socket, a hub wake-up, the session's timer, shutdown.
//! Reads stop while a write is pending, so a peer that does not read cannot make us buffer.

use super::connection::ConnStats;
use super::{clock, SharedRef};
use crate::transport::proxy::parse_proxy_header;
use crate::transport::{Layer, SentAlert, Transport, WsConfig};
use crate::hub::ConnId;
use crate::session::{CloseReason, Session, Stage};
use std::net::SocketAddr;
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

/// How a connection ended.
#[derive(Debug)]
pub(crate) struct End {
    pub(crate) stage: Stage,
    pub(crate) reason: String,
    /// TLS alert sent, if the TLS layer failed.
    pub(crate) alert: Option<SentAlert>,
    /// Client address from the PROXY header.
    pub(crate) proxied_peer: Option<SocketAddr>,
    /// Logged-in uid.
    pub(crate) uid: Option<String>,
}

impl End {
    pub(crate) fn new(stage: Stage, reason: String) -> End {
        End {
            stage,
            reason,
            alert: None,
            proxied_peer: None,
            uid: None,
        }
    }
}

/// Drives one connection.
pub(crate) struct Handler {
    id: ConnId,
    seed: [u8; 32],
    transport: Transport,
    shared: SharedRef,
    stats: Arc<ConnStats>,
    notify: Arc<Notify>,
    shutdown: watch::Receiver<bool>,
}

impl Handler {
    pub(crate) fn new(
        id: ConnId,
        seed: [u8; 32],
        transport: Transport,
        shared: SharedRef,
        stats: Arc<ConnStats>,
        notify: Arc<Notify>,
        shutdown: watch::Receiver<bool>,
    ) -> Handler {
        Handler {
            id,
            seed,
            transport,
            shared,
            stats,
            notify,
            shutdown,
        }
    }

    pub(crate) async fn run(mut self, mut stream: TcpStream) -> End {
        let settings = self.shared.settings.clone();
        let handshake_deadline = Instant::now() + settings.handshake_timeout;
        let mut proxied_peer = None;
        let mut wire_in = Vec::new();
        if settings.proxy_protocol {
            match timeout(
                settings.handshake_timeout,
                self.read_proxy_header(&mut stream),
            )
            .await
            {
                Ok(Ok((peer, rest))) => {
                    proxied_peer = peer;
                    wire_in = rest;
                }
                Ok(Err(reason)) => return End::new(Stage::Handshake, reason),
                Err(_) => return End::new(Stage::Handshake, "PROXY header timeout".into()),
            }
        }
        let mut end = self.drive(&mut stream, wire_in, handshake_deadline).await;
        end.proxied_peer = proxied_peer;
        end
    }

    /// Reads the PROXY header; returns the client address it names and the bytes after it.
    async fn read_proxy_header(
        &self,
        stream: &mut TcpStream,
    ) -> Result<(Option<SocketAddr>, Vec<u8>), String> {
        let mut buf = Vec::new();
        let mut chunk = [0u8; 256];
        loop {
            match parse_proxy_header(&buf) {
                Ok(Some((header, used))) => {
                    let rest = buf.get(used..).unwrap_or_default().to_vec();
                    return Ok((header.source, rest));
                }
                Ok(None) => {}
                Err(e) => return Err(format!("bad PROXY header: {e}")),
            }
            let n = stream
                .read(&mut chunk)
                .await
                .map_err(|e| format!("read error: {e}"))?;
            if n == 0 {
                return Err("peer closed inside the PROXY header".into());
            }
            self.stats.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
            buf.extend_from_slice(chunk.get(..n).unwrap_or_default());
        }
    }

    async fn drive(
        &mut self,
        stream: &mut TcpStream,
        mut wire_in: Vec<u8>,
        handshake_deadline: Instant,
    ) -> End {
        let shared = self.shared.clone();
        let settings = &shared.settings;
        let ws = WsConfig::new(&settings.ws_path, settings.session.max_frame);
        let mut layer = match Layer::new(self.transport, shared.tls_config(), &ws) {
            Ok(layer) => layer,
            Err(reason) => return End::new(Stage::Handshake, reason),
        };
        let mut session: Option<Session> = None;
        let mut plain_in = Vec::new();
        let mut plain_out = Vec::new();
        let mut wire_out = Vec::new();
        let mut peer_closed = false;

        loop {
            if !wire_in.is_empty() {
                let result = layer.handle_wire(&wire_in, &mut plain_in, &mut wire_out);
                wire_in = Vec::new();
                match result {
                    Ok(o) => peer_closed |= o.peer_closed,
                    Err(e) => {
                        let stage = session.as_ref().map_or(Stage::Handshake, Session::stage);
                        if let Some(s) = session.as_mut() {
                            shared.with_hub(|hub| s.handle_close(CloseReason::PeerClosed, hub));
                        }
                        if self.write(stream, &mut wire_out).await.is_ok() {
                            self.linger(stream).await;
                        }
                        let mut end = End::new(stage, e.to_string());
                        end.alert = e.alert();
                        end.uid = session.as_ref().and_then(|s| s.uid().map(str::to_owned));
                        return end;
                    }
                }
            }
            if session.is_none() && !layer.is_handshaking() {
                let mut s =
                    Session::new(self.id, self.seed, settings.session.clone(), clock::now());
                if settings.client_cert_uid {
                    // A client certificate names the one uid this connection may log in as.
                    if let Some(cert) = layer.peer_certificates().and_then(<[_]>::first) {
                        s.require_uid(crate::tls::client_cert_uid(cert).unwrap_or_default());
                    }
                }
                session = Some(s);
                self.stats.set_stage(Stage::Connect);
            }
            match session.as_mut() {
                Some(s) => {
                    let now = clock::now();
                    shared.with_hub(|hub| {
                        if !plain_in.is_empty() {
                            s.handle_bytes(&plain_in, now, hub);
                        }
                        if peer_closed {
                            s.handle_close(CloseReason::PeerClosed, hub);
                        }
                        s.poll_transmit(hub, &mut plain_out);
                    });
                    release(&mut plain_in);
                    self.stats.set_stage(s.stage());
                    layer.write_plain(&plain_out, &mut wire_out);
                    release(&mut plain_out);
                    if s.close_reason().is_some() && !peer_closed {
                        layer.close(&mut wire_out);
                    }
                }
                None => layer.write_plain(&[], &mut wire_out),
            }
            if let Err(reason) = self.write(stream, &mut wire_out).await {
                if let Some(s) = session.as_mut() {
                    let why = if reason.starts_with("slow") {
                        CloseReason::SlowReader
                    } else {
                        CloseReason::PeerClosed
                    };
                    shared.with_hub(|hub| s.handle_close(why, hub));
                }
                return self.end(&session, Some(reason));
            }
            if let Some(s) = &session {
                if s.close_reason().is_some() {
                    return self.end(&session, None);
                }
            } else if peer_closed {
                return End::new(Stage::Handshake, "peer closed during handshake".into());
            }

            let timer = match &session {
                None => handshake_deadline,
                Some(s) => s.poll_timeout().map_or(
                    handshake_deadline + settings.session.idle_timeout,
                    clock::instant_at,
                ),
            };
            tokio::select! {
                _ = self.shutdown.changed() => {
                    if let Some(s) = session.as_mut() {
                        shared.with_hub(|hub| s.handle_close(CloseReason::Shutdown, hub));
                    }
                    layer.close(&mut wire_out);
                    let _ = self.write(stream, &mut wire_out).await;
                    return match &session {
                        Some(_) => self.end(&session, None),
                        None => End::new(Stage::Handshake, "server shutting down".into()),
                    };
                }
                ready = stream.readable() => {
                    // A read buffer only while there is something to read: an idle
                    // connection holds none (16 KiB each was most of its memory).
                    let mut chunk = Vec::with_capacity(READ_BUF);
                    match ready.and_then(|()| stream.try_read_buf(&mut chunk)) {
                        Ok(0) => peer_closed = true,
                        Ok(n) => {
                            self.stats.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
                            wire_in.append(&mut chunk);
                        }
                        Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                        Err(_) => peer_closed = true,
                    }
                },
                _ = self.notify.notified() => {}
                _ = sleep_until(timer) => match session.as_mut() {
                    None => return End::new(Stage::Handshake, "handshake timeout".into()),
                    Some(s) => shared.with_hub(|hub| s.handle_timeout(clock::now(), hub)),
                },
            }
        }
    }

    /// After the layer failed and its answer (alert, HTTP error, close frame) was written:
    /// half-closes and reads (and drops) what the peer still sends, for at most
    /// [`LINGER_TIME`] and [`LINGER_BYTES`], so that closing a socket with unread input
    /// does not reset the connection and destroy the answer before the peer reads it.
    async fn linger(&self, stream: &mut TcpStream) {
        let _ = stream.shutdown().await;
        let mut buf = [0u8; 4096];
        let mut left = LINGER_BYTES;
        let deadline = Instant::now() + LINGER_TIME;
        while left > 0 {
            match tokio::time::timeout_at(deadline, stream.read(&mut buf)).await {
                Ok(Ok(n)) if n > 0 => {
                    self.stats.bytes_in.fetch_add(n as u64, Ordering::Relaxed);
                    left = left.saturating_sub(n);
                }
                _ => break,
            }
        }
    }

    /// Writes and clears `wire_out`; a write that takes longer than the write timeout means
    /// the peer is not reading.
    async fn write(&self, stream: &mut TcpStream, wire_out: &mut Vec<u8>) -> Result<(), String> {
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
            Ok(Err(e)) => Err(format!("write error: {e}")),
            Err(_) => Err("slow reader: write timed out".into()),
        }
    }

    fn end(&self, session: &Option<Session>, io_reason: Option<String>) -> End {
        let Some(s) = session else {
            return End::new(Stage::Handshake, io_reason.unwrap_or_default());
        };
        let (reason, stage) = match (s.close_reason(), io_reason) {
            (_, Some(io)) => (io, s.stage()),
            (Some((r, st)), None) => (r.to_string(), st),
            (None, None) => ("closed".to_owned(), s.stage()),
        };
        let mut end = End::new(stage, reason);
        end.uid = s.uid().map(str::to_owned);
        end
    }
}

/// Empties `v` and gives back a large allocation, so an idle connection keeps no buffers.
fn release(v: &mut Vec<u8>) {
    v.clear();
    if v.capacity() > 4096 {
        *v = Vec::new();
    }
}
