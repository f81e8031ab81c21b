//! Parquet rows as JSON objects, through arrow-json, keeping the Arrow schema for write-back.

use crate::RawItem;
use arrow::datatypes::Schema;
use gleaner_core::error::Location;
use gleaner_core::{Error, Result};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::path::Path;
use std::sync::Arc;

/// Reads every row of a Parquet file as a JSON value (nulls explicit), one record batch at a
/// time, into `sink`; returns the file's Arrow schema.
pub(crate) fn read_rows(path: &Path, sink: &mut dyn FnMut(RawItem) -> Result<()>) -> Result<Arc<Schema>> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let fmt_err = |e: &dyn std::fmt::Display| Error::Format {
        path: path.to_path_buf(),
        message: format!("not a readable Parquet file: {e}"),
    };
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| fmt_err(&e))?;
    let schema = builder.schema().clone();
    let reader = builder.build().map_err(|e| fmt_err(&e))?;
    let mut position = 0usize;
    for batch in reader {
        let batch = batch.map_err(|e| fmt_err(&e))?;
        for value in batch_values(&batch).map_err(|e| fmt_err(&e))? {
            sink(RawItem { position, location: Location::Record(position), value })?;
            position += 1;
        }
    }
    Ok(schema)
}

/// Every row of an Arrow record batch as a JSON value (nulls explicit), or the reason the row
/// could not be converted: the conversion a Parquet file's rows go through.
pub(crate) fn batch_values(
    batch: &arrow::record_batch::RecordBatch,
) -> std::result::Result<Vec<std::result::Result<serde_json::Value, String>>, arrow::error::ArrowError> {
    let mut buf = Vec::new();
    {
        let mut w = arrow_json::WriterBuilder::new()
            .with_explicit_nulls(true)
            .build::<_, arrow_json::writer::LineDelimited>(&mut buf);
        w.write(batch)?;
        w.finish()?;
    }
    Ok(buf
        .split(|&c| c == b'\n')
        .filter(|l| !l.is_empty())
        .map(|line| {
            let fixed = gleaner_core::nonfinite::rewrite_literals(line);
            serde_json::from_slice(&fixed).map_err(|e| format!("row could not be converted: {e}"))
        })
        .collect())
}
