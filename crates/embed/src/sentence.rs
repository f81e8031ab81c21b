//! sentence-transformers model directories as an [`Embedder`].

use crate::{BertEncoder, Embedder, Encoder};
use gleaner_core::{Error, Result};
use gleaner_nn::Packed;
use gleaner_nn::weights::read_json;
use std::path::{Path, PathBuf};
use tokenizers::{Tokenizer, TruncationParams};

/// How token states become one sentence vector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pooling {
    /// Mean over the sequence's tokens (special tokens included), as sentence-transformers.
    Mean,
    /// The first token (`[CLS]`).
    Cls,
    /// Element-wise max over tokens.
    Max,
}

/// A sentence-transformers model: tokenizer, encoder, pooling and normalisation.
pub struct SentenceEncoder {
    tokenizer: Tokenizer,
    encoder: Box<dyn Encoder>,
    /// Pooling mode (from `1_Pooling/config.json`).
    pub pooling: Pooling,
    /// L2-normalise the pooled vectors (a `Normalize` module, or forced).
    pub normalize: bool,
    /// Token limit per text, special tokens included (`max_seq_length`).
    pub max_len: usize,
    /// Token budget of one forward batch (packed rows).
    pub batch_tokens: usize,
    identity: String,
    precision: gleaner_nn::Precision,
}

fn tokenizer_with(path: &Path, max_len: usize) -> Result<Tokenizer> {
    let mut tok = Tokenizer::from_file(path)
        .map_err(|e| Error::model(path.display().to_string(), format!("cannot load tokenizer: {e}")))?;
    // The shipped tokenizer.json may pin padding and truncation (MiniLM's pads to 128 and
    // cuts at 128); gleaner packs sequences, so padding is off and truncation is the model's.
    tok.with_padding(None);
    tok.with_truncation(Some(TruncationParams { max_length: max_len, ..Default::default() }))
        .map_err(|e| Error::model(path.display().to_string(), format!("truncation: {e}")))?;
    Ok(tok)
}

impl SentenceEncoder {
    /// Loads a sentence-transformers directory (or a bare BERT directory with a tokenizer,
    /// which then gets mean pooling, no normalisation, and the config's position limit).
    ///
    /// The encoder runs in one-term bf16 where AMX exists, f32 elsewhere (measured cosine to
    /// the f32 path >= 0.99997 on 600 real CaR texts; see bench/README.md).
    pub fn load(dir: &Path) -> Result<SentenceEncoder> {
        SentenceEncoder::load_with(dir, gleaner_nn::Precision::Bf16)
    }

    /// [`SentenceEncoder::load`] with every dense layer in `precision` (`F32` is the reference
    /// arithmetic; bf16 ones run in f32 where AMX is missing, see [`gleaner_nn::effective`]).
    pub fn load_with(dir: &Path, precision: gleaner_nn::Precision) -> Result<SentenceEncoder> {
        let st_cfg = read_json(&dir.join("sentence_bert_config.json")).ok();
        let cfg = read_json(&dir.join("config.json"))?;
        let max_pos = cfg.get("max_position_embeddings").and_then(|v| v.as_u64()).unwrap_or(512) as usize;
        let max_len = st_cfg
            .as_ref()
            .and_then(|c| c.get("max_seq_length"))
            .and_then(|v| v.as_u64())
            .map_or(max_pos.min(512), |v| v as usize);
        let modules = read_json(&dir.join("modules.json")).ok();
        let module_path = |kind: &str| -> Option<PathBuf> {
            modules.as_ref()?.as_array()?.iter().find_map(|m| {
                let t = m.get("type")?.as_str()?;
                t.ends_with(kind).then(|| dir.join(m.get("path").and_then(|p| p.as_str()).unwrap_or("")))
            })
        };
        let pooling = match module_path("Pooling").and_then(|p| read_json(&p.join("config.json")).ok()) {
            Some(p) if p.get("pooling_mode_cls_token").and_then(|v| v.as_bool()) == Some(true) => Pooling::Cls,
            Some(p) if p.get("pooling_mode_max_tokens").and_then(|v| v.as_bool()) == Some(true) => Pooling::Max,
            _ => Pooling::Mean,
        };
        let normalize = module_path("Normalize").is_some();
        let tokenizer = tokenizer_with(&dir.join("tokenizer.json"), max_len)?;
        let encoder = BertEncoder::load(dir)?.with_precision(precision);
        let weights = dir.join("model.safetensors");
        let identity = match std::fs::metadata(&weights) {
            Ok(m) => {
                format!("{}:{}", dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(), m.len())
            }
            Err(_) => dir.display().to_string(),
        };
        Ok(SentenceEncoder {
            tokenizer,
            encoder: Box::new(encoder),
            pooling,
            normalize,
            max_len,
            batch_tokens: 8192,
            identity,
            precision,
        })
    }

