//! Training: (worse, better) pairs → features → pairwise logistic regression, with the L2
//! penalty chosen by k-fold cross-validation over the training pairs.

use crate::csv;
use crate::linear::{Mat, pairwise_logistic};
use crate::model::{EmbedderSpec, FORMAT, FeatureRecipe, KIND_LINEAR, Model, TrainingInfo, VERSION, View};
use crate::text;
use gleaner_core::error::Location;
use gleaner_core::{Error, Record, Result};
use gleaner_embed::Embedder;
use rayon::prelude::*;
use std::path::Path;

/// A training pair: the same task answered worse and better.
#[derive(Debug, Clone)]
pub struct Pair {
    /// The worse record (e.g. the original answer).
    pub worse: Record,
    /// The better record (e.g. the expert-revised answer).
    pub better: Record,
}

/// Training options.
#[derive(Debug, Clone)]
pub struct TrainOptions {
    /// Embedded views (default: the response alone).
    pub views: Vec<View>,
    /// Candidate L2 penalties, tried in order (ties keep the first).
    pub lambdas: Vec<f64>,
    /// Cross-validation folds over pairs (≥ 2).
    pub folds: usize,
    /// Seed of the fold assignment.
    pub seed: u64,
    /// The embedder's model name, recorded in the model file.
    pub embedder_name: String,
    /// With a causal LM as the embedder: the blocks kept ([`crate::LmEmbedder`]).
    pub lm_layers: Option<usize>,
    /// With a causal LM as the embedder: tokens per text.
    pub max_tokens: Option<usize>,
}

impl TrainOptions {
    /// The model file's description of the embedder `embedder` (loaded per these options).
    pub fn embedder_spec(&self, embedder: &dyn Embedder) -> EmbedderSpec {
        EmbedderSpec {
            name: self.embedder_name.clone(),
            dim: embedder.dim(),
            identity: embedder.identity(),
            lm_layers: self.lm_layers,
            max_tokens: self.lm_layers.and(self.max_tokens),
        }
    }
}

impl Default for TrainOptions {
    /// The recipe of the shipped default: the first 4 blocks of SmolLM2-135M-Instruct on the
    /// response (512 tokens) plus the text statistics.
    fn default() -> Self {
        TrainOptions {
            views: vec![View::Response],
            lambdas: vec![3.0, 10.0, 30.0, 100.0, 300.0],
            folds: 5,
            seed: 0,
            embedder_name: crate::DEFAULT_LM.into(),
            lm_layers: Some(crate::DEFAULT_LM_LAYERS),
            max_tokens: Some(crate::DEFAULT_MAX_TOKENS),
        }
    }
}

/// Pairwise accuracy: the fraction of pairs whose better score is higher; ties count ½.
pub fn pairwise_accuracy(worse: &[f64], better: &[f64]) -> f64 {
    assert_eq!(worse.len(), better.len());
    if worse.is_empty() {
        return 0.0;
    }
    let s: f64 = worse
        .iter()
        .zip(better)
        .map(|(w, b)| {
            if b > w {
                1.0
            } else if b == w {
                0.5
            } else {
                0.0
            }
        })
        .sum();
    s / worse.len() as f64
}

