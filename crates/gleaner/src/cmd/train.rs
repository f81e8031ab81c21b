//! `gleaner train …`.

use crate::cli::{TrainCommand, TrainQualityArgs};
use anyhow::{Context, Result, anyhow};
use gleaner_quality::{TrainOptions, View, train_files};
use std::sync::Mutex;
use std::time::Instant;

pub fn run(c: TrainCommand) -> Result<()> {
    match c {
        TrainCommand::Quality(a) => quality(a),
    }
}

fn quality(a: TrainQualityArgs) -> Result<()> {
    let t0 = Instant::now();
    let views = a
        .views
        .split(',')
        .map(|v| {
            View::parse(v.trim()).ok_or_else(|| anyhow!("unknown view `{v}` (expected chat, response, prompt or car)"))
        })
        .collect::<Result<Vec<_>>>()?;
    let lm = (a.lm_layers > 0).then_some(a.lm_layers);
    let opts = TrainOptions {
        views,
        lambdas: a.lambda.clone(),
        folds: a.folds,
        seed: a.seed,
        embedder_name: a.embedder.clone(),
        lm_layers: lm,
        max_tokens: lm.map(|_| a.max_tokens),
    };
    // f32 features, as the shipped default was trained (reproducible)
    let (enc, what): (Box<dyn gleaner_embed::Embedder>, String) = match lm {
        Some(l) => {
            let e = gleaner_quality::LmEmbedder::load(&a.embedder, l, a.max_tokens, gleaner_nn::Precision::F32)
                .with_context(|| format!("loading embedder {}", a.embedder))?;
            let what = format!(
                "mean hidden state after block {l} of {} ({:.1}M parameters)",
                a.embedder,
                e.parameters() as f64 / 1e6
            );
            (Box::new(e), what)
        }
        None => (
            gleaner_quality::load_embedder(&a.embedder, None, None, Some(a.batch_tokens), gleaner_nn::Precision::F32)
                .with_context(|| format!("loading embedder {}", a.embedder))?,
            a.embedder.clone(),
        ),
    };
    crate::log::info(format!(
        "training on {} ({} × {}-d {what} + {} text statistics)",
        a.train.display(),
        a.views,
        enc.dim(),
        gleaner_quality::features::TEXT_V1.len()
    ));
    let bar: Mutex<Option<(String, indicatif::ProgressBar)>> = Mutex::new(None);
    let progress = |stage: &str, done: usize, total: usize| {
        let mut b = bar.lock().unwrap();
        if b.as_ref().is_none_or(|(s, _)| s != stage) {
            if let Some((_, old)) = b.take() {
                old.finish_and_clear();
            }
            *b = Some((stage.to_string(), crate::log::progress(total as u64, stage, "texts")));
        }
        if let Some((_, pb)) = b.as_ref() {
            pb.set_position(done as u64);
        }
    };
    let (model, r) = train_files(&a.train, a.valid.as_deref(), enc.as_ref(), &opts, &progress)
        .with_context(|| format!("training a quality model on {}", a.train.display()))?;
    if let Some((_, pb)) = bar.lock().unwrap().take() {
        pb.finish_and_clear();
    }
    model.save(&a.output)?;

    let cv: Vec<String> = model.training.cv.iter().map(|[l, acc]| format!("λ={l}: {acc:.4}")).collect();
    let valid = match (r.valid_accuracy, &a.valid) {
        (Some(acc), Some(p)) => {
            format!("\n  valid pairwise accuracy {acc:.4} ({} pairs, {})", r.valid_pairs, p.display())
        }
        _ => String::new(),
    };
    crate::log::info(format!(
        "trained {} → {}\n  cross-validation over {} training pairs ({} folds): {}\n  \
         chosen λ = {}; train pairwise accuracy {:.4}{valid}\n  \
         parameters: {} trained (head: {} weights + {} standardisation constants) on the frozen {what}\n  \
         time: {:.1}s total (embedding {:.1}s, fitting {:.1}s, validation {:.1}s)",
        model.identity(),
        a.output.display(),
        r.train_pairs,
        model.training.folds,
        cv.join(", "),
        model.training.lambda,
        r.train_accuracy,
        model.head_parameters(),
        model.weights.len(),
        model.mean.len() + model.scale.len(),
        t0.elapsed().as_secs_f64(),
        r.embed_secs,
        r.fit_secs,
        r.valid_secs,
    ));
    Ok(())
}
