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
        } else if t.starts_with('#') && t.contains(" cov: ") {
            let mut words = t.split_whitespace();
            while let Some(w) = words.next() {
                match w {
                    "cov:" => s.cov = words.next().and_then(|v| v.parse().ok()).unwrap_or(0),
                    "ft:" => s.ft = words.next().and_then(|v| v.parse().ok()).unwrap_or(0),
                    "corp:" => {
                        s.corpus = words
                            .next()
                            .and_then(|v| v.split('/').next())
                            .and_then(|v| v.parse().ok())
                            .unwrap_or(0)
                    }
                    _ => {}
                }
            }
        } else if let Some(rest) = t.split("Test unit written to ").nth(1) {
            s.artifact = Some(rest.trim().to_owned());
        }
    }
    s
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
        assert_eq!(
            s.artifact.as_deref(),
            Some("fuzz/artifacts/session/crash-0f09")
        );
    }
}