/// Reads training pairs from a CSV file, in either of CaR's expert-revised layouts:
///
/// - `src,score` (`APE_score_*.csv`): consecutive rows form a pair; the row with the lower
///   score is the worse one. `src` is `"Instruction: I[ Input: X] Response: O"`.
/// - `src,pos,neg` (`APE_*.csv`): `src` is the prompt part (`"Instruction: I[ Input: X] "`),
///   `pos` and `neg` are `"Response: O"` strings, `pos` the better.
///
/// Errors name the file and the line of the offending row.
pub fn read_pairs_csv(path: &Path) -> Result<Vec<Pair>> {
    let (header, rows) = csv::read(path)?;
    let col = |name: &str| header.iter().position(|h| h.trim() == name);
    let parse = |line: usize, src: &str| -> Result<Record> {
        text::record_from_src(src).ok_or_else(|| {
            let head: String = src.chars().take(60).collect();
            Error::input(path, Location::Line(line), format!("expected \"Instruction: … Response: …\", found {head:?}"))
        })
    };
    if let (Some(s), Some(p), Some(n)) = (col("src"), col("pos"), col("neg")) {
        return rows
            .iter()
            .map(|(line, r)| {
                let join = |resp: &str| {
                    let sep = if r[s].ends_with(' ') { "" } else { " " };
                    format!("{}{sep}{}", r[s], resp.trim_start())
                };
                Ok(Pair { worse: parse(*line, &join(&r[n]))?, better: parse(*line, &join(&r[p]))? })
            })
            .collect();
    }
    let (Some(s), Some(sc)) = (col("src"), col("score")) else {
        return Err(Error::input(
            path,
            Location::Line(1),
            format!("expected the columns src,score or src,pos,neg, found {}", header.join(",")),
        ));
    };
    if rows.len() % 2 != 0 {
        let line = rows.last().map_or(1, |r| r.0);
        return Err(Error::input(path, Location::Line(line), "odd number of rows: rows must come in pairs"));
    }
    let mut pairs = Vec::with_capacity(rows.len() / 2);
    for two in rows.chunks(2) {
        let mut scored = Vec::with_capacity(2);
        for (line, r) in two {
            let score: f64 = r[sc]
                .trim()
                .parse()
                .map_err(|_| Error::input(path, Location::Line(*line), format!("score {:?} is not a number", r[sc])))?;
            scored.push((score, parse(*line, &r[s])?));
        }
        let (b, a) = (scored.pop().expect("two"), scored.pop().expect("two"));
        if a.0 == b.0 {
            return Err(Error::input(
                path,
                Location::Line(two[1].0),
                format!("rows at lines {} and {} form a pair but have the same score {}", two[0].0, two[1].0, a.0),
            ));
        }
        let (worse, better) = if a.0 < b.0 { (a.1, b.1) } else { (b.1, a.1) };
        pairs.push(Pair { worse, better });
    }
    Ok(pairs)
}

/// Feature matrices of the worse and the better sides of `pairs`.
pub fn pair_features(
    pairs: &[Pair],
    recipe: &FeatureRecipe,
    embedder: &dyn Embedder,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<(Mat, Mat)> {
    let mut records: Vec<Record> = pairs.iter().map(|p| p.worse.clone()).collect();
    records.extend(pairs.iter().map(|p| p.better.clone()));
    let x = recipe.build(&records, embedder, progress)?;
    let n = pairs.len();
    let w = x.cols;
    let worse = Mat { rows: n, cols: w, data: x.data[..n * w].to_vec() };
    let better = Mat { rows: n, cols: w, data: x.data[n * w..].to_vec() };
    Ok((worse, better))
}

/// Column means and scales (population standard deviation + 1e-6) over the rows of the
/// selected pairs, both sides.
fn standardizer(worse: &Mat, better: &Mat, idx: &[usize]) -> (Vec<f64>, Vec<f64>) {
    let p = worse.cols;
    let n = (2 * idx.len()).max(1) as f64;
    let mut mean = vec![0.0; p];
    for &i in idx {
        for m in [worse, better] {
            for (a, v) in mean.iter_mut().zip(m.row(i)) {
                *a += v;
            }
        }
    }
    mean.iter_mut().for_each(|a| *a /= n);
    let mut var = vec![0.0; p];
    for &i in idx {
        for m in [worse, better] {
            for ((a, v), mu) in var.iter_mut().zip(m.row(i)).zip(&mean) {
                *a += (v - mu) * (v - mu);
            }
        }
    }
    let scale = var.iter().map(|v| (v / n).sqrt() + 1e-6).collect();
    (mean, scale)
}

/// Standardised difference rows `better − worse` of the selected pairs.
fn diffs(worse: &Mat, better: &Mat, idx: &[usize], scale: &[f64]) -> Mat {
    let p = worse.cols;
    let mut d = Mat::zeros(idx.len(), p);
    for (r, &i) in idx.iter().enumerate() {
        for (k, ((b, w), s)) in better.row(i).iter().zip(worse.row(i)).zip(scale).enumerate() {
            d.data[r * p + k] = (b - w) / s;
        }
    }
    d
}

fn fit(worse: &Mat, better: &Mat, idx: &[usize], lambda: f64) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
    let (mean, scale) = standardizer(worse, better, idx);
    let w = pairwise_logistic(&diffs(worse, better, idx, &scale), lambda);
    (mean, scale, w)
}

