//! `wkfuzz serve`: options, their resolution against the config file, and start-up.

use anyhow::{bail, Context};
use clap::Args;
use rand::RngCore;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;
use wkfuzz::config::ConfigFile;
use wkfuzz::hub::{Hub, HubConfig};
use wkfuzz::net::{NetSettings, Shared, Transport};
use wkfuzz::tls;

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
    /// PEM certificate chain for TLS; without it a self-signed dev certificate is made.
    #[arg(long, value_name = "FILE", requires = "key")]
    cert: Option<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) matching --cert.
    #[arg(long, value_name = "FILE", requires = "cert")]
    key: Option<PathBuf>,
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
            if p != wkfuzz::net::upgrade::ANY_PATH && !p.starts_with('/') {
                bail!("--ws-path must start with '/' (or be \"*\"), got {p:?}");
            }
            settings.ws_path = p;
        }

        // The TLS and WSS listeners share one ServerConfig.
        let tls_config = match (tls_addr, wss) {
            (None, None) => None,
            _ => Some(self.tls_config(&file)?),
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

    /// Loads --cert/--key (or the config's), or makes a dev certificate.
    fn tls_config(&self, file: &ConfigFile) -> anyhow::Result<Arc<rustls::ServerConfig>> {
        let server = &file.server;
        let files = match (
            self.cert.clone().or(server.cert.clone()),
            self.key.clone().or(server.key.clone()),
        ) {
            (Some(cert), Some(key)) => tls::CertifiedKeyFiles { cert, key },
            (None, None) => {
                let dir = self
                    .dev_cert_dir
                    .clone()
                    .or_else(|| {
                        self.config
                            .as_ref()
                            .and_then(|c| c.parent().map(|p| p.to_owned()))
                    })
                    .unwrap_or_else(|| std::env::temp_dir().join("wkfuzz"));
                let files = tls::generate_dev_cert(&dir)?;
                tracing::warn!(cert = %files.cert.display(), key = %files.key.display(), "no --cert given: serving a self-signed dev certificate");
                files
            }
            _ => bail!("give both a certificate and a key, or neither"),
        };
        let loaded = tls::load_certified_key(&files)?;
        for w in &loaded.warnings {
            tracing::warn!(cert = %files.cert.display(), "{w}");
        }
        let alpn_list = if self.alpn.is_empty() {
            server.alpn.clone().unwrap_or_default()
        } else {
            self.alpn.clone()
        };
        let alpn = alpn_list.into_iter().map(String::into_bytes).collect();
        Ok(tls::server_config(loaded.key, alpn)?)
    }
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
