//! [`LiveConfig`]: the TLS config in service, swappable while connections run, and
//! [`reload`], which rebuilds it from the same [`TlsFiles`] (SIGHUP).
//!
//! Each new connection takes the current `Arc<ServerConfig>` once, at accept; connections
//! already open keep the config they started with. A reload that fails anywhere (a missing
//! file, a key that no longer matches, a ticket key of the wrong length) changes nothing:
//! the old certificates and ticket keys stay in service, and the caller logs why.

use std::sync::{Arc, RwLock};

use rustls::ServerConfig;

use super::{Built, TlsError, TlsFiles};

/// The current server config. A std `RwLock` because it is held only to clone an `Arc`,
/// never across an `.await`.
#[derive(Debug)]
pub struct LiveConfig {
    /// The config new connections get.
    current: RwLock<Arc<ServerConfig>>,
}

impl LiveConfig {
    /// Starts with `config`.
    #[must_use]
    pub fn new(config: Arc<ServerConfig>) -> LiveConfig {
        LiveConfig {
            current: RwLock::new(config),
        }
    }

    /// The config for a new connection. A poisoned lock (a panic while swapping, which
    /// only clones and assigns) still holds a complete config, so it is used.
    #[must_use]
    pub fn current(&self) -> Arc<ServerConfig> {
        let guard = self
            .current
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        Arc::clone(&guard)
    }

    /// Puts `config` in service for new connections.
    pub fn replace(&self, config: Arc<ServerConfig>) {
        let mut guard = self
            .current
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *guard = config;
    }
}

/// Rebuilds the config from `files` and swaps it in only if everything loaded.
///
/// # Errors
/// The [`TlsError`] that stopped the build; `live` is then unchanged.
pub fn reload(files: &TlsFiles, live: &LiveConfig) -> Result<Built, TlsError> {
    let built = files.build()?;
    live.replace(Arc::clone(&built.config));
    Ok(built)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tls::generate_dev_cert;
    use crate::tls::testutil::write;

    #[test]
    fn a_failed_reload_keeps_the_old_config() {
        let dir = tempfile::tempdir().unwrap();
        let pair = generate_dev_cert(dir.path()).unwrap();
        let mut files = TlsFiles::single(pair);
        let first = files.build().unwrap();
        let live = LiveConfig::new(Arc::clone(&first.config));
        assert!(Arc::ptr_eq(&live.current(), &first.config));

        files.ticket_keys = vec![write(dir.path(), "short.key", [0u8; 47])];
        let err = reload(&files, &live).unwrap_err();
        assert!(
            matches!(err, TlsError::TicketKeyLength { len: 47, .. }),
            "{err}"
        );
        assert!(Arc::ptr_eq(&live.current(), &first.config));

        files.ticket_keys = vec![write(dir.path(), "good.key", [1u8; 80])];
        let built = reload(&files, &live).unwrap();
        assert!(Arc::ptr_eq(&live.current(), &built.config));
        assert!(
            built.summary.contains("1 ticket key(s)"),
            "{}",
            built.summary
        );
    }
}
