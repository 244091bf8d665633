//! Survival analysis of planted-bug trials (`wkfuzz eval --survival`, `--report`): per
//! (bug, target) pair, the fraction of trials that detected the bug within the budget, the
//! median time-to-detect, and a plot of the fraction of trials still undetected over time.
//!
//! A trial is detected at the time its fuzzer crashed on the planted bug; a trial that ran
//! out of budget, or stopped on some other crash, is censored at the time it ended. The
//! fraction undetected is the Kaplan-Meier estimate (with no censoring before the budget it
//! is simply the share of trials not yet detected), and the median time-to-detect is the
//! first time that estimate is at or below one half: "not reached" when half the trials or
//! more never detected the bug. Input rows are the evaluation's CSV (`eval/results*.csv`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One fuzzing trial of one (bug, target) pair.
#[derive(Clone, Debug, PartialEq)]
pub struct Trial {
    /// Planted bug id.
    pub bug: String,
    /// Fuzz target.
    pub target: String,
    /// Its budget, seconds.
    pub budget_s: f64,
    /// When it detected the bug, seconds from its start.
    pub detected_s: Option<f64>,
    /// When it ended (detection, budget, or another crash), seconds from its start.
    pub ended_s: f64,
}

/// The numbers of one (bug, target) pair.
#[derive(Clone, Debug, PartialEq)]
pub struct PairStats {
    /// Planted bug id.
    pub bug: String,
    /// Fuzz target.
    pub target: String,
    /// Trials run.
    pub trials: usize,
    /// Trials that detected the bug within the budget.
    pub detected: usize,
    /// Trials stopped before the budget by another crash (censored there).
    pub stopped: usize,
    /// Median time-to-detect (Kaplan-Meier); `None` when not reached within the budget.
    pub median_s: Option<f64>,
    /// The budget (the longest of the trials').
    pub budget_s: f64,
}

/// Reads trials from the evaluation's CSV text (header line first). Rows whose budget or
/// times do not parse are skipped.
pub fn read_csv(text: &str) -> Vec<Trial> {
    let mut lines = text.lines();
    let Some(header) = lines.next() else {
        return Vec::new();
    };
    let col: BTreeMap<&str, usize> = header.split(',').enumerate().map(|(i, c)| (c, i)).collect();
    let num = |s: Option<&str>| s.and_then(|s| s.parse::<f64>().ok());
    lines
        .filter_map(|line| {
            // The signature is the only quoted field and comes after every column read here.
            let fields: Vec<&str> = line.split(',').collect();
            let get = |name: &str| col.get(name).and_then(|&i| fields.get(i).copied());
            let budget_s = num(get("budget_s"))?;
            let wall = num(get("wall_s")).unwrap_or(budget_s);
            let crash = num(get("crash_s"));
            let is_bug = get("crash_is_bug") == Some("true");
            let detected_s = crash.filter(|&t| is_bug && t <= budget_s);
            let ended_s = crash.unwrap_or(wall).min(budget_s);
            Some(Trial {
                bug: get("bug")?.to_owned(),
                target: get("target")?.to_owned(),
                budget_s,
                detected_s,
                ended_s,
            })
        })
        .collect()
}

/// The Kaplan-Meier curve of `trials`: `(time, fraction undetected from then on)` at each
/// detection time, starting with `(0, 1)`.
pub fn curve(trials: &[&Trial]) -> Vec<(f64, f64)> {
    let mut events: Vec<(f64, bool)> = trials
        .iter()
        .map(|t| (t.detected_s.unwrap_or(t.ended_s), t.detected_s.is_some()))
        .collect();
    // At equal times detections come before censorings (the usual convention).
    events.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
    let mut at_risk = events.len();
    let mut surviving = 1.0;
    let mut out = vec![(0.0, 1.0)];
    for (time, detected) in events {
        if detected && at_risk > 0 {
            surviving *= 1.0 - 1.0 / at_risk as f64;
            out.push((time, surviving));
        }
        at_risk = at_risk.saturating_sub(1);
    }
    out
}

