//! Row-keyed score tables.

use arrow::array::{Array, ArrayRef, Float32Array, Float64Array, Int64Array, StringArray, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use gleaner_core::{Error, Result, RowId};
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// One named column of a [`SideTable`].
#[derive(Debug, Clone, PartialEq)]
pub enum Column {
    /// 64-bit floats (scores; NaN marks "not computed / skipped").
    F64(Vec<f64>),
    /// 32-bit floats.
    F32(Vec<f32>),
    /// Integers (cluster ids, token counts, flags).
    I64(Vec<i64>),
    /// Strings (labels, reasons).
    Str(Vec<String>),
}

impl Column {
    fn len(&self) -> usize {
        match self {
            Column::F64(v) => v.len(),
            Column::F32(v) => v.len(),
            Column::I64(v) => v.len(),
            Column::Str(v) => v.len(),
        }
    }

    fn take(&self, idx: &[usize]) -> Column {
        match self {
            Column::F64(v) => Column::F64(idx.iter().map(|&i| v[i]).collect()),
            Column::F32(v) => Column::F32(idx.iter().map(|&i| v[i]).collect()),
            Column::I64(v) => Column::I64(idx.iter().map(|&i| v[i]).collect()),
            Column::Str(v) => Column::Str(idx.iter().map(|&i| v[i].clone()).collect()),
        }
    }

    fn extend(&mut self, other: &Column) -> bool {
        match (self, other) {
            (Column::F64(a), Column::F64(b)) => a.extend_from_slice(b),
            (Column::F32(a), Column::F32(b)) => a.extend_from_slice(b),
            (Column::I64(a), Column::I64(b)) => a.extend_from_slice(b),
            (Column::Str(a), Column::Str(b)) => a.extend_from_slice(b),
            _ => return false,
        }
        true
    }

    /// The column as f64 values (integers converted; strings are NaN).
    pub fn as_f64(&self) -> Vec<f64> {
        match self {
            Column::F64(v) => v.clone(),
            Column::F32(v) => v.iter().map(|&x| f64::from(x)).collect(),
            Column::I64(v) => v.iter().map(|&x| x as f64).collect(),
            Column::Str(v) => v.iter().map(|s| s.parse().unwrap_or(f64::NAN)).collect(),
        }
    }

    fn to_arrow(&self) -> (DataType, ArrayRef) {
        match self {
            Column::F64(v) => (DataType::Float64, Arc::new(Float64Array::from(v.clone()))),
            Column::F32(v) => (DataType::Float32, Arc::new(Float32Array::from(v.clone()))),
            Column::I64(v) => (DataType::Int64, Arc::new(Int64Array::from(v.clone()))),
            Column::Str(v) => (DataType::Utf8, Arc::new(StringArray::from(v.clone()))),
        }
    }

    fn to_json(&self, i: usize) -> serde_json::Value {
        match self {
            Column::F64(v) => gleaner_core::nonfinite::float_value(v[i]),
            Column::F32(v) => gleaner_core::nonfinite::float_value(f64::from(v[i])),
            Column::I64(v) => serde_json::Value::from(v[i]),
            Column::Str(v) => serde_json::Value::from(v[i].clone()),
        }
    }
}

/// A table of per-row values keyed by row id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SideTable {
    /// Row ids, one per row.
    pub row_id: Vec<u64>,
    /// 0-based input positions, one per row.
    pub row_index: Vec<u64>,
    /// Named columns, each as long as `row_id`.
    pub columns: Vec<(String, Column)>,
}

impl SideTable {
    /// A table with the given keys and no columns yet.
    pub fn new(ids: &[RowId], positions: &[usize]) -> SideTable {
        SideTable {
            row_id: ids.iter().map(|r| r.0).collect(),
            row_index: positions.iter().map(|&p| p as u64).collect(),
            columns: Vec::new(),
        }
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.row_id.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.row_id.is_empty()
    }

    /// Adds (or replaces) a column. Panics if its length differs from the table's: that is a
    /// programming error, not an input error.
    pub fn set(&mut self, name: &str, col: Column) -> &mut Self {
        assert_eq!(col.len(), self.len(), "column {name} has the wrong length");
        if let Some(slot) = self.columns.iter_mut().find(|(n, _)| n == name) {
            slot.1 = col;
        } else {
            self.columns.push((name.to_string(), col));
        }
        self
    }

    /// A column by name.
    pub fn get(&self, name: &str) -> Option<&Column> {
        self.columns.iter().find(|(n, _)| n == name).map(|(_, c)| c)
    }

