//! Stages that run a model or touch embeddings: `score`, `embed`, `cluster`, `classify`.

use super::{Embedded, StageRecord, State};
use crate::cluster::{ClusterOptions, cluster_stage};
use crate::models::{ModelFamily, precision_name, resolve_precision};
use crate::recipe::{ClassifierKind, Classify, Cluster, Embed, KSpec, PcaSpec, Score};
use gleaner_cache::{Column, SideTable};
use gleaner_cluster::{KRule, PcaTarget};
use gleaner_core::layout::{Template, TextKind};
use gleaner_core::{Error, Result};
use gleaner_embed::Embedder;

/// A side file name part from a free-form label (templates can hold any text).
fn file_part(label: &str) -> String {
    if label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') && label.len() <= 40 {
        label.to_string()
    } else {
        format!("custom-{:016x}", xxhash_rust::xxh3::xxh3_64(label.as_bytes()))
    }
}

fn template(name: Option<&str>, default: Template) -> Result<Template> {
    match name {
        Some(t) => Template::parse(t).ok_or_else(|| Error::Invalid(format!("unknown template `{t}`"))),
        None => Ok(default),
    }
}

/// Records a model stage for the run report; returns the precision's name.
fn record_model(st: &mut State<'_>, stage: &str, identity: &str, p: gleaner_nn::Precision) -> String {
    let name = precision_name(p).to_string();
    st.models.push(StageRecord { stage: stage.into(), identity: identity.into(), precision: name.clone() });
    name
}

/// `stage = "score"`: the scorer runs on the rows in play.
pub(super) fn score(st: &mut State<'_>, s: &Score) -> Result<()> {
    let scorer = crate::scorers::build(s)?;
    if let Some((identity, precision)) = scorer.model() {
        st.models.push(StageRecord { stage: format!("score {}", s.scorer.name()), identity, precision });
    }
    let view = st.view()?;
    let scores = scorer.score(&view, Some(st.work), st.obs)?;
    drop(view);
    for (name, v) in scores {
        st.scatter(&name, &v);
    }
    Ok(())
}

/// `stage = "embed"`.
pub(super) fn embed(st: &mut State<'_>, e: &Embed) -> Result<()> {
    let view = st.view()?;
    let (matrix, identity, file) = if e.text == "prompt-states" {
        let t = template(e.template.as_deref(), Template::Alpaca)?;
        let p = resolve_precision(e.precision, ModelFamily::Exact);
        let lm = crate::models::load_lm(&e.model, p)?;
        let prec = record_model(st, "embed prompt-states", &lm.model.identity(), p);
        let max_length = e.max_length.unwrap_or_else(|| t.default_max_length());
        let (ppl, m) = crate::preexp::prompt_stage(&view, &lm, t, max_length, &prec, st.work, st.obs)?;
        drop(view);
        st.scatter("prompt_ppl", &ppl);
        let file = format!("prompt-states-{}.parquet", t.name());
        (m, format!("{}:prompt-states:{}@{prec}", lm.model.identity(), t.name()), file)
    } else {
        let p = resolve_precision(e.precision, ModelFamily::SentenceEncoder);
        let enc = crate::models::load_embedder(&e.model, e.batch_tokens.unwrap_or(8192), p)?;
        let prec = record_model(st, "embed", &enc.identity(), p);
        let chunk = e.chunk_rows.unwrap_or(crate::embed::EMBED_CHUNK_ROWS).max(1);
        let (m, side) = if e.text == "prompt" {
            let t = template(e.template.as_deref(), Template::Alpaca)?;
            let name = format!("prompt-{}", t.name());
            let side = st.work.side(&format!("embeddings-{name}.parquet"))?;
            let render = move |r: &gleaner_core::Record| crate::preexp::instruct_text(t, r);
            (crate::embed::embed_rendered(&view, &enc, &name, &render, &prec, chunk, &side, st.obs)?, side)
        } else {
            let text = TextKind::parse(&e.text).ok_or_else(|| Error::Invalid(format!("unknown text `{}`", e.text)))?;
            let side = st.work.side(&format!("embeddings-{}.parquet", file_part(&text.name())))?;
            (crate::embed::embed_stage(&view, &enc, &text, &prec, chunk, &side, st.obs)?, side)
        };
        drop(view);
        let file = side.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        (m, format!("{}:{}@{prec}", enc.identity(), e.text), file)
    };
    st.emb = Some(Embedded { rows: st.active.clone(), matrix, identity, text: e.text.clone(), file });
    Ok(())
}

/// `stage = "cluster"`.
pub(super) fn cluster(st: &mut State<'_>, c: &Cluster) -> Result<()> {
    let (matrix, identity) = st.active_embeddings()?;
    let n = st.active.len();
    let opts = ClusterOptions {
        pca: match &c.pca {
            PcaSpec::Components(k) => Some(PcaTarget::Components(*k)),
            PcaSpec::Variance(v) => Some(PcaTarget::Variance(*v)),
            PcaSpec::Name(_) => None,
        },
        k: match &c.k {
            KSpec::Fixed(k) => KRule::Fixed((*k).min(n).max(1)),
            KSpec::Rule(r) if r == "car" => KRule::CarSqrtHalf,
            KSpec::Rule(_) => KRule::LcgSqrtEighth,
        },
        n_init: c.n_init,
        seed: c.seed,
        mini_batch: c.mini_batch,
    };
    let ids: Vec<_> = st.active.iter().map(|&r| st.ds.ids[r]).collect();
    let text = st.emb.as_ref().map_or("x", |e| e.text.as_str());
    let side = st.work.side(&format!("clusters-{}.parquet", file_part(text)))?;
    let res = cluster_stage(&matrix, &ids, &identity, &opts, &side, st.obs)?;
    let labels = res.table.f64_column("cluster", &side)?;
    let distance = res.table.f64_column("distance", &side)?;
    st.k = res.k;
    st.scatter("cluster", &labels);
    st.scatter("distance", &distance);
    Ok(())
}

