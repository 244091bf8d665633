//! [`ServerSettings`]: what `wkfuzz serve` runs with, resolved from its flags
//! ([`ServeOptions`]) and the config file ([`ConfigFile`]).
//!
//! The merge rules, each tested below:
//! - a flag wins over the file, the file over the default; a repeatable flag given at
//!   all (`--cert`/`--key`, `--ticket-key`, `--alpn`) replaces the whole list of the file;
//!   a boolean flag can only switch a feature on;
//! - relative paths in the file are relative to the file (done by [`ConfigFile::load`]),
//!   paths in flags to the working directory;
//! - a listener address "off" disables that listener; at least one must stay on;
//! - TLS material is resolved only when a TLS listener (tls, wss) is on; without any
//!   certificate, a self-signed dev certificate is made at start (next to the config
//!   file, else in the system temp dir, or in `--dev-cert-dir`);
//! - `[auth]` turns token checks on, `[groups]` creates groups, `server.node_id` is the
//!   CONNACK NodeId.

use super::{ServeError, ServeOptions};
use crate::config::{ClientAuthMode, ConfigFile};
use crate::hub::HubConfig;
use crate::net::NetSettings;
use crate::tls::{self, CertifiedKeyFiles, ClientAuth, TlsFiles};
use crate::transport::{upgrade::ANY_PATH, Transport};
use rand::RngCore;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Each listener's address when neither a flag nor the file names one.
pub const DEFAULT_LISTENERS: [(Transport, &str); 4] = [
    (Transport::Tcp, "127.0.0.1:5100"),
    (Transport::Tls, "127.0.0.1:5110"),
    (Transport::Ws, "127.0.0.1:5200"),
    (Transport::Wss, "127.0.0.1:5210"),
];

/// Validated settings for one server.
#[derive(Clone, Debug)]
pub struct ServerSettings {
    /// The listeners to open, in the order tcp, tls, ws, wss; "off" ones are absent
    /// (invariant: not empty).
    pub listeners: Vec<(Transport, SocketAddr)>,
    /// Limits, timeouts, PROXY, WebSocket path, client-certificate uid rule.
    pub net: NetSettings,
    /// Auth table, groups, NodeId; the seed is drawn from the OS by
    /// [`ServerSettings::resolve`] (a served hub's keys and salts must not be predictable).
    pub hub: HubConfig,
    /// The TLS material, when a TLS listener (tls or wss) is on.
    pub tls: Option<TlsSettings>,
}

/// The TLS listeners' material, before anything is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsSettings {
    /// Certificates, ticket keys, client CA, ALPN; `certs` is empty exactly when
    /// `dev_cert_dir` is set.
    pub files: TlsFiles,
    /// No certificate was given: a self-signed dev certificate is made here at start
    /// ([`tls::generate_dev_cert`]) and served.
    pub dev_cert_dir: Option<PathBuf>,
}

impl ServerSettings {
    /// Reads the config file named by `options` (if any) and merges it with the flags.
    ///
    /// # Errors
    /// The config file's [`ServeError::Config`], or the first setting that does not
    /// validate (see [`ServeError`]); nothing is read but the config file.
    pub fn resolve(options: &ServeOptions) -> Result<ServerSettings, ServeError> {
        let file = match &options.config {
            Some(path) => ConfigFile::load(path)?,
            None => ConfigFile::default(),
        };
        let mut settings = merge(options, &file)?;
        rand::rngs::OsRng.fill_bytes(&mut settings.hub.seed);
        Ok(settings)
    }
}

/// The flags over the file over the defaults (the hub seed is left at its default).
fn merge(options: &ServeOptions, file: &ConfigFile) -> Result<ServerSettings, ServeError> {
    let server = &file.server;
    let flags = [&options.tcp, &options.tls, &options.ws, &options.wss];
    let in_file = [&server.tcp, &server.tls, &server.ws, &server.wss];
    let mut listeners = Vec::new();
    for ((flag, in_file), (transport, default)) in flags.into_iter().zip(in_file).zip(DEFAULT_LISTENERS) {
        let text = flag.as_deref().or(in_file.as_deref()).unwrap_or(default);
        if let Some(addr) = listen_addr(text)? {
            listeners.push((transport, addr));
        }
    }
    if listeners.is_empty() {
        return Err(ServeError::NoListener);
    }
    let net = net_settings(options, file)?;
    let tls = if listeners.iter().any(|(t, _)| t.is_tls()) {
        Some(tls_settings(options, file)?)
    } else {
        None
    };
    let hub = HubConfig {
        tokens: file.auth.clone(),
        groups: file.groups.clone(),
        node_id: server.node_id.unwrap_or(1),
        ..HubConfig::default()
    };
    Ok(ServerSettings {
        listeners,
        net,
        hub,
        tls,
    })
}

