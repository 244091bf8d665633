//! The server's configuration file (TOML). Every field is optional; command-line flags
//! override it.
//!
//! ```toml
//! [server]
//! tcp = "127.0.0.1:5100"      # "off" disables a listener
//! tls = "127.0.0.1:5110"
//! ws = "127.0.0.1:5200"
//! wss = "127.0.0.1:5210"      # shares the TLS certificate
//! ws_path = "/"               # "*" accepts any path
//! cert = "cert.pem"            # relative paths are relative to this file
//! key = "key.pem"
//! proxy_protocol = false
//! max_frame = 1048576
//! max_connections = 10000
//! idle_timeout_secs = 180
//! handshake_timeout_secs = 10
//! node_id = 1
//! alpn = ["wkproto"]
//!
//! [tls]                        # optional; flags win (any --cert replaces every pair here)
//! ticket_keys = ["ticket.key", "previous.key"]   # nginx format, 48 or 80 bytes; first seals
//! ticket_lifetime_secs = 43200
//! client_ca = "clients-ca.pem"  # ask clients for certificates signed by these CAs
//! client_auth = "required"      # or "optional"
//! client_cert_uid = false       # CONNECT uid must be the client certificate's CN
//!
//! [[tls.certs]]                 # more certificates, chosen by SNI (server.cert/key first)
//! cert = "rsa.example.pem"
//! key = "rsa.example.key"
//!
//! [auth]                       # present: tokens are checked; absent: any token
//! u1 = "token-of-u1"
//!
//! [groups]                     # groups that exist at start
//! g1 = ["u1", "u2", "u3"]
//! ```

use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The whole file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// Listeners, TLS material and limits.
    #[serde(default)]
    pub server: ServerSection,
    /// Certificates by SNI, session-ticket keys, client certificates.
    #[serde(default)]
    pub tls: TlsSection,
    /// `uid = "token"`; when present, token auth is on.
    pub auth: Option<BTreeMap<String, String>>,
    /// `group = ["uid", ...]`.
    #[serde(default)]
    pub groups: BTreeMap<String, Vec<String>>,
}

/// `[server]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSection {
    /// Plain TCP listen address or "off".
    pub tcp: Option<String>,
    /// TLS listen address or "off".
    pub tls: Option<String>,
    /// WebSocket listen address or "off".
    pub ws: Option<String>,
    /// WebSocket-over-TLS listen address or "off".
    pub wss: Option<String>,
    /// Request path the WebSocket listeners upgrade ("*" for any).
    pub ws_path: Option<String>,
    /// PEM certificate chain.
    pub cert: Option<PathBuf>,
    /// PEM private key.
    pub key: Option<PathBuf>,
    /// Expect a PROXY header first.
    pub proxy_protocol: Option<bool>,
    /// Frame size limit in bytes.
    pub max_frame: Option<usize>,
    /// Open connection limit.
    pub max_connections: Option<usize>,
    /// Idle timeout of logged-in connections.
    pub idle_timeout_secs: Option<u64>,
    /// PROXY + TLS handshake timeout.
    pub handshake_timeout_secs: Option<u64>,
    /// CONNACK NodeId.
    pub node_id: Option<u64>,
    /// ALPN protocols offered.
    pub alpn: Option<Vec<String>>,
}

/// `[tls]`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsSection {
    /// `[[tls.certs]]`: certificate/key pairs after `server.cert`/`server.key`.
    #[serde(default)]
    pub certs: Vec<CertPair>,
    /// Session-ticket key files (nginx `ssl_session_ticket_key` format); the first seals.
    #[serde(default)]
    pub ticket_keys: Vec<PathBuf>,
    /// Seconds a session ticket stays valid.
    pub ticket_lifetime_secs: Option<u32>,
    /// PEM file of the CAs client certificates must chain to.
    pub client_ca: Option<PathBuf>,
    /// Whether a client certificate is required (default with `client_ca`) or optional.
    pub client_auth: Option<ClientAuthMode>,
    /// Require the CONNECT uid to be the client certificate's subject CN.
    pub client_cert_uid: Option<bool>,
}

/// One `[[tls.certs]]` entry.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct CertPair {
    /// PEM certificate chain.
    pub cert: PathBuf,
    /// PEM private key.
    pub key: PathBuf,
}

