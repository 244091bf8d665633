//! The campaign report page as a user sees it: a page written from a short fixture campaign
//! (three targets' libFuzzer logs, one crash, a real gate run with one failing input, a
//! coverage summary) is opened in Debian's headless Chromium through chromedriver, and the
//! rendered plots, tables and findings are checked.
//!
//! Needs Chromium and chromedriver (Debian: chromium, chromium-driver; `.ci/run` installs
//! them; `WKFUZZ_CHROMIUM` names another Chromium or Chrome binary). Where either is missing
//! the test prints "SKIPPED" and passes, except under CI (`CI` set), where it fails.

use fantoccini::{ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use wkfuzz::coverage::summary::{summarize, Count, FileCov, TargetCoverage};
use wkfuzz::pages::campaign::{self, Campaign, CoverageLink, FuzzRun};
use wkfuzz::targets::{corpus, Target};
use wkfuzz::triage::campaign::parse;
use wkfuzz::triage::gate::{run_gate, GateConfig};
use wkfuzz::triage::timeline;

/// Where Debian (and other systems) put the browser.
const BROWSERS: &[&str] = &[
    "/usr/bin/chromium",
    "/usr/bin/chromium-browser",
    "/usr/bin/google-chrome",
];
const CHROMEDRIVER: &str = "chromedriver";

fn browser() -> Option<String> {
    std::env::var("WKFUZZ_CHROMIUM")
        .ok()
        .into_iter()
        .chain(BROWSERS.iter().map(|b| (*b).to_owned()))
        .find(|b| available(b))
}

/// libFuzzer's stderr for a target: `lines` status lines, then the final stats.
fn fixture_log(lines: &[(u64, u64, u64, u64, u64)], crash: Option<&str>) -> String {
    let mut log =
        String::from("INFO: Running with entropic power schedule (0xFF, 100).\nINFO: Seed: 42\n");
    for (i, &(execs, cov, ft, corp, eps)) in lines.iter().enumerate() {
        let what = if i == 0 { "INITED" } else { "NEW   " };
        log.push_str(&format!(
            "#{execs}\t{what} cov: {cov} ft: {ft} corp: {corp}/{}b exec/s: {eps} rss: 60Mb\n",
            corp * 40
        ));
    }
    if let Some(artifact) = crash {
        log.push_str(&format!(
            "==7== ERROR: libFuzzer: deadly signal\nartifact_prefix='fuzz/artifacts/x/'; Test unit written to {artifact}\n"
        ));
    }
    let last = lines.last().copied().unwrap_or_default();
    log.push_str(&format!(
        "stat::number_of_executed_units: {}\nstat::average_exec_per_sec:     {}\nstat::peak_rss_mb:              60\n",
        last.0, last.4
    ));
    log
}

/// A run from a fixture log, its status lines stamped 2 s apart (as `wkfuzz fuzz` does
/// with the wall clock).
fn fixture_run(dir: &Path, target: &str, log: String) -> FuzzRun {
    let path = dir.join(format!("{target}.log"));
    let mut millis = 0;
    let samples = timeline::record(
        log.as_bytes(),
        std::fs::File::create(&path).unwrap(),
        || {
            millis += 2000;
            millis
        },
    )
    .unwrap();
    let stats = parse(&log);
    FuzzRun {
        target: target.to_owned(),
        secs: millis as f64 / 1000.0,
        crashed: stats.artifact.is_some(),
        stats,
        new_inputs: 3,
        timeline: samples,
        log: path,
    }
}

fn count(count: u64, covered: u64) -> Count {
    Count { count, covered }
}

fn fixture_page(dir: &Path) -> (PathBuf, Vec<FuzzRun>) {
    let runs = vec![
        fixture_run(
            dir,
            "frame",
            fixture_log(
                &[
                    (2, 400, 900, 10, 0),
                    (512, 520, 1300, 14, 2100),
                    (4096, 610, 1700, 19, 2300),
                    (20000, 640, 1800, 21, 2250),
                ],
                None,
            ),
        ),
        fixture_run(
            dir,
            "proxy",
            fixture_log(
                &[
                    (2, 90, 150, 4, 0),
                    (1024, 130, 260, 9, 9000),
                    (60000, 150, 300, 12, 9800),
                ],
                None,
            ),
        ),
        fixture_run(
            dir,
            "session",
            fixture_log(
                &[
                    (2, 3000, 8000, 30, 0),
                    (128, 3900, 9100, 41, 60),
                    (700, 4100, 9900, 47, 70),
                ],
                Some("fuzz/artifacts/session/crash-0f09c3"),
            ),
        ),
    ];
    // A real gate run: one proxy input that passes, one selftest input that hits a planted bug.
    let corpus_dir = dir.join("corpus");
    corpus::add(
        &corpus_dir.join("proxy"),
        b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n",
    )
    .unwrap();
    corpus::add(&corpus_dir.join("selftest"), b"xxBUG2").unwrap();
    let gate = run_gate(
        &GateConfig {
            corpus: corpus_dir,
            regressions: dir.join("no-regressions"),
            targets: ["proxy", "selftest"]
                .map(|n| Target::from_name(n).unwrap())
                .to_vec(),
            jobs: 1,
            ..GateConfig::default()
        },
        &|_, _| {},
    )
    .unwrap();
    assert_eq!(gate.failures().count(), 1);
    let file = |path: &str, lines: Count| FileCov {
        path: path.into(),
        lines,
        regions: lines,
        functions: count(1, 1),
    };
    let summary = summarize(
        vec![
            file("src/hub/mod.rs", count(200, 180)),
            file("src/proto/frame.rs", count(100, 99)),
        ],
        &[TargetCoverage {
            target: "frame".into(),
            inputs: 4,
            failed: 0,
            files: vec![
                file("src/hub/mod.rs", count(200, 150)),
                file("src/proto/frame.rs", count(100, 99)),
            ],
        }],
        &[],
        Path::new("/"),
    );
    let coverage_page = dir.join("coverage-report/index.html");
    std::fs::create_dir_all(coverage_page.parent().unwrap()).unwrap();
    std::fs::write(&coverage_page, "<!DOCTYPE html><title>coverage</title>").unwrap();
    let page = dir.join("fuzz-report/index.html");
    campaign::write(
        &page,
        &Campaign {
            budget_secs: 8,
            runs: &runs,
            gate: Some(&gate),
            coverage: Some(CoverageLink {
                summary,
                page: coverage_page,
                age_secs: 300,
            }),
        },
    )
    .unwrap();
    (page, runs)
}

fn available(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// chromedriver on a free port, killed on drop.
struct Driver(Child, u16);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn start_driver() -> Driver {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromedriver");
    let driver = Driver(child, port);
    let deadline = Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            Instant::now() < deadline,
            "chromedriver did not listen on {port}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    driver
}

/// What the page shows, measured in the browser.
const MEASURE: &str = r#"
const rect = e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; };
const rows = id => { const t = document.getElementById(id); return t ? t.querySelectorAll('tr').length : -1; };
return {
  scripts: document.scripts.length,
  plots: [...document.querySelectorAll('#plots svg.plot')].map(svg => ({
    metric: svg.dataset.metric,
    size: rect(svg),
    lines: [...svg.querySelectorAll('polyline.series')].map(p => ({
      target: p.dataset.target,
      points: p.points.numberOfItems,
      size: rect(p),
      length: p.getTotalLength(),
      stroke: getComputedStyle(p).stroke,
    })),
  })),
  per_target_plots: [...document.querySelectorAll('details svg.plot')].map(svg => svg.checkVisibility() ? rect(svg)[0] : 0),
  summary_rows: rows('fuzz-summary'),
  gate_rows: rows('gate'),
  coverage_rows: rows('coverage-modules'),
  repro: [...document.querySelectorAll('code.repro')].map(c => c.textContent),
  verdict: document.getElementById('verdict').textContent,
  coverage_link: [...document.querySelectorAll('a')].map(a => a.getAttribute('href')).filter(h => h.includes('coverage-report')),
};
"#;

#[tokio::test(flavor = "current_thread")]
async fn campaign_page_renders_plots_tables_and_findings_in_chromium() {
    let chromium = browser();
    let Some(chromium) = chromium.filter(|_| available(CHROMEDRIVER)) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium and chromedriver must be installed in CI (.ci/run installs them)"
        );
        println!("SKIPPED: chromium/chromedriver not found (Debian: apt-get install chromium chromium-driver)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (page, runs) = fixture_page(dir.path());
    let driver = start_driver();
    let profile = dir.path().join("chromium-profile");
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".into(),
        json!({
            "binary": chromium,
            "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--no-first-run",
                     "--window-size=1280,1600", format!("--user-data-dir={}", profile.display())],
        }),
    );
    let client = ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{}", driver.1))
        .await
        .expect("a Chromium session through chromedriver");
    client
        .goto(&format!("file://{}", page.display()))
        .await
        .unwrap();
    let shown: Value = client.execute(MEASURE, vec![]).await.unwrap();

    assert_eq!(shown["scripts"], 0, "the page needs no JavaScript");
    let plots = shown["plots"].as_array().unwrap();
    let metrics: Vec<&str> = plots
        .iter()
        .map(|p| p["metric"].as_str().unwrap())
        .collect();
    assert_eq!(metrics, ["cov", "ft", "execs", "corpus"]);
    for plot in plots {
        assert!(plot["size"][0].as_f64().unwrap() >= 450.0, "{plot}");
        assert!(plot["size"][1].as_f64().unwrap() >= 200.0, "{plot}");
        let lines = plot["lines"].as_array().unwrap();
        assert_eq!(lines.len(), runs.len(), "one line per target: {plot}");
        let mut strokes = Vec::new();
        for (line, run) in lines.iter().zip(&runs) {
            assert_eq!(line["target"], run.target.as_str());
            // Every status line of the log is a point, and the line is drawn.
            assert_eq!(
                line["points"].as_u64().unwrap() as usize,
                run.timeline.len(),
                "{line}"
            );
            assert!(line["length"].as_f64().unwrap() > 10.0, "{line}");
            assert!(line["size"][0].as_f64().unwrap() > 10.0, "{line}");
            strokes.push(line["stroke"].as_str().unwrap().to_owned());
        }
        strokes.dedup();
        assert_eq!(strokes.len(), runs.len(), "each target has its own colour");
    }
    // Per-target plots sit in closed <details>: not shown until opened (no script needed).
    let hidden = shown["per_target_plots"].as_array().unwrap();
    assert_eq!(hidden.len(), 4 * runs.len());
    assert!(hidden.iter().all(|w| w == 0.0), "{hidden:?}");
    client
        .find(Locator::Css("details summary"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let opened: Value = client.execute(MEASURE, vec![]).await.unwrap();
    let opened = opened["per_target_plots"].as_array().unwrap();
    assert!(
        opened[..4].iter().all(|w| w.as_f64().unwrap() >= 200.0),
        "{opened:?}"
    );
    assert!(opened[4..].iter().all(|w| w == 0.0), "{opened:?}");

    // Tables: header + 3 targets + total; header + proxy + selftest; header + 2 modules + 2 totals.
    assert_eq!(shown["summary_rows"], 5);
    assert_eq!(shown["gate_rows"], 3);
    assert_eq!(shown["coverage_rows"], 5);
    let repro: Vec<&str> = shown["repro"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    assert_eq!(repro.len(), 2, "the crash and the gate failure: {repro:?}");
    assert_eq!(repro[0], "wkfuzz repro fuzz/artifacts/session/crash-0f09c3");
    assert!(
        repro[1].starts_with("wkfuzz repro ") && repro[1].contains("selftest"),
        "{repro:?}"
    );
    assert!(shown["verdict"].as_str().unwrap().contains("FAIL"));
    assert_eq!(
        shown["coverage_link"],
        json!(["../coverage-report/index.html"])
    );

    let png = client.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"));
    let shot = Path::new(env!("CARGO_TARGET_TMPDIR")).join("campaign-page.png");
    std::fs::write(&shot, png).unwrap();
    println!("screenshot: {}", shot.display());
    client.close().await.unwrap();
}
