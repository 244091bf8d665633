//! Smoke tests of `wkfuzz load` at tiny sizes, so `cargo test` keeps the benchmarks working.
//! The handshakes and core modes are also tested inside the library; these run the real
//! binary (idle mode needs it as the server child) and its JSON output.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;
use wkfuzz::load::idle::{self, IdleOptions};
use wkfuzz::load::Report;
use wkfuzz::transport::Transport;

fn wkfuzz() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_wkfuzz"))
}

#[test]
fn idle_holds_every_logged_in_connection_on_both_transports() {
    let mut options = IdleOptions::new(wkfuzz());
    options.connections = 25;
    options.transports = vec![Transport::Tls, Transport::Tcp];
    options.settle = Duration::from_millis(50);
    let report = idle::run(&options).unwrap();
    assert_eq!(report.results.len(), 2);
    for r in &report.results {
        assert_eq!(r.connections, 25, "{}", report.table());
        assert!(r.fds_loaded >= r.fds_start + 25, "{}", report.table());
        assert!(r.rss_start_kib > 0 && r.rss_loaded_kib > 0);
    }
}

#[test]
fn load_core_prints_one_json_object() {
    let out = Command::new(wkfuzz())
        .args(["--log", "warn", "load", "--json", "core"])
        .args(["--messages", "200", "--runs", "1", "--users", "5"])
        .args(["--groups", "1", "--group-size", "3"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    let line = stdout.trim();
    assert!(
        line.starts_with(r#"{"mode":"core""#) && line.ends_with('}'),
        "{line}"
    );
    assert!(line.contains(r#""messages_per_run":200"#), "{line}");
    assert_eq!(stdout.lines().count(), 1);
}

#[test]
fn load_handshakes_prints_a_table_with_a_verdict() {
    let out = Command::new(wkfuzz())
        .args(["--log", "warn", "load", "handshakes", "--seconds", "0.1"])
        .args(["--rounds", "1", "--concurrency", "2", "--tls", "1.3"])
        .args(["--warmup", "0"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains("serve/bare"), "{stdout}");
    assert!(stdout.contains("met"), "{stdout}");
}

#[test]
fn bad_options_exit_2() {
    let out = Command::new(wkfuzz())
        .args(["load", "core", "--users", "1"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--users"));
}
