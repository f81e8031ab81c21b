//! # gleaner-iqs
//!
//! Inference for CaR's Instruction Quality Scorer (IQS), a COMET `InstructionMetric`
//! regression model (docs/methods.md §1.3), loaded from its released on-disk format:
//!
//! - `DIR/hparams.yaml` (COMET hyper-parameters) and `DIR/checkpoints/*.ckpt` (a PyTorch
//!   Lightning checkpoint whose `state_dict` holds `encoder.model.*`, `layerwise_attention.*`
//!   and `estimator.ff.*`);
//! - the XLM-R `config.json` and `tokenizer.json`, from `pretrained_model` (a directory
//!   beside `hparams.yaml`, or any directory the caller resolves, e.g. from a local HF cache).
//!
//! The forward: the encoder with every hidden state (embeddings + each layer) → the scalar
//! mix `γ · Σ_k sparsemax(w)_k · H_k` → COMET average pooling (special tokens included; with
//! packed sequences there are no pads to zero) → the feed-forward head (Linear, activation,
//! …, Linear) → one unbounded score per record. Input strings are CaR's
//! `"Instruction: " ‖ I ‖ " Input: " ‖ X ‖ " Response: " ‖ O`, truncated to
//! `max_position_embeddings − 4` tokens (510 for XLM-R) including `<s>`/`</s>`.

mod model;
mod sparsemax;

pub use model::{Iqs, IqsConfig};
pub use sparsemax::sparsemax;
