//! [`CoverageError`]: why a coverage run could not produce its report.

use std::path::PathBuf;

/// Why `wkfuzz coverage` stopped.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CoverageError {
    /// A program (cargo, rustc, rustup, llvm-cov, ...) could not be started.
    #[error("cannot run {program}: {source}")]
    Spawn {
        /// The program.
        program: String,
        /// Why.
        source: std::io::Error,
    },
    /// A program ran and failed.
    #[error("{program} failed: {detail}")]
    Failed {
        /// The program and what it was doing.
        program: String,
        /// Its exit status and the end of its error output.
        detail: String,
    },
    /// A file or directory could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// Where.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A tool's output, a profile or a threshold was not what it must be.
    #[error("{0}")]
    Invalid(String),
}

impl CoverageError {
    /// An [`CoverageError::Io`] for `path`.
    pub(crate) fn io(path: impl Into<PathBuf>) -> impl FnOnce(std::io::Error) -> CoverageError {
        let path = path.into();
        move |source| CoverageError::Io { path, source }
    }
}
