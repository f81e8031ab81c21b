//! The embedding stage: records → texts (per method) → vectors, cached in a side file.

use crate::Observer;
use gleaner_cache::{Manifest, Matrix};
use gleaner_core::Result;
use gleaner_core::layout::TextKind;
use gleaner_embed::Embedder;
use gleaner_read::Dataset;
use std::path::Path;

/// Embeds the dataset's records (as `text` renders them) into `side`, or reuses `side` when
/// its manifest says it was made by the same model and text layout and it covers every row.
pub fn embed_stage(
    ds: &Dataset,
    embedder: &dyn Embedder,
    text: &TextKind,
    side: &Path,
    obs: &dyn Observer,
) -> Result<Matrix> {
    let manifest = Manifest::new("embed", Some(embedder.identity()), &ds.ids).param("text", text.name());
    if let Some(m) = crate::reuse(side, &manifest, |p| Matrix::read(p).and_then(|m| m.into_aligned(&ds.ids, p)))? {
        obs.info(&format!("reusing embeddings from {}", side.display()));
        return Ok(m);
    }
    let texts: Vec<String> = ds.map_records(|r| text.render(r))?;
    obs.start("embed", texts.len() as u64, "texts");
    let data = embedder.embed(&texts, &|done| obs.progress(done as u64))?;
    obs.finish();
    let m = Matrix::new(&ds.ids, &ds.positions, embedder.dim(), data);
    m.write(side)?;
    manifest.write_for(side)?;
    Ok(m)
}
