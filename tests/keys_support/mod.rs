//! Shared by the key-material end-to-end tests (`tests/keys_*.rs`, `tests/prop_records.rs`):
//! an in-process server built from a rustls config (TLS listener only), a log capture that
//! includes the TLS module's debug events, test PKI (CA, server and client certificates of
//! every key type), TLS clients with session caches, and a wkproto chat client.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, SignatureAlgorithm,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::client::TlsStream;
use wkfuzz::client::Client;
use wkfuzz::hub::{Hub, HubConfig};
use wkfuzz::net::{NetSettings, Shared};
use wkfuzz::proto::{ChannelType, DeviceFlag, Frame, Packet, ReasonCode};
use wkfuzz::transport::Transport;

#[path = "../support/log_capture.rs"]
mod log_capture;
pub use log_capture::*;

/// An in-process server with one TLS listener.
pub struct KeyServer {
    /// The TLS listener.
    pub addr: SocketAddr,
    /// Its shared state (the live TLS config is in here).
    pub shared: Arc<Shared>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl KeyServer {
    /// Serves `config` with default settings.
    pub async fn start(config: Arc<rustls::ServerConfig>) -> KeyServer {
        KeyServer::start_with(config, NetSettings::default()).await
    }

    /// Serves `config` with `settings`.
    pub async fn start_with(config: Arc<rustls::ServerConfig>, settings: NetSettings) -> KeyServer {
        logs();
        let shared = Arc::new(Shared::new(
            Hub::new(HubConfig::default()),
            settings,
            Some(config),
        ));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(wkfuzz::net::serve(
            vec![(listener, Transport::Tls)],
            shared.clone(),
            async move {
                let _ = stopped.await;
            },
        ));
        KeyServer {
            addr,
            shared,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// Stops and drains.
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.task.take() {
            tokio::time::timeout(WAIT, t)
                .await
                .expect("server drains")
                .unwrap();
        }
    }
}

/// A key pair and its certificate, PEM, written to a directory.
#[derive(Clone, Debug)]
pub struct Issued {
    /// Certificate file.
    pub cert: PathBuf,
    /// Key file.
    pub key: PathBuf,
    /// The certificate, DER.
    pub der: CertificateDer<'static>,
    /// The key, DER.
    pub key_der: Vec<u8>,
}

impl Issued {
    /// As cert/key files for the server.
    pub fn files(&self) -> wkfuzz::tls::CertifiedKeyFiles {
        wkfuzz::tls::CertifiedKeyFiles {
            cert: self.cert.clone(),
            key: self.key.clone(),
        }
    }

    /// The key as rustls wants it for client authentication.
    pub fn private_key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(self.key_der.clone().into())
    }
}

/// A test CA that issues server and client certificates into `dir`.
pub struct Pki {
    /// Where files go.
    pub dir: PathBuf,
    ca_key: KeyPair,
    ca_cert: rcgen::Certificate,
    /// The CA certificate file.
    pub ca_file: PathBuf,
}

/// A key pair of `alg`; RSA comes from the openssl CLI (ring cannot generate RSA keys).
pub fn key_pair(dir: &Path, alg: &'static SignatureAlgorithm) -> KeyPair {
    if alg == &rcgen::PKCS_RSA_SHA256 {
        let path = dir.join(format!("rsa-{}.key", rand_suffix()));
        let out = std::process::Command::new("openssl")
            .args([
                "genpkey",
                "-algorithm",
                "RSA",
                "-pkeyopt",
                "rsa_keygen_bits:2048",
                "-out",
            ])
            .arg(&path)
            .output()
            .expect("openssl runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let pem = std::fs::read_to_string(&path).unwrap();
        return KeyPair::from_pem_and_sign_algo(&pem, alg).unwrap();
    }
    KeyPair::generate_for(alg).unwrap()
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

impl Pki {
    /// A new CA (ECDSA P-256) in `dir`.
    pub fn new(dir: &Path) -> Pki {
        let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, "wkfuzz test CA");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let ca_cert = params.self_signed(&ca_key).unwrap();
        let ca_file = dir.join("ca.pem");
        std::fs::write(&ca_file, ca_cert.pem()).unwrap();
        Pki {
            dir: dir.to_path_buf(),
            ca_key,
            ca_cert,
            ca_file,
        }
    }

    fn issue(
        &self,
        stem: &str,
        alg: &'static SignatureAlgorithm,
        mut params: CertificateParams,
    ) -> Issued {
        let key = key_pair(&self.dir, alg);
        params.is_ca = IsCa::ExplicitNoCa;
        let cert = params.signed_by(&key, &self.ca_cert, &self.ca_key).unwrap();
        let cert_path = self.dir.join(format!("{stem}.pem"));
        let key_path = self.dir.join(format!("{stem}.key"));
        std::fs::write(&cert_path, cert.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        Issued {
            cert: cert_path,
            key: key_path,
            der: cert.der().clone(),
            key_der: key.serialize_der(),
        }
    }

    /// A server certificate for `names`.
    pub fn server(&self, stem: &str, alg: &'static SignatureAlgorithm, names: &[&str]) -> Issued {
        let mut params =
            CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>())
                .unwrap();
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        self.issue(stem, alg, params)
    }

    /// A client certificate whose subject CN is `uid`.
    pub fn client(&self, stem: &str, uid: &str) -> Issued {
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, uid);
        params.distinguished_name = dn;
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        self.issue(stem, &rcgen::PKCS_ECDSA_P256_SHA256, params)
    }

    /// A client config trusting the CA, for `versions`, with a client certificate if given.
    pub fn client_config(
        &self,
        versions: &[&'static rustls::SupportedProtocolVersion],
        identity: Option<&Issued>,
    ) -> Arc<rustls::ClientConfig> {
        let mut roots = rustls::RootCertStore::empty();
        roots.add(self.ca_cert.der().clone()).unwrap();
        let builder = rustls::ClientConfig::builder_with_provider(wkfuzz::tls::provider())
            .with_protocol_versions(versions)
            .unwrap()
            .with_root_certificates(roots);
        let config = match identity {
            Some(id) => builder
                .with_client_auth_cert(vec![id.der.clone()], id.private_key())
                .unwrap(),
            None => builder.with_no_client_auth(),
        };
        Arc::new(config)
    }
}

/// Writes a ticket key file of `len` bytes derived from `seed`.
pub fn ticket_key_file(dir: &Path, name: &str, seed: u8, len: usize) -> PathBuf {
    let path = dir.join(name);
    let bytes: Vec<u8> = (0..len)
        .map(|i| (i as u8).wrapping_mul(17) ^ seed)
        .collect();
    std::fs::write(&path, bytes).unwrap();
    path
}

/// TLS to `addr` as `name`; the stream and its local address.
pub async fn tls_connect(
    addr: SocketAddr,
    config: Arc<rustls::ClientConfig>,
    name: &str,
) -> std::io::Result<(TlsStream<TcpStream>, SocketAddr)> {
    let tcp = TcpStream::connect(addr).await?;
    let local = tcp.local_addr()?;
    let connector = tokio_rustls::TlsConnector::from(config);
    let name = ServerName::try_from(name.to_owned()).map_err(std::io::Error::other)?;
    let tls = tokio::time::timeout(WAIT, connector.connect(name, tcp))
        .await
        .map_err(std::io::Error::other)??;
    Ok((tls, local))
}

/// Whether the client's handshake was a resumption.
pub fn resumed(stream: &TlsStream<TcpStream>) -> bool {
    stream.get_ref().1.handshake_kind() == Some(rustls::HandshakeKind::Resumed)
}

/// The server's end-entity certificate as the client saw it.
pub fn server_cert(stream: &TlsStream<TcpStream>) -> CertificateDer<'static> {
    stream.get_ref().1.peer_certificates().unwrap()[0].clone()
}

/// Connects, reads once (TLS 1.3 tickets arrive after the handshake), closes; returns
/// whether it resumed.
pub async fn handshake_once(addr: SocketAddr, config: &Arc<rustls::ClientConfig>) -> bool {
    let (mut s, _) = tls_connect(addr, config.clone(), "localhost")
        .await
        .unwrap();
    let was = resumed(&s);
    // A CONNECT-less connection gets nothing back; a short read lets the client take in
    // the NewSessionTicket messages the server sent after the handshake.
    let mut buf = [0u8; 64];
    let _ = tokio::time::timeout(Duration::from_millis(100), s.read(&mut buf)).await;
    let _ = s.shutdown().await;
    was
}

/// A logged-in wkproto user over TLS.
pub struct Chat {
    /// Its uid.
    pub uid: String,
    client: Client,
    stream: TlsStream<TcpStream>,
    pending: Vec<Frame>,
}

impl Chat {
    /// Sends CONNECT as `uid` on `stream`; the user and the CONNACK reason.
    pub async fn login(stream: TlsStream<TcpStream>, uid: &str, secret: u8) -> (Chat, ReasonCode) {
        let mut chat = Chat {
            uid: uid.to_owned(),
            client: Client::new([secret; 32], 4),
            stream,
            pending: Vec::new(),
        };
        let connect = chat
            .client
            .connect(uid, "token", DeviceFlag::APP, 1_700_000_000_000);
        chat.write(&connect).await;
        let f = chat.expect(|p| matches!(p, Packet::Connack(_))).await;
        let Packet::Connack(c) = f.packet else {
            unreachable!()
        };
        if c.reason == ReasonCode::SUCCESS {
            chat.client.handle_connack(&c).unwrap();
        }
        (chat, c.reason)
    }

