//! Property tests of the readers and writers (proptest, so they run on stable in CI; the
//! cargo-fuzz targets in `fuzz/` explore the same properties for longer):
//!
//! - read → write → read is the identity for JSON (every layout gleaner reproduces), JSONL,
//!   Parquet and CSV;
//! - no input panics a reader: arbitrary bytes, and valid files with bytes flipped, inserted
//!   or cut off, give records, counted skips or an error naming the file, and a skipping read
//!   always accounts for every row.

use gleaner_core::Record;
use gleaner_read::{Container, Format, JsonStyle, OnError, ReadOptions, read, read_released};
use gleaner_write::{Target, write};
use proptest::prelude::*;
use serde_json::{Map, Value, json};
use std::path::Path;

/// Text with what breaks naive writers: quotes, backslashes, commas, CR/LF, control
/// characters, a BOM, non-ASCII (2-, 3- and 4-byte UTF-8), `NaN`, and empty strings.
fn text() -> impl Strategy<Value = String> {
    let pieces = prop_oneof![
        "[a-z ]{0,12}",
        Just("\"".to_string()),
        Just("\\".to_string()),
        Just(",".to_string()),
        Just("\r\n".to_string()),
        Just("\n".to_string()),
        Just("\u{0}\u{1}\t".to_string()),
        Just("\u{feff}".to_string()),
        Just("café 日本 😀".to_string()),
        Just("NaN Infinity".to_string()),
        Just("/\\/".to_string()),
        any::<char>().prop_map(String::from),
    ];
    prop::collection::vec(pieces, 0..6).prop_map(|v| v.concat())
}

/// A float as gleaner keeps it: finite numbers as JSON numbers, NaN/±Infinity as sentinels.
fn float() -> impl Strategy<Value = Value> {
    prop_oneof![
        8 => any::<f64>().prop_filter("finite", |x| x.is_finite()).prop_map(gleaner_core::nonfinite::float_value),
        1 => Just(gleaner_core::nonfinite::float_value(f64::NAN)),
        1 => Just(gleaner_core::nonfinite::float_value(f64::INFINITY)),
        1 => Just(gleaner_core::nonfinite::float_value(f64::NEG_INFINITY)),
    ]
}

/// One Alpaca object with a fixed set of typed extra fields (Parquet needs one type per column,
/// so a float column there holds finite values: `nonfinite` picks whether NaN/±Infinity occur).
fn alpaca_with(nonfinite: bool) -> impl Strategy<Value = Map<String, Value>> {
    let score = if nonfinite {
        float().boxed()
    } else {
        any::<f64>().prop_filter("finite", |x| x.is_finite()).prop_map(gleaner_core::nonfinite::float_value).boxed()
    };
    (text(), text(), text(), any::<i64>(), score, any::<bool>(), prop::collection::vec(text(), 1..3)).prop_map(
        |(i, x, o, id, score, flag, tags)| {
            let v = json!({"instruction": i, "input": x, "output": o, "id": id, "score": score, "flag": flag, "tags": tags});
            v.as_object().unwrap().clone()
        },
    )
}

/// One Alpaca object, with NaN and ±Infinity among its scores (JSON and JSONL).
fn alpaca() -> impl Strategy<Value = Map<String, Value>> {
    alpaca_with(true)
}

/// One ShareGPT object: turns that alternate or not, with an optional system turn.
fn sharegpt() -> impl Strategy<Value = Map<String, Value>> {
    let turn = (prop::sample::select(vec!["human", "gpt", "system", "function_call", "observation"]), text())
        .prop_map(|(from, value)| json!({"from": from, "value": value}));
    (prop::collection::vec(turn, 1..5), text()).prop_map(|(mut turns, sys)| {
        turns.insert(0, json!({"from": "human", "value": sys}));
        json!({"conversations": turns, "source": "prop"}).as_object().unwrap().clone()
    })
}

/// Flat objects of strings: what a CSV file holds.
fn flat() -> impl Strategy<Value = Map<String, Value>> {
    (text(), text(), text(), text()).prop_map(|(i, x, o, note)| {
        json!({"instruction": i, "input": x, "output": o, "note": note}).as_object().unwrap().clone()
    })
}

