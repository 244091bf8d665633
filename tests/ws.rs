//! End-to-end over the WebSocket listeners (ws and wss): tokio-tungstenite clients over
//! TCP and over tokio-rustls trusting the dev certificate, and raw TCP/TLS clients for
//! malformed upgrades. Every case checks what the peer gets (RFC 6455 answers) and the one
//! "connection closed" log line.

mod common;

use common::*;
use futures_util::{SinkExt, StreamExt};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::Message;
use wkfuzz::client::Client;
use wkfuzz::proto::{ChannelType, DeviceFlag, Frame, Packet, ReasonCode};
use wkfuzz::server::ServeOptions;

/// The next message from the server that is not a ping or pong.
async fn next_message(ws: &mut WsStream) -> Option<Message> {
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await {
            Err(_) => panic!("no message from the server within {WAIT:?}"),
            Ok(None) => return None,
            Ok(Some(Err(e))) => panic!("websocket error: {e}"),
            Ok(Some(Ok(Message::Ping(_) | Message::Pong(_)))) => {}
            Ok(Some(Ok(m))) => return Some(m),
        }
    }
}

/// Reads one binary message and decodes it as exactly one wkproto frame.
async fn one_frame_message(ws: &mut WsStream, client: &mut Client) -> Frame {
    let m = next_message(ws).await;
    let Some(Message::Binary(payload)) = m else {
        panic!("expected a binary message, got {m:?}")
    };
    let mut frames = client.handle_bytes(&payload).unwrap();
    assert_eq!(frames.len(), 1, "one frame per message: {frames:?}");
    frames.remove(0)
}

/// Logs in over a raw WebSocket stream with one CONNECT message.
async fn ws_login(ws: &mut WsStream, client: &mut Client, uid: &str) {
    let connect = client.connect(uid, "token", DeviceFlag::WEB, 1_700_000_000_000);
    ws.send(Message::Binary(client.encode(&connect).into()))
        .await
        .unwrap();
    let f = one_frame_message(ws, client).await;
    let Packet::Connack(c) = f.packet else {
        panic!("expected CONNACK, got {f:?}")
    };
    assert_eq!(c.reason, ReasonCode::SUCCESS);
    client.handle_connack(&c).unwrap();
}

/// The close frame the server ends with.
async fn expect_close(ws: &mut WsStream) -> (CloseCode, String) {
    match next_message(ws).await {
        Some(Message::Close(Some(frame))) => (frame.code, frame.reason.to_string()),
        other => panic!("expected a close frame, got {other:?}"),
    }
}

#[tokio::test]
async fn a_tcp_user_and_a_wss_user_chat_and_a_ws_user_shares_a_group() {
    let config = "[groups]\nmixed = [\"on-tcp\", \"on-wss\", \"on-ws\"]\n";
    let server = TestServer::start_with_config(config, ServeOptions::default()).await;
    let mut t = User::tcp(&server, "on-tcp", 4).await;
    t.login(DeviceFlag::APP).await;
    let mut s = User::websocket(&server, true, "on-wss", 2).await;
    s.login(DeviceFlag::WEB).await;
    let mut w = User::websocket(&server, false, "on-ws", 2).await;
    w.login(DeviceFlag::WEB).await;

    let mut last_id = 0;
    for i in 0..5 {
        let text = format!("tcp to wss #{i}");
        let ack = t.send_text("on-wss", ChannelType::PERSON, &text).await;
        assert_eq!(ack.reason, ReasonCode::SUCCESS);
        let (recv, got) = s.recv_text().await;
        assert_eq!(
            (got.as_str(), recv.from_uid.as_str()),
            (text.as_str(), "on-tcp")
        );
        assert_eq!(
            (recv.channel_id.as_str(), recv.message_id),
            ("on-tcp", ack.message_id)
        );
        assert!(recv.message_id > last_id);
        last_id = recv.message_id;

        let reply = format!("wss to tcp #{i}");
        let ack = s.send_text("on-tcp", ChannelType::PERSON, &reply).await;
        assert_eq!(ack.reason, ReasonCode::SUCCESS);
        let (recv, got) = t.recv_text().await;
        assert_eq!(
            (got.as_str(), recv.channel_id.as_str()),
            (reply.as_str(), "on-wss")
        );
        assert!(recv.message_id > last_id);
        last_id = recv.message_id;
    }
    let ack = w
        .send_text("mixed", ChannelType::GROUP, "hello group")
        .await;
    assert_eq!(ack.reason, ReasonCode::SUCCESS);
    for u in [&mut t, &mut s] {
        let (recv, got) = u.recv_text().await;
        assert_eq!(got, "hello group");
        assert_eq!(
            (recv.channel_id.as_str(), recv.from_uid.as_str()),
            ("mixed", "on-ws")
        );
    }
    server.shutdown().await;
    for (u, transport) in [(&t, "tcp"), (&s, "wss"), (&w, "ws")] {
        let lines = wait_close_log(u.local).await;
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].contains(&format!("transport={transport}")),
            "{}",
            lines[0]
        );
    }
}

