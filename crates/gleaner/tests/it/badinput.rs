//! The bad-input corpus: every failure names the file and the line or record, skipping
//! keeps the counts balanced, and nothing panics.

use crate::util::*;
use gleaner_read::{OnError, ReadOptions, read, read_released};
use std::path::Path;

fn skip_opts() -> ReadOptions {
    ReadOptions { on_error: OnError::Skip, ..Default::default() }
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> String {
    let p = dir.join(name);
    std::fs::write(&p, bytes).unwrap();
    p.to_str().unwrap().to_string()
}

#[test]
fn corpus_errors_name_file_and_place_and_skips_add_up() {
    let d = tmp();
    let good = r#"{"instruction": "i", "input": "", "output": "o"}"#;
    let cases: Vec<(&str, Vec<u8>, &str, usize, usize)> = vec![
        // (file, bytes, expected message fragment, ok after skip, skipped)
        (
            "trunc.json",
            format!("[{good}, {good}, {{\"instruction\": \"x\", \"out").into_bytes(),
            "record 2: truncated",
            2,
            1,
        ),
        (
            "types.jsonl",
            format!("{good}\n{{\"instruction\": 5, \"output\": \"o\"}}\n{good}\n").into_bytes(),
            "line 2: wrong type: `instruction` must be a string",
            2,
            1,
        ),
        (
            "missing.json",
            format!("[{good}, {{\"instruction\": \"i\", \"input\": \"\"}}]").into_bytes(),
            "record 1: missing `output`",
            1,
            1,
        ),
        (
            "utf8.jsonl",
            [good.as_bytes(), b"\n{\"instruction\": \"\xff\xfe\", \"output\": \"o\"}\n"].concat(),
            "line 2: invalid UTF-8",
            1,
            1,
        ),
        (
            "utf8.json",
            [
                b"[".as_slice(),
                good.as_bytes(),
                b", {\"instruction\": \"\xff\", \"output\": \"o\"}, ",
                good.as_bytes(),
                b"]",
            ]
            .concat(),
            "record 1: invalid JSON",
            2,
            1,
        ),
        (
            "role.json",
            br#"[{"conversations": [{"from": "human", "value": "q"}, {"from": "wizard", "value": "a"}]}]"#.to_vec(),
            "record 0: unknown role `wizard` in conversations[1]",
            0,
            1,
        ),
        ("shape.jsonl", b"{\"foo\": 1}\n[1, 2]\n".to_vec(), "line 1: no prompt field", 0, 2),
        (
            "shape2.json",
            format!("[{good}, {{\"text\": \"no response here\"}}]").into_bytes(),
            "record 1: unknown record shape",
            1,
            1,
        ),
        (
            "syntax.jsonl",
            format!("{good}\n{{\"instruction\": \"i\" \"output\": \"o\"}}\n").into_bytes(),
            "line 2: invalid JSON",
            1,
            1,
        ),
    ];
    for (name, bytes, msg, ok_n, skipped) in cases {
        let p = write(d.path(), name, &bytes);
        let err = fails(&["stats", &p]);
        assert!(err.contains(name) && err.contains(msg), "{name}: expected `{msg}` in:\n{err}");
        assert!(err.contains("hint:"), "{name}: no hint line:\n{err}");
        let ds = read(Path::new(&p), &skip_opts()).unwrap();
        assert_eq!(
            (ds.accounting.ok, ds.accounting.skipped.len()),
            (ok_n, skipped),
            "{name}: {:?}",
            ds.accounting.skipped
        );
        assert!(ds.accounting.balanced());
        // The released read (what pipelines use) accepts and skips the same rows, and parses
        // the same records again on access.
        let lean = read_released(Path::new(&p), &skip_opts()).unwrap();
        assert!(lean.is_released());
        assert_eq!((&lean.ids, &lean.positions), (&ds.ids, &ds.positions), "{name}");
        assert_eq!(lean.accounting.skipped, ds.accounting.skipped, "{name}");
        assert_eq!(lean.into_records().unwrap(), ds.into_records().unwrap(), "{name}");
        let out = gleaner(&["stats", &p, "--on-error", "skip"]);
        assert!(out.status.success(), "{name}: stats --on-error skip failed");
    }
}

#[test]
fn empty_strings_big_records_and_duplicates_are_fine() {
    let d = tmp();
    let big = "x".repeat(10 * 1024 * 1024);
    let body = format!(
        "[{{\"instruction\": \"\", \"input\": \"\", \"output\": \"\"}}, {{\"instruction\": \"big\", \"output\": \"{big}\", \"id\": 1}}, {{\"instruction\": \"big\", \"output\": \"{big}\", \"id\": 1}}]"
    );
    let p = write(d.path(), "edge.json", body.as_bytes());
    let ds = read(Path::new(&p), &ReadOptions::default()).unwrap();
    assert_eq!(ds.len(), 3);
    let ids: std::collections::HashSet<_> = ds.ids.iter().collect();
    assert_eq!(ids.len(), 3, "duplicate records still get distinct row ids");
    let stats = ok(&["stats", &p, "--json"]);
    let v: serde_json::Value = serde_json::from_str(&stats).unwrap();
    assert_eq!(v["duplicate_records"], 1);
    assert_eq!(v["duplicate_id_field"], 1);
    assert_eq!(v["empty_output"], 1);
    let out = d.path().join("edge.parquet");
    ok(&["convert", &p, "-o", out.to_str().unwrap()]);
    assert_eq!(read(&out, &ReadOptions::default()).unwrap().into_records().unwrap()[1].output().len(), big.len());
}

#[test]
fn missing_and_unknown_files_give_hints() {
    let err = fails(&["stats", "/nonexistent/file.json"]);
    assert!(err.contains("/nonexistent/file.json") && err.contains("hint:"), "{err}");
    // the OS message once: the error's text already holds it, so no chain repeats it
    let os = std::fs::File::open("/nonexistent/file.json").unwrap_err().to_string();
    assert_eq!(err.matches(&os).count(), 1, "{err}");
    let d = tmp();
    let p = write(d.path(), "data.tsv", b"a\tb\n");
    let err = fails(&["stats", &p]);
    assert!(err.contains("cannot tell the format") && err.contains("--format"), "{err}");
}
