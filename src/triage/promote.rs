//! Promotion: a crash input becomes a named regression (and a corpus seed), the steps
//! behind `wkfuzz promote`:
//! 1. [`signature_to_keep`]: the input must crash (or, for a bug already fixed, the
//!    signature of the original report is taken as given);
//! 2. [`ensure_new`]: no regression of the target has that signature yet;
//! 3. [`minimize`]: `cargo fuzz tmin` (the build `cargo fuzz run` uses) or the built-in
//!    ddmin, either way keeping the signature;
//! 4. [`keep`]: `regressions/<target>/<slug>.{bin,toml,txt}` and `corpus/<target>/<sha1>`.

use super::capture::{run_caught, Crash};
use super::fuzz::cargo_fuzz_installed;
use super::minimize::ddmin;
use super::regression::{self, Meta, RegressionError};
use super::signature::Signature;
use crate::targets::{corpus, Target};
use std::path::{Path, PathBuf};
use std::process::Command;

/// How to minimize.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Minimizer {
    /// `cargo fuzz tmin` when cargo-fuzz is installed, else builtin.
    Auto,
    /// The built-in delta-debugging minimizer (stable Rust, keeps the signature).
    Builtin,
    /// `cargo fuzz tmin` (builds the fuzz target).
    CargoFuzz,
    /// Keep the input as it is.
    None,
}

/// Why an input cannot be promoted.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PromoteError {
    /// The input runs cleanly and no signature of a fixed bug was given.
    #[error(
        "the input does not crash {target} (outcome: {outcome}); nothing to promote \
         (for a bug already fixed, pass --fixed --signature \"...\")"
    )]
    NoCrash {
        /// The target.
        target: Target,
        /// What the target made of the input.
        outcome: String,
    },
    /// A regression with the same signature exists.
    #[error("already covered by regression {slug} ({}): same signature", bin.display())]
    Duplicate {
        /// Its slug.
        slug: String,
        /// Its `.bin`.
        bin: PathBuf,
    },
    /// The regressions cannot be read or written.
    #[error(transparent)]
    Regression(#[from] RegressionError),
    /// The corpus seed cannot be written.
    #[error("{}: {source}", path.display())]
    Corpus {
        /// The corpus directory.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
}

/// The signature a promotion keeps, and the crash it came from.
#[derive(Debug)]
pub struct Found {
    /// The crash the input causes now (`None` for a bug already fixed).
    pub crash: Option<Crash>,
    /// The signature to keep.
    pub signature: Signature,
}

/// Runs `data` through `target`: a crash gives its signature; a clean run is an error
/// unless `fixed` carries the signature of the original report.
///
/// # Errors
/// [`PromoteError::NoCrash`].
pub fn signature_to_keep(
    target: Target,
    data: &[u8],
    fixed: Option<&str>,
) -> Result<Found, PromoteError> {
    match (run_caught(target, data), fixed) {
        (Err(crash), _) => Ok(Found {
            signature: crash.signature.clone(),
            crash: Some(crash),
        }),
        (Ok(_), Some(sig)) => Ok(Found {
            crash: None,
            signature: Signature(sig.to_owned()),
        }),
        (Ok(outcome), None) => Err(PromoteError::NoCrash {
            target,
            outcome: outcome.to_string(),
        }),
    }
}

/// Refuses a signature a regression of `target` under `regressions` already has.
///
/// # Errors
/// [`PromoteError::Duplicate`] naming it, or the regressions' read error.
pub fn ensure_new(
    regressions: &Path,
    target: Target,
    signature: &Signature,
) -> Result<(), PromoteError> {
    let existing = regression::load_all(regressions)?;
    match regression::find_duplicate(&existing, target, signature) {
        Some(dup) => Err(PromoteError::Duplicate {
            slug: dup.slug.clone(),
            bin: dup.bin.clone(),
        }),
        None => Ok(()),
    }
}

/// Minimizes `data` keeping the crash signature `want`. Returns the smaller input and one
/// line per step saying which minimizer ran (and why `cargo fuzz tmin` was not used).
pub fn minimize(
    target: Target,
    data: &[u8],
    want: &Signature,
    minimizer: Minimizer,
) -> (Vec<u8>, Vec<String>) {
    let use_cargo_fuzz = match minimizer {
        Minimizer::None => return (data.to_vec(), Vec::new()),
        Minimizer::Builtin => false,
        Minimizer::CargoFuzz => true,
        Minimizer::Auto => cargo_fuzz_installed() && Path::new("fuzz/Cargo.toml").exists(),
    };
    let mut notes = Vec::new();
    if use_cargo_fuzz {
        match cargo_fuzz_tmin(target, data) {
            Ok(small) if matches!(run_caught(target, &small), Err(c) if &c.signature == want) => {
                notes.push("minimizer: cargo fuzz tmin".to_owned());
                return (small, notes);
            }
            Ok(_) => notes.push(
                "minimizer: cargo fuzz tmin changed the signature; using the built-in minimizer"
                    .to_owned(),
            ),
            Err(e) => notes.push(format!(
                "minimizer: cargo fuzz tmin failed ({e}); using the built-in minimizer"
            )),
        }
    }
    let (small, runs) = ddmin(target, data, want);
    notes.push(format!("minimizer: built-in ddmin, {runs} runs"));
    (small, notes)
}

/// The metadata of a regression promoted today.
pub fn crash_meta(target: Target, title: &str, signature: &Signature, source: &str) -> Meta {
    Meta {
        target: target.name().to_owned(),
        title: title.to_owned(),
        signature: signature.0.clone(),
        date: super::regression::today(),
        source: source.to_owned(),
        expect: "no-panic".into(),
        outcome: None,
    }
}

/// Where [`keep`] put the input.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kept {
    /// `regressions/<target>/<slug>.bin` (the `.toml` and `.txt` sit beside it).
    pub bin: PathBuf,
    /// The corpus seed.
    pub seed: PathBuf,
}

