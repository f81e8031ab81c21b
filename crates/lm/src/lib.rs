//! # gleaner-lm
//!
//! Causal language models on the CPU for IFD / perplexity scoring: load a model, then get the
//! negative log-likelihood of every scored token of many sequences at once.
//!
//! - [`load`] opens a `.gguf` file (architectures `llama` — SmolLM2, Llama, Mistral GGUFs —
//!   and `gemma3`) or an HF directory (`config.json` `model_type` `gpt2`, `llama`, `mistral`,
//!   `qwen2`, `gemma3_text`) and pairs the model with its [`LmTokenizer`]. GGUF files carry
//!   no `tokenizer.json`; the tokenizer is rebuilt from the GGUF metadata
//!   ([`tokenizer::from_gguf`]).
//! - [`CausalLm::nll`] runs length-sorted sequences in *packed* batches (no padding, each
//!   sequence attends only to itself) and computes the LM head and log-softmax **only at the
//!   positions that are scored**: for IFD that skips the prompt rows of the vocabulary
//!   projection, which is ~20% of a small model's FLOPs per row.
//! - [`CausalLm::prompt_embedding`] is the mean of the last hidden states over all tokens,
//!   taken **after** the final norm (HF `output_hidden_states[-1]` for Llama / GPT-2), as
//!   Cherry's pre-experience step uses (docs/methods.md §2.3).
//!
//! ## Exactness
//!
//! All weights are dequantised to f32 at load. [`load`] gives the exact mode: matrix products
//! run on the `gemm` crate in f32. [`load_with`] takes another [`Precision`] for every dense
//! product of the model (blocks and LM head): AMX bf16 tiles where the CPU has them, f32
//! otherwise ([`gleaner_nn::effective`]). In the exact mode, against HF transformers' fp32
//! forward on the same (dequantised) weights, per-token NLLs agree to about 1e-4 (see the
//! crate's parity tests for the measured maxima). llama.cpp quantises activations to Q8 in its
//! matmuls and differs from both by 0.005–0.08 nats of mean NLL (docs/models.md), so llama.cpp
//! numbers are *not* the reference for this path.
//!
//! Rotary layouts: GGUF llama Q/K rows are permuted by llama.cpp's converter, so GGUF llama
//! uses GGML's adjacent-pair ("normal") rotation; HF checkpoints and Gemma use rotate-half.

mod attn;
mod decoder;
pub mod gguf;
mod gpt2;
mod kernels;
mod prof;
mod score;
pub mod tokenizer;

pub use attn::RopeStyle;
pub use decoder::{Decoder, DecoderConfig};
pub use gpt2::{Gpt2, Gpt2Config};
pub use tokenizer::LmTokenizer;

use gleaner_core::{Error, Result};
use gleaner_nn::Precision;
use score::Backbone;
use std::path::{Path, PathBuf};

/// A causal language model that scores token sequences.
///
/// Implementations are immutable after loading and internally parallel (rayon); call them
/// from one thread with large batches rather than from many threads.
pub trait CausalLm: Send + Sync {
    /// Vocabulary size (the LM head's rows; token ids must be below it).
    fn vocab(&self) -> usize;
    /// Hidden size (length of [`prompt_embedding`](Self::prompt_embedding) vectors).
    fn hidden(&self) -> usize;
    /// Begin-of-sequence token id, if the model has one.
    fn bos(&self) -> Option<u32>;
    /// End-of-sequence token id, if the model has one.
    fn eos(&self) -> Option<u32>;
    /// Context length: a hard limit for learned positions (GPT-2), the trained context for
    /// rotary models (longer sequences still run).
    fn max_positions(&self) -> usize;
    /// Per-token NLL. For sequence `i`, entry `j` is the NLL (natural log) of token
    /// `score_from[i] + j`, predicted from position `score_from[i] + j − 1`, for every token
    /// up to the end: `seqs[i].len() − score_from[i]` entries (none when
    /// `score_from[i] ≥ len`). `score_from` should be ≥ 1; token 0 has no prediction and
    /// gets NaN. A sequence with an out-of-vocabulary id or longer than a hard position limit
    /// gets all NaN. Sequences are processed in length-sorted packed batches; the vocabulary
    /// projection runs only at scored positions.
    fn nll(&self, seqs: &[&[u32]], score_from: &[usize]) -> Vec<Vec<f32>>;
    /// Mean of the last layer's hidden states over all tokens of each sequence (BOS
    /// included if present), after the final norm, as HF's `hidden_states[-1]`. Empty or
    /// invalid sequences give NaN vectors.
    fn prompt_embedding(&self, seqs: &[&[u32]]) -> Vec<Vec<f32>>;
    /// A stable identity for manifests: architecture, file name, size and a content hash
    /// (plus `:layers=N` after [`CausalLm::keep_layers`]).
    fn identity(&self) -> String;
    /// Transformer blocks.
    fn layers(&self) -> usize;
    /// Keeps only the first `n` blocks, so that [`CausalLm::prompt_embedding`] gives the
    /// (final-normed) hidden state after block `n`. The LM-head outputs ([`CausalLm::nll`])
    /// of a truncated model are not the model's predictions.
    fn keep_layers(&mut self, n: usize) -> Result<()>;
    /// Parameters held (f32 values): embeddings, kept blocks, final norm, untied LM head.
    fn parameters(&self) -> usize;
    /// The precision the model was loaded with ([`load_with`]; f32 for [`load`]). Its dense
    /// products run in [`gleaner_nn::effective`] of it.
    fn precision(&self) -> Precision;
}

