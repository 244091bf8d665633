//! `wkfuzz attack` end to end, over real sockets, with the real binary:
//! - a 30-second attack on the reference server (`wkfuzz serve`, all four transports,
//!   spawned by the attack) finds nothing, while every target got cases, every probe
//!   answered and the witnesses' messages all arrived;
//! - against a server that aborts on four bytes anywhere in a connection (and prints crash
//!   text, surviving, on four others), the attack finds both, blames the right cases among
//!   many, minimizes each to its four bytes, confirms them 3/3 and writes them as wire
//!   regressions; `--replay` reproduces the death; the reference server survives both.
//!
//! The crashing server is this test binary itself, re-run with `WKFUZZ_CRASHY_PORT` set
//! (see `crashy_server_child`).

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

const WKFUZZ: &str = env!("CARGO_BIN_EXE_wkfuzz");

/// The bytes that make the crashy server abort.
const DEATH: &[u8] = b"\xde\xad\xbe\xef";
/// The bytes that make it print a panic and carry on.
const OOPS: &[u8] = b"\x0b\xad\xc0\xde";

/// Loopback ports free right now.
fn free_ports(n: usize) -> Vec<u16> {
    let listeners: Vec<TcpListener> = (0..n)
        .map(|_| TcpListener::bind("127.0.0.1:0").unwrap())
        .collect();
    listeners
        .iter()
        .map(|l| l.local_addr().unwrap().port())
        .collect()
}

fn json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[test]
fn thirty_seconds_on_the_reference_server_find_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let p = free_ports(4);
    let serve = format!(
        "{WKFUZZ} serve --tcp 127.0.0.1:{} --tls 127.0.0.1:{} --ws 127.0.0.1:{} --wss 127.0.0.1:{} --log warn --dev-cert-dir {}",
        p[0],
        p[1],
        p[2],
        p[3],
        dir.path().display()
    );
    let report = dir.path().join("attack.json");
    let junit = dir.path().join("attack.xml");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::new(WKFUZZ)
        .current_dir(root)
        // The debug build under `cargo test` is many times slower than a release build:
        // a witness p99 of a few hundred ms under attack is the build, not the server.
        .args(["attack", "--seconds", "30", "--latency-floor-ms", "2000"])
        .args(["--spawn", &serve])
        .arg(format!("tcp://127.0.0.1:{}", p[0]))
        .arg(format!("tls://127.0.0.1:{}", p[1]))
        .arg(format!("ws://127.0.0.1:{}/", p[2]))
        .arg(format!("wss://127.0.0.1:{}/", p[3]))
        .arg("--json")
        .arg(&report)
        .arg("--junit")
        .arg(&junit)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let r = json(&report);
    assert_eq!(r["passed"], true, "{stdout}");
    assert_eq!(r["findings"].as_array().unwrap().len(), 0, "{stdout}");
    assert!(r["connections"].as_u64().unwrap() > 1_500, "{stdout}");
    for t in r["targets"].as_array().unwrap() {
        assert!(t["cases"].as_u64().unwrap() > 100, "{t}");
        assert!(t["committed"].as_u64().unwrap() > 100, "{t}");
        assert!(t["probes_ok"].as_u64().unwrap() > 10, "{t}");
        assert_eq!(t["probes_failed"], 0, "{t}");
    }
    let w = &r["witnesses"];
    assert!(w["sent"].as_u64().unwrap() > 100, "{w}");
    assert_eq!(w["sent"], w["delivered"], "{w}");
    assert_eq!(r["starts"], 1, "the server never had to be restarted");
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(xml.contains("failures=\"0\""), "{xml}");
    assert!(xml.contains("name=\"death\""), "{xml}");
    assert!(stdout.contains("attack: PASS"), "{stdout}");
    eprintln!("{stdout}");
}

/// A wire regression file pair whose bytes carry `trigger` amid filler.
fn seed_regression(dir: &Path, name: &str, trigger: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    let mut bytes: Vec<u8> = (0..120u8).map(|i| i.wrapping_mul(7) | 1).collect();
    bytes.splice(60..60, trigger.iter().copied());
    std::fs::write(dir.join(format!("{name}.bin")), &bytes).unwrap();
    std::fs::write(
        dir.join(format!("{name}.toml")),
        format!(
            "kind = \"app\"\nprotocol = \"raw\"\ntransport = \"tcp\"\ntitle = \"{name}\"\n\
             symptom = \"seed\"\nsignature = \"{name}\"\nevidence = \"\"\ndate = \"2026-12-01\"\n\
             source = \"tests/attack.rs\"\n"
        ),
    )
    .unwrap();
}

