//! Shared by the end-to-end tests: an in-process server on loopback ports chosen at run
//! time (tcp, tls, ws, wss), real TLS and WebSocket clients speaking wkproto, and a capture
//! of the server's log events.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use wkfuzz::client::Client;
use wkfuzz::hub::{Hub, HubConfig};
use wkfuzz::net::{NetSettings, Shared};
use wkfuzz::proto::{ChannelType, DeviceFlag, Frame, Packet, ReasonCode, Recv, Sendack};
use wkfuzz::transport::Transport;

#[path = "../support/log_capture.rs"]
mod log_capture;
pub use log_capture::*;

/// A running server.
pub struct TestServer {
    pub tcp: SocketAddr,
    pub tls: SocketAddr,
    pub ws: SocketAddr,
    pub wss: SocketAddr,
    /// The dev certificate clients trust.
    pub cert: PathBuf,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with(HubConfig::default(), NetSettings::default()).await
    }

    /// A server whose frame limit (`max_frame`) is `max_frame` bytes.
    pub async fn start_with_max_frame(max_frame: usize) -> TestServer {
        let settings = NetSettings {
            session: wkfuzz::session::SessionConfig {
                max_frame,
                ..Default::default()
            },
            ..NetSettings::default()
        };
        TestServer::start_with(HubConfig::default(), settings).await
    }

    pub async fn start_with(hub: HubConfig, settings: NetSettings) -> TestServer {
        logs();
        let dir = tempfile::tempdir().unwrap();
        let files = wkfuzz::tls::generate_dev_cert(dir.path()).unwrap();
        let loaded = wkfuzz::tls::load_certified_key(&files).unwrap();
        let tls = wkfuzz::tls::server_config(loaded.key, vec![]).unwrap();
        let shared = Arc::new(Shared::new(Hub::new(hub), settings, Some(tls)));
        let mut listeners = Vec::new();
        let mut addrs = Vec::new();
        for transport in [
            Transport::Tcp,
            Transport::Tls,
            Transport::Ws,
            Transport::Wss,
        ] {
            let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
            addrs.push(l.local_addr().unwrap());
            listeners.push((l, transport));
        }
        let (tcp, tls, ws, wss) = (addrs[0], addrs[1], addrs[2], addrs[3]);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(wkfuzz::net::serve(listeners, shared, async move {
            let _ = stopped.await;
        }));
        TestServer {
            tcp,
            tls,
            ws,
            wss,
            cert: files.cert,
            stop: Some(stop),
            task: Some(task),
            _dir: dir,
        }
    }

    /// A rustls client config trusting the dev certificate.
    pub fn client_config(&self) -> Arc<rustls::ClientConfig> {
        client_config_with(&self.cert, None)
    }

    /// Stops the server and waits for it to drain.
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            tokio::time::timeout(WAIT, t)
                .await
                .expect("server drains")
                .unwrap();
        }
    }
}

