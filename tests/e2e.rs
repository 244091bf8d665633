//! End-to-end: the real server on loopback ports chosen at run time, driven by real TLS
//! (tokio-rustls) and TCP clients speaking wkproto.

mod common;

use common::*;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use wkfuzz::proto::{ChannelType, Connect, DeviceFlag, Frame, Packet, ReasonCode, Sub};
use wkfuzz::server::ServeOptions;

#[tokio::test]
async fn two_users_chat_over_tls_with_increasing_ids_and_seqs() {
    let server = TestServer::start().await;
    let mut a = User::login_tls(&server, "alice").await;
    let mut b = User::login_tls(&server, "bob").await;
    let mut last = (0, 0);
    for i in 0..10 {
        let (from, to) = if i % 2 == 0 {
            (&mut a, &mut b)
        } else {
            (&mut b, &mut a)
        };
        let text = format!("message {i}");
        let ack = from
            .send_text(&to.uid.clone(), ChannelType::PERSON, &text)
            .await;
        assert_eq!(ack.reason, ReasonCode::SUCCESS);
        assert!(
            ack.message_id > last.0 && ack.message_seq > last.1,
            "{ack:?} after {last:?}"
        );
        last = (ack.message_id, ack.message_seq);
        let (recv, got) = to.recv_text().await;
        assert_eq!(got, text);
        assert_eq!(recv.from_uid, from.uid);
        assert_eq!(recv.channel_id, from.uid);
        assert_eq!(
            (recv.message_id, recv.message_seq),
            (ack.message_id, ack.message_seq)
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn a_tcp_user_and_a_tls_user_share_one_hub() {
    let server = TestServer::start().await;
    let mut t = User::tcp(&server, "plain", 2).await;
    t.login(DeviceFlag::WEB).await;
    let mut s = User::login_tls(&server, "secure").await;
    assert_eq!(
        t.send_text("secure", ChannelType::PERSON, "over tcp")
            .await
            .reason,
        ReasonCode::SUCCESS
    );
    assert_eq!(s.recv_text().await.1, "over tcp");
    assert_eq!(
        s.send_text("plain", ChannelType::PERSON, "over tls")
            .await
            .reason,
        ReasonCode::SUCCESS
    );
    let (recv, text) = t.recv_text().await;
    assert_eq!(text, "over tls");
    assert_eq!(recv.expire, None, "a v2 client gets v2 frames");
    server.shutdown().await;
}

#[tokio::test]
async fn group_with_three_subscribers() {
    let server = TestServer::start().await;
    let mut users = Vec::new();
    for uid in ["g-a", "g-b", "g-c"] {
        let mut u = User::login_tls(&server, uid).await;
        let sub = Sub {
            sub_no: "1".into(),
            channel_id: "team".into(),
            channel_type: ChannelType::GROUP,
            action: 0,
            ..Sub::default()
        };
        u.write_frame(&Frame::new(Packet::Sub(sub))).await;
        let f = u.expect(|p| matches!(p, Packet::Suback(_))).await;
        let Packet::Suback(ack) = f.packet else {
            unreachable!()
        };
        assert_eq!(ack.reason, ReasonCode::SUCCESS);
        users.push(u);
    }
    for sender in 0..3 {
        let text = format!("from {sender}");
        let ack = users[sender]
            .send_text("team", ChannelType::GROUP, &text)
            .await;
        assert_eq!(ack.reason, ReasonCode::SUCCESS);
        assert_eq!(ack.message_seq, sender as u64 + 1);
        for (i, u) in users.iter_mut().enumerate() {
            if i != sender {
                let (recv, got) = u.recv_text().await;
                assert_eq!(got, text);
                assert_eq!(recv.channel_id, "team");
                assert_eq!(recv.channel_type, ChannelType::GROUP);
            }
        }
    }
    let mut outsider = User::login_tls(&server, "g-out").await;
    assert_eq!(
        outsider
            .send_text("team", ChannelType::GROUP, "let me in")
            .await
            .reason,
        ReasonCode::SUBSCRIBER_NOT_EXIST
    );
    server.shutdown().await;
}

#[tokio::test]
async fn offline_messages_arrive_on_next_connect() {
    let server = TestServer::start().await;
    let mut a = User::login_tls(&server, "off-a").await;
    for i in 0..3 {
        assert_eq!(
            a.send_text("off-b", ChannelType::PERSON, &format!("while away {i}"))
                .await
                .reason,
            ReasonCode::SUCCESS
        );
    }
    let mut b = User::login_tls(&server, "off-b").await;
    for i in 0..3 {
        assert_eq!(b.recv_text().await.1, format!("while away {i}"));
    }
    server.shutdown().await;
}

#[tokio::test]
async fn duplicate_login_kicks_the_older_connection() {
    let server = TestServer::start().await;
    let mut old = User::login_tls(&server, "dup").await;
    let mut new = User::login_tls(&server, "dup").await;
    let frames = old.read_until_closed().await;
    assert!(
        frames.iter().any(
            |f| matches!(&f.packet, Packet::Disconnect(d) if d.reason == ReasonCode::CONNECT_KICK)
        ),
        "old connection got DISCONNECT 12: {frames:?}"
    );
    let lines = wait_close_log(old.local).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("kicked"), "{}", lines[0]);
    let mut other = User::login_tls(&server, "dup-peer").await;
    other
        .send_text("dup", ChannelType::PERSON, "to the new one")
        .await;
    assert_eq!(new.recv_text().await.1, "to the new one");
    server.shutdown().await;
}

#[tokio::test]
async fn bad_client_keys_get_connack_reason_and_close() {
    let server = TestServer::start().await;
    for (key, want) in [
        ("", ReasonCode::CLIENT_KEY_IS_EMPTY),
        ("%%%", ReasonCode::AUTH_FAIL),
        ("c2hvcnQ=", ReasonCode::AUTH_FAIL),
        (
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
            ReasonCode::AUTH_FAIL,
        ),
    ] {
        let mut u = User::tls(&server, "keyless", 4).await;
        let connect = Connect {
            version: 4,
            uid: "keyless".into(),
            client_key: key.into(),
            ..Connect::default()
        };
        u.write_frame(&Frame::new(Packet::Connect(connect))).await;
        let frames = u.read_until_closed().await;
        match frames.as_slice() {
            [Frame {
                packet: Packet::Connack(c),
                ..
            }] => assert_eq!(c.reason, want, "key {key:?}"),
            other => panic!("key {key:?}: {other:?}"),
        }
        let lines = wait_close_log(u.local).await;
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].contains("stage=connect") && lines[0].contains("CONNECT refused"),
            "{}",
            lines[0]
        );
    }
    chat(&server, "k1", "k2", 2).await;
    server.shutdown().await;
}

