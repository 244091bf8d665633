//! The reference server in this process, on loopback ports chosen at run time (tcp, tls,
//! ws, wss, default settings, a dev certificate in a temporary directory): what the gate
//! replays wire regressions against, and what the attack's own tests attack.
//!
//! Its runtime's threads are named `wkfuzz-reference`; a panic hook (installed once,
//! chained to the previous one) counts the panics on them, since the shell contains a
//! connection's panic and the process would otherwise never know.

use super::target::{Scheme, TargetUrl};
use crate::hub::{Hub, HubConfig};
use crate::net::{NetSettings, Shared};
use crate::transport::Transport;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread::JoinHandle;

/// Prefix of the reference server's thread names.
const THREAD_NAME: &str = "wkfuzz-reference";

/// Panics on the reference server's threads, process-wide.
static PANICS: AtomicU64 = AtomicU64::new(0);

fn count_panics() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current()
                .name()
                .is_some_and(|n| n.starts_with(THREAD_NAME))
            {
                PANICS.fetch_add(1, Ordering::Relaxed);
            }
            previous(info);
        }));
    });
}

/// A running in-process reference server.
#[derive(Debug)]
pub struct ReferenceServer {
    addrs: Vec<(Scheme, SocketAddr)>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
    _dir: tempfile::TempDir,
}

impl ReferenceServer {
    /// Starts one, expecting a PROXY header first when `proxy`.
    ///
    /// # Errors
    /// The certificate, the runtime or a listener cannot be made.
    pub fn start(proxy: bool) -> io::Result<ReferenceServer> {
        count_panics();
        let dir = tempfile::tempdir()?;
        let files = crate::tls::generate_dev_cert(dir.path()).map_err(io::Error::other)?;
        let loaded = crate::tls::load_certified_key(&files).map_err(io::Error::other)?;
        let tls = crate::tls::server_config(loaded.key, Vec::new()).map_err(io::Error::other)?;
        let settings = NetSettings {
            proxy_protocol: proxy,
            ..NetSettings::default()
        };
        let shared = Arc::new(Shared::new(
            Hub::new(HubConfig::default()),
            settings,
            Some(tls),
        ));
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name(THREAD_NAME)
            .enable_all()
            .build()?;
        let mut listeners = Vec::new();
        let mut addrs = Vec::new();
        for (scheme, transport) in [
            (Scheme::Tcp, Transport::Tcp),
            (Scheme::Tls, Transport::Tls),
            (Scheme::Ws, Transport::Ws),
            (Scheme::Wss, Transport::Wss),
        ] {
            let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
            addrs.push((scheme, listener.local_addr()?));
            listeners.push((listener, transport));
        }
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new()
            .name(format!("{THREAD_NAME}-main"))
            .spawn(move || {
                runtime.block_on(crate::net::serve(listeners, shared, async move {
                    let _ = stopped.await;
                }));
            })?;
        Ok(ReferenceServer {
            addrs,
            stop: Some(stop),
            thread: Some(thread),
            _dir: dir,
        })
    }

    /// The URL of its `scheme` listener.
    pub fn url(&self, scheme: Scheme) -> TargetUrl {
        let addr = self
            .addrs
            .iter()
            .find(|(s, _)| *s == scheme)
            .map_or_else(|| SocketAddr::from(([127, 0, 0, 1], 0)), |(_, a)| *a);
        TargetUrl::at(scheme, addr)
    }

    /// Every listener's URL (tcp, tls, ws, wss).
    pub fn urls(&self) -> Vec<TargetUrl> {
        Scheme::ALL.into_iter().map(|s| self.url(s)).collect()
    }

    /// Panics on reference-server threads so far (in any reference server of this
    /// process).
    pub fn panics(&self) -> u64 {
        PANICS.load(Ordering::Relaxed)
    }
}

impl Drop for ReferenceServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
