//! `gleaner embed`.

use crate::cli::EmbedArgs;
use crate::log::BarObserver;
use anyhow::{Context, Result};
use gleaner_embed::Embedder;
use gleaner_pipeline::models::ModelFamily;
use gleaner_pipeline::recipe::PrecisionChoice;

pub fn run(a: EmbedArgs, precision: Option<PrecisionChoice>) -> Result<()> {
    let text = a.text.clone();
    gleaner_cache::Matrix::check_path(&a.output)?;
    super::check_writable(Some(&a.output))?;
    let _lock = super::lock_output(&a.output)?;
    let ds = super::read_input_shard(&a.input, &a.shard)?;
    let p = super::score::precision_for(precision, ModelFamily::SentenceEncoder);
    let prec = gleaner_pipeline::models::precision_name(p);
    let enc = gleaner_pipeline::models::load_embedder(&a.model, a.batch_tokens, p)
        .with_context(|| format!("loading embedder {}", a.model))?;
    let t0 = std::time::Instant::now();
    let obs = BarObserver::default();
    let m = gleaner_pipeline::embed::embed_stage(&ds, &enc, &text, prec, a.chunk_rows.max(1), &a.output, &obs)?;
    let secs = t0.elapsed().as_secs_f64();
    crate::log::info(format!(
        "embedded {} records ({}-d) in {secs:.1}s ({:.1}/s) → {}",
        m.rows(),
        enc.dim(),
        m.rows() as f64 / secs.max(1e-9),
        a.output.display()
    ));
    Ok(())
}
