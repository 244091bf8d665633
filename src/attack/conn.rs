//! One client connection to the server under test, opened down to the [`Layer`] a case
//! writes at: TCP (with a PROXY v1 header first when the server expects one), then TLS
//! (rustls; the server's certificate is not checked: the attack is not a TLS client's
//! security check, and servers under test run with dev certificates), then the WebSocket
//! upgrade. Blocking sockets with a timeout on every read and write: a stalled server
//! costs one worker one timeout, never a hang.
//!
//! WebSocket framing is the project's own model ([`crate::gen::ws`]): each app write is one
//! masked binary frame, and a read returns the payloads of the server's binary frames
//! (pings are answered, a close frame ends the stream).

use super::case::Layer;
use super::target::TargetUrl;
use crate::gen::ws::{
    read_header, unmask, Payload, WsFrame, KEY, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG,
};
use std::io::{self, ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest HTTP upgrade answer read.
const MAX_UPGRADE_ANSWER: usize = 16 * 1024;
/// Largest WebSocket frame payload accepted from the server.
const MAX_SERVER_FRAME: u64 = 16 * 1024 * 1024;

/// Opens connections to one target.
#[derive(Clone, Debug)]
pub struct Dialer {
    /// The server.
    pub url: TargetUrl,
    /// Send a PROXY v1 header first.
    pub proxy_header: bool,
    /// Connect, read and write timeout.
    pub timeout: Duration,
    /// TLS 1.2 and 1.3, no ALPN.
    tls: Arc<rustls::ClientConfig>,
}

/// The byte stream under the application: TCP or TLS over TCP.
enum Io {
    Tcp(TcpStream),
    Tls(Box<rustls::StreamOwned<rustls::ClientConnection, TcpStream>>),
}

impl Io {
    fn tcp(&self) -> &TcpStream {
        match self {
            Io::Tcp(s) => s,
            Io::Tls(s) => &s.sock,
        }
    }

    fn tcp_mut(&mut self) -> &mut TcpStream {
        match self {
            Io::Tcp(s) => s,
            Io::Tls(s) => &mut s.sock,
        }
    }
}

impl Read for Io {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Io::Tcp(s) => s.read(buf),
            Io::Tls(s) => s.read(buf),
        }
    }
}

impl Write for Io {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Io::Tcp(s) => s.write(buf),
            Io::Tls(s) => s.write(buf),
        }
    }
    fn flush(&mut self) -> io::Result<()> {
        match self {
            Io::Tcp(s) => s.flush(),
            Io::Tls(s) => s.flush(),
        }
    }
}

/// An open connection.
pub struct Conn {
    io: Io,
    /// Upgraded to WebSocket: app bytes travel in binary frames.
    ws: bool,
    /// Server bytes not yet parsed into WebSocket frames.
    ws_in: Vec<u8>,
    /// The server sent a close frame or closed the stream.
    closed: bool,
}

impl std::fmt::Debug for Conn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Conn").field("ws", &self.ws).finish()
    }
}

/// A TLS client config: only `versions`, `alpn`, no resumption, and the server's
/// certificate accepted unchecked (see the module doc).
///
/// # Errors
/// The crypto provider supports none of `versions`.
pub fn tls_config(
    versions: &[&'static rustls::SupportedProtocolVersion],
    alpn: &[&[u8]],
) -> io::Result<Arc<rustls::ClientConfig>> {
    let mut config = rustls::ClientConfig::builder_with_provider(crate::tls::provider())
        .with_protocol_versions(versions)
        .map_err(io::Error::other)?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(crate::load::Unverified))
        .with_no_client_auth();
    config.resumption = rustls::client::Resumption::disabled();
    config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
    Ok(Arc::new(config))
}

impl Dialer {
    /// Connections to `url`.
    ///
    /// # Errors
    /// The TLS client config cannot be built.
    pub fn new(url: TargetUrl, proxy_header: bool, timeout: Duration) -> io::Result<Dialer> {
        Ok(Dialer {
            url,
            proxy_header,
            timeout,
            tls: tls_config(rustls::ALL_VERSIONS, &[])?,
        })
    }

    /// The same dialer with another timeout.
    pub fn with_timeout(&self, timeout: Duration) -> Dialer {
        Dialer {
            timeout,
            ..self.clone()
        }
    }

    /// A TCP connection with its timeouts set, the PROXY header written unless `bare`.
    pub fn tcp(&self, bare: bool) -> io::Result<TcpStream> {
        let tcp = TcpStream::connect_timeout(&self.url.addr(), self.timeout)?;
        tcp.set_read_timeout(Some(self.timeout))?;
        tcp.set_write_timeout(Some(self.timeout))?;
        tcp.set_nodelay(true)?;
        if self.proxy_header && !bare {
            let header = proxy_v1(&tcp)?;
            (&tcp).write_all(header.as_bytes())?;
        }
        Ok(tcp)
    }

