//! The `wkfuzz serve` binary with key material: start-up fails cleanly on every kind of bad
//! file (non-zero exit, one line naming the file and the problem, never a panic); TLS 1.3
//! sessions resume across a restart, on a second process sharing the ticket key, and after
//! rotation; `openssl s_client -sess_out/-sess_in` resumes; SIGHUP reloads certificates
//! and keeps the old ones when the new files are bad.

mod keys_support;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use keys_support::*;

const BIN: &str = env!("CARGO_BIN_EXE_wkfuzz");

/// `serve` with only a TLS listener, on `addr`, plus `args`.
fn serve_command(addr: &str, args: &[&std::ffi::OsStr]) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.args([
        "serve", "--tcp", "off", "--ws", "off", "--wss", "off", "--tls", addr,
    ])
    .args(args)
    .env_remove("RUST_LOG")
    .stdin(Stdio::null());
    cmd
}

/// A running server process; killed on drop.
struct Proc {
    child: Child,
    addr: SocketAddr,
    stderr: PathBuf,
}

impl Proc {
    /// Starts `serve` and waits for its "listening" line.
    fn start(dir: &Path, args: &[&std::ffi::OsStr]) -> Proc {
        let stderr = dir.join(format!(
            "stderr-{}.log",
            std::process::id() as u64 * 1000 + unique()
        ));
        let mut child = serve_command("127.0.0.1:0", args)
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&stderr).unwrap())
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut line = String::new();
        BufReader::new(stdout).read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .strip_prefix("wkfuzz: listening tls ")
            .unwrap_or_else(|| {
                panic!(
                    "unexpected first line {line:?}: {}",
                    std::fs::read_to_string(&stderr).unwrap_or_default()
                )
            })
            .parse()
            .unwrap();
        Proc {
            child,
            addr,
            stderr,
        }
    }

    fn log(&self) -> String {
        std::fs::read_to_string(&self.stderr).unwrap_or_default()
    }

    /// Sends SIGHUP and waits until the log has one more line containing `needle`.
    fn hangup_and_wait(&self, needle: &str) -> String {
        let before = self.log().matches(needle).count();
        let status = Command::new("kill")
            .args(["-HUP", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let deadline = Instant::now() + WAIT;
        loop {
            let log = self.log();
            if log.matches(needle).count() > before {
                return log;
            }
            assert!(
                Instant::now() < deadline,
                "no {needle:?} after SIGHUP: {log}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let log = self.log();
        assert!(!log.contains("panicked at"), "{log}");
    }
}

fn unique() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn os<'a>(args: &'a [&'a str]) -> Vec<&'a std::ffi::OsStr> {
    args.iter().map(std::ffi::OsStr::new).collect()
}

/// Runs `serve` expecting a start-up failure; returns its stderr.
fn start_fails(args: &[&std::ffi::OsStr]) -> String {
    let mut child = serve_command("127.0.0.1:0", args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + WAIT;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("serve {args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        !status.success(),
        "serve {args:?} started: {stdout}{stderr}"
    );
    assert!(
        !stderr.contains("panicked at") && !stdout.contains("panicked at"),
        "{stderr}"
    );
    stderr
}

#[test]
fn start_up_refuses_every_bad_file_with_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pki = Pki::new(d);
    let good = pki.server("good", &rcgen::PKCS_ECDSA_P256_SHA256, &["localhost"]);
    let other = pki.server("other", &rcgen::PKCS_ECDSA_P256_SHA256, &["localhost"]);
    let write = |name: &str, bytes: &[u8]| {
        let p = d.join(name);
        std::fs::write(&p, bytes).unwrap();
        p
    };
    let cert_pem = std::fs::read(&good.cert).unwrap();
    let key_pem = std::fs::read(&good.key).unwrap();
    let empty = write("empty.pem", b"");
    let garbage = write("garbage.pem", b"this is not a certificate\n");
    let truncated = write("truncated.pem", &cert_pem[..cert_pem.len() / 2]);
    let der = write("cert.der", good.der.as_ref());
    let encrypted = d.join("encrypted.key");
    let out = Command::new("openssl")
        .args(["pkcs8", "-topk8", "-passout", "pass:secret", "-in"])
        .arg(&good.key)
        .arg("-out")
        .arg(&encrypted)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let cert_as_key = write("cert-as-key.pem", &cert_pem);
    let key_as_cert = write("key-as-cert.pem", &key_pem);
    let short_ticket = ticket_key_file(d, "short.key", 1, 47);
    let empty_ticket = ticket_key_file(d, "empty.key", 1, 0);
    let long_ticket = ticket_key_file(d, "long.key", 1, 81);
    let t1 = ticket_key_file(d, "t1.key", 1, 80);
    let mut same_name = std::fs::read(&t1).unwrap()[..48].to_vec();
    same_name[40] ^= 1;
    let t1_again = write("t1-again.key", &same_name);
    let missing = d.join("missing.pem");
    let config = write(
        "wkfuzz.toml",
        format!(
            "[[tls.certs]]\ncert = \"{}\"\nkey = \"{}\"\n",
            good.cert.display(),
            other.key.display()
        )
        .as_bytes(),
    );

    let cert = good.cert.to_str().unwrap();
    let key = good.key.to_str().unwrap();
    let p = |p: &PathBuf| p.to_str().unwrap().to_owned();
    // (arguments, the file the line must name, words of the problem)
    let cases: Vec<(Vec<String>, String, &str)> = vec![
        (
            vec!["--cert".into(), p(&empty), "--key".into(), key.into()],
            p(&empty),
            "file is empty",
        ),
        (
            vec!["--cert".into(), p(&garbage), "--key".into(), key.into()],
            p(&garbage),
            "not PEM",
        ),
        (
            vec!["--cert".into(), p(&truncated), "--key".into(), key.into()],
            p(&truncated),
            "malformed PEM",
        ),
        (
            vec!["--cert".into(), p(&der), "--key".into(), key.into()],
            p(&der),
            "looks like DER",
        ),
        (
            vec!["--cert".into(), p(&missing), "--key".into(), key.into()],
            p(&missing),
            "cannot read",
        ),
        (
            vec!["--cert".into(), p(&key_as_cert), "--key".into(), key.into()],
            p(&key_as_cert),
            "no certificate found",
        ),
        (
            vec![
                "--cert".into(),
                cert.into(),
                "--key".into(),
                p(&cert_as_key),
            ],
            p(&cert_as_key),
            "no private key found",
        ),
        (
            vec!["--cert".into(), cert.into(), "--key".into(), p(&other.key)],
            p(&other.key),
            "does not match",
        ),
        (
            vec!["--cert".into(), cert.into(), "--key".into(), p(&encrypted)],
            p(&encrypted),
            "encrypted private key",
        ),
        (
            vec![
                "--cert".into(),
                cert.into(),
                "--key".into(),
                key.into(),
                "--ticket-key".into(),
                p(&short_ticket),
            ],
            p(&short_ticket),
            "must be 48 or 80 bytes (nginx ssl_session_ticket_key format), got 47",
        ),
        (
            vec![
                "--cert".into(),
                cert.into(),
                "--key".into(),
                key.into(),
                "--ticket-key".into(),
                p(&empty_ticket),
            ],
            p(&empty_ticket),
            "got 0",
        ),
        (
            vec![
                "--cert".into(),
                cert.into(),
                "--key".into(),
                key.into(),
                "--ticket-key".into(),
                p(&long_ticket),
            ],
            p(&long_ticket),
            "got 81",
        ),
        (
            vec![
                "--cert".into(),
                cert.into(),
                "--key".into(),
                key.into(),
                "--ticket-key".into(),
                p(&t1),
                "--ticket-key".into(),
                p(&t1_again),
            ],
            p(&t1_again),
            "is already used by",
        ),
        (
            vec![
                "--cert".into(),
                cert.into(),
                "--key".into(),
                key.into(),
                "--ticket-key".into(),
                d.to_str().unwrap().into(),
            ],
            d.to_str().unwrap().into(),
            "cannot read",
        ),
        (
            vec![
                "--cert".into(),
                cert.into(),
                "--key".into(),
                key.into(),
                "--client-ca".into(),
                p(&garbage),
            ],
            p(&garbage),
            "not PEM",
        ),
        (
            vec![
                "--cert".into(),
                cert.into(),
                "--key".into(),
                key.into(),
                "--client-ca".into(),
                p(&key_as_cert),
            ],
            p(&key_as_cert),
            "no certificate found",
        ),
        (
            vec!["--config".into(), p(&config)],
            p(&other.key),
            "does not match",
        ),
    ];
    for (args, file, problem) in &cases {
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let stderr = start_fails(&os(&argv));
        let lines: Vec<&str> = stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{args:?}: {stderr}");
        assert!(
            lines[0].contains(&format!("{file}: ")) && lines[0].contains(problem),
            "{args:?}: {stderr}"
        );
    }
    // Not about one file, still one line.
    let stderr = start_fails(&os(&["--cert", cert, "--cert", cert, "--key", key]));
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("in pairs"), "{stderr}");
    let stderr = start_fails(&os(&[
        "--cert",
        cert,
        "--key",
        key,
        "--ticket-lifetime",
        "0",
    ]));
    assert!(stderr.contains("--ticket-lifetime must be"), "{stderr}");
}

fn tls13(pki: &Pki) -> std::sync::Arc<rustls::ClientConfig> {
    pki.client_config(&[&rustls::version::TLS13], None)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls13_resumes_after_restart_on_a_second_process_and_after_rotation() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pki = Pki::new(d);
    let pair = pki.server("server", &rcgen::PKCS_ECDSA_P256_SHA256, &["localhost"]);
    let old = ticket_key_file(d, "old.key", 7, 80);
    let new = ticket_key_file(d, "new.key", 8, 80);
    let base = [
        "--cert",
        pair.cert.to_str().unwrap(),
        "--key",
        pair.key.to_str().unwrap(),
    ];
    let with = |keys: &[&PathBuf]| {
        let mut v: Vec<String> = base.iter().map(|s| s.to_string()).collect();
        for k in keys {
            v.push("--ticket-key".into());
            v.push(k.to_str().unwrap().into());
        }
        v
    };
    let start = |keys: &[&PathBuf]| {
        let args = with(keys);
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        Proc::start(d, &os(&argv))
    };

    let config = tls13(&pki);
    let first = start(&[&old]);
    assert!(
        !handshake_once(first.addr, &config).await,
        "first contact is a full handshake"
    );
    drop(first);
    // Restart with the same key file: the ticket from before still opens.
    let restarted = start(&[&old]);
    assert!(
        handshake_once(restarted.addr, &config).await,
        "resumed after restart"
    );
    // A second process with the same key, running at the same time.
    let second = start(&[&old]);
    let config = tls13(&pki);
    assert!(!handshake_once(restarted.addr, &config).await);
    assert!(
        handshake_once(second.addr, &config).await,
        "resumed on the second process"
    );
    // Rotation: a new sealing key, the old one kept for opening.
    let rotated = start(&[&new, &old]);
    let config = tls13(&pki);
    assert!(!handshake_once(second.addr, &config).await);
    assert!(
        handshake_once(rotated.addr, &config).await,
        "rotated key still opens"
    );
    // Old key removed: a full handshake, never a failure.
    let removed = start(&[&new]);
    let config = tls13(&pki);
    assert!(!handshake_once(second.addr, &config).await);
    assert!(
        !handshake_once(removed.addr, &config).await,
        "removed key: full handshake"
    );
}

/// Runs `openssl s_client` against `addr`; returns its stdout. Stdin stays open briefly so
/// the TLS 1.3 tickets that follow the handshake are read.
fn s_client(addr: SocketAddr, version: &str, sess: (&str, &Path)) -> String {
    let mut child = Command::new("openssl")
        .args([
            "s_client",
            "-connect",
            &addr.to_string(),
            "-servername",
            "localhost",
            version,
            sess.0,
        ])
        .arg(sess.1)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(500));
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn openssl_s_client_resumes_with_sess_out_and_sess_in() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pki = Pki::new(d);
    let pair = pki.server("server", &rcgen::PKCS_ECDSA_P256_SHA256, &["localhost"]);
    let key = ticket_key_file(d, "ticket.key", 9, 48);
    let args = [
        "--cert",
        pair.cert.to_str().unwrap(),
        "--key",
        pair.key.to_str().unwrap(),
        "--ticket-key",
        key.to_str().unwrap(),
    ];
    for version in ["-tls1_3", "-tls1_2"] {
        let sess = d.join(format!("sess{version}.pem"));
        let first = Proc::start(d, &os(&args));
        let out = s_client(first.addr, version, ("-sess_out", &sess));
        assert!(out.contains("New, TLSv1."), "{version}: {out}");
        drop(first);
        // A restarted server with the same ticket key.
        let second = Proc::start(d, &os(&args));
        let out = s_client(second.addr, version, ("-sess_in", &sess));
        assert!(out.contains("Reused, TLSv1."), "{version}: {out}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sighup_reloads_and_a_bad_file_keeps_the_old_material() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let pki = Pki::new(d);
    let first = pki.server("first", &rcgen::PKCS_ECDSA_P256_SHA256, &["localhost"]);
    let second = pki.server("second", &rcgen::PKCS_ED25519, &["localhost"]);
    let (cert, key) = (d.join("live.pem"), d.join("live.key"));
    let ticket = ticket_key_file(d, "live-ticket.key", 1, 80);
    std::fs::copy(&first.cert, &cert).unwrap();
    std::fs::copy(&first.key, &key).unwrap();
    let args = [
        "--cert",
        cert.to_str().unwrap(),
        "--key",
        key.to_str().unwrap(),
        "--ticket-key",
        ticket.to_str().unwrap(),
    ];
    let server = Proc::start(d, &os(&args));
    let config = tls13(&pki);
    let (s, _) = tls_connect(server.addr, config.clone(), "localhost")
        .await
        .unwrap();
    assert_eq!(server_cert(&s), first.der);

    // New certificate and key: served after SIGHUP, without a restart.
    std::fs::copy(&second.cert, &cert).unwrap();
    std::fs::copy(&second.key, &key).unwrap();
    server.hangup_and_wait("TLS certificates and ticket keys reloaded");
    let (s, _) = tls_connect(server.addr, config.clone(), "localhost")
        .await
        .unwrap();
    assert_eq!(server_cert(&s), second.der);

    // A bad ticket key: the reload fails, says why, and the material in service stays.
    std::fs::write(&ticket, [0u8; 12]).unwrap();
    let log = server.hangup_and_wait("TLS reload failed");
    let line = log
        .lines()
        .find(|l| l.contains("TLS reload failed"))
        .unwrap();
    assert!(
        line.contains(&format!(
            "{}: session ticket key must be 48 or 80 bytes",
            ticket.display()
        )),
        "{line}"
    );
    // A key that no longer matches: same.
    std::fs::write(&ticket, [2u8; 80]).unwrap();
    std::fs::copy(&first.key, &key).unwrap();
    let log = server.hangup_and_wait("TLS reload failed");
    assert!(log.contains("does not match"), "{log}");
    let (s, _) = tls_connect(server.addr, config.clone(), "localhost")
        .await
        .unwrap();
    assert_eq!(server_cert(&s), second.der, "old material still in service");
}
