//! # gleaner-cache
//!
//! Scores and embeddings live beside the records, never inside them, in side files keyed by
//! the stable [`gleaner_core::RowId`]:
//!
//! - [`SideTable`]: `row_id` (u64), `row_index` (u64, 0-based input position) and named
//!   columns (f64, f32, i64 or string), as Parquet (or JSONL, by extension);
//! - [`Matrix`]: an embedding matrix, as Parquet with `row_id`, `row_index` and a
//!   `FixedSizeList<f32>` column `embedding`;
//! - [`Manifest`]: what produced a side file (stage, model hash, parameters, input ids), so
//!   a rerun reuses it and a resume refuses to mix incompatible settings; it records the
//!   side file's checksum and its own, so a damaged file is detected, never trusted.
//!
//! Every file is written atomically (temporary name, sync, rename: see
//! [`gleaner_core::atomic`]).
//!
//! Because rows are keyed by id, shards of one input merge by concatenation
//! ([`SideTable::concat`]) and a table joins onto any dataset holding the same rows
//! ([`SideTable::align`]).

mod manifest;
mod matrix;
mod table;

pub use manifest::{Loaded, Manifest};
pub use matrix::Matrix;
pub use table::{Column, SideTable};
