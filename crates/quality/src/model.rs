//! The model file: a self-describing JSON document, and scoring with it.

use crate::features;
use crate::linear::Mat;
use crate::text;
use gleaner_core::{Error, Record, Result};
use gleaner_embed::Embedder;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// `format` value of every gleaner quality model file.
pub const FORMAT: &str = "gleaner-quality";
/// `kind` of the (only) model kind so far: a linear scorer trained with a pairwise loss.
pub const KIND_LINEAR: &str = "linear-pairwise";
/// The file-format version this crate writes and reads.
pub const VERSION: u32 = 1;
/// The text-statistics recipe name (see [`features::TEXT_V1`]).
pub const TEXT_RECIPE: &str = "text-v1";

/// The shipped default model (`--model default`), trained by `gleaner train quality` on CaR's
/// expert-revised training split (see `research/quality/README.md` for the command).
pub const DEFAULT_MODEL_JSON: &str = include_str!("../assets/default.json");

/// A text the sentence embedder sees; every text is normalised with
/// [`text::unescape_artifacts`] first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum View {
    /// The response alone.
    Response,
    /// The instruction and input, joined by a space (trimmed).
    Prompt,
    /// CaR's `"Instruction: I Input: X Response: O"` string.
    Car,
    /// The record as a ChatML conversation, `<|im_start|>user\nI[\nX]<|im_end|>\n<|im_start|>assistant\nO<|im_end|>\n`
    /// (the chat format of instruct LMs such as SmolLM2-Instruct).
    Chat,
}

impl View {
    /// Every view, in a fixed order.
    pub const ALL: [View; 4] = [View::Response, View::Prompt, View::Car, View::Chat];

    /// The view's name in model files and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            View::Response => "response",
            View::Prompt => "prompt",
            View::Car => "car",
            View::Chat => "chat",
        }
    }

    /// Parses a [`View::name`].
    pub fn parse(s: &str) -> Option<View> {
        View::ALL.into_iter().find(|v| v.name() == s)
    }

    /// Renders normalised `(instruction, input, output)` parts as this view's text.
    pub fn render(self, parts: &(String, String, String)) -> String {
        let (i, x, o) = parts;
        match self {
            View::Response => o.clone(),
            View::Prompt => format!("{i} {x}").trim().to_string(),
            View::Car => text::car_layout(i, x, o),
            View::Chat => {
                let user = if x.is_empty() { i.clone() } else { format!("{i}\n{x}") };
                format!("<|im_start|>user\n{user}<|im_end|>\n<|im_start|>assistant\n{o}<|im_end|>\n")
            }
        }
    }
}

/// The frozen embedder a model was trained with: a sentence encoder, or (with `lm_layers`)
/// the first layers of a causal LM.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbedderSpec {
    /// Model name, resolved with `gleaner-models` (e.g. `all-MiniLM-L6-v2`,
    /// `SmolLM2-135M-Instruct`).
    pub name: String,
    /// Embedding width.
    pub dim: usize,
    /// The embedder's identity at training time (name and weight-file size).
    pub identity: String,
    /// A causal LM truncated to its first `lm_layers` blocks: the text's embedding is the mean
    /// over its tokens of the (final-normed) hidden state after the last kept block. Absent:
    /// the embedder is a sentence encoder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lm_layers: Option<usize>,
    /// Tokens per text the LM sees (longer texts are cut); LM embedders only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<usize>,
}

/// How a record becomes a feature vector: the embedded views (each `dim` wide, in order),
/// then the text statistics.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureRecipe {
    /// Embedded views, in feature order.
    pub views: Vec<View>,
    /// Text-statistics recipe (`text-v1`).
    pub text: String,
    /// Names of the text statistics (must equal the recipe's, checked at load).
    pub text_names: Vec<String>,
}

impl FeatureRecipe {
    /// The given views plus `text-v1`.
    pub fn with_views(views: Vec<View>) -> FeatureRecipe {
        FeatureRecipe {
            views,
            text: TEXT_RECIPE.into(),
            text_names: features::TEXT_V1.iter().map(|s| s.to_string()).collect(),
        }
    }

    /// Feature count for an embedder of width `dim`.
    pub fn width(&self, dim: usize) -> usize {
        self.views.len() * dim + self.text_names.len()
    }