/// A listen address; `None` for "off".
fn listen_addr(text: &str) -> Result<Option<SocketAddr>, ServeError> {
    if text == "off" {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|source| ServeError::ListenAddr {
            text: text.to_owned(),
            source,
        })
}

/// Limits, timeouts and the per-connection switches.
fn net_settings(options: &ServeOptions, file: &ConfigFile) -> Result<NetSettings, ServeError> {
    let server = &file.server;
    let mut net = NetSettings {
        proxy_protocol: options.proxy_protocol || server.proxy_protocol.unwrap_or(false),
        client_cert_uid: options.client_cert_uid || file.tls.client_cert_uid.unwrap_or(false),
        ..NetSettings::default()
    };
    if let Some(n) = options.max_frame.or(server.max_frame) {
        net.session.max_frame = n;
    }
    if let Some(n) = options.max_connections.or(server.max_connections) {
        if n == 0 {
            return Err(ServeError::ZeroMaxConnections);
        }
        net.max_connections = n;
    }
    if let Some(s) = options.idle_timeout.or(server.idle_timeout_secs) {
        net.session.idle_timeout = Duration::from_secs(s);
    }
    if let Some(s) = options.handshake_timeout.or(server.handshake_timeout_secs) {
        net.handshake_timeout = Duration::from_secs(s);
    }
    if let Some(p) = options.ws_path.as_ref().or(server.ws_path.as_ref()) {
        if p != ANY_PATH && !p.starts_with('/') {
            return Err(ServeError::WsPath(p.clone()));
        }
        net.ws_path = p.clone();
    }
    Ok(net)
}

/// The TLS inputs: --cert/--key pairs (or `server.cert`/`server.key` then
/// `[[tls.certs]]`, or a dev certificate), ticket keys, client CA, ALPN.
fn tls_settings(options: &ServeOptions, file: &ConfigFile) -> Result<TlsSettings, ServeError> {
    let server = &file.server;
    let mut certs = TlsFiles::pairs(&options.cert, &options.key)?;
    if certs.is_empty() {
        match (&server.cert, &server.key) {
            (Some(cert), Some(key)) => certs.push(CertifiedKeyFiles {
                cert: cert.clone(),
                key: key.clone(),
            }),
            (None, None) => {}
            _ => return Err(ServeError::HalfCertPair),
        }
        certs.extend(file.tls.certs.iter().map(|p| CertifiedKeyFiles {
            cert: p.cert.clone(),
            key: p.key.clone(),
        }));
    }
    let dev_cert_dir = certs.is_empty().then(|| {
        options
            .dev_cert_dir
            .clone()
            .or_else(|| {
                let config = options.config.as_ref()?;
                config.parent().map(|p| p.to_owned())
            })
            .unwrap_or_else(|| std::env::temp_dir().join("wkfuzz"))
    });
    let ticket_keys = if options.ticket_key.is_empty() {
        file.tls.ticket_keys.clone()
    } else {
        options.ticket_key.clone()
    };
    let ticket_lifetime_secs = options
        .ticket_lifetime
        .or(file.tls.ticket_lifetime_secs)
        .unwrap_or(tls::DEFAULT_TICKET_LIFETIME_SECS);
    if !(1..=tls::MAX_TICKET_LIFETIME_SECS).contains(&ticket_lifetime_secs) {
        return Err(ServeError::TicketLifetime(ticket_lifetime_secs));
    }
    let mode = options.client_auth.or(file.tls.client_auth);
    let client_auth = match options.client_ca.clone().or(file.tls.client_ca.clone()) {
        None => ClientAuth::None,
        Some(ca) if mode == Some(ClientAuthMode::Optional) => ClientAuth::Optional(ca),
        Some(ca) => ClientAuth::Required(ca),
    };
    let alpn = if options.alpn.is_empty() {
        server.alpn.clone().unwrap_or_default()
    } else {
        options.alpn.clone()
    };
    Ok(TlsSettings {
        files: TlsFiles {
            certs,
            ticket_keys,
            ticket_lifetime_secs,
            client_auth,
            alpn: alpn.into_iter().map(String::into_bytes).collect(),
        },
        dev_cert_dir,
    })
}