    async fn write(&mut self, frame: &Frame) {
        let bytes = self.client.encode(frame);
        self.stream.write_all(&bytes).await.unwrap();
        self.stream.flush().await.unwrap();
    }

    async fn expect(&mut self, want: impl Fn(&Packet) -> bool) -> Frame {
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            if let Some(pos) = self.pending.iter().position(|f| want(&f.packet)) {
                return self.pending.remove(pos);
            }
            let mut buf = [0u8; 8192];
            let n = tokio::time::timeout_at(deadline, self.stream.read(&mut buf))
                .await
                .unwrap_or_else(|_| panic!("{}: timed out; have {:?}", self.uid, self.pending))
                .unwrap();
            assert!(
                n > 0,
                "{}: connection closed; have {:?}",
                self.uid,
                self.pending
            );
            let frames = self.client.handle_bytes(&buf[..n]).unwrap();
            self.pending.extend(frames);
        }
    }

    /// Sends `text` to `to` and checks the SENDACK.
    pub async fn send_text(&mut self, to: &str, text: &str) {
        let (frame, seq) = self
            .client
            .send(to, ChannelType::PERSON, text.as_bytes())
            .unwrap();
        self.write(&frame).await;
        let f = self
            .expect(|p| matches!(p, Packet::Sendack(a) if a.client_seq == seq))
            .await;
        let Packet::Sendack(a) = f.packet else {
            unreachable!()
        };
        assert_eq!(a.reason, ReasonCode::SUCCESS, "{} sends", self.uid);
    }