/// A client config trusting `cert`, optionally limited to `versions`.
pub fn client_config_with(
    cert: &PathBuf,
    versions: Option<&[&'static rustls::SupportedProtocolVersion]>,
) -> Arc<rustls::ClientConfig> {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(cert).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let builder = rustls::ClientConfig::builder_with_provider(provider);
    let builder = match versions {
        Some(v) => builder.with_protocol_versions(v).unwrap(),
        None => builder.with_safe_default_protocol_versions().unwrap(),
    };
    Arc::new(builder.with_root_certificates(roots).with_no_client_auth())
}

/// A byte stream to the server: TCP or TLS.
pub trait Wire: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Wire for T {}

/// A wkproto user over a real socket.
pub struct User {
    pub uid: String,
    pub client: Client,
    pub stream: Box<dyn Wire>,
    /// The client's local address (how the server's log names it).
    pub local: SocketAddr,
    /// Frames read but not yet consumed.
    pending: Vec<Frame>,
}

static SECRET: std::sync::atomic::AtomicU8 = std::sync::atomic::AtomicU8::new(1);

impl User {
    /// Opens a TLS connection (no CONNECT yet).
    pub async fn tls(server: &TestServer, uid: &str, version: u8) -> User {
        let tcp = TcpStream::connect(server.tls).await.unwrap();
        let local = tcp.local_addr().unwrap();
        mark_peer(local);
        let connector = tokio_rustls::TlsConnector::from(server.client_config());
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let tls = tokio::time::timeout(WAIT, connector.connect(name, tcp))
            .await
            .unwrap()
            .unwrap();
        User::over(Box::new(tls), local, uid, version)
    }

    /// Opens a WebSocket connection, over TLS if `tls` (no CONNECT yet); every write is
    /// one binary message.
    pub async fn websocket(server: &TestServer, tls: bool, uid: &str, version: u8) -> User {
        let (ws, local) = ws_connect(server, tls, "/").await;
        User::over(Box::new(WsWire::new(ws)), local, uid, version)
    }

    /// Opens a plain TCP connection (no CONNECT yet).
    pub async fn tcp(server: &TestServer, uid: &str, version: u8) -> User {
        let tcp = TcpStream::connect(server.tcp).await.unwrap();
        let local = tcp.local_addr().unwrap();
        mark_peer(local);
        User::over(Box::new(tcp), local, uid, version)
    }

    fn over(stream: Box<dyn Wire>, local: SocketAddr, uid: &str, version: u8) -> User {
        let n = SECRET.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut secret = [n; 32];
        secret[0] = 0x42;
        User {
            uid: uid.to_owned(),
            client: Client::new(secret, version),
            stream,
            local,
            pending: Vec::new(),
        }
    }

    /// TLS user that has logged in.
    pub async fn login_tls(server: &TestServer, uid: &str) -> User {
        let mut u = User::tls(server, uid, 4).await;
        u.login(DeviceFlag::APP).await;
        u
    }

    /// Sends CONNECT and waits for a successful CONNACK.
    pub async fn login(&mut self, device: DeviceFlag) {
        let reason = self.try_login(device).await;
        assert_eq!(reason, ReasonCode::SUCCESS, "{} logs in", self.uid);
    }

    /// Sends CONNECT; returns the CONNACK reason (and derives keys on success).
    pub async fn try_login(&mut self, device: DeviceFlag) -> ReasonCode {
        let connect = self
            .client
            .connect(&self.uid, "token", device, 1_700_000_000_000);
        self.write_frame(&connect).await;
        let connack = self.expect(|p| matches!(p, Packet::Connack(_))).await;
        let Packet::Connack(c) = connack.packet else {
            unreachable!()
        };
        if c.reason == ReasonCode::SUCCESS {
            self.client.handle_connack(&c).unwrap();
        }
        c.reason
    }

    pub async fn write_frame(&mut self, frame: &Frame) {
        let bytes = self.client.encode(frame);
        self.write_raw(&bytes).await;
    }

    pub async fn write_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).await.unwrap();
        self.stream.flush().await.unwrap();
    }

    /// Reads until a frame matching `want` arrives (earlier non-matching frames are kept).
    pub async fn expect(&mut self, want: impl Fn(&Packet) -> bool) -> Frame {
        match self.try_expect(want).await {
            Ok(f) => f,
            Err(e) => panic!("{}: {e}", self.uid),
        }
    }

    pub async fn try_expect(&mut self, want: impl Fn(&Packet) -> bool) -> Result<Frame, String> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(pos) = self.pending.iter().position(|f| want(&f.packet)) {
                return Ok(self.pending.remove(pos));
            }
            let mut buf = [0u8; 8192];
            let n = match tokio::time::timeout_at(deadline, self.stream.read(&mut buf)).await {
                Err(_) => return Err(format!("timed out; have {:?}", self.pending)),
                Ok(Err(e)) => return Err(format!("read error {e}; have {:?}", self.pending)),
                Ok(Ok(0)) => return Err(format!("connection closed; have {:?}", self.pending)),
                Ok(Ok(n)) => n,
            };
            let frames = self
                .client
                .handle_bytes(&buf[..n])
                .map_err(|e| e.to_string())?;
            self.pending.extend(frames);
        }
    }

    /// Sends a text message; returns its SENDACK.
    pub async fn send_text(&mut self, to: &str, ty: ChannelType, text: &str) -> Sendack {
        let (frame, seq) = self.client.send(to, ty, text.as_bytes()).unwrap();
        self.write_frame(&frame).await;
        let f = self
            .expect(|p| matches!(p, Packet::Sendack(a) if a.client_seq == seq))
            .await;
        let Packet::Sendack(a) = f.packet else {
            unreachable!()
        };
        a
    }

    /// Waits for the next RECV, checks and decrypts it, acknowledges it.
    pub async fn recv_text(&mut self) -> (Recv, String) {
        let f = self.expect(|p| matches!(p, Packet::Recv(_))).await;
        let Packet::Recv(r) = f.packet else {
            unreachable!()
        };
        let text = String::from_utf8(self.client.open(&r).expect("RECV verifies")).unwrap();
        let ack = Client::recvack(&r);
        self.write_frame(&ack).await;
        (r, text)
    }

    /// Reads until the server closes the connection; returns the frames seen on the way.
    pub async fn read_until_closed(&mut self) -> Vec<Frame> {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            let mut buf = [0u8; 8192];
            match tokio::time::timeout_at(deadline, self.stream.read(&mut buf)).await {
                Err(_) => panic!(
                    "{}: server did not close; have {:?}",
                    self.uid, self.pending
                ),
                Ok(Ok(0)) | Ok(Err(_)) => return std::mem::take(&mut self.pending),
                Ok(Ok(n)) => {
                    if let Ok(frames) = self.client.handle_bytes(&buf[..n]) {
                        self.pending.extend(frames);
                    }
                }
            }
        }
    }
}

