//! A target's own libFuzzer flags, kept in `fuzz/options/<target>.options` in OSS-Fuzz's
//! format (an INI file whose `[libfuzzer]` section holds `name = value` pairs), so that
//! `wkfuzz fuzz`, `wkfuzz eval` and ClusterFuzzLite (which reads the copy in `$OUT`) run a
//! target the same way. A bare `cargo fuzz run` does not read the file: pass the flags
//! after `--`.

use std::path::PathBuf;

/// Where `target`'s options file lives.
pub fn path(target: &str) -> PathBuf {
    PathBuf::from(format!("fuzz/options/{target}.options"))
}

/// A line of an options file that is not a section, a comment or `name = value`.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{file}:{line}: expected `[section]`, `# comment` or `name = value`, found {text:?}")]
pub struct OptionsError {
    /// The file.
    pub file: String,
    /// Line number, from 1.
    pub line: usize,
    /// The line.
    pub text: String,
}

/// The `[libfuzzer]` section of `text` as flags (`-name=value`), in file order. Other
/// sections (OSS-Fuzz also has `[asan]`, `[ubsan]`, ...) are skipped.
///
/// # Errors
/// The first line that is none of a section header, a comment (`#` or `;`), a blank or a
/// `name = value` pair with a name of letters, digits and `_`.
pub fn parse(file: &str, text: &str) -> Result<Vec<String>, OptionsError> {
    let mut flags = Vec::new();
    let mut in_libfuzzer = false;
    for (i, raw) in text.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(section) = line.strip_prefix('[').and_then(|l| l.strip_suffix(']')) {
            in_libfuzzer = section.trim() == "libfuzzer";
            continue;
        }
        let pair = line
            .split_once('=')
            .map(|(name, value)| (name.trim(), value.trim()))
            .filter(|(name, _)| {
                !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            });
        let Some((name, value)) = pair else {
            return Err(OptionsError {
                file: file.to_owned(),
                line: i + 1,
                text: raw.to_owned(),
            });
        };
        if in_libfuzzer {
            flags.push(format!("-{name}={value}"));
        }
    }
    Ok(flags)
}

/// `target`'s libFuzzer flags from its options file; none when it has no file.
///
/// # Errors
/// A file that exists but cannot be read (as an [`OptionsError`] naming the reason) or
/// does not parse.
pub fn flags(target: &str) -> Result<Vec<String>, OptionsError> {
    let file = path(target);
    let shown = file.display().to_string();
    match std::fs::read_to_string(&file) {
        Ok(text) => parse(&shown, &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(OptionsError {
            file: shown,
            line: 0,
            text: e.to_string(),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_libfuzzer_section_becomes_flags_in_order_and_other_sections_are_skipped() {
        let text = "# why\n[asan]\ndetect_leaks = 0\n\n[libfuzzer]\n\
                    entropic_scale_per_exec_time = 1\n; another comment\nmax_len=4096\n";
        assert_eq!(
            parse("t", text).unwrap(),
            ["-entropic_scale_per_exec_time=1", "-max_len=4096"]
        );
        assert_eq!(parse("t", "").unwrap(), Vec::<String>::new());
    }

    #[test]
    fn a_line_that_is_not_a_pair_names_its_file_and_line() {
        let err = parse("fuzz/options/x.options", "[libfuzzer]\nmax_len 4096\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert_eq!(
            err.to_string(),
            "fuzz/options/x.options:2: expected `[section]`, `# comment` or `name = value`, \
             found \"max_len 4096\""
        );
        // A name that libFuzzer could read as something else is refused too.
        assert!(parse("t", "[libfuzzer]\n-max_len = 1\n").is_err());
        assert!(parse("t", "[libfuzzer]\n= 1\n").is_err());
    }

    #[test]
    fn every_committed_options_file_parses_and_belongs_to_a_target() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/options");
        let entries = std::fs::read_dir(&dir).unwrap();
        let mut seen = 0;
        for entry in entries {
            let file = entry.unwrap().path();
            let name = file.file_stem().unwrap().to_str().unwrap().to_owned();
            assert_eq!(file.extension().unwrap(), "options", "{}", file.display());
            assert!(
                crate::targets::Target::from_name(&name).is_some(),
                "{} names no target",
                file.display()
            );
            let text = std::fs::read_to_string(&file).unwrap();
            assert!(!parse(&name, &text).unwrap().is_empty(), "{name}: no flags");
            seen += 1;
        }
        assert!(seen > 0);
    }
}
