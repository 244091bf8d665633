//! The WebSocket opening handshake, server side (RFC 6455 section 4.2): reads the client's
//! HTTP upgrade request and decides the answer, `101 Switching Protocols` or an HTTP error
//! naming what was wrong. Pure: request bytes in, a decision (with the response bytes) out;
//! [`super::ws::WsLayer`] sends it.
//!
//! Parsed here with `httparse` rather than by tungstenite's handshake machine because the
//! answers are ours to choose (tungstenite writes nothing for a request without the upgrade
//! headers), the request size is bounded before it is buffered, and bytes that follow the
//! request in the same read (a pipelining client's first frames) are kept, not refused.
//!
//! Answers, in the order the checks run:
//! - not HTTP, or malformed: `400`;
//! - more than [`MAX_REQUEST_BYTES`] or [`MAX_HEADERS`] headers: `431`;
//! - a method other than GET: `405` with `Allow: GET`;
//! - HTTP/1.0: `400` (RFC 6455 4.1 needs HTTP/1.1);
//! - a path other than the configured one: `404` (path policy below);
//! - no `Upgrade: websocket` (plain HTTP): `426 Upgrade Required` with `Upgrade: websocket`
//!   (RFC 9110 15.5.22);
//! - no `upgrade` token in `Connection`, no `Host`, no `Sec-WebSocket-Key` or one that is
//!   not base64 of 16 bytes, no `Sec-WebSocket-Version`: `400`;
//! - a version other than 13: `426` with `Sec-WebSocket-Version: 13` (RFC 6455 4.2.2).
//!
//! Path policy: the listener serves one request path, `/` unless configured; the query
//! string is ignored (`/?uid=u1` is `/`). The JS SDK connects to the URL the app gives it,
//! typically `ws://host:5200`, whose path is `/`. Upstream WuKongIM accepts any path; the
//! path `*` does the same here.

use base64::Engine;

/// Largest upgrade request (request line + headers) buffered: browsers and the SDK send
/// well under 2 KiB; a peer that sends more without finishing gets 431.
pub const MAX_REQUEST_BYTES: usize = 8 * 1024;

/// Most header lines parsed; more gets 431.
pub const MAX_HEADERS: usize = 32;

/// The path that accepts any request path.
pub const ANY_PATH: &str = "*";

/// Longest piece of a peer's request (method, path) quoted in a refusal and the log.
const MAX_QUOTE: usize = 64;

/// What the request bytes received so far amount to.
#[derive(Debug, PartialEq, Eq)]
pub enum Upgrade {
    /// The request is not complete yet (and is within [`MAX_REQUEST_BYTES`]).
    Incomplete,
    /// A valid upgrade request.
    Accept {
        /// The `101 Switching Protocols` response to send.
        response: Vec<u8>,
        /// Bytes the request took; what follows are WebSocket frames.
        consumed: usize,
    },
    /// Refused: send [`Rejection::response`] and close.
    Reject(Rejection),
}

/// An upgrade request refused with an HTTP error.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// HTTP status code.
    pub status: u16,
    /// What was wrong (also the response body and the log reason).
    pub detail: String,
    /// Extra response header lines, each ending in CRLF.
    extra_headers: &'static str,
}

impl Rejection {
    fn new(status: u16, detail: impl Into<String>) -> Rejection {
        Rejection {
            status,
            detail: detail.into(),
            extra_headers: "",
        }
    }

    fn with_headers(mut self, extra_headers: &'static str) -> Rejection {
        self.extra_headers = extra_headers;
        self
    }

    /// The complete HTTP response: status line, headers, a one-line text body; the
    /// connection closes after it (`Connection: close`, with `Upgrade` for a 426).
    pub fn response(&self) -> Vec<u8> {
        let body = format!("{}\n", self.detail);
        format!(
            "HTTP/1.1 {} {}\r\n{}Content-Type: text/plain; charset=utf-8\r\nContent-Length: {}\r\nConnection: {}\r\n\r\n{}",
            self.status,
            reason_phrase(self.status),
            self.extra_headers,
            body.len(),
            // A response that offers an upgrade names it in Connection too (RFC 9110 7.8).
            if self.extra_headers.starts_with("Upgrade:") {
                "Upgrade, close"
            } else {
                "close"
            },
            body
        )
        .into_bytes()
    }
}

/// The reason phrase of the statuses this module sends.
fn reason_phrase(status: u16) -> &'static str {
    match status {
        101 => "Switching Protocols",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        426 => "Upgrade Required",
        431 => "Request Header Fields Too Large",
        _ => "Error",
    }
}

