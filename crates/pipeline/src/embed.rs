//! The embedding stage: records → texts (per method) → vectors, cached in a side file and
//! journaled chunk by chunk so that an interrupted run resumes where it stopped.

use crate::Observer;
use crate::journal::run_chunked;
use gleaner_cache::{Column, Manifest, Matrix};
use gleaner_core::layout::TextKind;
use gleaner_core::{Record, Result};
use gleaner_embed::Embedder;
use gleaner_read::Dataset;
use std::path::Path;

/// Rows per journaled chunk of the embedding stage by default.
pub const EMBED_CHUNK_ROWS: usize = 2048;

/// Embeds the dataset's records (as `text` renders them) into `side`, or reuses `side` when
/// its manifest says it was made by the same model, text layout and precision and it covers
/// every row.
pub fn embed_stage(
    ds: &Dataset,
    embedder: &dyn Embedder,
    text: &TextKind,
    precision: &str,
    chunk_rows: usize,
    side: &Path,
    obs: &dyn Observer,
) -> Result<Matrix> {
    embed_rendered(ds, embedder, &text.name(), &|r| text.render(r), precision, chunk_rows, side, obs)
}

/// [`embed_stage`] for any rendering of a record; `text_name` identifies the rendering in the
/// manifest.
#[allow(clippy::too_many_arguments)]
pub fn embed_rendered(
    ds: &Dataset,
    embedder: &dyn Embedder,
    text_name: &str,
    render: &(dyn Fn(&Record) -> String + Sync),
    precision: &str,
    chunk_rows: usize,
    side: &Path,
    obs: &dyn Observer,
) -> Result<Matrix> {
    let manifest = Manifest::new("embed", Some(embedder.identity()), &ds.ids)
        .param("text", text_name)
        .param("precision", precision)
        .param("chunk_rows", chunk_rows);
    if let Some(m) =
        crate::reuse(side, &manifest, obs, |p| Matrix::read(p).and_then(|m| m.into_aligned(&ds.ids, p)))?
    {
        obs.info(&format!("reusing embeddings from {}", side.display()));
        return Ok(m);
    }
    obs.start("embed", ds.len() as u64, "texts");
    let (cols, journal) = run_chunked(
        ds,
        side,
        &manifest,
        chunk_rows,
        &|done, all| obs.info(&format!("resuming: {done} of {all} row chunks already embedded")),
        &mut |n| obs.progress(n as u64),
        &mut |records| {
            let texts: Vec<String> = records.iter().map(render).collect();
            Ok(vec![("embedding".to_string(), Column::F32(embedder.embed(&texts, &|_| {})?))])
        },
    )?;
    obs.finish();
    let data = match cols.into_iter().next() {
        Some((_, Column::F32(v))) => v,
        _ => Vec::new(),
    };
    let m = Matrix::new(&ds.ids, &ds.positions, embedder.dim(), data);
    m.write(side)?;
    manifest.write_for(side)?;
    journal.finish()?;
    Ok(m)
}
