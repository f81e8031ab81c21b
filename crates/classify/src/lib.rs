//! # gleaner-classify
//!
//! The lightweight classifiers that Low-Confidence Gold (LCG, docs/methods.md §4) trains on its
//! centroid pseudo-labels, and the confidence scores that rank the pool.
//!
//! - [`MultinomialNb`] — scikit-learn's
//!   `Pipeline([CountVectorizer(), MultinomialNB()])` with every default, reproduced exactly
//!   (same tokens, same sorted vocabulary, same `predict_proba` to ~1e-12 relative; the golden
//!   test uses 1e-9). Input: texts. The analyzer is in [`tokenize`].
//! - [`NeuralHead`] — a softmax (multinomial logistic regression) head, optionally with one
//!   ReLU hidden layer, trained with Adam on **frozen** sentence embeddings. It stands in for
//!   LCG's under-trained DistilBERT (no DistilBERT weights are available offline); its
//!   defaults (3 epochs, batch 16, small learning rate) keep the probabilities soft. Input: an
//!   `n × dim` embedding matrix ([`Embeddings`]).
//! - [`Classifier`] — the shared interface (`predict_proba`, `classes`, `save`, `load`), usable
//!   as `Box<dyn Classifier>`; [`Fit`] adds training. [`load`] opens any saved classifier by the
//!   `kind` in its header.
//! - [`confidence`] — the per-row confidence LCG ranks by: the maximum class probability
//!   ([`confidence::max_proba`], the default) or the top-1 − top-2 [`confidence::margin`].
//!
//! Class labels are `u32` ids (LCG's cluster ids); [`Classifier::classes`] lists them sorted
//! ascending, which is the column order of every [`Probabilities`] row (as scikit-learn's
//! `classes_`).
//!
//! ## Files
//!
//! [`Classifier::save`] writes one self-describing JSON file (see [`file`]): a header
//! `{"format": "gleaner-classifier", "kind": …, "version": …}` followed by the model. Loading a
//! file of the wrong kind or an unknown version returns [`gleaner_core::Error::Format`], never
//! a panic.
//!
//! ## Example
//!
//! ```
//! use gleaner_classify::{Classifier, Fit, Inputs, MultinomialNb, NbOptions, confidence};
//! let texts: Vec<String> = ["red apple", "green apple", "blue sky", "grey sky"]
//!     .iter().map(|s| s.to_string()).collect();
//! let labels = [0, 0, 1, 1];
//! let nb = MultinomialNb::fit(Inputs::Texts(&texts), &labels, &NbOptions::default())?;
//! let p = nb.predict_proba(Inputs::Texts(&["an apple".to_string()]))?;
//! assert!(p.row(0)[0] > p.row(0)[1]);
//! let conf = confidence::max_proba(&p);
//! assert!(conf[0] > 0.5);
//! # Ok::<(), gleaner_core::Error>(())
//! ```

#![warn(missing_docs)]

pub mod confidence;
pub mod file;
pub mod nb;
pub mod neural;
use gleaner_core::rng;
pub mod tokenize;

pub use confidence::Confidence;
pub use file::FileInfo;
pub use nb::{MultinomialNb, NbOptions};
pub use neural::{EpochStats, NeuralHead, NeuralOptions};

use gleaner_core::{Error, Result};
use std::path::Path;

/// A row-major `n × dim` matrix of `f32` embeddings (one row per text), borrowed.
#[derive(Debug, Clone, Copy)]
pub struct Embeddings<'a> {
    data: &'a [f32],
    dim: usize,
}

impl<'a> Embeddings<'a> {
    /// Wraps `data` as rows of `dim` values. Errors if `dim` is 0 or does not divide the length.
    pub fn new(data: &'a [f32], dim: usize) -> Result<Embeddings<'a>> {
        if dim == 0 {
            return Err(Error::Invalid("embedding dimension must be positive".into()));
        }
        if !data.len().is_multiple_of(dim) {
            return Err(Error::Invalid(format!(
                "embedding matrix has {} values, not a multiple of dimension {dim}",
                data.len()
            )));
        }
        Ok(Embeddings { data, dim })
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.data.len() / self.dim
    }

    /// Row width.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Row `i`.
    pub fn row(&self, i: usize) -> &'a [f32] {
        &self.data[i * self.dim..(i + 1) * self.dim]
    }

    /// The whole row-major buffer.
    pub fn data(&self) -> &'a [f32] {
        self.data
    }
}

