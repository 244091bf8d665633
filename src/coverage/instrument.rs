//! The instrumented build: the `wkfuzz` binary of the checkout compiled with
//! `-C instrument-coverage` (stable Rust), release profile, in its own target directory so
//! the normal build is not invalidated. Only the workspace crate is instrumented (through
//! `RUSTC_WORKSPACE_WRAPPER`): dependencies build as usual and stay out of the report.

use super::CoverageError;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The wrapper cargo calls instead of rustc for workspace crates: rustc plus the flag.
const WRAPPER: &str = "#!/bin/sh\n# Written by `wkfuzz coverage`: rustc with coverage instrumentation.\nexec \"$@\" -C instrument-coverage\n";

/// Prefixes of the per-crate variables cargo sets for `cargo run`/`cargo test` processes.
const CRATE_ENV_PREFIXES: &[&str] = &[
    "CARGO_MANIFEST_",
    "CARGO_PKG_",
    "CARGO_CRATE_",
    "CARGO_BIN_",
    "CARGO_PRIMARY_PACKAGE",
    "CARGO_TARGET_TMPDIR",
    "CARGO_RUSTC_CURRENT_DIR",
    "OUT_DIR",
];

/// Builds the instrumented `wkfuzz` of the crate at `root` into `target_dir`; returns the
/// binary's path. Cargo's own output (progress, errors) goes to the terminal.
pub fn build(root: &Path, target_dir: &Path) -> Result<PathBuf, CoverageError> {
    std::fs::create_dir_all(target_dir).map_err(CoverageError::io(target_dir))?;
    let wrapper = target_dir.join("rustc-instrument-coverage.sh");
    std::fs::write(&wrapper, WRAPPER).map_err(CoverageError::io(&wrapper))?;
    make_executable(&wrapper)?;
    let mut cargo = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    // Variables cargo sets for the crate it runs (when this runs under `cargo run` or
    // `cargo test`): build scripts such as ring's watch some of them, and a value here but
    // not in a shell would rebuild those dependencies on every switch.
    for (name, _) in std::env::vars_os() {
        let n = name.to_string_lossy();
        if CRATE_ENV_PREFIXES.iter().any(|p| n.starts_with(p)) {
            cargo.env_remove(&name);
        }
    }
    let status = cargo
        .current_dir(root)
        .args(["build", "--release", "--bin", "wkfuzz", "--target-dir"])
        .arg(target_dir)
        .env("RUSTC_WORKSPACE_WRAPPER", &wrapper)
        .status()
        .map_err(|source| CoverageError::Spawn {
            program: "cargo".into(),
            source,
        })?;
    if !status.success() {
        return Err(CoverageError::Failed {
            program: "cargo build (instrumented)".into(),
            detail: status.to_string(),
        });
    }
    let binary = binary_path(target_dir);
    check_instrumented(&binary)?;
    Ok(binary)
}

/// Where [`build`] puts the binary.
pub fn binary_path(target_dir: &Path) -> PathBuf {
    target_dir
        .join("release")
        .join(format!("wkfuzz{}", std::env::consts::EXE_SUFFIX))
}

/// Refuses a binary without coverage mapping (say, one built without the wrapper), which
/// llvm-cov would otherwise report as "no coverage data".
pub fn check_instrumented(binary: &Path) -> Result<(), CoverageError> {
    let data = std::fs::read(binary).map_err(CoverageError::io(binary))?;
    let marker: &[u8] = b"__llvm_covmap";
    if data.windows(marker.len()).any(|w| w == marker) {
        Ok(())
    } else {
        Err(CoverageError::Invalid(format!(
            "{} has no coverage mapping: not built with -C instrument-coverage",
            binary.display()
        )))
    }
}

#[cfg(unix)]
fn make_executable(path: &Path) -> Result<(), CoverageError> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755))
        .map_err(CoverageError::io(path))
}

#[cfg(not(unix))]
fn make_executable(_: &Path) -> Result<(), CoverageError> {
    Ok(())
}

/// The crate root of the checkout: where `Cargo.toml` names the `wkfuzz` package.
pub fn checkout_root(start: &Path) -> Result<PathBuf, CoverageError> {
    let manifest = start.join("Cargo.toml");
    let text = std::fs::read_to_string(&manifest).map_err(CoverageError::io(&manifest))?;
    if !text.contains("name = \"wkfuzz\"") {
        return Err(CoverageError::Invalid(format!(
            "{} is not wkfuzz's manifest: run `wkfuzz coverage` from the checkout",
            manifest.display()
        )));
    }
    Ok(start.to_path_buf())
}
