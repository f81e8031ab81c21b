//! # gleaner-embed
//!
//! Sentence embeddings on a CPU.
//!
//! - [`BertEncoder`]: a BERT / RoBERTa / XLM-R encoder forward over *packed* sequences (no
//!   padding), built on `gleaner-nn`. It can hand every layer's hidden states to a callback,
//!   which the IQS quality scorer uses for its layer mix.
//! - [`SentenceEncoder`]: a sentence-transformers model directory (encoder + pooling +
//!   optional normalisation + `max_seq_length`), implementing [`Embedder`].
//! - [`Embedder`]: the stage trait. Texts go in, one row per text comes out, in input order.
//!   Batches are formed from length-sorted texts under a token budget.
//!
//! The backend is chosen behind the [`Encoder`] trait, so an accelerated backend (GPU, ONNX
//! Runtime) can be added behind a cargo feature without touching callers.

mod bert;
mod sentence;

pub use bert::{BertConfig, BertEncoder, PositionStyle};
pub use sentence::{Pooling, SentenceEncoder};

use gleaner_core::Result;

/// A token-level encoder: packed token ids in, last hidden states out.
pub trait Encoder: Send + Sync {
    /// Hidden size.
    fn hidden(&self) -> usize;
    /// Encodes packed sequences; returns `rows × hidden` last-layer states.
    fn encode(&self, ids: &[u32], packed: &gleaner_nn::Packed) -> Vec<f32>;
}

/// The embedding stage: texts in, `n × dim` row-major vectors out, in input order.
pub trait Embedder: Send + Sync {
    /// Embedding width.
    fn dim(&self) -> usize;
    /// Embeds texts. `progress` is called with the number of texts finished so far.
    fn embed(&self, texts: &[String], progress: &(dyn Fn(usize) + Sync)) -> Result<Vec<f32>>;
    /// A stable identity of the model (for side-file manifests).
    fn identity(&self) -> String;
}