/// Rows per block of [`Classifier::predict_confidence`].
pub const PREDICT_BLOCK: usize = 8192;

/// What a classifier consumes: texts ([`MultinomialNb`]) or embeddings ([`NeuralHead`]).
#[derive(Debug, Clone, Copy)]
pub enum Inputs<'a> {
    /// Raw texts (for LCG: `input + " " + instruction`).
    Texts(&'a [String]),
    /// One embedding row per text.
    Embeddings(Embeddings<'a>),
}

impl Inputs<'_> {
    /// Number of rows (texts or embedding rows).
    pub fn len(&self) -> usize {
        match self {
            Inputs::Texts(t) => t.len(),
            Inputs::Embeddings(e) => e.rows(),
        }
    }

    /// Whether there are no rows.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Rows `range` of the inputs.
    pub fn slice(&self, range: std::ops::Range<usize>) -> Self {
        match self {
            Inputs::Texts(t) => Inputs::Texts(&t[range]),
            Inputs::Embeddings(e) => {
                Inputs::Embeddings(Embeddings { data: &e.data[range.start * e.dim..range.end * e.dim], dim: e.dim })
            }
        }
    }

    fn describe(&self) -> String {
        match self {
            Inputs::Texts(_) => "texts".into(),
            Inputs::Embeddings(e) => format!("{}-dimensional embeddings", e.dim()),
        }
    }
}

/// The kind of input a classifier expects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InputKind {
    /// Raw texts.
    Texts,
    /// Embedding rows of this width.
    Embeddings {
        /// The expected row width.
        dim: usize,
    },
}

/// Class probabilities: a row-major `n × k` matrix, columns in [`Classifier::classes`] order.
/// Every row sums to 1 (up to rounding).
#[derive(Debug, Clone, PartialEq)]
pub struct Probabilities {
    data: Vec<f64>,
    n_classes: usize,
}

impl Probabilities {
    /// Wraps a row-major buffer of `n_classes` columns. Errors on a shape mismatch.
    pub fn new(data: Vec<f64>, n_classes: usize) -> Result<Probabilities> {
        if n_classes == 0 || !data.len().is_multiple_of(n_classes) {
            return Err(Error::Invalid(format!(
                "probability buffer of {} values does not hold rows of {n_classes} classes",
                data.len()
            )));
        }
        Ok(Probabilities { data, n_classes })
    }

    /// Number of rows.
    pub fn n_rows(&self) -> usize {
        self.data.len() / self.n_classes
    }

    /// Number of classes (columns).
    pub fn n_classes(&self) -> usize {
        self.n_classes
    }

    /// Row `i`: one probability per class.
    pub fn row(&self, i: usize) -> &[f64] {
        &self.data[i * self.n_classes..(i + 1) * self.n_classes]
    }

    /// Iterates over the rows.
    pub fn rows(&self) -> std::slice::ChunksExact<'_, f64> {
        self.data.chunks_exact(self.n_classes)
    }

    /// Column index of the largest probability of row `i` (the first one on ties, as numpy's
    /// `argmax`).
    pub fn argmax(&self, i: usize) -> usize {
        argmax(self.row(i))
    }

    /// The row-major buffer.
    pub fn as_slice(&self) -> &[f64] {
        &self.data
    }

    /// Consumes `self`, returning the row-major buffer.
    pub fn into_vec(self) -> Vec<f64> {
        self.data
    }
}

/// Index of the first maximum (NaN-free input assumed).
pub(crate) fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (j, &v) in row.iter().enumerate().skip(1) {
        if v > row[best] {
            best = j;
        }
    }
    best
}

/// The interface shared by every classifier. It is dyn-compatible, so a caller can hold a
/// `Box<dyn Classifier>` chosen at run time (see [`load`]).
pub trait Classifier: Send + Sync + std::fmt::Debug {
    /// The model kind written in the file header (e.g. `"multinomial-nb"`).
    fn kind(&self) -> &'static str;

    /// What [`Classifier::predict_proba`] consumes.
    fn input_kind(&self) -> InputKind;

    /// The class labels, sorted ascending: the column order of [`Probabilities`].
    fn classes(&self) -> &[u32];

