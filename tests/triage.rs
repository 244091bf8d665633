//! The triage pipeline end to end, on the `selftest` target's two planted bugs: repro exits 1
//! with the signature; one bug gives one signature whatever the input, two bugs give two;
//! promote writes three files with a smaller input and refuses a duplicate; the gate fails
//! naming the regression and passes once the bug is fixed.

use std::path::Path;
use std::process::{Command, Output};
use wkfuzz::targets::Target;
use wkfuzz::triage::capture::run_caught;

/// The registered target called `name`.
fn target(name: &str) -> Target {
    Target::from_name(name).expect("registered target")
}

fn wkfuzz(dir: &Path, args: &[&str], fixed: bool) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_wkfuzz"));
    cmd.current_dir(dir).args(args).env_remove("RUST_LOG");
    if fixed {
        cmd.env("WKFUZZ_SELFTEST_FIXED", "1");
    } else {
        cmd.env_remove("WKFUZZ_SELFTEST_FIXED");
    }
    cmd.output().expect("wkfuzz runs")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn one_bug_one_signature_two_bugs_two() {
    let a = run_caught(target("selftest"), b"xxBUG1").unwrap_err();
    let b = run_caught(
        target("selftest"),
        b"a much longer input with BUG1 in the middle",
    )
    .unwrap_err();
    let c = run_caught(target("selftest"), b"BUG2").unwrap_err();
    assert_ne!(a.message, b.message, "the raw messages differ (numbers)");
    assert_eq!(a.signature, b.signature);
    assert_ne!(a.signature, c.signature);
    assert!(
        a.signature.0.contains("wkfuzz::targets::selftest::bug_one"),
        "{}",
        a.signature
    );
    assert!(
        c.signature.0.contains("wkfuzz::targets::selftest::bug_two"),
        "{}",
        c.signature
    );
    assert!(run_caught(target("selftest"), b"fine").is_ok());
}

#[test]
fn repro_promote_gate_fix_gate() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::create_dir_all(d.join("corpus/selftest")).unwrap();
    std::fs::write(d.join("corpus/selftest/seed"), b"harmless").unwrap();
    let crash =
        "hex:".to_owned() + &hex::encode(b"0123456789 padding BUG1 more padding 0123456789");

    // repro: exit 1, prints the signature.
    let out = wkfuzz(d, &["repro", "--target", "selftest", &crash], false);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("signature: index out of bounds: the len is N but the index is N @ wkfuzz::targets::selftest::bug_one"), "{}", text(&out));

    // promote: three files, smaller input, also a corpus seed.
    let out = wkfuzz(
        d,
        &[
            "promote",
            &crash,
            "--target",
            "selftest",
            "--title",
            "Selftest bug one",
            "--minimizer",
            "builtin",
        ],
        false,
    );
    assert!(out.status.success(), "{}", text(&out));
    let bin = d.join("regressions/selftest/selftest-bug-one.bin");
    for ext in ["bin", "toml", "txt"] {
        assert!(
            bin.with_extension(ext).exists(),
            "missing .{ext}: {}",
            text(&out)
        );
    }
    let minimized = std::fs::read(&bin).unwrap();
    assert!(
        minimized.len() < 47 && minimized.windows(4).any(|w| w == b"BUG1"),
        "{minimized:?}"
    );
    let meta = std::fs::read_to_string(bin.with_extension("toml")).unwrap();
    assert!(
        meta.contains("target = \"selftest\"")
            && meta.contains("bug_one")
            && meta.contains("expect = \"no-panic\""),
        "{meta}"
    );
    assert_eq!(
        std::fs::read_dir(d.join("corpus/selftest"))
            .unwrap()
            .count(),
        2,
        "the input became a seed too"
    );

    // A second input for the same bug is refused, naming the regression.
    let out = wkfuzz(
        d,
        &[
            "promote",
            "hex:42554731",
            "--target",
            "selftest",
            "--title",
            "again",
            "--minimizer",
            "none",
        ],
        false,
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("selftest-bug-one"), "{}", text(&out));

    // The gate fails, naming the regression file and how to reproduce it.
    let out = wkfuzz(
        d,
        &[
            "gate",
            "--target",
            "selftest",
            "--junit",
            "junit.xml",
            "--json",
            "gate.json",
        ],
        false,
    );
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("regressions/selftest/selftest-bug-one.bin"),
        "{}",
        text(&out)
    );
    assert!(
        text(&out).contains("reproduce: wkfuzz repro"),
        "{}",
        text(&out)
    );
    let junit = std::fs::read_to_string(d.join("junit.xml")).unwrap();
    assert!(
        junit.contains("<failure") && junit.contains("selftest-bug-one.bin"),
        "{junit}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(d.join("gate.json")).unwrap()).unwrap();
    assert_eq!(json["passed"], false);
    // The regression and its copy in the corpus.
    assert_eq!(json["failures"].as_array().map(Vec::len), Some(2), "{json}");

    // After the fix the gate passes.
    let out = wkfuzz(d, &["gate", "--target", "selftest"], true);
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("gate: PASS"), "{}", text(&out));
}