    /// The precision the encoder was loaded with (its layers run in [`gleaner_nn::effective`]
    /// of it).
    pub fn precision(&self) -> gleaner_nn::Precision {
        self.precision
    }

    /// Token ids of each text (truncated, with special tokens).
    ///
    /// Works in chunks of 4,096 texts and keeps only the ids: a full `Encoding` (tokens,
    /// offsets, masks) of every text at once would cost several times the embedding matrix.
    pub fn tokenize(&self, texts: &[String]) -> Result<Vec<Vec<u32>>> {
        let mut out = Vec::with_capacity(texts.len());
        for chunk in texts.chunks(4096) {
            let enc = self
                .tokenizer
                .encode_batch(chunk.to_vec(), true)
                .map_err(|e| Error::Other(format!("tokenizer: {e}")))?;
            out.extend(enc.into_iter().map(|e| e.get_ids().to_vec()));
        }
        Ok(out)
    }

    /// Encodes pre-tokenised texts into pooled vectors (input order).
    pub fn embed_ids(&self, ids: &[Vec<u32>], progress: &(dyn Fn(usize) + Sync)) -> Vec<f32> {
        let d = self.encoder.hidden();
        let n = ids.len();
        let mut out = vec![0.0f32; n * d];
        // Longest first: similar lengths share a batch, and the big ones go first so the
        // progress rate settles early.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(ids[i].len()));
        let mut done = 0;
        let mut start = 0;
        while start < n {
            let mut end = start;
            let mut tokens = 0;
            while end < n && (end == start || tokens + ids[order[end]].len() <= self.batch_tokens) {
                tokens += ids[order[end]].len();
                end += 1;
            }
            let batch = &order[start..end];
            let packed = Packed::from_lengths(batch.iter().map(|&i| ids[i].len()));
            let flat: Vec<u32> = batch.iter().flat_map(|&i| ids[i].iter().copied()).collect();
            let hidden = self.encoder.encode(&flat, &packed);
            for (b, &i) in batch.iter().enumerate() {
                let r = packed.range(b);
                let dst = &mut out[i * d..(i + 1) * d];
                pool(&hidden[r.start * d..r.end * d], d, self.pooling, dst);
                if self.normalize {
                    gleaner_nn::ops::l2_normalize(dst, d);
                }
            }
            done += batch.len();
            progress(done);
            start = end;
        }
        out
    }
}

fn pool(states: &[f32], d: usize, mode: Pooling, dst: &mut [f32]) {
    let rows = states.len() / d;
    match mode {
        Pooling::Cls => dst.copy_from_slice(&states[..d]),
        Pooling::Mean => {
            dst.fill(0.0);
            for r in states.chunks(d) {
                for (a, b) in dst.iter_mut().zip(r) {
                    *a += *b;
                }
            }
            let inv = 1.0 / rows.max(1) as f32;
            dst.iter_mut().for_each(|v| *v *= inv);
        }
        Pooling::Max => {
            dst.fill(f32::NEG_INFINITY);
            for r in states.chunks(d) {
                for (a, b) in dst.iter_mut().zip(r) {
                    *a = a.max(*b);
                }
            }
        }
    }
}

impl Embedder for SentenceEncoder {
    fn dim(&self) -> usize {
        self.encoder.hidden()
    }

    fn embed(&self, texts: &[String], progress: &(dyn Fn(usize) + Sync)) -> Result<Vec<f32>> {
        let ids = self.tokenize(texts)?;
        Ok(self.embed_ids(&ids, progress))
    }

    fn identity(&self) -> String {
        self.identity.clone()
    }
}
