//! [`TlsFiles`]: every file the TLS listeners are built from (certificate pairs, ticket
//! keys, client CA) and [`TlsFiles::build`], which turns them into one rustls
//! `ServerConfig`, all or nothing.
//!
//! Building is the same at start-up and on reload ([`super::reload`]): every file is read
//! again, every check runs again, and only a config that built completely replaces the one
//! in service.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::ServerConfig;
use rustls_pki_types::UnixTime;

use super::tickets::{Clock, Ticketer, DEFAULT_TICKET_LIFETIME_SECS};
use super::{
    client_verifier, load_cert_set, load_ticket_keys, provider, CertifiedKeyFiles, ClientAuth,
    SniResolver, TlsError, MAX_ALPN_PROTOCOL_LEN,
};

/// The files (and the few settings) a TLS server config is built from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// Certificate/key pairs; the first is the default for clients without a known SNI name.
    pub certs: Vec<CertifiedKeyFiles>,
    /// Session-ticket key files (nginx format); the first seals, all open. Empty: no
    /// ticket keys, rustls's defaults (TLS 1.3 resumption from an in-memory cache only).
    pub ticket_keys: Vec<PathBuf>,
    /// Seconds a session ticket stays valid.
    pub ticket_lifetime_secs: u32,
    /// Client certificates.
    pub client_auth: ClientAuth,
    /// ALPN protocols, server preference order (empty = no ALPN).
    pub alpn: Vec<Vec<u8>>,
}

impl TlsFiles {
    /// Files for one certificate pair and nothing else.
    #[must_use]
    pub fn single(pair: CertifiedKeyFiles) -> TlsFiles {
        TlsFiles {
            certs: vec![pair],
            ticket_keys: Vec::new(),
            ticket_lifetime_secs: DEFAULT_TICKET_LIFETIME_SECS,
            client_auth: ClientAuth::None,
            alpn: Vec::new(),
        }
    }

    /// Pairs `--cert` and `--key` lists in order.
    ///
    /// # Errors
    /// [`TlsError::Unpaired`] when the counts differ.
    pub fn pairs(certs: &[PathBuf], keys: &[PathBuf]) -> Result<Vec<CertifiedKeyFiles>, TlsError> {
        if certs.len() != keys.len() {
            return Err(TlsError::Unpaired {
                certs: certs.len(),
                keys: keys.len(),
            });
        }
        Ok(certs
            .iter()
            .zip(keys)
            .map(|(cert, key)| CertifiedKeyFiles {
                cert: cert.clone(),
                key: key.clone(),
            })
            .collect())
    }

    /// Reads every file and builds the server config (crate provider, system clock).
    ///
    /// # Errors
    /// The first [`TlsError`] met, naming its file.
    pub fn build(&self) -> Result<Built, TlsError> {
        self.build_with(provider(), UnixTime::now(), None)
    }

    /// [`TlsFiles::build`] with another provider, certificate-validity time and ticket
    /// clock (`None`: the system clock).
    ///
    /// # Errors
    /// As [`TlsFiles::build`].
    pub fn build_with(
        &self,
        provider: Arc<CryptoProvider>,
        now: UnixTime,
        ticket_clock: Option<Clock>,
    ) -> Result<Built, TlsError> {
        let set = load_cert_set(&self.certs, now)?;
        let warnings = set.warnings;
        let verifier = client_verifier(&self.client_auth, provider.clone())?;
        let ticketer = if self.ticket_keys.is_empty() {
            None
        } else {
            let keys = load_ticket_keys(&self.ticket_keys)?;
            let ticketer = Ticketer::new(keys, self.ticket_lifetime_secs)
                .map(|t| t.with_random(provider.secure_random));
            ticketer.map(|t| match ticket_clock {
                Some(clock) => t.with_clock(clock),
                None => t,
            })
        };
        let summary = format!(
            "{} certificate(s), {} name(s), {} ticket key(s), client certificates {}",
            set.resolver.keys().len(),
            set.resolver.names().count(),
            ticketer.as_ref().map_or(0, |t| t.keys().len()),
            match self.client_auth {
                ClientAuth::None => "off",
                ClientAuth::Optional(_) => "optional",
                ClientAuth::Required(_) => "required",
            }
        );
        if let Some(k) = ticketer.as_ref().and_then(|t| t.keys().first()) {
            tracing::debug!(key = %k.name_hex(), "session tickets sealed with this key");
        }
        let config = build_config(
            set.resolver,
            verifier,
            ticketer.map(|t| Arc::new(t) as Arc<dyn rustls::server::ProducesTickets>),
            self.alpn.clone(),
            provider,
        )?;
        Ok(Built {
            config,
            warnings,
            summary,
        })
    }
}

/// A built server config.
#[derive(Debug)]
pub struct Built {
    /// Ready for the TLS listeners.
    pub config: Arc<ServerConfig>,
    /// Problems worth logging that do not stop the server, one line each.
    pub warnings: Vec<String>,
    /// One line saying what is served (counts, modes), for the log.
    pub summary: String,
}

/// The one place a `ServerConfig` is assembled: TLS 1.2 + 1.3, rustls's safe defaults.
///
/// # Errors
/// [`TlsError::InvalidAlpn`], [`TlsError::Config`].
pub(crate) fn build_config(
    resolver: SniResolver,
    verifier: Option<Arc<dyn rustls::server::danger::ClientCertVerifier>>,
    ticketer: Option<Arc<dyn rustls::server::ProducesTickets>>,
    alpn: Vec<Vec<u8>>,
    provider: Arc<CryptoProvider>,
) -> Result<Arc<ServerConfig>, TlsError> {
    if let Some((index, proto)) = alpn
        .iter()
        .enumerate()
        .find(|(_, p)| p.is_empty() || p.len() > MAX_ALPN_PROTOCOL_LEN)
    {
        return Err(TlsError::InvalidAlpn {
            index,
            len: proto.len(),
        });
    }
    let builder = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(TlsError::Config)?;
    let builder = match verifier {
        Some(v) => builder.with_client_cert_verifier(v),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(Arc::new(resolver));
    if let Some(t) = ticketer {
        config.ticketer = t;
    }
    config.alpn_protocols = alpn;
    Ok(Arc::new(config))
}
