//! `gleaner score quality` and `gleaner score ifd`: one model stage into a side file.

use crate::cli::{ScoreCommand, ScoreIfdArgs, ScoreQualityArgs};
use crate::log::BarObserver;
use anyhow::{Context, Result};
use gleaner_core::layout::Template;
use gleaner_pipeline::ifd::{IfdOptions, ifd_stage};
use gleaner_pipeline::models::{ModelFamily, precision_name, resolve_precision};
use gleaner_pipeline::recipe::PrecisionChoice;
use gleaner_pipeline::score::quality_stage;

pub fn run(c: ScoreCommand, precision: Option<PrecisionChoice>) -> Result<()> {
    match c {
        ScoreCommand::Quality(a) => quality(a, precision),
        ScoreCommand::Ifd(a) => ifd(a, precision),
    }
}

/// The precision a model of `family` runs at for the command line's choice.
pub fn precision_for(choice: Option<PrecisionChoice>, family: ModelFamily) -> gleaner_nn::Precision {
    resolve_precision(choice.unwrap_or_default(), family)
}

fn quality(a: ScoreQualityArgs, precision: Option<PrecisionChoice>) -> Result<()> {
    super::check_writable(Some(&a.output))?;
    let _lock = super::lock_output(&a.output)?;
    let ds = super::read_input_shard(&a.input, &a.shard)?;
    let p = precision_for(precision, ModelFamily::Exact);
    let prec = precision_name(p);
    let model = gleaner_pipeline::models::load_quality(&a.model, a.encoder.as_deref(), p)
        .with_context(|| format!("loading quality model {}", a.model))?;
    let t0 = std::time::Instant::now();
    let t = quality_stage(&ds, model.as_ref(), prec, a.chunk_rows.max(1), &a.output, &BarObserver::default())?;
    let q = t.f64_column("quality", &a.output)?;
    crate::log::info(format!(
        "scored {} rows in {:.1}s ({prec}) → {}\n  quality {}",
        ds.len(),
        t0.elapsed().as_secs_f64(),
        a.output.display(),
        gleaner_report::Distribution::of(q).line()
    ));
    Ok(())
}

fn ifd(a: ScoreIfdArgs, precision: Option<PrecisionChoice>) -> Result<()> {
    super::check_writable(Some(&a.output))?;
    let _lock = super::lock_output(&a.output)?;
    let ds = super::read_input_shard(&a.input, &a.shard)?;
    let template =
        a.lm.template.map_or(Template::None, |t| Template::parse(t.name()).expect("the CLI's templates parse"));
    let mut opts = IfdOptions::new(template);
    if let Some(ml) = a.lm.max_length {
        anyhow::ensure!(ml >= 2, "--max-length must be at least 2");
        opts.max_length = ml;
    }
    opts.reverse = a.lm.reverse;
    opts.chunk_rows = a.lm.chunk_rows.max(1);
    let p = precision_for(precision, ModelFamily::IfdLm);
    opts.precision = precision_name(p).to_string();
    let t0 = std::time::Instant::now();
    let lm = gleaner_pipeline::models::load_lm(&a.lm.model, p)
        .with_context(|| format!("loading causal LM {}", a.lm.model))?;
    crate::log::info(format!(
        "loaded {} in {:.1}s ({})",
        lm.model.identity(),
        t0.elapsed().as_secs_f64(),
        opts.precision
    ));
    let t = ifd_stage(&ds, &lm, &opts, &a.output, &BarObserver::default())?;
    let ppl = t.f64_column("ifd_ppl", &a.output)?;
    let loss = t.f64_column("ifd_loss", &a.output)?;
    let nan = ppl.iter().filter(|x| x.is_nan()).count();
    crate::log::info(format!(
        "{} rows → {} (template {}, max_length {}, {}); {nan} not computable (NaN)\n  ifd_ppl  {}\n  ifd_loss {}",
        ds.len(),
        a.output.display(),
        opts.template.name(),
        opts.max_length,
        opts.precision,
        gleaner_report::Distribution::of(ppl).line(),
        gleaner_report::Distribution::of(loss).line(),
    ));
    Ok(())
}
