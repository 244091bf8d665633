//! What is attacked: a server's URL (`tcp://HOST:PORT`, `tls://HOST:PORT`,
//! `ws://HOST:PORT/PATH`, `wss://HOST:PORT/PATH`) and the protocol it speaks above its
//! transport (`--protocol wkproto|tls|raw`).
//!
//! The host is resolved once, when the URL is parsed: the attack connects to exactly those
//! addresses and nowhere else.

use std::net::{SocketAddr, ToSocketAddrs};

/// The transport a URL names.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Scheme {
    /// Plain TCP.
    Tcp,
    /// TLS over TCP.
    Tls,
    /// WebSocket over TCP.
    Ws,
    /// WebSocket over TLS.
    Wss,
}

impl Scheme {
    /// Every scheme, in a fixed order.
    pub const ALL: [Scheme; 4] = [Scheme::Tcp, Scheme::Tls, Scheme::Ws, Scheme::Wss];

    /// The URL scheme (`tcp`, `tls`, `ws`, `wss`).
    pub fn name(self) -> &'static str {
        match self {
            Scheme::Tcp => "tcp",
            Scheme::Tls => "tls",
            Scheme::Ws => "ws",
            Scheme::Wss => "wss",
        }
    }

    /// The scheme called `name`.
    pub fn from_name(name: &str) -> Option<Scheme> {
        Scheme::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether TLS runs under everything else.
    pub fn is_secure(self) -> bool {
        matches!(self, Scheme::Tls | Scheme::Wss)
    }

    /// Whether the application's bytes travel in WebSocket messages.
    pub fn is_websocket(self) -> bool {
        matches!(self, Scheme::Ws | Scheme::Wss)
    }
}

impl std::fmt::Display for Scheme {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// What the server speaks above its transport.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// WuKongIM's wkproto: every case, IM scripts, witnesses, login probes.
    Wkproto,
    /// Only TLS (an HTTPS or other TLS server): handshake and record cases; the probe is a
    /// completed handshake.
    Tls,
    /// Unknown: bytes only; the probe is a connection (and its TLS handshake or WebSocket
    /// upgrade).
    Raw,
}

impl Protocol {
    /// The name used on the command line and in regressions.
    pub fn name(self) -> &'static str {
        match self {
            Protocol::Wkproto => "wkproto",
            Protocol::Tls => "tls",
            Protocol::Raw => "raw",
        }
    }
}

/// One server under test.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetUrl {
    /// Transport.
    pub scheme: Scheme,
    /// The host as written (the TLS server name when it is a DNS name).
    pub host: String,
    /// Port.
    pub port: u16,
    /// The WebSocket request path (`/` unless given).
    pub path: String,
    /// The addresses `host` resolved to; connections go to the first.
    pub addrs: Vec<SocketAddr>,
}

/// Why a target URL is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    /// Not `scheme://host:port[/path]`.
    #[error("{0:?}: expected tcp://HOST:PORT, tls://HOST:PORT, ws://HOST:PORT/PATH or wss://HOST:PORT/PATH")]
    Shape(String),
    /// A scheme other than tcp, tls, ws, wss.
    #[error("{0:?}: unknown scheme {1:?} (tcp, tls, ws or wss)")]
    Scheme(String, String),
    /// A path on a tcp or tls URL.
    #[error("{0:?}: only ws:// and wss:// URLs have a path")]
    Path(String),
    /// The host does not resolve.
    #[error("{0:?}: cannot resolve {1}: {2}")]
    Resolve(String, String, String),
}

