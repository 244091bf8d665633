//! Test support: a real rustls server (ring provider, self-signed ECDSA P-256 certificate
//! for `localhost`, TLS 1.3 and 1.2, no ALPN) driven synchronously over a byte string, and
//! deterministic pseudo-random input buffers.

use std::sync::{Arc, OnceLock};

use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::{ServerConfig, ServerConnection};

/// One server config for all tests (key generation is the slow part).
pub(crate) fn server_config() -> Arc<ServerConfig> {
    static CONFIG: OnceLock<Arc<ServerConfig>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
                .expect("rcgen self-signed certificate");
            let key =
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let config = ServerConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .expect("protocol versions")
                .with_no_client_auth()
                .with_single_cert(vec![certified.cert.der().clone()], key)
                .expect("server certificate");
            Arc::new(config)
        })
        .clone()
}

/// What the server did with an input.
#[derive(Debug)]
pub(crate) struct Outcome {
    /// The first error `read_tls`/`process_new_packets` returned, if any.
    pub(crate) error: Option<rustls::Error>,
    /// An I/O error from `read_tls` (its buffer limit), if any.
    pub(crate) io_error: Option<String>,
    /// Everything the server queued to send (ServerHello..., or an alert).
    pub(crate) output: Vec<u8>,
    /// The negotiated version, once chosen.
    pub(crate) version: Option<rustls::ProtocolVersion>,
    /// The SNI the server saw.
    pub(crate) sni: Option<String>,
}

impl Outcome {
    /// No error, and the first record out is a handshake record carrying a ServerHello
    /// (or a HelloRetryRequest, which has the same message type).
    pub(crate) fn server_hello(&self) -> bool {
        self.error.is_none()
            && self.io_error.is_none()
            && self.output.first() == Some(&22)
            && self.output.get(5) == Some(&2)
    }

    /// The ServerHello is a HelloRetryRequest (RFC 8446 section 4.1.3: its random is a
    /// fixed value). Record header 5 + handshake header 4 + version 2 = offset 11.
    pub(crate) fn hello_retry_request(&self) -> bool {
        const HRR_RANDOM: [u8; 32] = [
            0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65,
            0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2,
            0xc8, 0xa8, 0x33, 0x9c,
        ];
        self.server_hello() && self.output.get(11..43) == Some(&HRR_RANDOM[..])
    }

    /// An alert record is the first thing out.
    pub(crate) fn alerted(&self) -> bool {
        self.output.first() == Some(&21)
    }
}

/// Feeds `bytes` to a fresh server connection the way a socket loop would (read, process,
/// repeat) and stops at the first error.
/// Handshake bytes as a client's first flight: plaintext handshake records (version 3.1)
/// of at most 16 KiB each, as `gen::records::RecordPlan::identity` frames them.
pub(crate) fn in_records(handshake: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for fragment in handshake.chunks(16_384) {
        let len = u16::try_from(fragment.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&[22, 3, 1]);
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(fragment);
    }
    out
}

pub(crate) fn drive(bytes: &[u8]) -> Outcome {
    let mut conn = ServerConnection::new(server_config()).expect("server connection");
    let mut rest = bytes;
    let mut error = None;
    let mut io_error = None;
    while !rest.is_empty() {
        match conn.read_tls(&mut rest) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) => {
                io_error = Some(e.to_string());
                break;
            }
        }
        if let Err(e) = conn.process_new_packets() {
            error = Some(e);
            break;
        }
    }
    let mut output = Vec::new();
    while conn.wants_write() {
        match conn.write_tls(&mut output) {
            Ok(0) | Err(_) => break,
            Ok(_) => {}
        }
    }
    Outcome {
        error,
        io_error,
        output,
        version: conn.protocol_version(),
        sni: conn.server_name().map(str::to_owned),
    }
}

/// `count` buffers of `size` ChaCha8 bytes from `seed`: the same on every run and machine.
pub(crate) fn random_buffers(
    seed: u64,
    count: usize,
    size: usize,
) -> impl Iterator<Item = Vec<u8>> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    (0..count).map(move |_| {
        let mut buf = vec![0; size];
        rng.fill_bytes(&mut buf);
        buf
    })
}