    /// Class probabilities for every input row (`n × k`). Errors if the inputs are of the wrong
    /// kind or width.
    fn predict_proba(&self, inputs: Inputs<'_>) -> Result<Probabilities>;

    /// The most probable class label of every row (the first one on ties), predicted in blocks
    /// as [`Classifier::predict_confidence`] does.
    fn predict(&self, inputs: Inputs<'_>) -> Result<Vec<u32>> {
        Ok(self.predict_confidence(inputs, confidence::Confidence::MaxProba)?.1)
    }

    /// The confidence score and the most probable class label of every row, predicted over
    /// blocks of [`PREDICT_BLOCK`] rows so that the `n × k` probability matrix never exists
    /// whole (at 200,000 rows and 158 clusters it would take 253 MB). Rows are predicted
    /// independently, so the values equal those of one [`Classifier::predict_proba`] call.
    fn predict_confidence(&self, inputs: Inputs<'_>, score: confidence::Confidence) -> Result<(Vec<f64>, Vec<u32>)> {
        let n = inputs.len();
        let (mut conf, mut label) = (Vec::with_capacity(n), Vec::with_capacity(n));
        let classes = self.classes();
        for start in (0..n).step_by(PREDICT_BLOCK) {
            let p = self.predict_proba(inputs.slice(start..(start + PREDICT_BLOCK).min(n)))?;
            for (i, row) in p.rows().enumerate() {
                conf.push(score.score(row));
                label.push(classes[p.argmax(i)]);
            }
        }
        Ok((conf, label))
    }

    /// Writes the model to one self-describing JSON file (see [`file`]).
    fn save(&self, path: &Path) -> Result<()>;

    /// Reads a model of this type written by [`Classifier::save`]. A file of another kind or
    /// version gives [`gleaner_core::Error::Format`].
    fn load(path: &Path) -> Result<Self>
    where
        Self: Sized;
}

/// Training: a classifier type that can be fitted on inputs and labels.
pub trait Fit: Classifier + Sized {
    /// Training options.
    type Options: Default;

    /// Fits a model on `inputs` (one row per label) and `labels` (class ids). Needs at least
    /// two distinct classes.
    fn fit(inputs: Inputs<'_>, labels: &[u32], options: &Self::Options) -> Result<Self>;
}

/// Loads any classifier written by [`Classifier::save`], dispatching on the `kind` in its
/// header. Unknown kinds and versions give [`gleaner_core::Error::Format`].
pub fn load(path: &Path) -> Result<Box<dyn Classifier>> {
    let info = file::peek(path)?;
    match info.kind.as_str() {
        nb::KIND => Ok(Box::new(MultinomialNb::load(path)?)),
        neural::KIND => Ok(Box::new(NeuralHead::load(path)?)),
        other => Err(Error::Format {
            path: path.to_path_buf(),
            message: format!("unknown classifier kind {other:?} (known: {:?}, {:?})", nb::KIND, neural::KIND),
        }),
    }
}

/// Sorted distinct labels and, for every label, its column index. Errors on a length mismatch,
/// no rows, or fewer than two classes.
pub(crate) fn index_labels(labels: &[u32], n_inputs: usize) -> Result<(Vec<u32>, Vec<usize>)> {
    if labels.len() != n_inputs {
        return Err(Error::Invalid(format!("{n_inputs} training inputs but {} labels", labels.len())));
    }
    if labels.is_empty() {
        return Err(Error::Invalid("no training examples".into()));
    }
    let mut classes = labels.to_vec();
    classes.sort_unstable();
    classes.dedup();
    if classes.len() < 2 {
        return Err(Error::Invalid(format!(
            "a classifier needs at least two classes; every training label is {}",
            classes[0]
        )));
    }
    let y = labels.iter().map(|l| classes.binary_search(l).expect("label is in classes")).collect();
    Ok((classes, y))
}

/// The error for inputs of the wrong kind.
pub(crate) fn wrong_input(kind: &str, expected: InputKind, got: &Inputs<'_>) -> Error {
    let want = match expected {
        InputKind::Texts => "texts".to_string(),
        InputKind::Embeddings { dim } => format!("{dim}-dimensional embeddings"),
    };
    Error::Invalid(format!("the {kind} classifier takes {want}, but was given {}", got.describe()))
}

/// Checks a stored class list: sorted, distinct, at least two.
pub(crate) fn check_classes(path: &Path, classes: &[u32]) -> Result<()> {
    if classes.len() < 2 || classes.windows(2).any(|w| w[0] >= w[1]) {
        return Err(Error::Format {
            path: path.to_path_buf(),
            message: "\"classes\" must list at least two distinct labels in ascending order".into(),
        });
    }
    Ok(())
}
