//! State every connection task shares: the hub and the wakers that tell a task the hub has
//! something for it.

use super::clock::Clock;
use super::NetSettings;
use crate::hub::{ConnId, Hub};
use crate::tls::LiveConfig;
use crate::transport::{ConnConfig, HubAccess, Transport};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::Notify;

/// Shared by all connection tasks.
#[derive(Debug)]
pub struct Shared {
    /// std Mutex: it is never held across an `.await`.
    hub: Mutex<Hub>,
    /// One per open connection, notified when the hub queues something for it.
    wakers: Mutex<BTreeMap<ConnId, Arc<Notify>>>,
    /// Limits.
    pub settings: NetSettings,
    /// Each transport's connection settings, derived from `settings` once.
    conn_configs: [Arc<ConnConfig>; 4],
    /// The one clock of the shell.
    pub clock: Clock,
    /// TLS config for the TLS listeners; swappable (SIGHUP reload), read once per new
    /// connection.
    tls: Option<LiveConfig>,
}

impl Shared {
    /// Wraps a hub.
    pub fn new(hub: Hub, settings: NetSettings, tls: Option<Arc<rustls::ServerConfig>>) -> Shared {
        Shared::with_clock(hub, settings, tls, Clock::start())
    }

    /// Wraps a hub, with the clock the shell runs on.
    pub fn with_clock(
        hub: Hub,
        settings: NetSettings,
        tls: Option<Arc<rustls::ServerConfig>>,
        clock: Clock,
    ) -> Shared {
        Shared {
            hub: Mutex::new(hub),
            wakers: Mutex::new(BTreeMap::new()),
            conn_configs: Transport::ALL.map(|t| Arc::new(settings.conn_config(t))),
            settings,
            tls: tls.map(LiveConfig::new),
            clock,
        }
    }

    /// The connection settings of `transport`.
    pub fn conn_config(&self, transport: Transport) -> Arc<ConnConfig> {
        let [tcp, tls, ws, wss] = &self.conn_configs;
        match transport {
            Transport::Tcp => tcp,
            Transport::Tls => tls,
            Transport::Ws => ws,
            Transport::Wss => wss,
        }
        .clone()
    }

    /// The TLS config a new connection starts with (`None`: no TLS listeners).
    pub fn tls_config(&self) -> Option<Arc<rustls::ServerConfig>> {
        self.tls.as_ref().map(LiveConfig::current)
    }

    /// The swappable TLS config, for [`crate::tls::reload`].
    pub fn live_tls(&self) -> Option<&LiveConfig> {
        self.tls.as_ref()
    }

    /// Runs `f` with the hub locked, then wakes every connection it queued something for.
    /// A poisoned lock (a panic in another connection while it held the hub) is recovered:
    /// one connection's bug must not stop the others.
    pub fn with_hub<R>(&self, f: impl FnOnce(&mut Hub) -> R) -> R {
        let (result, woken) = {
            let mut hub = self.lock_hub();
            let result = f(&mut hub);
            (result, hub.take_woken())
        };
        if !woken.is_empty() {
            let wakers = self.lock_wakers();
            for id in woken {
                if let Some(n) = wakers.get(&id) {
                    n.notify_one();
                }
            }
        }
        result
    }

    /// Registers a new connection: its id, RNG seed and waker.
    pub fn open(&self) -> (ConnId, [u8; 32], Arc<Notify>) {
        let (id, seed) = self.lock_hub().open();
        let notify = Arc::new(Notify::new());
        self.lock_wakers().insert(id, notify.clone());
        (id, seed, notify)
    }

    /// Forgets a connection (idempotent).
    pub fn close(&self, id: ConnId) {
        self.with_hub(|hub| hub.close(id));
        self.lock_wakers().remove(&id);
    }

    fn lock_hub(&self) -> MutexGuard<'_, Hub> {
        self.hub
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn lock_wakers(&self) -> MutexGuard<'_, BTreeMap<ConnId, Arc<Notify>>> {
        self.wakers
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// The engine reaches the hub through the mutex (and wakes whom it queued for).
impl HubAccess for &Shared {
    fn with_hub<R>(&mut self, f: impl FnOnce(&mut Hub) -> R) -> R {
        Shared::with_hub(self, f)
    }
}

/// Cheap handle.
pub type SharedRef = Arc<Shared>;