#[test]
fn target_comes_from_the_path() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().join("fuzz/artifacts/proxy");
    std::fs::create_dir_all(&d).unwrap();
    std::fs::write(d.join("crash-1"), b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n").unwrap();
    let out = wkfuzz(
        dir.path(),
        &["repro", "fuzz/artifacts/proxy/crash-1"],
        false,
    );
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        text(&out).contains("target:  proxy") && text(&out).contains("does not reproduce"),
        "{}",
        text(&out)
    );
}

/// `promote`'s default minimizer when cargo-fuzz is installed: `cargo fuzz tmin` on the
/// target's libFuzzer binary (here fuzz/selftest/selftest.rs), then the signature is checked in-process before anything is kept.
/// Runs from the checkout (tmin needs fuzz/), writing regressions and corpus to a temp dir.
/// ci/test.sh installs cargo-fuzz.
#[test]
fn promote_minimizes_with_cargo_fuzz_tmin() {
    let installed = Command::new("cargo")
        .args(["fuzz", "--version"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        installed,
        "cargo-fuzz is not installed: `cargo install cargo-fuzz --locked` (ci/test.sh does it)"
    );
    let out_dir = tempfile::tempdir().unwrap();
    let crash = out_dir.path().join("crash");
    let padded = b"a header of no interest, BUG1, and a long tail of no interest either";
    std::fs::write(&crash, padded).unwrap();
    let regressions = out_dir.path().join("regressions");
    let corpus = out_dir.path().join("corpus");
    let out = wkfuzz(
        Path::new(env!("CARGO_MANIFEST_DIR")),
        &[
            "promote",
            crash.to_str().unwrap(),
            "--target",
            "selftest",
            "--title",
            "selftest bug one",
            "--minimizer",
            "cargo-fuzz",
            "--regressions",
            regressions.to_str().unwrap(),
            "--corpus",
            corpus.to_str().unwrap(),
        ],
        false,
    );
    let log = text(&out);
    assert_eq!(out.status.code(), Some(0), "{log}");
    assert!(log.contains("minimizer: cargo fuzz tmin\n"), "{log}");
    let kept = std::fs::read(regressions.join("selftest/selftest-bug-one.bin")).unwrap();
    // libFuzzer's minimizer keeps a crashing input with fewer bytes; the crash needs "BUG1".
    assert!(kept.len() < padded.len(), "{kept:?}");
    assert!(kept.windows(4).any(|w| w == b"BUG1"), "{kept:?}");
    let caught = run_caught(target("selftest"), &kept).expect_err("the kept input crashes");
    assert!(
        caught.signature.0.contains("selftest::bug_one"),
        "{}",
        caught.signature.0
    );
}