/// Deterministic fold of each pair: a seeded Fisher–Yates shuffle (SplitMix64), then
/// position mod `k`.
pub fn fold_assignment(n: usize, k: usize, seed: u64) -> Vec<usize> {
    let mut state = seed;
    let mut next = || {
        state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    };
    let mut order: Vec<usize> = (0..n).collect();
    for i in (1..n).rev() {
        let j = (next() % (i as u64 + 1)) as usize;
        order.swap(i, j);
    }
    let mut fold = vec![0; n];
    for (pos, &i) in order.iter().enumerate() {
        fold[i] = pos % k;
    }
    fold
}

/// Cross-validated accuracy per penalty and the final model fitted on every pair, from
/// precomputed feature matrices. `embedder` describes the embedder for the model file.
pub fn fit_features(
    worse: &Mat,
    better: &Mat,
    recipe: FeatureRecipe,
    embedder: EmbedderSpec,
    opts: &TrainOptions,
) -> Result<Model> {
    let n = worse.rows;
    if n < opts.folds.max(2) || opts.folds < 2 {
        return Err(Error::Invalid(format!("need at least {} training pairs and 2 folds, got {n}", opts.folds.max(2))));
    }
    if opts.lambdas.is_empty() || opts.lambdas.iter().any(|l| !l.is_finite() || *l <= 0.0) {
        return Err(Error::Invalid("penalties must be positive and finite".into()));
    }
    if worse.cols != recipe.width(embedder.dim) {
        return Err(Error::Invalid(format!(
            "{} features, the recipe needs {}",
            worse.cols,
            recipe.width(embedder.dim)
        )));
    }
    let folds = fold_assignment(n, opts.folds, opts.seed);
    let jobs: Vec<(usize, usize)> =
        (0..opts.lambdas.len()).flat_map(|l| (0..opts.folds).map(move |f| (l, f))).collect();
    let accs: Vec<f64> = jobs
        .par_iter()
        .map(|&(l, f)| {
            let train: Vec<usize> = (0..n).filter(|&i| folds[i] != f).collect();
            let test: Vec<usize> = (0..n).filter(|&i| folds[i] == f).collect();
            let (mean, scale, w) = fit(worse, better, &train, opts.lambdas[l]);
            let m = Model {
                format: FORMAT.into(),
                kind: KIND_LINEAR.into(),
                version: VERSION,
                embedder: embedder.clone(),
                features: recipe.clone(),
                training: TrainingInfo::default(),
                mean,
                scale,
                weights: w,
            };
            let sw = m.score_features(&select(worse, &test));
            let sb = m.score_features(&select(better, &test));
            pairwise_accuracy(&sw, &sb)
        })
        .collect();
    let cv: Vec<[f64; 2]> = opts
        .lambdas
        .iter()
        .enumerate()
        .map(|(l, &lambda)| {
            [lambda, accs[l * opts.folds..(l + 1) * opts.folds].iter().sum::<f64>() / opts.folds as f64]
        })
        .collect();
    let best = cv.iter().fold(cv[0], |b, c| if c[1] > b[1] { *c } else { b });
    let all: Vec<usize> = (0..n).collect();
    let (mean, scale, weights) = fit(worse, better, &all, best[0]);
    Ok(Model {
        format: FORMAT.into(),
        kind: KIND_LINEAR.into(),
        version: VERSION,
        embedder,
        features: recipe,
        training: TrainingInfo {
            pairs: n,
            lambda: best[0],
            cv,
            folds: opts.folds,
            seed: opts.seed,
            valid_accuracy: None,
            note: String::new(),
        },
        mean,
        scale,
        weights,
    })
}

fn select(m: &Mat, idx: &[usize]) -> Mat {
    let mut out = Mat::zeros(idx.len(), m.cols);
    for (r, &i) in idx.iter().enumerate() {
        out.data[r * m.cols..(r + 1) * m.cols].copy_from_slice(m.row(i));
    }
    out
}

