//! Wire regressions: what killed (or hung, or crashed a thread of) a live server, kept as
//! `regressions/wire/<slug>.bin` (the case's bytes: wire bytes, or the handshake or script
//! generator's input), `<slug>.toml` (the case kind, the transport and protocol it was
//! found on, what happened) and `<slug>.txt` (the case as a person reads it).
//!
//! `wkfuzz attack --replay FILE TARGET` replays one against any server; the gate replays
//! all of them against the in-process reference server.

use super::case::{WireCase, KINDS};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The directory under `regressions/`.
pub const DIR: &str = "wire";

/// `<slug>.toml`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WireMeta {
    /// The case kind: `proxy`, `socket`, `stream`, `app` (bytes at that layer),
    /// `handshake` or `script`.
    pub kind: String,
    /// For `app` bytes: the protocol version of the CONNECT sent before them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login: Option<u8>,
    /// What the server spoke: `wkproto`, `tls` or `raw`.
    pub protocol: String,
    /// The URL scheme it was found on: `tcp`, `tls`, `ws` or `wss`.
    pub transport: String,
    /// The server expected a PROXY header.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub proxy: bool,
    /// One line: what happened.
    pub title: String,
    /// The oracle: `death`, `liveness`, `hang` or `crash-text`.
    pub symptom: String,
    /// A stable form of the evidence (exit signal, crash location), to recognize the bug.
    pub signature: String,
    /// The evidence when it was found.
    pub evidence: String,
    /// When it was written (YYYY-MM-DD).
    pub date: String,
    /// How it was found: the server, the command, the original case, the minimization.
    pub source: String,
}

/// A wire regression on disk.
#[derive(Clone, Debug)]
pub struct WireRegression {
    /// File stem.
    pub slug: String,
    /// `<slug>.bin`.
    pub bin: PathBuf,
    /// `<slug>.toml`.
    pub meta: WireMeta,
    /// The case.
    pub case: WireCase,
}

/// Reads the regression whose `.bin` (or `.toml`) is `path`.
///
/// # Errors
/// A missing or unreadable file, a `.toml` that does not parse or names an unknown kind.
pub fn load(path: &Path) -> Result<WireRegression, String> {
    let bin = path.with_extension("bin");
    let toml_path = bin.with_extension("toml");
    let text =
        std::fs::read_to_string(&toml_path).map_err(|e| format!("{}: {e}", toml_path.display()))?;
    let meta: WireMeta = toml::from_str(&text).map_err(|e| {
        format!(
            "{}: {}",
            toml_path.display(),
            e.to_string().replace('\n', " ")
        )
    })?;
    let data = std::fs::read(&bin).map_err(|e| format!("{}: {e}", bin.display()))?;
    let case = WireCase::from_kind(&meta.kind, meta.login, data).ok_or_else(|| {
        format!(
            "{}: kind {:?} is none of {KINDS:?}",
            toml_path.display(),
            meta.kind
        )
    })?;
    let slug = bin
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    Ok(WireRegression {
        slug,
        bin,
        meta,
        case,
    })
}

/// Every regression in `dir`, sorted by slug (a missing directory has none).
///
/// # Errors
/// As [`load`], for the first bad one.
pub fn load_dir(dir: &Path) -> Result<Vec<WireRegression>, String> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", dir.display())),
    };
    let mut bins: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "bin"))
        .collect();
    bins.sort();
    bins.iter().map(|b| load(b)).collect()
}

/// The existing regression with this signature and symptom.
pub fn find_duplicate<'a>(
    existing: &'a [WireRegression],
    symptom: &str,
    signature: &str,
) -> Option<&'a WireRegression> {
    existing
        .iter()
        .find(|r| r.meta.symptom == symptom && r.meta.signature == signature)
}

/// Writes `<slug>.bin`, `.toml`, `.txt` into `dir` under a free slug made from the title;
/// returns the `.bin` path.
///
/// # Errors
/// The files cannot be written.
pub fn write(dir: &Path, meta: &WireMeta, case: &WireCase) -> Result<PathBuf, String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    let base = crate::triage::regression::slugify(&meta.title);
    let mut slug = base.clone();
    let mut n = 2;
    while dir.join(format!("{slug}.bin")).exists() {
        slug = format!("{base}-{n}");
        n += 1;
    }
    let bin = dir.join(format!("{slug}.bin"));
    let write = |path: &Path, bytes: &[u8]| {
        std::fs::write(path, bytes).map_err(|e| format!("{}: {e}", path.display()))
    };
    write(&bin, case.data())?;
    let toml_text = toml::to_string(meta).map_err(|e| e.to_string())?;
    write(&bin.with_extension("toml"), toml_text.as_bytes())?;
    let readable = format!(
        "# {}\n# {} on {} ({}): {}\n# {} case, {} bytes:\n\n{}\n",
        meta.title,
        meta.symptom,
        meta.transport,
        meta.protocol,
        meta.evidence.lines().next().unwrap_or_default(),
        meta.kind,
        case.data().len(),
        case.describe()
    );
    write(&bin.with_extension("txt"), readable.as_bytes())?;
    Ok(bin)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attack::case::Layer;

    fn meta() -> WireMeta {
        WireMeta {
            kind: "app".into(),
            login: Some(4),
            protocol: "wkproto".into(),
            transport: "tcp".into(),
            proxy: false,
            title: "process dies on a short DISCONNECT".into(),
            symptom: "death".into(),
            signature: "killed by signal 6 (SIGABRT)".into(),
            evidence: "killed by signal 6 (SIGABRT)".into(),
            date: "2026-12-01".into(),
            source: "test".into(),
        }
    }

    #[test]
    fn regressions_round_trip_through_their_files() {
        let dir = tempfile::tempdir().unwrap();
        let case = WireCase::Bytes {
            layer: Layer::App,
            login: Some(4),
            bytes: vec![0xe0, 0x01, 0x00],
        };
        let bin = write(dir.path(), &meta(), &case).unwrap();
        assert!(bin.ends_with("process-dies-on-a-short-disconnect.bin"));
        let again = write(dir.path(), &meta(), &case).unwrap();
        assert!(again.ends_with("process-dies-on-a-short-disconnect-2.bin"));
        let loaded = load_dir(dir.path()).unwrap();
        assert_eq!(loaded.len(), 2);
        assert_eq!(loaded[0].case, case);
        assert_eq!(loaded[0].meta, meta());
        let txt = std::fs::read_to_string(bin.with_extension("txt")).unwrap();
        assert!(txt.contains("after a CONNECT at v4"), "{txt}");
        assert!(find_duplicate(&loaded, "death", "killed by signal 6 (SIGABRT)").is_some());
        assert!(find_duplicate(&loaded, "hang", "killed by signal 6 (SIGABRT)").is_none());
    }

    #[test]
    fn a_bad_kind_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let bin = write(dir.path(), &meta(), &WireCase::Script(vec![])).unwrap();
        let mut m = meta();
        m.kind = "carrier-pigeon".into();
        std::fs::write(bin.with_extension("toml"), toml::to_string(&m).unwrap()).unwrap();
        assert!(load(&bin).unwrap_err().contains("carrier-pigeon"));
    }
}
