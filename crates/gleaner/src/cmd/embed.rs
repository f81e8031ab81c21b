//! `gleaner embed`.

use crate::cli::EmbedArgs;
use crate::log::BarObserver;
use anyhow::{Context, Result, anyhow};
use gleaner_core::layout::TextKind;
use gleaner_embed::{Embedder, SentenceEncoder};

/// Loads a sentence-transformers model by name or path (one-term bf16 under `--precision auto`
/// where AMX exists).
pub fn load_embedder(name: &str, batch_tokens: usize) -> Result<SentenceEncoder> {
    let path = gleaner_models::resolve(name)?;
    let mut enc = SentenceEncoder::load_with(path.path(), gleaner_nn::Precision::Bf16)
        .with_context(|| format!("loading embedder {name}"))?;
    enc.batch_tokens = batch_tokens;
    Ok(enc)
}

pub fn run(a: EmbedArgs) -> Result<()> {
    let text = TextKind::parse(&a.text).ok_or_else(|| anyhow!("unknown --text `{}`", a.text))?;
    gleaner_cache::Matrix::check_path(&a.output)?;
    let ds = super::read_input(&a.input)?;
    let enc = load_embedder(&a.model, a.batch_tokens)?;
    let t0 = std::time::Instant::now();
    let obs = BarObserver::default();
    let m = gleaner_pipeline::embed::embed_stage(&ds, &enc, &text, &a.output, &obs)?;
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
