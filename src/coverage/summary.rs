//! The coverage summary: per-file counts from `llvm-cov export`, grouped into modules
//! ([`super::modules`]), with which targets reach each module and the code in peer-input
//! modules that nothing reaches. Serialized as `summary.json` next to the report, where the
//! campaign page and `--min-coverage` read it.

use super::lcov::{unreached_ranges, LcovFile};
use super::modules::{self, module_of};
use super::CoverageError;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// Covered out of instrumented (lines, regions or functions).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Count {
    /// Instrumented.
    pub count: u64,
    /// Of which executed at least once.
    pub covered: u64,
}

impl Count {
    /// Covered share in percent (100 when nothing is instrumented).
    pub fn percent(self) -> f64 {
        if self.count == 0 {
            100.0
        } else {
            self.covered as f64 * 100.0 / self.count as f64
        }
    }

    fn add(&mut self, other: Count) {
        self.count += other.count;
        self.covered += other.covered;
    }
}

/// One source file's counts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FileCov {
    /// Relative to the crate root, `/`-separated.
    pub path: String,
    /// Lines.
    pub lines: Count,
    /// Regions (llvm's code regions: branches of an `if`, arms of a `match`, ...).
    pub regions: Count,
    /// Functions.
    pub functions: Count,
}

#[derive(Deserialize)]
struct Export {
    data: Vec<ExportData>,
}

#[derive(Deserialize)]
struct ExportData {
    files: Vec<ExportFile>,
}

#[derive(Deserialize)]
struct ExportFile {
    filename: String,
    summary: ExportSummary,
}

#[derive(Deserialize)]
struct ExportSummary {
    lines: Count,
    regions: Count,
    functions: Count,
}

/// `path` relative to `root` when it lies under it, `/`-separated.
pub fn relative(path: &str, root: &Path) -> String {
    let p = Path::new(path);
    p.strip_prefix(root)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

/// The reported files (those in the module table) of an `llvm-cov export -summary-only`
/// JSON document, paths relative to `root`.
pub fn parse_export(json: &str, root: &Path) -> Result<Vec<FileCov>, CoverageError> {
    let export: Export = serde_json::from_str(json)
        .map_err(|e| CoverageError::Invalid(format!("unreadable llvm-cov export: {e}")))?;
    let mut files: Vec<FileCov> = export
        .data
        .into_iter()
        .flat_map(|d| d.files)
        .map(|f| FileCov {
            path: relative(&f.filename, root),
            lines: f.summary.lines,
            regions: f.summary.regions,
            functions: f.summary.functions,
        })
        .filter(|f| module_of(&f.path).is_some())
        .collect();
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// Lines and regions of a set of files.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Lines.
    pub lines: Count,
    /// Regions.
    pub regions: Count,
}

impl Totals {
    fn of<'a>(files: impl IntoIterator<Item = &'a FileCov>) -> Totals {
        let mut t = Totals::default();
        for f in files {
            t.lines.add(f.lines);
            t.regions.add(f.regions);
        }
        t
    }
}

/// How much of a module one target reaches.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reach {
    /// The target.
    pub target: String,
    /// The module's lines it executes.
    pub lines: Count,
}

/// One row of the module table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModuleRow {
    /// Module name.
    pub name: String,
    /// Whether it is a peer-input module.
    pub peer_input: bool,
    /// Source files in it.
    pub files: usize,
    /// Union over the targets.
    pub totals: Totals,
    /// Targets that execute at least one of its lines, most lines first.
    pub reached_by: Vec<Reach>,
}

/// Consecutive unexecuted lines of a peer-input file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unreached {
    /// File, relative to the crate root.
    pub path: String,
    /// First line.
    pub first: u32,
    /// Last line (inclusive).
    pub last: u32,
}

impl std::fmt::Display for Unreached {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.first == self.last {
            write!(f, "{}:{}", self.path, self.first)
        } else {
            write!(f, "{}:{}-{}", self.path, self.first, self.last)
        }
    }
}

/// What one target reaches over every reported file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TargetRow {
    /// The target.
    pub target: String,
    /// Inputs replayed (corpus + regressions).
    pub inputs: usize,
    /// Inputs that failed the gate's checks while replaying (0 normally).
    pub failed: usize,
    /// Every reported file.
    pub all: Totals,
    /// The peer-input modules.
    pub peer: Totals,
}

/// The whole report.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct CoverageSummary {
    /// Per target, in the order replayed.
    pub targets: Vec<TargetRow>,
    /// Per module, in table order.
    pub modules: Vec<ModuleRow>,
    /// Union over the targets: every reported file.
    pub all: Totals,
    /// Union over the targets: the peer-input modules.
    pub peer: Totals,
    /// Per file (union).
    pub files: Vec<FileCov>,
    /// Unexecuted line ranges in peer-input files.
    pub unreached: Vec<Unreached>,
}

/// One target's replay: its name, inputs, failures and per-file counts.
#[derive(Clone, Debug)]
pub struct TargetCoverage {
    /// The target.
    pub target: String,
    /// Inputs replayed.
    pub inputs: usize,
    /// Inputs that failed.
    pub failed: usize,
    /// Per-file counts of its own profile.
    pub files: Vec<FileCov>,
}

fn is_peer(path: &str) -> bool {
    module_of(path).is_some_and(|m| m.peer_input)
}