    /// Builds the `records.len() × width` feature matrix. `progress` gets the number of
    /// texts embedded so far across all views.
    pub fn build(&self, records: &[Record], embedder: &dyn Embedder, progress: &(dyn Fn(usize) + Sync)) -> Result<Mat> {
        let dim = embedder.dim();
        let parts: Vec<(String, String, String)> = records.iter().map(text::record_parts).collect();
        let width = self.width(dim);
        let mut m = Mat::zeros(records.len(), width);
        for (v, view) in self.views.iter().enumerate() {
            let texts: Vec<String> = parts.iter().map(|p| view.render(p)).collect();
            let base = v * records.len();
            let e = embedder.embed(&texts, &|n| progress(base + n))?;
            if e.len() != records.len() * dim {
                return Err(Error::Other(format!(
                    "embedder returned {} values for {} texts of width {dim}",
                    e.len(),
                    records.len()
                )));
            }
            for (i, row) in e.chunks(dim).enumerate() {
                let dst = &mut m.data[i * width + v * dim..i * width + (v + 1) * dim];
                for (d, s) in dst.iter_mut().zip(row) {
                    *d = f64::from(*s);
                }
            }
        }
        let off = self.views.len() * dim;
        for (i, (ins, inp, out)) in parts.iter().enumerate() {
            let t = features::text_v1(ins, inp, out);
            m.data[i * width + off..(i + 1) * width].copy_from_slice(&t);
        }
        Ok(m)
    }
}

/// How the model was trained (informational; not used for scoring).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TrainingInfo {
    /// Training pairs.
    pub pairs: usize,
    /// The chosen L2 penalty.
    pub lambda: f64,
    /// Cross-validated pairwise accuracy per candidate penalty, `[lambda, mean accuracy]`.
    pub cv: Vec<[f64; 2]>,
    /// Folds of the cross-validation.
    pub folds: usize,
    /// Seed of the fold assignment.
    pub seed: u64,
    /// Pairwise accuracy on a validation file, when one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub valid_accuracy: Option<f64>,
    /// Free-form note: data source and command.
    #[serde(default)]
    pub note: String,
}

/// A gleaner quality model: `score(r) = Σ_j w_j (x_j(r) − mean_j) / scale_j`, where `x(r)` is
/// the [`FeatureRecipe`]'s vector of record `r`. Higher is better; the scale is a log-odds
/// margin (the difference of two scores is the model's logit that the first is better).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    /// Always [`FORMAT`].
    pub format: String,
    /// Model kind ([`KIND_LINEAR`]).
    pub kind: String,
    /// File-format version ([`VERSION`]).
    pub version: u32,
    /// The sentence embedder.
    pub embedder: EmbedderSpec,
    /// The feature recipe.
    pub features: FeatureRecipe,
    /// Training facts.
    pub training: TrainingInfo,
    /// Per-feature centre.
    pub mean: Vec<f64>,
    /// Per-feature scale (standard deviation + 1e-6).
    pub scale: Vec<f64>,
    /// Per-feature weight on the standardised feature.
    pub weights: Vec<f64>,
}

impl Model {
    /// Parameter count of the trained head (weights + standardisation), excluding the frozen
    /// embedder.
    pub fn head_parameters(&self) -> usize {
        self.weights.len() + self.mean.len() + self.scale.len()
    }

    /// Parses and checks a model document; `name` labels errors.
    pub fn from_json(name: &str, text: &str) -> Result<Model> {
        let v: serde_json::Value =
            serde_json::from_str(text).map_err(|e| Error::model(name, format!("not JSON: {e}")))?;
        match v.get("format").and_then(|f| f.as_str()) {
            Some(FORMAT) => {}
            Some(other) => return Err(Error::model(name, format!("format is {other:?}, expected {FORMAT:?}"))),
            None => return Err(Error::model(name, format!("not a {FORMAT} model file (no \"format\" field)"))),
        }
        let m: Model = serde_json::from_value(v).map_err(|e| Error::model(name, format!("bad model file: {e}")))?;
        m.check(name)?;
        Ok(m)
    }

