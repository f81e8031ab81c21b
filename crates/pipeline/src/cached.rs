//! The one sequence every model stage follows: reuse the side file when its manifest matches,
//! else compute chunk by chunk through the resume journal, then write the side file, its
//! manifest, and drop the journal.

use crate::Observer;
use crate::journal::{Chunk, run_chunked};
use gleaner_cache::{Column, Manifest, SideTable};
use gleaner_core::{Record, Result};
use gleaner_read::Dataset;
use std::path::Path;

/// A model stage's side file and how it is computed.
pub struct CachedStage<'a> {
    /// Progress label (`quality`, `embed`, `ifd`).
    pub name: &'a str,
    /// What the side file holds, for messages (`quality scores`, `embeddings`).
    pub what: &'a str,
    /// Progress unit.
    pub unit: &'a str,
    /// The side file.
    pub side: &'a Path,
    /// Everything that changes the numbers.
    pub manifest: Manifest,
    /// Rows per journaled chunk.
    pub chunk_rows: usize,
}

/// How a stage's result is kept in its side file.
pub trait SideFile: Sized {
    /// Reads the side file aligned to `ds`'s rows (an error when it does not cover them).
    fn read_aligned(path: &Path, ds: &Dataset) -> Result<Self>;
    /// The result from the journaled columns of every chunk, in row order.
    fn from_columns(ds: &Dataset, cols: Chunk) -> Result<Self>;
    /// Writes the side file.
    fn write_to(&self, path: &Path) -> Result<()>;
}

impl SideFile for SideTable {
    fn read_aligned(path: &Path, ds: &Dataset) -> Result<SideTable> {
        SideTable::read(path)?.align(&ds.ids, path)
    }

    fn from_columns(ds: &Dataset, cols: Chunk) -> Result<SideTable> {
        let mut t = SideTable::new(&ds.ids, &ds.positions);
        for (name, col) in cols {
            t.set(&name, col);
        }
        Ok(t)
    }

    fn write_to(&self, path: &Path) -> Result<()> {
        self.write(path)
    }
}

impl SideFile for gleaner_cache::Matrix {
    fn read_aligned(path: &Path, ds: &Dataset) -> Result<Self> {
        gleaner_cache::Matrix::read(path)?.into_aligned(&ds.ids, path)
    }

    /// One `F32` column holding the rows' vectors back to back.
    fn from_columns(ds: &Dataset, cols: Chunk) -> Result<Self> {
        let data = match only_column(cols, Column::F32(Vec::new())) {
            Column::F32(v) => v,
            _ => return Err(gleaner_core::Error::Other("internal: embeddings are not f32".into())),
        };
        let dim = if ds.is_empty() { 0 } else { data.len() / ds.len() };
        Ok(gleaner_cache::Matrix::new(&ds.ids, &ds.positions, dim, data))
    }

    fn write_to(&self, path: &Path) -> Result<()> {
        self.write(path)
    }
}

/// Runs `stage` over `ds`: the side file's content, reused, resumed or computed by `compute`.
pub fn run_cached<T: SideFile>(
    ds: &Dataset,
    stage: CachedStage<'_>,
    obs: &dyn Observer,
    compute: &mut dyn FnMut(&[Record]) -> Result<Chunk>,
) -> Result<T> {
    let side = stage.side;
    // a shard's side file says which shard of which input it holds, for `gleaner merge`
    let stage = CachedStage { manifest: Manifest { shard: ds.shard.clone(), ..stage.manifest }, ..stage };
    if let Some(t) = crate::reuse(side, &stage.manifest, obs, |p| T::read_aligned(p, ds))? {
        obs.info(&format!("reusing {} from {}", stage.what, side.display()));
        // a run killed after writing the side file but before removing its journal
        let stale = crate::journal::journal_path(side);
        if stale.exists() {
            std::fs::remove_file(&stale).map_err(|e| gleaner_core::Error::io(&stale, e))?;
        }
        return Ok(t);
    }
    obs.start(stage.name, ds.len() as u64, stage.unit);
    let (cols, journal) = run_chunked(
        ds,
        side,
        &stage.manifest,
        stage.chunk_rows,
        &|note| obs.info(note),
        &|done, all| obs.info(&format!("resuming: {done} of {all} row chunks already done")),
        &mut |n| obs.progress(n as u64),
        compute,
    )?;
    obs.finish();
    let t = T::from_columns(ds, cols)?;
    t.write_to(side)?;
    stage.manifest.write_for(side)?;
    journal.finish()?;
    Ok(t)
}

/// The single column `name` of a chunk list (empty when no chunk ran: an empty dataset).
pub fn only_column(cols: Chunk, empty: Column) -> Column {
    cols.into_iter().next().map_or(empty, |(_, c)| c)
}