    /// A connection opened far enough to write at `layer`: TCP for the proxy and socket
    /// layers, TLS done for the stream layer, the WebSocket upgrade done for the app layer.
    ///
    /// # Errors
    /// The connect, the TLS handshake or the upgrade failed (or timed out).
    pub fn open(&self, layer: Layer) -> io::Result<Conn> {
        self.open_with(layer, &self.tls.clone())
    }

    /// [`Dialer::open`] with a TLS config of the caller's.
    ///
    /// # Errors
    /// As [`Dialer::open`].
    pub fn open_with(&self, layer: Layer, tls: &Arc<rustls::ClientConfig>) -> io::Result<Conn> {
        let tcp = self
            .tcp(layer == Layer::Proxy)
            .map_err(context("connect"))?;
        let mut conn = Conn {
            io: Io::Tcp(tcp),
            ws: false,
            ws_in: Vec::new(),
            closed: false,
        };
        if layer <= Layer::Socket {
            return Ok(conn);
        }
        if self.url.scheme.is_secure() {
            let Io::Tcp(tcp) = conn.io else {
                return Err(io::Error::other("not a TCP stream"));
            };
            let client = rustls::ClientConnection::new(tls.clone(), self.url.server_name())
                .map_err(io::Error::other)?;
            let mut stream = rustls::StreamOwned::new(client, tcp);
            while stream.conn.is_handshaking() {
                stream
                    .conn
                    .complete_io(&mut stream.sock)
                    .map_err(context("TLS handshake"))?;
            }
            conn.io = Io::Tls(Box::new(stream));
        }
        if layer == Layer::App && self.url.scheme.is_websocket() {
            conn.upgrade(&self.url)
                .map_err(context("WebSocket upgrade"))?;
        }
        Ok(conn)
    }
}

/// Prefixes an error with the step that failed, keeping its kind (timeouts stay timeouts).
pub fn context(step: &'static str) -> impl Fn(io::Error) -> io::Error {
    move |e| io::Error::new(e.kind(), format!("{step}: {e}"))
}

/// A PROXY v1 header naming this connection's real endpoints.
fn proxy_v1(tcp: &TcpStream) -> io::Result<String> {
    let (local, peer) = (tcp.local_addr()?, tcp.peer_addr()?);
    let family = if local.is_ipv4() { "TCP4" } else { "TCP6" };
    Ok(format!(
        "PROXY {family} {} {} {} {}\r\n",
        local.ip(),
        peer.ip(),
        local.port(),
        peer.port()
    ))
}

impl Conn {
    /// Whether the stream is TLS.
    pub fn is_tls(&self) -> bool {
        matches!(self.io, Io::Tls(_))
    }

    /// The TLS connection (for KeyUpdate and close_notify), if any.
    pub fn tls_mut(&mut self) -> Option<&mut rustls::ClientConnection> {
        match &mut self.io {
            Io::Tls(s) => Some(&mut s.conn),
            Io::Tcp(_) => None,
        }
    }

