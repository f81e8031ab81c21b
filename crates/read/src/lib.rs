//! # gleaner-read
//!
//! Reads instruction data into [`gleaner_core::Record`]s without losing anything:
//!
//! - containers: JSON array, JSONL, Parquet and CSV (a header row naming the fields, every
//!   value a string), chosen by extension or [`Format`];
//! - record shapes, detected per record: Alpaca (`instruction`/`input`/`output`), ShareGPT
//!   (`conversations` of `from`/`value`) and OpenAI `messages` (`role`/`content`);
//! - Python's `NaN` / `Infinity` literals (see [`gleaner_core::nonfinite`]);
//! - the JSON layout of the source ([`JsonStyle`]), so writers can reproduce it.
//!
//! Bad records produce an error naming the file and the line (JSONL, CSV: the physical line
//! the record starts on) or record index (JSON, Parquet), or, with [`OnError::Skip`], are skipped and counted with their reason in the
//! dataset's [`gleaner_core::Accounting`], whose counts always add up.

mod csv_rows;
mod detect;
mod json;
mod parquet_rows;
mod shape;

pub use detect::{Container, Format, JsonStyle};
pub use shape::record_from_value;

use gleaner_core::shard::{Shard, ShardOf};
use gleaner_core::{Accounting, Error, Record, Result, RowId, RowIds};
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
///
/// The records are held in memory after [`read`]. A long pipeline can [`Dataset::release`]
/// them: the dataset then keeps only row ids and positions, and every later access
/// ([`Dataset::for_each_chunk`], [`Dataset::map_records`], [`Dataset::subset`]) parses the
/// source file again, one record at a time, so 200,000 records cost no resident memory beyond
/// their ids. The file must not change in between (its size and modification time are
/// checked).
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
    /// The accepted records, in input order; empty once released.
    records: Vec<Record>,
    /// How to parse the source again, for a dataset whose records may be released.
    source: Option<Source>,
    /// True when `records` were dropped and are re-read from `source` on demand.
    released: bool,
    /// 0-based input position of each accepted record (its `row_index`).
    pub positions: Vec<usize>,
    /// Stable row id of each accepted record.
    pub ids: Vec<RowId>,
    /// read = ok + skipped.
    pub accounting: Accounting,
    /// Set by [`Dataset::keep_shard`]: the rows are one shard of the input.
    pub shard: Option<ShardOf>,
}

/// What a re-read of the source needs to yield exactly the records of the first read.
#[derive(Debug, Clone)]
struct Source {
    /// The container actually parsed (after sniffing).
    container: Container,
    /// A forced record shape.
    shape: Option<gleaner_core::RecordShape>,
    /// Whether the file was read as a prompt set.
    prompt_only: bool,
    /// Size and modification time at the first read.
    fingerprint: (u64, Option<std::time::SystemTime>),
}

fn fingerprint(path: &Path) -> Result<(u64, Option<std::time::SystemTime>)> {
    let m = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    Ok((m.len(), m.modified().ok()))
}

impl Dataset {
    /// Number of accepted records.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when no record was accepted.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// The records, when they are in memory (`None` after [`Dataset::release`]).
    pub fn records_in_memory(&self) -> Option<&[Record]> {
        (!self.released).then_some(self.records.as_slice())
    }

    /// The records of a dataset held in memory, to edit or extend before writing (a subset of
    /// kept rows, say). Errors for a released dataset.
    pub fn records_mut(&mut self) -> Result<&mut Vec<Record>> {
        if self.released {
            return Err(Error::Invalid(format!("the records of {} are not in memory", self.path.display())));
        }
        Ok(&mut self.records)
    }

    /// The records, taken out of the dataset (re-read from the source when released).
    pub fn into_records(self) -> Result<Vec<Record>> {
        if !self.released {
            return Ok(self.records);
        }
        let mut out = Vec::with_capacity(self.len());
        self.for_each_chunk(4096, &mut |_, chunk| {
            out.extend_from_slice(chunk);
            Ok(())
        })?;
        Ok(out)
    }

    /// Drops the records from memory; later accesses parse the source file again. Returns
    /// false (and keeps them) when the dataset has no source to re-read (a subset, or records
    /// built in memory).
    pub fn release(&mut self) -> bool {
        if self.source.is_none() {
            return false;
        }
        self.records = Vec::new();
        self.released = true;
        true
    }

    /// True when the records were released.
    pub fn is_released(&self) -> bool {
        self.released
    }

