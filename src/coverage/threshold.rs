//! `--min-coverage`: the line coverage CI requires, overall or per module, so a change that
//! makes the corpus reach less fails.
//!
//! Forms: `85` or `all=85` (every reported file), `peer=85` (the peer-input modules
//! together), `session=90` (one module of [`super::modules`]).

use super::modules;
use super::summary::{CoverageSummary, Totals};
use super::CoverageError;
use std::str::FromStr;

/// What a threshold applies to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Every reported file.
    All,
    /// The peer-input modules together.
    Peer,
    /// One module, by name.
    Module(String),
}

/// One `--min-coverage` value.
#[derive(Clone, Debug, PartialEq)]
pub struct MinCoverage {
    /// What it applies to.
    pub scope: Scope,
    /// Required line coverage, percent.
    pub percent: f64,
}

impl FromStr for MinCoverage {
    type Err = CoverageError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (scope, pct) = match s.split_once('=') {
            None => (Scope::All, s),
            Some(("all", p)) => (Scope::All, p),
            Some(("peer", p)) => (Scope::Peer, p),
            Some((m, p)) if modules::names().contains(&m) => (Scope::Module(m.to_owned()), p),
            Some((m, _)) => {
                return Err(CoverageError::Invalid(format!(
                    "--min-coverage {s}: no module {m:?} (modules: all, peer, {})",
                    modules::names().join(", ")
                )))
            }
        };
        let percent: f64 = pct.trim().trim_end_matches('%').parse().map_err(|_| {
            CoverageError::Invalid(format!("--min-coverage {s}: {pct:?} is not a percentage"))
        })?;
        if !(0.0..=100.0).contains(&percent) {
            return Err(CoverageError::Invalid(format!(
                "--min-coverage {s}: {percent} is not between 0 and 100"
            )));
        }
        Ok(MinCoverage { scope, percent })
    }
}

impl MinCoverage {
    fn name(&self) -> &str {
        match &self.scope {
            Scope::All => "all",
            Scope::Peer => "peer",
            Scope::Module(m) => m,
        }
    }

    fn totals(&self, summary: &CoverageSummary) -> Option<Totals> {
        match &self.scope {
            Scope::All => Some(summary.all),
            Scope::Peer => Some(summary.peer),
            Scope::Module(m) => summary
                .modules
                .iter()
                .find(|r| &r.name == m)
                .map(|r| r.totals),
        }
    }
}

/// One sentence per threshold the summary misses (empty: all met). A module with no
/// instrumented file misses every threshold on it: its code is gone from the report.
pub fn check(summary: &CoverageSummary, mins: &[MinCoverage]) -> Vec<String> {
    let mut misses = Vec::new();
    for min in mins {
        match min.totals(summary) {
            None => misses.push(format!(
                "{}: no instrumented code found (required {:.1}% of lines)",
                min.name(),
                min.percent
            )),
            Some(t) if t.lines.percent() + 1e-9 < min.percent => misses.push(format!(
                "{}: {:.2}% of lines ({}/{}) is below the required {:.1}%",
                min.name(),
                t.lines.percent(),
                t.lines.covered,
                t.lines.count,
                min.percent
            )),
            Some(_) => {}
        }
    }
    misses
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coverage::summary::{summarize, Count, FileCov};
    use std::path::Path;

    #[test]
    fn parses_every_form_and_refuses_unknown_modules_and_bad_numbers() {
        let p = |s: &str| s.parse::<MinCoverage>();
        assert_eq!(
            p("85").unwrap(),
            MinCoverage {
                scope: Scope::All,
                percent: 85.0
            }
        );
        assert_eq!(p("peer=80%").unwrap().scope, Scope::Peer);
        assert_eq!(
            p("hub=90.5").unwrap(),
            MinCoverage {
                scope: Scope::Module("hub".into()),
                percent: 90.5
            }
        );
        assert!(p("nosuch=10").is_err());
        assert!(p("hub=ten").is_err());
        assert!(p("101").is_err());
    }

    #[test]
    fn misses_are_reported_per_scope() {
        let f = |path: &str, count, covered| FileCov {
            path: path.into(),
            lines: Count { count, covered },
            regions: Count::default(),
            functions: Count::default(),
        };
        let s = summarize(
            vec![
                f("src/hub/mod.rs", 100, 90),
                f("src/net/handler.rs", 100, 10),
            ],
            &[],
            &[],
            Path::new("/"),
        );
        let mins: Vec<MinCoverage> = ["51", "peer=90", "hub=91", "net=10", "session=1"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        let misses = check(&s, &mins);
        assert_eq!(misses.len(), 3, "{misses:?}");
        assert!(misses[0].starts_with("all: 50.00% of lines (100/200) is below the required 51.0%"));
        assert!(misses[1].starts_with("hub: 90.00%"));
        assert!(misses[2].starts_with("session: no instrumented code"));
    }
}
