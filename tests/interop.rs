//! Interop with the official WuKongIM JS SDK (npm `wukongimjssdk`): the in-process server
//! serves ws and wss on ephemeral ports with the groups the script uses, and
//! `node tests/interop/chat.js` runs two SDK clients through it (see that file). Meanwhile
//! malformed upgrades hit the same listeners over raw TCP and TLS and must get their RFC
//! answers without disturbing the SDK chat.
//!
//! Needs `node` and `npm`; where either is missing the test prints
//! "SKIPPED: node/npm not found" and passes. `ci/test.sh` runs `npm ci` first; without
//! `tests/interop/node_modules` this test runs it itself.

mod common;

use common::*;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use wkfuzz::server::ServeOptions;

/// The script's phases; phase P uses P-alice, P-bob and the group P-group.
const PHASES: [&str; 3] = ["ws", "wss", "mixed"];

/// Messages per direction, channel and phase.
const COUNT: usize = 20;

/// Longest `npm ci`.
const NPM_TIMEOUT: Duration = Duration::from_secs(600);

/// Longest SDK chat run.
const NODE_TIMEOUT: Duration = Duration::from_secs(180);

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop")
}

/// Whether `program --version` runs.
fn available(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Runs `cmd` to completion or kills it after `limit`; returns (success, stdout + stderr).
fn run_with_timeout(mut cmd: Command, limit: Duration) -> (bool, String) {
    let what = format!("{cmd:?}");
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    let mut pipes = [
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    ];
    let readers: Vec<_> = pipes
        .iter_mut()
        .filter_map(Option::take)
        .map(|mut p| {
            std::thread::spawn(move || {
                let mut text = String::new();
                let _ = p.read_to_string(&mut text);
                text
            })
        })
        .collect();
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let output: String = readers.into_iter().filter_map(|r| r.join().ok()).collect();
    match status {
        Some(s) => (s.success(), output),
        None => (false, format!("{output}\n{what} killed after {limit:?}")),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn js_sdk_clients_chat_over_ws_and_wss_while_bad_upgrades_are_refused() {
    if !available("node") || !available("npm") {
        println!("SKIPPED: node/npm not found");
        return;
    }
    let dir = interop_dir();
    if !dir.join("node_modules/wukongimjssdk").exists() {
        let mut npm = Command::new("npm");
        npm.arg("ci")
            .arg("--no-audit")
            .arg("--no-fund")
            .current_dir(&dir);
        let (ok, output) = tokio::task::spawn_blocking(move || run_with_timeout(npm, NPM_TIMEOUT))
            .await
            .unwrap();
        assert!(ok, "npm ci in {} failed:\n{output}", dir.display());
    }

    // The script's groups, as a user's config file would create them.
    let config: String = PHASES
        .iter()
        .map(|p| format!("{p}-group = [\"{p}-alice\", \"{p}-bob\"]\n"))
        .collect();
    let server =
        TestServer::start_with_config(&format!("[groups]\n{config}"), ServeOptions::default())
            .await;

    let mut node = Command::new("node");
    node.arg(dir.join("chat.js"))
        .arg("--ws")
        .arg(format!("ws://127.0.0.1:{}", server.ws.port()))
        .arg("--wss")
        .arg(format!("wss://localhost:{}", server.wss.port()))
        .arg("--ca")
        .arg(&server.cert)
        .arg("--count")
        .arg(COUNT.to_string())
        .current_dir(&dir);
    let node_done = AtomicBool::new(false);
    let sdk_chat = async {
        let result = tokio::task::spawn_blocking(move || run_with_timeout(node, NODE_TIMEOUT))
            .await
            .unwrap();
        node_done.store(true, Ordering::SeqCst);
        result
    };
    // Bad upgrades on the same listeners for as long as the SDK chat runs (bounded).
    let bad = async {
        let mut rounds = 0;
        while !node_done.load(Ordering::SeqCst) && rounds < 100 {
            assert_bad_upgrades(&server).await;
            rounds += 1;
        }
        rounds
    };
    let ((ok, output), rounds) = tokio::join!(sdk_chat, bad);
    println!("{output}");
    assert!(ok, "the JS SDK interop script failed:\n{output}");
    for phase in PHASES {
        assert!(
            output.contains(&format!("{phase}: {phase}-alice")),
            "phase {phase} missing:\n{output}"
        );
    }
    println!("{rounds} rounds of bad upgrades ran alongside the SDK chat");
    assert!(rounds >= 1);

    // Each SDK connection ended with exactly one log line naming its transport.
    for (uid, transport) in [
        ("ws-alice", "ws"),
        ("ws-bob", "ws"),
        ("wss-alice", "wss"),
        ("wss-bob", "wss"),
        ("mixed-alice", "ws"),
        ("mixed-bob", "wss"),
    ] {
        let needle = format!("uid=\"{uid}\"");
        let deadline = tokio::time::Instant::now() + WAIT;
        let lines = loop {
            let lines: Vec<String> = log_lines_with(&needle)
                .into_iter()
                .filter(|l| l.contains("connection closed"))
                .collect();
            if !lines.is_empty() || tokio::time::Instant::now() > deadline {
                break lines;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(lines.len(), 1, "{uid}: {lines:?}");
        assert!(
            lines[0].contains(&format!("transport={transport}")),
            "{}",
            lines[0]
        );
    }
    server.shutdown().await;
}