/// Writes the regression under `regressions` and adds `data` to `corpus/<target>/`.
///
/// # Errors
/// The first file that cannot be written.
pub fn keep(
    regressions: &Path,
    corpus_root: &Path,
    target: Target,
    meta: &Meta,
    data: &[u8],
) -> Result<Kept, PromoteError> {
    let bin = regression::write(regressions, target, meta, data)?;
    let dir = corpus_root.join(target.name());
    let (seed, _) = corpus::add(&dir, data).map_err(|source| PromoteError::Corpus {
        path: dir.clone(),
        source,
    })?;
    Ok(Kept { bin, seed })
}

/// Why `cargo fuzz tmin` gave no input.
#[derive(Debug, thiserror::Error)]
enum TminError {
    #[error("{what}: {source}")]
    Io {
        what: &'static str,
        source: std::io::Error,
    },
    #[error("cargo fuzz tmin printed no minimized file")]
    NoArtifact,
}

fn cargo_fuzz_tmin(target: Target, data: &[u8]) -> Result<Vec<u8>, TminError> {
    let io = |what| move |source| TminError::Io { what, source };
    let dir = tempfile::tempdir().map_err(io("creating a temp dir"))?;
    let crash = dir.path().join("crash");
    std::fs::write(&crash, data).map_err(io("writing the input"))?;
    let out = Command::new("cargo")
        .args(["fuzz", "tmin", "-O", "-s", "none", target.name()])
        .arg(&crash)
        .args(["--", "-runs=2000"])
        .output()
        .map_err(io("running cargo fuzz tmin"))?;
    let log = String::from_utf8_lossy(&out.stderr);
    let path = minimized_artifact(&log).ok_or(TminError::NoArtifact)?;
    std::fs::read(path).map_err(io("reading the minimized file"))
}

