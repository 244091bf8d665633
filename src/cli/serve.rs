//! `wkfuzz serve`: options, their resolution against the config file, and start-up.

use anyhow::{bail, Context};
use clap::Args;
use rand::RngCore;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use wkfuzz::config::{ClientAuthMode, ConfigFile};
use wkfuzz::hub::{Hub, HubConfig};
use wkfuzz::net::{NetSettings, Shared};
use wkfuzz::tls;
use wkfuzz::transport::Transport;

#[derive(Debug, Args)]
pub(crate) struct Serve {
    /// Plain-TCP wkproto listen address, or "off" [default: 127.0.0.1:5100]
    #[arg(long, value_name = "ADDR")]
    tcp: Option<String>,
    /// TLS wkproto listen address, or "off" [default: 127.0.0.1:5110]
    #[arg(long, value_name = "ADDR")]
    tls: Option<String>,
    /// WebSocket (ws://) listen address, or "off" [default: 127.0.0.1:5200]
    #[arg(long, value_name = "ADDR")]
    ws: Option<String>,
    /// WebSocket over TLS (wss://) listen address, or "off"; it uses the TLS certificate
    /// [default: 127.0.0.1:5210]
    #[arg(long, value_name = "ADDR")]
    wss: Option<String>,
    /// Request path the ws/wss listeners upgrade; others get 404 ("*": any path, as
    /// upstream WuKongIM) [default: /]
    #[arg(long, value_name = "PATH")]
    ws_path: Option<String>,
    /// PEM certificate chain for TLS (repeatable, paired in order with --key; the first
    /// is the default, the others are chosen by SNI name and key type). Without any, a
    /// self-signed dev certificate is made.
    #[arg(long, value_name = "FILE")]
    cert: Vec<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) matching the --cert at the same position.
    #[arg(long, value_name = "FILE")]
    key: Vec<PathBuf>,
    /// Session-ticket key file, nginx ssl_session_ticket_key format (48 or 80 bytes, e.g.
    /// `openssl rand 80`), repeatable: the first seals new tickets, the others only open
    /// old ones (rotation). Servers sharing the files resume each other's sessions.
    #[arg(long, value_name = "FILE")]
    ticket_key: Vec<PathBuf>,
    /// Seconds a session ticket stays valid (1..=604800) [default: 43200]
    #[arg(long, value_name = "SECS")]
    ticket_lifetime: Option<u32>,
    /// PEM file of CA certificates: clients are asked for a certificate chained to one.
    #[arg(long, value_name = "FILE")]
    client_ca: Option<PathBuf>,
    /// Whether --client-ca makes a client certificate required or optional
    /// [default: required]
    #[arg(long, value_name = "MODE", value_enum, requires = "client_ca")]
    client_auth: Option<ClientAuthArg>,
    /// The CONNECT uid must equal the client certificate's subject CN (else CONNACK 2).
    #[arg(long)]
    client_cert_uid: bool,
    /// TOML config file (see the README); flags override it.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Expect a PROXY protocol v1/v2 header before anything else on every connection.
    #[arg(long)]
    proxy_protocol: bool,
    /// Largest frame body in bytes; a larger declared length closes the connection at once
    /// [default: 1048576]
    #[arg(long, value_name = "BYTES")]
    max_frame: Option<usize>,
    /// Most open connections across all listeners [default: 10000]
    #[arg(long, value_name = "N")]
    max_connections: Option<usize>,
    /// Seconds a logged-in connection may stay silent (PING keeps it alive) [default: 180]
    #[arg(long, value_name = "SECS")]
    idle_timeout: Option<u64>,
    /// Seconds for the PROXY header, TLS handshake and WebSocket upgrade [default: 10]
    #[arg(long, value_name = "SECS")]
    handshake_timeout: Option<u64>,
    /// ALPN protocol to offer (repeatable); none by default.
    #[arg(long, value_name = "PROTO")]
    alpn: Vec<String>,
    /// Directory for the generated dev certificate [default: next to --config, else the
    /// system temp dir]
    #[arg(long, value_name = "DIR")]
    dev_cert_dir: Option<PathBuf>,
}

/// `--client-auth`.
#[derive(Clone, Copy, Debug, clap::ValueEnum)]
enum ClientAuthArg {
    /// Handshakes without a valid client certificate fail.
    Required,
    /// A client certificate is verified if sent.
    Optional,
}

