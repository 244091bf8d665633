//! Gate output: the summary table for people, JUnit XML and JSON for CI systems.

use super::gate::{repro_command, GateReport, Kind};
use crate::targets::Target;
use std::fmt::Write as _;
use std::time::Duration;

/// Per-target totals.
#[derive(Clone, Debug, Default, serde::Serialize)]
pub struct TargetRow {
    /// Target name.
    pub target: String,
    /// Inputs replayed.
    pub inputs: usize,
    /// Of which passed.
    pub passed: usize,
    /// Of which failed.
    pub failed: usize,
    /// Slowest input, milliseconds.
    pub slowest_ms: f64,
    /// Sum of input times, milliseconds.
    pub time_ms: f64,
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Rows in registry order, for targets that had inputs.
pub fn rows(report: &GateReport) -> Vec<TargetRow> {
    Target::every()
        .into_iter()
        .filter_map(|t| {
            let rs: Vec<_> = report.results.iter().filter(|r| r.target == t).collect();
            if rs.is_empty() {
                return None;
            }
            let failed = rs.iter().filter(|r| r.failure.is_some()).count();
            Some(TargetRow {
                target: t.name().to_owned(),
                inputs: rs.len(),
                passed: rs.len() - failed,
                failed,
                slowest_ms: rs.iter().map(|r| ms(r.elapsed)).fold(0.0, f64::max),
                time_ms: rs.iter().map(|r| ms(r.elapsed)).sum(),
            })
        })
        .collect()
}

/// The human summary: table, failures with repro commands, verdict.
pub fn table(report: &GateReport) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<10} {:>7} {:>7} {:>7} {:>11} {:>10}",
        "target", "inputs", "passed", "failed", "slowest", "time"
    );
    let rows = rows(report);
    for r in &rows {
        let _ = writeln!(
            out,
            "{:<10} {:>7} {:>7} {:>7} {:>9.1}ms {:>8.1}ms",
            r.target, r.inputs, r.passed, r.failed, r.slowest_ms, r.time_ms
        );
    }
    if !report.wire.is_empty() {
        let failed = report.wire.iter().filter(|w| w.failure.is_some()).count();
        let _ = writeln!(
            out,
            "{:<10} {:>7} {:>7} {:>7} {:>9.1}ms {:>8.1}ms",
            "wire",
            report.wire.len(),
            report.wire.len() - failed,
            failed,
            report
                .wire
                .iter()
                .map(|w| ms(w.elapsed))
                .fold(0.0, f64::max),
            report.wire.iter().map(|w| ms(w.elapsed)).sum::<f64>()
        );
    }
    let total: usize = rows.iter().map(|r| r.inputs).sum::<usize>() + report.wire.len();
    let failed: usize = rows.iter().map(|r| r.failed).sum::<usize>()
        + report.wire.iter().filter(|w| w.failure.is_some()).count();
    let secs = report.elapsed.as_secs_f64();
    let _ = writeln!(
        out,
        "{:<10} {:>7} {:>7} {:>7}             {:>8.2}s  ({:.0} inputs/s, each run twice{})",
        "total",
        total,
        total - failed,
        failed,
        secs,
        if secs > 0.0 { total as f64 / secs } else { 0.0 },
        if report.memory_checked {
            ", memory measured"
        } else {
            ", memory NOT measured"
        }
    );
    for f in report.failures() {
        let what = match &f.kind {
            Kind::Corpus => "corpus".to_owned(),
            Kind::Regression(slug) => format!("regression {slug}"),
        };
        let _ = writeln!(out, "\nFAIL {} {what}: {}", f.target, f.path.display());
        let _ = writeln!(out, "  {}", f.failure.as_deref().unwrap_or(""));
        let _ = writeln!(out, "  reproduce: {}", repro_command(&f.path));
    }
    for w in report.wire.iter().filter(|w| w.failure.is_some()) {
        let _ = writeln!(
            out,
            "\nFAIL wire regression {}: {}",
            w.slug,
            w.path.display()
        );
        let _ = writeln!(out, "  {}", w.failure.as_deref().unwrap_or(""));
        let _ = writeln!(out, "  reproduce: {}", w.replay);
    }
    let _ = writeln!(
        out,
        "\ngate: {}",
        if report.passed() { "PASS" } else { "FAIL" }
    );
    let _ = writeln!(out, "{} passed, {} failed", total - failed, failed);
    out
}