    /// Calls `f(first_index, records)` on consecutive chunks of at most `size` records, in
    /// order: slices of the records in memory, or records parsed again from the source.
    pub fn for_each_chunk(&self, size: usize, f: &mut dyn FnMut(usize, &[Record]) -> Result<()>) -> Result<()> {
        let size = size.max(1);
        if !self.released {
            for (c, chunk) in self.records.chunks(size).enumerate() {
                f(c * size, chunk)?;
            }
            return Ok(());
        }
        let mut buf = Vec::with_capacity(size.min(self.len()));
        let mut first = 0;
        self.reread(&mut |_, r| {
            buf.push(r);
            if buf.len() == size {
                f(first, &buf)?;
                first += buf.len();
                buf.clear();
            }
            Ok(())
        })?;
        if !buf.is_empty() {
            f(first, &buf)?;
        }
        Ok(())
    }

    /// `f` applied to every record, in order.
    pub fn map_records<T>(&self, mut f: impl FnMut(&Record) -> T) -> Result<Vec<T>> {
        let mut out = Vec::with_capacity(self.len());
        self.for_each_chunk(4096, &mut |_, chunk| {
            out.extend(chunk.iter().map(&mut f));
            Ok(())
        })?;
        Ok(out)
    }

    /// Keeps only the records at the given indices (into the dataset), in the given order; the
    /// result holds its records in memory.
    pub fn subset(&self, picks: &[usize]) -> Result<Dataset> {
        let records: Vec<Record> = if self.released {
            // slot(s) of each wanted index, then one pass over the source
            let mut want: std::collections::HashMap<usize, Vec<usize>> = std::collections::HashMap::new();
            for (slot, &i) in picks.iter().enumerate() {
                want.entry(i).or_default().push(slot);
            }
            let mut got: Vec<Option<Record>> = vec![None; picks.len()];
            self.reread(&mut |i, r| {
                if let Some(slots) = want.get(&i) {
                    for &s in slots {
                        got[s] = Some(r.clone());
                    }
                }
                Ok(())
            })?;
            got.into_iter().map(|r| r.expect("every pick is an index of the dataset")).collect()
        } else {
            picks.iter().map(|&i| self.records[i].clone()).collect()
        };
        Ok(Dataset {
            path: self.path.clone(),
            container: self.container,
            style: self.style,
            schema: self.schema.clone(),
            records,
            source: None,
            released: false,
            positions: picks.iter().map(|&i| self.positions[i]).collect(),
            ids: picks.iter().map(|&i| self.ids[i]).collect(),
            accounting: self.accounting.clone(),
            shard: None,
        })
    }

    /// The first `n` records (the `--limit` of the CLI); stays re-readable.
    pub fn truncate(&mut self, n: usize) {
        if n >= self.len() {
            return;
        }
        self.records.truncate(n);
        self.positions.truncate(n);
        self.ids.truncate(n);
    }

    /// Keeps only the rows of `shard` (a contiguous range; stays re-readable) and records which
    /// shard of the whole input they are, for the side files' manifests.
    pub fn keep_shard(&mut self, shard: Shard) -> &ShardOf {
        let of = ShardOf {
            index: shard.index,
            count: shard.count,
            rows: self.len(),
            input: gleaner_core::rowid::ids_digest(&self.ids),
        };
        let r = shard.range(self.len());
        if !self.released {
            self.records.truncate(r.end);
            self.records.drain(..r.start);
        }
        self.positions.truncate(r.end);
        self.positions.drain(..r.start);
        self.ids.truncate(r.end);
        self.ids.drain(..r.start);
        self.shard.insert(of)
    }

    /// Parses the source again and calls `f(index, record)` for every accepted record, in
    /// order. Errors if the file changed since it was read.
    fn reread(&self, f: &mut dyn FnMut(usize, Record) -> Result<()>) -> Result<()> {
        let src = self.source.as_ref().expect("only a dataset with a source is released");
        let changed = || {
            Error::Invalid(format!(
                "{} changed since it was read; its records cannot be read again (rerun the command)",
                self.path.display()
            ))
        };
        if fingerprint(&self.path)? != src.fingerprint {
            return Err(changed());
        }
        let mut next = 0usize;
        let mut sink = |item: RawItem| -> Result<()> {
            if next == self.positions.len() || item.position != self.positions[next] {
                return Ok(());
            }
            let r = item.value.and_then(|v| record_from_value(v, src.shape, src.prompt_only)).map_err(|_| changed())?;
            f(next, r)?;
            next += 1;
            Ok(())
        };
        scan(&self.path, src.container, OnError::Skip, &mut sink)?;
        if next != self.positions.len() {
            return Err(changed());
        }
        Ok(())
    }
}

/// The rows of Arrow record batches as records, exactly as the rows of a Parquet file with
/// the same columns are read (the same JSON conversion, shape detection and prompt-set rule):
/// one entry per row, in order, each a record or the one-line reason it is not one (which
/// names the missing or mistyped field). Used by callers that hold rows in memory (the Python
/// bindings); the batches' schema must be one a Parquet file could hold.
pub fn records_from_arrow(
    batches: &[arrow::record_batch::RecordBatch],
    shape: Option<gleaner_core::RecordShape>,
) -> Result<Vec<std::result::Result<Record, String>>> {
    let mut values = Vec::new();
    for b in batches {
        values.extend(parquet_rows::batch_values(b).map_err(|e| Error::Invalid(format!("Arrow batch: {e}")))?);
    }
    let prompt_only = !values.iter().any(|v| v.as_ref().is_ok_and(shape::has_response));
    Ok(values.into_iter().map(|v| v.and_then(|v| record_from_value(v, shape, prompt_only))).collect())
}