/// Listen address from flag, file or default; `None` when "off".
fn listen_addr(
    flag: &Option<String>,
    file: &Option<String>,
    default: &str,
) -> anyhow::Result<Option<SocketAddr>> {
    let text = flag.as_deref().or(file.as_deref()).unwrap_or(default);
    if text == "off" {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .with_context(|| format!("bad listen address {text:?}"))
}

impl Serve {
    pub(crate) fn run(self) -> anyhow::Result<ExitCode> {
        let file = match &self.config {
            Some(p) => ConfigFile::load(p)?,
            None => ConfigFile::default(),
        };
        let server = &file.server;
        let tcp = listen_addr(&self.tcp, &server.tcp, "127.0.0.1:5100")?;
        let tls_addr = listen_addr(&self.tls, &server.tls, "127.0.0.1:5110")?;
        let ws = listen_addr(&self.ws, &server.ws, "127.0.0.1:5200")?;
        let wss = listen_addr(&self.wss, &server.wss, "127.0.0.1:5210")?;
        let listen = [
            (tcp, Transport::Tcp),
            (tls_addr, Transport::Tls),
            (ws, Transport::Ws),
            (wss, Transport::Wss),
        ];
        if listen.iter().all(|(addr, _)| addr.is_none()) {
            bail!("every listener is off; nothing to serve");
        }

        let mut settings = NetSettings {
            proxy_protocol: self.proxy_protocol || server.proxy_protocol.unwrap_or(false),
            ..NetSettings::default()
        };
        if let Some(n) = self.max_frame.or(server.max_frame) {
            settings.session.max_frame = n;
        }
        if let Some(n) = self.max_connections.or(server.max_connections) {
            if n == 0 {
                bail!("--max-connections must be at least 1");
            }
            settings.max_connections = n;
        }
        if let Some(s) = self.idle_timeout.or(server.idle_timeout_secs) {
            settings.session.idle_timeout = Duration::from_secs(s);
        }
        if let Some(s) = self.handshake_timeout.or(server.handshake_timeout_secs) {
            settings.handshake_timeout = Duration::from_secs(s);
        }
        if let Some(p) = self.ws_path.clone().or(server.ws_path.clone()) {
            if p != wkfuzz::transport::upgrade::ANY_PATH && !p.starts_with('/') {
                bail!("--ws-path must start with '/' (or be \"*\"), got {p:?}");
            }
            settings.ws_path = p;
        }

        settings.client_cert_uid =
            self.client_cert_uid || file.tls.client_cert_uid.unwrap_or(false);

        // The TLS and WSS listeners share one ServerConfig, rebuilt from the same files on
        // SIGHUP.
        let tls_files = match (tls_addr, wss) {
            (None, None) => None,
            _ => Some(self.tls_files(&file)?),
        };
        let tls_config = match &tls_files {
            Some(files) => Some(build_tls(files)?),
            None => None,
        };

        let mut seed = [0u8; 32];
        rand::rngs::OsRng.fill_bytes(&mut seed);
        let hub = Hub::new(HubConfig {
            seed,
            tokens: file.auth.clone(),
            groups: file.groups.clone(),
            node_id: server.node_id.unwrap_or(1),
            ..HubConfig::default()
        });
        let shared = Arc::new(Shared::new(hub, settings, tls_config));

        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()?;
        runtime.block_on(async move {
            // Installed before listening: SIGHUP's default action would end the process.
            if let Some(files) = tls_files {
                spawn_reload_on_hangup(files, shared.clone())?;
            }
            let mut listeners = Vec::new();
            for (addr, transport) in listen {
                let Some(addr) = addr else { continue };
                let listener = tokio::net::TcpListener::bind(addr)
                    .await
                    .with_context(|| format!("cannot listen on {addr} ({transport})"))?;
                let local = listener.local_addr()?;
                tracing::info!(%transport, addr = %local, "listening");
                println!("wkfuzz: listening {transport} {local}");
                listeners.push((listener, transport));
            }
            wkfuzz::net::serve(listeners, shared, shutdown_signal()).await;
            anyhow::Ok(())
        })?;
        Ok(ExitCode::SUCCESS)
    }

    /// The TLS inputs from flags and config file: --cert/--key pairs (or `server.cert`/
    /// `server.key` then `[[tls.certs]]`, or a dev certificate), ticket keys, client CA,
    /// ALPN.
    fn tls_files(&self, file: &ConfigFile) -> anyhow::Result<tls::TlsFiles> {
        let server = &file.server;
        let mut certs = tls::TlsFiles::pairs(&self.cert, &self.key).map_err(one_line)?;
        if certs.is_empty() {
            match (&server.cert, &server.key) {
                (Some(cert), Some(key)) => certs.push(tls::CertifiedKeyFiles {
                    cert: cert.clone(),
                    key: key.clone(),
                }),
                (None, None) => {}
                _ => bail!("config: give both server.cert and server.key, or neither"),
            }
            certs.extend(file.tls.certs.iter().map(|p| tls::CertifiedKeyFiles {
                cert: p.cert.clone(),
                key: p.key.clone(),
            }));
        }
        if certs.is_empty() {
            let dir = self
                .dev_cert_dir
                .clone()
                .or_else(|| {
                    self.config
                        .as_ref()
                        .and_then(|c| c.parent().map(|p| p.to_owned()))
                })
                .unwrap_or_else(|| std::env::temp_dir().join("wkfuzz"));
            let files = tls::generate_dev_cert(&dir).map_err(one_line)?;
            tracing::warn!(cert = %files.cert.display(), key = %files.key.display(), "no --cert given: serving a self-signed dev certificate");
            certs.push(files);
        }
        let ticket_keys = if self.ticket_key.is_empty() {
            file.tls.ticket_keys.clone()
        } else {
            self.ticket_key.clone()
        };
        let ticket_lifetime_secs = self
            .ticket_lifetime
            .or(file.tls.ticket_lifetime_secs)
            .unwrap_or(tls::DEFAULT_TICKET_LIFETIME_SECS);
        if !(1..=tls::MAX_TICKET_LIFETIME_SECS).contains(&ticket_lifetime_secs) {
            bail!(
                "--ticket-lifetime must be 1..={} seconds (RFC 8446: at most seven days), got {ticket_lifetime_secs}",
                tls::MAX_TICKET_LIFETIME_SECS
            );
        }
        let optional = match self.client_auth {
            Some(mode) => matches!(mode, ClientAuthArg::Optional),
            None => file.tls.client_auth == Some(ClientAuthMode::Optional),
        };
        let client_auth = match self.client_ca.clone().or(file.tls.client_ca.clone()) {
            None => tls::ClientAuth::None,
            Some(ca) if optional => tls::ClientAuth::Optional(ca),
            Some(ca) => tls::ClientAuth::Required(ca),
        };
        let alpn_list = if self.alpn.is_empty() {
            server.alpn.clone().unwrap_or_default()
        } else {
            self.alpn.clone()
        };
        Ok(tls::TlsFiles {
            certs,
            ticket_keys,
            ticket_lifetime_secs,
            client_auth,
            alpn: alpn_list.into_iter().map(String::into_bytes).collect(),
        })
    }
}

/// A TLS error as one line: its Display already names the file and the problem (the
/// source's text is part of it), so the error chain is not repeated.
fn one_line(e: tls::TlsError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

/// Builds the TLS config at start-up, logging its warnings and what it serves.
fn build_tls(files: &tls::TlsFiles) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    let built = files.build().map_err(one_line)?;
    for w in &built.warnings {
        tracing::warn!("{w}");
    }
    tracing::info!(summary = %built.summary, "TLS config loaded");
    Ok(built.config)
}

/// On every SIGHUP, re-reads `files` and swaps the TLS config in `shared` if everything
/// loads; otherwise logs why and keeps the material in service.
fn spawn_reload_on_hangup(files: tls::TlsFiles, shared: Arc<Shared>) -> anyhow::Result<()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut hangup =
            signal(SignalKind::hangup()).context("cannot install the SIGHUP handler")?;
        let files = Arc::new(files);
        tokio::spawn(async move {
            while hangup.recv().await.is_some() {
                let (files, shared) = (files.clone(), shared.clone());
                // File reads and key checks block; keep them off the runtime's workers.
                let result = tokio::task::spawn_blocking(move || {
                    shared.live_tls().map(|live| tls::reload(&files, live))
                })
                .await;
                match result {
                    Ok(Some(Ok(built))) => {
                        for w in &built.warnings {
                            tracing::warn!("{w}");
                        }
                        tracing::info!(summary = %built.summary, "SIGHUP: TLS certificates and ticket keys reloaded");
                    }
                    Ok(Some(Err(error))) => tracing::error!(
                        %error,
                        "SIGHUP: TLS reload failed; the certificates and ticket keys in service are kept"
                    ),
                    Ok(None) => {}
                    Err(error) => tracing::error!(%error, "SIGHUP: TLS reload task failed"),
                }
            }
        });
    }
    #[cfg(not(unix))]
    let _ = (files, shared);
    Ok(())
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => tracing::info!("SIGINT received"),
        _ = term => tracing::info!("SIGTERM received"),
    }
}
