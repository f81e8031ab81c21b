//! Arrow batches in and out: the rows arrive as an Arrow IPC stream (written by the Python
//! side from a `pyarrow.Table`, a polars frame or a dict of lists), become records through the
//! reader's Parquet path ([`gleaner_read::records_from_arrow`]), and the score columns go back
//! as an IPC stream of their own.

use crate::Error;
use arrow::array::{Array, ArrayRef, FixedSizeListArray, Float32Array, Float64Array, Int64Array};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use gleaner_cache::Column;
use gleaner_core::Record;
use std::sync::Arc;

/// The rows of a batch: one record per row, or `None` where the row is not a record (when
/// the caller asked for nulls rather than an error).
pub struct Rows {
    /// Records of the rows that are records, in row order.
    pub records: Vec<Record>,
    /// For each row, its index into `records`.
    pub slot: Vec<Option<usize>>,
}

/// Decodes an Arrow IPC stream into records. A row that is not a record is an error naming
/// its row and the field at fault, unless `null_bad_rows`.
pub fn read_rows(ipc: &[u8], null_bad_rows: bool) -> Result<Rows, Error> {
    let reader = arrow_ipc::reader::StreamReader::try_new(std::io::Cursor::new(ipc), None)
        .map_err(|e| Error::Batch(format!("not an Arrow IPC stream: {e}")))?;
    let batches: Vec<RecordBatch> =
        reader.collect::<Result<_, _>>().map_err(|e| Error::Batch(format!("reading the Arrow stream: {e}")))?;
    let parsed = gleaner_read::records_from_arrow(&batches, None)?;
    let mut rows = Rows { records: Vec::with_capacity(parsed.len()), slot: Vec::with_capacity(parsed.len()) };
    for (i, r) in parsed.into_iter().enumerate() {
        match r {
            Ok(rec) => {
                rows.slot.push(Some(rows.records.len()));
                rows.records.push(rec);
            }
            Err(_) if null_bad_rows => rows.slot.push(None),
            Err(reason) => return Err(Error::Row { row: i, reason }),
        }
    }
    Ok(rows)
}

fn nulls(slot: &[Option<usize>]) -> Option<NullBuffer> {
    slot.iter().any(Option::is_none).then(|| NullBuffer::from(slot.iter().map(Option::is_some).collect::<Vec<_>>()))
}

/// One output column: the values of the records spread over the rows (null where a row is
/// not a record).
fn spread(col: &Column, slot: &[Option<usize>]) -> Result<ArrayRef, Error> {
    Ok(match col {
        Column::F64(v) => Arc::new(Float64Array::from(slot.iter().map(|s| s.map(|i| v[i])).collect::<Vec<_>>())),
        Column::I64(v) => Arc::new(Int64Array::from(slot.iter().map(|s| s.map(|i| v[i])).collect::<Vec<_>>())),
        Column::F32(v) => Arc::new(Float32Array::from(slot.iter().map(|s| s.map(|i| v[i])).collect::<Vec<_>>())),
        Column::Str(_) => return Err(Error::Batch("internal: a text score column".into())),
    })
}

/// The score columns as an Arrow IPC stream, one row per input row.
pub fn write_columns(cols: &[(String, Column)], slot: &[Option<usize>]) -> Result<Vec<u8>, Error> {
    let mut fields = Vec::new();
    let mut arrays = Vec::new();
    for (name, col) in cols {
        let a = spread(col, slot)?;
        fields.push(Field::new(name, a.data_type().clone(), true));
        arrays.push(a);
    }
    finish(fields, arrays, slot.len())
}

/// `embedding`: a fixed-size list of float32 per row (`dim` values), null where a row is not
/// a record.
pub fn write_embeddings(data: &[f32], dim: usize, slot: &[Option<usize>]) -> Result<Vec<u8>, Error> {
    let mut values = Vec::with_capacity(slot.len() * dim);
    for s in slot {
        match s {
            Some(i) => values.extend_from_slice(&data[i * dim..(i + 1) * dim]),
            None => values.extend(std::iter::repeat_n(0f32, dim)),
        }
    }
    let item = Arc::new(Field::new("item", DataType::Float32, true));
    let size = i32::try_from(dim).map_err(|_| Error::Batch(format!("embedding dimension {dim} too large")))?;
    let list = FixedSizeListArray::try_new(item, size, Arc::new(Float32Array::from(values)), nulls(slot))
        .map_err(|e| Error::Batch(e.to_string()))?;
    let field = Field::new("embedding", list.data_type().clone(), true);
    finish(vec![field], vec![Arc::new(list)], slot.len())
}

fn finish(fields: Vec<Field>, arrays: Vec<ArrayRef>, rows: usize) -> Result<Vec<u8>, Error> {
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new_with_options(
        schema.clone(),
        arrays,
        &arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(rows)),
    )
    .map_err(|e| Error::Batch(e.to_string()))?;
    let mut w =
        arrow_ipc::writer::StreamWriter::try_new(Vec::new(), &schema).map_err(|e| Error::Batch(e.to_string()))?;
    w.write(&batch).map_err(|e| Error::Batch(e.to_string()))?;
    w.finish().map_err(|e| Error::Batch(e.to_string()))?;
    w.into_inner().map_err(|e| Error::Batch(e.to_string()))
}
