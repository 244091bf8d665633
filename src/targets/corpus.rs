//! The committed corpus on disk: `corpus/<target>/<sha1 of content>` (libFuzzer's naming,
//! so `cargo fuzz` and `cmin` treat it as their own).

use super::Target;
use sha1::{Digest, Sha1};
use std::io;
use std::path::{Path, PathBuf};

/// libFuzzer's file name for `data`: lowercase hex SHA-1.
pub fn file_name(data: &[u8]) -> String {
    hex::encode(Sha1::digest(data))
}

/// Writes `data` into `dir` under its libFuzzer name; returns the path and whether it was new.
pub fn add(dir: &Path, data: &[u8]) -> io::Result<(PathBuf, bool)> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join(file_name(data));
    if path.exists() {
        return Ok((path, false));
    }
    std::fs::write(&path, data)?;
    Ok((path, true))
}

/// The files of `corpus_root/<target>/`, sorted (a missing directory is empty).
pub fn files(corpus_root: &Path, target: Target) -> io::Result<Vec<PathBuf>> {
    let dir = corpus_root.join(target.name());
    let mut out = Vec::new();
    match std::fs::read_dir(&dir) {
        Ok(entries) => {
            for e in entries {
                let e = e?;
                if e.file_type()?.is_file() {
                    out.push(e.path());
                }
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(e),
    }
    out.sort();
    Ok(out)
}

/// Writes every target's seeds under `corpus_root`; returns how many files were new.
pub fn write_seeds(corpus_root: &Path) -> io::Result<usize> {
    let mut new = 0;
    for t in Target::shipped() {
        for seed in t.seeds() {
            if add(&corpus_root.join(t.name()), &seed)?.1 {
                new += 1;
            }
        }
    }
    Ok(new)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_sha1_and_adding_is_idempotent() {
        assert_eq!(file_name(b""), "da39a3ee5e6b4b0d3255bfef95601890afd80709");
        let dir = tempfile::tempdir().unwrap();
        let (p, new) = add(dir.path(), b"abc").unwrap();
        assert!(new);
        assert_eq!(
            p.file_name().unwrap(),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert!(!add(dir.path(), b"abc").unwrap().1);
        assert_eq!(
            files(
                dir.path().parent().unwrap(),
                Target::from_name("frame").unwrap()
            )
            .unwrap()
            .len(),
            0
        );
    }
}