/// Trains a model from pairs: embeds every record with `embedder` (`progress` gets the
/// number of texts embedded), then [`fit_features`].
pub fn train(
    pairs: &[Pair],
    embedder: &dyn Embedder,
    opts: &TrainOptions,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<Model> {
    let recipe = FeatureRecipe::with_views(opts.views.clone());
    let (worse, better) = pair_features(pairs, &recipe, embedder, progress)?;
    fit_features(&worse, &better, recipe, opts.embedder_spec(embedder), opts)
}

/// Pairwise accuracy of `model` on `pairs`.
pub fn evaluate(
    model: &Model,
    pairs: &[Pair],
    embedder: &dyn Embedder,
    progress: &(dyn Fn(usize) + Sync),
) -> Result<f64> {
    if embedder.dim() != model.embedder.dim {
        return Err(Error::model(
            &model.embedder.name,
            format!("embedder width {} but the quality model expects {}", embedder.dim(), model.embedder.dim),
        ));
    }
    let (worse, better) = pair_features(pairs, &model.features, embedder, progress)?;
    Ok(pairwise_accuracy(&model.score_features(&worse), &model.score_features(&better)))
}

/// What [`train_files`] measured.
#[derive(Debug, Clone, Default)]
pub struct TrainReport {
    /// Training pairs.
    pub train_pairs: usize,
    /// Validation pairs (0 without a validation file).
    pub valid_pairs: usize,
    /// Pairwise accuracy of the final model on its own training pairs.
    pub train_accuracy: f64,
    /// Pairwise accuracy on the validation pairs.
    pub valid_accuracy: Option<f64>,
    /// Seconds spent embedding the training texts.
    pub embed_secs: f64,
    /// Seconds spent fitting (cross-validation and the final fit).
    pub fit_secs: f64,
    /// Seconds spent embedding and scoring the validation pairs.
    pub valid_secs: f64,
}

/// The whole training recipe behind `gleaner train quality`: reads pairs from `train` (and
/// `valid`) with [`read_pairs_csv`], embeds, cross-validates the penalty, fits, evaluates on
/// `valid`, and records the command in the model's `training.note`. `progress(stage, done,
/// total)` reports embedding progress for the stages `"embed"` and `"valid"` (texts).
pub fn train_files(
    train: &Path,
    valid: Option<&Path>,
    embedder: &dyn Embedder,
    opts: &TrainOptions,
    progress: &(dyn Fn(&str, usize, usize) + Sync),
) -> Result<(Model, TrainReport)> {
    let train_pairs = read_pairs_csv(train)?;
    let valid_pairs = valid.map(read_pairs_csv).transpose()?;
    let recipe = FeatureRecipe::with_views(opts.views.clone());
    let views = opts.views.len();

    let t = std::time::Instant::now();
    let total = 2 * train_pairs.len() * views;
    let (worse, better) = pair_features(&train_pairs, &recipe, embedder, &|n| progress("embed", n, total))?;
    let embed_secs = t.elapsed().as_secs_f64();

    let t = std::time::Instant::now();
    let mut model = fit_features(&worse, &better, recipe, opts.embedder_spec(embedder), opts)?;
    let fit_secs = t.elapsed().as_secs_f64();
    let train_accuracy = pairwise_accuracy(&model.score_features(&worse), &model.score_features(&better));

    let t = std::time::Instant::now();
    let mut valid_accuracy = None;
    if let Some(pairs) = &valid_pairs {
        let total = 2 * pairs.len() * views;
        valid_accuracy = Some(evaluate(&model, pairs, embedder, &|n| progress("valid", n, total))?);
    }
    let valid_secs = t.elapsed().as_secs_f64();

    let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let view_names: Vec<String> = opts.views.iter().map(|v| v.name().to_string()).collect();
    model.training.valid_accuracy = valid_accuracy;
    model.training.note = format!(
        "gleaner train quality --train {}{} --embedder {}{} --views {} --lambda {} --folds {} --seed {}",
        name(train),
        valid.map(|v| format!(" --valid {}", name(v))).unwrap_or_default(),
        opts.embedder_name,
        match (opts.lm_layers, opts.max_tokens) {
            (Some(l), Some(t)) => format!(" --lm-layers {l} --max-tokens {t}"),
            (Some(l), None) => format!(" --lm-layers {l}"),
            _ => " --lm-layers 0".into(),
        },
        view_names.join(","),
        opts.lambdas.iter().map(f64::to_string).collect::<Vec<_>>().join(","),
        opts.folds,
        opts.seed,
    );
    let report = TrainReport {
        train_pairs: train_pairs.len(),
        valid_pairs: valid_pairs.as_ref().map_or(0, Vec::len),
        train_accuracy,
        valid_accuracy,
        embed_secs,
        fit_secs,
        valid_secs,
    };
    Ok((model, report))
}
