//! The training recipe of `gleaner train quality` without the CLI (same library call, so
//! the same model file): `cargo run --release -p gleaner-quality --example train_quality --
//! TRAIN.csv VALID.csv OUT.json`. Uses the default options (the first 4 blocks of
//! SmolLM2-135M-Instruct).

use gleaner_embed::Embedder;
use gleaner_quality::{LmEmbedder, TrainOptions, train_files};
use std::path::PathBuf;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    let [train, valid, out] = args.as_slice() else {
        return Err("usage: train_quality TRAIN.csv VALID.csv OUT.json".into());
    };
    let opts = TrainOptions::default();
    let enc = LmEmbedder::load(
        &opts.embedder_name,
        opts.lm_layers.unwrap_or(gleaner_quality::DEFAULT_LM_LAYERS),
        opts.max_tokens.unwrap_or(gleaner_quality::DEFAULT_MAX_TOKENS),
        gleaner_nn::Precision::F32,
    )?;
    let t0 = std::time::Instant::now();
    let (model, r) = train_files(train, Some(valid), &enc, &opts, &|stage, done, total| {
        if done == total || done % 512 == 0 {
            eprintln!("{stage}: {done}/{total} texts ({:.0}s)", t0.elapsed().as_secs_f64());
        }
    })?;
    model.save(out)?;
    eprintln!(
        "{}: cv {:?}, λ {}, train acc {:.4}, valid acc {:?}, {} head parameters, dim {}; \
         embed {:.1}s, fit {:.1}s, valid {:.1}s, total {:.1}s",
        out.display(),
        model.training.cv,
        model.training.lambda,
        r.train_accuracy,
        r.valid_accuracy,
        model.head_parameters(),
        enc.dim(),
        r.embed_secs,
        r.fit_secs,
        r.valid_secs,
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}