#[tokio::test]
async fn bad_msg_key_gets_sendack_9_and_the_session_goes_on() {
    let server = TestServer::start().await;
    let mut a = User::login_tls(&server, "mk-a").await;
    let mut b = User::login_tls(&server, "mk-b").await;
    let (frame, seq) = a
        .client
        .send("mk-b", ChannelType::PERSON, b"tampered")
        .unwrap();
    let Packet::Send(mut send) = frame.packet else {
        unreachable!()
    };
    send.msg_key = "ffffffffffffffffffffffffffffffff".into();
    a.write_frame(&Frame::new(Packet::Send(send))).await;
    let f = a
        .expect(|p| matches!(p, Packet::Sendack(x) if x.client_seq == seq))
        .await;
    let Packet::Sendack(ack) = f.packet else {
        unreachable!()
    };
    assert_eq!(ack.reason, ReasonCode::PAYLOAD_DECODE_ERROR);
    assert_eq!(
        a.send_text("mk-b", ChannelType::PERSON, "genuine")
            .await
            .reason,
        ReasonCode::SUCCESS
    );
    assert_eq!(
        b.recv_text().await.1,
        "genuine",
        "the tampered message was never delivered"
    );
    server.shutdown().await;
}

#[tokio::test]
async fn oversized_frame_is_refused_from_its_header() {
    let server = TestServer::start_with_max_frame(4096).await;
    let mut a = User::login_tls(&server, "big").await;
    // SEND header declaring 5000 bytes; the body never comes.
    a.write_raw(&[0x30, 0x88, 0x27]).await;
    let frames = a.read_until_closed().await;
    assert!(
        frames
            .iter()
            .any(|f| matches!(f.packet, Packet::Disconnect(_))),
        "{frames:?}"
    );
    let lines = wait_close_log(a.local).await;
    assert!(lines[0].contains("exceeds limit 4096"), "{}", lines[0]);
    server.shutdown().await;
}