/// Two users chat over TLS `rounds` times; panics on any mismatch. Used as the
/// "parallel chat goes on undisturbed" witness.
pub async fn chat(server: &TestServer, a: &str, b: &str, rounds: usize) {
    let mut ua = User::login_tls(server, a).await;
    let mut ub = User::login_tls(server, b).await;
    for i in 0..rounds {
        let text = format!("{a}->{b} #{i}");
        let ack = ua.send_text(b, ChannelType::PERSON, &text).await;
        assert_eq!(ack.reason, ReasonCode::SUCCESS);
        let (r, got) = ub.recv_text().await;
        assert_eq!(got, text);
        assert_eq!(r.message_id, ack.message_id);
        let reply = format!("{b}->{a} #{i}");
        assert_eq!(
            ub.send_text(a, ChannelType::PERSON, &reply).await.reason,
            ReasonCode::SUCCESS
        );
        assert_eq!(ua.recv_text().await.1, reply);
    }
}

/// A WebSocket client over TCP or TLS.
pub type WsStream = tokio_tungstenite::WebSocketStream<Box<dyn Wire>>;

/// A TCP connection to `addr`, wrapped in TLS trusting the dev certificate if `tls`;
/// returns it with its local address.
pub async fn raw_connect(
    server: &TestServer,
    addr: SocketAddr,
    tls: bool,
) -> (Box<dyn Wire>, SocketAddr) {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let local = tcp.local_addr().unwrap();
    mark_peer(local);
    if !tls {
        return (Box::new(tcp), local);
    }
    let connector = tokio_rustls::TlsConnector::from(server.client_config());
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let stream = tokio::time::timeout(WAIT, connector.connect(name, tcp))
        .await
        .unwrap()
        .unwrap();
    (Box::new(stream), local)
}

/// Upgrades a connection to the ws (or wss if `tls`) listener at `path`.
pub async fn ws_connect(server: &TestServer, tls: bool, path: &str) -> (WsStream, SocketAddr) {
    let addr = if tls { server.wss } else { server.ws };
    let (stream, local) = raw_connect(server, addr, tls).await;
    let url = format!("{}://localhost{path}", if tls { "wss" } else { "ws" });
    let (ws, response) = tokio::time::timeout(WAIT, tokio_tungstenite::client_async(url, stream))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(response.status(), 101);
    (ws, local)
}

/// A WebSocket client as a byte stream: each write is one binary message, reads return
/// the payloads of binary messages (other messages are skipped; close is end of stream).
pub struct WsWire {
    ws: WsStream,
    /// Payload not yet read (`pos <= buf.len()`).
    buf: Vec<u8>,
    pos: usize,
}

impl WsWire {
    pub fn new(ws: WsStream) -> WsWire {
        WsWire {
            ws,
            buf: Vec::new(),
            pos: 0,
        }
    }
}

impl AsyncRead for WsWire {
    fn poll_read(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        out: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use futures_util::Stream;
        use std::task::Poll;
        use tokio_tungstenite::tungstenite::Message;
        let this = self.get_mut();
        loop {
            if this.pos < this.buf.len() {
                let n = out.remaining().min(this.buf.len() - this.pos);
                out.put_slice(&this.buf[this.pos..this.pos + n]);
                this.pos += n;
                return Poll::Ready(Ok(()));
            }
            match std::pin::Pin::new(&mut this.ws).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(None) | Poll::Ready(Some(Ok(Message::Close(_)))) => {
                    return Poll::Ready(Ok(()))
                }
                Poll::Ready(Some(Ok(Message::Binary(b)))) => {
                    this.buf = b.to_vec();
                    this.pos = 0;
                }
                Poll::Ready(Some(Ok(_))) => {}
                Poll::Ready(Some(Err(e))) => {
                    return Poll::Ready(Err(std::io::Error::other(e)));
                }
            }
        }
    }
}

