//! Where a crash input comes from: a file, or inline `hex:...` / `base64:...` as bug reports
//! carry them; and which target it belongs to.

use crate::targets::Target;
use base64::Engine;
use std::path::{Path, PathBuf};

/// Why an input could not be read or placed.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The file could not be read.
    #[error("{path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// `hex:` text that is not hex.
    #[error("bad hex input: {0}")]
    Hex(String),
    /// `base64:` text that is not base64.
    #[error("bad base64 input: {0}")]
    Base64(String),
    /// No `--target`, and the path names none.
    #[error("cannot tell the target of {0}: pass --target (one of {names})", names = target_names())]
    UnknownTarget(String),
    /// `--target` names no target.
    #[error("no target named {0:?} (one of {names})", names = target_names())]
    BadTarget(String),
}

fn target_names() -> String {
    Target::every()
        .iter()
        .map(|t| t.name())
        .collect::<Vec<_>>()
        .join(", ")
}

/// A crash input and where it came from.
#[derive(Clone, Debug)]
pub struct Input {
    /// The bytes.
    pub data: Vec<u8>,
    /// The file, if it came from one.
    pub path: Option<PathBuf>,
    /// The argument as given (for repro commands).
    pub spec: String,
}

/// Reads `spec`: `hex:...`, `base64:...`, or a path.
pub fn read_input(spec: &str) -> Result<Input, InputError> {
    let data = if let Some(h) = spec.strip_prefix("hex:") {
        let clean: String = h.chars().filter(|c| !c.is_whitespace()).collect();
        hex::decode(clean).map_err(|e| InputError::Hex(e.to_string()))?
    } else if let Some(b) = spec.strip_prefix("base64:") {
        base64::engine::general_purpose::STANDARD
            .decode(b.trim())
            .map_err(|e| InputError::Base64(e.to_string()))?
    } else {
        let path = PathBuf::from(spec);
        let data = std::fs::read(&path).map_err(|source| InputError::Read {
            path: path.clone(),
            source,
        })?;
        return Ok(Input {
            data,
            path: Some(path),
            spec: spec.to_owned(),
        });
    };
    Ok(Input {
        data,
        path: None,
        spec: spec.to_owned(),
    })
}

/// The target: `--target` if given, else from the path (`corpus/<t>/`, `regressions/<t>/`,
/// `fuzz/artifacts/<t>/`, `fuzz/corpus/<t>/`), else from a regression's `.toml` beside it.
pub fn resolve_target(flag: Option<&str>, input: &Input) -> Result<Target, InputError> {
    if let Some(name) = flag {
        return Target::from_name(name).ok_or_else(|| InputError::BadTarget(name.to_owned()));
    }
    if let Some(path) = &input.path {
        if let Some(t) = target_from_path(path) {
            return Ok(t);
        }
        if let Some(t) = super::regression::target_of_bin(path) {
            return Ok(t);
        }
    }
    Err(InputError::UnknownTarget(input.spec.clone()))
}

/// `corpus/<t>/...`, `regressions/<t>/...`, `artifacts/<t>/...`: the directory right after
/// one of those names.
pub fn target_from_path(path: &Path) -> Option<Target> {
    let parts: Vec<String> = path
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    parts
        .windows(2)
        .filter(|w| matches!(w[0].as_str(), "corpus" | "regressions" | "artifacts"))
        .find_map(|w| Target::from_name(&w[1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_inputs_decode() {
        assert_eq!(read_input("hex:70 80").unwrap().data, vec![0x70, 0x80]);
        assert_eq!(read_input("base64:cIA=").unwrap().data, vec![0x70, 0x80]);
        assert!(matches!(read_input("hex:zz"), Err(InputError::Hex(_))));
        assert!(matches!(
            read_input("/no/such/file"),
            Err(InputError::Read { .. })
        ));
    }

    #[test]
    fn targets_come_from_paths() {
        assert_eq!(
            target_from_path(Path::new("corpus/frame/abc")),
            Target::from_name("frame")
        );
        assert_eq!(
            target_from_path(Path::new("/x/fuzz/artifacts/session/crash-1")),
            Target::from_name("session")
        );
        assert_eq!(
            target_from_path(Path::new("regressions/proxy/short.bin")),
            Target::from_name("proxy")
        );
        assert_eq!(target_from_path(Path::new("/tmp/crash-1")), None);
        let input = read_input("hex:00").unwrap();
        assert_eq!(
            resolve_target(Some("keys"), &input).unwrap(),
            Target::from_name("keys").unwrap()
        );
        assert!(matches!(
            resolve_target(None, &input),
            Err(InputError::UnknownTarget(_))
        ));
        assert!(matches!(
            resolve_target(Some("nope"), &input),
            Err(InputError::BadTarget(_))
        ));
    }
}
