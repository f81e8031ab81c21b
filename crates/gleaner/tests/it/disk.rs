//! A full disk and a read-only output directory, on real small file systems (tmpfs mounted by
//! the test, as root): a run that fills the disk fails naming the path with a hint, leaves no
//! partial output and a journal that is still valid, and after space is freed resumes to the
//! bytes of an uninterrupted run. A read-only output fails before any model is resolved.

use crate::util::{data, gleaner, skip, tmp};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A tmpfs mounted for one test; unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    /// Mounts a tmpfs of `size` (such as `600k`), or `None` when mounting is not permitted.
    fn mount(size: &str) -> Option<Tmpfs> {
        let dir = tmp();
        let st = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(dir.path())
            .output()
            .ok()?;
        st.status.success().then_some(Tmpfs { dir })
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Remounts with other options (`size=4m`, `ro`).
    fn remount(&self, opts: &str) {
        let st = Command::new("mount").args(["-o", &format!("remount,{opts}")]).arg(self.path()).status().unwrap();
        assert!(st.success(), "remount {opts} failed");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

/// Every line of a journal is complete and carries a valid checksum prefix (16 hex digits).
fn journal_is_valid(p: &Path) -> bool {
    let t = std::fs::read_to_string(p).unwrap();
    t.ends_with('\n') && t.lines().all(|l| l.len() > 17 && l.as_bytes()[16] == b' ')
}

/// Embeddings of 300 rows (journal ≈ 0.6 MB, side file ≈ 0.4 MB) on a 400 kB disk fill it while
/// journaling; on a 700 kB disk the journal fits and the final write does not. Both fail with
/// the path and a hint, leave no output or temporary file and a valid journal, and resume to
/// the clean run's bytes once the disk is made larger.
#[test]
fn a_full_disk_fails_clearly_and_resumes_after_space_is_freed() {
    let Some(probe) = Tmpfs::mount("64k") else {
        skip("a_full_disk_fails_clearly_and_resumes_after_space_is_freed", "cannot mount a tmpfs (needs root)");
        return;
    };
    drop(probe);
    let input = data("sample/alpaca_en_demo.json");
    let i = input.to_str().unwrap();
    let dir = tmp();
    let clean = dir.path().join("clean.parquet");
    let args = |o: &Path| -> Vec<String> {
        ["embed", i, "--limit", "300", "--chunk-rows", "15", "-o", o.to_str().unwrap()]
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    let run = |o: &Path| {
        let a = args(o);
        gleaner(&a.iter().map(String::as_str).collect::<Vec<_>>())
    };
    assert!(run(&clean).status.success());
    let want = std::fs::read(&clean).unwrap();
    for (size, failing) in [("400k", "e.parquet.partial"), ("700k", "e.parquet")] {
        let fs = Tmpfs::mount(size).expect("mounted once already");
        let out: PathBuf = fs.path().join("e.parquet");
        let res = run(&out);
        let err = String::from_utf8_lossy(&res.stderr);
        assert!(!res.status.success(), "{size}: the run did not fail on a full disk:\n{err}");
        assert!(!err.contains("panicked"), "{err}");
        let error_line = err.lines().find(|l| l.starts_with("error:")).unwrap_or_default();
        assert!(
            error_line.contains(&fs.path().join(failing).display().to_string())
                && error_line.contains("No space left on device"),
            "{size}: the error does not name {failing}:\n{err}"
        );
        assert!(err.contains("hint: free space"), "{size}: no hint:\n{err}");
        let left = names(fs.path());
        assert_eq!(left, vec!["e.parquet.partial".to_string()], "{size}: a partial output or temporary file is left");
        let journal = fs.path().join("e.parquet.partial");
        assert!(journal_is_valid(&journal), "{size}: the journal is corrupt after ENOSPC");
        fs.remount("size=4m");
        let res = run(&out);
        let err = String::from_utf8_lossy(&res.stderr);
        assert!(res.status.success(), "{size}: {err}");
        assert!(err.contains("resuming:"), "{size}: the run after freeing space did not resume:\n{err}");
        assert!(!err.contains("damaged"), "{size}: {err}");
        assert_eq!(std::fs::read(&out).unwrap(), want, "{size}: the resumed output differs from a clean run");
        assert_eq!(names(fs.path()), vec!["e.manifest.json".to_string(), "e.parquet".to_string()]);
    }
}

/// A read-only output directory fails before any model is resolved: the commands name a model
/// that does not exist, and the error is about the output, never the model.
#[test]
fn a_read_only_output_fails_before_any_model_loads() {
    let Some(fs) = Tmpfs::mount("1m") else {
        skip("a_read_only_output_fails_before_any_model_loads", "cannot mount a tmpfs (needs root)");
        return;
    };
    fs.remount("ro");
    let input = data("sample/alpaca_en_demo.json");
    let i = input.to_str().unwrap();
    let o = |n: &str| fs.path().join(n).display().to_string();
    let missing = "/nonexistent/no-such-model";
    let cases: Vec<(&str, Vec<String>)> = vec![
        (
            "score ifd",
            vec!["score".into(), "ifd".into(), i.into(), "--model".into(), missing.into(), "-o".into(), o("s.parquet")],
        ),
        (
            "score quality",
            vec![
                "score".into(),
                "quality".into(),
                i.into(),
                "--model".into(),
                missing.into(),
                "-o".into(),
                o("q.parquet"),
            ],
        ),
        ("embed", vec!["embed".into(), i.into(), "--model".into(), missing.into(), "-o".into(), o("e.parquet")]),
        (
            "run cherry",
            vec!["run".into(), "cherry".into(), i.into(), "--model".into(), missing.into(), "-o".into(), o("c.json")],
        ),
        (
            "run car",
            vec!["run".into(), "car".into(), i.into(), "--embedder".into(), missing.into(), "-o".into(), o("car.json")],
        ),
    ];
    for (name, args) in cases {
        let res = gleaner(&args.iter().map(String::as_str).collect::<Vec<_>>());
        let err = String::from_utf8_lossy(&res.stderr);
        assert!(!res.status.success(), "{name}: wrote to a read-only directory?\n{err}");
        assert!(err.contains("Read-only file system"), "{name}: not the output error:\n{err}");
        assert!(err.contains(&fs.path().display().to_string()), "{name}: the path is not named:\n{err}");
        assert!(!err.contains("no-such-model"), "{name}: the model was resolved before the output was checked:\n{err}");
        assert!(err.contains("hint: choose a writable output"), "{name}: {err}");
    }
}