impl AsyncWrite for WsWire {
    fn poll_write(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        use futures_util::Sink;
        use std::task::Poll;
        use tokio_tungstenite::tungstenite::Message;
        let this = self.get_mut();
        let mut sink = std::pin::Pin::new(&mut this.ws);
        match sink.as_mut().poll_ready(cx) {
            Poll::Pending => return Poll::Pending,
            Poll::Ready(Err(e)) => return Poll::Ready(Err(std::io::Error::other(e))),
            Poll::Ready(Ok(())) => {}
        }
        let message = Message::Binary(buf.to_vec().into());
        Poll::Ready(
            sink.start_send(message)
                .map(|()| buf.len())
                .map_err(std::io::Error::other),
        )
    }

    fn poll_flush(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use futures_util::Sink;
        std::pin::Pin::new(&mut self.get_mut().ws)
            .poll_flush(cx)
            .map_err(std::io::Error::other)
    }

    fn poll_shutdown(
        self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        use futures_util::Sink;
        std::pin::Pin::new(&mut self.get_mut().ws)
            .poll_close(cx)
            .map_err(std::io::Error::other)
    }
}

/// Sends `request` to the ws (or wss) port over raw TCP (or TLS) and reads the answer to
/// the end.
pub async fn raw_upgrade(server: &TestServer, tls: bool, request: &[u8]) -> (String, SocketAddr) {
    let addr = if tls { server.wss } else { server.ws };
    let (mut stream, local) = raw_connect(server, addr, tls).await;
    stream.write_all(request).await.unwrap();
    stream.flush().await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(WAIT, stream.read_to_end(&mut answer))
        .await
        .expect("server closes after answering")
        .expect("clean end (TLS close_notify)");
    (String::from_utf8_lossy(&answer).into_owned(), local)
}

/// Malformed upgrade requests: (request, HTTP status, words of the reason).
pub fn bad_upgrades() -> Vec<(String, u16, &'static str)> {
    let key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    let upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n";
    vec![
        (
            format!("GET /wrong HTTP/1.1\r\nHost: localhost\r\n{upgrade}{key}\r\n"),
            404,
            "no WebSocket endpoint at \"/wrong\"",
        ),
        (
            format!("GET / HTTP/1.1\r\nHost: localhost\r\n{upgrade}\r\n"),
            400,
            "missing Sec-WebSocket-Key",
        ),
        (
            "GET / HTTP/1.1\r\nHost: localhost\r\n\r\n".to_owned(),
            426,
            "no Upgrade: websocket",
        ),
        (
            "\u{1}\u{2}garbage\u{0}\r\n\r\n".to_owned(),
            400,
            "malformed HTTP request",
        ),
        (
            format!("POST / HTTP/1.1\r\nHost: localhost\r\n{upgrade}{key}\r\n"),
            405,
            "is not GET",
        ),
    ]
}

/// Sends every [`bad_upgrades`] case over raw TCP to the ws port and over raw TLS to the
/// wss port; checks each HTTP answer (RFC 6455 4.2.1 / RFC 9110) and its one log line.
pub async fn assert_bad_upgrades(server: &TestServer) {
    for tls in [false, true] {
        for (request, status, reason) in bad_upgrades() {
            let (answer, local) = raw_upgrade(server, tls, request.as_bytes()).await;
            assert!(
                answer.starts_with(&format!("HTTP/1.1 {status} ")),
                "{request:?} got {answer:?}"
            );
            assert!(answer.contains(reason), "{answer}");
            let connection = if status == 426 {
                "\r\nConnection: Upgrade, close\r\n"
            } else {
                "\r\nConnection: close\r\n"
            };
            assert!(answer.contains(connection), "{answer}");
            if status == 426 {
                assert!(answer.contains("\r\nUpgrade: websocket\r\n"), "{answer}");
            }
            let lines = wait_close_log(local).await;
            assert_eq!(lines.len(), 1, "{lines:?}");
            let line = &lines[0];
            let transport = if tls { "wss" } else { "ws" };
            assert!(
                line.contains(&format!("transport={transport}"))
                    && line.contains("stage=handshake")
                    && line.contains(&format!("(HTTP {status})"))
                    && line.contains(reason),
                "{line}"
            );
        }
    }
}
