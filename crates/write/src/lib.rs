//! # gleaner-write
//!
//! Writes records back out: in their own shape with every original field verbatim (so a
//! read → write round trip is exact), or converted between Alpaca, ShareGPT and OpenAI
//! `messages`. JSON output reproduces the source's layout ([`pyjson`]); Parquet output reuses
//! the source's Arrow schema when there is one; CSV output ([`write_csv`]) holds flat records
//! (a CSV source read back gives the same records).

pub mod convert;
pub mod pyjson;

use arrow::datatypes::Schema;
use gleaner_core::{Error, Record, RecordShape, Result};
use gleaner_read::{Container, JsonStyle};
use serde_json::{Map, Value};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;

/// Where and how to write.
#[derive(Debug, Clone)]
pub struct Target {
    /// Output container.
    pub container: Container,
    /// Convert every record to this shape (`None` keeps each record's own shape).
    pub shape: Option<RecordShape>,
    /// JSON layout (ignored for Parquet and CSV).
    pub style: JsonStyle,
    /// Arrow schema to write Parquet with (the source's, when unchanged).
    pub schema: Option<Arc<Schema>>,
}

/// The JSON objects to write, after shape conversion.
pub fn objects(records: &[Record], shape: Option<RecordShape>) -> Result<Vec<Map<String, Value>>> {
    records
        .iter()
        .enumerate()
        .map(|(i, r)| match shape {
            None => Ok(r.fields.clone()),
            Some(s) if s == r.shape => Ok(r.fields.clone()),
            Some(s) => convert::to_shape(r, s).map_err(|m| Error::Invalid(format!("record {i}: {m}"))),
        })
        .collect()
}

/// Writes records to `path` (or stdout when `None`). A file is written atomically (a temporary
/// name beside it, synced, then renamed): it is complete or absent, never half-written, even
/// when the run is killed or the disk fills.
pub fn write(path: Option<&Path>, records: &[Record], target: &Target) -> Result<()> {
    let objs = objects(records, target.shape)?;
    match path {
        Some(p) => gleaner_core::atomic::write_atomic(p, |f| write_to(Some(p), f, &objs, target)),
        None if target.container == Container::Parquet => {
            Err(Error::Invalid("Parquet output needs a file: pass `-o OUT.parquet`".into()))
        }
        None => write_to(None, &mut std::io::stdout(), &objs, target),
    }
}

/// Writes the objects in `target`'s container to `sink`; `path` labels errors.
fn write_to(
    path: Option<&Path>,
    sink: &mut (dyn Write + Send),
    objs: &[Map<String, Value>],
    target: &Target,
) -> Result<()> {
    let label = path.map_or_else(|| Path::new("<stdout>").to_path_buf(), Path::to_path_buf);
    let io_err = |e: std::io::Error| Error::io(&label, e);
    match target.container {
        Container::Parquet => write_parquet(&label, sink, objs, target.schema.clone()),
        Container::Csv => write_csv(std::io::BufWriter::with_capacity(1 << 20, sink), objs).map_err(|e| match e {
            Error::Other(m) => Error::Other(format!("{}: writing CSV: {m}", label.display())),
            e => e,
        }),
        Container::Json | Container::Jsonl => {
            let mut w = std::io::BufWriter::with_capacity(1 << 20, sink);
            let track = objs.iter().any(|o| o.values().any(gleaner_core::nonfinite::contains_sentinel));
            if target.container == Container::Json {
                pyjson::to_writer(&mut w, objs, target.style, track).map_err(io_err)?;
            } else {
                let mut st = target.style;
                st.indent = None;
                for o in objs {
                    pyjson::to_writer(&mut w, o, st, track).map_err(io_err)?;
                    w.write_all(b"\n").map_err(io_err)?;
                }
            }
            w.flush().map_err(io_err)
        }
    }
}