/// `s` escaped for XML text and attributes (JUnit reports); control characters become spaces.
pub(crate) fn xml_escape(s: &str) -> String {
    s.chars()
        .map(|c| match c {
            '&' => "&amp;".to_owned(),
            '<' => "&lt;".to_owned(),
            '>' => "&gt;".to_owned(),
            '"' => "&quot;".to_owned(),
            '\'' => "&apos;".to_owned(),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => " ".to_owned(),
            c => c.to_string(),
        })
        .collect()
}

/// JUnit XML: one testsuite per target, one testcase per input.
pub fn junit(report: &GateReport) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let rows = rows(report);
    let wire_failed = report.wire.iter().filter(|w| w.failure.is_some()).count();
    let failures: usize = rows.iter().map(|r| r.failed).sum::<usize>() + wire_failed;
    let _ = writeln!(
        out,
        "<testsuites name=\"wkfuzz gate\" tests=\"{}\" failures=\"{failures}\" time=\"{:.3}\">",
        report.results.len() + report.wire.len(),
        report.elapsed.as_secs_f64()
    );
    for row in rows {
        let _ = writeln!(
            out,
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" time=\"{:.3}\">",
            row.target,
            row.inputs,
            row.failed,
            row.time_ms / 1000.0
        );
        for r in report
            .results
            .iter()
            .filter(|r| r.target.name() == row.target)
        {
            let name = r
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let _ = write!(
                out,
                "    <testcase classname=\"{}\" name=\"{}\" file=\"{}\" time=\"{:.3}\"",
                row.target,
                xml_escape(&name),
                xml_escape(&r.path.display().to_string()),
                r.elapsed.as_secs_f64()
            );
            match &r.failure {
                None => out.push_str("/>\n"),
                Some(f) => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                        xml_escape(f),
                        xml_escape(&format!("{f}\nreproduce: {}", repro_command(&r.path)))
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    if !report.wire.is_empty() {
        let _ =
            writeln!(
            out,
            "  <testsuite name=\"wire\" tests=\"{}\" failures=\"{wire_failed}\" time=\"{:.3}\">",
            report.wire.len(),
            report.wire.iter().map(|w| w.elapsed.as_secs_f64()).sum::<f64>()
        );
        for w in &report.wire {
            let _ = write!(
                out,
                "    <testcase classname=\"wire\" name=\"{}\" file=\"{}\" time=\"{:.3}\"",
                xml_escape(&w.slug),
                xml_escape(&w.path.display().to_string()),
                w.elapsed.as_secs_f64()
            );
            match &w.failure {
                None => out.push_str("/>\n"),
                Some(f) => {
                    let _ = writeln!(
                        out,
                        ">\n      <failure message=\"{}\">{}</failure>\n    </testcase>",
                        xml_escape(f),
                        xml_escape(&format!("{f}\nreproduce: {}", w.replay))
                    );
                }
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}

/// JSON: totals, per-target rows, and every failure.
pub fn json(report: &GateReport) -> String {
    let failures: Vec<serde_json::Value> = report
        .failures()
        .map(|f| {
            serde_json::json!({
                "target": f.target.name(),
                "path": f.path.display().to_string(),
                "kind": match &f.kind { Kind::Corpus => "corpus".to_owned(), Kind::Regression(s) => format!("regression:{s}") },
                "failure": f.failure,
                "repro": repro_command(&f.path),
            })
        })
        .collect();
    let wire: Vec<serde_json::Value> = report
        .wire
        .iter()
        .map(|w| {
            serde_json::json!({
                "slug": w.slug,
                "path": w.path.display().to_string(),
                "failure": w.failure,
                "elapsed_s": w.elapsed.as_secs_f64(),
            })
        })
        .collect();
    let value = serde_json::json!({
        "passed": report.passed(),
        "inputs": report.results.len(),
        "wire": wire,
        "elapsed_s": report.elapsed.as_secs_f64(),
        "memory_checked": report.memory_checked,
        "targets": rows(report),
        "failures": failures,
    });
    serde_json::to_string_pretty(&value).unwrap_or_default()
}
