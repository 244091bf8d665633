//! A load client's connection to the server over any of its four transports: plain TCP,
//! TLS, WebSocket and WebSocket over TLS, behind one small interface that moves wkproto
//! bytes. Over WebSocket (tokio-tungstenite as the client) every write is one masked binary
//! message, as the JS SDK sends each frame, and a read returns the payload of the next
//! binary message (pings are answered by tungstenite; a close frame is the end).

use super::server_name;
use crate::transport::Transport;
use futures_util::{SinkExt, StreamExt};
use std::io;
use std::net::SocketAddr;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// Size of one read from a TCP or TLS stream.
const READ_CHUNK: usize = 16 * 1024;

/// A byte stream under a connection: TCP, or TLS over TCP.
pub(crate) trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

/// One client connection.
pub(crate) enum Wire {
    /// tcp or tls: wkproto bytes as they are.
    Stream(Box<dyn Io>),
    /// ws or wss: wkproto bytes in binary messages.
    Ws(Box<WebSocketStream<Box<dyn Io>>>),
}

impl std::fmt::Debug for Wire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Wire::Stream(_) => "Wire::Stream",
            Wire::Ws(_) => "Wire::Ws",
        })
    }
}

impl Wire {
    /// Connects to `addr` over `transport`: TCP (no delay), then the TLS handshake with
    /// `tls` for tls and wss, then the WebSocket upgrade (`GET /`) for ws and wss.
    ///
    /// # Errors
    /// Whatever failed: the TCP connect, the TLS handshake, the upgrade.
    pub(crate) async fn connect(
        transport: Transport,
        addr: SocketAddr,
        tls: &TlsConnector,
    ) -> io::Result<Wire> {
        let tcp = TcpStream::connect(addr).await?;
        tcp.set_nodelay(true)?;
        let secure = matches!(transport, Transport::Tls | Transport::Wss);
        let stream: Box<dyn Io> = if secure {
            Box::new(tls.connect(server_name(), tcp).await?)
        } else {
            Box::new(tcp)
        };
        match transport {
            Transport::Tcp | Transport::Tls => Ok(Wire::Stream(stream)),
            Transport::Ws | Transport::Wss => {
                let url = if secure {
                    "wss://localhost/"
                } else {
                    "ws://localhost/"
                };
                let (ws, _response) = tokio_tungstenite::client_async(url, stream)
                    .await
                    .map_err(io::Error::other)?;
                Ok(Wire::Ws(Box::new(ws)))
            }
        }
    }

    /// Sends `bytes` (one binary message over WebSocket) and flushes.
    ///
    /// # Errors
    /// The connection failed.
    pub(crate) async fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match self {
            Wire::Stream(s) => {
                s.write_all(bytes).await?;
                s.flush().await
            }
            Wire::Ws(ws) => ws
                .send(Message::Binary(bytes.to_vec().into()))
                .await
                .map_err(io::Error::other),
        }
    }

    /// Appends the next bytes from the server to `out`; `false` when the server closed.
    /// Cancel-safe: dropping the future loses no data.
    ///
    /// # Errors
    /// The connection failed.
    pub(crate) async fn read(&mut self, out: &mut Vec<u8>) -> io::Result<bool> {
        match self {
            Wire::Stream(s) => {
                out.reserve(READ_CHUNK);
                Ok(s.read_buf(out).await? > 0)
            }
            Wire::Ws(ws) => loop {
                match ws.next().await {
                    None | Some(Ok(Message::Close(_))) => return Ok(false),
                    Some(Ok(Message::Binary(payload))) => {
                        out.extend_from_slice(&payload);
                        return Ok(true);
                    }
                    Some(Ok(_)) => {}
                    Some(Err(e)) => return Err(io::Error::other(e)),
                }
            },
        }
    }

    /// Closes the connection politely (close frame, close_notify, FIN); errors are ignored:
    /// the benchmark is done with it.
    pub(crate) async fn close(&mut self) {
        match self {
            Wire::Stream(s) => {
                let _ = s.shutdown().await;
            }
            Wire::Ws(ws) => {
                let _ = ws.close(None).await;
            }
        }
    }
}
