//! The LLVM tools that read `-C instrument-coverage` profiles: `llvm-profdata` (merge raw
//! profiles) and `llvm-cov` (summaries, lcov, HTML). They come from the rustup component
//! `llvm-tools`, which matches the compiler's LLVM (a distribution's LLVM may not read the
//! compiler's profile format); it is installed on first use.

use super::CoverageError;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Paths of the two tools.
#[derive(Clone, Debug)]
pub struct LlvmTools {
    /// `llvm-profdata`.
    pub profdata: PathBuf,
    /// `llvm-cov`.
    pub cov: PathBuf,
}

/// Where rustup puts the `llvm-tools` binaries for the active toolchain.
fn tools_dir() -> Result<PathBuf, CoverageError> {
    let sysroot = run(Command::new("rustc").args(["--print", "sysroot"]))?;
    let version = run(Command::new("rustc").arg("-vV"))?;
    let host = version
        .lines()
        .find_map(|l| l.strip_prefix("host: "))
        .ok_or_else(|| CoverageError::Invalid("`rustc -vV` printed no host".into()))?;
    Ok(Path::new(sysroot.trim())
        .join("lib/rustlib")
        .join(host.trim())
        .join("bin"))
}

/// Runs `cmd`, returning its standard output; a failure carries the end of its stderr.
pub(crate) fn run(cmd: &mut Command) -> Result<String, CoverageError> {
    Ok(String::from_utf8_lossy(&checked(cmd)?.stdout).into_owned())
}

fn checked(cmd: &mut Command) -> Result<Output, CoverageError> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    let out = cmd.output().map_err(|source| CoverageError::Spawn {
        program: program.clone(),
        source,
    })?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let tail: Vec<&str> = stderr.lines().rev().take(5).collect();
        let tail: Vec<&str> = tail.into_iter().rev().collect();
        return Err(CoverageError::Failed {
            program,
            detail: format!("{}: {}", out.status, tail.join(" / ")),
        });
    }
    Ok(out)
}

impl LlvmTools {
    /// Finds the tools, running `rustup component add llvm-tools` if they are missing.
    pub fn find_or_install(log: &dyn Fn(&str)) -> Result<LlvmTools, CoverageError> {
        let dir = tools_dir()?;
        let tools = LlvmTools {
            profdata: dir.join("llvm-profdata"),
            cov: dir.join("llvm-cov"),
        };
        if tools.profdata.exists() && tools.cov.exists() {
            return Ok(tools);
        }
        log("installing the LLVM coverage tools: rustup component add llvm-tools");
        checked(Command::new("rustup").args(["component", "add", "llvm-tools"]))?;
        if !tools.profdata.exists() || !tools.cov.exists() {
            return Err(CoverageError::Invalid(format!(
                "llvm-profdata and llvm-cov are not in {} after `rustup component add llvm-tools`",
                dir.display()
            )));
        }
        Ok(tools)
    }

    /// Merges raw (or indexed) profiles into one indexed profile.
    pub fn merge(&self, inputs: &[PathBuf], out: &Path) -> Result<(), CoverageError> {
        if inputs.is_empty() {
            return Err(CoverageError::Invalid(format!(
                "no profiles to merge into {}",
                out.display()
            )));
        }
        let mut cmd = Command::new(&self.profdata);
        cmd.args(["merge", "-sparse"])
            .args(inputs)
            .arg("-o")
            .arg(out);
        checked(&mut cmd).map(|_| ())
    }

    /// `llvm-cov export` as JSON with per-file summaries only.
    pub fn export_summary(&self, binary: &Path, profile: &Path) -> Result<String, CoverageError> {
        run(Command::new(&self.cov)
            .args(["export", "-summary-only", "-format=text"])
            .arg(format!("-instr-profile={}", profile.display()))
            .arg(binary))
    }

    /// `llvm-cov export -format=lcov`, limited to `sources`.
    pub fn export_lcov(
        &self,
        binary: &Path,
        profile: &Path,
        sources: &[PathBuf],
    ) -> Result<String, CoverageError> {
        run(Command::new(&self.cov)
            .args(["export", "-format=lcov"])
            .arg(format!("-instr-profile={}", profile.display()))
            .arg(binary)
            .args(sources))
    }

    /// `llvm-cov show -format=html`: one page per file of `sources` with line counts and
    /// unexecuted regions marked, and an index with line, region and function percentages.
    pub fn show_html(
        &self,
        binary: &Path,
        profile: &Path,
        sources: &[PathBuf],
        out_dir: &Path,
        jobs: usize,
    ) -> Result<(), CoverageError> {
        let mut cmd = Command::new(&self.cov);
        cmd.args([
            "show",
            "-format=html",
            "-show-line-counts-or-regions",
            "-show-instantiations=false",
            "-project-title=wkfuzz: what the corpus and regressions reach",
        ])
        .arg(format!("-num-threads={}", jobs.max(1)))
        .arg(format!("-output-dir={}", out_dir.display()))
        .arg(format!("-instr-profile={}", profile.display()))
        .arg(binary)
        .args(sources);
        checked(&mut cmd).map(|_| ())
    }
}
