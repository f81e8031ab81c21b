//! The `lcg` preset (Low-Confidence Gold, SPEC §4): embed `input ‖ " " ‖ instruction` →
//! PCA 0.95 + k-means → the `m` members nearest each centroid become pseudo-labelled training
//! rows → a lightweight classifier (multinomial NB or a softmax head on the embeddings) →
//! confidence (max class probability) for every row → the `s` nearest per cluster, then the
//! lowest-confidence rows across the pool until the budget.
//!
//! Fixes the reference's bugs: the classifier is trained on the pseudo-labels of the centroid
//! set (not on another set's labels), and it can be saved and reloaded. The selection order is
//! a reconstruction from the released files (SPEC §4.4).

use crate::cluster::{ClusterOptions, cluster_stage};
use crate::embed::embed_stage;
use crate::stages::StageLog;
use crate::{Observer, WorkDir};
use gleaner_cache::{Column, SideTable};
use gleaner_classify::{Classifier, Embeddings, Fit, Inputs, MultinomialNb, NbOptions, NeuralHead, NeuralOptions};
use gleaner_core::layout::TextKind;
use gleaner_core::{Error, Result};
use gleaner_embed::Embedder;
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

/// Options of an LCG run.
#[derive(Debug, Clone)]
pub struct LcgRecipe {
    /// Clustering (LCG: PCA 0.95, k = 40 by default).
    pub cluster: ClusterOptions,
    /// Pseudo-labelled rows per cluster: the `m` nearest the centroid (default 40).
    pub pseudo_per_cluster: usize,
    /// The classifier.
    pub classifier: LcgClassifier,
    /// Where to save the trained classifier.
    pub save_classifier: Option<PathBuf>,
    /// Selection (budget, seeds per cluster, optional per-cluster quota).
    pub select: gleaner_select::LcgOptions,
}

/// What an LCG run produced.
pub struct LcgRun {
    /// Kept rows in output order.
    pub picks: Vec<Pick>,
    /// Classifier confidence per input row.
    pub confidence: Vec<f64>,
    /// Cluster per input row (decimal strings).
    pub labels: Vec<String>,
    /// Number of clusters.
    pub k: usize,
    /// Rows used as pseudo-labelled training data.
    pub pseudo: usize,
    /// Training-set accuracy of the classifier on its pseudo-labels (a sanity figure).
    pub train_accuracy: f64,
    /// Per-stage wall time and peak RSS.
    pub stages: StageLog,
}

/// Runs the LCG recipe; writes `lcg.parquet` (cluster, distance, pseudo_label, predicted,
/// confidence) in the work directory.
pub fn run_lcg(
    ds: &Dataset,
    embedder: &dyn Embedder,
    recipe: &LcgRecipe,
    work: &WorkDir,
    obs: &dyn Observer,
) -> Result<LcgRun> {
    let mut stages = StageLog::default();
    stages.begin("embed");
    let text = TextKind::Lcg;
    let emb = embed_stage(ds, embedder, &text, &work.side("embeddings-lcg.parquet")?, obs)?;
    stages.begin("cluster");
    let c = cluster_stage(
        &emb,
        &ds.ids,
        &format!("{}:lcg", embedder.identity()),
        &recipe.cluster,
        &work.side("clusters-lcg.parquet")?,
        obs,
    )?;
    let side_path = work.side("lcg.parquet")?;
    let labels: Vec<u32> = c.table.f64_column("cluster", &side_path)?.iter().map(|&l| l as u32).collect();
    let distance = c.table.f64_column("distance", &side_path)?;
    let k = c.k;
    drop(c); // the PCA'd copy of the embeddings is not needed any more
    // Members of each cluster sorted by distance to their own centroid (ties: lower index).
    let mut nearest: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (i, &l) in labels.iter().enumerate() {
        nearest[l as usize].push(i);
    }
    for m in &mut nearest {
        m.sort_by(|&a, &b| distance[a].total_cmp(&distance[b]).then(a.cmp(&b)));
    }
    let train: Vec<usize> = nearest.iter().flat_map(|m| m.iter().take(recipe.pseudo_per_cluster).copied()).collect();
    let train_labels: Vec<u32> = train.iter().map(|&i| labels[i]).collect();
    stages.begin("classify");
    let texts: Vec<String> = ds.map_records(|r| text.render(r))?;
    let train_texts: Vec<String> = train.iter().map(|&i| texts[i].clone()).collect();
    let dim = embedder.dim();
    let train_emb: Vec<f32> = train.iter().flat_map(|&i| emb.row(i).to_vec()).collect();
    let model: Box<dyn Classifier> = match &recipe.classifier {
        LcgClassifier::Nb(o) => Box::new(MultinomialNb::fit(Inputs::Texts(&train_texts), &train_labels, o)?),
        LcgClassifier::Neural(o) => {
            Box::new(NeuralHead::fit(Inputs::Embeddings(Embeddings::new(&train_emb, dim)?), &train_labels, o)?)
        }
        LcgClassifier::Load(p) => gleaner_classify::load(p)?,
    };
    if let Some(p) = &recipe.save_classifier {
        model.save(p)?;
        obs.info(&format!("saved the {} classifier to {}", model.kind(), p.display()));
    }
    let inputs = match model.input_kind() {
        gleaner_classify::InputKind::Texts => Inputs::Texts(&texts),
        gleaner_classify::InputKind::Embeddings { dim: d } => {
            if d != dim {
                return Err(Error::Invalid(format!(
                    "the classifier expects {d}-dimensional embeddings but {} gives {dim}",
                    embedder.identity()
                )));
            }
            Inputs::Embeddings(Embeddings::new(&emb.data, dim)?)
        }
    };
    let (confidence, predicted) =
        model.predict_confidence(inputs, gleaner_classify::confidence::Confidence::MaxProba)?;
    let train_accuracy = if train.is_empty() {
        f64::NAN
    } else {
        train.iter().filter(|&&i| predicted[i] == labels[i]).count() as f64 / train.len() as f64
    };
    stages.begin("select");
    let picks = gleaner_select::lcg(&nearest, &confidence, &labels, &recipe.select);
    stages.end();
    let mut pseudo = vec![0i64; ds.len()];
    for &i in &train {
        pseudo[i] = 1;
    }
    let mut t = SideTable::new(&ds.ids, &ds.positions);
    t.set("cluster", Column::I64(labels.iter().map(|&l| i64::from(l)).collect()));
    t.set("distance", Column::F64(distance));
    t.set("pseudo_label", Column::I64(pseudo));
    t.set("predicted", Column::I64(predicted.iter().map(|&l| i64::from(l)).collect()));
    t.set("confidence", Column::F64(confidence.clone()));
    t.write(&side_path)?;
    Ok(LcgRun {
        picks,
        confidence,
        labels: labels.iter().map(|l| l.to_string()).collect(),
        k,
        pseudo: train.len(),
        train_accuracy,
        stages,
    })
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
