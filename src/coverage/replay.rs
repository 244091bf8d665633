//! The step that runs inside the instrumented binary: one target's corpus and regressions
//! through the release gate (so through `Target::run`, exactly as `wkfuzz gate` replays
//! them). The profile runtime writes the counters when the process exits.

use crate::targets::Target;
use crate::triage::gate::{run_gate, GateConfig, GateError};
use std::path::PathBuf;

/// The line the replay prints for the parent: `REPLAYED <inputs> <failed>`.
const TAG: &str = "REPLAYED";

/// Replays `target`'s inputs; returns (inputs, failed) and prints both on stdout.
pub fn replay(
    target: Target,
    corpus: PathBuf,
    regressions: PathBuf,
    jobs: usize,
) -> Result<(usize, usize), GateError> {
    let config = GateConfig {
        corpus,
        regressions,
        targets: vec![target],
        jobs: jobs.max(1),
        ..GateConfig::default()
    };
    let report = run_gate(&config, &|_, _| {})?;
    let failed = report.failures().count();
    for f in report.failures() {
        eprintln!(
            "{}: {}: {}",
            target,
            f.path.display(),
            f.failure.as_deref().unwrap_or("")
        );
    }
    println!("{TAG} {} {failed}", report.results.len());
    Ok((report.results.len(), failed))
}

/// Reads the counts back from the replay's stdout.
pub fn parse_replayed(stdout: &str) -> Option<(usize, usize)> {
    let line = stdout.lines().rev().find_map(|l| l.strip_prefix(TAG))?;
    let mut words = line.split_whitespace().map(|w| w.parse::<usize>().ok());
    Some((words.next()??, words.next()??))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_round_trip_through_stdout() {
        assert_eq!(parse_replayed("noise\nREPLAYED 12 1\n"), Some((12, 1)));
        assert_eq!(parse_replayed("REPLAYED x 1\n"), None);
        assert_eq!(parse_replayed(""), None);
    }

    #[test]
    fn replays_a_corpus_through_the_gate() {
        let dir = tempfile::tempdir().unwrap();
        let corpus = dir.path().join("corpus");
        crate::targets::corpus::add(&corpus.join("proxy"), b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n")
            .unwrap();
        crate::targets::corpus::add(&corpus.join("proxy"), b"\r\n").unwrap();
        let (inputs, failed) = replay(
            Target::from_name("proxy").unwrap(),
            corpus,
            dir.path().join("none"),
            1,
        )
        .unwrap();
        assert_eq!((inputs, failed), (2, 0));
    }
}
