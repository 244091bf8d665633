//! Regressions on disk: `regressions/<target>/<slug>.bin` (the raw input, stable across
//! refactors), `<slug>.toml` (what it is) and `<slug>.txt` (the input as the target reads it,
//! for reviewers). Replayed by `tests/regressions.rs` and by the gate.

use super::capture::run_caught;
use super::signature::Signature;
use crate::targets::Target;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// `<slug>.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Meta {
    /// Target name.
    pub target: String,
    /// One line: what the bug was.
    pub title: String,
    /// The crash signature when it was found.
    pub signature: String,
    /// When it was promoted (YYYY-MM-DD).
    pub date: String,
    /// Where it came from (fuzzer run, CI artifact, user report).
    pub source: String,
    /// What must happen now: `no-panic` (no oracle violation, deterministic outcome).
    pub expect: String,
    /// Pinned outcome (Display form), checked when present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<String>,
}

/// A regression: its files, metadata and bytes.
#[derive(Clone, Debug)]
pub struct Regression {
    /// The target.
    pub target: Target,
    /// File stem.
    pub slug: String,
    /// `<slug>.bin`.
    pub bin: PathBuf,
    /// Parsed `<slug>.toml`.
    pub meta: Meta,
    /// Contents of `<slug>.bin`.
    pub data: Vec<u8>,
}

/// Why the regression files are unusable.
#[derive(Debug, thiserror::Error)]
pub enum RegressionError {
    /// I/O.
    #[error("{path}: {source}")]
    Io {
        /// File.
        path: PathBuf,
        /// Error.
        source: std::io::Error,
    },
    /// A `.toml` that does not parse or names no target.
    #[error("{path}: {message}")]
    Meta {
        /// File.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RegressionError + '_ {
    move |source| RegressionError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Every regression under `root`, sorted by target then slug.
pub fn load_all(root: &Path) -> Result<Vec<Regression>, RegressionError> {
    let mut out = Vec::new();
    for target in Target::every() {
        let dir = root.join(target.name());
        let entries = match std::fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(RegressionError::Io {
                    path: dir,
                    source: e,
                })
            }
        };
        let mut bins: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|x| x == "bin"))
            .collect();
        bins.sort();
        for bin in bins {
            out.push(load(&bin, target)?);
        }
    }
    Ok(out)
}

fn load(bin: &Path, target: Target) -> Result<Regression, RegressionError> {
    let toml_path = bin.with_extension("toml");
    let text = std::fs::read_to_string(&toml_path).map_err(io(&toml_path))?;
    let meta: Meta = toml::from_str(&text).map_err(|e| RegressionError::Meta {
        path: toml_path.clone(),
        message: e.to_string().replace('\n', " "),
    })?;
    if meta.target != target.name() {
        return Err(RegressionError::Meta {
            path: toml_path,
            message: format!(
                "target {:?} but it lives under regressions/{}",
                meta.target,
                target.name()
            ),
        });
    }
    let data = std::fs::read(bin).map_err(io(bin))?;
    let slug = bin
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(Regression {
        target,
        slug,
        bin: bin.to_owned(),
        meta,
        data,
    })
}

/// The target named by the `.toml` next to a `.bin`.
pub fn target_of_bin(bin: &Path) -> Option<Target> {
    let text = std::fs::read_to_string(bin.with_extension("toml")).ok()?;
    let meta: Meta = toml::from_str(&text).ok()?;
    Target::from_name(&meta.target)
}

/// `Some(reason)` if the regression does not hold now.
pub fn check(reg: &Regression) -> Option<String> {
    match run_caught(reg.target, &reg.data) {
        Err(crash) => Some(format!("{crash} [signature: {}]", crash.signature)),
        Ok(first) => {
            let second = run_caught(reg.target, &reg.data);
            if second.as_ref() != Ok(&first) {
                return Some(format!("not deterministic: {first} vs {second:?}"));
            }
            match &reg.meta.outcome {
                Some(pinned) if *pinned != first.to_string() => Some(format!(
                    "outcome changed: expected {pinned:?}, got {:?}",
                    first.to_string()
                )),
                _ => None,
            }
        }
    }
}

/// A file-name slug of `title`: lowercase ASCII letters, digits and single dashes.
pub fn slugify(title: &str) -> String {
    let mut slug = String::new();
    for c in title.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    let slug = slug.trim_end_matches('-');
    let cut: String = slug.chars().take(60).collect();
    if cut.is_empty() {
        "regression".into()
    } else {
        cut.trim_end_matches('-').to_owned()
    }
}

/// The existing regression that already covers `signature` (by its recorded signature, or
/// because replaying it now crashes the same way).
pub fn find_duplicate<'a>(
    existing: &'a [Regression],
    target: Target,
    signature: &Signature,
) -> Option<&'a Regression> {
    existing.iter().filter(|r| r.target == target).find(|r| {
        r.meta.signature == signature.0
            || matches!(run_caught(r.target, &r.data), Err(c) if &c.signature == signature)
    })
}

/// Writes `<slug>.bin`, `.toml`, `.txt` under `root/<target>/`, choosing a free slug.
/// Returns the `.bin` path.
pub fn write(
    root: &Path,
    target: Target,
    meta: &Meta,
    data: &[u8],
) -> Result<PathBuf, RegressionError> {
    let dir = root.join(target.name());
    std::fs::create_dir_all(&dir).map_err(io(&dir))?;
    let base = slugify(&meta.title);
    let mut slug = base.clone();
    let mut n = 2;
    while dir.join(format!("{slug}.bin")).exists() {
        slug = format!("{base}-{n}");
        n += 1;
    }
    let bin = dir.join(format!("{slug}.bin"));
    std::fs::write(&bin, data).map_err(io(&bin))?;
    let toml_path = bin.with_extension("toml");
    let text = toml::to_string(meta).map_err(|e| RegressionError::Meta {
        path: toml_path.clone(),
        message: e.to_string(),
    })?;
    std::fs::write(&toml_path, text).map_err(io(&toml_path))?;
    let txt = bin.with_extension("txt");
    let readable = format!(
        "# {}\n# target: {}  signature: {}\n# {} bytes; the target reads them as:\n\n{}\n",
        meta.title,
        meta.target,
        meta.signature,
        data.len(),
        target.describe(data)
    );
    std::fs::write(&txt, readable).map_err(io(&txt))?;
    Ok(bin)
}

/// Today's date (UTC), YYYY-MM-DD.
pub fn today() -> String {
    let days = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() / 86_400)
        .unwrap_or(0);
    civil_date(days)
}

/// The date `days` after 1970-01-01 (Howard Hinnant's civil-from-days).
pub(crate) fn civil_date(days: u64) -> String {
    let z = i64::try_from(days).unwrap_or(0) + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_file_safe() {
        assert_eq!(
            slugify("KeyUpdate flood: encrypted alert!"),
            "keyupdate-flood-encrypted-alert"
        );
        assert_eq!(slugify("  --  "), "regression");
        assert_eq!(slugify(&"a".repeat(100)).len(), 60);
    }
}
