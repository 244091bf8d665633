//! A bare rustls server: the same rustls version and the same `ServerConfig` as
//! `wkfuzz serve` (built by [`wkfuzz::tls::TlsFiles`], as `serve --cert --key` builds it),
//! with none of wkfuzz's glue. rustls reads the socket itself (`read_tls` on the
//! `TcpStream`), and on an error the server sends what rustls queued and closes, as
//! rustls's own examples do. A request up to an empty line (tlsfuzzer's
//! `GET / HTTP/1.0`) gets one HTTP answer in one record, then close_notify, like the WSS
//! listener's 426. It is the baseline `wkfuzz serve` is compared with in BENCHMARKS.md
//! ("TLS conformance").
//!
//! ```sh
//! cargo run --release --example bare_rustls_server -- --cert rsa.crt --key rsa.key \
//!     --addr 127.0.0.1:5311
//! ```
//!
//! One thread per connection; only for loopback measurements.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::{ServerConfig, ServerConnection};
use wkfuzz::tls::{CertifiedKeyFiles, TlsFiles};

/// The answer to any request: short, so it fits one record.
const ANSWER: &[u8] =
    b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n";

/// A connection that neither finishes nor fails is dropped after this long.
const CONNECTION_TIME: Duration = Duration::from_secs(30);

fn main() -> Result<(), String> {
    let mut cert = None;
    let mut key = None;
    let mut addr = "127.0.0.1:5311".to_string();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args.next().ok_or(format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--cert" => cert = Some(PathBuf::from(value)),
            "--key" => key = Some(PathBuf::from(value)),
            "--addr" => addr = value,
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    let pair = CertifiedKeyFiles {
        cert: cert.ok_or("--cert is required")?,
        key: key.ok_or("--key is required")?,
    };
    let config = TlsFiles::single(pair)
        .build()
        .map_err(|e| e.to_string())?
        .config;
    let listener = TcpListener::bind(&addr).map_err(|e| format!("{addr}: {e}"))?;
    eprintln!("bare rustls server on {addr}");
    for stream in listener.incoming().flatten() {
        let config = Arc::clone(&config);
        std::thread::spawn(move || {
            if let Err(e) = serve(stream, config) {
                eprintln!("connection: {e}");
            }
        });
    }
    Ok(())
}

/// One connection: handshake, one request, one answer, close.
fn serve(mut sock: TcpStream, config: Arc<ServerConfig>) -> io::Result<()> {
    sock.set_read_timeout(Some(CONNECTION_TIME))?;
    let mut conn = ServerConnection::new(config).map_err(io::Error::other)?;
    let mut request = Vec::new();
    let started = Instant::now();
    while started.elapsed() < CONNECTION_TIME {
        flush(&mut conn, &mut sock)?;
        match conn.read_tls(&mut sock) {
            Ok(0) => break,
            Ok(_) => {}
            // A timeout, a reset, or rustls refusing more input: close.
            Err(e) => {
                eprintln!("read: {e}");
                break;
            }
        }
        if let Err(e) = conn.process_new_packets() {
            eprintln!("TLS error: {e}");
            break;
        }
        let mut buf = [0u8; 4096];
        loop {
            match conn.reader().read(&mut buf) {
                Ok(0) => {
                    // close_notify from the peer: answer it.
                    conn.send_close_notify();
                    return finish(&mut conn, &mut sock);
                }
                Ok(n) => request.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        if ends_headers(&request) {
            conn.writer().write_all(ANSWER)?;
            conn.send_close_notify();
            break;
        }
    }
    finish(&mut conn, &mut sock)
}

/// Whether `request` holds an empty line: the end of HTTP headers, with CRLF or bare LF
/// line ends as lenient parsers (httparse, which the WSS listener uses) accept them;
/// tlsfuzzer sends both `GET / HTTP/1.0\r\n\r\n` and `GET / HTTP/1.0\n\n`.
fn ends_headers(request: &[u8]) -> bool {
    request.windows(2).any(|w| w == b"\n\n") || request.windows(3).any(|w| w == b"\n\r\n")
}

/// Sends what rustls queued (the answer, an alert, close_notify) and closes, as rustls's
/// own example servers do (no lingering: unread input makes the close a reset).
fn finish(conn: &mut ServerConnection, sock: &mut TcpStream) -> io::Result<()> {
    flush(conn, sock)?;
    sock.shutdown(Shutdown::Both)
}

/// Writes every byte rustls wants to send.
fn flush(conn: &mut ServerConnection, sock: &mut TcpStream) -> io::Result<()> {
    while conn.wants_write() {
        conn.write_tls(sock)?;
    }
    Ok(())
}
