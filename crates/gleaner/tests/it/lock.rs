//! Two runs on one work directory never interleave: the second is refused at once with a
//! message naming the first one's pid; a lock left by a killed run is taken over (and said so).

use crate::util::{data, gleaner};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn a_second_run_on_a_work_dir_is_refused_and_a_dead_holders_lock_taken_over() {
    let dir = crate::util::tmp();
    let input = data("sample/alpaca_en_demo.json");
    let i = input.to_str().unwrap();
    let work = dir.path().join("work");
    let lock = work.join("gleaner.lock");
    let w = work.to_str().unwrap();
    let args = |out: &str| -> Vec<String> {
        let o = dir.path().join(out).display().to_string();
        ["--precision", "f32", "run", "cherry", i, "-o", &o, "--work-dir", w, "--limit", "12", "--chunk-rows", "2"]
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    let mut first = Command::new(env!("CARGO_BIN_EXE_gleaner"))
        .args(args("a.json"))
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    while std::fs::read_to_string(&lock).map_or(true, |t| t.trim().is_empty()) {
        assert!(first.try_wait().unwrap().is_none(), "the first run ended before taking the lock");
        assert!(t0.elapsed() < Duration::from_secs(60), "no lock file in 60 s");
        std::thread::sleep(Duration::from_millis(5));
    }
    let pid = first.id().to_string();
    assert_eq!(std::fs::read_to_string(&lock).unwrap().trim(), pid, "the lock file holds the holder's pid");
    // a second process on the same work directory (another output file) is refused at once
    let b = args("b.json");
    let second = gleaner(&b.iter().map(String::as_str).collect::<Vec<_>>());
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(!second.status.success(), "the second run was not refused:\n{err}");
    assert!(err.contains(&format!("locked by another gleaner run (pid {pid})")), "{err}");
    assert!(err.contains("hint:"), "{err}");
    assert!(!dir.path().join("b.json").exists());
    assert!(first.try_wait().unwrap().is_none(), "the first run was disturbed");
    // the holder dies without cleaning up: its lock file stays, naming a dead pid
    first.kill().unwrap();
    first.wait().unwrap();
    assert_eq!(std::fs::read_to_string(&lock).unwrap().trim(), pid);
    let res = gleaner(&b.iter().map(String::as_str).collect::<Vec<_>>());
    let err = String::from_utf8_lossy(&res.stderr);
    assert!(res.status.success(), "{err}");
    assert!(err.contains(&format!("taking over a stale lock left by pid {pid}")), "{err}");
    assert!(!lock.exists(), "the lock file is removed when the run ends");
}
