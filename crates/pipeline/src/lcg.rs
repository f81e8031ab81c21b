//! Low-Confidence Gold with the pseudo-labels given by a file (docs/methods.md §4) — LCG's own
//! `train_dataset.json`, for example — instead of clustering the pool: a classifier trained on
//! that file ranks the pool by confidence. The clustered form of LCG is the `lcg` recipe (the
//! runner's `classify` stage and the `lcg` selection rule).
//!
//! Fixes the reference's bugs: the classifier is trained on the pseudo-labels of the centroid
//! set (not on another set's labels), and it can be saved and reloaded. The selection order is
//! a reconstruction from the released files (docs/methods.md §4.4).

use crate::Observer;
use gleaner_classify::{Classifier, Fit, Inputs, MultinomialNb, NbOptions, NeuralOptions};
use gleaner_core::layout::TextKind;
use gleaner_core::{Error, Result};
use gleaner_read::Dataset;
use gleaner_select::Pick;
use std::path::PathBuf;

/// Which classifier LCG trains (or loads).
#[derive(Debug, Clone)]
pub enum LcgClassifier {
    /// scikit-learn-exact `CountVectorizer` + `MultinomialNB` on the LCG text.
    Nb(NbOptions),
    /// A softmax (or one-hidden-layer) head on the frozen sentence embeddings.
    Neural(NeuralOptions),
    /// A classifier saved by an earlier run (its kind decides the inputs).
    Load(PathBuf),
}

/// Options of an LCG run with pseudo-labels from a file.
#[derive(Debug, Clone)]
pub struct LcgRecipe {
    /// The classifier.
    pub classifier: LcgClassifier,
    /// Where to save the trained classifier.
    pub save_classifier: Option<PathBuf>,
    /// Selection (budget, seeds per cluster, optional per-cluster quota).
    pub select: gleaner_select::LcgOptions,
}

/// What [`run_lcg_labelled`] produced.
pub struct LabelledRun {
    /// Seed rows: indices into the labelled file, cluster by cluster, in file order.
    pub seeds: Vec<usize>,
    /// For each seed, the first pool row with the same instruction and input, if any.
    pub seeds_in_pool: Vec<Option<usize>>,
    /// Pool picks after the seeds, ascending confidence.
    pub picks: Vec<Pick>,
    /// Confidence per pool row (NaN for pool rows that are in the labelled file).
    pub confidence: Vec<f64>,
    /// Pool rows left out because the labelled file holds the same instruction and input.
    pub overlapping: usize,
}

/// LCG with the pseudo-labels given by a file (such as LCG's own `train_dataset.json`: the
/// centroid-nearest rows in cluster order, nearest first, with their `cluster`): a classifier
/// trained on that file ranks the `pool`. The output is the first `seeds_per_cluster` rows of
/// each cluster of the file, then the pool's least confident rows until the budget. Pool rows
/// whose instruction and input are in the file are never picked from the pool.
pub fn run_lcg_labelled(
    pool: &Dataset,
    train: &Dataset,
    labels: &[u32],
    recipe: &LcgRecipe,
    obs: &dyn Observer,
) -> Result<LabelledRun> {
    let text = TextKind::Lcg;
    let train_texts: Vec<String> = train.map_records(|r| text.render(r))?;
    let model: Box<dyn Classifier> = match &recipe.classifier {
        LcgClassifier::Nb(o) => Box::new(MultinomialNb::fit(Inputs::Texts(&train_texts), labels, o)?),
        LcgClassifier::Load(p) => gleaner_classify::load(p)?,
        LcgClassifier::Neural(_) => {
            return Err(Error::Invalid("pseudo-labels from a file work with the nb classifier".into()));
        }
    };
    if model.input_kind() != gleaner_classify::InputKind::Texts {
        return Err(Error::Invalid("pseudo-labels from a file work with a text (nb) classifier".into()));
    }
    if let Some(p) = &recipe.save_classifier {
        model.save(p)?;
        obs.info(&format!("saved the {} classifier to {}", model.kind(), p.display()));
    }
    let known: std::collections::HashSet<&str> = train_texts.iter().map(String::as_str).collect();
    let pool_texts: Vec<String> = pool.map_records(|r| text.render(r))?;
    let (mut confidence, predicted) =
        model.predict_confidence(Inputs::Texts(&pool_texts), gleaner_classify::confidence::Confidence::MaxProba)?;
    let mut overlapping = 0;
    for (i, t) in pool_texts.iter().enumerate() {
        if known.contains(t.as_str()) {
            confidence[i] = f64::NAN;
            overlapping += 1;
        }
    }
    let mut classes: Vec<u32> = labels.to_vec();
    classes.sort_unstable();
    classes.dedup();
    let mut seeds = Vec::new();
    for c in &classes {
        seeds.extend((0..labels.len()).filter(|&i| labels[i] == *c).take(recipe.select.seeds_per_cluster));
    }
    seeds.truncate(recipe.select.budget);
    let mut first_in_pool = std::collections::HashMap::new();
    for (i, t) in pool_texts.iter().enumerate() {
        first_in_pool.entry(t.as_str()).or_insert(i);
    }
    let seeds_in_pool = seeds.iter().map(|&s| first_in_pool.get(train_texts[s].as_str()).copied()).collect();
    let rest = gleaner_select::LcgOptions {
        budget: recipe.select.budget - seeds.len(),
        seeds_per_cluster: 0,
        ..recipe.select.clone()
    };
    let picks = gleaner_select::lcg(&[], &confidence, &predicted, &rest);
    Ok(LabelledRun { seeds, seeds_in_pool, picks, confidence, overlapping })
}
