//! `wkfuzz coverage` end to end on one small target: the real instrumented build (into
//! `target/coverage`, shared with `wkfuzz coverage` runs), a corpus of PROXY v1 headers
//! only, and what the report must then say: the v1 parser executed, the v2 parser listed as
//! unreached, the transport module reached by `proxy` alone, an lcov file naming the
//! source, and `--min-coverage` failing above what was reached.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn wkfuzz(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_wkfuzz"))
        .current_dir(root())
        .args(args)
        .output()
        .expect("run wkfuzz")
}

/// The PROXY parser's source, wherever the transport code lives now.
fn proxy_source() -> (String, String) {
    for rel in ["src/transport/proxy.rs", "src/net/proxy.rs"] {
        if let Ok(text) = std::fs::read_to_string(root().join(rel)) {
            return (rel.to_owned(), text);
        }
    }
    panic!("no proxy.rs under src/transport or src/net");
}

/// The 1-based line of the first line of `text` starting with `prefix`.
fn line_of(text: &str, prefix: &str) -> u32 {
    let i = text
        .lines()
        .position(|l| l.starts_with(prefix))
        .unwrap_or_else(|| panic!("no line starting with {prefix:?}"));
    u32::try_from(i + 1).unwrap()
}

/// Whether `line` of `file` lies in one of the `file:first-last` ranges.
fn unreached(list: &str, file: &str, line: u32) -> bool {
    list.lines().any(|l| {
        let Some(range) = l.strip_prefix(file).and_then(|r| r.strip_prefix(':')) else {
            return false;
        };
        let (a, b) = range.split_once('-').unwrap_or((range, range));
        (a.parse::<u32>().unwrap()..=b.parse::<u32>().unwrap()).contains(&line)
    })
}

#[test]
fn proxy_v1_corpus_reaches_v1_and_reports_v2_as_unreached() {
    let dir = tempfile::tempdir().unwrap();
    let corpus = dir.path().join("corpus");
    for header in [
        &b"PROXY TCP4 192.0.2.1 198.51.100.2 5000 443\r\n"[..],
        b"PROXY TCP6 2001:db8::1 2001:db8::2 5000 443\r\nrest",
        b"PROXY UNKNOWN\r\n",
    ] {
        wkfuzz::targets::corpus::add(&corpus.join("proxy"), header).unwrap();
    }
    let out = dir.path().join("report");
    let s = |p: &Path| p.to_str().unwrap().to_owned();
    let args = [
        "coverage",
        "proxy",
        "--corpus",
        &s(&corpus),
        "--regressions",
        &s(&dir.path().join("none")),
        "--out",
        &s(&out),
    ];
    let run = wkfuzz(&args);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );

    let (file, source) = proxy_source();
    let v1 = line_of(&source, "fn parse_v1(");
    let v2 = line_of(&source, "fn parse_v2(");
    let list = std::fs::read_to_string(out.join("unreached.txt")).unwrap();
    assert!(unreached(&list, &file, v2), "v2 parser not listed:\n{list}");
    assert!(!unreached(&list, &file, v1), "v1 parser listed:\n{list}");

    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["targets"][0]["target"], "proxy");
    assert_eq!(summary["targets"][0]["inputs"], 3);
    let modules = summary["modules"].as_array().unwrap();
    let transport = modules.iter().find(|m| m["name"] == "transport").unwrap();
    let reached: Vec<&str> = transport["reached_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["target"].as_str().unwrap())
        .collect();
    assert_eq!(reached, ["proxy"]);
    let session = modules.iter().find(|m| m["name"] == "session").unwrap();
    assert_eq!(
        session["totals"]["lines"]["covered"], 0,
        "proxy reaches no session code"
    );
    assert!(stdout.contains("transport"), "{stdout}");

    let lcov = std::fs::read_to_string(out.join("lcov.info")).unwrap();
    let record = lcov
        .split("end_of_record")
        .find(|r| r.contains(&format!("SF:{file}\n")))
        .expect("the parser's file in lcov.info");
    assert!(record.contains(&format!("DA:{v1},")), "{record}");
    assert!(!record.contains(&format!("DA:{v1},0\n")));
    assert!(record.contains(&format!("DA:{v2},0\n")));
    let index = std::fs::read_to_string(out.join("index.html")).unwrap();
    assert!(index.contains("id=\"coverage-modules\""));
    assert!(out.join("html/index.html").exists());

    // The same measurement against thresholds, reusing the build: transport is far below
    // 99% with v1 headers only, so the run fails and says why.
    let mut strict = args.to_vec();
    strict.extend([
        "--no-build",
        "--no-html",
        "--min-coverage",
        "transport=99",
        "--min-coverage",
        "0",
    ]);
    let run = wkfuzz(&strict);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert_eq!(run.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("coverage below the minimum: transport:"),
        "{stdout}"
    );
    assert!(!stdout.contains("minimum: all"), "{stdout}");
}
