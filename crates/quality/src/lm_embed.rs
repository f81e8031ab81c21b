//! A causal LM as a frozen text embedder: the first `layers` blocks, then the mean over the
//! text's tokens of the final-normed hidden state ([`gleaner_lm::CausalLm::prompt_embedding`]).
//!
//! The middle of a decoder carries more about how well a response fits its instruction than
//! its last layer or a sentence encoder does (`research/quality/README.md`), and cutting the
//! model there also cuts the cost: 4 of SmolLM2-135M's 30 blocks are 42.5M parameters, 28.3M
//! of them the embedding table.

use gleaner_core::{Error, Result};
use gleaner_embed::Embedder;
use gleaner_lm::LoadedLm;

/// Texts per forward call (progress is reported between calls).
const CHUNK: usize = 256;

/// The first layers of a causal LM, embedding texts by their mean hidden state.
pub struct LmEmbedder {
    lm: LoadedLm,
    max_tokens: usize,
}

impl LmEmbedder {
    /// Wraps a loaded LM, keeping its first `layers` blocks; texts are cut to `max_tokens`.
    pub fn new(mut lm: LoadedLm, layers: usize, max_tokens: usize) -> Result<LmEmbedder> {
        if max_tokens == 0 {
            return Err(Error::Invalid("max_tokens must be at least 1".into()));
        }
        lm.model.keep_layers(layers)?;
        Ok(LmEmbedder { lm, max_tokens })
    }

    /// Loads an LM by name or path (`gleaner-models` resolution) with its products in
    /// `precision`, and wraps it.
    pub fn load(name: &str, layers: usize, max_tokens: usize, precision: gleaner_nn::Precision) -> Result<LmEmbedder> {
        let path = gleaner_models::resolve(name)?;
        LmEmbedder::new(gleaner_lm::load_blocks(path.path(), Some(layers), precision)?, layers, max_tokens)
    }

    /// Parameters of the kept part of the LM.
    pub fn parameters(&self) -> usize {
        self.lm.model.parameters()
    }
}

impl Embedder for LmEmbedder {
    fn dim(&self) -> usize {
        self.lm.model.hidden()
    }

    /// Embeds texts; a text without tokens gets a NaN vector (and so a NaN score).
    fn embed(&self, texts: &[String], progress: &(dyn Fn(usize) + Sync)) -> Result<Vec<f32>> {
        let d = self.dim();
        let mut out = Vec::with_capacity(texts.len() * d);
        for (c, chunk) in texts.chunks(CHUNK).enumerate() {
            let ids = chunk
                .iter()
                .map(|t| {
                    let mut ids = self.lm.tokenizer.encode(t)?;
                    ids.truncate(self.max_tokens);
                    Ok(ids)
                })
                .collect::<Result<Vec<Vec<u32>>>>()?;
            let refs: Vec<&[u32]> = ids.iter().map(Vec::as_slice).collect();
            for e in self.lm.model.prompt_embedding(&refs) {
                out.extend_from_slice(&e);
            }
            progress(c * CHUNK + chunk.len());
        }
        Ok(out)
    }

    fn identity(&self) -> String {
        format!("{}:max_tokens={}", self.lm.model.identity(), self.max_tokens)
    }
}