/// `client_auth = "required" | "optional"` (also the `--client-auth` flag's values).
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum ClientAuthMode {
    /// Handshakes without a valid client certificate fail.
    Required,
    /// A client certificate is verified if sent.
    Optional,
}

/// Why the configuration file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Could not read it.
    #[error("{path}: cannot read: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// Not valid TOML for this schema.
    #[error("{path}: {message}")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What is wrong, with line and column.
        message: String,
    },
}

impl ConfigFile {
    /// Reads and parses `path`; relative key-material paths are resolved against its
    /// directory.
    ///
    /// # Errors
    /// [`ConfigError`] naming the file.
    pub fn load(path: &Path) -> Result<ConfigFile, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_owned(),
            source,
        })?;
        let mut file: ConfigFile = toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_owned(),
            message: e.to_string().replace('\n', " "),
        })?;
        let dir = path.parent().unwrap_or(Path::new("."));
        let tls = &mut file.tls;
        let pairs = tls.certs.iter_mut().flat_map(|p| [&mut p.cert, &mut p.key]);
        for p in [
            &mut file.server.cert,
            &mut file.server.key,
            &mut tls.client_ca,
        ]
        .into_iter()
        .flatten()
        .chain(pairs)
        .chain(tls.ticket_keys.iter_mut())
        {
            if p.is_relative() {
                *p = dir.join(&*p);
            }
        }
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_section_and_resolves_relative_paths() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wkfuzz.toml");
        std::fs::write(
            &path,
            "[server]\ntcp = \"off\"\nwss = \"127.0.0.1:0\"\nws_path = \"/im\"\ncert = \"c.pem\"\nmax_frame = 4096\n[auth]\nu1 = \"t1\"\n[groups]\ng1 = [\"u1\", \"u2\"]\n",
        )
        .unwrap();
        let cfg = ConfigFile::load(&path).unwrap();
        assert_eq!(cfg.server.tcp.as_deref(), Some("off"));
        assert_eq!(cfg.server.wss.as_deref(), Some("127.0.0.1:0"));
        assert_eq!(cfg.server.ws_path.as_deref(), Some("/im"));
        assert_eq!(cfg.server.cert, Some(dir.path().join("c.pem")));
        assert_eq!(cfg.server.max_frame, Some(4096));
        assert_eq!(cfg.auth.unwrap().get("u1").map(String::as_str), Some("t1"));
        assert_eq!(cfg.groups["g1"], vec!["u1".to_owned(), "u2".to_owned()]);
    }

    #[test]
    fn tls_section_resolves_every_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("wkfuzz.toml");
        std::fs::write(
            &path,
            "[tls]\nticket_keys = [\"t1.key\", \"/abs/t2.key\"]\nticket_lifetime_secs = 60\nclient_ca = \"ca.pem\"\nclient_auth = \"optional\"\nclient_cert_uid = true\n[[tls.certs]]\ncert = \"a.pem\"\nkey = \"a.key\"\n[[tls.certs]]\ncert = \"b.pem\"\nkey = \"b.key\"\n",
        )
        .unwrap();
        let tls = ConfigFile::load(&path).unwrap().tls;
        let d = dir.path();
        assert_eq!(
            tls.ticket_keys,
            vec![d.join("t1.key"), PathBuf::from("/abs/t2.key")]
        );
        assert_eq!(tls.ticket_lifetime_secs, Some(60));
        assert_eq!(tls.client_ca, Some(d.join("ca.pem")));
        assert_eq!(tls.client_auth, Some(ClientAuthMode::Optional));
        assert_eq!(tls.client_cert_uid, Some(true));
        assert_eq!(
            tls.certs,
            vec![
                CertPair {
                    cert: d.join("a.pem"),
                    key: d.join("a.key")
                },
                CertPair {
                    cert: d.join("b.pem"),
                    key: d.join("b.key")
                },
            ]
        );
        std::fs::write(&path, "[tls]\nclient_auth = \"sometimes\"\n").unwrap();
        let err = ConfigFile::load(&path).unwrap_err().to_string();
        assert!(err.contains("sometimes") && !err.contains('\n'), "{err}");
    }

    #[test]
    fn unknown_keys_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "[server]\ntpc = \"x\"\n").unwrap();
        let err = ConfigFile::load(&path).unwrap_err().to_string();
        assert!(err.starts_with(&path.display().to_string()), "{err}");
        assert!(err.contains("tpc"), "{err}");
    }
}