/// Writes flat objects as CSV: a header row with every key in order of first appearance, then
/// one row per object. Strings are written verbatim (quoted where needed); a missing key or
/// `null` is an empty field, a number or boolean its JSON text. Arrays and objects (ShareGPT /
/// `messages` records) have no CSV form: convert them to Alpaca, or write JSON, JSONL or Parquet.
pub fn write_csv(w: impl Write, objs: &[Map<String, Value>]) -> Result<()> {
    let mut header: Vec<&str> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for o in objs {
        for k in o.keys() {
            if seen.insert(k.as_str()) {
                header.push(k);
            }
        }
    }
    let err = |e: csv::Error| match e.into_kind() {
        csv::ErrorKind::Io(io) => Error::Other(io.to_string()),
        other => Error::Other(format!("{other:?}")),
    };
    let mut w = csv::WriterBuilder::new().flexible(false).from_writer(w);
    if !header.is_empty() {
        w.write_record(&header).map_err(err)?;
    }
    let mut row: Vec<String> = Vec::with_capacity(header.len());
    for (i, o) in objs.iter().enumerate() {
        row.clear();
        for k in &header {
            row.push(match o.get(*k) {
                None | Some(Value::Null) => String::new(),
                Some(Value::String(s)) => s.clone(),
                Some(v @ (Value::Number(_) | Value::Bool(_))) => v.to_string(),
                Some(v) => {
                    let kind = if v.is_array() { "an array" } else { "an object" };
                    return Err(Error::Invalid(format!(
                        "record {i}: field `{k}` is {kind}, which CSV cannot hold (convert to alpaca, or write JSON, JSONL or Parquet)"
                    )));
                }
            });
        }
        w.write_record(&row).map_err(err)?;
    }
    w.flush().map_err(|e| Error::Other(e.to_string()))
}

fn write_parquet(
    path: &Path,
    sink: &mut (dyn Write + Send),
    objs: &[Map<String, Value>],
    schema: Option<Arc<Schema>>,
) -> Result<()> {
    let err = |e: &dyn std::fmt::Display| Error::Other(format!("{}: writing Parquet: {e}", path.display()));
    let schema = match schema {
        Some(s) => s,
        None => {
            let values = objs.iter().map(|o| Ok(Value::Object(o.clone())));
            Arc::new(arrow_json::reader::infer_json_schema_from_iterator(values).map_err(|e| err(&e))?)
        }
    };
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::ZSTD(Default::default()))
        .build();
    let mut w = parquet::arrow::ArrowWriter::try_new(sink, schema.clone(), Some(props)).map_err(|e| err(&e))?;
    let mut decoder =
        arrow_json::ReaderBuilder::new(schema).with_batch_size(4096).build_decoder().map_err(|e| err(&e))?;
    for chunk in objs.chunks(4096) {
        decoder.serialize(chunk).map_err(|e| err(&e))?;
        if let Some(batch) = decoder.flush().map_err(|e| err(&e))? {
            w.write(&batch).map_err(|e| err(&e))?;
        }
    }
    w.close().map_err(|e| err(&e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use gleaner_read::{OnError, ReadOptions, read};

    #[test]
    fn csv_read_write_read_is_the_identity() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.csv");
        let src = "\u{feff}instruction,input,output,note\r\n\
            \"Add, then explain\",\"2, 3\",\"5.\nBecause \"\"2 + 3\"\" is 5.\",\r\n\
            Say hi,,Hello!,caf\u{e9} \u{1f600}\r\n\
            \" lead\",,\"x\r\ny\",\"\"\r\n";
        std::fs::write(&a, src).unwrap();
        let first = read(&a, &ReadOptions::default()).unwrap();
        assert_eq!(first.len(), 3);
        let target = Target { container: Container::Csv, shape: None, style: JsonStyle::jsonl_default(), schema: None };
        let b = dir.path().join("b.csv");
        write(Some(&b), first.records_in_memory().unwrap(), &target).unwrap();
        let second = read(&b, &ReadOptions { on_error: OnError::Fail, ..Default::default() }).unwrap();
        assert_eq!(second.records_in_memory().unwrap(), first.records_in_memory().unwrap());
        assert_eq!(second.ids, first.ids);
        // and once more: the written file is a fixed point
        let c = dir.path().join("c.csv");
        write(Some(&c), second.records_in_memory().unwrap(), &target).unwrap();
        assert_eq!(std::fs::read(&b).unwrap(), std::fs::read(&c).unwrap());
    }

    #[test]
    fn csv_output_takes_flat_records_only() {
        let objs: Vec<Map<String, Value>> = [
            serde_json::json!({"instruction": "a", "output": "b", "id": 7}),
            serde_json::json!({"instruction": "c", "output": "d", "system": null, "ok": true}),
        ]
        .into_iter()
        .map(|v| v.as_object().unwrap().clone())
        .collect();
        let mut out = Vec::new();
        write_csv(&mut out, &objs).unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "instruction,output,id,system,ok\na,b,7,,\nc,d,,,true\n");
        let chat = serde_json::json!({"conversations": [{"from": "human", "value": "q"}]});
        let e = write_csv(Vec::new(), &[chat.as_object().unwrap().clone()]).unwrap_err();
        assert!(e.to_string().contains("field `conversations` is an array"), "{e}");
    }
}
