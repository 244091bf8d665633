//! The byte layer between the socket and the session: a plain or TLS [`Stream`], or
//! WebSocket over one ([`WsLayer`]). Sans-IO like the session: wire bytes in, plaintext out,
//! and back. The tokio shell and the fuzz targets drive the same code.

use super::error::{LayerError, ReadOutcome};
use super::stream::Stream;
use super::ws::{WsConfig, WsLayer};
use super::Transport;
use std::sync::Arc;

/// Plain TCP, TLS, or WebSocket over one of them.
#[derive(Debug)]
pub enum Layer {
    /// wkproto directly over the stream (tcp, tls).
    Stream(Stream),
    /// wkproto in binary WebSocket messages (ws, wss).
    Ws(Box<WsLayer>),
}

impl Layer {
    /// The layer a connection on `transport` starts with.
    ///
    /// # Errors
    /// A TLS transport without a TLS config, or a config rustls refuses.
    pub fn new(
        transport: Transport,
        tls: Option<Arc<rustls::ServerConfig>>,
        ws: &WsConfig,
    ) -> Result<Layer, String> {
        let tls = || match tls {
            Some(cfg) => rustls::ServerConnection::new(cfg)
                .map(|c| Stream::Tls(Box::new(c)))
                .map_err(|e| format!("TLS setup: {e}")),
            None => Err(format!("{transport} listener without TLS config")),
        };
        let ws = |inner| Layer::Ws(Box::new(WsLayer::new(inner, ws.clone())));
        Ok(match transport {
            Transport::Tcp => Layer::Stream(Stream::Plain),
            Transport::Tls => Layer::Stream(tls()?),
            Transport::Ws => ws(Stream::Plain),
            Transport::Wss => ws(tls()?),
        })
    }

    /// The stream under the layer (plain or TLS).
    pub fn stream(&self) -> &Stream {
        match self {
            Layer::Stream(s) => s,
            Layer::Ws(w) => w.inner(),
        }
    }

    /// Whether a TLS handshake or WebSocket upgrade is still in progress (no session yet).
    pub fn is_handshaking(&self) -> bool {
        match self {
            Layer::Stream(s) => s.is_handshaking(),
            Layer::Ws(w) => w.is_handshaking(),
        }
    }

    /// The certificate chain the TLS client authenticated with, if any, leaf first.
    pub fn peer_certificates(&self) -> Option<&[rustls::pki_types::CertificateDer<'static>]> {
        self.stream().peer_certificates()
    }

    /// Feeds wire bytes; appends decrypted application data to `plain` and anything the
    /// layer answers by itself (TLS handshake, WebSocket 101 and pongs) to `wire_out`.
    ///
    /// # Errors
    /// The layer failed and the connection must end; what the peer should get (TLS alert,
    /// HTTP error, WebSocket close frame) is already in `wire_out`.
    pub fn handle_wire(
        &mut self,
        data: &[u8],
        plain: &mut Vec<u8>,
        wire_out: &mut Vec<u8>,
    ) -> Result<ReadOutcome, LayerError> {
        match self {
            Layer::Stream(s) => s.handle_wire(data, plain, wire_out),
            Layer::Ws(w) => w.handle_wire(data, plain, wire_out),
        }
    }

    /// Encrypts `plain` (as far as the TLS state allows: before the handshake completes
    /// rustls buffers it; WebSocket frames it) and appends every pending wire byte to
    /// `wire_out`.
    pub fn write_plain(&mut self, plain: &[u8], wire_out: &mut Vec<u8>) {
        match self {
            Layer::Stream(s) => s.write_plain(plain, wire_out),
            Layer::Ws(w) => w.write_plain(plain, wire_out),
        }
    }

    /// Queues a WebSocket close frame and a TLS close_notify, as they apply (nothing for
    /// plain TCP), and appends them to `wire_out`.
    pub fn close(&mut self, wire_out: &mut Vec<u8>) {
        match self {
            Layer::Stream(s) => s.close(wire_out),
            Layer::Ws(w) => w.close(wire_out),
        }
    }
}
