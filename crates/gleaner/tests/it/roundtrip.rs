//! Round trips: reading a file and writing it back gives the same records, field for field,
//! in JSON, JSONL and Parquet; conversions between shapes keep every field.

use crate::util::*;
use gleaner_read::{ReadOptions, read};
use serde_json::Value;
use std::path::Path;

fn values(path: &Path) -> Vec<serde_json::Map<String, Value>> {
    let ds = read(path, &ReadOptions::default()).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert!(ds.accounting.skipped.is_empty(), "{}: {:?}", path.display(), ds.accounting.skipped);
    ds.into_records().unwrap().into_iter().map(|r| r.fields).collect()
}

fn real_files() -> Vec<std::path::PathBuf> {
    let mut v = Vec::new();
    for dir in ["alpaca-selections", "eval-sets", "sample"] {
        for e in std::fs::read_dir(data(dir)).unwrap() {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "json" || x == "jsonl") {
                v.push(p);
            }
        }
    }
    v.sort();
    assert!(v.len() >= 13, "expected the bundled real files, found {}", v.len());
    v
}

#[test]
fn every_real_file_round_trips_in_json_jsonl_and_parquet() {
    let dir = tmp();
    for src in real_files() {
        let orig = values(&src);
        for ext in ["json", "jsonl", "parquet"] {
            let out = dir.path().join(format!("rt.{ext}"));
            ok(&["convert", src.to_str().unwrap(), "-o", out.to_str().unwrap()]);
            let back = values(&out);
            assert_eq!(orig.len(), back.len(), "{} via {ext}", src.display());
            for (i, (a, b)) in orig.iter().zip(&back).enumerate() {
                assert_eq!(a, b, "{} via {ext}: record {i} differs", src.display());
            }
        }
    }
}

#[test]
fn released_datasets_reread_the_same_records_and_notice_a_changed_file() {
    let dir = tmp();
    let src = data("alpaca-selections/car_selected_1013.json");
    let pq = dir.path().join("car.parquet");
    ok(&["convert", src.to_str().unwrap(), "-o", pq.to_str().unwrap()]);
    let jsonl = dir.path().join("car.jsonl");
    ok(&["convert", src.to_str().unwrap(), "-o", jsonl.to_str().unwrap()]);
    for p in [src.as_path(), pq.as_path(), jsonl.as_path()] {
        let mut full = read(p, &ReadOptions::default()).unwrap();
        let mut lean = gleaner_read::read_released(p, &ReadOptions::default()).unwrap();
        assert_eq!(lean.ids, full.ids, "{}", p.display());
        full.truncate(700);
        lean.truncate(700);
        let want = full.records_in_memory().unwrap().to_vec();
        // chunks of an odd size cover every record once, in order
        let mut seen = 0;
        lean.for_each_chunk(97, &mut |first, chunk| {
            assert_eq!(first, seen);
            assert_eq!(chunk, &want[first..first + chunk.len()]);
            seen += chunk.len();
            Ok(())
        })
        .unwrap();
        assert_eq!(seen, 700, "{}", p.display());
        let picks = [699, 3, 3, 0, 512];
        let a = lean.subset(&picks).unwrap();
        assert_eq!(a.records_in_memory().unwrap(), full.subset(&picks).unwrap().records_in_memory().unwrap());
        assert_eq!(a.ids, picks.iter().map(|&i| full.ids[i]).collect::<Vec<_>>());
    }
    // a file changed after the read is an error naming it, not other records
    let lean = gleaner_read::read_released(&jsonl, &ReadOptions::default()).unwrap();
    let mut text = std::fs::read_to_string(&jsonl).unwrap();
    text.push_str(&text.clone()[..text.find('\n').unwrap() + 1]);
    std::fs::write(&jsonl, text).unwrap();
    let err = lean.map_records(|r| r.output().len()).unwrap_err().to_string();
    assert!(err.contains("car.jsonl") && err.contains("changed"), "{err}");
}

