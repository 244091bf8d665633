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
    /// Reads and parses `path`; relative cert/key paths are resolved against its directory.
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
        for p in [&mut file.server.cert, &mut file.server.key]
            .into_iter()
            .flatten()
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
    fn unknown_keys_are_errors_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        std::fs::write(&path, "[server]\ntpc = \"x\"\n").unwrap();
        let err = ConfigFile::load(&path).unwrap_err().to_string();
        assert!(err.starts_with(&path.display().to_string()), "{err}");
        assert!(err.contains("tpc"), "{err}");
    }
}
