//! What the oracles report: a [`Symptom`] (the server died, stopped answering probes, hung,
//! or printed crash text) and the [`Finding`] it becomes, with its evidence, its culprit
//! case and the regression written for it.

use serde::Serialize;
use std::path::PathBuf;

/// Which oracle saw a problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Oracle {
    /// The spawned process ended.
    Death,
    /// A liveness probe failed (refused, TLS or upgrade failed, login refused).
    Liveness,
    /// A probe ran out of time.
    Hang,
    /// The spawned process printed crash text on stderr.
    CrashText,
    /// A witness client saw a message lost, duplicated or refused, or was dropped, or
    /// their latency rose past the limit.
    Witnesses,
    /// The spawned process's memory or descriptors grew with the connections.
    Resources,
}

impl Oracle {
    /// Every oracle, in report order.
    pub const ALL: [Oracle; 6] = [
        Oracle::Death,
        Oracle::Liveness,
        Oracle::Hang,
        Oracle::CrashText,
        Oracle::Witnesses,
        Oracle::Resources,
    ];

    /// Its name in reports and regressions.
    pub fn name(self) -> &'static str {
        match self {
            Oracle::Death => "death",
            Oracle::Liveness => "liveness",
            Oracle::Hang => "hang",
            Oracle::CrashText => "crash-text",
            Oracle::Witnesses => "witnesses",
            Oracle::Resources => "resources",
        }
    }

    /// Whether a single case can be blamed (and so searched for, minimized and kept).
    pub fn has_culprit(self) -> bool {
        matches!(
            self,
            Oracle::Death | Oracle::Liveness | Oracle::Hang | Oracle::CrashText
        )
    }
}

impl std::fmt::Display for Oracle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One observation of a problem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Symptom {
    /// The oracle.
    pub oracle: Oracle,
    /// The target URL it concerns (index into the attack's targets), if one.
    pub target: Option<usize>,
    /// What was seen, for people (may be several lines).
    pub evidence: String,
    /// Its stable part: two observations of one bug share it.
    pub signature: String,
}

impl Symptom {
    /// Whether `other` is the same problem (same oracle and signature): what a culprit's
    /// replay and each minimization step must show again.
    ///
    /// A death and crash text with the same crash report are the same problem too: whether
    /// a crashing process is seen dead or still printing depends on how long it takes to
    /// print its backtrace before it goes.
    pub fn matches(&self, other: &Symptom) -> bool {
        if self.oracle == other.oracle {
            return self.signature == other.signature;
        }
        match (self.crash_report(), other.crash_report()) {
            (Some(a), Some(b)) => a == b,
            _ => false,
        }
    }

    /// The crash report part of the signature: all of crash text's, the part after the
    /// exit of a death's (`killed by signal 6 (SIGABRT); <report>`).
    fn crash_report(&self) -> Option<&str> {
        match self.oracle {
            Oracle::CrashText => Some(&self.signature),
            Oracle::Death => self.signature.split_once("; ").map(|(_, r)| r),
            _ => None,
        }
    }
}

/// The case blamed for a finding.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Culprit {
    /// Where the case came from.
    pub origin: String,
    /// Its kind (see [`super::case::KINDS`]).
    pub kind: String,
    /// Cases replayed to find it.
    pub searched: usize,
    /// Its size before minimization (bytes, or script steps).
    pub original_size: usize,
    /// Its size after.
    pub minimized_size: usize,
    /// Replays the minimization took.
    pub minimize_tests: usize,
    /// Confirmation replays that showed the symptom again.
    pub reproduced: usize,
    /// Confirmation replays made.
    pub confirmations: usize,
}

/// A problem found, as reported.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// The oracle.
    pub oracle: Oracle,
    /// The target URL, if one.
    pub target: Option<String>,
    /// One line.
    pub summary: String,
    /// The evidence.
    pub evidence: String,
    /// The stable part.
    pub signature: String,
    /// Seconds into the attack when it was first seen.
    pub at_seconds: f64,
    /// Times it was seen.
    pub occurrences: u32,
    /// The blamed case, once found.
    pub culprit: Option<Culprit>,
    /// Why no culprit was kept (not reproduced alone, flaky, no server to replay on).
    pub note: Option<String>,
    /// The regression written (or the existing one with the same signature).
    pub regression: Option<PathBuf>,
    /// The command that replays it.
    pub replay: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn symptom(oracle: Oracle, signature: &str) -> Symptom {
        Symptom {
            oracle,
            target: None,
            evidence: String::new(),
            signature: signature.into(),
        }
    }

    #[test]
    fn a_death_matches_crash_text_of_the_same_report() {
        let death = symptom(
            Oracle::Death,
            "killed by signal 6 (SIGABRT); rust panic: a.rs:1:2",
        );
        let text = symptom(Oracle::CrashText, "rust panic: a.rs:1:2");
        assert!(death.matches(&text) && text.matches(&death));
        assert!(!death.matches(&symptom(Oracle::CrashText, "rust panic: b.rs:1:2")));
        assert!(!death.matches(&symptom(Oracle::Death, "killed by signal 6 (SIGABRT)")));
        let bare = symptom(Oracle::Death, "killed by signal 9 (SIGKILL)");
        assert!(bare.matches(&bare.clone()));
        assert!(!bare.matches(&symptom(Oracle::Liveness, "killed by signal 9 (SIGKILL)")));
    }
}
