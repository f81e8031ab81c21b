//! A softmax classifier head on frozen sentence embeddings: LCG's "neural classifier".
//!
//! LCG (docs/methods.md §4.3) fine-tunes DistilBERT for 3 epochs at learning rate 1e-6 (plain
//! Adam, weight decay 1e-2, batch 16, cross-entropy) and *deliberately* under-trains it, so that
//! its class probabilities stay soft and the least confident pool items are informative. No
//! DistilBERT weights are available offline, so this module trains only a head on frozen
//! embeddings (MiniLM, 384-d, from `gleaner-embed`; the caller passes the `n × dim` matrix):
//!
//! - **Linear** (the default): `softmax(W·x + b)`, multinomial logistic regression.
//! - **MLP** (`hidden = Some(h)`): `softmax(W₂·relu(W₁·x + b₁) + b₂)`.
//!
//! Layers are initialised like PyTorch's `nn.Linear` (weights and biases uniform in
//! `±1/√fan_in`). Training is mini-batch Adam (β = 0.9 / 0.999, ε = 1e-8, bias-corrected, as
//! `torch.optim.Adam`) on the mean cross-entropy, with the rows shuffled every epoch and a final
//! partial batch kept (`DataLoader(shuffle=True)`). Weight decay is L2-style (added to the
//! gradient, like the reference's plain Adam) unless `decoupled_weight_decay` selects AdamW.
//! Optional dropout is applied to the input of the output layer (the reference applies
//! `Dropout(0.5)` to the [CLS] vector before its linear layer).
//!
//! ## Why the defaults give soft probabilities
//!
//! The defaults are the reference's optimiser settings (3 epochs, batch 16, plain Adam with
//! L2 weight decay 1e-2) with a learning rate of [`DEFAULT_LR`]. Two things keep the head
//! under-trained:
//!
//! 1. **Step budget.** 1,600 rows give 300 Adam steps, and Adam moves a weight by at most about
//!    `lr` per step, so no weight travels further than `300 · lr` = 0.3 from its `±1/√384`
//!    start.
//! 2. **L2 decay inside Adam.** Adam normalises the *sum* of the data gradient and
//!    `weight_decay · w`. The cross-entropy gradient of one weight is tiny (`(p − y) · x / B`
//!    with unit-length 384-d embeddings, `|x_j| ≈ 0.05`), so once `|w|` reaches roughly
//!    `|g| / weight_decay` the decay cancels it and the weights stop growing, however long
//!    training runs. The logits stay within a narrow band and the probabilities near uniform,
//!    while their *ranking* is already learned.
//!
//! Measured on LCG's 1,600 centroid rows (40 classes, MiniLM, 20% stratified hold-out): the
//! defaults reach about 0.86 training / 0.77 held-out accuracy with a mean maximum probability
//! of about 0.04 (uniform is 0.025), and 30 epochs or a 3× larger learning rate barely change
//! that (mean maximum probability ≤ 0.05). This is the "early-stopped" regime of the paper's
//! lr-1e-6 DistilBERT (which has the same L2 decay on its 768 → 40 head): confidence is only
//! used to *rank* the pool, so a compressed but ordered scale is what LCG needs.
//!
//! ## Tuning
//!
//! - Sharper probabilities and higher accuracy: lower `weight_decay` (1e-4 or 0) or switch to
//!   `decoupled_weight_decay` (AdamW), and raise `lr`. On the same data, `weight_decay = 1e-4`
//!   with `lr = 1e-2` gives about 0.93 / 0.87 accuracy and a mean maximum probability of about
//!   0.48 after 3 epochs, 0.67 after 10 (training accuracy 0.99: now it over-fits).
//! - Softer: lower `lr` or fewer `epochs` (the step budget), or more `weight_decay`.
//! - With many epochs, turn on early stopping (`validation_fraction`, e.g. 0.2, and
//!   `patience`): training stops when the held-out loss has not improved for `patience` epochs
//!   and the best epoch's weights are kept.
//! - `hidden` does not help on 1,600 pseudo-labelled rows: the labels come from k-means on
//!   (nearly) the same embeddings, so the classes are close to linearly separable, and with
//!   the default decay an MLP head learns less (≈ 0.34–0.46 held-out accuracy at 3 epochs).
//!
//! `GLEANER_CLASSIFY_SWEEP=1 cargo test --release -p gleaner-classify --test neural -- --nocapture
//! lcg_real_data_sweep` prints the full table.
//!
//! ## Determinism
//!
//! Training depends only on the inputs, the options and `seed` (xoshiro256** streams for the
//! initialisation, the validation split, the shuffles and dropout): gradients are accumulated
//! sequentially and every dot product has a fixed summation order. Prediction computes each row
//! independently, so a row's probabilities do not depend on the other rows or on the number of
//! threads.

