//! From a symptom to a regression: find the culprit among the cases sent since the last
//! good probe (one at a time, on a server restarted whenever a try brought it down),
//! minimize it (ddmin over its bytes, or over a script's steps), confirm that it shows the
//! same symptom every time, and keep it as a wire regression.

use super::case::WireCase;
use super::finding::{Culprit, Symptom};
use super::subject::Subject;
use super::units::units;
use crate::gen::script::Script;
use crate::triage::minimize::ddmin_by;
use std::time::Instant;

/// A case that was sent to the server, for the culprit search.
#[derive(Clone, Debug)]
pub struct Sent {
    /// Its sequence number.
    pub seq: u64,
    /// The target it went to.
    pub target: usize,
    /// The case.
    pub wire: WireCase,
    /// Where it came from.
    pub origin: String,
    /// When it was started.
    pub started: Instant,
    /// When it was done (`None` while in flight).
    pub finished: Option<Instant>,
}

/// Limits of one search.
#[derive(Clone, Copy, Debug)]
pub struct SearchLimits {
    /// Most suspects replayed.
    pub max_suspects: usize,
    /// Most replays while minimizing.
    pub max_minimize_tests: usize,
    /// Confirmation replays.
    pub confirmations: usize,
    /// Wall time for the whole search, minimization and confirmation.
    pub budget: std::time::Duration,
}

/// What the search found.
#[derive(Clone, Debug)]
pub struct Found {
    /// The minimized case (or the original, if minimizing lost the symptom).
    pub case: WireCase,
    /// The target it reproduces on.
    pub target: usize,
    /// How it was found and reduced.
    pub culprit: Culprit,
}

/// Why no culprit was kept.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NoCulprit {
    /// No suspect alone showed the symptom again.
    NotAlone(usize),
    /// The culprit showed it only sometimes.
    Flaky(usize, usize),
    /// The server could not be brought back to serve the tries.
    NoServer(String),
}

impl std::fmt::Display for NoCulprit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            NoCulprit::NotAlone(n) => write!(
                f,
                "none of the {n} cases sent since the last good probe shows it alone"
            ),
            NoCulprit::Flaky(got, of) => {
                write!(f, "the culprit showed it in only {got} of {of} replays")
            }
            NoCulprit::NoServer(why) => write!(f, "no server to replay on: {why}"),
        }
    }
}

/// The suspects in the order they are tried: the most recently finished (or still in
/// flight) first, since a case brings a server down while it is being processed.
pub fn order_suspects(mut suspects: Vec<Sent>) -> Vec<Sent> {
    suspects.sort_by(|a, b| match (a.finished, b.finished) {
        (None, None) => b.seq.cmp(&a.seq),
        (None, Some(_)) => std::cmp::Ordering::Less,
        (Some(_), None) => std::cmp::Ordering::Greater,
        (Some(x), Some(y)) => y.cmp(&x).then(b.seq.cmp(&a.seq)),
    });
    suspects
}

/// Searches `suspects` (already ordered) for a case that shows `want` again, minimizes it
/// and confirms it; a case that shows it only sometimes is passed over for the next.
///
/// # Errors
/// See [`NoCulprit`].
pub fn search(
    subject: &mut Subject,
    suspects: &[Sent],
    want: &Symptom,
    limits: SearchLimits,
) -> Result<Found, NoCulprit> {
    let deadline = Instant::now() + limits.budget;
    let mut searched = 0usize;
    let mut flaky = None;
    for s in suspects.iter().take(limits.max_suspects) {
        if Instant::now() >= deadline {
            break;
        }
        searched += 1;
        let got = subject
            .try_case(s.target, &s.wire)
            .map_err(NoCulprit::NoServer)?;
        if !got.is_some_and(|g| g.matches(want)) {
            continue;
        }
        let (minimized, tests) = minimize(
            subject,
            s.target,
            &s.wire,
            want,
            limits.max_minimize_tests,
            deadline,
        )?;
        let mut case = minimized;
        let mut reproduced = confirm(subject, s.target, &case, want, limits.confirmations)?;
        if reproduced < limits.confirmations && case != s.wire {
            // The minimized case lost something the symptom needs: try the original.
            case = s.wire.clone();
            reproduced = confirm(subject, s.target, &case, want, limits.confirmations)?;
        }
        if reproduced < limits.confirmations {
            // Shows it only sometimes (a script meets the server's random keys): look on.
            flaky = Some(NoCulprit::Flaky(reproduced, limits.confirmations));
            continue;
        }
        return Ok(Found {
            target: s.target,
            culprit: Culprit {
                origin: s.origin.clone(),
                kind: s.wire.kind().to_owned(),
                searched,
                original_size: size(&s.wire),
                minimized_size: size(&case),
                minimize_tests: tests,
                reproduced,
                confirmations: limits.confirmations,
            },
            case,
        });
    }
    Err(flaky.unwrap_or(NoCulprit::NotAlone(searched)))
}