/// The file `cargo fuzz tmin` says it minimized to: the line after "Minimized artifact:"
/// (cargo-fuzz 0.13), else the last `minimized-from-` file libFuzzer wrote.
fn minimized_artifact(log: &str) -> Option<&str> {
    let mut lines = log.lines().map(str::trim);
    if lines.by_ref().any(|l| l == "Minimized artifact:") {
        if let Some(path) = lines.find(|l| !l.is_empty()) {
            return Some(path);
        }
    }
    log.lines()
        .rev()
        .find_map(|l| l.split_whitespace().find(|w| w.contains("minimized-from-")))
        .map(|w| w.trim_matches(|c| c == '"' || c == '\'' || c == ','))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn selftest() -> Target {
        Target::from_name("selftest").unwrap()
    }

    #[test]
    fn finds_the_minimized_artifact_in_cargo_fuzz_tmin_output() {
        // The end of a real `cargo fuzz tmin` log (cargo-fuzz 0.13.2).
        let log = "CRASH_MIN: failed to minimize beyond /w/fuzz/artifacts/t/minimized-from-1c09 (4 bytes), exiting\n\
            \n\
            Minimized artifact:\n\
            \n\
            \tfuzz/artifacts/t/minimized-from-1c09\n\
            \n\
            Reproduce with:\n";
        assert_eq!(
            minimized_artifact(log),
            Some("fuzz/artifacts/t/minimized-from-1c09")
        );
        // Without cargo-fuzz's summary: the last file libFuzzer names.
        let bare = "Test unit written to /a/minimized-from-aa\n\
            CRASH_MIN: failed to minimize beyond /a/minimized-from-bb (4 bytes), exiting\n";
        assert_eq!(minimized_artifact(bare), Some("/a/minimized-from-bb"));
        assert_eq!(minimized_artifact("no crash\n"), None);
    }

    #[test]
    fn dates_are_utc_calendar_days() {
        assert_eq!(super::super::regression::civil_date(0), "1970-01-01");
        assert_eq!(super::super::regression::civil_date(59), "1970-03-01");
        assert_eq!(super::super::regression::civil_date(11_016), "2000-02-29");
        assert_eq!(super::super::regression::civil_date(19_723), "2024-01-01");
        assert_eq!(super::super::regression::civil_date(20_788), "2026-12-01");
    }

    #[test]
    fn a_clean_input_is_promoted_only_as_a_fixed_bug() {
        let err = signature_to_keep(selftest(), b"fine", None).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("the input does not crash selftest (outcome: "),
            "{err}"
        );
        let found = signature_to_keep(selftest(), b"fine", Some("old @ f")).unwrap();
        assert!(found.crash.is_none());
        assert_eq!(found.signature, Signature("old @ f".into()));
        // A crash wins over a given signature.
        let found = signature_to_keep(selftest(), b"xxBUG1", Some("old @ f")).unwrap();
        let crash = found.crash.unwrap();
        assert_eq!(found.signature, crash.signature);
        assert!(
            crash.signature.0.contains("selftest::bug_one"),
            "{}",
            crash.signature
        );
    }

    #[test]
    fn keep_writes_the_regression_and_the_seed_and_a_second_is_a_duplicate() {
        let dir = tempfile::tempdir().unwrap();
        let (regs, corpus) = (dir.path().join("regressions"), dir.path().join("corpus"));
        let found = signature_to_keep(selftest(), b"BUG2", None).unwrap();
        ensure_new(&regs, selftest(), &found.signature).unwrap();
        let (small, notes) = minimize(
            selftest(),
            b"..BUG2..",
            &found.signature,
            Minimizer::Builtin,
        );
        assert_eq!(small, b"BUG2");
        assert_eq!(notes.len(), 1);
        assert!(
            notes[0].starts_with("minimizer: built-in ddmin, "),
            "{notes:?}"
        );
        let meta = crash_meta(selftest(), "Bug two", &found.signature, "hex:42");
        assert_eq!((meta.expect.as_str(), meta.date.len()), ("no-panic", 10));
        let kept = keep(&regs, &corpus, selftest(), &meta, &small).unwrap();
        assert_eq!(kept.bin, regs.join("selftest/bug-two.bin"));
        assert_eq!(std::fs::read(&kept.bin).unwrap(), b"BUG2");
        assert_eq!(kept.seed.parent(), Some(corpus.join("selftest").as_path()));
        assert_eq!(std::fs::read(&kept.seed).unwrap(), b"BUG2");
        let err = ensure_new(&regs, selftest(), &found.signature).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "already covered by regression bug-two ({}): same signature",
                kept.bin.display()
            )
        );
        // Minimizer::None keeps the input as it is.
        let (same, notes) = minimize(selftest(), b"..BUG2..", &found.signature, Minimizer::None);
        assert_eq!((same.as_slice(), notes.len()), (&b"..BUG2.."[..], 0));
    }
}