    /// A column as f64, or an error naming the file and the columns that do exist.
    pub fn f64_column(&self, name: &str, path: &Path) -> Result<Vec<f64>> {
        self.get(name).map(Column::as_f64).ok_or_else(|| Error::SideFile {
            path: path.to_path_buf(),
            message: format!(
                "no column `{name}` (columns: {})",
                self.columns.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
            ),
        })
    }

    /// Rows of this table reordered to match `ids` (a dataset's row ids). Returns the aligned
    /// table, or an error listing how many ids are missing.
    pub fn align(&self, ids: &[RowId], path: &Path) -> Result<SideTable> {
        let at: HashMap<u64, usize> = self.row_id.iter().enumerate().map(|(i, &id)| (id, i)).collect();
        let mut idx = Vec::with_capacity(ids.len());
        let mut missing = 0usize;
        for id in ids {
            match at.get(&id.0) {
                Some(&i) => idx.push(i),
                None => missing += 1,
            }
        }
        if missing > 0 {
            return Err(Error::SideFile {
                path: path.to_path_buf(),
                message: format!(
                    "{missing} of {} rows of the input have no entry in this side file (computed for another input?)",
                    ids.len()
                ),
            });
        }
        Ok(self.take(&idx))
    }

    /// The rows at `idx`, in that order.
    pub fn take(&self, idx: &[usize]) -> SideTable {
        SideTable {
            row_id: idx.iter().map(|&i| self.row_id[i]).collect(),
            row_index: idx.iter().map(|&i| self.row_index[i]).collect(),
            columns: self.columns.iter().map(|(n, c)| (n.clone(), c.take(idx))).collect(),
        }
    }

    /// Concatenates tables with the same columns (merging shards), then sorts by `row_index`.
    pub fn concat(parts: &[SideTable]) -> Result<SideTable> {
        let mut out = match parts.first() {
            Some(p) => p.clone(),
            None => return Ok(SideTable::default()),
        };
        for p in &parts[1..] {
            if p.columns.len() != out.columns.len() {
                return Err(Error::Invalid("side-file shards have different columns".into()));
            }
            out.row_id.extend_from_slice(&p.row_id);
            out.row_index.extend_from_slice(&p.row_index);
            for ((n1, c1), (n2, c2)) in out.columns.iter_mut().zip(&p.columns) {
                if n1 != n2 || !c1.extend(c2) {
                    return Err(Error::Invalid(format!("side-file shards disagree on column `{n1}`")));
                }
            }
        }
        let mut order: Vec<usize> = (0..out.len()).collect();
        order.sort_by_key(|&i| out.row_index[i]);
        order.dedup_by_key(|i| out.row_index[*i]);
        Ok(out.take(&order))
    }

    /// Writes the table: Parquet, or JSONL when the path ends in `.jsonl`.
    pub fn write(&self, path: &Path) -> Result<()> {
        if path.extension().is_some_and(|e| e == "jsonl") {
            return self.write_jsonl(path);
        }
        let mut fields =
            vec![Field::new("row_id", DataType::UInt64, false), Field::new("row_index", DataType::UInt64, false)];
        let mut arrays: Vec<ArrayRef> =
            vec![Arc::new(UInt64Array::from(self.row_id.clone())), Arc::new(UInt64Array::from(self.row_index.clone()))];
        for (name, col) in &self.columns {
            let (dt, arr) = col.to_arrow();
            fields.push(Field::new(name, dt, false));
            arrays.push(arr);
        }
        let schema = Arc::new(Schema::new(fields));
        let batch = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| other(path, &e))?;
        write_batch(path, schema, &batch)
    }

    fn write_jsonl(&self, path: &Path) -> Result<()> {
        use std::io::Write;
        gleaner_core::atomic::write_atomic(path, |f| {
            let mut w = std::io::BufWriter::new(f);
            for i in 0..self.len() {
                let mut o = serde_json::Map::new();
                o.insert("row_id".into(), format!("{:016x}", self.row_id[i]).into());
                o.insert("row_index".into(), self.row_index[i].into());
                for (n, c) in &self.columns {
                    o.insert(n.clone(), c.to_json(i));
                }
                let line = serde_json::to_string(&o).map_err(|e| other(path, &e))?;
                // Python-compatible non-finite literals.
                let line = line
                    .replace(&format!("\"{}\"", esc(gleaner_core::nonfinite::NAN)), "NaN")
                    .replace(&format!("\"{}\"", esc(gleaner_core::nonfinite::INF)), "Infinity")
                    .replace(&format!("\"{}\"", esc(gleaner_core::nonfinite::NEG_INF)), "-Infinity");
                writeln!(w, "{line}").map_err(|e| Error::io(path, e))?;
            }
            w.flush().map_err(|e| Error::io(path, e))
        })
    }

    /// Reads a table written by [`SideTable::write`] (Parquet or JSONL).
    pub fn read(path: &Path) -> Result<SideTable> {
        if path.extension().is_some_and(|e| e == "jsonl") {
            return read_jsonl(path);
        }
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let unreadable = |e: parquet::errors::ParquetError| side(path, format!("not a readable side file: {e}"));
        let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(unreadable)?;
        let schema = builder.schema().clone();
        let reader = builder.build().map_err(unreadable)?;
        let mut parts = Vec::new();
        for batch in reader {
            let batch = batch.map_err(|e| side(path, e.to_string()))?;
            parts.push(from_batch(&batch, path)?);
        }
        if parts.is_empty() {
            // no rows: the columns still come from the schema
            return from_batch(&RecordBatch::new_empty(schema), path);
        }
        let mut out = parts.remove(0);
        for p in parts {
            out.row_id.extend(p.row_id);
            out.row_index.extend(p.row_index);
            for ((_, c1), (_, c2)) in out.columns.iter_mut().zip(&p.columns) {
                c1.extend(c2);
            }
        }
        Ok(out)
    }
}

