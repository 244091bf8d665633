//! Pins a rustls bug (README, "Known issues"): a server that refuses 0-RTT
//! (`max_early_data_size` 0, rustls's default and ours) must skip the client's early data,
//! up to 16 KiB of it (RFC 8446 4.2.10). rustls charges an undecryptable early-data record
//! against that budget on every `process_new_packets` pass that sees it, and a record stays
//! in its buffer until a later handshake message is complete, so it is charged at least
//! twice: a valid handshake whose early data is one record of more than 8 KiB fails with
//! bad_record_mac after the client's Finished, and more passes (smaller reads) charge more.
//!
//! `Feed::SmallReads` and `Feed::OnePass` use rustls's public API only, in memory: the
//! reproduction to report upstream. `Feed::Wkfuzz` is the same through wkfuzz's stream,
//! which gives rustls everything a read brought before processing. The boundaries are
//! pinned as constants: a rustls upgrade that fixes the bug moves them (to the full budget)
//! and fails these tests, which is the point.

use std::io::Write;
use std::sync::Arc;

use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, ServerConnection};
use tls_probe::{record, Sealer, Secrets, APPLICATION_DATA, HANDSHAKE};
use wkfuzz::transport::{LayerError, SentAlert, Stream};

mod tls_probe;

/// Largest early data (plaintext bytes) in one record that the refusing server survives.
/// The record is `n + 17` bytes (content type, AES-GCM tag); charged twice against 16,384:
/// 2 * (8,175 + 17) = 16,384.
const ONE_RECORD_LIMIT: usize = 8_175;
/// The same with the early data in two equal records, rustls reading 4 KiB per pass as it
/// does from a socket (`read_tls` reads at most 4,096 bytes); an earlier record is charged
/// again on each pass.
const TWO_RECORDS_SMALL_READS_LIMIT: usize = 6_519;
/// Two records, everything given to rustls before one pass (what wkfuzz's stream does).
const TWO_RECORDS_ONE_PASS_LIMIT: usize = 8_158;

/// How the client's first flight reaches the server.
#[derive(Clone, Copy, Debug)]
enum Feed {
    /// One `read_tls` of at most 4,096 bytes, then `process_new_packets`, repeated.
    SmallReads,
    /// Every byte into rustls's buffer first, then one `process_new_packets`.
    OnePass,
    /// wkfuzz's `Stream::handle_wire` with the whole flight.
    Wkfuzz,
}

struct Pki {
    roots: RootCertStore,
    /// Refuses 0-RTT (max_early_data_size 0): the server under test.
    refusing: Arc<ServerConfig>,
    /// Accepts 0-RTT, only to hand the client a ticket that lets it send early data.
    issuing: Arc<ServerConfig>,
}

fn pki() -> Pki {
    let key = rcgen::KeyPair::generate().unwrap();
    let params = rcgen::CertificateParams::new(vec!["localhost".to_string()]).unwrap();
    let cert = params.self_signed(&key).unwrap().der().clone();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    let mut roots = RootCertStore::empty();
    roots.add(cert.clone()).unwrap();
    let server = || {
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert.clone()], key.clone_key())
            .unwrap()
    };
    let mut issuing = server();
    issuing.max_early_data_size = 16_384;
    Pki {
        roots,
        refusing: Arc::new(server()),
        issuing: Arc::new(issuing),
    }
}

/// Moves everything `conn` wants to send into a buffer.
fn flight<C, D>(conn: &mut C) -> Vec<u8>
where
    C: std::ops::DerefMut<Target = rustls::ConnectionCommon<D>>,
{
    let mut out = Vec::new();
    while conn.wants_write() {
        conn.write_tls(&mut out).unwrap();
    }
    out
}

/// `conn` takes in `wire` whole, processing after each read.
fn reads<C, D>(conn: &mut C, mut wire: &[u8])
where
    C: std::ops::DerefMut<Target = rustls::ConnectionCommon<D>>,
{
    while !wire.is_empty() {
        conn.read_tls(&mut wire).unwrap();
        conn.process_new_packets().unwrap();
    }
}

/// The refusing server takes in `wire` as `feed` says; what it answers, or its error.
fn server_reads(
    server: &mut Stream,
    feed: Feed,
    mut wire: &[u8],
) -> Result<Vec<u8>, rustls::Error> {
    let mut out = Vec::new();
    if let Feed::Wkfuzz = feed {
        let mut plain = Vec::new();
        return match server.handle_wire(wire, &mut plain, &mut out) {
            Ok(_) => Ok(out),
            Err(LayerError::Tls { error, .. }) => Err(error),
            Err(other) => panic!("{other}"),
        };
    }
    let Stream::Tls(conn) = server else {
        unreachable!("a TLS stream")
    };
    let conn = &mut **conn;
    if let Feed::SmallReads = feed {
        while !wire.is_empty() {
            conn.read_tls(&mut wire).unwrap();
            conn.process_new_packets()?;
        }
    } else {
        while !wire.is_empty() {
            conn.read_tls(&mut wire).unwrap();
        }
        conn.process_new_packets()?;
    }
    Ok(flight(conn))
}

/// A TLS 1.3 client config that sends early data when a ticket allows it, logging its
/// secrets to `key_log`.
fn early_client(pki: &Pki, key_log: Arc<Secrets>) -> Arc<ClientConfig> {
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites = vec![rustls::crypto::ring::cipher_suite::TLS13_AES_128_GCM_SHA256];
    let mut config = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[&rustls::version::TLS13])
        .unwrap()
        .with_root_certificates(pki.roots.clone())
        .with_no_client_auth();
    config.enable_early_data = true;
    config.key_log = key_log;
    Arc::new(config)
}

