//! The coverage summary as text for the terminal: modules (with the targets that reach
//! them), targets, and the first unreached ranges of the peer-input modules.

use super::summary::{Count, CoverageSummary, Totals};
use std::fmt::Write as _;

fn cell(c: Count) -> String {
    format!("{:>5.1}% {:>5}/{:<5}", c.percent(), c.covered, c.count)
}

/// How many unreached ranges the terminal lists (the file has them all).
pub const UNREACHED_SHOWN: usize = 25;

/// The terminal report.
pub fn table(s: &CoverageSummary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{:<10} {:<4} {:>5}  {:<18} {:<18} reached by (share of the module's lines)",
        "module", "peer", "files", "lines", "regions"
    );
    for m in &s.modules {
        let reach: Vec<String> = m
            .reached_by
            .iter()
            .map(|r| {
                format!(
                    "{} {:.0}%",
                    r.target,
                    pct_of(r.lines.covered, m.totals.lines)
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "{:<10} {:<4} {:>5}  {} {} {}",
            m.name,
            if m.peer_input { "yes" } else { "" },
            m.files,
            cell(m.totals.lines),
            cell(m.totals.regions),
            if reach.is_empty() {
                "(no target)".to_owned()
            } else {
                reach.join(", ")
            }
        );
    }
    let total = |out: &mut String, name: &str, t: Totals| {
        let _ = writeln!(
            out,
            "{:<10} {:<4} {:>5}  {} {}",
            name,
            "",
            "",
            cell(t.lines),
            cell(t.regions)
        );
    };
    total(&mut out, "peer-input", s.peer);
    total(&mut out, "all", s.all);
    let _ = writeln!(
        out,
        "\n{:<10} {:>7} {:>7}  {:<18} {:<18}",
        "target", "inputs", "failed", "lines (all)", "lines (peer-input)"
    );
    for t in &s.targets {
        let _ = writeln!(
            out,
            "{:<10} {:>7} {:>7}  {} {}",
            t.target,
            t.inputs,
            t.failed,
            cell(t.all.lines),
            cell(t.peer.lines)
        );
    }
    let _ = writeln!(
        out,
        "\nunreached in peer-input modules: {} ranges spanning {} source lines",
        s.unreached.len(),
        s.unreached
            .iter()
            .map(|u| u64::from(u.last - u.first + 1))
            .sum::<u64>()
    );
    for u in s.unreached.iter().take(UNREACHED_SHOWN) {
        let _ = writeln!(out, "  {u}");
    }
    if s.unreached.len() > UNREACHED_SHOWN {
        let _ = writeln!(out, "  ... ({} more)", s.unreached.len() - UNREACHED_SHOWN);
    }
    out
}

/// `part` as a percentage of `of`'s instrumented count.
pub fn pct_of(part: u64, of: Count) -> f64 {
    Count {
        count: of.count,
        covered: part,
    }
    .percent()
}