    /// Sets the read timeout.
    pub fn set_read_timeout(&self, timeout: Duration) -> io::Result<()> {
        self.io
            .tcp()
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))
    }

    /// Writes `bytes` at `layer` (proxy and socket: raw TCP; stream: through TLS if any;
    /// app: one WebSocket binary frame if upgraded).
    ///
    /// # Errors
    /// The write failed.
    pub fn write(&mut self, layer: Layer, bytes: &[u8]) -> io::Result<()> {
        match layer {
            Layer::Proxy | Layer::Socket => self.io.tcp_mut().write_all(bytes),
            Layer::Stream => {
                self.io.write_all(bytes)?;
                self.io.flush()
            }
            Layer::App if self.ws => {
                let mut frame = Vec::with_capacity(bytes.len().saturating_add(14));
                WsFrame::new(OP_BINARY, Payload::Empty).encode_with(bytes, &mut frame);
                self.io.write_all(&frame)?;
                self.io.flush()
            }
            Layer::App => {
                self.io.write_all(bytes)?;
                self.io.flush()
            }
        }
    }

    /// Sends TLS KeyUpdate (TLS 1.3; otherwise nothing).
    pub fn key_update(&mut self) -> io::Result<()> {
        if let Io::Tls(s) = &mut self.io {
            if s.conn.refresh_traffic_keys().is_ok() {
                s.flush()?;
            }
        }
        Ok(())
    }

    /// Reads the next app bytes into `out`: `Ok(false)` when the server closed (EOF, close
    /// frame), an error of kind `WouldBlock`/`TimedOut` when nothing came in time.
    ///
    /// # Errors
    /// The read failed or timed out.
    pub fn read_app(&mut self, out: &mut Vec<u8>) -> io::Result<bool> {
        if self.closed {
            return Ok(false);
        }
        let mut buf = [0u8; 16 * 1024];
        if !self.ws {
            let n = self.io.read(&mut buf)?;
            out.extend_from_slice(buf.get(..n).unwrap_or_default());
            self.closed = n == 0;
            return Ok(n > 0);
        }
        loop {
            if let Some(got) = self.next_ws_frame(out)? {
                return Ok(got);
            }
            let n = self.io.read(&mut buf)?;
            if n == 0 {
                self.closed = true;
                return Ok(false);
            }
            self.ws_in
                .extend_from_slice(buf.get(..n).unwrap_or_default());
        }
    }

    /// [`Conn::read_app`] without waiting: an error of kind `WouldBlock` when nothing has
    /// arrived.
    ///
    /// # Errors
    /// The read failed or there was nothing to read.
    pub fn read_app_now(&mut self, out: &mut Vec<u8>) -> io::Result<bool> {
        self.io.tcp().set_nonblocking(true)?;
        let result = self.read_app(out);
        self.io.tcp().set_nonblocking(false)?;
        result
    }

    /// Sends TLS close_notify (nothing without TLS).
    ///
    /// # Errors
    /// The write failed.
    pub fn close_notify(&mut self) -> io::Result<()> {
        if let Io::Tls(s) = &mut self.io {
            s.conn.send_close_notify();
            s.flush()?;
        }
        Ok(())
    }

    /// Takes one whole WebSocket frame from `ws_in`: `Some(true)` when it was binary
    /// (payload appended to `out`), `Some(false)` on close, `None` when more bytes are needed.
    fn next_ws_frame(&mut self, out: &mut Vec<u8>) -> io::Result<Option<bool>> {
        loop {
            let Some(h) = read_header(&self.ws_in) else {
                return Ok(None);
            };
            if h.len > MAX_SERVER_FRAME {
                return Err(io::Error::new(ErrorKind::InvalidData, "oversized frame"));
            }
            let end = usize::try_from(h.len)
                .ok()
                .and_then(|n| n.checked_add(h.header_len))
                .ok_or_else(|| io::Error::new(ErrorKind::InvalidData, "frame length"))?;
            let Some(body) = self.ws_in.get(h.header_len..end) else {
                return Ok(None);
            };
            let payload = unmask(body, h.mask);
            self.ws_in.drain(..end);
            match h.opcode {
                OP_CLOSE => {
                    self.closed = true;
                    return Ok(Some(false));
                }
                OP_PING => {
                    let mut pong = Vec::new();
                    WsFrame::new(OP_PONG, Payload::Empty).encode_with(&payload, &mut pong);
                    self.io.write_all(&pong)?;
                    self.io.flush()?;
                }
                OP_BINARY | 0 => {
                    out.extend_from_slice(&payload);
                    return Ok(Some(true));
                }
                _ => {}
            }
        }
    }

    /// Ends the conversation: closes the write side (close_notify under TLS) and reads
    /// until the server closes or `within` passes. Returns the bytes it read.
    pub fn finish(&mut self, within: Duration) -> usize {
        if let Io::Tls(s) = &mut self.io {
            s.conn.send_close_notify();
            let _ = s.flush();
        }
        let _ = self.io.tcp().shutdown(Shutdown::Write);
        drain(self.io.tcp_mut(), within)
    }

    /// Drops the connection without a goodbye (no close_notify, no close frame): both
    /// directions shut at once.
    pub fn abort(self) {
        let _ = self.io.tcp().shutdown(Shutdown::Both);
    }

    fn upgrade(&mut self, url: &TargetUrl) -> io::Result<()> {
        let request = format!(
            "GET {} HTTP/1.1\r\nHost: {}:{}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
             Sec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n",
            url.path, url.host, url.port
        );
        self.io.write_all(request.as_bytes())?;
        self.io.flush()?;
        let mut answer = Vec::new();
        let mut buf = [0u8; 4096];
        let end = loop {
            if let Some(i) = answer.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            if answer.len() > MAX_UPGRADE_ANSWER {
                return Err(io::Error::new(
                    ErrorKind::InvalidData,
                    "upgrade answer too long",
                ));
            }
            let n = self.io.read(&mut buf)?;
            if n == 0 {
                return Err(io::Error::new(
                    ErrorKind::UnexpectedEof,
                    "closed during the upgrade",
                ));
            }
            answer.extend_from_slice(buf.get(..n).unwrap_or_default());
        };
        let head = String::from_utf8_lossy(answer.get(..end).unwrap_or_default()).into_owned();
        let status = head.lines().next().unwrap_or_default();
        if status.split_whitespace().nth(1) != Some("101") {
            return Err(io::Error::new(
                ErrorKind::InvalidData,
                format!("upgrade refused: {status}"),
            ));
        }
        self.ws_in = answer.get(end..).unwrap_or_default().to_vec();
        self.ws = true;
        Ok(())
    }
}

/// Reads `tcp` until EOF, an error or `within`; returns the bytes read.
pub fn drain(tcp: &mut TcpStream, within: Duration) -> usize {
    let deadline = Instant::now() + within;
    let mut buf = [0u8; 16 * 1024];
    let mut total = 0usize;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || tcp.set_read_timeout(Some(left)).is_err() {
            return total;
        }
        match tcp.read(&mut buf) {
            Ok(0) | Err(_) => return total,
            Ok(n) => total = total.saturating_add(n),
        }
    }
}

/// Whether `e` is a read timeout (not a failure of the connection).
pub fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}