use crate::file::{self, F32Array};
use crate::rng::Rng;
use crate::{
    Classifier, Embeddings, Fit, InputKind, Inputs, Probabilities, argmax, check_classes, index_labels, wrong_input,
};
use gleaner_core::{Error, Result};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The `kind` of a neural head classifier file.
pub const KIND: &str = "neural-head";
/// The layout version this build writes and reads.
pub const VERSION: u32 = 1;
/// The default Adam learning rate (see the module docs for why it keeps probabilities soft).
pub const DEFAULT_LR: f32 = 1e-3;

const BETA1: f32 = 0.9;
const BETA2: f32 = 0.999;
const EPS: f32 = 1e-8;

/// Training options of a [`NeuralHead`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct NeuralOptions {
    /// Passes over the training rows (default 3, as the reference).
    pub epochs: usize,
    /// Adam learning rate (default [`DEFAULT_LR`]).
    pub lr: f32,
    /// Rows per mini-batch (default 16, as the reference).
    pub batch_size: usize,
    /// Weight decay (default 1e-2, as the reference).
    pub weight_decay: f32,
    /// `false` (default): L2-style decay added to the gradient, like `torch.optim.Adam`;
    /// `true`: decoupled decay, like `torch.optim.AdamW`.
    pub decoupled_weight_decay: bool,
    /// Width of one ReLU hidden layer, or `None` (default) for a linear softmax head.
    pub hidden: Option<usize>,
    /// Dropout probability on the input of the output layer during training (default 0).
    pub dropout: f32,
    /// Seed of every random choice (default 0).
    pub seed: u64,
    /// Fraction of every class held out for validation and early stopping (default 0: off).
    pub validation_fraction: f32,
    /// With validation: stop after this many epochs without a lower validation loss, and keep
    /// the best epoch's weights (default 2).
    pub patience: usize,
}

impl Default for NeuralOptions {
    fn default() -> Self {
        NeuralOptions {
            epochs: 3,
            lr: DEFAULT_LR,
            batch_size: 16,
            weight_decay: 1e-2,
            decoupled_weight_decay: false,
            hidden: None,
            dropout: 0.0,
            seed: 0,
            validation_fraction: 0.0,
            patience: 2,
        }
    }
}

impl NeuralOptions {
    fn validate(&self) -> Result<()> {
        let bad = |m: String| Err(Error::Invalid(m));
        if self.epochs == 0 {
            return bad("epochs must be at least 1".into());
        }
        if !(self.lr.is_finite() && self.lr > 0.0) {
            return bad(format!("learning rate must be positive and finite, got {}", self.lr));
        }
        if self.batch_size == 0 {
            return bad("batch size must be at least 1".into());
        }
        if !(self.weight_decay.is_finite() && self.weight_decay >= 0.0) {
            return bad(format!("weight decay must be non-negative, got {}", self.weight_decay));
        }
        if self.hidden == Some(0) {
            return bad("hidden layer width must be at least 1".into());
        }
        if !(0.0..1.0).contains(&self.dropout) {
            return bad(format!("dropout must be in [0, 1), got {}", self.dropout));
        }
        if !(0.0..1.0).contains(&self.validation_fraction) {
            return bad(format!("validation fraction must be in [0, 1), got {}", self.validation_fraction));
        }
        if self.patience == 0 {
            return bad("patience must be at least 1".into());
        }
        Ok(())
    }
}