/// One raw item before shape parsing: its location label and value or error.
pub(crate) struct RawItem {
    pub position: usize,
    pub location: gleaner_core::error::Location,
    pub value: std::result::Result<serde_json::Value, String>,
}

/// Feeds every raw item of the file, parsed as `container`, to `sink`; returns the Parquet
/// schema for a Parquet file.
fn scan(
    path: &Path,
    container: Container,
    on_error: OnError,
    sink: &mut dyn FnMut(RawItem) -> Result<()>,
) -> Result<Option<Arc<arrow::datatypes::Schema>>> {
    match container {
        Container::Parquet => Ok(Some(parquet_rows::read_rows(path, sink)?)),
        Container::Jsonl => {
            json::stream_lines(path, sink)?;
            Ok(None)
        }
        Container::Csv => {
            csv_rows::read_rows(path, sink)?;
            Ok(None)
        }
        Container::Json => {
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            json::read_array(path, &bytes, on_error, sink)?;
            Ok(None)
        }
    }
}

/// Reads a file into a [`Dataset`] whose records are in memory.
pub fn read(path: &Path, opts: &ReadOptions) -> Result<Dataset> {
    read_with(path, opts, true)
}

/// Reads a file into a released [`Dataset`]: row ids, positions and accounting are computed
/// in two streaming passes (the first decides whether the file is a prompt set), and no
/// record is kept. A pass holds one JSONL line or CSV record, one Parquet record batch, or a
/// JSON array file's bytes, plus one parsed record at a time (layout detection reads the whole file
/// once, before the passes). Records are parsed again on access (see [`Dataset::release`]).
pub fn read_released(path: &Path, opts: &ReadOptions) -> Result<Dataset> {
    read_with(path, opts, false)
}

fn read_with(path: &Path, opts: &ReadOptions, keep: bool) -> Result<Dataset> {
    let format = match opts.format {
        Some(f) => f,
        None => Format::detect(path)?,
    };
    let stamp = fingerprint(path)?;
    let (parsed_as, style) = match format.container {
        Container::Parquet => (Container::Parquet, JsonStyle::jsonl_default()),
        Container::Csv => (Container::Csv, JsonStyle::jsonl_default()),
        Container::Json | Container::Jsonl => {
            let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
            let container =
                if format.sniff { detect::sniff_container(&bytes, format.container) } else { format.container };
            (container, JsonStyle::detect(&bytes, container))
        }
    };
    let container = match format.container {
        Container::Parquet | Container::Csv => format.container,
        Container::Json | Container::Jsonl => style.container,
    };
    // A file where no record carries a response is a prompt set (evaluation prompts, LCG's
    // pseudo-label file); otherwise a record without a response is an error.
    let mut raw = Vec::new();
    let mut any_response = false;
    let schema = scan(path, parsed_as, opts.on_error, &mut |item| {
        any_response |= item.value.as_ref().is_ok_and(shape::has_response);
        if keep {
            raw.push(item);
        }
        Ok(())
    })?;
    let prompt_only = !any_response;
    let mut accounting = Accounting::default();
    let mut records = Vec::with_capacity(raw.len());
    let mut positions = Vec::with_capacity(raw.len());
    let mut ids = Vec::with_capacity(raw.len());
    let mut row_ids = RowIds::with_capacity(raw.len());
    let mut accept = |item: RawItem| -> Result<()> {
        match item.value.and_then(|v| record_from_value(v, format.shape, prompt_only)) {
            Ok(r) => {
                accounting.accept();
                ids.push(row_ids.next(&r));
                positions.push(item.position);
                if keep {
                    records.push(r);
                }
            }
            Err(reason) => match opts.on_error {
                OnError::Fail => return Err(Error::input(path, item.location, reason)),
                OnError::Skip => accounting.skip(item.location.to_string(), reason),
            },
        }
        Ok(())
    };
    if keep {
        raw.into_iter().try_for_each(&mut accept)?;
    } else {
        scan(path, parsed_as, opts.on_error, &mut accept)?;
    }
    let source = Source { container: parsed_as, shape: format.shape, prompt_only, fingerprint: stamp };
    Ok(Dataset {
        path: path.to_path_buf(),
        container,
        style,
        schema,
        records,
        source: Some(source),
        released: !keep,
        positions,
        ids,
        accounting,
        shard: None,
    })
}
