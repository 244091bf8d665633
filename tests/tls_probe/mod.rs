//! A TLS 1.3 client for conformance probes over real sockets (tests/tls_conformance.rs,
//! tests/tls_alert_table.rs): a rustls client does the handshake, and the probe sends
//! records of its own, in plaintext or sealed under the client's handshake or application
//! traffic keys (read from rustls's key log, TLS_AES_128_GCM_SHA256 only), then reads
//! every byte the server answers until it closes.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ring::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_128_GCM};
use ring::hkdf;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long a read may wait for the server before the probe decides it sent all it will.
pub const QUIET: Duration = Duration::from_millis(300);
/// How long the server may take to close after a probe.
pub const CLOSE_WAIT: Duration = Duration::from_secs(10);

/// Content types.
pub const CHANGE_CIPHER_SPEC: u8 = 20;
/// Alert records.
pub const ALERT: u8 = 21;
/// Handshake records.
pub const HANDSHAKE: u8 = 22;
/// Application data records (every TLS 1.3 record after the keys are up).
pub const APPLICATION_DATA: u8 = 23;

/// A record of type `ty`, record version 0x0303.
pub fn record(ty: u8, body: &[u8]) -> Vec<u8> {
    let len = u16::try_from(body.len()).expect("record body fits a u16");
    let mut r = vec![ty, 3, 3];
    r.extend_from_slice(&len.to_be_bytes());
    r.extend_from_slice(body);
    r
}

/// A plaintext fatal alert record.
pub fn fatal_alert(description: rustls::AlertDescription) -> Vec<u8> {
    record(ALERT, &[2, u8::from(description)])
}

/// The records in `wire`: (content type, body); a truncated tail is left out.
pub fn records(wire: &[u8]) -> Vec<(u8, Vec<u8>)> {
    let mut out = Vec::new();
    let mut rest = wire;
    while let [ty, _, _, hi, lo, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
        let Some(body) = tail.get(..len) else { break };
        out.push((*ty, body.to_vec()));
        rest = &tail[len..];
    }
    out
}

/// The secrets rustls logs, by NSS key-log label.
#[derive(Debug, Default)]
pub struct Secrets(Mutex<HashMap<String, Vec<u8>>>);

impl Secrets {
    /// The last secret logged under `label`.
    pub fn get(&self, label: &str) -> Vec<u8> {
        self.0
            .lock()
            .unwrap()
            .get(label)
            .cloned()
            .unwrap_or_else(|| panic!("no {label} logged yet"))
    }
}

impl rustls::KeyLog for Secrets {
    fn log(&self, label: &str, _client_random: &[u8], secret: &[u8]) {
        self.0
            .lock()
            .unwrap()
            .insert(label.to_string(), secret.to_vec());
    }

    fn will_log(&self, _label: &str) -> bool {
        true
    }
}

/// HKDF-Expand-Label (RFC 8446 7.1) with SHA-256 and an empty context.
fn expand_label(secret: &[u8], label: &str, len: usize) -> Vec<u8> {
    struct Len(usize);
    impl hkdf::KeyType for Len {
        fn len(&self) -> usize {
            self.0
        }
    }
    let full = format!("tls13 {label}");
    let out_len = u16::try_from(len).unwrap().to_be_bytes();
    let label_len = [u8::try_from(full.len()).unwrap()];
    let info = [&out_len[..], &label_len, full.as_bytes(), &[0u8]];
    let prk = hkdf::Prk::new_less_safe(hkdf::HKDF_SHA256, secret);
    let okm = prk.expand(&info, Len(len)).unwrap();
    let mut out = vec![0; len];
    okm.fill(&mut out).unwrap();
    out
}

/// Seals TLS 1.3 records under one traffic secret (AES-128-GCM), from sequence number 0.
pub struct Sealer {
    key: LessSafeKey,
    iv: [u8; 12],
    seq: u64,
}

