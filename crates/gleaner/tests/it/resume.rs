//! Every model stage resumes after `kill -9`: the rerun of the same command finishes the work
//! from the journal and writes the same bytes as a run that was never interrupted. A side file
//! or a journal made at another precision is never reused.

use crate::util::{data, gleaner, tmp};
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// Complete chunk lines in a journal (its first line is the manifest).
fn journaled_chunks(journal: &Path) -> usize {
    std::fs::read_to_string(journal).map_or(0, |t| t.matches('\n').count().saturating_sub(1))
}

/// Starts `gleaner args`, kills it with SIGKILL once `journal` holds a chunk, and returns
/// whether it was killed while still running.
fn kill_after_first_chunk(args: &[&str], journal: &Path) -> bool {
    kill_after_chunks(args, journal, 1)
}

/// Starts `gleaner args`, kills it with SIGKILL once `journal` holds `n` chunks, and returns
/// whether it was killed while still running.
pub fn kill_after_chunks(args: &[&str], journal: &Path, n: usize) -> bool {
    kill_when(args, &|| journaled_chunks(journal) >= n)
}

/// Starts `gleaner args` and SIGKILLs it as soon as `now()` holds (polled every 0.2 ms, so a
/// file that exists for milliseconds is seen); returns whether it was still running.
pub fn kill_when(args: &[&str], now: &dyn Fn() -> bool) -> bool {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gleaner"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let t0 = Instant::now();
    loop {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        if now() {
            child.kill().unwrap(); // SIGKILL
            child.wait().unwrap();
            return true;
        }
        assert!(t0.elapsed() < Duration::from_secs(600), "the kill condition did not come in 10 minutes");
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Runs `args` (with `-o OUT` appended) uninterrupted, then killed and resumed, and compares.
fn resumes_byte_identically(name: &str, args: &[&str], ext: &str) {
    let dir = tmp();
    let full = dir.path().join(format!("full.{ext}"));
    let cut = dir.path().join(format!("cut.{ext}"));
    let with_out = |out: &Path| -> Vec<String> {
        args.iter().map(|s| s.to_string()).chain(["-o".to_string(), out.display().to_string()]).collect()
    };
    let a = with_out(&full);
    let res = gleaner(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(res.status.success(), "{name}: {}", String::from_utf8_lossy(&res.stderr));
    let b = with_out(&cut);
    let bv: Vec<&str> = b.iter().map(String::as_str).collect();
    let journal = dir.path().join(format!("cut.{ext}.partial"));
    assert!(kill_after_first_chunk(&bv, &journal), "{name}: finished before a chunk was journaled");
    assert!(!cut.exists(), "{name}: a killed run left an output file");
    let done = journaled_chunks(&journal);
    let res = gleaner(&bv);
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(res.status.success(), "{name}: {stderr}");
    assert!(stderr.contains("resuming:"), "{name}: the rerun did not resume ({done} chunks journaled):\n{stderr}");
    assert!(!journal.exists(), "{name}: the journal is left after a complete run");
    assert_eq!(std::fs::read(&full).unwrap(), std::fs::read(&cut).unwrap(), "{name}: resumed output differs");
}

#[test]
fn quality_resumes_after_kill_9() {
    let input = data("sample/alpaca_en_demo.json");
    let i = input.to_str().unwrap();
    resumes_byte_identically("quality", &["score", "quality", i, "--limit", "96", "--chunk-rows", "16"], "parquet");
}

#[test]
fn embed_resumes_after_kill_9() {
    let input = data("sample/alpaca_en_demo.json");
    let i = input.to_str().unwrap();
    resumes_byte_identically("embed", &["embed", i, "--limit", "600", "--chunk-rows", "25"], "parquet");
}

#[test]
fn ifd_resumes_after_kill_9() {
    let input = data("sample/alpaca_en_demo.json");
    let i = input.to_str().unwrap();
    resumes_byte_identically(
        "ifd",
        &["--precision", "f32", "score", "ifd", i, "--limit", "40", "--chunk-rows", "4", "--reverse"],
        "parquet",
    );
}

/// The `precision` recorded in a side file's manifest.
fn manifest_precision(side: &Path) -> String {
    let m = side.with_file_name(format!("{}.manifest.json", side.file_stem().unwrap().to_string_lossy()));
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(m).unwrap()).unwrap();
    v["params"]["precision"].as_str().unwrap().to_string()
}

#[test]
fn a_side_file_made_in_bf16_is_not_reused_by_an_f32_run() {
    if !gleaner_nn::amx::available() {
        crate::util::skip("a_side_file_made_in_bf16_is_not_reused_by_an_f32_run", "this CPU has no AMX bf16 tiles");
        return;
    }
    let dir = tmp();
    let side = dir.path().join("a.parquet");
    let s = side.to_str().unwrap();
    let input = data("sample/alpaca_en_demo.json");
    let i = input.to_str().unwrap();
    let run = |p: &str| {
        let out = gleaner(&["--precision", p, "score", "ifd", i, "--limit", "6", "-o", s]);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        (String::from_utf8_lossy(&out.stderr).to_string(), std::fs::read(&side).unwrap())
    };
    let out = gleaner(&["score", "ifd", i, "--limit", "6", "-o", s]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(manifest_precision(&side), "bf16x3", "auto is bf16x3 for IFD on an AMX machine");
    let (_, bf16) = run("bf16");
    assert_eq!(manifest_precision(&side), "bf16");
    let (log, f32a) = run("f32");
    assert!(!log.contains("reusing"), "the f32 run reused the bf16 scores:\n{log}");
    assert!(log.contains("recomputing") && log.contains("precision: f32 ≠ bf16"), "{log}");
    assert_eq!(manifest_precision(&side), "f32");
    assert_ne!(bf16, f32a, "bf16 and f32 scores are byte-identical: the precision had no effect");
    // a fresh f32 run gives the same bytes, and a rerun at f32 reuses them
    std::fs::remove_dir_all(dir.path()).unwrap();
    std::fs::create_dir_all(dir.path()).unwrap();
    let (_, f32b) = run("f32");
    assert_eq!(f32a, f32b);
    let (log, _) = run("f32");
    assert!(log.contains("reusing IFD scores"), "{log}");
}

#[test]
fn a_journal_made_at_another_precision_is_refused() {
    if !gleaner_nn::amx::available() {
        crate::util::skip("a_journal_made_at_another_precision_is_refused", "this CPU has no AMX bf16 tiles");
        return;
    }
    let dir = tmp();
    let side = dir.path().join("j.parquet");
    let s = side.to_str().unwrap();
    let input = data("sample/alpaca_en_demo.json");
    let i = input.to_str().unwrap();
    let journal = dir.path().join("j.parquet.partial");
    let args = ["--precision", "bf16", "score", "ifd", i, "--limit", "40", "--chunk-rows", "2", "-o", s];
    assert!(kill_after_first_chunk(&args, &journal), "finished before a chunk was journaled");
    let out = gleaner(&["--precision", "f32", "score", "ifd", i, "--limit", "40", "--chunk-rows", "2", "-o", s]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a bf16 journal was resumed at f32:\n{err}");
    assert!(err.contains("refusing to resume") && err.contains("precision: f32 ≠ bf16"), "{err}");
    assert!(!side.exists());
}

/// The short form of the crash-and-resume campaign (`tests/campaign/crash_resume.py`): one
/// stage killed three times (after one chunk, after half the chunks, and while the side file's
/// temporary file is being written), resumed each time, ends with the clean run's bytes and
/// leaves no journal, temporary or lock file behind.
#[test]
fn embed_survives_three_kills_one_during_the_final_write() {
    let dir = tmp();
    let input = data("sample/alpaca_en_demo.json");
    let i = input.to_str().unwrap();
    let full = dir.path().join("full.parquet");
    let args = |o: &Path| -> Vec<String> {
        ["embed", i, "--limit", "300", "--chunk-rows", "15", "-o", o.to_str().unwrap()]
            .iter()
            .map(|s| s.to_string())
            .collect()
    };
    let a = args(&full);
    let res = gleaner(&a.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(res.status.success(), "{}", String::from_utf8_lossy(&res.stderr));
    let sub = dir.path().join("cut");
    std::fs::create_dir_all(&sub).unwrap();
    let cut = sub.join("cut.parquet");
    let b = args(&cut);
    let bv: Vec<&str> = b.iter().map(String::as_str).collect();
    let journal = sub.join("cut.parquet.partial");
    let tmp_file = sub.join("cut.parquet.tmp");
    assert!(kill_after_chunks(&bv, &journal, 1), "finished before the first kill");
    assert!(kill_after_chunks(&bv, &journal, 10), "finished before the second kill");
    // (the output check before the run creates and removes the same temporary name: only a
    // temporary file after the last chunk is the final write)
    let in_final_write = || journaled_chunks(&journal) == 20 && tmp_file.exists();
    assert!(kill_when(&bv, &in_final_write), "finished before the final write was seen");
    assert_eq!(journaled_chunks(&journal), 20, "all chunks were journaled before the final write");
    let res = gleaner(&bv);
    let stderr = String::from_utf8_lossy(&res.stderr);
    assert!(res.status.success(), "{stderr}");
    assert!(stderr.contains("resuming: 20 of 20"), "{stderr}");
    assert_eq!(std::fs::read(&full).unwrap(), std::fs::read(&cut).unwrap(), "resumed output differs");
    let left: Vec<String> = std::fs::read_dir(&sub)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".tmp") || n.ends_with(".partial") || n.ends_with(".lock"))
        .collect();
    assert!(left.is_empty(), "left behind: {left:?}");
}
