//! The coverage summary as HTML: the module table (also shown on the campaign page), the
//! per-target table and the unreached peer-input ranges, linked to llvm-cov's line pages.

use super::html::{escape, page};
use crate::coverage::run::CoverageRun;
use crate::coverage::summary::{Count, CoverageSummary};
use crate::coverage::table::pct_of;
use crate::coverage::CoverageError;
use std::fmt::Write as _;
use std::path::Path;

/// Below this share of lines a cell is shown in red (the peer-input goal).
const GOAL: f64 = 85.0;

fn cells(c: Count) -> String {
    let class = if c.percent() < GOAL { " low" } else { "" };
    format!(
        "<td class=\"pct{class}\">{:.1}%</td><td>{}/{}</td>",
        c.percent(),
        c.covered,
        c.count
    )
}

/// The module table: lines, regions, and which targets reach each module.
pub fn module_table(s: &CoverageSummary) -> String {
    let mut out = String::from(
        "<table id=\"coverage-modules\">\n<tr><th class=\"name\">module</th><th>peer input</th>\
         <th>files</th><th colspan=\"2\">lines</th><th colspan=\"2\">regions</th>\
         <th class=\"name\">reached by (share of the module's lines)</th></tr>\n",
    );
    for m in &s.modules {
        let reach: Vec<String> = m
            .reached_by
            .iter()
            .map(|r| {
                format!(
                    "{} {:.0}%",
                    escape(&r.target),
                    pct_of(r.lines.covered, m.totals.lines)
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "<tr><td class=\"name\">{}</td><td>{}</td><td>{}</td>{}{}<td class=\"name\">{}</td></tr>",
            escape(&m.name),
            if m.peer_input { "yes" } else { "" },
            m.files,
            cells(m.totals.lines),
            cells(m.totals.regions),
            if reach.is_empty() { "no target".to_owned() } else { reach.join(", ") }
        );
    }
    for (name, t) in [("peer-input modules", s.peer), ("all reported code", s.all)] {
        let _ = writeln!(
            out,
            "<tr class=\"total\"><td class=\"name\">{name}</td><td></td><td></td>{}{}<td></td></tr>",
            cells(t.lines),
            cells(t.regions)
        );
    }
    out.push_str("</table>\n");
    out
}

/// The per-target table.
pub fn target_table(s: &CoverageSummary) -> String {
    let mut out = String::from(
        "<table id=\"coverage-targets\">\n<tr><th class=\"name\">target</th><th>inputs</th>\
         <th>failed</th><th colspan=\"2\">lines (all)</th><th colspan=\"2\">lines (peer input)</th></tr>\n",
    );
    for t in &s.targets {
        let _ = writeln!(
            out,
            "<tr{}><td class=\"name\">{}</td><td>{}</td><td>{}</td>{}{}</tr>",
            if t.failed > 0 { " class=\"fail\"" } else { "" },
            escape(&t.target),
            t.inputs,
            t.failed,
            cells(t.all.lines),
            cells(t.peer.lines)
        );
    }
    out.push_str("</table>\n");
    out
}

/// Writes the coverage report's `index.html` at `path`.
pub fn write(path: &Path, run: &CoverageRun) -> Result<(), CoverageError> {
    let s = &run.summary;
    let dir = path.parent().unwrap_or(Path::new("."));
    let link = |p: &Path| {
        p.strip_prefix(dir)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned()
    };
    let mut body = String::from("<h1>wkfuzz coverage</h1>\n");
    let _ = writeln!(
        body,
        "<p>The committed corpus and regressions of {} target(s), replayed through each \
         target's <code>run</code> (as the release gate does) in a binary built with \
         <code>-C instrument-coverage</code>. Build {:.0} s, replay {:.1} s, report {:.1} s.</p>",
        s.targets.len(),
        run.build_secs,
        run.replay_secs,
        run.report_secs
    );
    body.push_str("<p>");
    if let Some(index) = &run.files.html_index {
        let _ = write!(
            body,
            "<a href=\"{}\">Per-file line and region coverage</a> (llvm-cov) · ",
            escape(&link(index))
        );
    }
    let _ = writeln!(
        body,
        "<a href=\"{}\">lcov.info</a> · <a href=\"{}\">summary.json</a> · <a href=\"{}\">unreached.txt</a></p>",
        escape(&link(&run.files.lcov)),
        escape(&link(&run.files.summary_json)),
        escape(&link(&run.files.unreached))
    );
    for w in &run.warnings {
        let _ = writeln!(body, "<p class=\"low\">warning: {}</p>", escape(w));
    }
    body.push_str("<h2>Modules</h2>\n");
    body.push_str(&module_table(s));
    body.push_str("<h2>Targets</h2>\n");
    body.push_str(&target_table(s));
    let _ = writeln!(
        body,
        "<h2>Unreached code in the peer-input modules</h2>\n<p>{} ranges: lines no input of \
         any target executes. Each is the next seed or model change to make, or dead code.</p>\n\
         <ul id=\"unreached\">",
        s.unreached.len()
    );
    for u in &s.unreached {
        let text = escape(&u.to_string());
        match &run.files.html_sources {
            Some(src) => {
                let href = format!("{}/{}.html#L{}", link(src), u.path, u.first);
                let _ = writeln!(
                    body,
                    "<li><a href=\"{}\"><code>{text}</code></a></li>",
                    escape(&href)
                );
            }
            None => {
                let _ = writeln!(body, "<li><code>{text}</code></li>");
            }
        }
    }
    body.push_str("</ul>\n");
    let html = page("wkfuzz coverage", &body);
    std::fs::write(path, html).map_err(CoverageError::io(path))
}