/// Per pair, in first-seen order of bugs and targets.
pub fn pair_stats(trials: &[Trial]) -> Vec<PairStats> {
    let mut order: Vec<(String, String)> = Vec::new();
    for t in trials {
        let key = (t.bug.clone(), t.target.clone());
        if !order.contains(&key) {
            order.push(key);
        }
    }
    order
        .into_iter()
        .map(|(bug, target)| {
            let group: Vec<&Trial> = trials
                .iter()
                .filter(|t| t.bug == bug && t.target == target)
                .collect();
            let median_s = curve(&group)
                .into_iter()
                .find(|&(_, s)| s <= 0.5 + 1e-9)
                .map(|(t, _)| t);
            PairStats {
                trials: group.len(),
                detected: group.iter().filter(|t| t.detected_s.is_some()).count(),
                stopped: group
                    .iter()
                    .filter(|t| t.detected_s.is_none() && t.ended_s < t.budget_s)
                    .count(),
                median_s,
                budget_s: group.iter().map(|t| t.budget_s).fold(0.0, f64::max),
                bug,
                target,
            }
        })
        .collect()
}

/// The markdown table: one row per pair, then one line per bug saying whether some target
/// detected it in at least half of its trials.
pub fn table(stats: &[PairStats]) -> String {
    let mut out = String::from(
        "| bug | target | trials | detected within budget | stopped early by another crash | fraction | median time-to-detect |\n\
         |---|---|---|---|---|---|---|\n",
    );
    for s in stats {
        let median = s.median_s.map_or_else(
            || format!("not reached (> {:.0} s)", s.budget_s),
            |m| format!("{m:.1} s"),
        );
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {:.2} | {} |",
            s.bug,
            s.target,
            s.trials,
            s.detected,
            s.stopped,
            fraction(s),
            median
        );
    }
    let mut bugs: Vec<&str> = Vec::new();
    for s in stats {
        if !bugs.contains(&s.bug.as_str()) {
            bugs.push(&s.bug);
        }
    }
    let met: Vec<&str> = bugs
        .iter()
        .copied()
        .filter(|b| {
            stats
                .iter()
                .any(|s| s.bug == *b && s.trials > 0 && 2 * s.detected >= s.trials)
        })
        .collect();
    let _ = writeln!(
        out,
        "\nDetected by some target in at least half of its trials: {}/{} bugs{}.",
        met.len(),
        bugs.len(),
        if met.len() == bugs.len() {
            String::new()
        } else {
            let missed: Vec<&str> = bugs.iter().copied().filter(|b| !met.contains(b)).collect();
            format!(" (not: {})", missed.join(", "))
        }
    );
    out
}

fn fraction(s: &PairStats) -> f64 {
    if s.trials == 0 {
        0.0
    } else {
        s.detected as f64 / s.trials as f64
    }
}

/// Colours of the targets' curves, in order of first appearance.
const COLOURS: [&str; 6] = [
    "#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b",
];
const PANEL_W: f64 = 300.0;
const PANEL_H: f64 = 190.0;
const MARGIN_L: f64 = 46.0;
const MARGIN_T: f64 = 26.0;
const MARGIN_B: f64 = 34.0;
const PLOT_W: f64 = PANEL_W - MARGIN_L - 12.0;
const PLOT_H: f64 = PANEL_H - MARGIN_T - MARGIN_B;
/// The time axis is logarithmic from this many seconds (detections come from well under a
/// second to the whole budget).
const T_MIN: f64 = 0.1;

