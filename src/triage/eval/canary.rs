//! Reading what a run prints: the planted code's canary lines and libFuzzer's status on
//! the fuzzer's stderr ([`Timeline`]), and `wkfuzz repro`'s verdict on a crash input
//! ([`replay_verdict`]). The canary prefix is a parameter (the runner passes
//! `wkfuzz::planted::CANARY_PREFIX`), so this code carries no planted marker into builds
//! without the feature.

/// When each event of one libFuzzer run happened, fed one stderr line at a time with the
/// seconds since the process started.
#[derive(Clone, Debug, PartialEq)]
pub struct Timeline {
    /// `<prefix> REACHED <bug>`.
    reached: String,
    /// `<prefix> TRIGGERED <bug>`.
    triggered: String,
    /// libFuzzer printed `INITED`: the seed corpus is loaded.
    inited: bool,
    /// First REACHED canary.
    pub reach_s: Option<f64>,
    /// First TRIGGERED canary.
    pub trigger_s: Option<f64>,
    /// The bug triggered before `INITED` (while the seeds were loading).
    pub in_seeds: bool,
    /// First crash report (`ERROR: libFuzzer` or `deadly signal`).
    pub crash_s: Option<f64>,
}

impl Timeline {
    /// A run looking for `bug`'s canaries, marked by `prefix`.
    pub fn new(prefix: &str, bug: &str) -> Timeline {
        Timeline {
            reached: format!("{prefix} REACHED {bug}"),
            triggered: format!("{prefix} TRIGGERED {bug}"),
            inited: false,
            reach_s: None,
            trigger_s: None,
            in_seeds: false,
            crash_s: None,
        }
    }

    /// Takes the stderr line that arrived `t` seconds after the start.
    pub fn handle_line(&mut self, line: &str, t: f64) {
        if line.contains(&self.reached) && self.reach_s.is_none() {
            self.reach_s = Some(t);
        }
        if line.contains(&self.triggered) && self.trigger_s.is_none() {
            self.trigger_s = Some(t);
            self.in_seeds = !self.inited;
        }
        if line.contains("INITED") {
            self.inited = true;
        }
        if (line.contains("ERROR: libFuzzer") || line.contains("deadly signal"))
            && self.crash_s.is_none()
        {
            self.crash_s = Some(t);
        }
    }
}

/// What `wkfuzz repro` (run with `bug` planted) says of a crash input: its signature, and
/// whether the bug's TRIGGERED canary fired (the crash is the planted bug). A process abort
/// (AMP-L7 escapes the connection's isolation) has no signature line; its abort canary
/// gives one.
pub fn replay_verdict(stdout: &str, stderr: &str, prefix: &str, bug: &str) -> (String, bool) {
    let is_bug = stderr.contains(&format!("{prefix} TRIGGERED {bug}"));
    let signature = if let Some(s) = stdout.lines().find_map(|l| l.strip_prefix("signature: ")) {
        s.to_owned()
    } else if let Some(line) = stderr
        .lines()
        .find(|l| l.contains(&format!("{prefix} ABORT")))
    {
        let why = line.split_once(": ").map_or(line, |(_, w)| w);
        let why = why.split_once(": ").map_or(why, |(w, _)| w);
        format!("process abort: {why} @ wkfuzz::net::connection::run_connection")
    } else {
        "does not reproduce".into()
    };
    (signature, is_bug)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canaries_and_the_crash_are_time_stamped_once() {
        let mut t = Timeline::new("CANARY", "TRUNC");
        t.handle_line("INFO: Seed: 1", 0.1);
        t.handle_line("CANARY REACHED TRUNC", 0.5);
        t.handle_line("CANARY REACHED VARINT", 0.6); // another bug's canary
        t.handle_line("#2 INITED cov: 10 ft: 20", 1.0);
        t.handle_line("CANARY REACHED TRUNC", 1.5);
        t.handle_line("CANARY TRIGGERED TRUNC", 2.0);
        t.handle_line("==1== ERROR: libFuzzer: deadly signal", 2.5);
        t.handle_line("CANARY TRIGGERED TRUNC", 3.0);
        t.handle_line("==1== ERROR: libFuzzer: deadly signal", 3.5);
        assert_eq!(t.reach_s, Some(0.5));
        assert_eq!(t.trigger_s, Some(2.0));
        assert!(!t.in_seeds);
        assert_eq!(t.crash_s, Some(2.5));
    }

    #[test]
    fn a_trigger_before_inited_came_from_the_seeds() {
        let mut t = Timeline::new("CANARY", "KEY-L1");
        t.handle_line("CANARY TRIGGERED KEY-L1", 0.25);
        t.handle_line("#100 INITED", 0.5);
        assert_eq!(
            (t.trigger_s, t.in_seeds, t.reach_s),
            (Some(0.25), true, None)
        );
        let mut quiet = Timeline::new("CANARY", "KEY-L1");
        quiet.handle_line("#100 INITED", 0.5);
        quiet.handle_line("Done 1000 runs in 30 second(s)", 30.0);
        assert_eq!(quiet.trigger_s, None);
        assert_eq!(quiet.crash_s, None);
    }

    #[test]
    fn the_replay_gives_the_signature_and_whether_the_bug_fired() {
        let stdout =
            "target:  frame\nsignature: index out of bounds @ f (a.rs:1)\nresult:  REPRODUCES\n";
        assert_eq!(
            replay_verdict(stdout, "CANARY TRIGGERED TRUNC\n", "CANARY", "TRUNC"),
            ("index out of bounds @ f (a.rs:1)".to_owned(), true)
        );
        // Another bug's canary: a crash, but not this bug.
        assert_eq!(
            replay_verdict(stdout, "CANARY TRIGGERED VARINT\n", "CANARY", "TRUNC"),
            ("index out of bounds @ f (a.rs:1)".to_owned(), false)
        );
        let abort = "CANARY TRIGGERED AMP-L7\nCANARY ABORT AMP-L7: connection panic escaped isolation: boom: at x\n";
        assert_eq!(
            replay_verdict("", abort, "CANARY", "AMP-L7"),
            (
                "process abort: connection panic escaped isolation @ wkfuzz::net::connection::run_connection"
                    .to_owned(),
                true
            )
        );
        assert_eq!(
            replay_verdict("result:  does not reproduce\n", "", "CANARY", "TRUNC"),
            ("does not reproduce".to_owned(), false)
        );
    }
}
