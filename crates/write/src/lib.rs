//! # gleaner-write
//!
//! Writes records back out: in their own shape with every original field verbatim (so a
//! read → write round trip is exact), or converted between Alpaca, ShareGPT and OpenAI
//! `messages`. JSON output reproduces the source's layout ([`pyjson`]); Parquet output reuses
//! the source's Arrow schema when there is one.

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
    /// JSON layout (ignored for Parquet).
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

/// Writes records to `path` (or stdout when `None`).
pub fn write(path: Option<&Path>, records: &[Record], target: &Target) -> Result<()> {
    let objs = objects(records, target.shape)?;
    let label = path.map_or_else(|| Path::new("<stdout>").to_path_buf(), Path::to_path_buf);
    let io_err = |e: std::io::Error| Error::io(&label, e);
    match target.container {
        Container::Parquet => {
            let Some(path) = path else {
                return Err(Error::Invalid("Parquet output needs a file: pass `-o OUT.parquet`".into()));
            };
            write_parquet(path, &objs, target.schema.clone())
        }
        Container::Json | Container::Jsonl => {
            let sink: Box<dyn Write> = match path {
                Some(p) => Box::new(std::fs::File::create(p).map_err(|e| Error::io(p, e))?),
                None => Box::new(std::io::stdout().lock()),
            };
            let mut w = std::io::BufWriter::with_capacity(1 << 20, sink);
            let track = objs.iter().any(|o| o.values().any(gleaner_core::nonfinite::contains_sentinel));
            if target.container == Container::Json {
                pyjson::to_writer(&mut w, &objs, target.style, track).map_err(io_err)?;
            } else {
                let mut st = target.style;
                st.indent = None;
                for o in &objs {
                    pyjson::to_writer(&mut w, o, st, track).map_err(io_err)?;
                    w.write_all(b"\n").map_err(io_err)?;
                }
            }
            w.flush().map_err(io_err)
        }
    }
}

fn write_parquet(path: &Path, objs: &[Map<String, Value>], schema: Option<Arc<Schema>>) -> Result<()> {
    let err = |e: &dyn std::fmt::Display| Error::Other(format!("{}: writing Parquet: {e}", path.display()));
    let schema = match schema {
        Some(s) => s,
        None => {
            let values = objs.iter().map(|o| Ok(Value::Object(o.clone())));
            Arc::new(arrow_json::reader::infer_json_schema_from_iterator(values).map_err(|e| err(&e))?)
        }
    };
    let file = std::fs::File::create(path).map_err(|e| Error::io(path, e))?;
    let props = parquet::file::properties::WriterProperties::builder()
        .set_compression(parquet::basic::Compression::ZSTD(Default::default()))
        .build();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, schema.clone(), Some(props)).map_err(|e| err(&e))?;
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
