//! Damaged side files, manifests and journals are detected (checksums in the manifest and on
//! every journal line), reported with one line naming the file, and recomputed: never trusted,
//! never a crash, and the output is the same bytes as an undamaged run.

use crate::util::{data, gleaner, tmp};
use std::path::{Path, PathBuf};

/// The ways a file gets damaged.
#[derive(Debug, Clone, Copy)]
enum Damage {
    /// Cut to half its length.
    Truncate,
    /// One bit flipped in the middle.
    BitFlip,
}

fn damage(p: &Path, how: Damage) {
    let mut b = std::fs::read(p).unwrap();
    match how {
        Damage::Truncate => b.truncate(b.len() / 2),
        Damage::BitFlip => {
            let at = b.len() / 2;
            b[at] ^= 0x10;
        }
    }
    std::fs::write(p, b).unwrap();
}

/// Side files and manifests of a work directory, sorted.
fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    v.sort();
    v
}

fn run_ok(args: &[&str]) -> String {
    let out = gleaner(args);
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "gleaner {args:?}:\n{err}");
    assert!(!err.contains("panicked"), "{err}");
    err
}

/// CaR on 60 rows writes three side files (quality scores, embeddings, clusters) with their
/// manifests. Each of the six files, truncated or bit-flipped, is reported by name and
/// recomputed to the same bytes; the selection is unchanged.
#[test]
fn damaged_side_files_and_manifests_are_reported_and_recomputed() {
    let dir = tmp();
    let input = data("sample/alpaca_en_demo.json");
    let out = dir.path().join("car.json");
    let work = dir.path().join("car.json.gleaner");
    let args = [
        "run",
        "car",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--quality-model",
        "default",
        "--limit",
        "60",
    ];
    run_ok(&args);
    let want_out = std::fs::read(&out).unwrap();
    // the model stages' side files: those with a manifest (not the run's own `rows.parquet`,
    // which every run rewrites, like `summary.json`)
    let sides: Vec<PathBuf> = files(&work, ".parquet")
        .into_iter()
        .filter(|p| p.with_file_name(format!("{}.manifest.json", p.file_stem().unwrap().to_string_lossy())).exists())
        .collect();
    let manifests = files(&work, ".manifest.json");
    assert_eq!(sides.len(), 3, "{sides:?}");
    assert_eq!(manifests.len(), 3, "{manifests:?}");
    let originals: Vec<(PathBuf, Vec<u8>)> =
        sides.iter().chain(&manifests).map(|p| (p.clone(), std::fs::read(p).unwrap())).collect();
    for (victim, _) in &originals {
        for how in [Damage::Truncate, Damage::BitFlip] {
            damage(victim, how);
            let log = run_ok(&args);
            let name = victim.file_name().unwrap().to_string_lossy();
            let line = log.lines().find(|l| l.contains("recomputing") && l.contains("damaged"));
            let line = line.unwrap_or_else(|| panic!("{name} {how:?}: no damage reported:\n{log}"));
            assert!(line.contains(name.as_ref()), "{name} {how:?}: the line does not name the file: {line}");
            assert_eq!(std::fs::read(&out).unwrap(), want_out, "{name} {how:?}: the output changed");
            for (p, bytes) in &originals {
                assert_eq!(&std::fs::read(p).unwrap(), bytes, "{name} {how:?}: {} not restored", p.display());
            }
        }
    }
    // undamaged, everything is reused and nothing is reported
    let log = run_ok(&args);
    assert!(!log.contains("damaged"), "{log}");
}

/// A journal damaged after a kill (a bit flipped in a chunk line, or cut mid-line) is
/// reported, the damaged chunks recomputed, and the output is byte-identical.
#[test]
fn a_damaged_journal_is_reported_and_its_chunks_recomputed() {
    let dir = tmp();
    let input = data("sample/alpaca_en_demo.json");
    let i = input.to_str().unwrap();
    let full = dir.path().join("full.parquet");
    run_ok(&["score", "quality", i, "--limit", "96", "--chunk-rows", "8", "-o", full.to_str().unwrap()]);
    let want = std::fs::read(&full).unwrap();
    for how in [Damage::BitFlip, Damage::Truncate] {
        let side = dir.path().join(format!("{how:?}.parquet"));
        let s = side.to_str().unwrap();
        let args = ["score", "quality", i, "--limit", "96", "--chunk-rows", "8", "-o", s];
        let journal = dir.path().join(format!("{how:?}.parquet.partial"));
        assert!(crate::resume::kill_after_chunks(&args, &journal, 3), "{how:?}: finished before 3 chunks");
        // damage the last complete line (the flip lands inside its JSON, the cut mid-line)
        let text = std::fs::read(&journal).unwrap();
        let lines: Vec<usize> = text.iter().enumerate().filter(|(_, c)| **c == b'\n').map(|(i, _)| i).collect();
        let (start, end) = (lines[lines.len() - 2] + 1, lines[lines.len() - 1]);
        let mut b = text.clone();
        match how {
            Damage::BitFlip => b[(start + end) / 2] ^= 0x02,
            Damage::Truncate => b.truncate((start + end) / 2),
        }
        std::fs::write(&journal, b).unwrap();
        let log = run_ok(&args);
        if let Damage::BitFlip = how {
            assert!(
                log.lines()
                    .any(|l| l.contains(journal.file_name().unwrap().to_str().unwrap()) && l.contains("damaged")),
                "{how:?}: the damaged line was not reported:\n{log}"
            );
        }
        assert!(log.contains("resuming:"), "{how:?}: {log}");
        assert_eq!(std::fs::read(&side).unwrap(), want, "{how:?}: output differs");
        assert!(!journal.exists());
    }
}
