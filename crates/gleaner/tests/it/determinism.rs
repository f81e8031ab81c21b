//! Determinism: the same seed and input give the same output bytes on 1 and on 2 threads
//! (`RAYON_NUM_THREADS`), and across two runs, for every preset and every bundled recipe.
//! Each run has its own work directory, so no run reuses another's scores, embeddings or
//! clusters. The limits keep every selection a real choice (the budget below the rows in)
//! at a few seconds per run.

use crate::util::{data, tmp};
use std::path::Path;
use std::process::Command;

/// (name, arguments after `run`; IN and OUT are replaced).
const CASES: &[(&str, &str)] = &[
    ("car", "car IN -o OUT --limit 150 --n1 20"),
    ("lcg", "lcg IN -o OUT --limit 150 --budget 20 --k 6"),
    ("cherry", "cherry IN -o OUT --limit 60"),
    ("superfilter", "superfilter IN -o OUT --limit 60"),
    ("superfilter-d", "superfilter-d IN -o OUT --limit 60 --budget 6 --candidates 30"),
    ("pre-experience", "pre-experience IN -o OUT --limit 60 --clusters 4 --per-cluster 3"),
    ("random", "--recipe random IN -o OUT --limit 200 --budget 20"),
    ("longest", "--recipe longest IN -o OUT --limit 200 --budget 5"),
    ("ifd-length", "--recipe ifd-length IN -o OUT --limit 48"),
    ("ifd-quality-car", "--recipe ifd-quality-car IN -o OUT --limit 48"),
    ("lcg-quality-floor", "--recipe lcg-quality-floor IN -o OUT --limit 120 --budget 20"),
];

/// Runs `gleaner run ARGS` on `threads` threads in a fresh work directory; returns the output.
fn run(args: &str, threads: usize, dir: &Path, tag: &str) -> Vec<u8> {
    let input = data("sample/alpaca_en_demo.json");
    let out = dir.join(format!("{tag}.json"));
    let mut argv: Vec<String> = vec!["run".into()];
    argv.extend(args.split_whitespace().map(|a| match a {
        "IN" => input.display().to_string(),
        "OUT" => out.display().to_string(),
        _ => a.to_string(),
    }));
    argv.extend(["--work-dir".into(), dir.join(format!("{tag}.work")).display().to_string()]);
    let res = Command::new(env!("CARGO_BIN_EXE_gleaner"))
        .args(&argv)
        .env("NO_COLOR", "1")
        .env("RAYON_NUM_THREADS", threads.to_string())
        .output()
        .expect("run gleaner");
    assert!(
        res.status.success(),
        "gleaner {argv:?} on {threads} thread(s) failed:\n{}",
        String::from_utf8_lossy(&res.stderr)
    );
    std::fs::read(&out).unwrap()
}

#[test]
fn every_preset_and_recipe_selects_the_same_rows_on_1_and_2_threads_and_twice() {
    let dir = tmp();
    let mut differ = Vec::new();
    for (name, args) in CASES {
        let one = run(args, 1, dir.path(), &format!("{name}-1"));
        let two = run(args, 2, dir.path(), &format!("{name}-2"));
        let again = run(args, 2, dir.path(), &format!("{name}-2b"));
        assert!(!one.is_empty(), "{name}: empty output");
        if one != two {
            differ.push(format!("{name}: 1 thread vs 2 threads"));
        }
        if two != again {
            differ.push(format!("{name}: two runs on 2 threads"));
        }
    }
    assert!(differ.is_empty(), "outputs differ:\n{}", differ.join("\n"));
}