/// A case's size: bytes, or a script's steps.
pub fn size(case: &WireCase) -> usize {
    match case {
        WireCase::Script(d) => Script::from_bytes(d).actions.len(),
        other => other.data().len(),
    }
}

/// Replays `case` `times` times; returns how often it showed `want`.
///
/// # Errors
/// The server could not be brought back between replays.
pub fn confirm(
    subject: &mut Subject,
    target: usize,
    case: &WireCase,
    want: &Symptom,
    times: usize,
) -> Result<usize, NoCulprit> {
    let mut got = 0;
    for _ in 0..times {
        let seen = subject
            .try_case(target, case)
            .map_err(NoCulprit::NoServer)?;
        if seen.is_some_and(|s| s.matches(want)) {
            got += 1;
        }
    }
    Ok(got)
}

/// ddmin over the case's bytes (a script: over its steps), keeping `want`.
fn minimize(
    subject: &mut Subject,
    target: usize,
    case: &WireCase,
    want: &Symptom,
    max_tests: usize,
    deadline: Instant,
) -> Result<(WireCase, usize), NoCulprit> {
    let mut lost_server = None;
    let mut keeps = |candidate: WireCase| -> bool {
        if lost_server.is_some() || Instant::now() >= deadline {
            return false;
        }
        match subject.try_case(target, &candidate) {
            Ok(seen) => seen.is_some_and(|s| s.matches(want)),
            Err(e) => {
                lost_server = Some(e);
                false
            }
        }
    };
    let (case, tests) = match case {
        WireCase::Script(data) => {
            let script = Script::from_bytes(data);
            let (actions, tests) = ddmin_by(&script.actions, max_tests, |actions| {
                let candidate = Script {
                    clients: script.clients.clone(),
                    groups: script.groups.clone(),
                    actions: actions.to_vec(),
                };
                keeps(WireCase::Script(candidate.to_bytes()))
            });
            let kept = Script {
                clients: script.clients.clone(),
                groups: script.groups.clone(),
                actions,
            };
            (WireCase::Script(kept.to_bytes()), tests)
        }
        other => {
            // Whole frames or records first, then bytes.
            let (units, unit_tests) = ddmin_by(&units(other), max_tests, |units| {
                keeps(other.with_data(units.concat()))
            });
            let (bytes, byte_tests) = ddmin_by(
                &units.concat(),
                max_tests.saturating_sub(unit_tests),
                |bytes| keeps(other.with_data(bytes.to_vec())),
            );
            (other.with_data(bytes), unit_tests + byte_tests)
        }
    };
    match lost_server {
        Some(e) => Err(NoCulprit::NoServer(e)),
        None => Ok((case, tests)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latest_cases_are_suspected_first() {
        let t0 = Instant::now();
        let sent = |seq, finished: Option<u64>| Sent {
            seq,
            target: 0,
            wire: WireCase::Script(vec![]),
            origin: String::new(),
            started: t0,
            finished: finished.map(|ms| t0 + std::time::Duration::from_millis(ms)),
        };
        let order: Vec<u64> = order_suspects(vec![
            sent(1, Some(5)),
            sent(2, None),
            sent(3, Some(9)),
            sent(4, None),
            sent(5, Some(1)),
        ])
        .iter()
        .map(|s| s.seq)
        .collect();
        assert_eq!(order, vec![4, 2, 3, 1, 5]);
    }
}