#[test]
fn same_format_json_is_byte_identical_for_python_written_files() {
    // Python's json.dump layouts (compact with spaces and \u escapes; indent=4) are
    // reproduced byte for byte, so diffs of gleaner output against the source are empty.
    let dir = tmp();
    for rel in [
        "alpaca-selections/car_selected_1013.json",
        "alpaca-selections/cherry_ifd_top6pct_3111.json",
        "alpaca-selections/lcg_multinomialnb_1k.json",
    ] {
        let src = data(rel);
        let out = dir.path().join("same.json");
        ok(&["convert", src.to_str().unwrap(), "-o", out.to_str().unwrap()]);
        let a = std::fs::read(&src).unwrap();
        let b = std::fs::read(&out).unwrap();
        assert!(a == b, "{rel}: bytes differ (len {} vs {})", a.len(), b.len());
    }
}

#[test]
fn nan_and_infinity_literals_survive() {
    let dir = tmp();
    let src = dir.path().join("ifd.json");
    std::fs::write(
        &src,
        "[\n    {\n        \"instruction\": \"a\",\n        \"input\": \"\",\n        \"output\": \"b\",\n        \"ifd_ppl\": NaN\n    },\n    {\n        \"instruction\": \"c\",\n        \"input\": \"\",\n        \"output\": \"d\",\n        \"ifd_ppl\": Infinity,\n        \"x\": -Infinity\n    }\n]",
    )
    .unwrap();
    for ext in ["json", "jsonl"] {
        let out = dir.path().join(format!("o.{ext}"));
        ok(&["convert", src.to_str().unwrap(), "-o", out.to_str().unwrap()]);
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.contains("NaN") && text.contains("Infinity") && text.contains("-Infinity"), "{text}");
        assert_eq!(values(&out), values(&src));
    }
    let json_out = std::fs::read(dir.path().join("o.json")).unwrap();
    assert_eq!(json_out, std::fs::read(&src).unwrap(), "indent-4 layout reproduced byte for byte");
}

#[test]
fn sharegpt_and_messages_convert_both_ways() {
    let dir = tmp();
    let sg = data("sample/glaive_toolcall_en_demo.json");
    // ShareGPT → messages → ShareGPT keeps the conversation and the extra `tools` field.
    let m = dir.path().join("m.jsonl");
    ok(&["convert", sg.to_str().unwrap(), "-o", m.to_str().unwrap(), "--to", "messages-jsonl"]);
    let back = dir.path().join("sg.json");
    ok(&["convert", m.to_str().unwrap(), "-o", back.to_str().unwrap(), "--to", "sharegpt"]);
    assert_eq!(values(&sg), values(&back));
    // Alpaca → ShareGPT keeps instruction+input in the human turn.
    let a = data("sample/alpaca_en_demo.json");
    let s = dir.path().join("a.jsonl");
    ok(&["convert", a.to_str().unwrap(), "-o", s.to_str().unwrap(), "--to", "sharegpt-jsonl"]);
    let ds = read(&s, &ReadOptions::default()).unwrap();
    assert_eq!(ds.len(), 999);
    assert!(ds.records_in_memory().unwrap().iter().all(|r| r.turns.len() == 2));
}

#[test]
fn row_ids_join_a_published_selection_to_its_pool() {
    // CaR's released file adds `score` and `label`; its rows keep the ids they have in a
    // pool without those fields, so side files computed on one join onto the other.
    let car = read(&data("alpaca-selections/car_selected_1013.json"), &ReadOptions::default()).unwrap();
    let mut stripped = car.records_in_memory().unwrap().to_vec();
    for r in &mut stripped {
        r.fields.remove("score");
        r.fields.remove("label");
    }
    assert_eq!(gleaner_core::assign_row_ids(&stripped), car.ids);
    let unique: std::collections::HashSet<_> = car.ids.iter().collect();
    assert_eq!(unique.len(), car.ids.len());
}
