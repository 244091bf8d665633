//! [`ServeOptions`]: the flags of `wkfuzz serve`. The binary flattens this struct into its
//! `serve` subcommand; tests build it the same way (every field a flag, `Default` = no
//! flags given) and resolve it with [`super::ServerSettings::resolve`].

use crate::config::ClientAuthMode;
use clap::Args;
use std::path::PathBuf;

/// What the user asked for on the command line; `None`/empty/`false` = flag not given
/// (the config file or the default decides).
#[derive(Clone, Debug, Default, PartialEq, Eq, Args)]
pub struct ServeOptions {
    /// Plain-TCP wkproto listen address, or "off" [default: 127.0.0.1:5100]
    #[arg(long, value_name = "ADDR")]
    pub tcp: Option<String>,
    /// TLS wkproto listen address, or "off" [default: 127.0.0.1:5110]
    #[arg(long, value_name = "ADDR")]
    pub tls: Option<String>,
    /// WebSocket (ws://) listen address, or "off" [default: 127.0.0.1:5200]
    #[arg(long, value_name = "ADDR")]
    pub ws: Option<String>,
    /// WebSocket over TLS (wss://) listen address, or "off"; it uses the TLS certificate
    /// [default: 127.0.0.1:5210]
    #[arg(long, value_name = "ADDR")]
    pub wss: Option<String>,
    /// Request path the ws/wss listeners upgrade; others get 404 ("*": any path, as
    /// upstream WuKongIM) [default: /]
    #[arg(long, value_name = "PATH")]
    pub ws_path: Option<String>,
    /// PEM certificate chain for TLS (repeatable, paired in order with --key; the first
    /// is the default, the others are chosen by SNI name and key type). Without any, a
    /// self-signed dev certificate is made.
    #[arg(long, value_name = "FILE")]
    pub cert: Vec<PathBuf>,
    /// PEM private key (PKCS#8, PKCS#1 or SEC1) matching the --cert at the same position.
    #[arg(long, value_name = "FILE")]
    pub key: Vec<PathBuf>,
    /// Session-ticket key file, nginx ssl_session_ticket_key format (48 or 80 bytes, e.g.
    /// `openssl rand 80`), repeatable: the first seals new tickets, the others only open
    /// old ones (rotation). Servers sharing the files resume each other's sessions.
    #[arg(long, value_name = "FILE")]
    pub ticket_key: Vec<PathBuf>,
    /// Seconds a session ticket stays valid (1..=604800) [default: 43200]
    #[arg(long, value_name = "SECS")]
    pub ticket_lifetime: Option<u32>,
    /// PEM file of CA certificates: clients are asked for a certificate chained to one.
    #[arg(long, value_name = "FILE")]
    pub client_ca: Option<PathBuf>,
    /// Whether --client-ca makes a client certificate required or optional
    /// [default: required]
    #[arg(long, value_name = "MODE", value_enum, requires = "client_ca")]
    pub client_auth: Option<ClientAuthMode>,
    /// The CONNECT uid must equal the client certificate's subject CN (else CONNACK 2).
    #[arg(long)]
    pub client_cert_uid: bool,
    /// TOML config file (see the README); flags override it.
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Expect a PROXY protocol v1/v2 header before anything else on every connection.
    #[arg(long)]
    pub proxy_protocol: bool,
    /// Largest frame body in bytes; a larger declared length closes the connection at once
    /// [default: 1048576]
    #[arg(long, value_name = "BYTES")]
    pub max_frame: Option<usize>,
    /// Most open connections across all listeners [default: 10000]
    #[arg(long, value_name = "N")]
    pub max_connections: Option<usize>,
    /// Seconds a logged-in connection may stay silent (PING keeps it alive) [default: 180]
    #[arg(long, value_name = "SECS")]
    pub idle_timeout: Option<u64>,
    /// Seconds for the PROXY header, TLS handshake and WebSocket upgrade [default: 10]
    #[arg(long, value_name = "SECS")]
    pub handshake_timeout: Option<u64>,
    /// ALPN protocol to offer (repeatable); none by default.
    #[arg(long, value_name = "PROTO")]
    pub alpn: Vec<String>,
    /// Directory for the generated dev certificate [default: next to --config, else the
    /// system temp dir]
    #[arg(long, value_name = "DIR")]
    pub dev_cert_dir: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    /// The `serve` subcommand's flags alone.
    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        options: ServeOptions,
    }

    fn parse(args: &[&str]) -> ServeOptions {
        Cli::try_parse_from(std::iter::once("serve").chain(args.iter().copied()))
            .unwrap()
            .options
    }

    #[test]
    fn default_is_what_no_flags_parse_to() {
        // Tests build `ServeOptions { .., ..Default::default() }`: that must be the struct
        // a user who gives only those flags gets.
        assert_eq!(parse(&[]), ServeOptions::default());
    }

    #[test]
    fn repeatable_flags_keep_their_order() {
        let o = parse(&[
            "--cert",
            "a.pem",
            "--key",
            "a.key",
            "--cert",
            "b.pem",
            "--key",
            "b.key",
            "--alpn",
            "wkproto",
            "--alpn",
            "h2",
            "--ticket-key",
            "new.key",
            "--ticket-key",
            "old.key",
        ]);
        assert_eq!(o.cert, vec![PathBuf::from("a.pem"), PathBuf::from("b.pem")]);
        assert_eq!(o.key, vec![PathBuf::from("a.key"), PathBuf::from("b.key")]);
        assert_eq!(o.alpn, vec!["wkproto".to_owned(), "h2".to_owned()]);
        assert_eq!(
            o.ticket_key,
            vec![PathBuf::from("new.key"), PathBuf::from("old.key")]
        );
    }

    #[test]
    fn client_auth_needs_a_client_ca_and_names_a_mode() {
        let cli = |args: &[&str]| {
            Cli::try_parse_from(std::iter::once("serve").chain(args.iter().copied()))
                .map(|c| c.options)
        };
        assert!(cli(&["--client-auth", "optional"]).is_err());
        assert!(cli(&["--client-ca", "ca.pem", "--client-auth", "sometimes"]).is_err());
        let o = cli(&["--client-ca", "ca.pem", "--client-auth", "optional"]).unwrap();
        assert_eq!(o.client_auth, Some(ClientAuthMode::Optional));
        assert_eq!(o.client_ca, Some(PathBuf::from("ca.pem")));
    }
}