/// A TLS 1.2 ClientHello record offering only the HMAC-SHA1 CBC suites rustls does not
/// implement (the WuKongIM #127 trigger).
fn cbc_only_client_hello() -> Vec<u8> {
    let suites: [u16; 6] = [0x002F, 0x0035, 0xC009, 0xC00A, 0xC013, 0xC014];
    let mut ext = Vec::new();
    // supported_groups: x25519, secp256r1
    ext.extend_from_slice(&[0x00, 0x0a, 0x00, 0x06, 0x00, 0x04, 0x00, 0x1d, 0x00, 0x17]);
    // ec_point_formats: uncompressed
    ext.extend_from_slice(&[0x00, 0x0b, 0x00, 0x02, 0x01, 0x00]);
    // signature_algorithms: ecdsa_secp256r1_sha256, rsa_pkcs1_sha256
    ext.extend_from_slice(&[0x00, 0x0d, 0x00, 0x06, 0x00, 0x04, 0x04, 0x03, 0x04, 0x01]);
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[7u8; 32]);
    body.push(0);
    body.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]);
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut hs = vec![1, 0];
    hs.extend_from_slice(&(body.len() as u16).to_be_bytes());
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 0x03, 0x01];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

/// Sends `bytes` to the TLS port; returns what the server answered before closing.
async fn raw_tls_exchange(server: &TestServer, bytes: &[u8]) -> (Vec<u8>, std::net::SocketAddr) {
    let mut s = TcpStream::connect(server.tls).await.unwrap();
    let local = s.local_addr().unwrap();
    mark_peer(local);
    s.write_all(bytes).await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut answer))
        .await
        .expect("server closes")
        .ok();
    (answer, local)
}

#[tokio::test]
async fn cbc_only_tls12_client_hello_gets_handshake_failure_while_a_chat_goes_on() {
    let server = TestServer::start().await;
    let witness = chat(&server, "cbc-1", "cbc-2", 5);
    let hello = cbc_only_client_hello();
    let probe = raw_tls_exchange(&server, &hello);
    let ((answer, local), ()) = tokio::join!(probe, witness);
    assert_eq!(
        answer,
        [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 40],
        "fatal handshake_failure alert"
    );
    let lines = wait_close_log(local).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("stage=handshake"), "{}", lines[0]);
    assert!(lines[0].contains("HandshakeFailure"), "{}", lines[0]);
    server.shutdown().await;
}

#[tokio::test]
async fn garbage_client_hello_gets_an_alert_and_a_log_line_while_a_chat_goes_on() {
    let server = TestServer::start().await;
    let witness = chat(&server, "gb-1", "gb-2", 5);
    // A complete handshake record holding a ClientHello cut after its version.
    let garbage = [
        0x16, 0x03, 0x01, 0x00, 0x06, 0x01, 0x00, 0x00, 0x02, 0x03, 0x03,
    ];
    let probe = raw_tls_exchange(&server, &garbage);
    let ((answer, local), ()) = tokio::join!(probe, witness);
    assert_eq!(answer.first(), Some(&0x15), "an alert record: {answer:?}");
    assert_eq!(answer.get(5), Some(&2), "fatal: {answer:?}");
    let lines = wait_close_log(local).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("TLS error") && lines[0].contains("alert=DecodeError"),
        "{}",
        lines[0]
    );

    // Not TLS at all: an HTTP request on the TLS port.
    let (_, local) = raw_tls_exchange(&server, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").await;
    let lines = wait_close_log(local).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].contains("stage=handshake") && lines[0].contains("TLS error"),
        "{}",
        lines[0]
    );
    server.shutdown().await;
}

