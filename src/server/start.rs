//! [`Server`]: resolved settings made real. [`Server::new`] reads the key material and
//! builds the hub (blocking file I/O, before any runtime exists); [`Server::bind`] opens
//! the listeners inside the runtime; [`Listening::run`] serves until shutdown.

use super::signals::spawn_reload_on_hangup;
use super::{ServeError, ServerSettings};
use crate::hub::Hub;
use crate::net::{Shared, SharedRef};
use crate::tls::{self, TlsFiles};
use crate::transport::Transport;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;

/// A server whose TLS config and hub are built, not yet listening.
#[derive(Debug)]
pub struct Server {
    listeners: Vec<(Transport, SocketAddr)>,
    shared: SharedRef,
    /// The files the TLS config was built from (the dev certificate's, if one was made),
    /// read again on every SIGHUP; `None` without TLS listeners.
    tls_files: Option<TlsFiles>,
}

impl Server {
    /// Makes the dev certificate if no certificate was given, builds the TLS config (its
    /// warnings and summary are logged) and the hub.
    ///
    /// # Errors
    /// [`ServeError::Tls`] naming the first file that does not load.
    pub fn new(settings: ServerSettings) -> Result<Server, ServeError> {
        let tls_files = match settings.tls {
            None => None,
            Some(mut tls) => {
                if let Some(dir) = &tls.dev_cert_dir {
                    let files = tls::generate_dev_cert(dir)?;
                    tracing::warn!(cert = %files.cert.display(), key = %files.key.display(), "no --cert given: serving a self-signed dev certificate");
                    tls.files.certs.push(files);
                }
                Some(tls.files)
            }
        };
        let tls_config = match &tls_files {
            Some(files) => {
                let built = files.build()?;
                for w in &built.warnings {
                    tracing::warn!("{w}");
                }
                tracing::info!(summary = %built.summary, "TLS config loaded");
                Some(built.config)
            }
            None => None,
        };
        let hub = Hub::new(settings.hub);
        Ok(Server {
            listeners: settings.listeners,
            shared: Arc::new(Shared::new(hub, settings.net, tls_config)),
            tls_files,
        })
    }

    /// The state every connection shares (hub, settings, live TLS config).
    pub fn shared(&self) -> &SharedRef {
        &self.shared
    }

    /// The TLS material in service; `None` without TLS listeners.
    pub fn tls_files(&self) -> Option<&TlsFiles> {
        self.tls_files.as_ref()
    }

    /// Installs the SIGHUP reload of the TLS files (before listening: SIGHUP's default
    /// action would end the process), then binds every listener in order. Must run inside
    /// a tokio runtime with I/O and signals enabled.
    ///
    /// # Errors
    /// [`ServeError::Listen`] for the first address that cannot be bound.
    pub async fn bind(self) -> Result<Listening, ServeError> {
        if let Some(files) = self.tls_files {
            spawn_reload_on_hangup(files, self.shared.clone())?;
        }
        let mut listeners = Vec::new();
        for (transport, addr) in self.listeners {
            let listener = TcpListener::bind(addr)
                .await
                .map_err(|source| ServeError::Listen {
                    addr,
                    transport,
                    source,
                })?;
            let local = listener.local_addr().map_err(|source| ServeError::Io {
                what: "cannot read a listener's address",
                source,
            })?;
            tracing::info!(%transport, addr = %local, "listening");
            listeners.push((listener, transport, local));
        }
        Ok(Listening {
            listeners,
            shared: self.shared,
        })
    }
}

/// A server with its listeners open.
#[derive(Debug)]
pub struct Listening {
    listeners: Vec<(TcpListener, Transport, SocketAddr)>,
    shared: SharedRef,
}

impl Listening {
    /// Each listener and the address it is bound to (port 0 resolved), in the order
    /// tcp, tls, ws, wss.
    pub fn local_addrs(&self) -> Vec<(Transport, SocketAddr)> {
        self.listeners.iter().map(|(_, t, a)| (*t, *a)).collect()
    }

    /// The address of the `transport` listener, if it is on.
    pub fn local_addr(&self, transport: Transport) -> Option<SocketAddr> {
        self.listeners
            .iter()
            .find(|(_, t, _)| *t == transport)
            .map(|(_, _, a)| *a)
    }

    /// The state every connection shares.
    pub fn shared(&self) -> &SharedRef {
        &self.shared
    }

    /// Serves until `shutdown` completes, then drains ([`crate::net::serve`]).
    pub async fn run(self, shutdown: impl Future<Output = ()>) {
        let listeners = self.listeners.into_iter().map(|(l, t, _)| (l, t)).collect();
        crate::net::serve(listeners, self.shared, shutdown).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::ServeOptions;

    fn options(dir: &std::path::Path) -> ServeOptions {
        ServeOptions {
            tcp: Some("127.0.0.1:0".into()),
            tls: Some("127.0.0.1:0".into()),
            ws: Some("off".into()),
            wss: Some("127.0.0.1:0".into()),
            dev_cert_dir: Some(dir.to_owned()),
            ..ServeOptions::default()
        }
    }

    #[tokio::test]
    async fn without_certificates_it_serves_a_dev_certificate_on_every_listener() {
        let dir = tempfile::tempdir().unwrap();
        let settings = ServerSettings::resolve(&options(dir.path())).unwrap();
        let server = Server::new(settings).unwrap();
        let certs = &server.tls_files().unwrap().certs;
        assert_eq!(certs.len(), 1);
        assert_eq!(certs[0].cert, dir.path().join(tls::DEV_CERT_FILE));
        assert!(certs[0].cert.exists() && certs[0].key.exists());
        assert!(server.shared().tls_config().is_some());
        let listening = server.bind().await.unwrap();
        let on: Vec<Transport> = listening.local_addrs().iter().map(|(t, _)| *t).collect();
        assert_eq!(on, vec![Transport::Tcp, Transport::Tls, Transport::Wss]);
        assert!(listening.local_addrs().iter().all(|(_, a)| a.port() != 0));
        assert_eq!(listening.local_addr(Transport::Ws), None);
    }

    #[test]
    fn key_material_that_does_not_load_is_one_line_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.pem");
        let options = ServeOptions {
            cert: vec![missing.clone()],
            key: vec![dir.path().join("missing.key")],
            ..options(dir.path())
        };
        let err = Server::new(ServerSettings::resolve(&options).unwrap()).unwrap_err();
        let shown = format!("{:#}", anyhow::Error::from(err));
        assert_eq!(
            shown,
            format!(
                "{}: cannot read: No such file or directory (os error 2)",
                missing.display()
            )
        );
    }

    #[tokio::test]
    async fn an_address_in_use_names_the_listener() {
        let dir = tempfile::tempdir().unwrap();
        let taken = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let at = taken.local_addr().unwrap();
        let options = ServeOptions {
            tcp: Some(at.to_string()),
            tls: Some("off".into()),
            wss: Some("off".into()),
            ..options(dir.path())
        };
        let server = Server::new(ServerSettings::resolve(&options).unwrap()).unwrap();
        let err = server.bind().await.unwrap_err();
        let shown = format!("{:#}", anyhow::Error::from(err));
        assert!(
            shown.starts_with(&format!("cannot listen on {at} (tcp): ")),
            "{shown}"
        );
    }
}