#[tokio::test]
async fn several_frames_in_one_message_and_one_frame_over_three_messages() {
    let server = TestServer::start().await;
    let mut peer = User::login_tls(&server, "frames-peer").await;
    for tls in [false, true] {
        let (mut ws, _) = ws_connect(&server, tls, "/").await;
        let mut client = Client::new([9; 32], 2);
        ws_login(&mut ws, &mut client, "frames").await;

        // Two SENDs and a PING in one message: three answers, each its own message.
        let (first, seq1) = client
            .send("frames-peer", ChannelType::PERSON, b"one")
            .unwrap();
        let (second, seq2) = client
            .send("frames-peer", ChannelType::PERSON, b"two")
            .unwrap();
        let mut message = client.encode(&first);
        message.extend(client.encode(&second));
        message.push(0x70);
        ws.send(Message::Binary(message.into())).await.unwrap();
        let mut answers = Vec::new();
        for _ in 0..3 {
            answers.push(one_frame_message(&mut ws, &mut client).await.packet);
        }
        assert!(
            matches!(&answers[..], [Packet::Sendack(a), Packet::Sendack(b), Packet::Pong]
                if a.client_seq == seq1 && b.client_seq == seq2
                && a.reason == ReasonCode::SUCCESS && b.reason == ReasonCode::SUCCESS),
            "{answers:?}"
        );
        assert_eq!(peer.recv_text().await.1, "one");
        assert_eq!(peer.recv_text().await.1, "two");

        // One SEND cut into three messages.
        let (third, seq3) = client
            .send("frames-peer", ChannelType::PERSON, b"three")
            .unwrap();
        let bytes = client.encode(&third);
        let cuts = [1, bytes.len() / 2, bytes.len()];
        let mut start = 0;
        for end in cuts {
            ws.send(Message::Binary(bytes[start..end].to_vec().into()))
                .await
                .unwrap();
            start = end;
        }
        let f = one_frame_message(&mut ws, &mut client).await;
        assert!(
            matches!(&f.packet, Packet::Sendack(a) if a.client_seq == seq3),
            "{f:?}"
        );
        assert_eq!(peer.recv_text().await.1, "three");
        ws.close(None).await.unwrap();
    }
    server.shutdown().await;
}

