//! The server process the attack starts itself (`--spawn "CMD ..."`): its exit status or
//! the signal that killed it, crash text on its stderr (see [`super::crash_text`]), its
//! resident memory and open descriptors (Linux `/proc`), and restarts between culprit
//! tries.
//!
//! A thread reads the child's stderr line by line for the child's whole life (a server
//! logging one line per connection must never block on a full pipe); it keeps the last
//! lines for evidence and every crash it sees.
//!
//! The server runs in a process group of its own, and stopping it kills the whole group: a
//! server with worker processes (nginx) leaves none behind holding the stderr pipe open.

use super::crash_text::{classify, CrashLine};
use std::collections::VecDeque;
use std::io::{self, BufRead, BufReader};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// stderr lines kept for evidence.
const TAIL_LINES: usize = 40;
/// Lines after a crash line that belong to its report.
const REPORT_LINES: usize = 8;
/// Crash reports kept (the count goes on).
const MAX_REPORTS: usize = 64;
/// Longest stderr line kept (the rest is cut).
const MAX_LINE: usize = 2000;
/// How long to wait for the stderr reader to see the end of the pipe once the process has
/// ended (a descendant that escaped the group may keep it open: then it is left running).
const DRAIN_WAIT: Duration = Duration::from_secs(2);

/// A crash seen on stderr.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrashText {
    /// Its kind and signature.
    pub line: CrashLine,
    /// The crash line and the lines that followed it.
    pub text: String,
}

/// What the stderr reader saw.
#[derive(Debug, Default)]
struct Stderr {
    tail: VecDeque<String>,
    crashes: Vec<CrashText>,
    crash_count: usize,
    /// Lines still to append to the last report.
    report_left: usize,
    /// When the last line came.
    last_line: Option<std::time::Instant>,
}

impl Stderr {
    fn line(&mut self, line: String) {
        self.last_line = Some(std::time::Instant::now());
        let line: String = line.chars().take(MAX_LINE).collect();
        if let Some(crash) = classify(&line) {
            self.crash_count += 1;
            if self.crashes.len() < MAX_REPORTS {
                self.crashes.push(CrashText {
                    line: crash,
                    text: line.clone(),
                });
                self.report_left = REPORT_LINES;
            }
        } else if self.report_left > 0 {
            self.report_left -= 1;
            if let Some(last) = self.crashes.last_mut() {
                last.text.push('\n');
                last.text.push_str(&line);
            }
        }
        if self.tail.len() == TAIL_LINES {
            self.tail.pop_front();
        }
        self.tail.push_back(line);
    }
}

/// A running (or exited) server process.
#[derive(Debug)]
pub struct Spawned {
    argv: Vec<String>,
    child: Child,
    stderr: Arc<Mutex<Stderr>>,
    reader: Option<JoinHandle<()>>,
    exit: Option<ExitStatus>,
    /// Times the process was started.
    pub starts: u32,
}

/// Resident memory and open descriptors of a process.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Resources {
    /// Resident set size, KiB.
    pub rss_kib: u64,
    /// Open file descriptors.
    pub fds: u64,
}

/// Splits a command line as a POSIX shell would (quotes, backslashes; no expansion).
///
/// # Errors
/// Unbalanced quotes or an empty command.
pub fn split_command(command: &str) -> Result<Vec<String>, String> {
    match shlex::split(command) {
        Some(argv) if !argv.is_empty() => Ok(argv),
        Some(_) => Err("empty --spawn command".into()),
        None => Err(format!("--spawn {command:?}: unbalanced quotes")),
    }
}

impl Spawned {
    /// Starts `argv` (stdin and stdout discarded, stderr read).
    ///
    /// # Errors
    /// The program cannot be started.
    pub fn start(argv: &[String]) -> io::Result<Spawned> {
        let (child, stderr, reader) = launch(argv)?;
        Ok(Spawned {
            argv: argv.to_vec(),
            child,
            stderr,
            reader: Some(reader),
            exit: None,
            starts: 1,
        })
    }

