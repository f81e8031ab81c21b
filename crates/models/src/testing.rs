//! Test support: a test that needs an installed model or a generated file either runs, or
//! says that it did not.
//!
//! Outside CI a missing asset skips the test with a `SKIPPED: <test>: <reason>` line on
//! stderr (`cargo test -- --nocapture` shows it). Under CI (the environment variable `CI` set,
//! as CI services do) a missing asset is an error: the test panics with the reason, since CI
//! installs every asset first (`scripts/test.sh`) and a silent skip would hide a broken setup.

use std::fmt::Display;
use std::path::{Path, PathBuf};

/// True when the environment variable `CI` is set to anything but `""`, `0` or `false`.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !matches!(v.trim().to_ascii_lowercase().as_str(), "" | "0" | "false"))
}

/// Reports that `test` cannot run because of `reason`: a `SKIPPED: <test>: <reason>` line on
/// stderr, or, under CI ([`in_ci`]), a panic with the same text.
pub fn skip(test: &str, reason: impl Display) {
    let line = format!("SKIPPED: {test}: {reason}");
    if in_ci() {
        panic!("{line} (CI is set, so a missing asset fails the test instead of skipping it)");
    }
    eprintln!("{line}");
}

/// True when `path` exists; otherwise [`skip`]s `test` (reason: the path is missing, then
/// `hint`, e.g. how to get it) and returns false, so a test can `return` early:
///
/// ```no_run
/// # let p = std::path::Path::new("model.gguf");
/// if !gleaner_models::require_or_skip("my_test", p, "run `gleaner models fetch`") {
///     return;
/// }
/// ```
pub fn require_or_skip(test: &str, path: &Path, hint: &str) -> bool {
    if path.exists() {
        return true;
    }
    let hint = if hint.is_empty() { String::new() } else { format!(" ({hint})") };
    skip(test, format!("{} not found{hint}", path.display()));
    false
}

/// Where a test finds a file of installed model `name`: `$env_override` when that variable is
/// set, else `<models dir>/<name>/<file>` in [`crate::models_dir`] (the model's directory
/// itself when `file` is empty).
pub fn model_file(env_override: &str, name: &str, file: &str) -> PathBuf {
    if let Some(p) = std::env::var_os(env_override).filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    let dir = crate::models_dir().join(name);
    if file.is_empty() { dir } else { dir.join(file) }
}

#[cfg(test)]
mod tests {
    #[test]
    fn skips_or_fails_by_ci() {
        // Only this test reads `CI` in this binary's unit tests; it does not change it.
        let p = std::path::Path::new("/definitely/not/here.gguf");
        let r = std::panic::catch_unwind(|| super::require_or_skip("t", p, "hint"));
        if super::in_ci() {
            let e = r.unwrap_err();
            let msg = e.downcast_ref::<String>().unwrap();
            assert!(msg.starts_with("SKIPPED: t: /definitely/not/here.gguf not found (hint)"), "{msg}");
        } else {
            assert!(!r.unwrap());
        }
        assert!(super::require_or_skip("t", std::path::Path::new("."), ""));
    }
}
