//! Helpers shared by the integration tests.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The repository root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().unwrap()
}

/// A path under the repository's `data/`.
pub fn data(rel: &str) -> PathBuf {
    root().join("data").join(rel)
}

/// Runs the gleaner binary; returns its output.
pub fn gleaner(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gleaner")).args(args).env("NO_COLOR", "1").output().expect("run gleaner")
}

/// Runs gleaner and asserts success, returning stdout.
pub fn ok(args: &[&str]) -> String {
    let out = gleaner(args);
    assert!(out.status.success(), "gleaner {args:?} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap()
}

/// Runs gleaner and asserts failure, returning stderr.
pub fn fails(args: &[&str]) -> String {
    let out = gleaner(args);
    assert!(!out.status.success(), "gleaner {args:?} should have failed");
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(!err.contains("panicked"), "gleaner panicked:\n{err}");
    err
}

/// A fresh temporary directory.
pub fn tmp() -> tempfile::TempDir {
    tempfile::tempdir().unwrap()
}

/// Reports a test that cannot run here: a `SKIPPED:` line, and a failure under CI (`CI` set),
/// where every prerequisite must be installed.
pub fn skip(test: &str, why: &str) {
    eprintln!("SKIPPED: {test}: {why}");
    assert!(std::env::var_os("CI").is_none(), "{test} cannot run under CI: {why}");
}
