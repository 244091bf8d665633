//! Reading libFuzzer's output: the final `stat::` lines, the last status line's `cov`/`ft`,
//! and the path of a crash artifact. Used by `wkfuzz fuzz` to summarize a campaign.

/// What one libFuzzer run reported.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
pub struct FuzzStats {
    /// `stat::number_of_executed_units`.
    pub execs: u64,
    /// `stat::average_exec_per_sec`.
    pub exec_per_sec: u64,
    /// `stat::peak_rss_mb`.
    pub peak_rss_mb: u64,
    /// Coverage counters (`cov:`) on the last status line.
    pub cov: u64,
    /// Features (`ft:`) on the last status line.
    pub ft: u64,
    /// Corpus size (`corp:` inputs) on the last status line.
    pub corpus: u64,
    /// `Test unit written to <path>` for a crash, leak or timeout.
    pub artifact: Option<String>,
}

/// Parses libFuzzer's stderr.
pub fn parse(log: &str) -> FuzzStats {
    let mut s = FuzzStats::default();
    for line in log.lines() {
        let t = line.trim();
        if let Some((k, v)) = t.strip_prefix("stat::").and_then(|r| r.split_once(':')) {
            let v: u64 = v.trim().parse().unwrap_or(0);
            match k.trim() {
                "number_of_executed_units" => s.execs = v,
                "average_exec_per_sec" => s.exec_per_sec = v,
                "peak_rss_mb" => s.peak_rss_mb = v,
                _ => {}
            }
        } else if let Some(st) = status_line(t) {
            (s.cov, s.ft, s.corpus) = (st.cov, st.ft, st.corpus);
        } else if let Some(rest) = t.split("Test unit written to ").nth(1) {
            s.artifact = Some(rest.trim().to_owned());
        }
    }
    s
}

/// One libFuzzer status line (`#45170\tNEW cov: 6068 ft: 15366 corp: 1600/389Kb ... exec/s: 2823`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Status {
    /// Executions so far (`#N`).
    pub execs: u64,
    /// `cov:`.
    pub cov: u64,
    /// `ft:`.
    pub ft: u64,
    /// `corp:` inputs.
    pub corpus: u64,
    /// `exec/s:`.
    pub exec_per_sec: u64,
}

/// Reads a status line; `None` for any other line.
pub fn status_line(line: &str) -> Option<Status> {
    let t = line.trim();
    let rest = t.strip_prefix('#')?;
    if !t.contains(" cov: ") {
        return None;
    }
    let mut words = rest.split_whitespace();
    let mut s = Status {
        execs: words.next()?.parse().ok()?,
        ..Status::default()
    };
    let number = |w: Option<&str>| {
        w.and_then(|v| v.split('/').next()?.parse().ok())
            .unwrap_or(0)
    };
    while let Some(w) = words.next() {
        match w {
            "cov:" => s.cov = number(words.next()),
            "ft:" => s.ft = number(words.next()),
            "corp:" => s.corpus = number(words.next()),
            "exec/s:" => s.exec_per_sec = number(words.next()),
            _ => {}
        }
    }
    Some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_stats_status_and_artifact() {
        let log = "INFO: Seed: 1\n#17\tINITED cov: 833 ft: 1121 corp: 13/1004b exec/s: 0 rss: 56Mb\n\
#45170\tDONE   cov: 6068 ft: 15366 corp: 1600/389Kb lim: 480 exec/s: 2823 rss: 56Mb\n\
==1== ERROR: libFuzzer: deadly signal\nartifact_prefix='fuzz/artifacts/session/'; Test unit written to fuzz/artifacts/session/crash-0f09\n\
stat::number_of_executed_units: 45170\nstat::average_exec_per_sec:     2823\nstat::peak_rss_mb:              56\n";
        let s = parse(log);
        assert_eq!((s.execs, s.exec_per_sec, s.peak_rss_mb), (45170, 2823, 56));
        assert_eq!((s.cov, s.ft, s.corpus), (6068, 15366, 1600));
        let st = status_line(
            "#45170\tDONE   cov: 6068 ft: 15366 corp: 1600/389Kb exec/s: 2823 rss: 56Mb",
        );
        assert_eq!(st.map(|s| (s.execs, s.exec_per_sec)), Some((45170, 2823)));
        assert_eq!(status_line("#1 is not a status"), None);
        assert_eq!(
            s.artifact.as_deref(),
            Some("fuzz/artifacts/session/crash-0f09")
        );
    }
}