fn style() -> impl Strategy<Value = JsonStyle> {
    (prop::option::of(prop::sample::select(vec![2usize, 4])), any::<bool>(), any::<bool>(), any::<bool>()).prop_map(
        |(indent, spaced, ensure_ascii, escape_slash)| JsonStyle {
            container: Container::Json,
            indent,
            spaced,
            ensure_ascii,
            escape_slash,
        },
    )
}

fn records(objs: &[Map<String, Value>]) -> Vec<Record> {
    objs.iter()
        .map(|o| gleaner_read::record_from_value(Value::Object(o.clone()), None, false).expect("a valid record"))
        .collect()
}

fn read_all(path: &Path, container: Container) -> Vec<Record> {
    let opts = ReadOptions { format: Some(Format { container, shape: None, sniff: false }), on_error: OnError::Fail };
    let ds = read(path, &opts).unwrap_or_else(|e| panic!("the written file does not read back: {e}"));
    assert!(ds.accounting.balanced() && ds.accounting.skipped.is_empty());
    ds.into_records().unwrap()
}

/// Writes `objs` as `container`, reads them, writes what was read and reads again: both reads
/// give the records written (and a CSV file is written back byte for byte).
fn round_trip(objs: &[Map<String, Value>], container: Container, style: JsonStyle, ext: &str) {
    let dir = tempfile::tempdir().unwrap();
    let target = Target { container, shape: None, style: JsonStyle { container, ..style }, schema: None };
    let want = records(objs);
    let a = dir.path().join(format!("a.{ext}"));
    write(Some(&a), &want, &target).unwrap();
    let first = read_all(&a, container);
    assert_eq!(first, want, "write -> read changed the records ({ext})");
    let ds = read(
        &a,
        &ReadOptions { format: Some(Format { container, shape: None, sniff: false }), on_error: OnError::Fail },
    )
    .unwrap();
    let again = Target { container, shape: None, style: ds.style, schema: ds.schema.clone() };
    let b = dir.path().join(format!("b.{ext}"));
    write(Some(&b), &first, &again).unwrap();
    assert_eq!(read_all(&b, container), want, "read -> write -> read changed the records ({ext})");
    if container == Container::Csv {
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap(), "the written CSV is not a fixed point");
    }
}

/// The reader properties on one file (see the module docs), and read → write → read on the
/// records it accepts.
fn reader_holds(bytes: &[u8], container: Container, ext: &str) {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(format!("in.{ext}"));
    std::fs::write(&p, bytes).unwrap();
    let opts = |on_error| ReadOptions { format: Some(Format { container, shape: None, sniff: false }), on_error };
    let strict = read(&p, &opts(OnError::Fail));
    if let Err(e) = &strict {
        assert!(e.to_string().contains(p.to_str().unwrap()), "the error does not name the file: {e}");
    }
    match read(&p, &opts(OnError::Skip)) {
        Ok(ds) => {
            assert!(ds.accounting.balanced(), "{:?}", ds.accounting);
            if let Ok(s) = &strict {
                assert!(ds.accounting.skipped.is_empty());
                assert_eq!(s.ids, ds.ids);
            }
            let lean = read_released(&p, &opts(OnError::Skip)).expect("the released read agrees");
            assert_eq!((&lean.ids, &lean.accounting.skipped), (&ds.ids, &ds.accounting.skipped));
            let target = Target { container: ds.container, shape: None, style: ds.style, schema: ds.schema.clone() };
            let first = ds.into_records().unwrap();
            assert_eq!(lean.into_records().unwrap(), first);
            // what was accepted writes back and reads back unchanged
            if !first.is_empty() {
                let out = dir.path().join(format!("out.{ext}"));
                write(Some(&out), &first, &target).unwrap_or_else(|e| panic!("writing back failed: {e}"));
                assert_eq!(read_all(&out, target.container), first, "read -> write -> read changed the records");
            }
        }
        Err(e) => {
            assert!(strict.is_err());
            assert!(e.to_string().contains(p.to_str().unwrap()), "the error does not name the file: {e}");
        }
    }
}

