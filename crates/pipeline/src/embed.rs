//! The embedding stage: records → texts (per method) → vectors, cached in a side file and
//! journaled chunk by chunk so that an interrupted run resumes where it stopped.

use crate::Observer;
use crate::cached::{CachedStage, run_cached};
use gleaner_cache::{Column, Manifest, Matrix};
use gleaner_core::layout::TextKind;
use gleaner_core::{Record, Result};
use gleaner_embed::{Embedder, SentenceEncoder};
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

/// A sentence encoder with the text view it embeds: the in-memory form of [`embed_stage`]
/// (no side file), for callers that hold their rows themselves (the Python bindings).
pub struct TextEmbedder {
    /// The loaded encoder.
    pub encoder: SentenceEncoder,
    /// The text each record is rendered to.
    pub text: TextKind,
    /// Rows per encoder call ([`EMBED_CHUNK_ROWS`], as the stage).
    pub chunk_rows: usize,
    /// The precision the encoder runs at, as manifests name it.
    pub precision: String,
}

impl TextEmbedder {
    /// Loads `model` (a name or a directory) at `precision` (`auto` resolves as for the
    /// `embed` stage), with the CLI's default token budget per forward batch.
    pub fn load(model: &str, text: TextKind, precision: crate::recipe::PrecisionChoice) -> Result<TextEmbedder> {
        let p = crate::models::resolve_precision(precision, crate::models::ModelFamily::SentenceEncoder);
        let encoder = crate::models::load_embedder(model, 8192, p)?;
        Ok(TextEmbedder {
            encoder,
            text,
            chunk_rows: EMBED_CHUNK_ROWS,
            precision: crate::models::precision_name(p).into(),
        })
    }

    /// The encoder's identity, as manifests name it.
    pub fn identity(&self) -> String {
        self.encoder.identity()
    }

    /// The vector length.
    pub fn dim(&self) -> usize {
        self.encoder.dim()
    }

    /// The vectors of `records`, row-major (`records.len() × dim`), computed chunk by chunk as
    /// [`embed_stage`] computes them.
    pub fn embed_records(&self, records: &[Record]) -> Result<Vec<f32>> {
        let mut out = Vec::with_capacity(records.len() * self.dim());
        for chunk in records.chunks(self.chunk_rows.max(1)) {
            let texts: Vec<String> = chunk.iter().map(|r| self.text.render(r)).collect();
            out.extend(self.encoder.embed(&texts, &|_| {})?);
        }
        Ok(out)
    }
}