    /// The command line.
    pub fn command(&self) -> String {
        shlex::try_join(self.argv.iter().map(String::as_str))
            .unwrap_or_else(|_| self.argv.join(" "))
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// How it ended, once it has.
    pub fn exit_status(&mut self) -> Option<ExitStatus> {
        if self.exit.is_none() {
            self.exit = self.child.try_wait().ok().flatten();
        }
        self.exit
    }

    /// Waits for it to end while it is still writing to stderr (a crashing process may
    /// print a long backtrace before it dies): until it ends, or stderr has been quiet for
    /// `quiet`, or `cap` has passed.
    pub fn wait_exit_while_writing(
        &mut self,
        quiet: Duration,
        cap: Duration,
    ) -> Option<ExitStatus> {
        let deadline = std::time::Instant::now() + cap;
        loop {
            if let Some(s) = self.exit_status() {
                return Some(s);
            }
            let last = self.lock().last_line;
            let now = std::time::Instant::now();
            if now >= deadline || last.is_none_or(|t| now.duration_since(t) >= quiet) {
                return None;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits up to `within` for it to end.
    pub fn wait_exit(&mut self, within: Duration) -> Option<ExitStatus> {
        let deadline = std::time::Instant::now() + within;
        loop {
            if let Some(s) = self.exit_status() {
                return Some(s);
            }
            if std::time::Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    fn lock(&self) -> MutexGuard<'_, Stderr> {
        self.stderr.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Crash lines seen so far (since the process started).
    pub fn crash_count(&self) -> usize {
        self.lock().crash_count
    }

    /// The crash reports from the `from`th on.
    pub fn crashes_since(&self, from: usize) -> Vec<CrashText> {
        self.lock().crashes.iter().skip(from).cloned().collect()
    }

    /// The last lines of stderr.
    pub fn tail(&self) -> Vec<String> {
        self.lock().tail.iter().cloned().collect()
    }

    /// Lets the stderr reader take in what the process wrote before it ended (call after
    /// [`Spawned::exit_status`] reports the end), waiting at most [`DRAIN_WAIT`] for the
    /// end of the pipe.
    pub fn drain_stderr(&mut self) {
        let Some(reader) = self.reader.take() else {
            return;
        };
        let deadline = std::time::Instant::now() + DRAIN_WAIT;
        while !reader.is_finished() && std::time::Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(2));
        }
        if reader.is_finished() {
            let _ = reader.join();
        }
    }

    /// Its memory and descriptors now (`None` once it has ended or off Linux).
    pub fn resources(&self) -> Option<Resources> {
        let pid = self.child.id();
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        let rss_kib = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())?;
        let fds = std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64;
        Some(Resources { rss_kib, fds })
    }

    /// Kills the process and its group (if it still runs) and waits for it and its
    /// stderr.
    pub fn stop(&mut self) {
        if self.exit_status().is_none() {
            let _ = self.child.kill();
            self.exit = self.child.wait().ok();
        }
        kill_group(self.child.id());
        running().retain(|&g| g != self.child.id());
        self.drain_stderr();
    }

    /// Stops the process and starts the same command again (a fresh stderr record).
    ///
    /// # Errors
    /// The program cannot be started.
    pub fn restart(&mut self) -> io::Result<()> {
        self.stop();
        let (child, stderr, reader) = launch(&self.argv)?;
        self.child = child;
        self.stderr = stderr;
        self.reader = Some(reader);
        self.exit = None;
        self.starts = self.starts.saturating_add(1);
        Ok(())
    }
}

impl Drop for Spawned {
    fn drop(&mut self) {
        self.stop();
    }
}

type Launched = (Child, Arc<Mutex<Stderr>>, JoinHandle<()>);

/// Process groups of servers running now, for [`kill_all`].
static RUNNING: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn running() -> MutexGuard<'static, Vec<u32>> {
    RUNNING.lock().unwrap_or_else(|p| p.into_inner())
}

/// Kills every spawned server's process group (on Ctrl-C: the servers run in groups of
/// their own, which a terminal's interrupt does not reach).
pub fn kill_all() {
    for pgid in running().drain(..) {
        kill_group(pgid);
    }
}

fn launch(argv: &[String]) -> io::Result<Launched> {
    let (program, args) = argv
        .split_first()
        .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidInput, "empty command"))?;
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    #[cfg(unix)]
    std::os::unix::process::CommandExt::process_group(&mut command, 0);
    let mut child = command
        .spawn()
        .map_err(|e| io::Error::new(e.kind(), format!("{program}: {e}")))?;
    running().push(child.id());
    let stderr = Arc::new(Mutex::new(Stderr::default()));
    let pipe = child
        .stderr
        .take()
        .ok_or_else(|| io::Error::other("no stderr pipe"))?;
    let sink = stderr.clone();
    let reader = std::thread::Builder::new()
        .name("attack-stderr".into())
        .spawn(move || {
            let mut lines = BufReader::new(pipe);
            let mut buf = Vec::new();
            loop {
                buf.clear();
                match lines.read_until(b'\n', &mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(_) => {
                        let line = String::from_utf8_lossy(&buf).trim_end().to_owned();
                        sink.lock().unwrap_or_else(|p| p.into_inner()).line(line);
                    }
                }
            }
        })?;
    Ok((child, stderr, reader))
}

