//! Reading the lcov file llvm-cov writes (`SF:` file, `DA:line,count`, `end_of_record`),
//! and turning a file's zero-count lines into the ranges no input reaches.

/// One source file's line counts.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LcovFile {
    /// `SF:` as written.
    pub path: String,
    /// `(line, count)` for every instrumented line, ascending.
    pub lines: Vec<(u32, u64)>,
}

/// Parses lcov text; malformed `DA:` lines are skipped.
pub fn parse(text: &str) -> Vec<LcovFile> {
    let mut files = Vec::new();
    let mut current: Option<LcovFile> = None;
    for line in text.lines() {
        if let Some(path) = line.strip_prefix("SF:") {
            current = Some(LcovFile {
                path: path.to_owned(),
                lines: Vec::new(),
            });
        } else if let Some(da) = line.strip_prefix("DA:") {
            let mut parts = da.split(',');
            let line_no = parts.next().and_then(|v| v.parse::<u32>().ok());
            let count = parts.next().and_then(|v| v.parse::<u64>().ok());
            if let (Some(file), Some(l), Some(c)) = (current.as_mut(), line_no, count) {
                file.lines.push((l, c));
            }
        } else if line == "end_of_record" {
            if let Some(mut file) = current.take() {
                file.lines.sort_unstable();
                files.push(file);
            }
        }
    }
    files
}

/// The lcov text with every `SF:` path under `root` made relative to it, so the file is
/// the same on every machine and coverage services find the files in the repository.
pub fn relative_paths(text: &str, root: &std::path::Path) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        match line.strip_prefix("SF:") {
            Some(path) => {
                out.push_str("SF:");
                out.push_str(&super::summary::relative(path, root));
            }
            None => out.push_str(line),
        }
        out.push('\n');
    }
    out
}

/// The runs of instrumented lines with count 0, as inclusive `(first, last)` line ranges:
/// a run ends at the next instrumented line that did execute (lines without code in between,
/// such as comments, do not break it).
pub fn unreached_ranges(lines: &[(u32, u64)]) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    let mut open: Option<(u32, u32)> = None;
    for &(line, count) in lines {
        match (count, open.as_mut()) {
            (0, Some(run)) => run.1 = line,
            (0, None) => open = Some((line, line)),
            (_, _) => out.extend(open.take()),
        }
    }
    out.extend(open);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_records_and_skips_junk() {
        let text =
            "TN:\nSF:/r/src/a.rs\nFN:1,f\nDA:3,0\nDA:1,5\nDA:x,1\nLF:2\nLH:1\nend_of_record\n\
                    SF:/r/src/b.rs\nDA:7,2\nend_of_record\n";
        let files = parse(text);
        assert_eq!(files.len(), 2);
        assert_eq!(files[0].path, "/r/src/a.rs");
        assert_eq!(files[0].lines, vec![(1, 5), (3, 0)]);
        assert_eq!(files[1].lines, vec![(7, 2)]);
        let rel = relative_paths(text, std::path::Path::new("/r"));
        assert!(rel.contains("\nSF:src/a.rs\n") && rel.contains("\nSF:src/b.rs\n"));
        assert_eq!(parse(&rel)[0].lines, files[0].lines);
    }

    #[test]
    fn ranges_span_uncommented_gaps_and_stop_at_executed_lines() {
        let lines = [
            (1, 3),
            (2, 0),
            (4, 0),
            (9, 0),
            (10, 1),
            (12, 0),
            (20, 4),
            (30, 0),
        ];
        assert_eq!(unreached_ranges(&lines), vec![(2, 9), (12, 12), (30, 30)]);
        assert!(unreached_ranges(&[(1, 1), (2, 1)]).is_empty());
    }
}
