//! The evaluation's outputs: one progress line per run, the CSV of every run, the markdown
//! summary, and the marked section of BENCHMARKS.md it goes into.

use super::{kind, EvalError, Run, PLAN};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::Path;

/// Seconds with one decimal, `-` for never.
fn secs(s: Option<f64>) -> String {
    s.map_or_else(|| "-".into(), |s| format!("{s:.1}s"))
}

fn median(v: &mut [f64]) -> Option<f64> {
    if v.is_empty() {
        return None;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// The bug's place in the plan (unknown ids last), for the summary's row order.
fn rank(bug: &str) -> usize {
    PLAN.iter()
        .position(|(id, _)| id.eq_ignore_ascii_case(bug))
        .unwrap_or(99)
}

/// The line printed as each run ends.
pub fn progress_line(run: &Run) -> String {
    format!(
        "{:<9} {:<9} rep {}: reached {:<8} triggered {:<8} crash {:<8} {}",
        run.bug,
        run.target,
        run.rep,
        secs(run.reach_s),
        secs(run.trigger_s),
        secs(run.crash_s),
        if run.crash_is_bug {
            run.signature.as_str()
        } else if run.crash_s.is_some() {
            "(crash, not this bug)"
        } else {
            ""
        }
    )
}

/// Every run, one CSV line each (the libFuzzer seed is the repetition).
pub fn csv(runs: &[Run]) -> String {
    let mut out = String::from(
        "bug,target,rep,seed,budget_s,reached,reach_s,triggered,trigger_s,trigger_in_seeds,\
         crashed,crash_s,crash_is_bug,execs,exec_per_sec,wall_s,signature,artifact\n",
    );
    let f = |s: Option<f64>| s.map_or_else(String::new, |s| format!("{s:.2}"));
    for r in runs {
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{},{:.1},\"{}\",{}",
            r.bug,
            r.target,
            r.rep,
            r.rep,
            r.budget,
            r.reach_s.is_some(),
            f(r.reach_s),
            r.trigger_s.is_some(),
            f(r.trigger_s),
            r.in_seeds,
            r.crash_s.is_some(),
            f(r.crash_s),
            r.crash_is_bug,
            r.execs,
            r.exec_per_sec,
            r.wall_s,
            r.signature.replace('"', "'"),
            r.artifact
        );
    }
    out
}

/// The markdown summary: one row per (bug, target) in plan order, then per-bug and
/// overall lines; marked `**No seeds**` (its own BENCHMARKS section) for runs from an
/// empty corpus.
pub fn summary(runs: &[Run], budget: u64, reps: u32, no_seeds: bool) -> String {
    let mut groups: BTreeMap<(usize, String), Vec<&Run>> = BTreeMap::new();
    for r in runs {
        groups
            .entry((rank(&r.bug), r.target.clone()))
            .or_default()
            .push(r);
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Budget {budget} s per run, {reps} repetition(s) (libFuzzer seeds 1..={reps}), one core, \
         `-s none`, from the committed corpus. *reached*/*triggered*: runs whose canary fired; \
         *detected*: runs that crashed on the planted bug (its canary fires on replay). \
         Times are from process start (seed corpus loading included); `seeds` = triggered \
         while the seed corpus was still being loaded.\n"
    );
    out.push_str("| bug | target | kind | reached | triggered | detected | time-to-trigger median (min-max) | time-to-detect median | signature |\n");
    out.push_str("|---|---|---|---|---|---|---|---|---|\n");
    let mut best_per_bug: BTreeMap<usize, (String, f64)> = BTreeMap::new();
    let mut best_structured: BTreeMap<usize, f64> = BTreeMap::new();
    for ((order, target), rs) in &groups {
        let n = rs.len();
        let reached = rs.iter().filter(|r| r.reach_s.is_some()).count();
        let mut trig: Vec<f64> = rs.iter().filter_map(|r| r.trigger_s).collect();
        let seeds = rs.iter().filter(|r| r.in_seeds).count();
        let triggered = trig.len();
        let mut det: Vec<f64> = rs
            .iter()
            .filter(|r| r.crash_is_bug)
            .filter_map(|r| r.crash_s)
            .collect();
        let detected = det.len();
        let spread = match (
            trig.iter().copied().reduce(f64::min),
            trig.iter().copied().reduce(f64::max),
        ) {
            (Some(a), Some(b)) => format!(" ({a:.1}-{b:.1})"),
            _ => String::new(),
        };
        let mt = median(&mut trig);
        let md = median(&mut det);
        let signature = rs
            .iter()
            .find(|r| r.crash_is_bug)
            .or_else(|| rs.iter().find(|r| !r.signature.is_empty()))
            .map_or(String::new(), |r| {
                let tag = if r.crash_is_bug { "" } else { "(not the bug) " };
                format!("{tag}`{}`", r.signature.replace('|', "/"))
            });
        let kind = kind(target);
        let bug = rs.first().map_or("", |r| r.bug.as_str());
        let seeds_note = if seeds > 0 {
            format!(" ({seeds} seeds)")
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "| {bug} | {target} | {kind} | {reached}/{n} | {triggered}/{n}{seeds_note} | {detected}/{n} | {}{spread} | {} | {signature} |",
            secs(mt),
            secs(md),
        );
        if let (Some(t), true) = (md, detected > 0) {
            let e = best_per_bug
                .entry(*order)
                .or_insert((target.clone(), f64::MAX));
            if t < e.1 {
                *e = (target.clone(), t);
            }
            if kind == "structured" {
                let s = best_structured.entry(*order).or_insert(f64::MAX);
                *s = s.min(t);
            }
        }
    }
    let bugs: BTreeSet<usize> = groups.keys().map(|(o, _)| *o).collect();
    let found = bugs.iter().filter(|o| best_per_bug.contains_key(o)).count();
    let _ = writeln!(
        out,
        "\nBugs detected by at least one target: {found}/{}.",
        bugs.len()
    );
    let mut structured: Vec<f64> = best_structured.values().copied().collect();
    let _ = writeln!(
        out,
        "Median over bugs of the best structured target's median time-to-detect: {} ({} bugs detected by a structured target).",
        secs(median(&mut structured)),
        structured.len()
    );
    if no_seeds {
        out = format!("**No seeds** (empty starting corpus). {out}");
    }
    out
}

/// `text` (BENCHMARKS.md) with `table` between its planted-eval markers, or appended
/// under a heading when the markers are missing. A table starting `**No seeds**` has its
/// own markers and heading.
pub fn with_section(text: &str, table: &str) -> String {
    let (start, end) = if table.starts_with("**No seeds**") {
        (
            "<!-- planted-eval-noseeds:start -->",
            "<!-- planted-eval-noseeds:end -->",
        )
    } else {
        ("<!-- planted-eval:start -->", "<!-- planted-eval:end -->")
    };
    let section = format!("{start}\n{table}{end}");
    match (text.find(start), text.find(end)) {
        (Some(a), Some(b)) if a < b => {
            let before = text.get(..a).unwrap_or_default();
            let after = text.get(b + end.len()..).unwrap_or_default();
            format!("{before}{section}{after}")
        }
        _ => {
            let heading = if start.contains("noseeds") {
                "### Without the seed corpus (`wkfuzz eval --no-seeds`)"
            } else {
                "## Planted-bug evaluation (`ci/eval.sh`)"
            };
            format!("{}\n\n{heading}\n\n{section}\n", text.trim_end())
        }
    }
}

/// `text` with the section between `<!-- {name}:start -->` and `<!-- {name}:end -->`
/// replaced by `body`, or with the section appended under `heading`.
pub fn with_marked_section(text: &str, name: &str, heading: &str, body: &str) -> String {
    let (start, end) = (
        format!("<!-- {name}:start -->"),
        format!("<!-- {name}:end -->"),
    );
    let section = format!("{start}\n{body}{end}");
    match (text.find(&start), text.find(&end)) {
        (Some(a), Some(b)) if a < b => {
            let before = text.get(..a).unwrap_or_default();
            let after = text.get(b + end.len()..).unwrap_or_default();
            format!("{before}{section}{after}")
        }
        _ => format!("{}\n\n{heading}\n\n{section}\n", text.trim_end()),
    }
}

/// Replaces (or appends) the marked section of the file at `path` (a missing file is
/// empty).
///
/// # Errors
/// [`EvalError::Io`] if the file cannot be written.
pub fn write_section(path: &Path, table: &str) -> Result<(), EvalError> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    std::fs::write(path, with_section(&text, table)).map_err(|source| EvalError::Io {
        what: format!("writing {}", path.display()),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(bug: &str, target: &str, rep: u32) -> Run {
        Run {
            bug: bug.into(),
            target: target.into(),
            rep,
            budget: 30,
            execs: 1000,
            exec_per_sec: 33,
            wall_s: 30.04,
            ..Run::default()
        }
    }

    /// A run whose bug triggered at `trigger` and crashed at `crash` (on the bug or not).
    fn crashed(bug: &str, target: &str, rep: u32, trigger: f64, crash: f64, is_bug: bool) -> Run {
        Run {
            reach_s: Some(trigger / 2.0),
            trigger_s: Some(trigger),
            crash_s: Some(crash),
            crash_is_bug: is_bug,
            signature: "index out of bounds | \"x\" @ f (a.rs:1)".into(),
            artifact: format!("eval/artifacts/{bug}-{target}-{rep}"),
            ..run(bug, target, rep)
        }
    }

    #[test]
    fn progress_lines_say_what_each_run_found() {
        assert_eq!(
            progress_line(&run("TRUNC", "frame", 1)),
            "TRUNC     frame     rep 1: reached -        triggered -        crash -        "
        );
        assert_eq!(
            progress_line(&crashed("TRUNC", "codec", 2, 1.25, 1.5, true)),
            "TRUNC     codec     rep 2: reached 0.6s     triggered 1.2s     crash 1.5s     index out of bounds | \"x\" @ f (a.rs:1)"
        );
        assert!(
            progress_line(&crashed("TRUNC", "codec", 2, 1.0, 1.5, false))
                .ends_with("crash 1.5s     (crash, not this bug)")
        );
    }

    #[test]
    fn csv_has_one_line_per_run_with_quotes_made_safe() {
        let text = csv(&[
            run("TRUNC", "frame", 1),
            crashed("TRUNC", "codec", 2, 2.0, 2.5, true),
        ]);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines[0].starts_with("bug,target,rep,seed,budget_s,reached,"));
        assert_eq!(
            lines[1],
            "TRUNC,frame,1,1,30,false,,false,,false,false,,false,1000,33,30.0,\"\","
        );
        assert_eq!(
            lines[2],
            "TRUNC,codec,2,2,30,true,1.00,true,2.00,false,true,2.50,true,1000,33,30.0,\"index out of bounds | 'x' @ f (a.rs:1)\",eval/artifacts/TRUNC-codec-2"
        );
    }

    #[test]
    fn summary_rows_follow_the_plan_with_medians_and_totals() {
        let runs = [
            crashed("TRUNC", "codec", 1, 1.0, 1.5, true),
            crashed("TRUNC", "codec", 2, 3.0, 3.5, true),
            crashed("TRUNC", "frame", 1, 9.0, 9.5, false),
            run("TRUNC", "frame", 2),
            crashed("TLS-127", "handshake", 1, 4.0, 4.25, true),
            run("PROXY-458", "proxy", 1),
        ];
        let text = summary(&runs, 30, 2, false);
        assert!(text.starts_with("Budget 30 s per run, 2 repetition(s) (libFuzzer seeds 1..=2)"));
        let rows: Vec<&str> = text.lines().filter(|l| l.starts_with("| ")).collect();
        assert_eq!(
            rows,
            [
                "| bug | target | kind | reached | triggered | detected | time-to-trigger median (min-max) | time-to-detect median | signature |",
                "| TLS-127 | handshake | structured | 1/1 | 1/1 | 1/1 | 4.0s (4.0-4.0) | 4.2s | `index out of bounds / \"x\" @ f (a.rs:1)` |",
                "| TRUNC | codec | structured | 2/2 | 2/2 | 2/2 | 2.0s (1.0-3.0) | 2.5s | `index out of bounds / \"x\" @ f (a.rs:1)` |",
                "| TRUNC | frame | byte-level | 1/2 | 1/2 | 0/2 | 9.0s (9.0-9.0) | - | (not the bug) `index out of bounds / \"x\" @ f (a.rs:1)` |",
                "| PROXY-458 | proxy | structured | 0/1 | 0/1 | 0/1 | - | - |  |",
            ]
        );
        assert!(text.ends_with(
            "\nBugs detected by at least one target: 2/3.\n\
             Median over bugs of the best structured target's median time-to-detect: 3.4s (2 bugs detected by a structured target).\n"
        ), "{text}");
        let seeded = Run {
            in_seeds: true,
            ..crashed("KEY-L1", "keys", 1, 0.5, 0.75, true)
        };
        let text = summary(&[seeded], 30, 1, true);
        assert!(text.starts_with("**No seeds** (empty starting corpus). Budget 30 s"));
        assert!(
            text.contains("| KEY-L1 | keys | structured | 1/1 | 1/1 (1 seeds) | 1/1 |"),
            "{text}"
        );
    }

    #[test]
    fn the_section_is_replaced_between_its_markers_or_appended() {
        let appended = with_section("# Bench\n\nintro\n\n", "T1\n");
        assert_eq!(
            appended,
            "# Bench\n\nintro\n\n## Planted-bug evaluation (`ci/eval.sh`)\n\n<!-- planted-eval:start -->\nT1\n<!-- planted-eval:end -->\n"
        );
        let replaced = with_section(&format!("{appended}\n## Next\n"), "T2\n");
        assert_eq!(
            replaced,
            "# Bench\n\nintro\n\n## Planted-bug evaluation (`ci/eval.sh`)\n\n<!-- planted-eval:start -->\nT2\n<!-- planted-eval:end -->\n\n## Next\n"
        );
        let both = with_section(&replaced, "**No seeds** T3\n");
        assert!(both.contains("<!-- planted-eval:start -->\nT2\n<!-- planted-eval:end -->"));
        assert!(both.ends_with(
            "## Next\n\n### Without the seed corpus (`wkfuzz eval --no-seeds`)\n\n<!-- planted-eval-noseeds:start -->\n**No seeds** T3\n<!-- planted-eval-noseeds:end -->\n"
        ));
        // End marker before the start marker: appended, the damaged text kept.
        let odd = with_section(
            "<!-- planted-eval:end --> <!-- planted-eval:start -->",
            "T\n",
        );
        assert!(
            odd.starts_with("<!-- planted-eval:end --> <!-- planted-eval:start -->\n\n## Planted")
        );
    }

    #[test]
    fn a_marked_section_is_appended_once_then_replaced() {
        let first = with_marked_section("# Bench\n", "set2", "### Set 2", "table 1\n");
        assert_eq!(
            first,
            "# Bench\n\n### Set 2\n\n<!-- set2:start -->\ntable 1\n<!-- set2:end -->\n"
        );
        let second = with_marked_section(&format!("{first}tail\n"), "set2", "### Set 2", "t2\n");
        assert_eq!(
            second,
            "# Bench\n\n### Set 2\n\n<!-- set2:start -->\nt2\n<!-- set2:end -->\ntail\n"
        );
    }
}
