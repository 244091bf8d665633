//! Process signals of a running server: SIGINT/SIGTERM end it ([`shutdown_signal`]),
//! SIGHUP reloads its TLS files ([`spawn_reload_on_hangup`]).

use super::ServeError;
use crate::net::SharedRef;
use crate::tls::{self, TlsFiles};

/// On every SIGHUP, re-reads `files` and swaps the TLS config in `shared` if everything
/// loads; otherwise logs why and keeps the material in service. Needs a tokio runtime.
///
/// # Errors
/// [`ServeError::Io`] if the signal handler cannot be installed.
pub(super) fn spawn_reload_on_hangup(files: TlsFiles, shared: SharedRef) -> Result<(), ServeError> {
    #[cfg(unix)]
    {
        use std::sync::Arc;
        use tokio::signal::unix::{signal, SignalKind};
        let mut hangup = signal(SignalKind::hangup()).map_err(|source| ServeError::Io {
            what: "cannot install the SIGHUP handler",
            source,
        })?;
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

/// Completes on SIGINT or SIGTERM (logging which).
pub async fn shutdown_signal() {
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
