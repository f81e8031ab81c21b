//! # gleaner-read
//!
//! Reads instruction data into [`gleaner_core::Record`]s without losing anything:
//!
//! - containers: JSON array, JSONL and Parquet, chosen by extension or [`Format`];
//! - record shapes, detected per record: Alpaca (`instruction`/`input`/`output`), ShareGPT
//!   (`conversations` of `from`/`value`) and OpenAI `messages` (`role`/`content`);
//! - Python's `NaN` / `Infinity` literals (see [`gleaner_core::nonfinite`]);
//! - the JSON layout of the source ([`JsonStyle`]), so writers can reproduce it.
//!
//! Bad records produce an error naming the file and the line (JSONL) or record index (JSON,
//! Parquet), or, with [`OnError::Skip`], are skipped and counted with their reason in the
//! dataset's [`gleaner_core::Accounting`], whose counts always add up.

mod detect;
mod json;
mod parquet_rows;
mod shape;

pub use detect::{Container, Format, JsonStyle};
pub use shape::record_from_value;

use gleaner_core::{Accounting, Error, Record, Result, RowId, assign_row_ids};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// What to do with a bad record.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum OnError {
    /// Stop with an error naming the file and the line or record (the default).
    #[default]
    Fail,
    /// Skip the record, and count it with its reason.
    Skip,
}

/// Options for [`read`].
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// Force a format instead of detecting it from the extension and content.
    pub format: Option<Format>,
    /// Bad-record policy.
    pub on_error: OnError,
}

/// A file read into records, with everything needed to write it back.
#[derive(Debug, Clone)]
pub struct Dataset {
    /// The file read.
    pub path: PathBuf,
    /// The container it was read from.
    pub container: Container,
    /// JSON layout of the source (indentation, separators, escaping).
    pub style: JsonStyle,
    /// The Arrow schema of a Parquet source, reused when writing Parquet back.
    pub schema: Option<Arc<arrow::datatypes::Schema>>,
    /// The accepted records, in input order.
    pub records: Vec<Record>,
    /// 0-based input position of each accepted record (its `row_index`).
    pub positions: Vec<usize>,
    /// Stable row id of each accepted record.
    pub ids: Vec<RowId>,
    /// read = ok + skipped.
    pub accounting: Accounting,
}

impl Dataset {
    /// Number of accepted records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// True when no record was accepted.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Keeps only the records at the given indices (into `records`), in the given order.
    pub fn subset(&self, picks: &[usize]) -> Dataset {
        Dataset {
            path: self.path.clone(),
            container: self.container,
            style: self.style,
            schema: self.schema.clone(),
            records: picks.iter().map(|&i| self.records[i].clone()).collect(),
            positions: picks.iter().map(|&i| self.positions[i]).collect(),
            ids: picks.iter().map(|&i| self.ids[i]).collect(),
            accounting: self.accounting.clone(),
        }
    }
}

/// One raw item before shape parsing: its location label and value or error.
pub(crate) struct RawItem {
    pub position: usize,
    pub location: gleaner_core::error::Location,
    pub value: std::result::Result<serde_json::Value, String>,
}

/// Reads a file into a [`Dataset`].
pub fn read(path: &Path, opts: &ReadOptions) -> Result<Dataset> {
    let format = match opts.format {
        Some(f) => f,
        None => Format::detect(path)?,
    };
    let (raw, style, schema) = match format.container {
        Container::Parquet => {
            let (items, schema) = parquet_rows::read_rows(path)?;
            (items, JsonStyle::jsonl_default(), Some(schema))
        }
        Container::Json | Container::Jsonl => {
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            let container =
                if format.sniff { detect::sniff_container(&bytes, format.container) } else { format.container };
            let style = JsonStyle::detect(&bytes, container);
            let items = match container {
                Container::Json => json::read_array(path, &bytes, opts.on_error)?,
                _ => json::read_lines(path, &bytes),
            };
            (items, style, None)
        }
    };
    let container = match format.container {
        Container::Parquet => Container::Parquet,
        _ => style.container,
    };
    // A file where no record carries a response is a prompt set (evaluation prompts, LCG's
    // pseudo-label file); otherwise a record without a response is an error.
    let prompt_only = !raw.iter().any(|i| i.value.as_ref().is_ok_and(shape::has_response));
    let mut accounting = Accounting::default();
    let mut records = Vec::with_capacity(raw.len());
    let mut positions = Vec::with_capacity(raw.len());
    for item in raw {
        let parsed = item.value.and_then(|v| record_from_value(v, format.shape, prompt_only));
        match parsed {
            Ok(r) => {
                accounting.accept();
                records.push(r);
                positions.push(item.position);
            }
            Err(reason) => match opts.on_error {
                OnError::Fail => return Err(Error::input(path, item.location, reason)),
                OnError::Skip => accounting.skip(item.location.to_string(), reason),
            },
        }
    }
    let ids = assign_row_ids(&records);
    Ok(Dataset { path: path.to_path_buf(), container, style, schema, records, positions, ids, accounting })
}
