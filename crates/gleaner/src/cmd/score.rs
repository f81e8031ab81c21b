//! `gleaner score …`.

use crate::cli::{ScoreCommand, ScoreQualityArgs};
use crate::log::BarObserver;
use anyhow::{Context, Result};
use gleaner_pipeline::score::{IqsModel, QualityModel, quality_stage};
use std::path::Path;

pub fn run(c: ScoreCommand) -> Result<()> {
    match c {
        ScoreCommand::Quality(a) => quality(a),
        ScoreCommand::Ifd(a) => super::ifd::score(a),
    }
}

/// Loads a quality model by path or name.
pub fn load_quality(model: &str, encoder: Option<&Path>) -> Result<Box<dyn QualityModel>> {
    if gleaner_pipeline::score::OwnQualityModel::is_own_model(model) {
        let own = gleaner_pipeline::score::OwnQualityModel::load(model)
            .with_context(|| format!("loading gleaner quality model {model}"))?;
        return Ok(Box::new(own));
    }
    let path = gleaner_models::resolve(model)?;
    let dir = path.path();
    if dir.join("hparams.yaml").is_file() || dir.extension().is_some_and(|e| e == "ckpt") {
        let model_dir = if dir.is_file() { dir.parent().and_then(Path::parent).unwrap_or(dir) } else { dir };
        let enc = match encoder {
            Some(e) => e.to_path_buf(),
            None => match gleaner_iqs::Iqs::local_encoder_dir(model_dir)? {
                Some(e) => e,
                None => {
                    let name = gleaner_iqs::Iqs::read_config(model_dir)?.pretrained_model;
                    gleaner_models::resolve(&name)
                        .with_context(|| format!("IQS encoder `{name}` named in hparams.yaml"))?
                        .path()
                        .to_path_buf()
                }
            },
        };
        let iqs = gleaner_iqs::Iqs::load(dir, &enc)?;
        let size = std::fs::metadata(dir).map(|m| m.len()).unwrap_or(0);
        return Ok(Box::new(IqsModel { iqs, id: format!("iqs:{}:{size}", dir.display()) }));
    }
    anyhow::bail!("{model}: not a gleaner quality model (.json or `default`) nor an IQS checkpoint (no hparams.yaml)")
}

fn quality(a: ScoreQualityArgs) -> Result<()> {
    let ds = super::read_input(&a.input)?;
    let model = load_quality(&a.model, a.encoder.as_deref())?;
    let t0 = std::time::Instant::now();
    let t = quality_stage(&ds, model.as_ref(), &a.output, &BarObserver::default())?;
    let q = t.f64_column("quality", &a.output)?;
    crate::log::info(format!(
        "scored {} rows in {:.1}s → {}\n  quality {}",
        ds.len(),
        t0.elapsed().as_secs_f64(),
        a.output.display(),
        gleaner_report::Distribution::of(q).line()
    ));
    Ok(())
}
