//! `--shard I/N` + `gleaner merge` give the side file and manifest of one unsharded run, byte for
//! byte, for every model stage; shards that do not belong together are refused.

use crate::util::{data, fails, ok, tmp};
use std::path::Path;

fn bytes(p: &Path) -> Vec<u8> {
    std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn manifest(side: &Path) -> std::path::PathBuf {
    let stem = side.file_stem().unwrap().to_string_lossy().into_owned();
    side.with_file_name(format!("{stem}.manifest.json"))
}

/// Runs `args -o whole.EXT` and `args --shard i/n -o part-i.EXT` for every i, merges the parts
/// given in reverse order, and compares the merged side file and manifest with the whole run's.
fn merge_equals_one_run(args: &[&str], n: usize, ext: &str) {
    let dir = tmp();
    let whole = dir.path().join(format!("whole.{ext}"));
    let run = |extra: &[&str], out: &Path| {
        let mut a: Vec<&str> = args.to_vec();
        a.extend_from_slice(extra);
        let o = out.display().to_string();
        a.extend_from_slice(&["-o", &o]);
        ok(&a);
    };
    run(&[], &whole);
    let mut parts = Vec::new();
    for i in (1..=n).rev() {
        let p = dir.path().join(format!("part-{i}.{ext}"));
        run(&["--shard", &format!("{i}/{n}")], &p);
        assert!(bytes(&manifest(&p)).windows(7).any(|w| w == b"\"shard\""), "a shard's manifest names its shard");
        parts.push(p.display().to_string());
    }
    let merged = dir.path().join(format!("merged.{ext}"));
    let m = merged.display().to_string();
    let mut a = vec!["merge"];
    a.extend(parts.iter().map(String::as_str));
    a.extend_from_slice(&["-o", &m]);
    ok(&a);
    assert!(bytes(&merged) == bytes(&whole), "{args:?}: merged shards differ from one run");
    assert_eq!(
        String::from_utf8(bytes(&manifest(&merged))).unwrap(),
        String::from_utf8(bytes(&manifest(&whole))).unwrap()
    );
}

#[test]
fn quality_shards_merge_to_one_run() {
    let input = data("sample/alpaca_en_demo.json").display().to_string();
    merge_equals_one_run(&["score", "quality", &input, "--limit", "300", "--chunk-rows", "64"], 3, "parquet");
}

#[test]
fn embed_shards_merge_to_one_run() {
    let input = data("sample/alpaca_en_demo.json").display().to_string();
    merge_equals_one_run(&["embed", &input, "--limit", "200", "--chunk-rows", "50"], 2, "parquet");
}

#[test]
fn ifd_shards_merge_to_one_run() {
    let input = data("sample/alpaca_en_demo.json").display().to_string();
    merge_equals_one_run(&["score", "ifd", &input, "--limit", "16", "--reverse"], 2, "jsonl");
}

#[test]
fn shards_that_do_not_belong_together_are_refused() {
    let dir = tmp();
    let input = data("sample/alpaca_en_demo.json").display().to_string();
    let out = |name: &str| dir.path().join(name).display().to_string();
    let score = |extra: &[&str], o: &str| {
        let mut a = vec!["score", "quality", input.as_str(), "--limit", "40"];
        a.extend_from_slice(extra);
        a.extend_from_slice(&["-o", o]);
        ok(&a);
    };
    let (s1, s2, s3, other, whole) =
        (out("s1.jsonl"), out("s2.jsonl"), out("s3.jsonl"), out("o.jsonl"), out("w.jsonl"));
    score(&["--shard", "1/3"], &s1);
    score(&["--shard", "2/3"], &s2);
    score(&[], &whole);
    let merged = out("m.jsonl");
    let err = fails(&["merge", &s1, &s2, "-o", &merged]);
    assert!(err.contains("missing shard(s) 3/3"), "{err}");
    let err = fails(&["merge", &s1, &s1, &s2, "-o", &merged]);
    assert!(err.contains("shard 1/3 is given twice"), "{err}");
    let err = fails(&["merge", &s1, &whole, "-o", &merged]);
    assert!(err.contains("not a shard"), "{err}");
    // the third shard of a different input (another --limit) does not fit the first two
    let mut a = vec!["score", "quality", input.as_str(), "--limit", "41", "--shard", "3/3", "-o", &s3];
    ok(&a);
    let err = fails(&["merge", &s1, &s2, &s3, "-o", &merged]);
    assert!(err.contains("does not belong with"), "{err}");
    a[4] = "40";
    ok(&a);
    ok(&["merge", &s1, &s2, &s3, "-o", &merged]);
    assert!(bytes(Path::new(&merged)) == bytes(Path::new(&whole)));
    let err = fails(&["score", "quality", &input, "--shard", "0/3", "-o", &other]);
    assert!(err.contains("numbered 1 to N"), "{err}");
}