/// Metrics after one training epoch.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EpochStats {
    /// 1-based epoch number.
    pub epoch: usize,
    /// Mean mini-batch cross-entropy during the epoch (with dropout, if any).
    pub train_loss: f64,
    /// Accuracy on the training rows after the epoch.
    pub train_accuracy: f64,
    /// Mean maximum class probability on the training rows after the epoch.
    pub train_mean_max_proba: f64,
    /// Mean cross-entropy on the held-out rows (with validation).
    pub val_loss: Option<f64>,
    /// Accuracy on the held-out rows (with validation).
    pub val_accuracy: Option<f64>,
    /// Mean maximum class probability on the held-out rows (with validation).
    pub val_mean_max_proba: Option<f64>,
}

/// One dense layer, `out = W·x + b`, `W` row-major `n_out × n_in` (PyTorch layout).
#[derive(Debug, Clone)]
struct Dense {
    n_in: usize,
    n_out: usize,
    w: Vec<f32>,
    b: Vec<f32>,
}

impl Dense {
    fn init(n_in: usize, n_out: usize, rng: &mut Rng) -> Dense {
        let bound = 1.0 / (n_in as f32).sqrt();
        let mut u = || (2.0 * rng.next_f32() - 1.0) * bound;
        let w = (0..n_in * n_out).map(|_| u()).collect();
        let b = (0..n_out).map(|_| u()).collect();
        Dense { n_in, n_out, w, b }
    }

    fn forward(&self, x: &[f32], out: &mut [f32]) {
        for (o, (wr, b)) in out.iter_mut().zip(self.w.chunks_exact(self.n_in).zip(&self.b)) {
            *o = dot(x, wr) + b;
        }
    }
}

/// Dot product with 8 independent accumulators (vectorisable, fixed summation order).
#[inline]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let ca = a.chunks_exact(8);
    let cb = b.chunks_exact(8);
    let (ra, rb) = (ca.remainder(), cb.remainder());
    for (x, y) in ca.zip(cb) {
        for i in 0..8 {
            acc[i] += x[i] * y[i];
        }
    }
    let mut s = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
    for (x, y) in ra.iter().zip(rb) {
        s += x * y;
    }
    s
}

/// Softmax in `f64` of `f32` logits.
fn softmax64(logits: &[f32], out: &mut [f64]) {
    let m = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max) as f64;
    let mut s = 0.0;
    for (o, &l) in out.iter_mut().zip(logits) {
        *o = (l as f64 - m).exp();
        s += *o;
    }
    for o in out.iter_mut() {
        *o /= s;
    }
}

/// A trained softmax head (linear or one hidden layer) on embeddings. See the module docs.
#[derive(Debug, Clone)]
pub struct NeuralHead {
    dim: usize,
    classes: Vec<u32>,
    hidden: Option<Dense>,
    out: Dense,
    options: NeuralOptions,
    history: Vec<EpochStats>,
    best_epoch: usize,
}

/// Adam state of one tensor.
struct AdamState {
    m: Vec<f32>,
    v: Vec<f32>,
}

impl AdamState {
    fn new(n: usize) -> AdamState {
        AdamState { m: vec![0.0; n], v: vec![0.0; n] }
    }

    fn step(&mut self, p: &mut [f32], g: &[f32], t: i32, o: &NeuralOptions) {
        let bc1 = 1.0 - BETA1.powi(t);
        let bc2_sqrt = (1.0 - BETA2.powi(t)).sqrt();
        let step = o.lr / bc1;
        for i in 0..p.len() {
            let mut gi = g[i];
            if o.decoupled_weight_decay {
                p[i] *= 1.0 - o.lr * o.weight_decay;
            } else {
                gi += o.weight_decay * p[i];
            }
            self.m[i] = BETA1 * self.m[i] + (1.0 - BETA1) * gi;
            self.v[i] = BETA2 * self.v[i] + (1.0 - BETA2) * gi * gi;
            let denom = self.v[i].sqrt() / bc2_sqrt + EPS;
            p[i] -= step * self.m[i] / denom;
        }
    }
}

/// Gradient buffers of one layer.
struct Grad {
    w: Vec<f32>,
    b: Vec<f32>,
}

impl Grad {
    fn zeros(l: &Dense) -> Grad {
        Grad { w: vec![0.0; l.w.len()], b: vec![0.0; l.b.len()] }
    }

    fn clear(&mut self) {
        self.w.fill(0.0);
        self.b.fill(0.0);
    }

