//! A wkproto user over a live connection: it logs in with a real X25519 key, derives the
//! session keys from the server's CONNACK (the server picks its own keys, so the app-layer
//! crypto is done live), then sends and receives frames. The script player, the login
//! probe and the witnesses are all made of these.

use super::case::Layer;
use super::conn::{is_timeout, Conn, Dialer};
use crate::client::Client;
use crate::proto::{DeviceFlag, Frame, Packet, ReasonCode};
use std::collections::VecDeque;
use std::io;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Why a peer's conversation failed.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// The connection (connect, TLS, upgrade, read or write).
    #[error("{0}")]
    Io(#[from] io::Error),
    /// The server's bytes are not wkproto, or its CONNACK's keys are unusable.
    #[error("{0}")]
    Protocol(#[from] crate::client::ClientError),
    /// The server closed the connection.
    #[error("closed by the server")]
    Closed,
    /// Nothing came in time.
    #[error("no answer within {0:?}")]
    Timeout(Duration),
}

impl PeerError {
    /// Whether it failed by running out of time.
    pub fn is_timeout(&self) -> bool {
        match self {
            PeerError::Timeout(_) => true,
            PeerError::Io(e) => is_timeout(e),
            _ => false,
        }
    }
}

/// One logged-in (or logging-in) user.
pub struct Peer {
    /// The connection.
    pub conn: Conn,
    /// Its protocol state.
    pub wk: Client,
    /// CONNACK said success.
    pub logged_in: bool,
    /// Frames read and not yet taken.
    inbox: VecDeque<Frame>,
}

impl std::fmt::Debug for Peer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Peer")
            .field("logged_in", &self.logged_in)
            .finish()
    }
}

impl Peer {
    /// Opens a connection (with `tls` as the TLS config, if given) and sends nothing yet
    /// (the caller writes its own CONNECT, or none).
    ///
    /// # Errors
    /// The connection could not be opened.
    pub fn open(
        dialer: &Dialer,
        tls: Option<&Arc<rustls::ClientConfig>>,
        version: u8,
        secret: [u8; 32],
    ) -> io::Result<Peer> {
        let conn = match tls {
            Some(tls) => dialer.open_with(Layer::App, tls)?,
            None => dialer.open(Layer::App)?,
        };
        Ok(Peer {
            conn,
            wk: Client::new(secret, version),
            logged_in: false,
            inbox: VecDeque::new(),
        })
    }

    /// Opens a connection (with `tls` as the TLS config, if given) and writes CONNECT for
    /// `uid` at `version` with the X25519 key `secret`; `client_key` replaces the real
    /// ClientKey when set (scripts damage it).
    ///
    /// # Errors
    /// The connection could not be opened or written.
    pub fn connect(
        dialer: &Dialer,
        tls: Option<&Arc<rustls::ClientConfig>>,
        uid: &str,
        version: u8,
        secret: [u8; 32],
        device: DeviceFlag,
        client_key: impl FnOnce(&str) -> String,
    ) -> io::Result<Peer> {
        let conn = match tls {
            Some(tls) => dialer.open_with(Layer::App, tls)?,
            None => dialer.open(Layer::App)?,
        };
        let wk = Client::new(secret, version);
        let mut frame = wk.connect(uid, "token", device, unix_ms());
        if let Packet::Connect(c) = &mut frame.packet {
            c.client_key = client_key(&c.client_key);
        }
        let mut peer = Peer {
            conn,
            wk,
            logged_in: false,
            inbox: VecDeque::new(),
        };
        peer.write_frame(&frame)?;
        Ok(peer)
    }

    /// Connects and waits for a successful CONNACK.
    ///
    /// # Errors
    /// Any failure, a refusal, or no CONNACK within `timeout`.
    pub fn login(
        dialer: &Dialer,
        uid: &str,
        secret: [u8; 32],
        timeout: Duration,
    ) -> Result<Peer, PeerError> {
        let mut peer = Peer::connect(dialer, None, uid, 4, secret, DeviceFlag::APP, |k| {
            k.to_owned()
        })?;
        match peer.await_connack(timeout)? {
            ReasonCode::SUCCESS => Ok(peer),
            reason => Err(PeerError::Protocol(crate::client::ClientError::Refused(
                reason,
            ))),
        }
    }

    /// Writes one frame at the negotiated version.
    ///
    /// # Errors
    /// The write failed.
    pub fn write_frame(&mut self, frame: &Frame) -> io::Result<()> {
        let bytes = self.wk.encode(frame);
        self.conn.write(Layer::App, &bytes)
    }

    /// Reads until CONNACK (frames before it stay in the inbox) and takes its keys.
    ///
    /// # Errors
    /// The read failed, the server closed, or no CONNACK within `timeout`.
    pub fn await_connack(&mut self, timeout: Duration) -> Result<ReasonCode, PeerError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(i) = self
                .inbox
                .iter()
                .position(|f| matches!(f.packet, Packet::Connack(_)))
            {
                let Some(Frame {
                    packet: Packet::Connack(ack),
                    ..
                }) = self.inbox.remove(i)
                else {
                    continue;
                };
                if ack.reason == ReasonCode::SUCCESS {
                    self.wk.handle_connack(&ack)?;
                    self.logged_in = true;
                }
                return Ok(ack.reason);
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(PeerError::Timeout(timeout));
            }
            self.read_some(Some(left))?;
        }
    }

    /// The next frame, waiting at most `timeout`: `Ok(None)` when nothing came.
    ///
    /// # Errors
    /// The read failed, the server closed, or its bytes are not wkproto.
    pub fn next_frame(&mut self, timeout: Duration) -> Result<Option<Frame>, PeerError> {
        if let Some(f) = self.inbox.pop_front() {
            return Ok(Some(f));
        }
        match self.read_some(Some(timeout)) {
            Ok(()) => Ok(self.inbox.pop_front()),
            Err(PeerError::Timeout(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Every frame that has already arrived, without waiting.
    ///
    /// # Errors
    /// As [`Peer::next_frame`].
    pub fn poll(&mut self) -> Result<Vec<Frame>, PeerError> {
        match self.read_some(None) {
            Ok(()) | Err(PeerError::Timeout(_)) => Ok(self.inbox.drain(..).collect()),
            Err(e) => Err(e),
        }
    }

    /// One read (blocking up to `timeout`, or not at all with `None`), decoded into the
    /// inbox.
    fn read_some(&mut self, timeout: Option<Duration>) -> Result<(), PeerError> {
        let mut bytes = Vec::new();
        let read = match timeout {
            Some(t) => {
                self.conn.set_read_timeout(t)?;
                self.conn.read_app(&mut bytes)
            }
            None => self.conn.read_app_now(&mut bytes),
        };
        match read {
            Ok(true) => {
                let frames = self.wk.handle_bytes(&bytes)?;
                self.inbox.extend(frames);
                Ok(())
            }
            Ok(false) => Err(PeerError::Closed),
            Err(e) if is_timeout(&e) => Err(PeerError::Timeout(timeout.unwrap_or_default())),
            Err(e) => Err(PeerError::Io(e)),
        }
    }
}

/// Milliseconds since the Unix epoch (CONNECT's ClientTimestamp).
fn unix_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}
