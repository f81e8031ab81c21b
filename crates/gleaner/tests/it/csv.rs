//! CSV input end to end: the bundled Alpaca sample written as CSV the way Python's `csv` module
//! writes it (minimal quoting, `\r\n` after every row), then `gleaner convert` and `gleaner stats`.

use crate::util::*;
use serde_json::Value;
use std::path::Path;

/// A field as Python's `csv.writer` (QUOTE_MINIMAL) writes it.
fn quote(field: &str) -> String {
    if field.contains([',', '"', '\r', '\n']) { format!("\"{}\"", field.replace('"', "\"\"")) } else { field.into() }
}

fn jsonl(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap();
    text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
}

#[test]
fn the_alpaca_sample_as_csv_converts_and_counts() {
    let sample = data("sample/alpaca_en_demo.json");
    let src: Vec<Value> = serde_json::from_slice(&std::fs::read(&sample).unwrap()).unwrap();
    let n = src.len();
    assert!(n > 100);
    let mut text = String::from("instruction,input,output,source\r\n");
    for (i, r) in src.iter().enumerate() {
        let f = |k: &str| quote(r[k].as_str().unwrap());
        text += &format!("{},{},{},row-{i}\r\n", f("instruction"), f("input"), f("output"));
    }
    assert!(text.lines().count() > n + 1, "the sample has multi-line fields");
    let d = tmp();
    let csv = d.path().join("demo.csv");
    std::fs::write(&csv, &text).unwrap();
    let csv_s = csv.to_str().unwrap();

    // convert: every record, every field, the extra column as a string field
    let out = d.path().join("demo.jsonl");
    ok(&["convert", csv_s, "-o", out.to_str().unwrap()]);
    let got = jsonl(&out);
    assert_eq!(got.len(), n);
    for (i, (g, s)) in got.iter().zip(&src).enumerate() {
        for k in ["instruction", "input", "output"] {
            assert_eq!(g[k], s[k], "record {i}, `{k}`");
        }
        assert_eq!(g["source"], format!("row-{i}"));
    }

    // stats
    let v: Value = serde_json::from_str(&ok(&["stats", csv_s, "--json"])).unwrap();
    assert_eq!((v["read"].as_u64(), v["ok"].as_u64()), (Some(n as u64), Some(n as u64)), "{v}");
    assert_eq!(v["shapes"]["alpaca"].as_u64(), Some(n as u64), "{v}");

    // a short row after the multi-line records: an error naming its physical line, or skipped
    let line = text.matches('\n').count() + 1;
    std::fs::write(&csv, format!("{text}only one field\r\n")).unwrap();
    let err = fails(&["stats", csv_s]);
    let want = format!("demo.csv: line {line}: wrong number of fields: 1 field, the header has 4");
    assert!(err.contains(&want), "expected `{want}` in:\n{err}");
    let v: Value = serde_json::from_str(&ok(&["stats", csv_s, "--on-error", "skip", "--json"])).unwrap();
    assert_eq!((v["read"].as_u64(), v["ok"].as_u64()), (Some(n as u64 + 1), Some(n as u64)), "{v}");
    assert_eq!(v["skipped"]["wrong number of fields"].as_u64(), Some(1), "{v}");

    // JSON -> CSV -> JSONL gives the records of JSON -> JSONL
    let back = d.path().join("back.csv");
    ok(&["convert", sample.to_str().unwrap(), "-o", back.to_str().unwrap()]);
    let again = d.path().join("again.jsonl");
    ok(&["convert", back.to_str().unwrap(), "-o", again.to_str().unwrap()]);
    assert_eq!(jsonl(&again), src);
}