    /// Adds `d ⊗ x` (one row's contribution).
    fn accumulate(&mut self, d: &[f32], x: &[f32]) {
        let n_in = x.len();
        for (j, &dj) in d.iter().enumerate() {
            if dj != 0.0 {
                for (gw, &xv) in self.w[j * n_in..(j + 1) * n_in].iter_mut().zip(x) {
                    *gw += dj * xv;
                }
            }
            self.b[j] += dj;
        }
    }
}

impl NeuralHead {
    /// Trains a head on an embedding matrix and class labels (one per row).
    pub fn fit_embeddings(x: Embeddings<'_>, labels: &[u32], options: &NeuralOptions) -> Result<NeuralHead> {
        options.validate()?;
        let (classes, y) = index_labels(labels, x.rows())?;
        if x.data().iter().any(|v| !v.is_finite()) {
            return Err(Error::Invalid("embedding matrix contains a non-finite value".into()));
        }
        let k = classes.len();
        let dim = x.dim();
        let (train, val) = split(&y, k, options)?;

        let mut init_rng = Rng::new(options.seed, 0);
        let mut shuffle_rng = Rng::new(options.seed, 2);
        let mut dropout_rng = Rng::new(options.seed, 3);
        let hidden = options.hidden.map(|h| Dense::init(dim, h, &mut init_rng));
        let feat = options.hidden.unwrap_or(dim);
        let out = Dense::init(feat, k, &mut init_rng);
        let mut head =
            NeuralHead { dim, classes, hidden, out, options: options.clone(), history: Vec::new(), best_epoch: 0 };

        let mut adam_out_w = AdamState::new(head.out.w.len());
        let mut adam_out_b = AdamState::new(head.out.b.len());
        let (mut adam_hid_w, mut adam_hid_b) = match &head.hidden {
            Some(h) => (AdamState::new(h.w.len()), AdamState::new(h.b.len())),
            None => (AdamState::new(0), AdamState::new(0)),
        };
        let mut g_out = Grad::zeros(&head.out);
        let mut g_hid = head.hidden.as_ref().map(Grad::zeros);

        // Per-row scratch.
        let h_width = head.hidden.as_ref().map_or(0, |h| h.n_out);
        let mut z1 = vec![0.0f32; h_width];
        let mut feat_buf = vec![0.0f32; feat];
        let mut logits = vec![0.0f32; k];
        let mut prob = vec![0.0f64; k];
        let mut dlogits = vec![0.0f32; k];
        let mut dfeat = vec![0.0f32; feat];
        let keep = 1.0 - options.dropout;

        let mut order = train.clone();
        let mut step = 0i32;
        let mut best: Option<(f64, Dense, Option<Dense>)> = None;
        let mut since_best = 0usize;
        for epoch in 1..=options.epochs {
            shuffle_rng.shuffle(&mut order);
            let mut loss_sum = 0.0f64;
            let mut n_batches = 0usize;
            for batch in order.chunks(options.batch_size) {
                g_out.clear();
                if let Some(g) = g_hid.as_mut() {
                    g.clear();
                }
                let inv_b = 1.0 / batch.len() as f32;
                let mut batch_loss = 0.0f64;
                for &i in batch {
                    let xi = x.row(i);
                    // Forward.
                    if let Some(h) = &head.hidden {
                        h.forward(xi, &mut z1);
                        for (f, &z) in feat_buf.iter_mut().zip(&z1) {
                            *f = z.max(0.0);
                        }
                    } else {
                        feat_buf.copy_from_slice(xi);
                    }
                    if options.dropout > 0.0 {
                        for f in feat_buf.iter_mut() {
                            *f = if dropout_rng.next_f32() < options.dropout { 0.0 } else { *f / keep };
                        }
                    }
                    head.out.forward(&feat_buf, &mut logits);
                    softmax64(&logits, &mut prob);
                    batch_loss -= prob[y[i]].max(f64::MIN_POSITIVE).ln();
                    // Backward: dL/dlogits = (p - onehot) / B.
                    for (c, d) in dlogits.iter_mut().enumerate() {
                        let t = if c == y[i] { 1.0 } else { 0.0 };
                        *d = (prob[c] - t) as f32 * inv_b;
                    }
                    g_out.accumulate(&dlogits, &feat_buf);
                    if let (Some(g), Some(_)) = (g_hid.as_mut(), head.hidden.as_ref()) {
                        dfeat.fill(0.0);
                        for (c, &d) in dlogits.iter().enumerate() {
                            let wr = &head.out.w[c * feat..(c + 1) * feat];
                            for (df, &w) in dfeat.iter_mut().zip(wr) {
                                *df += d * w;
                            }
                        }
                        // Through dropout (the mask is where the dropped feature is 0 while
                        // the pre-activation was positive) and ReLU.
                        for ((df, &z), &f) in dfeat.iter_mut().zip(&z1).zip(&feat_buf) {
                            *df = if z > 0.0 && (options.dropout == 0.0 || f != 0.0) {
                                *df / if options.dropout > 0.0 { keep } else { 1.0 }
                            } else {
                                0.0
                            };
                        }
                        g.accumulate(&dfeat, xi);
                    }
                }
                step += 1;
                adam_out_w.step(&mut head.out.w, &g_out.w, step, options);
                adam_out_b.step(&mut head.out.b, &g_out.b, step, options);
                if let (Some(h), Some(g)) = (head.hidden.as_mut(), g_hid.as_ref()) {
                    adam_hid_w.step(&mut h.w, &g.w, step, options);
                    adam_hid_b.step(&mut h.b, &g.b, step, options);
                }
                loss_sum += batch_loss / batch.len() as f64;
                n_batches += 1;
            }
            let (_, train_acc, train_mmp) = head.evaluate(x, &y, &train);
            let mut stats = EpochStats {
                epoch,
                train_loss: loss_sum / n_batches as f64,
                train_accuracy: train_acc,
                train_mean_max_proba: train_mmp,
                val_loss: None,
                val_accuracy: None,
                val_mean_max_proba: None,
            };
            let mut stop = false;
            if !val.is_empty() {
                let (vl, va, vm) = head.evaluate(x, &y, &val);
                stats.val_loss = Some(vl);
                stats.val_accuracy = Some(va);
                stats.val_mean_max_proba = Some(vm);
                if best.as_ref().is_none_or(|(b, _, _)| vl < *b) {
                    best = Some((vl, head.out.clone(), head.hidden.clone()));
                    head.best_epoch = epoch;
                    since_best = 0;
                } else {
                    since_best += 1;
                    stop = since_best >= options.patience;
                }
            } else {
                head.best_epoch = epoch;
            }
            head.history.push(stats);
            if stop {
                break;
            }
        }
        if let Some((_, out, hidden)) = best {
            head.out = out;
            head.hidden = hidden;
        }
        Ok(head)
    }

