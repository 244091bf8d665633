//! The server's log events, captured for the end-to-end tests: one buffer per test binary,
//! filled by a `tracing` subscriber (info, and debug for `wkfuzz::tls`), searched by peer
//! address. Included by `tests/common` and `tests/keys_support` with `#[path]`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

/// How long any single wait in a test may take before it fails.
pub const WAIT: Duration = Duration::from_secs(10);

/// Everything logged in this test binary (filter by peer address).
pub fn logs() -> &'static Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let writer = LogWriter(buf.clone());
        let _ = tracing_subscriber::fmt()
            .with_env_filter("info,wkfuzz::tls=debug")
            .with_ansi(false)
            .with_writer(move || writer.clone())
            .try_init();
        buf
    })
}

/// The buffer, even if a panicking test poisoned its lock.
fn buffer() -> MutexGuard<'static, Vec<u8>> {
    logs().lock().unwrap_or_else(|p| p.into_inner())
}

#[derive(Clone)]
struct LogWriter(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogWriter {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Every captured log line containing `needle` (e.g. a client's local address).
pub fn log_lines_with(needle: &str) -> Vec<String> {
    let text = String::from_utf8_lossy(&buffer()).into_owned();
    text.lines()
        .filter(|l| l.contains(needle))
        .map(str::to_owned)
        .collect()
}

/// Bytes logged so far: a mark for [`close_lines_since`].
pub fn log_mark() -> usize {
    buffer().len()
}

/// The "connection closed" lines for the client at `peer`, waiting (bounded) for the first.
pub async fn close_lines(peer: SocketAddr) -> Vec<String> {
    close_lines_since(peer, 0).await
}

/// [`close_lines`] among the lines logged after `mark` (a [`log_mark`]): a client port is
/// reused after a few thousand connections, so older lines may name the same peer.
pub async fn close_lines_since(peer: SocketAddr, mark: usize) -> Vec<String> {
    // Trailing space: `peer=127.0.0.1:4000` must not match port 40001.
    let needle = format!("peer={peer} ");
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let text = String::from_utf8_lossy(buffer().get(mark..).unwrap_or_default()).into_owned();
        let lines: Vec<String> = text
            .lines()
            .filter(|l| l.contains(&needle) && l.contains("connection closed"))
            .map(str::to_owned)
            .collect();
        if !lines.is_empty() || tokio::time::Instant::now() > deadline {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// Log offset at which each local address's connection started.
fn marks() -> &'static Mutex<BTreeMap<SocketAddr, usize>> {
    static MARKS: OnceLock<Mutex<BTreeMap<SocketAddr, usize>>> = OnceLock::new();
    MARKS.get_or_init(Default::default)
}

/// Records that a connection from `local` starts now, so that [`wait_close_log`] skips the
/// lines of an older connection that used the same port.
pub fn mark_peer(local: SocketAddr) {
    let mark = log_mark();
    marks()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(local, mark);
}

/// The "connection closed" lines naming `peer` since its [`mark_peer`], waiting (bounded).
pub async fn wait_close_log(peer: SocketAddr) -> Vec<String> {
    let mark = marks()
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .get(&peer)
        .copied()
        .unwrap_or(0);
    close_lines_since(peer, mark).await
}

/// The value of `key=` in a log line ("" if absent).
pub fn field<'a>(line: &'a str, key: &str) -> &'a str {
    line.split(&format!(" {key}="))
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or("")
}

/// Waits for the one "connection closed" line of the client at `peer` and checks that it
/// names `reason` and logs `alert` (a description, "none", or "-").
pub async fn assert_closed_with(peer: SocketAddr, reason: &str, alert: &str) {
    let lines = close_lines(peer).await;
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(lines[0].contains(reason), "{}", lines[0]);
    assert_eq!(field(&lines[0], "alert"), alert, "{}", lines[0]);
}
