//! The campaign report page `wkfuzz fuzz` writes: the fuzz summary, coverage, features,
//! exec/s and corpus size over time (SVG), every finding with its `wkfuzz repro` command,
//! the release gate's table and, when `wkfuzz coverage` has run, its module table.

use super::coverage::module_table;
use super::html::{escape, page};
use super::svg::{color, line_plot, Series};
use crate::coverage::summary::CoverageSummary;
use crate::triage::campaign::{FuzzStats, Status};
use crate::triage::gate::{repro_command, GateReport, Kind};
use crate::triage::report;
use crate::triage::timeline::Sample;
use std::fmt::Write as _;
use std::path::{Component, Path, PathBuf};

/// One target's libFuzzer run.
#[derive(Clone, Debug)]
pub struct FuzzRun {
    /// The target.
    pub target: String,
    /// Wall seconds.
    pub secs: f64,
    /// libFuzzer's final numbers.
    pub stats: FuzzStats,
    /// Whether libFuzzer stopped on a crash, leak or timeout.
    pub crashed: bool,
    /// Inputs it added to the new-corpus directory.
    pub new_inputs: usize,
    /// Its status lines over time.
    pub timeline: Vec<Sample>,
    /// Its log file.
    pub log: PathBuf,
}

impl From<&crate::triage::fuzz::FuzzRun> for FuzzRun {
    fn from(run: &crate::triage::fuzz::FuzzRun) -> FuzzRun {
        FuzzRun {
            target: run.target.name().to_owned(),
            secs: run.secs,
            stats: run.stats.clone(),
            crashed: run.crashed,
            new_inputs: run.new_inputs,
            timeline: run.timeline.clone(),
            log: run.log.clone(),
        }
    }
}

impl FuzzRun {
    /// The artifact to reproduce (libFuzzer's, or the target's artifact directory).
    pub fn artifact(&self) -> String {
        self.stats
            .artifact
            .clone()
            .unwrap_or_else(|| format!("fuzz/artifacts/{}/", self.target))
    }
}

/// A coverage summary and where its report is.
#[derive(Clone, Debug)]
pub struct CoverageLink {
    /// The numbers.
    pub summary: CoverageSummary,
    /// Its `index.html`.
    pub page: PathBuf,
    /// How old it is, in seconds, when the campaign page is written.
    pub age_secs: u64,
}

/// Everything the page shows.
#[derive(Clone, Debug)]
pub struct Campaign<'a> {
    /// Seconds per target asked for.
    pub budget_secs: u64,
    /// The runs, in order.
    pub runs: &'a [FuzzRun],
    /// The gate, if it ran.
    pub gate: Option<&'a GateReport>,
    /// The latest coverage report, if any.
    pub coverage: Option<CoverageLink>,
}

/// A metric plotted over time.
struct Metric {
    id: &'static str,
    title: &'static str,
    value: fn(&Status) -> u64,
}

const METRICS: [Metric; 4] = [
    Metric {
        id: "cov",
        title: "coverage (libFuzzer cov: edges)",
        value: |s| s.cov,
    },
    Metric {
        id: "ft",
        title: "features (ft:)",
        value: |s| s.ft,
    },
    Metric {
        id: "execs",
        title: "executions per second",
        value: |s| s.exec_per_sec,
    },
    Metric {
        id: "corpus",
        title: "corpus size (inputs)",
        value: |s| s.corpus,
    },
];