    /// Logits of one row into `logits` (`scratch` holds the hidden layer).
    fn logits_row(&self, x: &[f32], scratch: &mut [f32], logits: &mut [f32]) {
        match &self.hidden {
            Some(h) => {
                h.forward(x, scratch);
                for v in scratch.iter_mut() {
                    *v = v.max(0.0);
                }
                self.out.forward(scratch, logits);
            }
            None => self.out.forward(x, logits),
        }
    }

    /// Mean cross-entropy, accuracy and mean maximum probability over `rows`.
    fn evaluate(&self, x: Embeddings<'_>, y: &[usize], rows: &[usize]) -> (f64, f64, f64) {
        let k = self.classes.len();
        let mut scratch = vec![0.0f32; self.hidden.as_ref().map_or(0, |h| h.n_out)];
        let mut logits = vec![0.0f32; k];
        let mut p = vec![0.0f64; k];
        let (mut loss, mut correct, mut mmp) = (0.0f64, 0usize, 0.0f64);
        for &i in rows {
            self.logits_row(x.row(i), &mut scratch, &mut logits);
            softmax64(&logits, &mut p);
            loss -= p[y[i]].max(f64::MIN_POSITIVE).ln();
            let a = argmax(&p);
            correct += usize::from(a == y[i]);
            mmp += p[a];
        }
        let n = rows.len() as f64;
        (loss / n, correct as f64 / n, mmp / n)
    }

