//! Attack output, like the gate's: a table for people, JSON and JUnit XML for CI systems.
//! In JUnit every (target, oracle) pair is one test case, failed by the findings of that
//! oracle there.

use super::campaign::AttackReport;
use super::finding::{Finding, Oracle};
use crate::triage::report::xml_escape;
use std::fmt::Write as _;

/// Thousands separators ("12,345").
fn thousands(x: u64) -> String {
    crate::load::thousands(x as f64)
}

/// The human summary: one row per target, the witnesses, each finding with its evidence
/// and replay command, and the verdict.
pub fn table(report: &AttackReport) -> String {
    let mut out = String::new();
    let width = report
        .targets
        .iter()
        .map(|t| t.url.len())
        .max()
        .unwrap_or(6)
        .max(6);
    let _ = writeln!(
        out,
        "{:<width$} {:>9} {:>11} {:>9} {:>8} {:>9}",
        "target", "cases", "connections", "conn/s", "probes", "findings"
    );
    let secs = report.attack_s.max(f64::MIN_POSITIVE);
    for t in &report.targets {
        let findings = report
            .findings
            .iter()
            .filter(|f| f.target.as_deref() == Some(t.url.as_str()))
            .count();
        let _ = writeln!(
            out,
            "{:<width$} {:>9} {:>11} {:>9} {:>8} {:>9}",
            t.url,
            thousands(t.cases),
            thousands(t.connections),
            thousands((t.connections as f64 / secs) as u64),
            format!("{}/{}", t.probes_ok, t.probes_ok + t.probes_failed),
            findings
        );
    }
    let _ = writeln!(
        out,
        "{:<width$} {:>9} {:>11} {:>9} {:>8} {:>9}   {:.1}s attacking of {:.1}s, seed {}",
        "total",
        thousands(report.cases()),
        thousands(report.connections()),
        thousands(report.rate() as u64),
        "",
        report.findings.len(),
        report.attack_s,
        report.elapsed_s,
        report.seed
    );
    if let Some(w) = &report.witnesses {
        let _ = writeln!(
            out,
            "witnesses: {} chatting, {} of {} messages delivered, p99 latency {:.2} ms idle, {:.2} ms under attack",
            w.count, w.delivered, w.sent, w.idle_p99_ms, w.attack_p99_ms
        );
    }
    if let Some(g) = &report.growth {
        let _ = writeln!(
            out,
            "server resources over {} connections: RSS {:.1} -> {:.1} MiB, descriptors {} -> {}",
            thousands(g.connections),
            g.rss_mib.0,
            g.rss_mib.1,
            g.fds.0,
            g.fds.1
        );
    }
    for (i, f) in report.findings.iter().enumerate() {
        let _ = write!(out, "\nFINDING {} [{}]", i + 1, f.oracle);
        if let Some(t) = &f.target {
            let _ = write!(out, " {t}");
        }
        let _ = writeln!(out, ": {}", f.summary);
        let _ = writeln!(
            out,
            "  first seen after {:.1}s{}",
            f.at_seconds,
            if f.occurrences > 1 {
                format!(", {} times", f.occurrences)
            } else {
                String::new()
            }
        );
        for line in f.evidence.lines().take(12) {
            let _ = writeln!(out, "  | {line}");
        }
        if let Some(c) = &f.culprit {
            let _ = writeln!(
                out,
                "  culprit: {} ({} case), found in {} tries; minimized {} -> {} in {} tries; reproduced {}/{}",
                c.origin, c.kind, c.searched, c.original_size, c.minimized_size, c.minimize_tests, c.reproduced, c.confirmations
            );
        }
        if let Some(n) = &f.note {
            let _ = writeln!(out, "  note: {n}");
        }
        if let Some(r) = &f.regression {
            let _ = writeln!(out, "  regression: {}", r.display());
        }
        if let Some(r) = &f.replay {
            let _ = writeln!(out, "  replay: {r}");
        }
    }
    let _ = writeln!(
        out,
        "\nattack: {} ({} finding{})",
        if report.findings.is_empty() {
            "PASS"
        } else {
            "FAIL"
        },
        report.findings.len(),
        if report.findings.len() == 1 { "" } else { "s" }
    );
    out
}

/// JSON: the whole report.
pub fn json(report: &AttackReport) -> String {
    let mut value = serde_json::to_value(report).unwrap_or_default();
    if let Some(obj) = value.as_object_mut() {
        obj.insert(
            "passed".into(),
            serde_json::Value::Bool(report.findings.is_empty()),
        );
        obj.insert("cases".into(), report.cases().into());
        obj.insert("connections".into(), report.connections().into());
        obj.insert("connections_per_s".into(), report.rate().into());
    }
    serde_json::to_string_pretty(&value).unwrap_or_default()
}

/// The oracles a target is tested by (the process oracles once, under the first target).
fn oracles_of(report: &AttackReport, first: bool) -> Vec<Oracle> {
    Oracle::ALL
        .into_iter()
        .filter(|o| match o {
            Oracle::Liveness | Oracle::Hang => true,
            Oracle::Death | Oracle::CrashText | Oracle::Resources => {
                first && report.spawn.is_some()
            }
            Oracle::Witnesses => first && report.witnesses.is_some(),
        })
        .collect()
}

/// Whether `f` belongs to target `url` (findings without a target go to the first).
fn belongs(f: &Finding, url: &str, first: bool) -> bool {
    match &f.target {
        Some(t) => t == url,
        None => first,
    }
}

/// One JUnit test case: an oracle and the findings that fail it.
type OracleCase<'a> = (Oracle, Vec<&'a Finding>);

/// JUnit XML: one test suite per target, one test case per oracle.
pub fn junit(report: &AttackReport) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let suites: Vec<(String, Vec<OracleCase<'_>>)> = report
        .targets
        .iter()
        .enumerate()
        .map(|(i, t)| {
            let cases = oracles_of(report, i == 0)
                .into_iter()
                .map(|o| {
                    let fs = report
                        .findings
                        .iter()
                        .filter(|f| f.oracle == o && belongs(f, &t.url, i == 0))
                        .collect();
                    (o, fs)
                })
                .collect();
            (t.url.clone(), cases)
        })
        .collect();
    let tests: usize = suites.iter().map(|(_, c)| c.len()).sum();
    let failures: usize = suites
        .iter()
        .flat_map(|(_, c)| c.iter())
        .filter(|(_, fs)| !fs.is_empty())
        .count();
    let _ = writeln!(
        out,
        "<testsuites name=\"wkfuzz attack\" tests=\"{tests}\" failures=\"{failures}\" time=\"{:.3}\">",
        report.elapsed_s
    );
    for (url, cases) in suites {
        let failed = cases.iter().filter(|(_, fs)| !fs.is_empty()).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failed}\" time=\"{:.3}\">",
            xml_escape(&url),
            cases.len(),
            report.attack_s
        );
        for (oracle, fs) in cases {
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{oracle}\"",
                xml_escape(&url)
            );
            if fs.is_empty() {
                out.push_str("/>\n");
                continue;
            }
            out.push_str(">\n");
            for f in fs {
                let mut body = format!("{}\n{}", f.summary, f.evidence);
                if let Some(r) = &f.replay {
                    body.push_str(&format!("\nreplay: {r}"));
                }
                let _ = writeln!(
                    out,
                    "      <failure message=\"{}\">{}</failure>",
                    xml_escape(&f.summary),
                    xml_escape(&body)
                );
            }
            out.push_str("    </testcase>\n");
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