impl Sealer {
    /// The record protection `secret` gives (RFC 8446 7.3).
    pub fn new(secret: &[u8]) -> Sealer {
        let key = UnboundKey::new(&AES_128_GCM, &expand_label(secret, "key", 16)).unwrap();
        let iv: [u8; 12] = expand_label(secret, "iv", 12).try_into().unwrap();
        Sealer {
            key: LessSafeKey::new(key),
            iv,
            seq: 0,
        }
    }

    /// One record: `body` with inner content type `ty`, then `padding` zero bytes.
    pub fn seal(&mut self, ty: u8, body: &[u8], padding: usize) -> Vec<u8> {
        let mut inner = body.to_vec();
        inner.push(ty);
        inner.resize(inner.len() + padding, 0);
        let len = u16::try_from(inner.len() + AES_128_GCM.tag_len()).unwrap();
        let mut header = vec![APPLICATION_DATA, 3, 3];
        header.extend_from_slice(&len.to_be_bytes());
        let mut nonce = self.iv;
        for (n, s) in nonce[4..].iter_mut().zip(self.seq.to_be_bytes()) {
            *n ^= s;
        }
        self.seq += 1;
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(&header),
                &mut inner,
            )
            .unwrap();
        header.extend_from_slice(&inner);
        header
    }
}

/// How the server ended the connection.
#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// A clean TCP close (FIN).
    Closed,
    /// A TCP reset.
    Reset,
    /// Still open after [`CLOSE_WAIT`].
    StillOpen,
}

/// A client config trusting the PEM certificate `cert`: TLS 1.3 with
/// TLS_AES_128_GCM_SHA256 only (the suite [`Sealer`] speaks), every key exchange group of
/// ring's provider.
pub fn client_config(cert: &Path) -> rustls::ClientConfig {
    client_config_with_groups(cert, rustls::crypto::ring::default_provider().kx_groups)
}

/// [`client_config`] offering `groups`, a key share for the first.
pub fn client_config_with_groups(
    cert: &Path,
    groups: Vec<&'static dyn rustls::crypto::SupportedKxGroup>,
) -> rustls::ClientConfig {
    use rustls::pki_types::{pem::PemObject, CertificateDer};
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(cert).unwrap() {
        roots.add(c.unwrap()).unwrap();
    }
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites = vec![rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256];
    provider.kx_groups = groups;
    rustls::ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth()
}

/// A TLS 1.3 client connection whose records the test can replace.
pub struct Probe {
    tcp: TcpStream,
    /// The client's address, as the server logs it.
    pub local: SocketAddr,
    /// The rustls client that does the handshake.
    pub client: rustls::ClientConnection,
    config: Arc<rustls::ClientConfig>,
    secrets: Arc<Secrets>,
}

impl Probe {
    /// Connects to `addr` with [`client_config`]`(cert)`.
    pub async fn connect(addr: SocketAddr, cert: &Path) -> Probe {
        Probe::connect_with(addr, client_config(cert)).await
    }

    /// Connects to `addr` with `config` (its key log is replaced by the probe's); the
    /// client has sent nothing yet.
    pub async fn connect_with(addr: SocketAddr, mut config: rustls::ClientConfig) -> Probe {
        let secrets = Arc::new(Secrets::default());
        config.key_log = secrets.clone();
        let config = Arc::new(config);
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let client = rustls::ClientConnection::new(config.clone(), name).unwrap();
        let tcp = TcpStream::connect(addr).await.unwrap();
        let local = tcp.local_addr().unwrap();
        Probe {
            tcp,
            local,
            client,
            config,
            secrets,
        }
    }

    /// What the rustls client wants to send now.
    pub fn client_flight(&mut self) -> Vec<u8> {
        let mut out = Vec::new();
        while self.client.wants_write() {
            self.client.write_tls(&mut out).unwrap();
        }
        out
    }

    /// Sends the ClientHello and takes in the server's first flight until the client is
    /// ready to finish. Returns the client's second flight (its CCS and Finished), unsent.
    pub async fn run_to_client_finished(&mut self) -> Vec<u8> {
        self.hello_then_read_while(|c| c.is_handshaking()).await
    }