/// The rows in play of each cluster (positions into the rows in play), nearest to the centroid
/// first (ties: earlier row).
pub(super) fn nearest_per_cluster(st: &State<'_>) -> Result<(Vec<u32>, Vec<Vec<usize>>)> {
    let labels: Vec<u32> = st.gather("cluster")?.iter().map(|&l| l as u32).collect();
    let distance = st.gather("distance")?;
    let mut nearest: Vec<Vec<usize>> = vec![Vec::new(); st.k];
    for (i, &l) in labels.iter().enumerate() {
        nearest[l as usize].push(i);
    }
    for m in &mut nearest {
        m.sort_by(|&a, &b| distance[a].total_cmp(&distance[b]).then(a.cmp(&b)));
    }
    Ok((labels, nearest))
}

/// `stage = "classify"`: LCG's classifier (docs/methods.md §4.3).
pub(super) fn classify(st: &mut State<'_>, c: &Classify) -> Result<()> {
    use gleaner_classify::{Classifier, Embeddings, Fit, Inputs, MultinomialNb, NbOptions, NeuralHead, NeuralOptions};
    let (labels, nearest) = nearest_per_cluster(st)?;
    let train: Vec<usize> = nearest.iter().flat_map(|m| m.iter().take(c.pseudo_per_cluster).copied()).collect();
    let train_labels: Vec<u32> = train.iter().map(|&i| labels[i]).collect();
    let (emb, _) = st.active_embeddings()?;
    let dim = emb.dim;
    let texts: Vec<String> = st.view()?.map_records(|r| TextKind::Lcg.render(r))?;
    let model: Box<dyn Classifier> = match (&c.load, c.classifier) {
        (Some(p), _) => gleaner_classify::load(std::path::Path::new(p))?,
        (None, ClassifierKind::Nb) => {
            let train_texts: Vec<String> = train.iter().map(|&i| texts[i].clone()).collect();
            Box::new(MultinomialNb::fit(Inputs::Texts(&train_texts), &train_labels, &NbOptions::default())?)
        }
        (None, ClassifierKind::Neural) => {
            let mut o = NeuralOptions::default();
            o.epochs = c.epochs.unwrap_or(o.epochs);
            o.lr = c.lr.unwrap_or(o.lr);
            o.batch_size = c.batch_size.unwrap_or(o.batch_size);
            o.hidden = c.hidden;
            o.seed = c.seed.unwrap_or(crate::recipe::presets::DEFAULT_SEED);
            let train_emb: Vec<f32> = train.iter().flat_map(|&i| emb.row(i).to_vec()).collect();
            Box::new(NeuralHead::fit(Inputs::Embeddings(Embeddings::new(&train_emb, dim)?), &train_labels, &o)?)
        }
    };
    if let Some(p) = &c.save {
        model.save(std::path::Path::new(p))?;
        st.obs.info(&format!("saved the {} classifier to {p}", model.kind()));
    }
    let inputs = match model.input_kind() {
        gleaner_classify::InputKind::Texts => Inputs::Texts(&texts),
        gleaner_classify::InputKind::Embeddings { dim: d } => {
            if d != dim {
                return Err(Error::Invalid(format!(
                    "the classifier expects {d}-dimensional embeddings but the embeddings have {dim}"
                )));
            }
            Inputs::Embeddings(Embeddings::new(&emb.data, dim)?)
        }
    };
    let (confidence, predicted) =
        model.predict_confidence(inputs, gleaner_classify::confidence::Confidence::MaxProba)?;
    if !train.is_empty() {
        let agree = train.iter().filter(|&&i| predicted[i] == labels[i]).count();
        st.obs.info(&format!(
            "{} clusters, {} pseudo-labelled rows (the classifier agrees with {:.1}% of them)",
            st.k,
            train.len(),
            100.0 * agree as f64 / train.len() as f64
        ));
    }
    let mut pseudo = vec![0.0; st.active.len()];
    for &i in &train {
        pseudo[i] = 1.0;
    }
    let predicted: Vec<f64> = predicted.iter().map(|&l| f64::from(l)).collect();
    // the classifier's outputs, beside the other side files
    let ids: Vec<_> = st.active.iter().map(|&r| st.ds.ids[r]).collect();
    let pos: Vec<_> = st.active.iter().map(|&r| st.ds.positions[r]).collect();
    let mut t = SideTable::new(&ids, &pos);
    t.set("pseudo_label", Column::F64(pseudo.clone()));
    t.set("predicted", Column::F64(predicted.clone()));
    t.set("confidence", Column::F64(confidence.clone()));
    t.write(&st.work.side("classify.parquet")?)?;
    st.scatter("confidence", &confidence);
    st.scatter("predicted", &predicted);
    st.scatter("pseudo_label", &pseudo);
    Ok(())
}
