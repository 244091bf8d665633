//! The `net` target: raw bytes through the real tokio shell ([`crate::serve`]), where per-connection
//! isolation lives. The other targets drive the sans-IO engine directly, so none of them can
//! see a panic escape the shell's per-connection supervisor (bug class AMP-L7: one bad peer
//! = process exit).
//!
//! One server runs in-process for the whole fuzzing session (a current-thread runtime on its
//! own thread, plain TCP on `127.0.0.1:0`, the default settings with a 64 KiB frame limit).
//! Per input, like `frame`'s session half: the first byte picks the protocol version, the
//! harness logs in with a valid CONNECT, then the rest of the input is written, the write
//! side is shut, and everything the server sends is read until it closes (or a deadline).
//!
//! Oracles: the server closes the connection once the client has finished (no hang); after
//! the connection the server still accepts and serves a new one (isolation held). A panic
//! that escapes isolation kills this process, which is what libFuzzer then reports.
//!
//! Not gated ([`super::Membership::ByName`]): it needs sockets and is slower than the
//! in-memory targets; the planted-bug evaluation and `wkfuzz repro --target net` run it by
//! name.

use super::Outcome;
use crate::client::Client;
use crate::hub::{Hub, HubConfig};
use crate::proto::{DeviceFlag, LATEST_VERSION, MIN_VERSION};
use crate::session::SessionConfig;
use crate::transport::Transport;
use crate::{NetSettings, Shared};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

/// Frame limit of the in-process server (as `frame`'s).
pub const MAX_FRAME: usize = 64 * 1024;
/// How long one input may take before the connection counts as hung.
const DEADLINE: Duration = Duration::from_secs(5);

/// Name of the thread the in-process server runs on.
const SERVER_THREAD: &str = "net-target-server";

/// libfuzzer-sys installs a panic hook that aborts the process on *any* panic, before tokio
/// can catch it; a production server has no such hook, and whether a connection's panic
/// stays contained is exactly what this target tests. So panics on the server's thread only
/// print (tokio then catches them and the supervisor decides); every other thread keeps the
/// previous hook (the target's own oracle panics still abort under libFuzzer).
fn contain_server_panics() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() == Some(SERVER_THREAD) {
            eprintln!("net target: a server task panicked (tokio catches it): {info}");
        } else {
            previous(info);
        }
    }));
}

/// The in-process server's address, started on first use.
///
/// # Panics
/// If the loopback listener cannot be bound (an environment defect, not an input).
fn server() -> SocketAddr {
    static ADDR: OnceLock<SocketAddr> = OnceLock::new();
    *ADDR.get_or_init(|| {
        contain_server_panics();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name(SERVER_THREAD.into())
            .spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("tokio runtime builds");
                rt.block_on(async move {
                    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                        .await
                        .expect("loopback listener binds");
                    let _ = tx.send(listener.local_addr().expect("bound address"));
                    let settings = NetSettings {
                        session: SessionConfig {
                            max_frame: MAX_FRAME,
                            ..SessionConfig::default()
                        },
                        ..NetSettings::default()
                    };
                    let shared =
                        Arc::new(Shared::new(Hub::new(HubConfig::default()), settings, None));
                    crate::serve(
                        vec![(listener, Transport::Tcp)],
                        shared,
                        std::future::pending(),
                    )
                    .await;
                });
            })
            .expect("server thread starts");
        rx.recv().expect("server reports its address")
    })
}

/// Runs the target.
///
/// # Panics
/// When an oracle is violated.
pub fn run(data: &[u8]) -> Outcome {
    let Some((&first, stream)) = data.split_first() else {
        return Outcome::new("no input");
    };
    let version = MIN_VERSION + first % (LATEST_VERSION - MIN_VERSION + 1);
    let client = Client::new([7; 32], version);
    let mut wire = client.encode(&client.connect("fuzz", "t", DeviceFlag::APP, 0));
    wire.extend_from_slice(stream);
    let verdict = exchange(&wire);
    // Isolation: whatever that connection did, the server still serves the next one.
    let probe = client.encode(&client.connect("probe", "t", DeviceFlag::WEB, 0));
    let mut conn = connect();
    conn.write_all(&probe)
        .expect("the server accepts a new connection after the last one");
    let mut connack = [0u8; 1];
    let read = conn.read(&mut connack);
    assert!(
        matches!(read, Ok(1)) && connack[0] >> 4 == 2,
        "the server stopped serving after one connection: probe read {read:?}"
    );
    Outcome::new(verdict)
}

fn connect() -> TcpStream {
    let conn = TcpStream::connect(server()).expect("the in-process server accepts");
    conn.set_read_timeout(Some(DEADLINE)).ok();
    conn.set_write_timeout(Some(DEADLINE)).ok();
    let _ = conn.set_nodelay(true);
    conn
}

/// Writes `wire`, shuts the write side, reads to EOF; returns a short verdict.
fn exchange(wire: &[u8]) -> String {
    let mut conn = connect();
    // The server may close mid-write (a decode error): a reset here is an answer, not a bug.
    let wrote = conn.write_all(wire);
    let _ = conn.shutdown(Shutdown::Write);
    let mut buf = [0u8; 16 * 1024];
    loop {
        match conn.read(&mut buf) {
            Ok(0) => break,
            Ok(_) => {}
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                panic!("the server neither answered nor closed within {DEADLINE:?}")
            }
            Err(_) => break, // reset by the server
        }
    }
    match wrote {
        Ok(()) => "server closed".into(),
        Err(_) => "server closed before reading everything".into(),
    }
}