    /// Whether `text` looks like a model document (has `"format": "gleaner-quality"`).
    pub fn is_model_json(text: &str) -> bool {
        serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|v| v.get("format").and_then(|f| f.as_str()).map(|f| f == FORMAT))
            .unwrap_or(false)
    }

    fn check(&self, name: &str) -> Result<()> {
        if self.kind != KIND_LINEAR {
            return Err(Error::model(name, format!("unsupported model kind {:?}", self.kind)));
        }
        if self.version != VERSION {
            return Err(Error::model(name, format!("model version {} (this gleaner reads {VERSION})", self.version)));
        }
        if self.features.text != TEXT_RECIPE
            || self.features.text_names.iter().map(String::as_str).ne(features::TEXT_V1)
        {
            return Err(Error::model(name, format!("unknown text-feature recipe {:?}", self.features.text)));
        }
        let p = self.features.width(self.embedder.dim);
        for (what, v) in [("weights", &self.weights), ("mean", &self.mean), ("scale", &self.scale)] {
            if v.len() != p {
                return Err(Error::model(name, format!("{what} has {} values, the recipe needs {p}", v.len())));
            }
            if v.iter().any(|x| !x.is_finite()) {
                return Err(Error::model(name, format!("{what} has a non-finite value")));
            }
        }
        if self.scale.iter().any(|&s| s <= 0.0) {
            return Err(Error::model(name, "scale has a non-positive value"));
        }
        Ok(())
    }

    /// Loads a model file.
    pub fn load(path: &Path) -> Result<Model> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        Model::from_json(&path.display().to_string(), &text)
    }

    /// The shipped default model.
    pub fn default_model() -> Result<Model> {
        Model::from_json("default", DEFAULT_MODEL_JSON)
    }

    /// Loads `default` (the shipped model) or a model file path.
    pub fn load_named(name_or_path: &str) -> Result<Model> {
        if name_or_path == "default" { Model::default_model() } else { Model::load(Path::new(name_or_path)) }
    }

    /// Writes the model as pretty JSON (one number per line is avoided: arrays stay compact).
    pub fn save(&self, path: &Path) -> Result<()> {
        let text = self.to_json();
        std::fs::write(path, text).map_err(|e| Error::io(path, e))
    }

    /// The model document.
    pub fn to_json(&self) -> String {
        // serde_json's pretty printer puts every array element on its own line; the header
        // stays readable and the weight arrays compact with this two-step layout.
        let mut head = serde_json::to_value(self).expect("model serialises");
        let obj = head.as_object_mut().expect("object");
        let mut tail = String::new();
        for key in ["mean", "scale", "weights"] {
            let v = obj.remove(key).expect("field");
            tail.push_str(&format!(",\n  \"{key}\": {}", serde_json::to_string(&v).expect("array")));
        }
        let head = serde_json::to_string_pretty(&head).expect("model serialises");
        let head = head.strip_suffix("\n}").unwrap_or(&head);
        format!("{head}{tail}\n}}\n")
    }

    /// A short stable identity for manifests: kind, recipe and a hash of the weights.
    pub fn identity(&self) -> String {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for x in self.weights.iter().chain(&self.mean).chain(&self.scale) {
            for b in x.to_bits().to_le_bytes() {
                h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        let views: Vec<&str> = self.features.views.iter().map(|v| v.name()).collect();
        format!("{FORMAT}:{}:{}+{}:{}:{h:016x}", self.kind, views.join("+"), self.features.text, self.embedder.name)
    }

    /// Scores standardised-on-the-fly feature rows.
    pub fn score_features(&self, x: &Mat) -> Vec<f64> {
        (0..x.rows)
            .map(|i| {
                x.row(i)
                    .iter()
                    .zip(&self.mean)
                    .zip(&self.scale)
                    .zip(&self.weights)
                    .map(|(((v, m), s), w)| w * (v - m) / s)
                    .sum()
            })
            .collect()
    }

    /// Scores records with `embedder` (which must be the model's embedder; its width is
    /// checked).
    pub fn score(
        &self,
        records: &[Record],
        embedder: &dyn Embedder,
        progress: &(dyn Fn(usize) + Sync),
    ) -> Result<Vec<f64>> {
        if embedder.dim() != self.embedder.dim {
            return Err(Error::model(
                &self.embedder.name,
                format!("embedder width {} but the quality model expects {}", embedder.dim(), self.embedder.dim),
            ));
        }
        let views = self.features.views.len().max(1);
        let x = self.features.build(records, embedder, &|done| progress(done / views))?;
        Ok(self.score_features(&x))
    }
}
