//! The independent tools the interop checks rely on (OpenSSL, pkilint, pdfsig, pyHanko…).
//! Interop checks are mandatory in CI (`KYSO_REQUIRE_INTEROP=1`); elsewhere a missing tool skips
//! the check with a printed notice.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Whether a missing tool fails the test (`KYSO_REQUIRE_INTEROP=1`) instead of skipping.
pub fn interop_required() -> bool {
    std::env::var("KYSO_REQUIRE_INTEROP").as_deref() == Ok("1")
}

/// `what` is missing: panic when interop checks are required, else print a notice; None.
pub fn skip<T>(what: &str) -> Option<T> {
    if interop_required() {
        panic!("{what} is required because KYSO_REQUIRE_INTEROP=1 (run .ci/run)");
    }
    eprintln!("NOTICE: {what} not found; skipping this interop check (run .ci/run for the full suite)");
    None
}

/// The repository's CI virtualenv (`.ci/venv`), where pkilint, pyHanko and openpyxl live.
pub fn ci_venv() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.ci/venv")
}

/// A tool from `KYSO_PKILINT_DIR`, the CI virtualenv's `bin`, or PATH.
pub fn tool(name: &str) -> Option<PathBuf> {
    let candidates = [
        std::env::var("KYSO_PKILINT_DIR").ok().map(|d| Path::new(&d).join(name)),
        Some(ci_venv().join("bin").join(name)),
    ];
    if let Some(c) = candidates.into_iter().flatten().find(|c| c.exists()) {
        return Some(c);
    }
    let found = Command::new("sh").arg("-c").arg(format!("command -v {name}")).output().ok()?;
    let p = String::from_utf8_lossy(&found.stdout).trim().to_string();
    (!p.is_empty()).then(|| PathBuf::from(p))
}

/// [`tool`], or [`skip`] when it is missing.
pub fn require_tool(name: &str) -> Option<PathBuf> {
    tool(name).or_else(|| skip(name))
}

/// A Python that imports every module of `modules`: `KYSO_PYHANKO`, else the CI virtualenv's.
pub fn python_with(modules: &str) -> Option<PathBuf> {
    let candidates = [std::env::var("KYSO_PYHANKO").ok().map(PathBuf::from), Some(ci_venv().join("bin/python"))];
    candidates
        .into_iter()
        .flatten()
        .find(|c| Command::new(c).args(["-c", &format!("import {modules}")]).output().is_ok_and(|o| o.status.success()))
}

/// Run a command; (success, stdout + stderr).
pub fn run(cmd: &mut Command) -> (bool, String) {
    let o = cmd.output().unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}
