//! [`ServerSettings`]: what `wkfuzz serve` runs with, resolved from its flags
//! ([`ServeOptions`]) and the config file ([`ConfigFile`]).
//!
//! The merge rules, each tested below:
//! - a flag wins over the file, the file over the default; a repeatable flag given at
//!   all (`--cert`/`--key`, `--ticket-key`, `--alpn`) replaces the whole list of the file;
//!   a boolean flag can only switch a feature on;
//! - relative paths in the file are relative to the file (done by [`ConfigFile::load`]),
//!   paths in flags to the working directory;
//! - a listener address "off" disables that listener; at least one must stay on;
//! - TLS material is resolved only when a TLS listener (tls, wss) is on; without any
//!   certificate, a self-signed dev certificate is made at start (next to the config
//!   file, else in the system temp dir, or in `--dev-cert-dir`);
//! - `[auth]` turns token checks on, `[groups]` creates groups, `server.node_id` is the
//!   CONNACK NodeId.

use super::{ServeError, ServeOptions};
use crate::config::{ClientAuthMode, ConfigFile};
use crate::hub::HubConfig;
use crate::net::NetSettings;
use crate::tls::{self, CertifiedKeyFiles, ClientAuth, TlsFiles};
use crate::transport::{upgrade::ANY_PATH, Transport};
use rand::RngCore;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

/// Each listener's address when neither a flag nor the file names one.
pub const DEFAULT_LISTENERS: [(Transport, &str); 4] = [
    (Transport::Tcp, "127.0.0.1:5100"),
    (Transport::Tls, "127.0.0.1:5110"),
    (Transport::Ws, "127.0.0.1:5200"),
    (Transport::Wss, "127.0.0.1:5210"),
];

/// Validated settings for one server.
#[derive(Clone, Debug)]
pub struct ServerSettings {
    /// The listeners to open, in the order tcp, tls, ws, wss; "off" ones are absent
    /// (invariant: not empty).
    pub listeners: Vec<(Transport, SocketAddr)>,
    /// Limits, timeouts, PROXY, WebSocket path, client-certificate uid rule.
    pub net: NetSettings,
    /// Auth table, groups, NodeId; the seed is drawn from the OS by
    /// [`ServerSettings::resolve`] (a served hub's keys and salts must not be predictable).
    pub hub: HubConfig,
    /// The TLS material, when a TLS listener (tls or wss) is on.
    pub tls: Option<TlsSettings>,
}

/// The TLS listeners' material, before anything is read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsSettings {
    /// Certificates, ticket keys, client CA, ALPN; `certs` is empty exactly when
    /// `dev_cert_dir` is set.
    pub files: TlsFiles,
    /// No certificate was given: a self-signed dev certificate is made here at start
    /// ([`tls::generate_dev_cert`]) and served.
    pub dev_cert_dir: Option<PathBuf>,
}

impl ServerSettings {
    /// Reads the config file named by `options` (if any) and merges it with the flags.
    ///
    /// # Errors
    /// The config file's [`ServeError::Config`], or the first setting that does not
    /// validate (see [`ServeError`]); nothing is read but the config file.
    pub fn resolve(options: &ServeOptions) -> Result<ServerSettings, ServeError> {
        let file = match &options.config {
            Some(path) => ConfigFile::load(path)?,
            None => ConfigFile::default(),
        };
        let mut settings = merge(options, &file)?;
        rand::rngs::OsRng.fill_bytes(&mut settings.hub.seed);
        Ok(settings)
    }
}

