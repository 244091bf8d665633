//! Which fuzz targets are run against which planted bug.

use super::EvalError;

/// Bug id -> targets, in the order of `bug-classes.md`. First the structured targets,
/// then the byte-level baselines (`records` for TLS, `frame` for wkproto). The ids are
/// `wkfuzz::planted::Bug::id` (the runner refuses an id that is not a bug).
pub const PLAN: &[(&str, &[&str])] = &[
    ("TLS-127", &["handshake", "records"]),
    ("STR-26", &["codec", "session", "frame"]),
    ("TRUNC", &["codec", "frame"]),
    ("VARINT", &["codec", "frame"]),
    ("PROXY-458", &["proxy"]),
    ("KEY-L1", &["keys", "crypto", "session", "frame"]),
    ("PAD-L2", &["crypto", "session", "frame"]),
    ("BUF-L5", &["session", "frame"]),
    ("AMP-L7", &["net", "frame"]),
];

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

/// The (bug, target) pairs of the plan, limited to `bugs` and `targets` when they are not
/// empty (bug ids are case-insensitive), in plan order.
///
/// # Errors
/// [`EvalError::NoSuchBug`] for an id in `bugs` that the plan does not hold.
pub fn select(
    bugs: &[String],
    targets: &[String],
) -> Result<Vec<(&'static str, &'static str)>, EvalError> {
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
        assert_eq!(pairs.len(), 21);
        assert_eq!(pairs[0], ("TLS-127", "handshake"));
        assert_eq!(pairs[20], ("AMP-L7", "frame"));
    }

    #[test]
    fn bugs_and_targets_narrow_it_in_plan_order() {
        assert_eq!(
            select(&strings(&["amp-l7", " TRUNC "]), &[]).unwrap(),
            vec![
                ("TRUNC", "codec"),
                ("TRUNC", "frame"),
                ("AMP-L7", "net"),
                ("AMP-L7", "frame")
            ]
        );
        assert_eq!(
            select(&[], &strings(&["session"])).unwrap(),
            vec![
                ("STR-26", "session"),
                ("KEY-L1", "session"),
                ("PAD-L2", "session"),
                ("BUF-L5", "session")
            ]
        );
        // A target no chosen bug is planned for: nothing to run.
        assert!(select(&strings(&["PROXY-458"]), &strings(&["frame"]))
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