    /// Class probabilities for every embedding row (parallel over rows; each row is computed
    /// independently of the others).
    pub fn predict_proba_embeddings(&self, x: Embeddings<'_>) -> Result<Probabilities> {
        if x.dim() != self.dim {
            return Err(Error::Invalid(format!(
                "the {KIND} classifier was trained on {}-dimensional embeddings, got {}",
                self.dim,
                x.dim()
            )));
        }
        let k = self.classes.len();
        let mut data = vec![0.0f64; x.rows() * k];
        let h = self.hidden.as_ref().map_or(0, |h| h.n_out);
        data.par_chunks_mut(k * 64).enumerate().for_each(|(blk, out)| {
            let mut scratch = vec![0.0f32; h];
            let mut logits = vec![0.0f32; k];
            for (r, o) in out.chunks_exact_mut(k).enumerate() {
                self.logits_row(x.row(blk * 64 + r), &mut scratch, &mut logits);
                softmax64(&logits, o);
            }
        });
        Probabilities::new(data, k)
    }

    /// Embedding width the head expects.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Hidden layer width, if the head is an MLP.
    pub fn hidden(&self) -> Option<usize> {
        self.hidden.as_ref().map(|h| h.n_out)
    }

    /// The options the head was trained with.
    pub fn options(&self) -> &NeuralOptions {
        &self.options
    }

    /// Per-epoch training metrics (also kept in the saved file).
    pub fn history(&self) -> &[EpochStats] {
        &self.history
    }

    /// The epoch whose weights the head holds: the last one, or with validation the one with
    /// the lowest validation loss.
    pub fn best_epoch(&self) -> usize {
        self.best_epoch
    }
}

/// Splits row indices into training and validation rows: per class, a seeded shuffle and
/// `round(fraction · n_c)` rows held out (at most `n_c − 1`).
fn split(y: &[usize], k: usize, o: &NeuralOptions) -> Result<(Vec<usize>, Vec<usize>)> {
    if o.validation_fraction == 0.0 {
        return Ok(((0..y.len()).collect(), Vec::new()));
    }
    let mut by_class = vec![Vec::new(); k];
    for (i, &c) in y.iter().enumerate() {
        by_class[c].push(i);
    }
    let mut rng = Rng::new(o.seed, 1);
    let (mut train, mut val) = (Vec::new(), Vec::new());
    for rows in &mut by_class {
        rng.shuffle(rows);
        let n_val = ((rows.len() as f64 * o.validation_fraction as f64).round() as usize).min(rows.len() - 1);
        val.extend_from_slice(&rows[..n_val]);
        train.extend_from_slice(&rows[n_val..]);
    }
    if val.is_empty() {
        return Err(Error::Invalid(format!(
            "validation fraction {} holds out no row; raise it or set it to 0",
            o.validation_fraction
        )));
    }
    train.sort_unstable();
    val.sort_unstable();
    Ok((train, val))
}

impl Classifier for NeuralHead {
    fn kind(&self) -> &'static str {
        KIND
    }

    fn input_kind(&self) -> InputKind {
        InputKind::Embeddings { dim: self.dim }
    }

    fn classes(&self) -> &[u32] {
        &self.classes
    }

    fn predict_proba(&self, inputs: Inputs<'_>) -> Result<Probabilities> {
        match inputs {
            Inputs::Embeddings(e) => self.predict_proba_embeddings(e),
            other => Err(wrong_input(KIND, self.input_kind(), &other)),
        }
    }

    fn save(&self, path: &Path) -> Result<()> {
        let mut layers = Vec::new();
        if let Some(h) = &self.hidden {
            layers.push(LayerFile::of(h));
        }
        layers.push(LayerFile::of(&self.out));
        let f = NeuralFile {
            format: file::FORMAT.into(),
            kind: KIND.into(),
            version: VERSION,
            dim: self.dim,
            hidden: self.hidden(),
            activation: "relu".into(),
            classes: self.classes.clone(),
            layers,
            training: TrainingFile {
                options: self.options.clone(),
                history: self.history.clone(),
                best_epoch: self.best_epoch,
            },
        };
        file::write_json(path, &f)
    }

    fn load(path: &Path) -> Result<NeuralHead> {
        let f: NeuralFile = file::read_kind(path, KIND, VERSION)?;
        f.into_model(path)
    }
}

impl Fit for NeuralHead {
    type Options = NeuralOptions;

