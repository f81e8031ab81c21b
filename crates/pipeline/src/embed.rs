//! The embedding stage: records → texts (per method) → vectors, cached in a side file and
//! journaled chunk by chunk so that an interrupted run resumes where it stopped.

use crate::Observer;
use crate::cached::{CachedStage, run_cached};
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
    let stage = CachedStage { name: "embed", what: "embeddings", unit: "texts", side, manifest, chunk_rows };
    run_cached(ds, stage, obs, &mut |records| {
        let texts: Vec<String> = records.iter().map(render).collect();
        Ok(vec![("embedding".to_string(), Column::F32(embedder.embed(&texts, &|_| {})?))])
    })
}