/// `to` as a link relative to the directory `from` (both absolute, or both relative to
/// the same directory).
pub fn relative_link(from: &Path, to: &Path) -> String {
    let a: Vec<Component> = from.components().collect();
    let b: Vec<Component> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = vec!["..".to_owned(); a.len() - common];
    parts.extend(
        b[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}

fn series(runs: &[FuzzRun], metric: &Metric) -> Vec<Series> {
    runs.iter()
        .enumerate()
        .map(|(i, r)| Series {
            name: r.target.clone(),
            color: color(i),
            points: r
                .timeline
                .iter()
                .map(|s| (s.secs(), (metric.value)(&s.status) as f64))
                .collect(),
        })
        .collect()
}

fn summary_table(runs: &[FuzzRun]) -> String {
    let mut out = String::from(
        "<table id=\"fuzz-summary\">\n<tr><th class=\"name\">target</th><th>seconds</th>\
         <th>executions</th><th>exec/s</th><th>cov</th><th>ft</th><th>corpus</th>\
         <th>new inputs</th><th class=\"name\">result</th></tr>\n",
    );
    for r in runs {
        let _ = writeln!(
            out,
            "<tr{}><td class=\"name\">{}</td><td>{:.0}</td><td>{}</td><td>{}</td><td>{}</td>\
             <td>{}</td><td>{}</td><td>{}</td><td class=\"name\">{}</td></tr>",
            if r.crashed { " class=\"fail\"" } else { "" },
            escape(&r.target),
            r.secs,
            r.stats.execs,
            r.stats.exec_per_sec,
            r.stats.cov,
            r.stats.ft,
            r.stats.corpus,
            r.new_inputs,
            if r.crashed { "CRASH" } else { "ok" }
        );
    }
    let execs: u64 = runs.iter().map(|r| r.stats.execs).sum();
    let secs: f64 = runs.iter().map(|r| r.secs).sum();
    let new: usize = runs.iter().map(|r| r.new_inputs).sum();
    let _ = writeln!(
        out,
        "<tr class=\"total\"><td class=\"name\">total</td><td>{secs:.0}</td><td>{execs}</td>\
         <td></td><td></td><td></td><td></td><td>{new}</td><td class=\"name\">{} crash(es)</td></tr>\n</table>",
        runs.iter().filter(|r| r.crashed).count()
    );
    out
}

fn plots(runs: &[FuzzRun]) -> String {
    let mut out = String::from("<ul class=\"legend\">");
    for (i, r) in runs.iter().enumerate() {
        let _ = write!(
            out,
            "<li><span class=\"swatch\" style=\"background:{}\"></span>{}</li>",
            color(i),
            escape(&r.target)
        );
    }
    out.push_str("</ul>\n<div class=\"plots\" id=\"plots\">\n");
    for m in &METRICS {
        let _ = write!(
            out,
            "<figure><figcaption>{}</figcaption>\n{}</figure>\n",
            m.title,
            line_plot(
                &format!("plot-{}", m.id),
                m.id,
                m.title,
                &series(runs, m),
                500,
                250
            )
        );
    }
    out.push_str("</div>\n");
    // One target's lines can be flat next to a larger one: each target on its own scale.
    for (i, r) in runs.iter().enumerate() {
        let _ = writeln!(
            out,
            "<details><summary>{} on its own scale</summary><div class=\"plots\">",
            escape(&r.target)
        );
        for m in &METRICS {
            let mut s = series(std::slice::from_ref(r), m);
            s[0].color = color(i);
            let _ = write!(
                out,
                "<figure><figcaption>{}</figcaption>\n{}</figure>\n",
                m.id,
                line_plot(
                    &format!("plot-{}-{}", r.target, m.id),
                    m.id,
                    m.title,
                    &s,
                    240,
                    160
                )
            );
        }
        out.push_str("</div></details>\n");
    }
    out
}

fn findings(runs: &[FuzzRun], gate: Option<&GateReport>) -> String {
    let mut items = Vec::new();
    for r in runs.iter().filter(|r| r.crashed) {
        let artifact = r.artifact();
        items.push(format!(
            "<li>crash in <b>{}</b>: <code>{}</code><br>reproduce: <code class=\"repro\">wkfuzz repro {}</code>\
             <br>keep it: <code>wkfuzz promote {} --title \"...\"</code><br>log: <code>{}</code></li>",
            escape(&r.target),
            escape(&artifact),
            escape(&artifact),
            escape(&artifact),
            escape(&r.log.display().to_string())
        ));
    }
    for f in gate.into_iter().flat_map(|g| g.failures()) {
        let what = match &f.kind {
            Kind::Corpus => "corpus input".to_owned(),
            Kind::Regression(slug) => format!("regression {slug}"),
        };
        items.push(format!(
            "<li>gate failure in <b>{}</b> ({}): <code>{}</code><br>{}<br>reproduce: <code class=\"repro\">{}</code></li>",
            escape(f.target.name()),
            escape(&what),
            escape(&f.path.display().to_string()),
            escape(f.failure.as_deref().unwrap_or("")),
            escape(&repro_command(&f.path))
        ));
    }
    if items.is_empty() {
        return "<p id=\"no-findings\">No findings: no target crashed and the gate passed.</p>\n"
            .to_owned();
    }
    format!("<ol id=\"findings\">\n{}\n</ol>\n", items.join("\n"))
}

fn gate_table(gate: &GateReport) -> String {
    let mut out = String::from(
        "<table id=\"gate\">\n<tr><th class=\"name\">target</th><th>inputs</th><th>passed</th>\
         <th>failed</th><th>slowest (ms)</th><th>time (ms)</th></tr>\n",
    );
    for r in report::rows(gate) {
        let _ = writeln!(
            out,
            "<tr{}><td class=\"name\">{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.1}</td><td>{:.1}</td></tr>",
            if r.failed > 0 { " class=\"fail\"" } else { "" },
            escape(&r.target),
            r.inputs,
            r.passed,
            r.failed,
            r.slowest_ms,
            r.time_ms
        );
    }
    let _ = writeln!(
        out,
        "</table>\n<p>Gate: <b>{}</b> in {:.2} s (each input run twice{}).</p>",
        if gate.passed() { "PASS" } else { "FAIL" },
        gate.elapsed.as_secs_f64(),
        if gate.memory_checked {
            ", memory measured"
        } else {
            ""
        }
    );
    out
}

/// The page, for a file in `page_dir` (links are made relative to it).
pub fn render(c: &Campaign, page_dir: &Path) -> String {
    let crashed = c.runs.iter().any(|r| r.crashed);
    let failed = crashed || c.gate.is_some_and(|g| !g.passed());
    let mut body = String::from("<h1>wkfuzz fuzz: campaign report</h1>\n");
    let _ = writeln!(
        body,
        "<p id=\"verdict\">Result: <b>{}</b>. {} target(s), {} s each (libFuzzer on stable, \
         <code>cargo fuzz run -O -s none</code>, from the committed corpus).</p>",
        if failed { "FAIL" } else { "PASS" },
        c.runs.len(),
        c.budget_secs
    );
    body.push_str("<h2>Fuzzing summary</h2>\n");
    body.push_str(&summary_table(c.runs));
    body.push_str("<h2>Over time</h2>\n");
    body.push_str(&plots(c.runs));
    body.push_str("<h2>Findings</h2>\n");
    body.push_str(&findings(c.runs, c.gate));
    body.push_str("<h2>Release gate</h2>\n");
    match c.gate {
        Some(g) => body.push_str(&gate_table(g)),
        None => body.push_str("<p>The gate did not run (<code>--no-gate</code>).</p>\n"),
    }
    body.push_str("<h2>Coverage</h2>\n");
    match &c.coverage {
        Some(cov) => {
            let _ = writeln!(
                body,
                "<p>From <code>wkfuzz coverage</code> ({}, {} ago): what the committed corpus \
                 and regressions reach. <a href=\"{}\">Full coverage report</a>.</p>",
                cov.summary
                    .targets
                    .iter()
                    .map(|t| t.target.as_str())
                    .collect::<Vec<_>>()
                    .join(", "),
                age(cov.age_secs),
                escape(&relative_link(page_dir, &cov.page))
            );
            body.push_str(&module_table(&cov.summary));
        }
        None => body.push_str(
            "<p id=\"no-coverage\">No coverage report yet: run <code>wkfuzz coverage</code> \
             and then <code>wkfuzz fuzz</code> again, or open its report directly.</p>\n",
        ),
    }
    page("wkfuzz campaign report", &body)
}

fn age(secs: u64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{} h", s / 3600),
    }
}

/// Writes the page to `path` (creating its directory).
pub fn write(path: &Path, c: &Campaign) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    std::fs::write(path, render(c, dir))
}

/// The coverage summary at `summary_json` (written by `wkfuzz coverage`) with its report
/// page `index.html` beside it, if both are there and readable.
pub fn latest_coverage(summary_json: &Path) -> Option<CoverageLink> {
    let text = std::fs::read_to_string(summary_json).ok()?;
    let summary: CoverageSummary = serde_json::from_str(&text).ok()?;
    let page = summary_json.with_file_name("index.html");
    let modified = std::fs::metadata(summary_json).ok()?.modified().ok()?;
    Some(CoverageLink {
        summary,
        age_secs: modified.elapsed().map_or(0, |d| d.as_secs()),
        page: page.exists().then_some(page)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_relative_to_the_page() {
        assert_eq!(
            relative_link(
                Path::new("/r/target/fuzz-report"),
                Path::new("/r/target/coverage-report/index.html")
            ),
            "../coverage-report/index.html"
        );
        assert_eq!(relative_link(Path::new("/r"), Path::new("/r/a")), "a");
    }
}