/// The survival plot: one panel per bug, one step curve per target (fraction of trials still
/// undetected against time, log scale, up to the budget), a legend of targets at the top.
pub fn svg(trials: &[Trial], title: &str) -> String {
    let stats = pair_stats(trials);
    let mut bugs: Vec<String> = Vec::new();
    let mut targets: Vec<String> = Vec::new();
    for s in &stats {
        if !bugs.contains(&s.bug) {
            bugs.push(s.bug.clone());
        }
        if !targets.contains(&s.target) {
            targets.push(s.target.clone());
        }
    }
    let budget = trials.iter().map(|t| t.budget_s).fold(1.0, f64::max);
    let cols = bugs.len().clamp(1, 3);
    let rows = bugs.len().div_ceil(cols).max(1);
    let legend_h = 44.0;
    let (width, height) = (cols as f64 * PANEL_W, legend_h + rows as f64 * PANEL_H);
    let mut out = String::new();
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0}" height="{height:.0}" viewBox="0 0 {width:.0} {height:.0}" font-family="sans-serif" font-size="11">"#
    );
    let _ = writeln!(out, r#"<rect width="100%" height="100%" fill="white"/>"#);
    let _ = writeln!(
        out,
        r#"<text x="8" y="16" font-size="13">{}</text>"#,
        escape(title)
    );
    for (k, target) in targets.iter().enumerate() {
        let x = 8.0 + k as f64 * 110.0;
        let colour = COLOURS[k % COLOURS.len()];
        let _ = writeln!(
            out,
            r#"<line x1="{x:.0}" y1="32" x2="{:.0}" y2="32" stroke="{colour}" stroke-width="2"/><text x="{:.0}" y="36">{}</text>"#,
            x + 20.0,
            x + 24.0,
            escape(target)
        );
    }
    let x_of = |t: f64| {
        let t = t.clamp(T_MIN, budget);
        MARGIN_L + PLOT_W * (t / T_MIN).ln() / (budget / T_MIN).ln()
    };
    let y_of = |s: f64| MARGIN_T + PLOT_H * (1.0 - s);
    for (b, bug) in bugs.iter().enumerate() {
        let (ox, oy) = (
            (b % cols) as f64 * PANEL_W,
            legend_h + (b / cols) as f64 * PANEL_H,
        );
        let _ = writeln!(out, r#"<g transform="translate({ox:.0},{oy:.0})">"#);
        let _ = writeln!(
            out,
            r#"<text x="{MARGIN_L:.0}" y="16" font-weight="bold">{}</text>"#,
            escape(bug)
        );
        // Axes, grid and ticks.
        let _ = writeln!(
            out,
            r##"<rect x="{MARGIN_L:.0}" y="{MARGIN_T:.0}" width="{PLOT_W:.0}" height="{PLOT_H:.0}" fill="none" stroke="#444"/>"##
        );
        for s in [0.0, 0.5, 1.0] {
            let y = y_of(s);
            let _ = writeln!(
                out,
                r##"<line x1="{MARGIN_L:.0}" y1="{y:.1}" x2="{:.0}" y2="{y:.1}" stroke="#ddd"/><text x="{:.0}" y="{:.1}" text-anchor="end">{s:.1}</text>"##,
                MARGIN_L + PLOT_W,
                MARGIN_L - 4.0,
                y + 4.0
            );
        }
        for tick in [1.0, 10.0, 60.0, 600.0, 3600.0]
            .into_iter()
            .filter(|&t| t <= budget)
        {
            let x = x_of(tick);
            let label = if tick >= 60.0 {
                format!("{:.0}m", tick / 60.0)
            } else {
                format!("{tick:.0}s")
            };
            let _ = writeln!(
                out,
                r##"<line x1="{x:.1}" y1="{MARGIN_T:.0}" x2="{x:.1}" y2="{:.0}" stroke="#eee"/><text x="{x:.1}" y="{:.0}" text-anchor="middle">{label}</text>"##,
                MARGIN_T + PLOT_H,
                MARGIN_T + PLOT_H + 13.0
            );
        }
        let _ = writeln!(
            out,
            r#"<text x="{:.0}" y="{:.0}" text-anchor="middle">time (log)</text>"#,
            MARGIN_L + PLOT_W / 2.0,
            MARGIN_T + PLOT_H + 27.0
        );
        for (k, target) in targets.iter().enumerate() {
            let group: Vec<&Trial> = trials
                .iter()
                .filter(|t| &t.bug == bug && &t.target == target)
                .collect();
            if group.is_empty() {
                continue;
            }
            let mut d = format!("M{:.1},{:.1}", x_of(T_MIN), y_of(1.0));
            let mut last = 1.0;
            for (t, s) in curve(&group).into_iter().skip(1) {
                let _ = write!(d, " H{:.1} V{:.1}", x_of(t), y_of(s));
                last = s;
            }
            let _ = write!(d, " H{:.1}", x_of(budget));
            let dash = if k == 0 {
                ""
            } else {
                r#" stroke-dasharray="5,3""#
            };
            let _ = writeln!(
                out,
                r#"<path d="{d}" fill="none" stroke="{}" stroke-width="2"{dash}><title>{} / {}: {} of {} trials undetected at the end</title></path>"#,
                COLOURS[k % COLOURS.len()],
                escape(bug),
                escape(target),
                (last * group.len() as f64).round(),
                group.len()
            );
        }
        let _ = writeln!(out, "</g>");
    }
    out.push_str("</svg>\n");
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn trial(target: &str, detected: Option<f64>) -> Trial {
        Trial {
            bug: "B".into(),
            target: target.into(),
            budget_s: 600.0,
            detected_s: detected,
            ended_s: detected.unwrap_or(600.0),
        }
    }

    #[test]
    fn median_is_where_half_the_trials_have_detected() {
        let trials = vec![
            trial("s", Some(30.0)),
            trial("s", Some(10.0)),
            trial("s", Some(20.0)),
            trial("s", None),
            trial("s", None),
            trial("f", Some(5.0)),
            trial("f", None),
            trial("f", None),
        ];
        let stats = pair_stats(&trials);
        assert_eq!(stats.len(), 2);
        assert_eq!((stats[0].trials, stats[0].detected), (5, 3));
        // 5 trials: after 10 s 4/5 undetected, after 20 s 3/5, after 30 s 2/5 <= 1/2.
        assert_eq!(stats[0].median_s, Some(30.0));
        assert_eq!((stats[1].detected, stats[1].median_s), (1, None));
        let table = table(&stats);
        assert!(
            table.contains("| B | s | 5 | 3 | 0 | 0.60 | 30.0 s |"),
            "{table}"
        );
        assert!(table.contains("| B | f | 3 | 1 | 0 | 0.33 | not reached (> 600 s) |"));
        assert!(table.contains("at least half of its trials: 1/1 bugs."));
    }

    #[test]
    fn a_trial_stopped_by_another_crash_is_censored_there() {
        let mut stopped = trial("s", None);
        stopped.ended_s = 5.0;
        let trials = [trial("s", Some(10.0)), stopped];
        let refs: Vec<&Trial> = trials.iter().collect();
        // At 10 s only one trial is still at risk, and it detects: nothing survives.
        assert_eq!(curve(&refs), vec![(0.0, 1.0), (10.0, 0.0)]);
        let stats = pair_stats(&trials);
        assert_eq!((stats[0].detected, stats[0].stopped), (1, 1));
        assert!(table(&stats).contains("| B | s | 2 | 1 | 1 | 0.50 | 10.0 s |"));
    }

    #[test]
    fn csv_rows_become_trials() {
        let csv = "bug,target,rep,seed,budget_s,reached,reach_s,triggered,trigger_s,trigger_in_seeds,crashed,crash_s,crash_is_bug,execs,exec_per_sec,wall_s,signature,artifact\n\
                   KICK-ACK,session,1,1,600,true,0.50,true,12.00,false,true,12.30,true,100,10,12.4,\"x @ y, z\",eval/a\n\
                   KICK-ACK,session,2,2,600,true,0.50,false,,false,true,3.00,false,100,10,3.1,\"other\",eval/b\n\
                   KICK-ACK,frame,1,1,600,false,,false,,false,false,,false,100,10,600.2,\"\",\n";
        let trials = read_csv(csv);
        assert_eq!(trials.len(), 3);
        assert_eq!(trials[0].detected_s, Some(12.3));
        assert_eq!((trials[1].detected_s, trials[1].ended_s), (None, 3.0));
        assert_eq!((trials[2].detected_s, trials[2].ended_s), (None, 600.0));
    }

    #[test]
    fn the_plot_has_a_panel_per_bug_and_a_curve_per_pair() {
        let mut trials = vec![trial("session", Some(3.0)), trial("frame", None)];
        trials.push(Trial {
            bug: "C".into(),
            ..trial("session", Some(50.0))
        });
        let svg = svg(&trials, "survival <test>");
        assert!(svg.starts_with("<svg"));
        assert_eq!(svg.matches("<path ").count(), 3);
        assert_eq!(svg.matches("font-weight=\"bold\"").count(), 2);
        assert!(svg.contains("survival &lt;test&gt;"));
        assert!(svg.contains("B / frame: 1 of 1 trials undetected"));
        assert!(svg.contains("B / session: 0 of 1 trials undetected"));
    }
}