/// Kills what is left of process group `pgid` (the server's workers), with `kill(1)`: the
/// crate has no unsafe code to call `killpg` itself.
fn kill_group(pgid: u32) {
    #[cfg(unix)]
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
}

/// How a process ended, for people: `exited with code 1`, `killed by signal 6 (SIGABRT)`.
pub fn describe_exit(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(sig) = status.signal() {
            let name = match sig {
                4 => " (SIGILL)",
                5 => " (SIGTRAP)",
                6 => " (SIGABRT)",
                7 => " (SIGBUS)",
                8 => " (SIGFPE)",
                9 => " (SIGKILL)",
                11 => " (SIGSEGV)",
                13 => " (SIGPIPE)",
                15 => " (SIGTERM)",
                _ => "",
            };
            return format!("killed by signal {sig}{name}");
        }
    }
    match status.code() {
        Some(code) => format!("exited with code {code}"),
        None => "ended".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_split_like_a_shell() {
        assert_eq!(
            split_command("wkfuzz serve --tcp '127.0.0.1:7100' --log \"warn\"").unwrap(),
            [
                "wkfuzz",
                "serve",
                "--tcp",
                "127.0.0.1:7100",
                "--log",
                "warn"
            ]
        );
        assert!(split_command("a 'b").is_err());
        assert!(split_command("  ").is_err());
    }

    #[test]
    fn crash_reports_keep_the_lines_that_follow() {
        let mut s = Stderr::default();
        s.line("INFO listening".into());
        s.line("thread 'w' panicked at src/a.rs:1:2:".into());
        s.line("index out of bounds".into());
        assert_eq!(s.crash_count, 1);
        assert_eq!(
            s.crashes[0].text,
            "thread 'w' panicked at src/a.rs:1:2:\nindex out of bounds"
        );
        assert_eq!(s.tail.len(), 3);
    }

    #[test]
    fn stopping_kills_the_servers_children_too() {
        // A "server" whose child keeps stderr open and outlives it unless the group dies.
        let argv = split_command("sh -c 'sleep 300 & echo started >&2; wait'").unwrap();
        let mut p = Spawned::start(&argv).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        let started = std::time::Instant::now();
        p.stop();
        assert!(
            started.elapsed() < Duration::from_secs(2),
            "stop waited for the child"
        );
        assert!(p.exit_status().is_some());
        assert_eq!(p.tail(), ["started"]);
    }

    #[test]
    fn a_spawned_process_reports_its_signal_and_stderr() {
        let argv = split_command("sh -c 'echo \"panic: boom 42\" >&2; kill -ABRT $$'").unwrap();
        let mut p = Spawned::start(&argv).unwrap();
        let status = p.wait_exit(Duration::from_secs(10)).expect("it ends");
        p.drain_stderr();
        assert_eq!(describe_exit(status), "killed by signal 6 (SIGABRT)");
        assert_eq!(p.crash_count(), 1);
        assert_eq!(p.crashes_since(0)[0].line.signature, "go panic: boom N");
        assert!(p.resources().is_none());
    }
}
