//! Wire rendering: a [`WireCase`] sent to the server over real connections.
//!
//! - bytes: a connection opened down to the case's layer, a CONNECT first when the case
//!   logs in, the bytes, then the write side closed and the answer read to the end (or
//!   for at most `settle`), so the server has processed the case when `play` returns;
//! - handshake: a modelled ClientHello's records as socket bytes, or a real rustls client
//!   (TLS 1.2 or 1.3, SNI, ALPN, resumption as the input says) whose first flight is re-cut
//!   into records by the input's plan, driven to the end of its handshake;
//! - script: [`super::script::play`].

use super::case::{Layer, WireCase};
use super::conn::{tls_config, Dialer};
use super::script::{self, ScriptTls};
use crate::client::Client;
use crate::gen::script::Script;
use crate::proto::DeviceFlag;
use crate::targets::handshake::{HandshakeCase, RealClient};
use arbitrary::{Arbitrary, Unstructured};
use std::io::{self, Write};
use std::sync::Arc;
use std::time::Duration;

/// The X25519 secret of the CONNECT a logged-in bytes case starts with (one fixed key: the
/// case is about the bytes after it).
const LOGIN_SECRET: [u8; 32] = [0x17; 32];

/// Plays cases against one target.
#[derive(Clone, Debug)]
pub struct Player {
    /// Connections to the target.
    pub dialer: Dialer,
    /// How long the server may take to answer and close after a case.
    pub settle: Duration,
    /// TLS configs by (TLS 1.3, ALPN `wkproto`), for real-client handshake cases.
    handshake_tls: [Arc<rustls::ClientConfig>; 4],
    scripts: ScriptTls,
}

impl Player {
    /// A player for `dialer`'s target.
    ///
    /// # Errors
    /// The TLS client configs cannot be built.
    pub fn new(dialer: Dialer, settle: Duration) -> io::Result<Player> {
        let v12: &[&'static rustls::SupportedProtocolVersion] = &[&rustls::version::TLS12];
        let v13: &[&'static rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];
        let alpn: &[&[u8]] = &[b"wkproto"];
        Ok(Player {
            dialer,
            settle,
            handshake_tls: [
                tls_config(v12, &[])?,
                tls_config(v12, alpn)?,
                tls_config(v13, &[])?,
                tls_config(v13, alpn)?,
            ],
            scripts: ScriptTls {
                tls12: tls_config(v12, &[])?,
                tls13: tls_config(v13, &[])?,
            },
        })
    }

    /// Plays `case`; returns how many connections it opened. Failures to connect or write
    /// are not errors here: the probes and the process monitor judge the server.
    pub fn play(&self, case: &WireCase) -> u32 {
        match case {
            WireCase::Bytes {
                layer,
                login,
                bytes,
            } => {
                let _ = self.bytes(*layer, *login, bytes);
                1
            }
            WireCase::Handshake(data) => {
                match HandshakeCase::arbitrary_take_rest(Unstructured::new(data)) {
                    Ok(HandshakeCase::Model(input)) => {
                        let _ = self.bytes(Layer::Socket, None, &input.to_bytes());
                        1
                    }
                    Ok(HandshakeCase::Real(real)) => self.real_client(&real),
                    Err(_) => 0,
                }
            }
            WireCase::Script(data) => script::play(
                &Script::from_bytes(data),
                &self.dialer,
                &self.scripts,
                self.settle,
            ),
        }
    }

    fn bytes(&self, layer: Layer, login: Option<u8>, bytes: &[u8]) -> io::Result<()> {
        let mut conn = self.dialer.open(layer)?;
        let result = match login {
            Some(version) if layer == Layer::App => {
                let client = Client::new(LOGIN_SECRET, version);
                let mut wire =
                    client.encode(&client.connect("wkfuzz-attack", "t", DeviceFlag::APP, 0));
                wire.extend_from_slice(bytes);
                conn.write(layer, &wire)
            }
            _ => conn.write(layer, bytes),
        };
        conn.finish(self.settle);
        result
    }

    /// A real TLS client whose first flight is re-cut by the case's plan; returns the
    /// connections it opened (two when it resumes).
    fn real_client(&self, real: &RealClient) -> u32 {
        let index = usize::from(real.tls13) * 2 + usize::from(real.alpn);
        let Some(config) = self.handshake_tls.get(index) else {
            return 0;
        };
        let mut config = config.clone();
        let mut opened = 0;
        if real.resume {
            // A clean first handshake fills a cache of this case's own.
            let mut own = (*config).clone();
            own.resumption = rustls::client::Resumption::in_memory_sessions(4);
            config = Arc::new(own);
            opened += 1;
            let _ = self.handshake(&config, real.sni, &crate::gen::RecordPlan::identity());
        }
        opened += 1;
        let _ = self.handshake(&config, real.sni, &real.plan);
        opened
    }

    fn handshake(
        &self,
        config: &Arc<rustls::ClientConfig>,
        sni: bool,
        plan: &crate::gen::RecordPlan,
    ) -> io::Result<()> {
        let name = if sni {
            self.dialer.url.server_name()
        } else {
            rustls::pki_types::ServerName::from(self.dialer.url.addr().ip())
        };
        let mut client =
            rustls::ClientConnection::new(config.clone(), name).map_err(io::Error::other)?;
        let mut tcp = self.dialer.tcp(false)?;
        let mut flight = Vec::new();
        while client.wants_write() {
            if client.write_tls(&mut flight)? == 0 {
                break;
            }
        }
        tcp.write_all(&plan.recut(&flight))?;
        let mut result = Ok(());
        while client.is_handshaking() {
            if let Err(e) = client.complete_io(&mut tcp) {
                result = Err(e);
                break;
            }
        }
        if result.is_ok() {
            client.send_close_notify();
            let _ = client.complete_io(&mut tcp);
        }
        let _ = tcp.shutdown(std::net::Shutdown::Write);
        super::conn::drain(&mut tcp, self.settle);
        result
    }
}