fn localhost() -> ServerName<'static> {
    ServerName::try_from("localhost").unwrap()
}

/// A full handshake with the issuing server leaves a 0-RTT ticket in `config`'s cache.
fn take_ticket(pki: &Pki, config: &Arc<ClientConfig>) {
    let mut client = ClientConnection::new(config.clone(), localhost()).unwrap();
    let mut issuer = ServerConnection::new(pki.issuing.clone()).unwrap();
    while client.wants_write() || issuer.wants_write() {
        reads(&mut issuer, &flight(&mut client));
        reads(&mut client, &flight(&mut issuer));
    }
}

/// A client resuming with a 0-RTT ticket: `early` bytes of early data written (one record
/// per slice), the refusing server not yet contacted.
fn early_connection(pki: &Pki, early: &[usize], key_log: Arc<Secrets>) -> ClientConnection {
    let config = early_client(pki, key_log);
    take_ticket(pki, &config);
    let mut client = ClientConnection::new(config, localhost()).unwrap();
    let mut early_writer = client.early_data().expect("the ticket allows 0-RTT");
    for &n in early {
        assert_eq!(early_writer.write(&vec![0x61; n]).unwrap(), n);
    }
    client
}

/// The refusing server as a wkfuzz TLS stream.
fn refusing_stream(pki: &Pki) -> Stream {
    Stream::Tls(Box::new(
        ServerConnection::new(pki.refusing.clone()).unwrap(),
    ))
}

/// The client sends `early` to the refusing server (no PSK it knows, so a full handshake,
/// early data skipped), then completes the handshake. Ok if it completed.
fn handshake_with_early_data(pki: &Pki, early: &[usize], feed: Feed) -> Result<(), rustls::Error> {
    let mut client = early_connection(pki, early, Arc::default());
    let mut server = refusing_stream(pki);
    let answer = server_reads(&mut server, feed, &flight(&mut client))?;
    reads(&mut client, &answer);
    assert!(!client.is_early_data_accepted());
    server_reads(&mut server, feed, &flight(&mut client))?;
    assert!(!server.is_handshaking());
    Ok(())
}

/// The largest total early data (split evenly into `records` records) whose handshake
/// completes, by bisection over 0..=16,384 - 17 * records.
fn limit(pki: &Pki, records: usize, feed: Feed) -> usize {
    let split = |total: usize| {
        let mut parts = vec![total / records; records];
        parts[0] += total % records;
        parts
    };
    let (mut ok, mut bad) = (0, 16_384 - 17 * records + 1);
    assert!(handshake_with_early_data(pki, &split(ok), feed).is_ok());
    while bad - ok > 1 {
        let mid = (ok + bad) / 2;
        match handshake_with_early_data(pki, &split(mid), feed) {
            Ok(()) => ok = mid,
            Err(e) => {
                assert_eq!(e, rustls::Error::DecryptError, "at {mid} bytes");
                bad = mid;
            }
        }
    }
    ok
}

#[test]
fn one_record_of_early_data_is_charged_twice() {
    let pki = pki();
    for feed in [Feed::SmallReads, Feed::OnePass, Feed::Wkfuzz] {
        assert_eq!(limit(&pki, 1, feed), ONE_RECORD_LIMIT, "{feed:?}");
    }
}

#[test]
fn small_reads_charge_split_early_data_more_often() {
    let pki = pki();
    assert_eq!(
        limit(&pki, 2, Feed::SmallReads),
        TWO_RECORDS_SMALL_READS_LIMIT
    );
    assert_eq!(limit(&pki, 2, Feed::OnePass), TWO_RECORDS_ONE_PASS_LIMIT);
    assert_eq!(limit(&pki, 2, Feed::Wkfuzz), TWO_RECORDS_ONE_PASS_LIMIT);
}

/// The alert table's row RejectedEarlyDataInterleavedWithHandshakeMessage: while the
/// refusing server skips early data, a record it cannot decrypt arrives in the middle of
/// a handshake message (the first 10 bytes of a Finished). rustls fails without an alert
/// after its ServerHello, so the stream sends nothing and reports none.
#[test]
fn undecryptable_record_inside_a_handshake_message_closes_without_an_alert() {
    let pki = pki();
    let secrets = Arc::new(Secrets::default());
    let mut client = early_connection(&pki, &[100], secrets.clone());
    let mut server = refusing_stream(&pki);
    let answer = server_reads(&mut server, Feed::Wkfuzz, &flight(&mut client)).unwrap();
    reads(&mut client, &answer);
    let mut sealer = Sealer::new(&secrets.get("CLIENT_HANDSHAKE_TRAFFIC_SECRET"));
    let fragment = sealer.seal(HANDSHAKE, &[20, 0, 0, 32, 1, 2, 3, 4, 5, 6], 0);
    let skipped = record(APPLICATION_DATA, &[0x55; 40]);
    let (mut plain, mut out) = (Vec::new(), Vec::new());
    let wire = [fragment, skipped].concat();
    let err = server.handle_wire(&wire, &mut plain, &mut out).unwrap_err();
    let LayerError::Tls { error, alert } = err else {
        panic!("{err}")
    };
    let row = rustls::PeerMisbehaved::RejectedEarlyDataInterleavedWithHandshakeMessage;
    assert_eq!(error, rustls::Error::PeerMisbehaved(row));
    assert_eq!(alert, SentAlert::None);
    assert_eq!(out, b"", "nothing sent");
}
