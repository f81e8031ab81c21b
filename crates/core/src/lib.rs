//! # gleaner-core
//!
//! The data model every gleaner stage shares:
//!
//! - [`Record`]: one instruction-tuning example, single- or multi-turn, with every original
//!   field kept verbatim in [`Record::fields`] so that writing it back loses nothing.
//! - [`RowId`]: a stable 64-bit id derived from a record's content and its occurrence among
//!   identical contents, so scores computed in one run join rows of another.
//! - [`layout`]: the exact text strings each method embeds or scores (docs/methods.md §1–§4).
//! - [`nonfinite`]: Python's `NaN` / `Infinity` JSON literals, kept through a round trip.
//! - [`Accounting`]: every input row is kept, dropped with a reason, or errored.
//! - [`Error`]: the structured error type with an optional `hint:` line.
//! - [`shard`]: `--shard I/N` row ranges and what a shard's side file records for a merge.
//! - [`atomic`]: files written complete or not at all (temporary name, sync, rename), and the
//!   checksum side files and journals are verified with.

pub mod account;
pub mod atomic;
pub mod error;
pub mod layout;
pub mod nonfinite;
pub mod record;
pub mod rng;
pub mod rowid;
pub mod shard;

pub use account::{Accounting, Skip};
pub use error::{Error, Result};
pub use record::{Record, RecordShape, Role, Turn};
pub use rowid::{RowId, RowIds, assign_row_ids};