    fn fit(inputs: Inputs<'_>, labels: &[u32], options: &NeuralOptions) -> Result<NeuralHead> {
        match inputs {
            Inputs::Embeddings(e) => NeuralHead::fit_embeddings(e, labels, options),
            other => Err(Error::Invalid(format!(
                "the {KIND} classifier trains on embeddings, but was given {}",
                other.describe()
            ))),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct LayerFile {
    weight: F32Array,
    bias: F32Array,
}

impl LayerFile {
    fn of(l: &Dense) -> LayerFile {
        LayerFile { weight: F32Array::encode(&l.w, &[l.n_out, l.n_in]), bias: F32Array::encode(&l.b, &[l.n_out]) }
    }

    fn decode(&self, path: &Path, name: &str, n_in: usize, n_out: usize) -> Result<Dense> {
        Ok(Dense {
            n_in,
            n_out,
            w: self.weight.decode(path, &format!("{name}.weight"), &[n_out, n_in])?,
            b: self.bias.decode(path, &format!("{name}.bias"), &[n_out])?,
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct TrainingFile {
    options: NeuralOptions,
    history: Vec<EpochStats>,
    best_epoch: usize,
}

/// Version 1 of the neural head file: header, shapes, classes, the layers (input side first,
/// PyTorch `weight`/`bias` layout, `f32` base64), and the training provenance.
#[derive(Debug, Serialize, Deserialize)]
struct NeuralFile {
    format: String,
    kind: String,
    version: u32,
    dim: usize,
    hidden: Option<usize>,
    activation: String,
    classes: Vec<u32>,
    layers: Vec<LayerFile>,
    training: TrainingFile,
}

impl NeuralFile {
    fn into_model(self, path: &Path) -> Result<NeuralHead> {
        let bad = |message: String| Error::Format { path: path.to_path_buf(), message };
        check_classes(path, &self.classes)?;
        if self.dim == 0 || self.hidden == Some(0) {
            return Err(bad("dimensions must be positive".into()));
        }
        if self.activation != "relu" {
            return Err(bad(format!("unsupported activation {:?} (expected \"relu\")", self.activation)));
        }
        let want_layers = 1 + usize::from(self.hidden.is_some());
        if self.layers.len() != want_layers {
            return Err(bad(format!("{} layers, expected {want_layers}", self.layers.len())));
        }
        let k = self.classes.len();
        let (hidden, out) = match self.hidden {
            Some(h) => (
                Some(self.layers[0].decode(path, "layers[0]", self.dim, h)?),
                self.layers[1].decode(path, "layers[1]", h, k)?,
            ),
            None => (None, self.layers[0].decode(path, "layers[0]", self.dim, k)?),
        };
        Ok(NeuralHead {
            dim: self.dim,
            classes: self.classes,
            hidden,
            out,
            options: self.training.options,
            history: self.training.history,
            best_epoch: self.training.best_epoch,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dot_matches_naive() {
        let a: Vec<f32> = (0..19).map(|i| i as f32 * 0.5).collect();
        let b: Vec<f32> = (0..19).map(|i| 1.0 - i as f32 * 0.25).collect();
        let naive: f32 = a.iter().zip(&b).map(|(x, y)| x * y).sum();
        assert!((dot(&a, &b) - naive).abs() < 1e-4);
    }

    #[test]
    fn options_are_validated() {
        let x = vec![0.0f32; 8];
        let e = Embeddings::new(&x, 2).unwrap();
        let y = [0, 1, 0, 1];
        let cases = [
            NeuralOptions { epochs: 0, ..Default::default() },
            NeuralOptions { lr: 0.0, ..Default::default() },
            NeuralOptions { batch_size: 0, ..Default::default() },
            NeuralOptions { weight_decay: -1.0, ..Default::default() },
            NeuralOptions { hidden: Some(0), ..Default::default() },
            NeuralOptions { dropout: 1.0, ..Default::default() },
            NeuralOptions { validation_fraction: 1.0, ..Default::default() },
            NeuralOptions { validation_fraction: 0.01, ..Default::default() },
            NeuralOptions { patience: 0, ..Default::default() },
        ];
        for o in cases {
            let r = NeuralHead::fit_embeddings(e, &y, &o);
            assert!(matches!(r, Err(Error::Invalid(_))), "{o:?} should be rejected");
        }
        let nan = [f32::NAN, 0.0, 0.0, 0.0];
        let e = Embeddings::new(&nan, 1).unwrap();
        assert!(NeuralHead::fit_embeddings(e, &y, &NeuralOptions::default()).is_err());
    }
}