/// The flags over the file over the defaults (the hub seed is left at its default).
fn merge(options: &ServeOptions, file: &ConfigFile) -> Result<ServerSettings, ServeError> {
    let server = &file.server;
    let flags = [&options.tcp, &options.tls, &options.ws, &options.wss];
    let in_file = [&server.tcp, &server.tls, &server.ws, &server.wss];
    let mut listeners = Vec::new();
    for ((flag, in_file), (transport, default)) in
        flags.into_iter().zip(in_file).zip(DEFAULT_LISTENERS)
    {
        let text = flag.as_deref().or(in_file.as_deref()).unwrap_or(default);
        if let Some(addr) = listen_addr(text)? {
            listeners.push((transport, addr));
        }
    }
    if listeners.is_empty() {
        return Err(ServeError::NoListener);
    }
    let net = net_settings(options, file)?;
    let tls = if listeners.iter().any(|(t, _)| t.is_tls()) {
        Some(tls_settings(options, file)?)
    } else {
        None
    };
    let hub = HubConfig {
        tokens: file.auth.clone(),
        groups: file.groups.clone(),
        node_id: server.node_id.unwrap_or(1),
        ..HubConfig::default()
    };
    Ok(ServerSettings {
        listeners,
        net,
        hub,
        tls,
    })
}

/// A listen address; `None` for "off".
fn listen_addr(text: &str) -> Result<Option<SocketAddr>, ServeError> {
    if text == "off" {
        return Ok(None);
    }
    text.parse()
        .map(Some)
        .map_err(|source| ServeError::ListenAddr {
            text: text.to_owned(),
            source,
        })
}

/// Limits, timeouts and the per-connection switches.
fn net_settings(options: &ServeOptions, file: &ConfigFile) -> Result<NetSettings, ServeError> {
    let server = &file.server;
    let mut net = NetSettings {
        proxy_protocol: options.proxy_protocol || server.proxy_protocol.unwrap_or(false),
        client_cert_uid: options.client_cert_uid || file.tls.client_cert_uid.unwrap_or(false),
        ..NetSettings::default()
    };
    if let Some(n) = options.max_frame.or(server.max_frame) {
        net.session.max_frame = n;
    }
    if let Some(n) = options.max_connections.or(server.max_connections) {
        if n == 0 {
            return Err(ServeError::ZeroMaxConnections);
        }
        net.max_connections = n;
    }
    if let Some(s) = options.idle_timeout.or(server.idle_timeout_secs) {
        net.session.idle_timeout = Duration::from_secs(s);
    }
    if let Some(s) = options.handshake_timeout.or(server.handshake_timeout_secs) {
        net.handshake_timeout = Duration::from_secs(s);
    }
    if let Some(p) = options.ws_path.as_ref().or(server.ws_path.as_ref()) {
        if p != ANY_PATH && !p.starts_with('/') {
            return Err(ServeError::WsPath(p.clone()));
        }
        net.ws_path = p.clone();
    }
    Ok(net)
}