/// Wall time per forward phase summed over all calls so far, when the environment variable
/// `GLEANER_LM_PROFILE=1` is set (all zeros otherwise). For profiling only.
pub fn profile_report() -> Vec<(&'static str, f64)> {
    prof::report()
}

/// A [`Backbone`] plus identity: the concrete [`CausalLm`].
struct Model<B: Backbone> {
    b: B,
    /// Identity of the model file; [`CausalLm::identity`] adds `:layers=N` when blocks were dropped.
    identity: String,
    bos: Option<u32>,
    eos: Option<u32>,
    context: usize,
}

impl<B: Backbone> CausalLm for Model<B> {
    fn vocab(&self) -> usize {
        self.b.vocab()
    }
    fn hidden(&self) -> usize {
        self.b.hidden()
    }
    fn bos(&self) -> Option<u32> {
        self.bos
    }
    fn eos(&self) -> Option<u32> {
        self.eos
    }
    fn max_positions(&self) -> usize {
        self.context
    }
    fn nll(&self, seqs: &[&[u32]], score_from: &[usize]) -> Vec<Vec<f32>> {
        score::nll(&self.b, seqs, score_from)
    }
    fn prompt_embedding(&self, seqs: &[&[u32]]) -> Vec<Vec<f32>> {
        score::mean_hidden(&self.b, seqs)
    }
    fn identity(&self) -> String {
        let kept = self.b.layers();
        if kept < self.b.declared_layers() { format!("{}:layers={kept}", self.identity) } else { self.identity.clone() }
    }
    fn layers(&self) -> usize {
        self.b.layers()
    }
    fn keep_layers(&mut self, n: usize) -> Result<()> {
        let have = self.b.layers();
        if n == 0 || n > have {
            return Err(Error::model(&self.identity, format!("cannot keep {n} of its {have} layers")));
        }
        self.b.keep_layers(n);
        Ok(())
    }
    fn parameters(&self) -> usize {
        self.b.parameters()
    }
    fn precision(&self) -> Precision {
        self.b.precision()
    }
}

/// A loaded model and its tokenizer.
pub struct LoadedLm {
    /// The model.
    pub model: Box<dyn CausalLm>,
    /// Its tokenizer (BOS policy included).
    pub tokenizer: LmTokenizer,
}

impl std::fmt::Debug for LoadedLm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedLm").field("model", &self.model.identity()).field("tokenizer", &self.tokenizer).finish()
    }
}

/// Hash of the file size, the first and the last MiB: cheap and stable for large files.
fn content_hash(h: &mut xxhash_rust::xxh3::Xxh3, path: &Path) -> Result<u64> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let len = f.metadata().map_err(|e| Error::io(path, e))?.len();
    h.update(&len.to_le_bytes());
    let n = (1u64 << 20).min(len) as usize;
    let mut buf = vec![0u8; n];
    f.read_exact(&mut buf).map_err(|e| Error::io(path, e))?;
    h.update(&buf);
    f.seek(SeekFrom::Start(len - n as u64)).map_err(|e| Error::io(path, e))?;
    f.read_exact(&mut buf).map_err(|e| Error::io(path, e))?;
    h.update(&buf);
    Ok(len)
}

fn file_name(p: &Path) -> String {
    p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| p.display().to_string())
}

/// Loads a GGUF file: the model (weights dequantised to f32, products in f32) and the
/// tokenizer from its metadata.
pub fn load_gguf(path: &Path) -> Result<LoadedLm> {
    load_gguf_blocks(path, None, Precision::F32)
}

/// [`load_gguf`] keeping only the first `keep` blocks (see [`CausalLm::keep_layers`]), with
/// products in `precision`; the other blocks are never dequantised, so memory follows the
/// kept part.
fn load_gguf_blocks(path: &Path, keep: Option<usize>, precision: Precision) -> Result<LoadedLm> {
    let g = gguf::GgufFile::open(path)?;
    let tokenizer = tokenizer::from_gguf(&g)?;
    let mut dec = Decoder::from_gguf_blocks(&g, keep)?;
    dec.set_precision(precision);
    if tokenizer.inner().get_vocab_size(true) > dec.cfg.vocab {
        return Err(Error::model(path.display().to_string(), "tokenizer vocabulary is larger than the model's"));
    }
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    let len = content_hash(&mut h, path)?;
    let identity = format!("gguf:{}:{}:{}:{:016x}", dec.cfg.arch, file_name(path), len, h.digest());
    let (bos, eos, context) = (dec.cfg.bos, dec.cfg.eos, dec.cfg.context);
    Ok(LoadedLm { model: Box::new(Model { b: dec, identity, bos, eos, context }), tokenizer })
}