#[test]
fn deaths_and_crash_text_are_found_blamed_minimized_and_kept() {
    let dir = tempfile::tempdir().unwrap();
    let regs = dir.path().join("regressions");
    let wire = regs.join("wire");
    // Forty harmless committed cases and the two triggers, among fresh and mutated ones.
    for i in 0..40u8 {
        seed_regression(&wire, &format!("harmless-{i:02}"), &[i, i, i]);
    }
    seed_regression(&wire, "kills", DEATH);
    seed_regression(&wire, "prints", OOPS);
    let port = free_ports(1)[0];
    let me = std::env::current_exe().unwrap();
    let crashy = format!(
        "{} crashy_server_child --exact --nocapture --test-threads 1",
        me.display()
    );
    let report = dir.path().join("attack.json");
    let out = Command::new(WKFUZZ)
        .env("WKFUZZ_CRASHY_PORT", port.to_string())
        .args([
            "attack",
            "--protocol",
            "raw",
            "--seconds",
            "60",
            "--max-findings",
            "2",
        ])
        .args(["--cases", "regressions,fresh,mutate", "--settle-ms", "300"])
        .arg("--regressions")
        .arg(&regs)
        .arg("--corpus")
        .arg(dir.path().join("no-corpus"))
        .args(["--spawn", &crashy])
        .arg(format!("tcp://127.0.0.1:{port}"))
        .arg("--json")
        .arg(&report)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    let r = json(&report);
    let findings = r["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 2, "{stdout}");
    let by = |oracle: &str| {
        findings
            .iter()
            .find(|f| f["oracle"] == oracle)
            .unwrap_or_else(|| panic!("no {oracle} finding:\n{stdout}"))
    };
    let death = by("death");
    assert_eq!(
        death["signature"], "killed by signal 6 (SIGABRT); go panic: crashy server: dead beef",
        "{stdout}"
    );
    let crash = by("crash-text");
    assert_eq!(
        crash["signature"], "go panic: crashy server: bad code",
        "{stdout}"
    );
    for (f, trigger) in [(death, DEATH), (crash, OOPS)] {
        let c = &f["culprit"];
        assert_eq!(c["minimized_size"], 4, "{f}");
        // The committed case (124 bytes) or one of its mutants.
        assert!(c["original_size"].as_u64().unwrap() > 4, "{f}");
        assert_eq!(c["reproduced"], 3, "{f}");
        let bin = PathBuf::from(f["regression"].as_str().unwrap());
        assert_eq!(std::fs::read(&bin).unwrap(), trigger, "{}", bin.display());
        assert!(bin.starts_with(&wire));
        let reg = wkfuzz::attack::regression::load(&bin).unwrap();
        assert_eq!(reg.meta.symptom, f["oracle"].as_str().unwrap());
        // A crash in someone else's server is a test for ours: the reference survives.
        wkfuzz::attack::replay::check(&reg).unwrap();
    }
    assert!(r["starts"].as_u64().unwrap() > 3, "restarted between tries");

    // --replay reproduces the death against a fresh crashy server, every time.
    let bin = death["regression"].as_str().unwrap();
    let out = Command::new(WKFUZZ)
        .env("WKFUZZ_CRASHY_PORT", port.to_string())
        .args([
            "attack",
            "--protocol",
            "raw",
            "--replay",
            bin,
            "--spawn",
            &crashy,
        ])
        .arg(format!("tcp://127.0.0.1:{port}"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("reproduced 3/3"), "{stdout}");
}

/// Not a test on its own: the crashy server, when this binary is re-run with
/// `WKFUZZ_CRASHY_PORT`. Each connection is read to its end; four bytes anywhere abort
/// the process (after a Go-style panic line), four others print one and carry on.
#[test]
fn crashy_server_child() {
    let Ok(port) = std::env::var("WKFUZZ_CRASHY_PORT") else {
        return;
    };
    let listener = TcpListener::bind(format!("127.0.0.1:{port}")).unwrap();
    for stream in listener.incoming() {
        let Ok(mut stream) = stream else { continue };
        std::thread::spawn(move || {
            stream.set_read_timeout(Some(Duration::from_secs(2))).ok();
            let mut data = Vec::new();
            let mut buf = [0u8; 4096];
            while let Ok(n) = stream.read(&mut buf) {
                if n == 0 {
                    break;
                }
                data.extend_from_slice(&buf[..n]);
            }
            if data.windows(4).any(|w| w == DEATH) {
                eprintln!("panic: crashy server: dead beef");
                std::process::abort();
            }
            if data.windows(4).any(|w| w == OOPS) {
                eprintln!("panic: crashy server: bad code");
            }
            let _ = stream.write_all(b"ok");
            let _ = close(stream);
        });
    }
}

fn close(stream: TcpStream) -> std::io::Result<()> {
    stream.shutdown(std::net::Shutdown::Both)
}