fn esc(s: &str) -> String {
    serde_json::to_string(s).unwrap().trim_matches('"').to_string()
}

fn read_jsonl(path: &Path) -> Result<SideTable> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut t = SideTable::default();
    let mut cols: Vec<(String, Vec<serde_json::Value>)> = Vec::new();
    for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
        let fixed = gleaner_core::nonfinite::rewrite_literals(line.as_bytes());
        let v: serde_json::Value = serde_json::from_slice(&fixed)
            .map_err(|e| Error::input(path, gleaner_core::error::Location::Line(n + 1), e.to_string()))?;
        let id = v["row_id"].as_str().and_then(|s| u64::from_str_radix(s, 16).ok());
        let idx = v["row_index"].as_u64();
        let (Some(id), Some(idx)) = (id, idx) else {
            return Err(Error::input(path, gleaner_core::error::Location::Line(n + 1), "missing row_id or row_index"));
        };
        t.row_id.push(id);
        t.row_index.push(idx);
        if let Some(o) = v.as_object() {
            if cols.is_empty() {
                cols =
                    o.keys().filter(|k| *k != "row_id" && *k != "row_index").map(|k| (k.clone(), Vec::new())).collect();
            }
            for (name, vals) in &mut cols {
                vals.push(o.get(name).cloned().unwrap_or(serde_json::Value::Null));
            }
        }
    }
    t.columns = cols.into_iter().map(|(n, v)| (n, jsonl_column(v))).collect();
    Ok(t)
}

/// A JSONL column with the type it was written from: integers stay [`Column::I64`], text
/// stays [`Column::Str`], anything else (numbers, `NaN`, missing) is [`Column::F64`]; so a
/// table read back writes the same bytes.
fn jsonl_column(vals: Vec<serde_json::Value>) -> Column {
    let text = |v: &serde_json::Value| v.is_string() && gleaner_core::nonfinite::as_f64(v).is_none();
    if !vals.is_empty() && vals.iter().all(|v| v.is_i64()) {
        Column::I64(vals.iter().map(|v| v.as_i64().expect("checked")).collect())
    } else if !vals.is_empty() && vals.iter().all(text) {
        Column::Str(vals.into_iter().map(|v| v.as_str().map(str::to_string).expect("checked")).collect())
    } else {
        Column::F64(vals.iter().map(|v| gleaner_core::nonfinite::as_f64(v).unwrap_or(f64::NAN)).collect())
    }
}

fn from_batch(batch: &RecordBatch, path: &Path) -> Result<SideTable> {
    let schema = batch.schema();
    let col_u64 = |name: &str| -> Result<Vec<u64>> {
        let c = batch.column_by_name(name).ok_or_else(|| side(path, format!("missing column `{name}`")))?;
        let c = arrow::compute::cast(c, &DataType::UInt64).map_err(|e| side(path, e.to_string()))?;
        let a = c.as_any().downcast_ref::<UInt64Array>().expect("cast to u64");
        Ok(a.values().to_vec())
    };
    let mut t = SideTable { row_id: col_u64("row_id")?, row_index: col_u64("row_index")?, columns: Vec::new() };
    for (k, f) in schema.fields().iter().enumerate() {
        let name = f.name();
        if name == "row_id" || name == "row_index" {
            continue;
        }
        let arr = batch.column(k);
        let col = match f.data_type() {
            DataType::Float64 => Column::F64(arr.as_any().downcast_ref::<Float64Array>().unwrap().values().to_vec()),
            DataType::Float32 => Column::F32(arr.as_any().downcast_ref::<Float32Array>().unwrap().values().to_vec()),
            DataType::Int64 => Column::I64(arr.as_any().downcast_ref::<Int64Array>().unwrap().values().to_vec()),
            DataType::Utf8 => {
                let a = arr.as_any().downcast_ref::<StringArray>().unwrap();
                Column::Str((0..a.len()).map(|i| a.value(i).to_string()).collect())
            }
            // Embedding lists and other types are read by `Matrix`.
            _ => continue,
        };
        t.columns.push((name.clone(), col));
    }
    Ok(t)
}