/// Loads an HF model directory: `config.json` (`model_type` gpt2, llama, mistral, qwen2,
/// gemma3_text), `*.safetensors` and `tokenizer.json`; products in f32.
pub fn load_dir(dir: &Path) -> Result<LoadedLm> {
    load_dir_with(dir, Precision::F32)
}

/// [`load_dir`] with products in `precision`.
fn load_dir_with(dir: &Path, precision: Precision) -> Result<LoadedLm> {
    let cfg_path = dir.join("config.json");
    let cfg = gleaner_nn::weights::read_json(&cfg_path)?;
    let mt = cfg.get("model_type").and_then(|v| v.as_str()).unwrap_or("").to_string();
    let tok_path = dir.join("tokenizer.json");
    if !tok_path.is_file() {
        return Err(Error::model(dir.display().to_string(), "no tokenizer.json in the model directory"));
    }
    let tokenizer = LmTokenizer::from_file(&tok_path)?;
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(&std::fs::read(&cfg_path).map_err(|e| Error::io(&cfg_path, e))?);
    let mut weights: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(|e| Error::io(dir, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "safetensors"))
        .collect();
    weights.sort();
    let mut size = 0;
    for w in &weights {
        h.update(file_name(w).as_bytes());
        size += content_hash(&mut h, w)?;
    }
    let identity = format!("hf:{mt}:{}:{}:{:016x}", file_name(dir), size, h.digest());
    let model: Box<dyn CausalLm> = match mt.as_str() {
        "gpt2" => {
            let mut m = Gpt2::load(dir, &cfg)?;
            m.set_precision(precision);
            let (bos, eos, context) = (m.cfg.bos, m.cfg.eos, m.cfg.positions);
            Box::new(Model { b: m, identity, bos, eos, context })
        }
        "llama" | "mistral" | "qwen2" | "gemma3_text" | "gemma3" => {
            let mut m = Decoder::from_safetensors(dir, &cfg)?;
            m.set_precision(precision);
            let (bos, eos, context) = (m.cfg.bos, m.cfg.eos, m.cfg.context);
            Box::new(Model { b: m, identity, bos, eos, context })
        }
        other => {
            return Err(Error::model(
                dir.display().to_string(),
                format!("unsupported model_type `{other}` (supported: gpt2, llama, mistral, qwen2, gemma3_text)"),
            ));
        }
    };
    if tokenizer.inner().get_vocab_size(true) > model.vocab() {
        return Err(Error::model(dir.display().to_string(), "tokenizer vocabulary is larger than the model's"));
    }
    Ok(LoadedLm { model, tokenizer })
}

/// Loads a causal LM from a `.gguf` file, an HF directory with `config.json`, or a directory
/// holding exactly one `.gguf` file, in the exact mode ([`Precision::F32`]).
pub fn load(path: &Path) -> Result<LoadedLm> {
    load_blocks(path, None, Precision::F32)
}

/// [`load`] with every dense product of the model (blocks and LM head) in `precision`; bf16
/// precisions run in f32 where AMX is missing ([`gleaner_nn::effective`]).
pub fn load_with(path: &Path, precision: Precision) -> Result<LoadedLm> {
    load_blocks(path, None, precision)
}

/// [`load_with`] keeping only the first `keep` blocks (all when `None`), as
/// [`CausalLm::keep_layers`] does; GGUF models then never dequantise the other blocks.
pub fn load_blocks(path: &Path, keep: Option<usize>, precision: Precision) -> Result<LoadedLm> {
    let name = path.display().to_string();
    let keep_after = |m: Result<LoadedLm>| -> Result<LoadedLm> {
        let mut m = m?;
        if let Some(n) = keep {
            m.model.keep_layers(n)?;
        }
        Ok(m)
    };
    if path.is_file() {
        return if path.extension().is_some_and(|e| e.eq_ignore_ascii_case("gguf")) {
            load_gguf_blocks(path, keep, precision)
        } else {
            Err(Error::model(name, "not a .gguf file or a model directory"))
        };
    }
    if !path.is_dir() {
        return Err(Error::model(name, "no such file or directory"));
    }
    if path.join("config.json").is_file() {
        return keep_after(load_dir_with(path, precision));
    }
    let ggufs: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| Error::io(path, e))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("gguf")))
        .collect();
    match ggufs.as_slice() {
        [one] => load_gguf_blocks(one, keep, precision),
        [] => Err(Error::model(name, "directory has neither config.json nor a .gguf file")),
        _ => Err(Error::model(name, "directory has several .gguf files; name one")),
    }
}