#[tokio::test]
async fn text_message_gets_close_1003_and_one_log_line() {
    let server = TestServer::start().await;
    for tls in [false, true] {
        let (mut ws, local) = ws_connect(&server, tls, "/").await;
        ws.send(Message::Text("hello".into())).await.unwrap();
        let (code, _) = expect_close(&mut ws).await;
        assert_eq!(code, CloseCode::Unsupported);
        let lines = wait_close_log(local).await;
        assert_eq!(lines.len(), 1, "{lines:?}");
        let transport = if tls { "wss" } else { "ws" };
        assert!(
            lines[0].contains(&format!("transport={transport}"))
                && lines[0].contains("websocket: text message (close 1003)"),
            "{}",
            lines[0]
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn oversized_message_gets_close_1009_from_its_frame_header() {
    let server = TestServer::start_with_max_frame(4096).await;
    for tls in [false, true] {
        let (mut ws, local) = ws_connect(&server, tls, "/").await;
        let mut client = Client::new([7; 32], 2);
        ws_login(&mut ws, &mut client, if tls { "big-wss" } else { "big-ws" }).await;
        // A masked binary frame header declaring 10 MiB, and 8 bytes of its body: the body
        // never comes, the answer must not wait for it.
        let mut header = vec![0x82, 0x80 | 127];
        header.extend(10_485_760u64.to_be_bytes());
        header.extend([1, 2, 3, 4]);
        header.extend([0u8; 8]);
        let raw = ws.get_mut();
        raw.write_all(&header).await.unwrap();
        raw.flush().await.unwrap();
        let (code, _) = expect_close(&mut ws).await;
        assert_eq!(code, CloseCode::Size);
        let lines = wait_close_log(local).await;
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].contains("message too big") && lines[0].contains("close 1009"),
            "{}",
            lines[0]
        );
        assert!(lines[0].contains("stage=session"), "{}", lines[0]);
    }
    server.shutdown().await;
}

#[tokio::test]
async fn ping_gets_pong_and_the_session_goes_on() {
    let server = TestServer::start().await;
    let mut peer = User::login_tls(&server, "ping-peer").await;
    for tls in [false, true] {
        let (mut ws, _) = ws_connect(&server, tls, "/").await;
        let mut client = Client::new([5; 32], 2);
        ws_login(&mut ws, &mut client, "pinger").await;
        ws.send(Message::Ping(b"are you there".to_vec().into()))
            .await
            .unwrap();
        let pong = tokio::time::timeout(WAIT, ws.next()).await.unwrap();
        assert!(
            matches!(&pong, Some(Ok(Message::Pong(p))) if &p[..] == b"are you there"),
            "{pong:?}"
        );
        let (send, seq) = client
            .send("ping-peer", ChannelType::PERSON, b"after ping")
            .unwrap();
        ws.send(Message::Binary(client.encode(&send).into()))
            .await
            .unwrap();
        let f = one_frame_message(&mut ws, &mut client).await;
        assert!(matches!(&f.packet, Packet::Sendack(a) if a.client_seq == seq));
        assert_eq!(peer.recv_text().await.1, "after ping");
        ws.close(None).await.unwrap();
    }
    server.shutdown().await;
}

#[tokio::test]
async fn client_close_is_answered_and_logged_once() {
    let server = TestServer::start().await;
    for tls in [false, true] {
        let (mut ws, local) = ws_connect(&server, tls, "/").await;
        let mut client = Client::new([3; 32], 2);
        let uid = if tls { "closer-wss" } else { "closer-ws" };
        ws_login(&mut ws, &mut client, uid).await;
        ws.close(None).await.unwrap();
        // The server's close reply, then the end of the stream.
        loop {
            match tokio::time::timeout(WAIT, ws.next()).await.unwrap() {
                None => break,
                Some(Ok(Message::Close(_))) => {}
                Some(other) => panic!("unexpected {other:?}"),
            }
        }
        let lines = wait_close_log(local).await;
        assert_eq!(lines.len(), 1, "{lines:?}");
        assert!(
            lines[0].contains("reason=peer closed") && lines[0].contains(&format!("uid=\"{uid}\"")),
            "{}",
            lines[0]
        );
    }
    server.shutdown().await;
}

#[tokio::test]
async fn bad_upgrades_get_rfc_answers_while_a_chat_goes_on() {
    let server = TestServer::start().await;
    tokio::join!(
        assert_bad_upgrades(&server),
        chat(&server, "steady-a", "steady-b", 20)
    );
    server.shutdown().await;
}

#[tokio::test]
async fn wss_port_answers_a_plaintext_request_with_a_tls_alert_and_ws_port_answers_tls_with_400() {
    let server = TestServer::start().await;
    // An HTTP request where TLS is expected: rustls refuses the record.
    let mut tcp = tokio::net::TcpStream::connect(server.wss).await.unwrap();
    let local = tcp.local_addr().unwrap();
    mark_peer(local);
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(WAIT, tcp.read_to_end(&mut answer)).await;
    let lines = wait_close_log(local).await;
    assert!(
        lines.len() == 1 && lines[0].contains("TLS error") && lines[0].contains("transport=wss"),
        "{lines:?}"
    );
    // A TLS ClientHello where HTTP is expected.
    let (answer, local) = raw_upgrade(
        &server,
        false,
        &[0x16, 0x03, 0x01, 0x00, 0x05, 1, 0, 0, 1, 0],
    )
    .await;
    assert!(answer.starts_with("HTTP/1.1 400 "), "{answer}");
    assert_eq!(wait_close_log(local).await.len(), 1);
    server.shutdown().await;
}

#[tokio::test]
async fn upgrade_must_finish_within_the_handshake_timeout() {
    let options = ServeOptions {
        handshake_timeout: Some(1),
        ..ServeOptions::default()
    };
    let server = TestServer::start_with(options).await;
    let mut tcp = tokio::net::TcpStream::connect(server.ws).await.unwrap();
    let local = tcp.local_addr().unwrap();
    mark_peer(local);
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: loc").await.unwrap();
    let mut answer = Vec::new();
    tokio::time::timeout(WAIT, tcp.read_to_end(&mut answer))
        .await
        .unwrap()
        .unwrap();
    assert!(answer.is_empty(), "{answer:?}");
    let lines = wait_close_log(local).await;
    assert!(lines[0].contains("handshake timeout"), "{lines:?}");
    server.shutdown().await;
}