#[tokio::test]
async fn tls_1_2_and_1_3_clients_both_chat() {
    let server = TestServer::start().await;
    for versions in [
        &[&rustls::version::TLS12][..],
        &[&rustls::version::TLS13][..],
    ] {
        let tcp = TcpStream::connect(server.tls).await.unwrap();
        let connector =
            tokio_rustls::TlsConnector::from(client_config_with(&server.cert, Some(versions)));
        let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
        let tls = connector.connect(name, tcp).await.unwrap();
        assert_eq!(
            tls.get_ref().1.protocol_version(),
            Some(versions[0].version)
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn proxy_protocol_header_names_the_real_client() {
    let options = ServeOptions {
        proxy_protocol: true,
        ..ServeOptions::default()
    };
    let server = TestServer::start_with(options).await;
    // v1 header then plain wkproto.
    let mut s = TcpStream::connect(server.tcp).await.unwrap();
    s.write_all(b"PROXY TCP4 203.0.113.7 127.0.0.1 40001 5100\r\n")
        .await
        .unwrap();
    s.write_all(&[0x70]).await.unwrap(); // PING before CONNECT: closed at stage connect
    let mut rest = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut rest))
        .await
        .unwrap()
        .ok();
    let lines = wait_close_log("203.0.113.7:40001".parse().unwrap()).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("first frame was PING"), "{}", lines[0]);

    // A header shorter than 12 bytes that then ends (WuKongIM #458).
    let mut s = TcpStream::connect(server.tcp).await.unwrap();
    let local = s.local_addr().unwrap();
    mark_peer(local);
    s.write_all(b"\r\n\r\n\0").await.unwrap();
    s.shutdown().await.unwrap();
    let lines = wait_close_log(local).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains("PROXY"), "{}", lines[0]);

    // The server still serves a well-behaved proxied client.
    let mut s = TcpStream::connect(server.tcp).await.unwrap();
    s.write_all(b"PROXY UNKNOWN\r\n").await.unwrap();
    let client = wkfuzz::client::Client::new([5; 32], 4);
    s.write_all(&client.encode(&client.connect("proxied", "t", DeviceFlag::APP, 0)))
        .await
        .unwrap();
    let mut buf = [0u8; 256];
    let n = tokio::time::timeout(WAIT, s.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let mut c = wkfuzz::client::Client::new([5; 32], 4);
    let frames = c.handle_bytes(&buf[..n]).unwrap();
    assert!(matches!(&frames[0].packet, Packet::Connack(a) if a.reason == ReasonCode::SUCCESS));
    server.shutdown().await;
}

#[tokio::test]
async fn connection_limit_holds_extra_clients_until_a_slot_frees() {
    let options = ServeOptions {
        max_connections: Some(2),
        ..ServeOptions::default()
    };
    let server = TestServer::start_with(options).await;
    let mut a = User::tcp(&server, "lim-a", 4).await;
    a.login(DeviceFlag::APP).await;
    let mut b = User::tcp(&server, "lim-b", 4).await;
    b.login(DeviceFlag::APP).await;
    let mut c = User::tcp(&server, "lim-c", 4).await;
    let connect = c.client.connect("lim-c", "t", DeviceFlag::APP, 0);
    c.write_frame(&connect).await;
    let mut buf = [0u8; 64];
    assert!(
        tokio::time::timeout(Duration::from_millis(300), c.stream.read(&mut buf))
            .await
            .is_err(),
        "the third connection waits in the backlog"
    );
    drop(a);
    let f = c.expect(|p| matches!(p, Packet::Connack(_))).await;
    assert!(matches!(f.packet, Packet::Connack(x) if x.reason == ReasonCode::SUCCESS));
    drop(b);
    server.shutdown().await;
}

#[tokio::test]
async fn unauthenticated_connection_times_out_after_the_connect_timeout() {
    // No flag sets the connect timeout (upstream's fixed 4 s): shortened after resolution.
    let server = TestServer::start_adjusted(ServeOptions::default(), None, |s| {
        s.net.session.connect_timeout = Duration::from_millis(300);
    })
    .await;
    let mut s = TcpStream::connect(server.tcp).await.unwrap();
    let local = s.local_addr().unwrap();
    mark_peer(local);
    let start = std::time::Instant::now();
    let mut buf = Vec::new();
    tokio::time::timeout(WAIT, s.read_to_end(&mut buf))
        .await
        .unwrap()
        .unwrap();
    assert!(
        start.elapsed() >= Duration::from_millis(250),
        "{:?}",
        start.elapsed()
    );
    let lines = wait_close_log(local).await;
    assert!(
        lines[0].contains("no CONNECT before the connect timeout"),
        "{}",
        lines[0]
    );
    server.shutdown().await;
}

#[tokio::test]
async fn shutdown_closes_every_connection_with_one_log_line_each() {
    let server = TestServer::start().await;
    let a = User::login_tls(&server, "sd-a").await;
    let b = User::tcp(&server, "sd-b", 4).await;
    server.shutdown().await;
    for peer in [a.local, b.local] {
        let lines = wait_close_log(peer).await;
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(lines[0].contains("shutting down"), "{}", lines[0]);
    }
}