/// The TLS inputs: --cert/--key pairs (or `server.cert`/`server.key` then
/// `[[tls.certs]]`, or a dev certificate), ticket keys, client CA, ALPN.
fn tls_settings(options: &ServeOptions, file: &ConfigFile) -> Result<TlsSettings, ServeError> {
    let server = &file.server;
    let mut certs = TlsFiles::pairs(&options.cert, &options.key)?;
    if certs.is_empty() {
        match (&server.cert, &server.key) {
            (Some(cert), Some(key)) => certs.push(CertifiedKeyFiles {
                cert: cert.clone(),
                key: key.clone(),
            }),
            (None, None) => {}
            _ => return Err(ServeError::HalfCertPair),
        }
        certs.extend(file.tls.certs.iter().map(|p| CertifiedKeyFiles {
            cert: p.cert.clone(),
            key: p.key.clone(),
        }));
    }
    let dev_cert_dir = certs.is_empty().then(|| {
        options
            .dev_cert_dir
            .clone()
            .or_else(|| {
                let config = options.config.as_ref()?;
                config.parent().map(|p| p.to_owned())
            })
            .unwrap_or_else(|| std::env::temp_dir().join("wkfuzz"))
    });
    let ticket_keys = if options.ticket_key.is_empty() {
        file.tls.ticket_keys.clone()
    } else {
        options.ticket_key.clone()
    };
    let ticket_lifetime_secs = options
        .ticket_lifetime
        .or(file.tls.ticket_lifetime_secs)
        .unwrap_or(tls::DEFAULT_TICKET_LIFETIME_SECS);
    if !(1..=tls::MAX_TICKET_LIFETIME_SECS).contains(&ticket_lifetime_secs) {
        return Err(ServeError::TicketLifetime(ticket_lifetime_secs));
    }
    let mode = options.client_auth.or(file.tls.client_auth);
    let client_auth = match options.client_ca.clone().or(file.tls.client_ca.clone()) {
        None => ClientAuth::None,
        Some(ca) if mode == Some(ClientAuthMode::Optional) => ClientAuth::Optional(ca),
        Some(ca) => ClientAuth::Required(ca),
    };
    let alpn = if options.alpn.is_empty() {
        server.alpn.clone().unwrap_or_default()
    } else {
        options.alpn.clone()
    };
    Ok(TlsSettings {
        files: TlsFiles {
            certs,
            ticket_keys,
            ticket_lifetime_secs,
            client_auth,
            alpn: alpn.into_iter().map(String::into_bytes).collect(),
        },
        dev_cert_dir,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    /// A config file as [`ConfigFile::load`] would give it, minus the path rewriting.
    fn file(toml: &str) -> ConfigFile {
        toml::from_str(toml).unwrap()
    }

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    /// The error as `wkfuzz serve` prints it (anyhow's `{:#}`: the message, then each
    /// source).
    fn message(e: ServeError) -> String {
        format!("{:#}", anyhow::Error::from(e))
    }

    fn merge_err(options: &ServeOptions, toml: &str) -> String {
        message(merge(options, &file(toml)).unwrap_err())
    }

    fn pair(cert: &str, key: &str) -> CertifiedKeyFiles {
        CertifiedKeyFiles {
            cert: cert.into(),
            key: key.into(),
        }
    }

    #[test]
    fn no_flags_no_file_gives_the_documented_defaults() {
        let s = merge(&ServeOptions::default(), &ConfigFile::default()).unwrap();
        assert_eq!(
            s.listeners,
            vec![
                (Transport::Tcp, addr("127.0.0.1:5100")),
                (Transport::Tls, addr("127.0.0.1:5110")),
                (Transport::Ws, addr("127.0.0.1:5200")),
                (Transport::Wss, addr("127.0.0.1:5210")),
            ]
        );
        assert_eq!(s.net.session.max_frame, 1_048_576);
        assert_eq!(s.net.session.idle_timeout, Duration::from_secs(180));
        assert_eq!(s.net.session.connect_timeout, Duration::from_secs(4));
        assert_eq!(s.net.handshake_timeout, Duration::from_secs(10));
        assert_eq!(s.net.max_connections, 10_000);
        assert_eq!(s.net.ws_path, "/");
        assert!(!s.net.proxy_protocol && !s.net.client_cert_uid);
        assert_eq!(s.hub.node_id, 1);
        assert_eq!(s.hub.tokens, None);
        assert!(s.hub.groups.is_empty());
        let tls = s.tls.unwrap();
        assert_eq!(
            tls,
            TlsSettings {
                files: TlsFiles {
                    certs: vec![],
                    ticket_keys: vec![],
                    ticket_lifetime_secs: 43_200,
                    client_auth: ClientAuth::None,
                    alpn: vec![],
                },
                dev_cert_dir: Some(std::env::temp_dir().join("wkfuzz")),
            }
        );
    }

    #[test]
    fn the_file_beats_the_defaults_and_a_flag_beats_the_file() {
        let toml = r#"
            [server]
            tcp = "127.0.0.1:7000"
            tls = "127.0.0.1:7001"
            ws_path = "/file"
            max_frame = 100
            max_connections = 5
            idle_timeout_secs = 6
            handshake_timeout_secs = 7
            alpn = ["from-file"]
        "#;
        let s = merge(&ServeOptions::default(), &file(toml)).unwrap();
        assert_eq!(s.listeners[0], (Transport::Tcp, addr("127.0.0.1:7000")));
        assert_eq!(s.listeners[1], (Transport::Tls, addr("127.0.0.1:7001")));
        assert_eq!(s.listeners[2], (Transport::Ws, addr("127.0.0.1:5200")));
        assert_eq!(s.net.ws_path, "/file");
        assert_eq!(s.net.session.max_frame, 100);
        assert_eq!(s.net.max_connections, 5);
        assert_eq!(s.net.session.idle_timeout, Duration::from_secs(6));
        assert_eq!(s.net.handshake_timeout, Duration::from_secs(7));
        assert_eq!(s.tls.unwrap().files.alpn, vec![b"from-file".to_vec()]);

        let flags = ServeOptions {
            tcp: Some("127.0.0.1:8000".into()),
            ws_path: Some("*".into()),
            max_frame: Some(200),
            max_connections: Some(50),
            idle_timeout: Some(60),
            handshake_timeout: Some(70),
            alpn: vec!["a".into(), "b".into()],
            ..ServeOptions::default()
        };
        let s = merge(&flags, &file(toml)).unwrap();
        assert_eq!(s.listeners[0], (Transport::Tcp, addr("127.0.0.1:8000")));
        assert_eq!(s.listeners[1], (Transport::Tls, addr("127.0.0.1:7001")));
        assert_eq!(s.net.ws_path, "*");
        assert_eq!(s.net.session.max_frame, 200);
        assert_eq!(s.net.max_connections, 50);
        assert_eq!(s.net.session.idle_timeout, Duration::from_secs(60));
        assert_eq!(s.net.handshake_timeout, Duration::from_secs(70));
        // A repeatable flag replaces the file's whole list.
        assert_eq!(
            s.tls.unwrap().files.alpn,
            vec![b"a".to_vec(), b"b".to_vec()]
        );
    }

    #[test]
    fn boolean_switches_come_on_from_a_flag_or_the_file() {
        for (flag, in_file, want) in [
            (false, "", false),
            (true, "", true),
            (false, "true", true),
            (true, "false", true), // a flag cannot be "given as false"
        ] {
            let toml = if in_file.is_empty() {
                String::new()
            } else {
                format!(
                    "[server]\nproxy_protocol = {in_file}\n[tls]\nclient_cert_uid = {in_file}\n"
                )
            };
            let options = ServeOptions {
                proxy_protocol: flag,
                client_cert_uid: flag,
                ..ServeOptions::default()
            };
            let s = merge(&options, &file(&toml)).unwrap();
            assert_eq!(s.net.proxy_protocol, want, "{flag} {in_file:?}");
            assert_eq!(s.net.client_cert_uid, want, "{flag} {in_file:?}");
        }
    }

    #[test]
    fn off_disables_a_listener_from_either_side() {
        let toml = "[server]\ntcp = \"off\"\nws = \"off\"\n";
        let s = merge(&ServeOptions::default(), &file(toml)).unwrap();
        let on: Vec<Transport> = s.listeners.iter().map(|(t, _)| *t).collect();
        assert_eq!(on, vec![Transport::Tls, Transport::Wss]);

        // A flag turns back on what the file turned off, and off what it turned on.
        let options = ServeOptions {
            ws: Some("127.0.0.1:9000".into()),
            wss: Some("off".into()),
            ..ServeOptions::default()
        };
        let s = merge(&options, &file(toml)).unwrap();
        assert_eq!(
            s.listeners,
            vec![
                (Transport::Tls, addr("127.0.0.1:5110")),
                (Transport::Ws, addr("127.0.0.1:9000")),
            ]
        );
        assert!(s.tls.is_some());
    }

    #[test]
    fn tls_material_is_resolved_only_for_tls_listeners() {
        let options = ServeOptions {
            tls: Some("off".into()),
            wss: Some("off".into()),
            ..ServeOptions::default()
        };
        // The bad lifetime is not looked at: nothing would use it.
        let s = merge(&options, &file("[tls]\nticket_lifetime_secs = 0\n")).unwrap();
        assert!(s.tls.is_none());
        let options = ServeOptions {
            tls: Some("off".into()),
            ..ServeOptions::default()
        };
        assert_eq!(
            merge_err(&options, "[tls]\nticket_lifetime_secs = 0\n"),
            "--ticket-lifetime must be 1..=604800 seconds (RFC 8446: at most seven days), got 0"
        );
    }

    #[test]
    fn certificates_come_from_flags_else_the_file_else_a_dev_certificate() {
        let toml = r#"
            [server]
            cert = "/etc/main.pem"
            key = "/etc/main.key"
            [[tls.certs]]
            cert = "/etc/rsa.pem"
            key = "/etc/rsa.key"
        "#;
        let tls = merge(&ServeOptions::default(), &file(toml))
            .unwrap()
            .tls
            .unwrap();
        assert_eq!(
            tls.files.certs,
            vec![
                pair("/etc/main.pem", "/etc/main.key"),
                pair("/etc/rsa.pem", "/etc/rsa.key")
            ]
        );
        assert_eq!(tls.dev_cert_dir, None);

        // Any --cert replaces every pair of the file, and the flags pair in order.
        let options = ServeOptions {
            cert: vec!["a.pem".into(), "b.pem".into()],
            key: vec!["a.key".into(), "b.key".into()],
            ..ServeOptions::default()
        };
        let tls = merge(&options, &file(toml)).unwrap().tls.unwrap();
        assert_eq!(
            tls.files.certs,
            vec![pair("a.pem", "a.key"), pair("b.pem", "b.key")]
        );

        // [[tls.certs]] alone is enough.
        let only_more = "[[tls.certs]]\ncert = \"/x.pem\"\nkey = \"/x.key\"\n";
        let tls = merge(&ServeOptions::default(), &file(only_more))
            .unwrap()
            .tls
            .unwrap();
        assert_eq!(tls.files.certs, vec![pair("/x.pem", "/x.key")]);

        // No certificate: a dev certificate in --dev-cert-dir, else next to --config.
        let options = ServeOptions {
            config: Some("/srv/wk/wkfuzz.toml".into()),
            ..ServeOptions::default()
        };
        let tls = merge(&options, &ConfigFile::default())
            .unwrap()
            .tls
            .unwrap();
        assert_eq!(tls.dev_cert_dir, Some(PathBuf::from("/srv/wk")));
        let options = ServeOptions {
            dev_cert_dir: Some("/tmp/dev".into()),
            ..options
        };
        let tls = merge(&options, &ConfigFile::default())
            .unwrap()
            .tls
            .unwrap();
        assert_eq!(tls.dev_cert_dir, Some(PathBuf::from("/tmp/dev")));
        assert!(tls.files.certs.is_empty());
    }

    #[test]
    fn unpaired_certificates_are_errors_unless_flags_replace_them() {
        let half = "[server]\ncert = \"/c.pem\"\n";
        assert_eq!(
            merge_err(&ServeOptions::default(), half),
            "config: give both server.cert and server.key, or neither"
        );
        let options = ServeOptions {
            cert: vec!["a.pem".into()],
            key: vec!["a.key".into()],
            ..ServeOptions::default()
        };
        assert!(merge(&options, &file(half)).is_ok());
        let options = ServeOptions {
            cert: vec!["a.pem".into()],
            ..ServeOptions::default()
        };
        assert_eq!(
            merge_err(&options, ""),
            "TLS config: 1 certificate file(s) but 0 key file(s); give --cert and --key in pairs"
        );
    }

    #[test]
    fn ticket_keys_and_lifetime() {
        let toml = "[tls]\nticket_keys = [\"/t1.key\", \"/t2.key\"]\nticket_lifetime_secs = 60\n";
        let tls = merge(&ServeOptions::default(), &file(toml))
            .unwrap()
            .tls
            .unwrap();
        assert_eq!(
            tls.files.ticket_keys,
            vec![PathBuf::from("/t1.key"), PathBuf::from("/t2.key")]
        );
        assert_eq!(tls.files.ticket_lifetime_secs, 60);
        let options = ServeOptions {
            ticket_key: vec!["new.key".into()],
            ticket_lifetime: Some(604_800),
            ..ServeOptions::default()
        };
        let tls = merge(&options, &file(toml)).unwrap().tls.unwrap();
        assert_eq!(tls.files.ticket_keys, vec![PathBuf::from("new.key")]);
        assert_eq!(tls.files.ticket_lifetime_secs, 604_800);
        for bad in [0, 604_801] {
            let options = ServeOptions {
                ticket_lifetime: Some(bad),
                ..ServeOptions::default()
            };
            assert_eq!(
                merge_err(&options, toml),
                format!("--ticket-lifetime must be 1..=604800 seconds (RFC 8446: at most seven days), got {bad}")
            );
        }
    }

    #[test]
    fn client_certificates_required_unless_optional_is_asked_for() {
        let auth = |options: &ServeOptions, toml: &str| {
            merge(options, &file(toml))
                .unwrap()
                .tls
                .unwrap()
                .files
                .client_auth
        };
        let none = ServeOptions::default();
        assert_eq!(auth(&none, ""), ClientAuth::None);
        // A mode without a CA asks for nothing.
        assert_eq!(
            auth(&none, "[tls]\nclient_auth = \"optional\"\n"),
            ClientAuth::None
        );
        assert_eq!(
            auth(&none, "[tls]\nclient_ca = \"/ca.pem\"\n"),
            ClientAuth::Required("/ca.pem".into())
        );
        assert_eq!(
            auth(
                &none,
                "[tls]\nclient_ca = \"/ca.pem\"\nclient_auth = \"optional\"\n"
            ),
            ClientAuth::Optional("/ca.pem".into())
        );
        let flags = ServeOptions {
            client_ca: Some("flag-ca.pem".into()),
            client_auth: Some(ClientAuthMode::Required),
            ..ServeOptions::default()
        };
        assert_eq!(
            auth(
                &flags,
                "[tls]\nclient_ca = \"/ca.pem\"\nclient_auth = \"optional\"\n"
            ),
            ClientAuth::Required("flag-ca.pem".into())
        );
        let mode_only = ServeOptions {
            client_auth: Some(ClientAuthMode::Optional),
            ..ServeOptions::default()
        };
        assert_eq!(
            auth(&mode_only, "[tls]\nclient_ca = \"/ca.pem\"\n"),
            ClientAuth::Optional("/ca.pem".into())
        );
    }

    #[test]
    fn auth_groups_and_node_id_configure_the_hub() {
        let toml = "[server]\nnode_id = 7\n[auth]\nu1 = \"t1\"\n[groups]\ng1 = [\"u1\", \"u2\"]\n";
        let hub = merge(&ServeOptions::default(), &file(toml)).unwrap().hub;
        assert_eq!(hub.node_id, 7);
        assert_eq!(
            hub.tokens,
            Some(BTreeMap::from([("u1".to_owned(), "t1".to_owned())]))
        );
        assert_eq!(
            hub.groups,
            BTreeMap::from([("g1".to_owned(), vec!["u1".to_owned(), "u2".to_owned()])])
        );
        // An empty [auth] still turns token checks on (no token is then valid).
        let hub = merge(&ServeOptions::default(), &file("[auth]\n"))
            .unwrap()
            .hub;
        assert_eq!(hub.tokens, Some(BTreeMap::new()));
    }

    #[test]
    fn invalid_settings_are_one_line_errors_naming_the_flag() {
        let off = |t: &str| ServeOptions {
            tcp: Some(t.into()),
            tls: Some("off".into()),
            ws: Some("off".into()),
            wss: Some("off".into()),
            ..ServeOptions::default()
        };
        assert_eq!(
            merge_err(&off("off"), ""),
            "every listener is off; nothing to serve"
        );
        assert_eq!(
            merge_err(&off("nonsense"), ""),
            "bad listen address \"nonsense\": invalid socket address syntax"
        );
        assert_eq!(
            merge_err(
                &ServeOptions::default(),
                "[server]\nwss = \"localhost:1\"\n"
            ),
            "bad listen address \"localhost:1\": invalid socket address syntax"
        );
        let zero = ServeOptions {
            max_connections: Some(0),
            ..ServeOptions::default()
        };
        assert_eq!(merge_err(&zero, ""), "--max-connections must be at least 1");
        assert_eq!(
            merge_err(&ServeOptions::default(), "[server]\nmax_connections = 0\n"),
            "--max-connections must be at least 1"
        );
        assert_eq!(
            merge_err(&ServeOptions::default(), "[server]\nws_path = \"im\"\n"),
            "--ws-path must start with '/' (or be \"*\"), got \"im\""
        );
    }

    #[test]
    fn resolve_reads_the_file_relative_to_itself_and_seeds_the_hub() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let path = d.join("wkfuzz.toml");
        std::fs::write(
            &path,
            "[server]\ncert = \"c.pem\"\nkey = \"/abs/c.key\"\n[tls]\nticket_keys = [\"t.key\"]\nclient_ca = \"ca.pem\"\n[[tls.certs]]\ncert = \"more/r.pem\"\nkey = \"more/r.key\"\n",
        )
        .unwrap();
        let options = ServeOptions {
            config: Some(path.clone()),
            ..ServeOptions::default()
        };
        let a = ServerSettings::resolve(&options).unwrap();
        let tls = a.tls.unwrap().files;
        assert_eq!(
            tls.certs,
            vec![
                CertifiedKeyFiles {
                    cert: d.join("c.pem"),
                    key: PathBuf::from("/abs/c.key")
                },
                CertifiedKeyFiles {
                    cert: d.join("more/r.pem"),
                    key: d.join("more/r.key")
                },
            ]
        );
        assert_eq!(tls.ticket_keys, vec![d.join("t.key")]);
        assert_eq!(tls.client_auth, ClientAuth::Required(d.join("ca.pem")));
        // Paths in flags are the user's, relative to the working directory.
        let flags = ServeOptions {
            cert: vec!["rel.pem".into()],
            key: vec!["rel.key".into()],
            ..options.clone()
        };
        let tls = ServerSettings::resolve(&flags).unwrap().tls.unwrap().files;
        assert_eq!(tls.certs, vec![pair("rel.pem", "rel.key")]);
        // Each resolve draws its own hub seed.
        let b = ServerSettings::resolve(&options).unwrap();
        assert_ne!(a.hub.seed, b.hub.seed);
        assert_ne!(a.hub.seed, [0; 32]);
    }

    #[test]
    fn a_config_file_that_does_not_load_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.toml");
        let options = ServeOptions {
            config: Some(path.clone()),
            ..ServeOptions::default()
        };
        let err = message(ServerSettings::resolve(&options).unwrap_err());
        assert!(
            err.starts_with(&format!("{}: cannot read: ", path.display())),
            "{err}"
        );
        std::fs::write(&path, "[server]\ntpc = \"x\"\n").unwrap();
        let err = message(ServerSettings::resolve(&options).unwrap_err());
        assert!(err.starts_with(&path.display().to_string()), "{err}");
        assert!(
            err.contains("unknown field `tpc`") && !err.contains('\n'),
            "{err}"
        );
    }
}
