//! Which fuzz targets are run against which planted bug.

use super::EvalError;

/// Bug id -> targets, in the order of `bug-classes.md`. First the structured targets,
/// then the byte-level baselines (`records` for TLS, `frame` for wkproto). The ids are
/// `wkfuzz::planted::Bug::id` (the runner refuses an id that is not a bug).
pub const PLAN: &[(&str, &[&str])] = &[
    ("TLS-127", &["handshake", "records"]),
    ("STR-26", &["codec", "session", "frame"]),
    ("TRUNC", &["codec", "session", "frame"]),
    ("VARINT", &["codec", "session", "frame"]),
    ("PROXY-458", &["proxy"]),
    ("KEY-L1", &["keys", "crypto", "session", "frame"]),
    ("PAD-L2", &["crypto", "session", "frame"]),
    ("BUF-L5", &["session", "frame"]),
    ("AMP-L7", &["net", "session", "frame"]),
    // The second set (`wkfuzz::planted::deep`): `session` is the one target with several
    // clients (kicks, devices, groups) on every transport; the baselines are single-client
    // targets that reach the bug's code: `frame` can trigger ACK-OTHER but has no delivery
    // oracle, and `ws` has one client, which never receives a large message.
    ("KICK-ACK", &["session"]),
    ("WSS-BIG", &["session", "ws"]),
    ("SUB-2DEV", &["session"]),
    ("NAME-CUT", &["session"]),
    ("ACK-OTHER", &["session", "frame"]),
    ("LOGIN-2DEV", &["session"]),
];

/// The ids of the second set: deeper bugs (three steps or more, or a server-to-client
/// path), evaluated from an empty corpus (`wkfuzz eval --set 2`).
pub const SECOND_SET: &[&str] = &[
    "KICK-ACK",
    "WSS-BIG",
    "SUB-2DEV",
    "NAME-CUT",
    "ACK-OTHER",
    "LOGIN-2DEV",
];

/// The set a bug id belongs to: 2 for [`SECOND_SET`], else 1.
pub fn set_of(bug: &str) -> u8 {
    if SECOND_SET.iter().any(|b| b.eq_ignore_ascii_case(bug)) {
        2
    } else {
        1
    }
}

/// The byte-level baselines.
pub const BASELINES: &[&str] = &["records", "frame"];

/// How a target reads its input, for the summary's "kind" column.
pub fn kind(target: &str) -> &'static str {
    if BASELINES.contains(&target) {
        "byte-level"
    } else if target == "net" {
        "shell" // raw bytes, but through the real tokio server
    } else {
        "structured"
    }
}

/// The (bug, target) pairs of the first set, or of the bugs named, limited to `bugs` and
/// `targets` when they are not empty (bug ids are case-insensitive), in plan order.
///
/// # Errors
/// [`EvalError::NoSuchBug`] for an id in `bugs` that the plan does not hold.
pub fn select(
    bugs: &[String],
    targets: &[String],
) -> Result<Vec<(&'static str, &'static str)>, EvalError> {
    select_set(None, bugs, targets)
}

/// [`select`] within `set` (1 or 2); `None`: the sets of the bugs named, or the first set
/// when none is named (as before the second set existed).
///
/// # Errors
/// [`EvalError::NoSuchBug`] for an id in `bugs` that the plan does not hold.
pub fn select_set(
    set: Option<u8>,
    bugs: &[String],
    targets: &[String],
) -> Result<Vec<(&'static str, &'static str)>, EvalError> {
    let set = set.or(bugs.is_empty().then_some(1));
    let id_of = |wanted: &str| {
        PLAN.iter()
            .map(|(id, _)| *id)
            .find(|id| id.eq_ignore_ascii_case(wanted.trim()))
    };
    let bugs: Vec<&str> = bugs
        .iter()
        .map(|b| id_of(b).ok_or_else(|| EvalError::NoSuchBug(b.clone())))
        .collect::<Result<_, _>>()?;
    let mut pairs = Vec::new();
    for &(bug, bug_targets) in PLAN {
        if !bugs.is_empty() && !bugs.contains(&bug) {
            continue;
        }
        if set.is_some_and(|set| set != set_of(bug)) {
            continue;
        }
        for &t in bug_targets {
            if targets.is_empty() || targets.iter().any(|x| x == t) {
                pairs.push((bug, t));
            }
        }
    }
    Ok(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn the_whole_plan_by_default() {
        let pairs = select(&[], &[]).unwrap();
        assert_eq!(pairs.len(), 24);
        assert_eq!(pairs[0], ("TLS-127", "handshake"));
        assert_eq!(pairs[23], ("AMP-L7", "frame"));
    }

    #[test]
    fn bugs_and_targets_narrow_it_in_plan_order() {
        assert_eq!(
            select(&strings(&["amp-l7", " TRUNC "]), &[]).unwrap(),
            vec![
                ("TRUNC", "codec"),
                ("TRUNC", "session"),
                ("TRUNC", "frame"),
                ("AMP-L7", "net"),
                ("AMP-L7", "session"),
                ("AMP-L7", "frame")
            ]
        );
        assert_eq!(
            select(&[], &strings(&["session"])).unwrap(),
            vec![
                ("STR-26", "session"),
                ("TRUNC", "session"),
                ("VARINT", "session"),
                ("KEY-L1", "session"),
                ("PAD-L2", "session"),
                ("BUF-L5", "session"),
                ("AMP-L7", "session")
            ]
        );
        // A target no chosen bug is planned for: nothing to run.
        assert!(select(&strings(&["PROXY-458"]), &strings(&["frame"]))
            .unwrap()
            .is_empty());
    }

    #[test]
    fn the_second_set_is_chosen_by_set_or_by_name() {
        let pairs = select_set(Some(2), &[], &[]).unwrap();
        assert_eq!(pairs.len(), 8);
        assert!(pairs.iter().all(|(bug, _)| set_of(bug) == 2));
        assert_eq!(
            select_set(Some(2), &[], &strings(&["frame"])).unwrap(),
            vec![("ACK-OTHER", "frame")]
        );
        assert_eq!(
            select(&strings(&["wss-big"]), &[]).unwrap(),
            vec![("WSS-BIG", "session"), ("WSS-BIG", "ws")]
        );
        assert!(select_set(Some(1), &strings(&["WSS-BIG"]), &[])
            .unwrap()
            .is_empty());
    }

    #[test]
    fn an_unknown_bug_is_an_error_naming_it() {
        let err = select(&strings(&["TRUNC", "HEARTBLEED"]), &[]).unwrap_err();
        assert_eq!(err.to_string(), "no planted bug \"HEARTBLEED\"");
    }

    #[test]
    fn targets_are_classified_for_the_summary() {
        assert_eq!(kind("records"), "byte-level");
        assert_eq!(kind("frame"), "byte-level");
        assert_eq!(kind("net"), "shell");
        assert_eq!(kind("session"), "structured");
    }
}