    /// Receives the next message, acknowledges it, returns its text.
    pub async fn recv_text(&mut self) -> String {
        let f = self.expect(|p| matches!(p, Packet::Recv(_))).await;
        let Packet::Recv(r) = f.packet else {
            unreachable!()
        };
        let text = String::from_utf8(self.client.open(&r).unwrap()).unwrap();
        let ack = Client::recvack(&r);
        self.write(&ack).await;
        text
    }

    /// Reads until the server closes; true if it did within the wait.
    pub async fn closed_by_server(&mut self) -> bool {
        let mut buf = [0u8; 1024];
        let deadline = tokio::time::Instant::now() + WAIT;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.read(&mut buf)).await {
                Err(_) => return false,
                Ok(Ok(0)) | Ok(Err(_)) => return true,
                Ok(Ok(_)) => {}
            }
        }
    }
}

/// Two users exchange one message each way.
pub async fn chat_round(a: &mut Chat, b: &mut Chat, tag: &str) {
    let to_b = format!("{}->{} {tag}", a.uid, b.uid);
    a.send_text(&b.uid.clone(), &to_b).await;
    assert_eq!(b.recv_text().await, to_b);
    let to_a = format!("{}->{} {tag}", b.uid, a.uid);
    b.send_text(&a.uid.clone(), &to_a).await;
    assert_eq!(a.recv_text().await, to_a);
}