/// Rows per Parquet row group: the writer holds one row group in memory before flushing it,
/// so this bounds the extra memory of writing a large side file (16,384 rows of a 384-d f32
/// embedding are 24 MiB).
pub(crate) const ROW_GROUP: usize = 16_384;

pub(crate) fn write_batch(path: &Path, schema: Arc<Schema>, batch: &RecordBatch) -> Result<()> {
    write_batches(path, schema, &mut std::iter::once(Ok(batch.clone())))
}

/// Writes record batches one after another (each may be dropped once written).
pub(crate) fn write_batches(
    path: &Path,
    schema: Arc<Schema>,
    batches: &mut dyn Iterator<Item = Result<RecordBatch>>,
) -> Result<()> {
    // Complete or absent: a killed or out-of-space run never leaves a half file.
    gleaner_core::atomic::write_atomic(path, |file| {
        let props = parquet::file::properties::WriterProperties::builder()
            .set_compression(parquet::basic::Compression::ZSTD(Default::default()))
            .set_created_by("gleaner".into())
            .set_max_row_group_row_count(Some(ROW_GROUP))
            .build();
        let mut w = ArrowWriter::try_new(file, schema, Some(props)).map_err(|e| other(path, &e))?;
        for batch in batches {
            w.write(&batch?).map_err(|e| other(path, &e))?;
        }
        w.close().map_err(|e| other(path, &e))?;
        Ok(())
    })
}

pub(crate) fn other(path: &Path, e: &dyn std::fmt::Display) -> Error {
    Error::Other(format!("{}: {e}", path.display()))
}

pub(crate) fn side(path: &Path, message: String) -> Error {
    Error::SideFile { path: path.to_path_buf(), message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parquet_and_jsonl_round_trip_and_align() {
        let dir = tempfile::tempdir().unwrap();
        let ids = [RowId(7), RowId(3), RowId(9)];
        let mut t = SideTable::new(&ids, &[0, 1, 2]);
        t.set("ifd", Column::F64(vec![0.5, f64::NAN, 1.5])).set("cluster", Column::I64(vec![1, 2, 3]));
        for name in ["s.parquet", "s.jsonl"] {
            let p = dir.path().join(name);
            t.write(&p).unwrap();
            let back = SideTable::read(&p).unwrap();
            assert_eq!(back.row_id, t.row_id);
            let v = back.f64_column("ifd", &p).unwrap();
            assert_eq!(v[0], 0.5);
            assert!(v[1].is_nan());
        }
        let a = t.align(&[RowId(9), RowId(7)], Path::new("x")).unwrap();
        assert_eq!(a.row_index, vec![2, 0]);
        assert!(t.align(&[RowId(1)], Path::new("x")).is_err());
    }

    #[test]
    fn jsonl_keeps_column_types_so_a_table_read_back_writes_the_same_bytes() {
        let dir = tempfile::tempdir().unwrap();
        let mut t = SideTable::new(&[RowId(1), RowId(2)], &[0, 1]);
        t.set("loss", Column::F64(vec![1.0, f64::NAN]))
            .set("tokens", Column::I64(vec![393, 4]))
            .set("label", Column::Str(vec!["a".into(), "b".into()]))
            .set("all_nan", Column::F64(vec![f64::NAN, f64::NAN]));
        let (a, b) = (dir.path().join("a.jsonl"), dir.path().join("b.jsonl"));
        t.write(&a).unwrap();
        let back = SideTable::read(&a).unwrap();
        assert!(matches!(back.get("tokens"), Some(Column::I64(v)) if v == &[393, 4]));
        assert!(matches!(back.get("label"), Some(Column::Str(_))));
        assert!(matches!(back.get("loss"), Some(Column::F64(_))));
        assert!(matches!(back.get("all_nan"), Some(Column::F64(_))));
        back.write(&b).unwrap();
        assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    }
}