    /// Sends the ClientHello and takes in the server's answer until the client has its
    /// next flight (TLS 1.2: ClientKeyExchange, ChangeCipherSpec, Finished), unsent.
    pub async fn run_to_second_flight(&mut self) -> Vec<u8> {
        self.hello_then_read_while(|c| !c.wants_write()).await
    }

    /// Sends the ClientHello, takes in what the server sends while `more` says so, and
    /// returns the client's next flight, unsent.
    async fn hello_then_read_while(
        &mut self,
        more: fn(&rustls::ClientConnection) -> bool,
    ) -> Vec<u8> {
        let hello = self.client_flight();
        self.send(&hello).await;
        while more(&self.client) {
            self.read_into_client().await;
        }
        self.client_flight()
    }

    /// Reads once from the server (it must send within [`CLOSE_WAIT`] and not close) and
    /// feeds it to the client.
    async fn read_into_client(&mut self) {
        let mut buf = vec![0u8; 64 * 1024];
        let n = tokio::time::timeout(CLOSE_WAIT, self.tcp.read(&mut buf))
            .await
            .expect("the server's flight")
            .unwrap();
        assert!(n > 0, "the server closed during the handshake");
        self.client_reads(&buf[..n]).unwrap();
    }

    /// Runs the handshake both ways until the client has finished it (TLS 1.2 or 1.3),
    /// then takes in what the server sends right after it (session tickets).
    pub async fn complete(&mut self) {
        loop {
            let out = self.client_flight();
            self.send(&out).await;
            if !self.client.is_handshaking() {
                break;
            }
            self.read_into_client().await;
        }
        let (tickets, end) = self.read_quiet().await;
        assert_eq!(end, End::StillOpen, "the server closed after the handshake");
        self.client_reads(&tickets).unwrap();
    }

    /// Reads until the server closes; checks it sent exactly `want` and closed cleanly.
    pub async fn expect_answer(&mut self, want: &[u8]) {
        let (answer, end) = self.read_to_end().await;
        assert_eq!(answer, want, "the server's answer (hex): {answer:02x?}");
        assert_eq!(end, End::Closed);
    }

    /// The rustls client's traffic secrets after the handshake (its config must enable
    /// secret extraction); the probe's client is unusable afterwards.
    pub fn extract_secrets(&mut self) -> rustls::ExtractedSecrets {
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let fresh = rustls::ClientConnection::new(self.config.clone(), name).unwrap();
        std::mem::replace(&mut self.client, fresh)
            .dangerous_extract_secrets()
            .unwrap()
    }

    /// Feeds server bytes to the rustls client.
    pub fn client_reads(&mut self, mut bytes: &[u8]) -> Result<(), rustls::Error> {
        while !bytes.is_empty() {
            // 0: the client took a close_notify and takes nothing after it.
            if self.client.read_tls(&mut bytes).unwrap() == 0 {
                break;
            }
            self.client.process_new_packets()?;
        }
        Ok(())
    }

    /// What the rustls client's reader says once the server's bytes are in and the socket
    /// is at its end: `UnexpectedEof` for a close without close_notify (after a
    /// close_notify the reader returns `Ok(0)`, reported here as `Other`).
    pub fn client_end(&mut self) -> std::io::ErrorKind {
        self.client.read_tls(&mut &[][..]).unwrap();
        let mut buf = [0u8; 64];
        match std::io::Read::read(&mut self.client.reader(), &mut buf) {
            Err(e) => e.kind(),
            Ok(_) => std::io::ErrorKind::Other,
        }
    }

    /// Seals records as the client's Finished flight would be (handshake traffic keys,
    /// from the first record).
    pub fn handshake_sealer(&self) -> Sealer {
        Sealer::new(&self.secrets.get("CLIENT_HANDSHAKE_TRAFFIC_SECRET"))
    }

