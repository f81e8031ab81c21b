//! An input file that changes while a run is under way is refused, whichever stage just
//! finished: the next stage that reads the records again (or the final write) fails naming the
//! file, and no output is written. The run is paused (SIGSTOP) as soon as the stage's side file
//! is in place, the input is edited, and the run continued.

use crate::util::{data, tmp};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Runs `gleaner args`; when `side` (a manifest in the work directory) appears, pauses the
/// process, rewrites `input` with one response edited, and lets it go on. Returns the stderr
/// and whether the run succeeded.
fn change_input_after(args: &[String], side: &Path, input: &Path) -> (String, bool) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gleaner"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while !side.exists() {
        assert!(child.try_wait().unwrap().is_none(), "the run ended before {} appeared", side.display());
        assert!(t0.elapsed() < Duration::from_secs(600), "{} did not appear", side.display());
        std::thread::sleep(Duration::from_micros(500));
    }
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-STOP", &pid]).status().unwrap().success());
    let text = std::fs::read_to_string(input).unwrap();
    let edited = text.replacen("\"output\": \"", "\"output\": \"(edited) ", 1);
    assert_ne!(text, edited);
    std::fs::write(input, edited).unwrap();
    assert!(Command::new("kill").args(["-CONT", &pid]).status().unwrap().success());
    let out = child.wait_with_output().unwrap();
    (String::from_utf8_lossy(&out.stderr).to_string(), out.status.success())
}

#[test]
fn an_input_changed_after_each_stage_is_refused() {
    // (the stage that just finished, the work-directory file that marks its end, arguments)
    let car: &[&str] = &["run", "car", "--quality-model", "default", "--limit", "60"];
    let cases: [(&str, &str, &[&str]); 5] = [
        ("quality", "quality.manifest.json", car),
        ("embed", "embeddings-car.manifest.json", car),
        ("ifd", "ifd-alpaca.manifest.json", &["--precision", "f32", "run", "cherry", "--limit", "24"]),
        ("cluster", "clusters-car.manifest.json", car),
        ("lcg", "classify.parquet", &["run", "lcg", "--limit", "200", "--budget", "20"]),
    ];
    for (stage, marker, args) in cases {
        let dir = tmp();
        let input = dir.path().join("in.json");
        std::fs::copy(data("sample/alpaca_en_demo.json"), &input).unwrap();
        let out = dir.path().join("out.json");
        let work = dir.path().join("work");
        let mut a: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let at = a.iter().position(|s| s == "run").unwrap() + 2;
        a.insert(at, input.display().to_string());
        a.extend(["-o".into(), out.display().to_string(), "--work-dir".into(), work.display().to_string()]);
        let (err, ok) = change_input_after(&a, &work.join(marker), &input);
        assert!(!ok, "{stage}: a run whose input changed after this stage succeeded:\n{err}");
        assert!(
            err.contains(&format!("{} changed since it was read", input.display())),
            "{stage}: not refused for the changed input:\n{err}"
        );
        assert!(!err.contains("panicked"), "{err}");
        assert!(!out.exists(), "{stage}: an output was written from a changed input");
    }
}