/// A valid file's bytes with edits: (position fraction, byte) overwrites, an insertion, a cut.
pub(crate) fn mutate(mut bytes: Vec<u8>, edits: &[(f64, u8)], insert: Option<(f64, u8)>, cut: Option<f64>) -> Vec<u8> {
    let at = |f: f64, n: usize| ((f * n as f64) as usize).min(n.saturating_sub(1));
    for &(f, b) in edits {
        if !bytes.is_empty() {
            let i = at(f, bytes.len());
            bytes[i] = b;
        }
    }
    if let Some((f, b)) = insert {
        let i = at(f, bytes.len() + 1);
        bytes.insert(i, b);
    }
    if let Some(f) = cut {
        bytes.truncate(at(f, bytes.len() + 1));
    }
    bytes
}

fn written(objs: &[Map<String, Value>], container: Container, style: JsonStyle, ext: &str) -> Vec<u8> {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join(format!("w.{ext}"));
    let target = Target { container, shape: None, style: JsonStyle { container, ..style }, schema: None };
    write(Some(&p), &records(objs), &target).unwrap();
    std::fs::read(p).unwrap()
}

const CONTAINERS: [(Container, &str); 4] =
    [(Container::Json, "json"), (Container::Jsonl, "jsonl"), (Container::Parquet, "parquet"), (Container::Csv, "csv")];

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn json_and_jsonl_round_trip(objs in prop::collection::vec(prop_oneof![alpaca(), sharegpt()], 1..6), style in style()) {
        round_trip(&objs, Container::Json, style, "json");
        round_trip(&objs, Container::Jsonl, style, "jsonl");
    }

    #[test]
    fn parquet_round_trips(alpacas in prop::collection::vec(alpaca_with(false), 1..6), chats in prop::collection::vec(sharegpt(), 1..4)) {
        round_trip(&alpacas, Container::Parquet, JsonStyle::jsonl_default(), "parquet");
        round_trip(&chats, Container::Parquet, JsonStyle::jsonl_default(), "parquet");
    }

    #[test]
    fn csv_round_trips(objs in prop::collection::vec(flat(), 1..6)) {
        round_trip(&objs, Container::Csv, JsonStyle::jsonl_default(), "csv");
    }

    #[test]
    fn arbitrary_bytes_never_panic_a_reader(bytes in prop::collection::vec(any::<u8>(), 0..512), which in 0usize..4) {
        let (c, ext) = CONTAINERS[which];
        reader_holds(&bytes, c, ext);
    }

    #[test]
    fn damaged_files_never_panic_a_reader(
        objs in prop::collection::vec(flat(), 1..4),
        style in style(),
        which in 0usize..4,
        edits in prop::collection::vec((0.0f64..1.0, any::<u8>()), 0..4),
        insert in prop::option::of((0.0f64..1.0, any::<u8>())),
        cut in prop::option::of(0.0f64..1.0),
    ) {
        let (c, ext) = CONTAINERS[which];
        let bytes = mutate(written(&objs, c, style, ext), &edits, insert, cut);
        reader_holds(&bytes, c, ext);
    }
}

/// The fuzz corpora and crash inputs of the reader targets (`fuzz/corpus/TARGET`,
/// `fuzz/regressions/TARGET`) keep the reader properties: every input the fuzzer kept, and
/// every input that once broke one, is replayed here on stable.
#[test]
fn fuzz_corpora_and_regressions_hold() {
    let root = crate::util::root().join("fuzz");
    let mut n = 0;
    for (c, ext) in CONTAINERS {
        for dir in ["corpus", "regressions"] {
            let Ok(entries) = std::fs::read_dir(root.join(dir).join(format!("read_{ext}"))) else { continue };
            for e in entries {
                let p = e.unwrap().path();
                let bytes = std::fs::read(&p).unwrap();
                let r = std::panic::catch_unwind(|| reader_holds(&bytes, c, ext));
                assert!(r.is_ok(), "{} breaks a reader property", p.display());
                n += 1;
            }
        }
    }
    assert!(n > 0, "no fuzz corpus found under {}", root.display());
}
