//! Isolation: a panic inside one connection's task closes that connection only.

use super::*;
use crate::client::Client;
use crate::hub::{Hub, HubConfig};
use crate::proto::{ChannelType, DeviceFlag, Packet, ReasonCode};
use crate::transport::Transport;
use std::sync::Arc;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

async fn read_frames(s: &mut TcpStream, c: &mut Client, want: usize) -> Vec<crate::proto::Frame> {
    let mut frames = Vec::new();
    let mut buf = [0u8; 4096];
    while frames.len() < want {
        let n = tokio::time::timeout(std::time::Duration::from_secs(10), s.read(&mut buf))
            .await
            .expect("no timeout")
            .expect("read");
        assert!(n > 0, "closed early; have {frames:?}");
        frames.extend(c.handle_bytes(&buf[..n]).expect("decodes"));
    }
    frames
}

async fn login(addr: std::net::SocketAddr, uid: &str, secret: u8) -> (TcpStream, Client) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut c = Client::new([secret; 32], 4);
    s.write_all(&c.encode(&c.connect(uid, "t", DeviceFlag::APP, 0)))
        .await
        .unwrap();
    let f = read_frames(&mut s, &mut c, 1).await;
    let Packet::Connack(ack) = &f[0].packet else {
        panic!("{f:?}")
    };
    c.handle_connack(ack).unwrap();
    (s, c)
}

#[tokio::test]
async fn a_panic_in_one_connection_leaves_the_others_serving() {
    let shared = Arc::new(Shared::new(
        Hub::new(HubConfig::default()),
        NetSettings::default(),
        None,
    ));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(
        vec![(listener, Transport::Tcp)],
        shared.clone(),
        async {
            let _ = stopped.await;
        },
    ));

    let (mut a, mut ca) = login(addr, "alice", 1).await;
    let (mut b, mut cb) = login(addr, "bob", 2).await;

    // The panicking connection is closed by the server, with nothing sent.
    let mut p = TcpStream::connect(addr).await.unwrap();
    let cp = Client::new([3; 32], 4);
    p.write_all(&cp.encode(&cp.connect(crate::session::PANIC_UID, "t", DeviceFlag::APP, 0)))
        .await
        .unwrap();
    let mut rest = Vec::new();
    let n = tokio::time::timeout(std::time::Duration::from_secs(10), p.read_to_end(&mut rest))
        .await
        .expect("closed")
        .unwrap_or(0);
    assert_eq!(n, 0);

    // The hub mutex was poisoned by the panic and recovered: alice and bob still chat, and
    // a new login works.
    let (frame, _) = ca.send("bob", ChannelType::PERSON, b"still here").unwrap();
    a.write_all(&ca.encode(&frame)).await.unwrap();
    let f = read_frames(&mut a, &mut ca, 1).await;
    assert!(
        matches!(&f[0].packet, Packet::Sendack(x) if x.reason == ReasonCode::SUCCESS),
        "{f:?}"
    );
    let f = read_frames(&mut b, &mut cb, 1).await;
    let Packet::Recv(r) = &f[0].packet else {
        panic!("{f:?}")
    };
    assert_eq!(cb.open(r).unwrap(), b"still here");
    let _ = login(addr, "carol", 4).await;
    assert_eq!(
        shared.with_hub(|h| h.connection_count()),
        3,
        "the panicked connection left the hub"
    );

    let _ = stop.send(());
    server.await.unwrap();
}

#[tokio::test]
async fn a_wall_clock_step_closes_nothing() {
    use std::sync::atomic::{AtomicU32, Ordering};
    use std::time::{Duration, UNIX_EPOCH};
    // A wall clock that jumps a day ahead after its first reading (NTP, a resumed VM).
    // Deadlines that followed it would all fire at once.
    static READINGS: AtomicU32 = AtomicU32::new(0);
    let wall = || {
        let n = READINGS.fetch_add(1, Ordering::SeqCst);
        let step = if n == 0 { 0 } else { 86_400 };
        UNIX_EPOCH + Duration::from_secs(1_700_000_000 + step)
    };
    let settings = NetSettings {
        session: crate::session::SessionConfig {
            idle_timeout: Duration::from_secs(30),
            ..Default::default()
        },
        ..NetSettings::default()
    };
    let shared = Arc::new(Shared::with_clock(
        Hub::new(HubConfig::default()),
        settings,
        None,
        clock::Clock::start_with_wall(wall),
    ));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(
        vec![(listener, Transport::Tcp)],
        shared.clone(),
        async {
            let _ = stopped.await;
        },
    ));
    // Logged in, then quiet for a moment: a step of a day must not fire the idle or
    // connect timeout, and a connection opened after the step must log in too.
    let (mut a, mut ca) = login(addr, "alice", 1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (mut b, mut cb) = login(addr, "bob", 2).await;
    let (frame, _) = cb
        .send("alice", ChannelType::PERSON, b"after the step")
        .unwrap();
    b.write_all(&cb.encode(&frame)).await.unwrap();
    let f = read_frames(&mut a, &mut ca, 1).await;
    let Packet::Recv(r) = &f[0].packet else {
        panic!("{f:?}")
    };
    assert_eq!(ca.open(r).unwrap(), b"after the step");
    assert_eq!(
        READINGS.load(Ordering::SeqCst),
        1,
        "the wall clock was read again"
    );
    assert_eq!(shared.with_hub(|hub| hub.connection_count()), 2);
    let _ = stop.send(());
    server.await.unwrap();
}
