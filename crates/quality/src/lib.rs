//! # gleaner-quality
//!
//! gleaner's own expert-aligned instruction-quality scorer, a small stand-in for CaR's IQS
//! model (XLM-R-large, 560M parameters) that trains on a CPU in minutes.
//!
//! ## Model
//!
//! A record (instruction, input, output) becomes a feature vector:
//!
//! 1. a frozen embedding of each configured [`View`] (by default the response alone): by
//!    default the mean hidden state after the first 4 blocks of SmolLM2-135M-Instruct
//!    ([`LmEmbedder`], 42.5M parameters, 512 tokens); or a sentence encoder such as
//!    all-MiniLM-L6-v2 (22.7M parameters, mean-pooled, L2-normalised, 256 tokens), the
//!    recipe of earlier defaults;
//! 2. 19 cheap text statistics ([`features::TEXT_V1`]): length, layout and surface hygiene of
//!    the response, and how much of the prompt it takes up.
//!
//! The score is linear in the standardised features, `Σ_j w_j (x_j − mean_j) / scale_j`,
//! trained with a pairwise logistic (RankNet) loss on (worse, better) pairs — CaR's
//! expert-revised data pairs GPT's original answer with a linguist's revision — with an L2
//! penalty chosen by k-fold cross-validation over the training pairs. The fit is Newton's
//! method with a Cholesky solve: deterministic, no learning rate, no random initialisation.
//!
//! Every text goes through [`text::unescape_artifacts`] first: the original rows of CaR's
//! data carry literal JSON escapes (`\n`, `\"`) that the revised rows do not, a formatting
//! artefact a scorer would otherwise learn.
//!
//! ## Model file
//!
//! A self-describing JSON document ([`Model`]):
//!
//! ```json
//! {
//!   "format": "gleaner-quality", "kind": "linear-pairwise", "version": 1,
//!   "embedder": {"name": "SmolLM2-135M-Instruct", "dim": 576, "identity": "gguf:llama:…:layers=4:max_tokens=512",
//!                "lm_layers": 4, "max_tokens": 512},
//!   "features": {"views": ["response"], "text": "text-v1", "text_names": ["log_chars", …]},
//!   "training": {"pairs": 2032, "lambda": 10.0, "cv": [[3.0, 0.8981], …], "folds": 5, "seed": 0, …},
//!   "mean": [...], "scale": [...], "weights": [...]
//! }
//! ```
//!
//! The shipped default ([`Model::default_model`], `--model default`) is embedded in the
//! binary from `assets/default.json`.
//!
//! ## Use
//!
//! - [`read_pairs_csv`] reads CaR's `src,score` or `src,pos,neg` files into [`Pair`]s;
//! - [`train()`] embeds and fits ([`train_files`] is the whole recipe of `gleaner train
//!   quality`); [`evaluate`] gives the pairwise accuracy on other pairs;
//! - [`Scorer`] (a model plus its loaded embedder) scores [`gleaner_core::Record`]s.

pub mod csv;
pub mod features;
pub mod linear;
pub mod lm_embed;
pub mod model;
pub mod text;
pub mod train;

pub use lm_embed::LmEmbedder;
pub use model::{DEFAULT_MODEL_JSON, EmbedderSpec, FeatureRecipe, Model, TrainingInfo, View};
pub use train::{
    Pair, TrainOptions, TrainReport, evaluate, fit_features, pairwise_accuracy, read_pairs_csv, train, train_files,
};

use gleaner_core::{Record, Result};
use gleaner_embed::{Embedder, SentenceEncoder};
use gleaner_nn::Precision;

/// The causal LM of the default recipe.
pub const DEFAULT_LM: &str = "SmolLM2-135M-Instruct";
/// Blocks of [`DEFAULT_LM`] the default recipe keeps.
pub const DEFAULT_LM_LAYERS: usize = 4;
/// Tokens per text of the default recipe.
pub const DEFAULT_MAX_TOKENS: usize = 512;

/// Loads a frozen embedder by name: the first `lm_layers` blocks of a causal LM (texts cut to
/// `max_tokens`, default [`DEFAULT_MAX_TOKENS`]), or, without `lm_layers`, a sentence encoder
/// (`batch_tokens` sets its batch size). Its dense layers run in `precision`;
/// [`Precision::F32`] is the arithmetic models are trained with and the one to pass by default.
pub fn load_embedder(
    name: &str,
    lm_layers: Option<usize>,
    max_tokens: Option<usize>,
    batch_tokens: Option<usize>,
    precision: Precision,
) -> Result<Box<dyn Embedder>> {
    if let Some(layers) = lm_layers {
        return Ok(Box::new(LmEmbedder::load(name, layers, max_tokens.unwrap_or(DEFAULT_MAX_TOKENS), precision)?));
    }
    let path = gleaner_models::resolve(name)?;
    let mut enc = SentenceEncoder::load_with(path.path(), precision)?;
    if let Some(b) = batch_tokens {
        enc.batch_tokens = b;
    }
    Ok(Box::new(enc))
}

/// A model together with its loaded sentence embedder.
pub struct Scorer {
    /// The model.
    pub model: Model,
    embedder: Box<dyn Embedder>,
}

impl Scorer {
    /// Pairs a model with an embedder (its width must match the model's).
    pub fn new(model: Model, embedder: Box<dyn Embedder>) -> Result<Scorer> {
        if embedder.dim() != model.embedder.dim {
            return Err(gleaner_core::Error::model(
                &model.embedder.name,
                format!("embedder width {} but the quality model expects {}", embedder.dim(), model.embedder.dim),
            ));
        }
        Ok(Scorer { model, embedder })
    }

    /// Loads the model's embedder by name (a path or a name `gleaner-models` resolves, e.g.
    /// from `~/.cache/gleaner/models`) in `precision` ([`Precision::F32`], the arithmetic the
    /// model was trained with, unless speed matters more than reproducing its scores).
    pub fn load(model: Model, precision: Precision) -> Result<Scorer> {
        let e = &model.embedder;
        let enc = load_embedder(&e.name, e.lm_layers, e.max_tokens, None, precision)?;
        Scorer::new(model, enc)
    }

    /// Scores records in order (higher is better). `progress` gets the rows done so far.
    pub fn score(&self, records: &[Record], progress: &(dyn Fn(usize) + Sync)) -> Result<Vec<f64>> {
        self.model.score(records, self.embedder.as_ref(), progress)
    }

    /// The embedder.
    pub fn embedder(&self) -> &dyn Embedder {
        self.embedder.as_ref()
    }

    /// Identity for side-file manifests (model and embedder).
    pub fn identity(&self) -> String {
        format!("{}@{}", self.model.identity(), self.embedder.identity())
    }
}
