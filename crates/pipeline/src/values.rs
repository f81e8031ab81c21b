//! Per-row values for selection, from a side file or from a field already in the records.
//!
//! A value source is written `PATH[:COLUMN]` for a side file (`.parquet` or `.jsonl`, aligned
//! by row id) or `FIELD` for a field of the records (CaR's released `score` and `label`,
//! Superfiltering's `ifd_ppl`, Cherry's `ifd_score`).

use gleaner_cache::SideTable;
use gleaner_core::nonfinite::as_f64;
use gleaner_core::{Error, Result};
use gleaner_read::Dataset;
use serde_json::Value;
use std::path::Path;

/// Where values come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A side file and the column to read.
    Side {
        /// The side file.
        path: std::path::PathBuf,
        /// The column (the stage's default when not given).
        column: Option<String>,
    },
    /// A field of each record.
    Field(String),
}

impl Source {
    /// Parses `PATH[:COLUMN]` (when PATH names an existing side file) or `FIELD`.
    pub fn parse(spec: &str) -> Source {
        let (path, column) = match spec.rsplit_once(':') {
            Some((p, c)) if Path::new(p).is_file() => (p, Some(c.to_string())),
            _ => (spec, None),
        };
        let p = Path::new(path);
        let side_ext = p.extension().is_some_and(|e| e == "parquet" || e == "jsonl");
        if side_ext || p.is_file() {
            Source::Side { path: p.to_path_buf(), column }
        } else {
            Source::Field(spec.to_string())
        }
    }
}

fn side_column(ds: &Dataset, path: &Path, column: Option<&str>, default: &str) -> Result<gleaner_cache::Column> {
    let table = SideTable::read(path)?.align(&ds.ids, path)?;
    let name = column.unwrap_or(default);
    table.get(name).cloned().ok_or_else(|| Error::SideFile {
        path: path.to_path_buf(),
        message: format!(
            "no column `{name}` (columns: {})",
            table.columns.iter().map(|(n, _)| n.as_str()).collect::<Vec<_>>().join(", ")
        ),
    })
}

/// Numeric values, one per record. Missing or non-numeric fields are errors naming the
/// record; `NaN` literals are NaN.
pub fn numbers(ds: &Dataset, src: &Source, default_column: &str) -> Result<Vec<f64>> {
    match src {
        Source::Side { path, column } => Ok(side_column(ds, path, column.as_deref(), default_column)?.as_f64()),
        Source::Field(f) => ds
            .map_records(|r| r.fields.get(f).cloned())?
            .into_iter()
            .zip(&ds.positions)
            .map(|(v, &pos)| match v {
                Some(v) => as_f64(&v).or_else(|| v.as_str().and_then(|s| s.trim().parse().ok())).ok_or_else(|| {
                    Error::input(
                        &ds.path,
                        gleaner_core::error::Location::Record(pos),
                        format!("field `{f}` is not a number: {v}"),
                    )
                }),
                None => Err(Error::input(
                    &ds.path,
                    gleaner_core::error::Location::Record(pos),
                    format!("missing field `{f}`"),
                )),
            })
            .collect(),
    }
}

/// Cluster labels as strings (integers are written in decimal), one per record.
pub fn labels(ds: &Dataset, src: &Source, default_column: &str) -> Result<Vec<String>> {
    match src {
        Source::Side { path, column } => Ok(match side_column(ds, path, column.as_deref(), default_column)? {
            gleaner_cache::Column::I64(v) => v.iter().map(|x| x.to_string()).collect(),
            gleaner_cache::Column::Str(v) => v,
            other => other.as_f64().iter().map(|x| format!("{x}")).collect(),
        }),
        Source::Field(f) => ds
            .map_records(|r| r.fields.get(f).cloned())?
            .into_iter()
            .zip(&ds.positions)
            .map(|(v, &pos)| match v {
                Some(Value::String(s)) => Ok(s),
                Some(Value::Number(n)) => Ok(n.to_string()),
                Some(v) => Err(Error::input(
                    &ds.path,
                    gleaner_core::error::Location::Record(pos),
                    format!("field `{f}` is not a label: {v}"),
                )),
                None => Err(Error::input(
                    &ds.path,
                    gleaner_core::error::Location::Record(pos),
                    format!("missing field `{f}`"),
                )),
            })
            .collect(),
    }
}