/// Reads the upgrade request at the start of `buf` and decides the answer. `path` is the
/// request path served ([`ANY_PATH`] for any).
pub fn read_upgrade(buf: &[u8], path: &str) -> Upgrade {
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut headers);
    let consumed = match req.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) if buf.len() < MAX_REQUEST_BYTES => {
            return Upgrade::Incomplete
        }
        Ok(httparse::Status::Partial) => return Upgrade::Reject(too_large()),
        Err(httparse::Error::TooManyHeaders) => {
            return Upgrade::Reject(Rejection::new(
                431,
                format!("more than {MAX_HEADERS} header lines"),
            ))
        }
        Err(e) => {
            return Upgrade::Reject(Rejection::new(400, format!("malformed HTTP request: {e}")))
        }
    };
    if consumed > MAX_REQUEST_BYTES {
        return Upgrade::Reject(too_large());
    }
    match check_request(&req, path) {
        Ok(response) => Upgrade::Accept { response, consumed },
        Err(rejection) => Upgrade::Reject(rejection),
    }
}

fn too_large() -> Rejection {
    Rejection::new(
        431,
        format!("upgrade request longer than {MAX_REQUEST_BYTES} bytes"),
    )
}

/// RFC 6455 4.2.1 on a complete request; the 101 response on success.
fn check_request(req: &httparse::Request<'_, '_>, path: &str) -> Result<Vec<u8>, Rejection> {
    let method = req.method.unwrap_or_default();
    if method != "GET" {
        return Err(
            Rejection::new(405, format!("method {} is not GET", quote(method)))
                .with_headers("Allow: GET\r\n"),
        );
    }
    if req.version != Some(1) {
        return Err(Rejection::new(
            400,
            "HTTP/1.0 request: WebSocket needs HTTP/1.1",
        ));
    }
    let target = req.path.unwrap_or_default();
    let target_path = target.split('?').next().unwrap_or_default();
    if path != ANY_PATH && target_path != path {
        return Err(Rejection::new(
            404,
            format!("no WebSocket endpoint at {}", quote(target)),
        ));
    }
    if !has_token(req, "upgrade", "websocket") {
        return Err(Rejection::new(
            426,
            "not a WebSocket upgrade request (no Upgrade: websocket)",
        )
        .with_headers("Upgrade: websocket\r\n"));
    }
    if !has_token(req, "connection", "upgrade") {
        return Err(Rejection::new(400, "Connection header lacks \"upgrade\""));
    }
    if header(req, "host").is_none() {
        return Err(Rejection::new(400, "missing Host header"));
    }
    match header(req, "sec-websocket-version").map(<[u8]>::trim_ascii) {
        None => {
            return Err(Rejection::new(400, "missing Sec-WebSocket-Version")
                .with_headers("Sec-WebSocket-Version: 13\r\n"))
        }
        Some(b"13") => {}
        Some(_) => {
            return Err(
                Rejection::new(426, "unsupported Sec-WebSocket-Version (only 13)")
                    .with_headers("Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n"),
            )
        }
    }
    let Some(key) = header(req, "sec-websocket-key").map(<[u8]>::trim_ascii) else {
        return Err(Rejection::new(400, "missing Sec-WebSocket-Key"));
    };
    // RFC 6455 4.2.1 item 5: base64 of a 16-byte nonce.
    let decoded = base64::engine::general_purpose::STANDARD.decode(key);
    if decoded.map(|k| k.len()) != Ok(16) {
        return Err(Rejection::new(
            400,
            "Sec-WebSocket-Key is not base64 of 16 bytes",
        ));
    }
    let accept = tungstenite::handshake::derive_accept_key(key);
    Ok(format!(
        "HTTP/1.1 101 {}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: {accept}\r\n\r\n",
        reason_phrase(101)
    )
    .into_bytes())
}

/// The value of the first header named `name` (ASCII case-insensitive).
fn header<'b>(req: &httparse::Request<'_, 'b>, name: &str) -> Option<&'b [u8]> {
    req.headers
        .iter()
        .find(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.value)
}

/// Whether any header named `name` lists `token` (comma-separated, case-insensitive), as
/// in `Connection: keep-alive, Upgrade`.
fn has_token(req: &httparse::Request<'_, '_>, name: &str, token: &str) -> bool {
    req.headers
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case(name))
        .flat_map(|h| h.value.split(|&b| b == b','))
        .any(|t| t.trim_ascii().eq_ignore_ascii_case(token.as_bytes()))
}