impl TargetUrl {
    /// Parses and resolves `url`.
    ///
    /// # Errors
    /// A malformed URL, an unknown scheme, a path where none belongs, an unresolvable host.
    pub fn parse(url: &str) -> Result<TargetUrl, UrlError> {
        let shape = || UrlError::Shape(url.to_owned());
        let (scheme, rest) = url.split_once("://").ok_or_else(shape)?;
        let scheme = Scheme::from_name(&scheme.to_ascii_lowercase())
            .ok_or_else(|| UrlError::Scheme(url.to_owned(), scheme.to_owned()))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if !path.is_empty() && path != "/" && !scheme.is_websocket() {
            return Err(UrlError::Path(url.to_owned()));
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (host, tail) = v6.split_once(']').ok_or_else(shape)?;
            (host, tail.strip_prefix(':').ok_or_else(shape)?)
        } else {
            authority.rsplit_once(':').ok_or_else(shape)?
        };
        let port: u16 = port.parse().map_err(|_| shape())?;
        if host.is_empty() {
            return Err(shape());
        }
        let addrs: Vec<SocketAddr> = (host, port)
            .to_socket_addrs()
            .map_err(|e| UrlError::Resolve(url.to_owned(), host.to_owned(), e.to_string()))?
            .collect();
        if addrs.is_empty() {
            return Err(UrlError::Resolve(
                url.to_owned(),
                host.to_owned(),
                "no addresses".into(),
            ));
        }
        Ok(TargetUrl {
            scheme,
            host: host.to_owned(),
            port,
            path: if path.is_empty() {
                "/".into()
            } else {
                path.to_owned()
            },
            addrs,
        })
    }

    /// A URL for a known address (the in-process reference server).
    pub fn at(scheme: Scheme, addr: SocketAddr) -> TargetUrl {
        TargetUrl {
            scheme,
            host: addr.ip().to_string(),
            port: addr.port(),
            path: "/".into(),
            addrs: vec![addr],
        }
    }

    /// The address connections go to.
    pub fn addr(&self) -> SocketAddr {
        // `parse` and `at` never build an empty list.
        self.addrs
            .first()
            .copied()
            .unwrap_or_else(|| SocketAddr::from(([127, 0, 0, 1], self.port)))
    }

    /// The TLS server name: the host, or `localhost` for an IP address (rustls sends no SNI
    /// for an IP address either way).
    pub fn server_name(&self) -> rustls::pki_types::ServerName<'static> {
        rustls::pki_types::ServerName::try_from(self.host.clone())
            .unwrap_or_else(|_| rustls::pki_types::ServerName::from(self.addr().ip()))
    }
}

impl std::fmt::Display for TargetUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        };
        write!(f, "{}://{host}:{}", self.scheme, self.port)?;
        if self.scheme.is_websocket() {
            f.write_str(&self.path)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_print_back() {
        for (url, scheme, port, path) in [
            ("tcp://127.0.0.1:5100", Scheme::Tcp, 5100, "/"),
            ("tls://localhost:5110", Scheme::Tls, 5110, "/"),
            ("ws://127.0.0.1:5200/", Scheme::Ws, 5200, "/"),
            ("wss://[::1]:5210/chat?x=1", Scheme::Wss, 5210, "/chat?x=1"),
        ] {
            let t = TargetUrl::parse(url).unwrap();
            assert_eq!((t.scheme, t.port, t.path.as_str()), (scheme, port, path));
            assert!(!t.addrs.is_empty());
        }
        assert_eq!(
            TargetUrl::parse("wss://[::1]:5210/chat")
                .unwrap()
                .to_string(),
            "wss://[::1]:5210/chat"
        );
        assert_eq!(
            TargetUrl::parse("tcp://127.0.0.1:5100/")
                .unwrap()
                .to_string(),
            "tcp://127.0.0.1:5100"
        );
    }

    #[test]
    fn bad_urls_are_refused_with_a_reason() {
        assert!(matches!(
            TargetUrl::parse("http://127.0.0.1:80"),
            Err(UrlError::Scheme(..))
        ));
        assert!(matches!(
            TargetUrl::parse("tcp://127.0.0.1"),
            Err(UrlError::Shape(_))
        ));
        assert!(matches!(
            TargetUrl::parse("tcp://127.0.0.1:99999"),
            Err(UrlError::Shape(_))
        ));
        assert!(matches!(
            TargetUrl::parse("tls://127.0.0.1:1/x"),
            Err(UrlError::Path(_))
        ));
        assert!(matches!(
            TargetUrl::parse("127.0.0.1:5100"),
            Err(UrlError::Shape(_))
        ));
    }
}
