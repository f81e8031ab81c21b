//! Embedding matrices as Parquet: `row_id`, `row_index`, `embedding: FixedSizeList<f32>`.

use crate::table::{other, side, write_batches};
use arrow::array::{Array, ArrayRef, FixedSizeListArray, Float32Array, UInt64Array};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use gleaner_core::{Error, Result, RowId};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

/// A row-major f32 matrix with one row per record.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Matrix {
    /// Row ids, one per row.
    pub row_id: Vec<u64>,
    /// 0-based input positions.
    pub row_index: Vec<u64>,
    /// Columns per row.
    pub dim: usize,
    /// `row_id.len() * dim` values, row-major.
    pub data: Vec<f32>,
}

impl Matrix {
    /// A matrix from keys and row-major data.
    pub fn new(ids: &[RowId], positions: &[usize], dim: usize, data: Vec<f32>) -> Matrix {
        assert_eq!(ids.len() * dim, data.len(), "matrix shape");
        Matrix {
            row_id: ids.iter().map(|r| r.0).collect(),
            row_index: positions.iter().map(|&p| p as u64).collect(),
            dim,
            data,
        }
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.row_id.len()
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &[f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// True when the rows are exactly `ids`, in order.
    pub fn is_aligned(&self, ids: &[RowId]) -> bool {
        self.row_id.len() == ids.len() && self.row_id.iter().zip(ids).all(|(&a, b)| a == b.0)
    }

    /// The matrix itself when its rows already are `ids` in order (no copy), else
    /// [`Matrix::align`].
    pub fn into_aligned(self, ids: &[RowId], path: &Path) -> Result<Matrix> {
        if self.is_aligned(ids) { Ok(self) } else { self.align(ids, path) }
    }

    /// Rows reordered to match `ids` (a copy); errors when some are missing.
    pub fn align(&self, ids: &[RowId], path: &Path) -> Result<Matrix> {
        let at: HashMap<u64, usize> = self.row_id.iter().enumerate().map(|(i, &id)| (id, i)).collect();
        let mut data = Vec::with_capacity(ids.len() * self.dim);
        let mut row_index = Vec::with_capacity(ids.len());
        let mut missing = 0;
        for id in ids {
            match at.get(&id.0) {
                Some(&i) => {
                    data.extend_from_slice(self.row(i));
                    row_index.push(self.row_index[i]);
                }
                None => missing += 1,
            }
        }
        if missing > 0 {
            return Err(side(path, format!("{missing} of {} input rows have no embedding in this file", ids.len())));
        }
        Ok(Matrix { row_id: ids.iter().map(|r| r.0).collect(), row_index, dim: self.dim, data })
    }

    /// Checks that `path` can name an embedding side file: Parquet is the only format, so a
    /// name ending in another extension (such as `.npy`) is refused instead of silently
    /// getting Parquet bytes.
    pub fn check_path(path: &Path) -> Result<()> {
        match path.extension().and_then(|e| e.to_str()) {
            None | Some("parquet" | "pq") => Ok(()),
            Some(ext) => Err(Error::Invalid(format!(
                "{}: embedding files are Parquet (columns row_id, row_index, embedding), not .{ext}; \
                 name it .parquet (numpy: np.stack(pyarrow.parquet.read_table(P)['embedding'].to_numpy(zero_copy_only=False)))",
                path.display()
            ))),
        }
    }

    /// Stacks matrices of the same width (merging shards), in the given order.
    pub fn concat(parts: &[Matrix], path: &Path) -> Result<Matrix> {
        let dim = parts.iter().find(|m| !m.row_id.is_empty()).map_or(0, |m| m.dim);
        let mut out = Matrix { dim, ..Matrix::default() };
        for m in parts {
            if m.dim != out.dim && !m.row_id.is_empty() {
                return Err(side(path, format!("shards differ in width ({} ≠ {})", m.dim, out.dim)));
            }
            out.row_id.extend_from_slice(&m.row_id);
            out.row_index.extend_from_slice(&m.row_index);
            out.data.extend_from_slice(&m.data);
        }
        Ok(out)
    }

    /// Writes the matrix as Parquet ([`Matrix::check_path`] must accept `path`).
    pub fn write(&self, path: &Path) -> Result<()> {
        Matrix::check_path(path)?;
        let item = Arc::new(Field::new("item", DataType::Float32, false));
        let schema = Arc::new(Schema::new(vec![
            Field::new("row_id", DataType::UInt64, false),
            Field::new("row_index", DataType::UInt64, false),
            Field::new("embedding", DataType::FixedSizeList(item.clone(), self.dim as i32), false),
        ]));
        // One row group at a time: only a chunk of the matrix is ever copied into Arrow arrays.
        let rows = self.row_id.len();
        let mut chunks = (0..rows.max(1)).step_by(crate::table::ROW_GROUP).map(|start| {
            let end = (start + crate::table::ROW_GROUP).min(rows);
            let values = Float32Array::from(self.data[start * self.dim..end * self.dim].to_vec());
            let list = FixedSizeListArray::try_new(item.clone(), self.dim as i32, Arc::new(values), None)
                .map_err(|e| other(path, &e))?;
            let arrays: Vec<ArrayRef> = vec![
                Arc::new(UInt64Array::from(self.row_id[start..end].to_vec())),
                Arc::new(UInt64Array::from(self.row_index[start..end].to_vec())),
                Arc::new(list),
            ];
            RecordBatch::try_new(schema.clone(), arrays).map_err(|e| other(path, &e))
        });
        write_batches(path, schema.clone(), &mut chunks)
    }

    /// Reads a matrix written by [`Matrix::write`].
    pub fn read(path: &Path) -> Result<Matrix> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        let reader = ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.build())
            .map_err(|e| side(path, format!("not a readable embedding file: {e}")))?;
        let mut m = Matrix::default();
        for batch in reader {
            let batch = batch.map_err(|e| side(path, e.to_string()))?;
            let get = |n: &str| batch.column_by_name(n).ok_or_else(|| side(path, format!("missing column `{n}`")));
            let ids = get("row_id")?
                .as_any()
                .downcast_ref::<UInt64Array>()
                .ok_or_else(|| side(path, "row_id is not u64".into()))?;
            let pos = get("row_index")?
                .as_any()
                .downcast_ref::<UInt64Array>()
                .ok_or_else(|| side(path, "row_index is not u64".into()))?;
            let emb = get("embedding")?
                .as_any()
                .downcast_ref::<FixedSizeListArray>()
                .ok_or_else(|| side(path, "embedding is not a fixed-size list".into()))?;
            m.dim = emb.value_length() as usize;
            let vals = emb
                .values()
                .as_any()
                .downcast_ref::<Float32Array>()
                .ok_or_else(|| side(path, "embedding values are not f32".into()))?;
            let start = emb.offset() * m.dim;
            m.data.extend_from_slice(&vals.values()[start..start + emb.len() * m.dim]);
            m.row_id.extend_from_slice(ids.values());
            m.row_index.extend_from_slice(pos.values());
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("e.parquet");
        let m = Matrix::new(&[RowId(1), RowId(2)], &[0, 1], 3, vec![1., 2., 3., 4., 5., 6.]);
        m.write(&p).unwrap();
        assert_eq!(Matrix::read(&p).unwrap(), m);
        assert_eq!(m.align(&[RowId(2)], &p).unwrap().data, vec![4., 5., 6.]);
    }
}