    /// Seals records as the client's first application data would be. Only valid while
    /// the rustls client itself has sent nothing after its Finished.
    pub fn traffic_sealer(&self) -> Sealer {
        Sealer::new(&self.secrets.get("CLIENT_TRAFFIC_SECRET_0"))
    }

    /// Sends bytes as they are.
    pub async fn send(&mut self, bytes: &[u8]) {
        self.tcp.write_all(bytes).await.unwrap();
    }

    /// Reads until the server closes: every byte it sent and how it ended.
    pub async fn read_to_end(&mut self) -> (Vec<u8>, End) {
        self.read_while(CLOSE_WAIT, false).await
    }

    /// Reads what the server sends until it pauses for [`QUIET`] or closes.
    pub async fn read_quiet(&mut self) -> (Vec<u8>, End) {
        self.read_while(QUIET, true).await
    }

    /// Reads until the server closes, or until `wait` passes (from the start, or with
    /// `from_last` from the last byte read).
    async fn read_while(&mut self, wait: Duration, from_last: bool) -> (Vec<u8>, End) {
        let mut got = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        let mut deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.tcp.read(&mut buf)).await {
                Err(_) => return (got, End::StillOpen),
                Ok(Ok(0)) => return (got, End::Closed),
                Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
                Ok(Err(_)) => return (got, End::Reset),
            }
            if from_last {
                deadline = tokio::time::Instant::now() + wait;
            }
        }
    }
}

/// Seals and opens TLS 1.2 AES-128-GCM records with secrets rustls extracted (RFC 5288:
/// 4-byte salt, 8-byte explicit nonce, sequence number in the additional data).
pub struct Tls12Aead {
    key: LessSafeKey,
    iv: [u8; 12],
    seq: u64,
}

impl Tls12Aead {
    /// One direction's key and next sequence number, as `dangerous_extract_secrets` gives.
    pub fn new((seq, secrets): (u64, rustls::ConnectionTrafficSecrets)) -> Tls12Aead {
        let rustls::ConnectionTrafficSecrets::Aes128Gcm { key, iv } = secrets else {
            panic!("TLS_ECDHE_*_WITH_AES_128_GCM_SHA256 expected")
        };
        let key = UnboundKey::new(&AES_128_GCM, key.as_ref()).unwrap();
        Tls12Aead {
            key: LessSafeKey::new(key),
            iv: iv.as_ref().try_into().unwrap(),
            seq,
        }
    }

    fn aad(&self, ty: u8, len: usize) -> Aad<[u8; 13]> {
        let mut aad = [0u8; 13];
        aad[..8].copy_from_slice(&self.seq.to_be_bytes());
        aad[8..11].copy_from_slice(&[ty, 3, 3]);
        aad[11..].copy_from_slice(&u16::try_from(len).unwrap().to_be_bytes());
        Aad::from(aad)
    }

    /// One record of type `ty` carrying `body`.
    pub fn seal(&mut self, ty: u8, body: &[u8]) -> Vec<u8> {
        let mut nonce = self.iv;
        for (n, s) in nonce[4..].iter_mut().zip(self.seq.to_be_bytes()) {
            *n ^= s;
        }
        let aad = self.aad(ty, body.len());
        let mut sealed = nonce[4..].to_vec();
        let mut data = body.to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), aad, &mut data)
            .unwrap();
        sealed.extend_from_slice(&data);
        self.seq += 1;
        record(ty, &sealed)
    }

    /// The plaintext of a record body of type `ty` (panics if it does not open).
    pub fn open(&mut self, ty: u8, body: &[u8]) -> Vec<u8> {
        let mut nonce = [0u8; 12];
        nonce[..4].copy_from_slice(&self.iv[..4]);
        nonce[4..].copy_from_slice(&body[..8]);
        let aad = self.aad(ty, body.len() - 8 - 16);
        let mut data = body[8..].to_vec();
        let plain = self
            .key
            .open_in_place(Nonce::assume_unique_for_key(nonce), aad, &mut data)
            .expect("the record opens")
            .to_vec();
        self.seq += 1;
        plain
    }
}