/// A piece of the request for a message: at most [`MAX_QUOTE`] characters, quoted and
/// escaped (httparse already limits methods and paths to visible ASCII).
fn quote(s: &str) -> String {
    let short: String = s.chars().take(MAX_QUOTE).collect();
    if short.len() < s.len() {
        format!("{short:?}...")
    } else {
        format!("{short:?}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "dGhlIHNhbXBsZSBub25jZQ==";

    fn request(path: &str, headers: &str) -> Vec<u8> {
        format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n{headers}\r\n").into_bytes()
    }

    fn upgrade_headers() -> String {
        format!("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n")
    }

    fn rejected(buf: &[u8], path: &str) -> Rejection {
        match read_upgrade(buf, path) {
            Upgrade::Reject(r) => r,
            other => panic!("expected a rejection, got {other:?}"),
        }
    }

    #[test]
    fn accepts_the_rfc_example_with_its_accept_key() {
        let mut buf = request("/", &upgrade_headers());
        let len = buf.len();
        buf.extend_from_slice(&[0x82, 0x80]); // a frame right behind the request
        let Upgrade::Accept { response, consumed } = read_upgrade(&buf, "/") else {
            panic!("not accepted")
        };
        assert_eq!(consumed, len);
        let text = String::from_utf8(response).unwrap();
        assert!(text.starts_with("HTTP/1.1 101 Switching Protocols\r\n"));
        // RFC 6455 section 1.3's worked example.
        assert!(text.contains("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
    }

    #[test]
    fn header_names_and_tokens_are_case_insensitive_and_query_is_ignored() {
        let headers = format!("upgrade: WebSocket\r\nconnection: keep-alive, upgrade\r\nsec-websocket-key: {KEY}\r\nsec-websocket-version: 13\r\n");
        let buf = request("/?uid=u1", &headers);
        assert!(matches!(read_upgrade(&buf, "/"), Upgrade::Accept { .. }));
    }

    #[test]
    fn incomplete_until_the_blank_line_then_bounded() {
        let buf = request("/", &upgrade_headers());
        for cut in 0..buf.len() {
            assert_eq!(read_upgrade(&buf[..cut], "/"), Upgrade::Incomplete, "{cut}");
        }
        let mut long = b"GET / HTTP/1.1\r\nX-Filler: ".to_vec();
        long.resize(MAX_REQUEST_BYTES, b'a');
        assert_eq!(rejected(&long, "/").status, 431);
    }

    #[test]
    fn each_bad_request_gets_its_status() {
        let cases: Vec<(Vec<u8>, u16, &str)> = vec![
            (b"\x16\x03\x01\x00\xa5\x01".to_vec(), 400, "malformed"),
            (
                b"POST / HTTP/1.1\r\nHost: x\r\n\r\n".to_vec(),
                405,
                "not GET",
            ),
            (
                format!("GET / HTTP/1.0\r\n{}\r\n", upgrade_headers()).into_bytes(),
                400,
                "HTTP/1.0",
            ),
            (request("/chat", &upgrade_headers()), 404, "/chat"),
            (request("/", ""), 426, "no Upgrade"),
            (
                request(
                    "/",
                    &format!("Upgrade: websocket\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 13\r\n"),
                ),
                400,
                "Connection",
            ),
            (
                request(
                    "/",
                    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n",
                ),
                400,
                "missing Sec-WebSocket-Key",
            ),
            (
                request(
                    "/",
                    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: c2hvcnQ=\r\nSec-WebSocket-Version: 13\r\n",
                ),
                400,
                "16 bytes",
            ),
            (
                request(
                    "/",
                    &format!("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 8\r\n"),
                ),
                426,
                "Version",
            ),
            (
                format!("GET / HTTP/1.1\r\n{}\r\n", upgrade_headers()).into_bytes(),
                400,
                "Host",
            ),
        ];
        for (buf, status, needle) in cases {
            let r = rejected(&buf, "/");
            assert_eq!(r.status, status, "{r:?}");
            assert!(r.detail.contains(needle), "{r:?} lacks {needle}");
            let text = String::from_utf8(r.response()).unwrap();
            assert!(text.starts_with(&format!("HTTP/1.1 {status} ")), "{text}");
            assert!(text.ends_with(&format!("\r\n\r\n{}\n", r.detail)), "{text}");
        }
    }

    #[test]
    fn refusals_carry_the_headers_the_rfcs_ask_for() {
        let r = rejected(&request("/", ""), "/");
        let text = String::from_utf8(r.response()).unwrap();
        assert!(text.contains("\r\nUpgrade: websocket\r\n"), "{text}");
        assert_eq!(text.matches("Connection:").count(), 1, "{text}");
        assert!(
            text.contains("\r\nConnection: Upgrade, close\r\n"),
            "{text}"
        );
        let headers = format!("Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: {KEY}\r\nSec-WebSocket-Version: 7\r\n");
        let text = String::from_utf8(rejected(&request("/", &headers), "/").response()).unwrap();
        assert!(text.contains("\r\nSec-WebSocket-Version: 13\r\n"), "{text}");
    }

    #[test]
    fn any_path_policy_accepts_every_path_and_long_paths_are_quoted_short() {
        let buf = request("/some/where", &upgrade_headers());
        assert!(matches!(
            read_upgrade(&buf, ANY_PATH),
            Upgrade::Accept { .. }
        ));
        let long = format!("/{}", "p".repeat(500));
        let r = rejected(&request(&long, &upgrade_headers()), "/");
        assert_eq!(r.status, 404);
        assert!(r.detail.len() < 120, "{}", r.detail);
    }
}