/// Builds the summary from the union's per-file counts, each target's, and the union's
/// lcov (for the unreached lines).
pub fn summarize(
    union: Vec<FileCov>,
    targets: &[TargetCoverage],
    lcov: &[LcovFile],
    root: &Path,
) -> CoverageSummary {
    let modules = modules::names()
        .into_iter()
        .filter_map(|name| {
            let in_module = |f: &&FileCov| module_of(&f.path).is_some_and(|m| m.name == name);
            let files: Vec<&FileCov> = union.iter().filter(in_module).collect();
            let first = files.first()?;
            let peer_input = is_peer(&first.path);
            let mut reached_by: Vec<Reach> = targets
                .iter()
                .map(|t| Reach {
                    target: t.target.clone(),
                    lines: Totals::of(t.files.iter().filter(in_module)).lines,
                })
                .filter(|r| r.lines.covered > 0)
                .collect();
            reached_by.sort_by_key(|r| std::cmp::Reverse(r.lines.covered));
            Some(ModuleRow {
                name: name.to_owned(),
                peer_input,
                files: files.len(),
                totals: Totals::of(files),
                reached_by,
            })
        })
        .collect();
    let mut unreached = Vec::new();
    for file in lcov {
        let path = relative(&file.path, root);
        if !is_peer(&path) {
            continue;
        }
        for (first, last) in unreached_ranges(&file.lines) {
            unreached.push(Unreached {
                path: path.clone(),
                first,
                last,
            });
        }
    }
    unreached.sort_by(|a, b| (&a.path, a.first).cmp(&(&b.path, b.first)));
    CoverageSummary {
        targets: targets
            .iter()
            .map(|t| TargetRow {
                target: t.target.clone(),
                inputs: t.inputs,
                failed: t.failed,
                all: Totals::of(&t.files),
                peer: Totals::of(t.files.iter().filter(|f| is_peer(&f.path))),
            })
            .collect(),
        modules,
        all: Totals::of(&union),
        peer: Totals::of(union.iter().filter(|f| is_peer(&f.path))),
        files: union,
        unreached,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(path: &str, lines: (u64, u64), regions: (u64, u64)) -> FileCov {
        FileCov {
            path: path.into(),
            lines: Count {
                count: lines.0,
                covered: lines.1,
            },
            regions: Count {
                count: regions.0,
                covered: regions.1,
            },
            functions: Count::default(),
        }
    }

    #[test]
    fn export_json_is_read_relative_and_filtered_to_the_module_table() {
        let json = r#"{"data":[{"files":[
            {"filename":"/r/src/hub/mod.rs","summary":{"lines":{"count":10,"covered":7,"percent":70},
             "regions":{"count":20,"covered":5,"notcovered":15,"percent":25},
             "functions":{"count":2,"covered":1,"percent":50},"branches":{"count":0,"covered":0}}},
            {"filename":"/r/src/cli/fuzz.rs","summary":{"lines":{"count":1,"covered":0},
             "regions":{"count":1,"covered":0},"functions":{"count":1,"covered":0}}}],
            "totals":{}}],"type":"llvm.coverage.json.export","version":"2.0.1"}"#;
        let files = parse_export(json, Path::new("/r")).unwrap();
        assert_eq!(
            files,
            vec![{
                let mut f = file("src/hub/mod.rs", (10, 7), (20, 5));
                f.functions = Count {
                    count: 2,
                    covered: 1,
                };
                f
            }]
        );
        assert!(parse_export("{}", Path::new("/r")).is_err());
    }

    #[test]
    fn modules_sum_their_files_and_name_the_targets_that_reach_them() {
        let union = vec![
            file("src/hub/mod.rs", (10, 8), (10, 6)),
            file("src/hub/pending.rs", (10, 4), (4, 2)),
            file("src/net/handler.rs", (50, 0), (20, 0)),
            file("src/targets/frame.rs", (5, 5), (5, 5)),
        ];
        let t = |name: &str, hub: u64| TargetCoverage {
            target: name.into(),
            inputs: 3,
            failed: 0,
            files: vec![file("src/hub/mod.rs", (10, hub), (10, hub))],
        };
        let lcov = vec![
            LcovFile {
                path: "/r/src/hub/pending.rs".into(),
                lines: vec![(3, 1), (4, 0), (6, 0), (8, 2)],
            },
            LcovFile {
                path: "/r/src/net/handler.rs".into(),
                lines: vec![(1, 0)],
            },
        ];
        let s = summarize(
            union,
            &[t("frame", 0), t("session", 8), t("ws", 3)],
            &lcov,
            Path::new("/r"),
        );
        let hub = s.modules.iter().find(|m| m.name == "hub").unwrap();
        assert_eq!(
            (hub.files, hub.totals.lines),
            (
                2,
                Count {
                    count: 20,
                    covered: 12
                }
            )
        );
        let reached: Vec<&str> = hub.reached_by.iter().map(|r| r.target.as_str()).collect();
        assert_eq!(reached, ["session", "ws"]);
        assert!(
            s.modules.iter().all(|m| m.name != "proto"),
            "no files, no row"
        );
        assert_eq!(
            s.peer.lines,
            Count {
                count: 20,
                covered: 12
            }
        );
        assert_eq!(
            s.all.lines,
            Count {
                count: 75,
                covered: 17
            }
        );
        // net/ is not peer input: its unexecuted line is not listed.
        assert_eq!(
            s.unreached
                .iter()
                .map(|u| u.to_string())
                .collect::<Vec<_>>(),
            ["src/hub/pending.rs:4-6"]
        );
        assert_eq!(
            s.targets[1].peer.lines,
            Count {
                count: 10,
                covered: 8
            }
        );
    }
}
