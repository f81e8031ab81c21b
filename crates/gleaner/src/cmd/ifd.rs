//! `gleaner score ifd` and the IFD presets (`run cherry`, `run superfilter`, `run superfilter-d`).

use crate::cli::{LmArgs, RunCherryArgs, RunPreExperienceArgs, RunSuperfilterArgs, RunSuperfilterDArgs, ScoreIfdArgs};
use crate::log::BarObserver;
use anyhow::{Context, Result, anyhow};
use gleaner_core::layout::{FlPart, Template};
use gleaner_lm::LoadedLm;
use gleaner_pipeline::ifd::{IfdOptions, ifd_stage};
use gleaner_pipeline::ifd_presets::{IfdRule, IfdRun, run_ifd};
use gleaner_pipeline::summary::selection_summary;
use gleaner_read::Dataset;
use gleaner_select::{Budget, CherryOptions, SuperfilterOptions};

/// Loads a causal LM by path or installed name.
pub fn load_lm(name: &str) -> Result<LoadedLm> {
    let m = gleaner_models::resolve(name)?;
    let t0 = std::time::Instant::now();
    let lm = gleaner_lm::load(m.path()).with_context(|| format!("loading causal LM {name}"))?;
    crate::log::info(format!("loaded {} in {:.1}s", lm.model.identity(), t0.elapsed().as_secs_f64()));
    Ok(lm)
}

/// The stage options from the command line, with `default` as the method's template.
pub fn ifd_options(a: &LmArgs, default: Template) -> Result<IfdOptions> {
    let template = match &a.template {
        Some(t) => Template::parse(t).ok_or_else(|| anyhow!("unknown --template `{t}`"))?,
        None => default,
    };
    let mut o = IfdOptions::new(template);
    if let Some(ml) = a.max_length {
        anyhow::ensure!(ml >= 2, "--max-length must be at least 2");
        o.max_length = ml;
    }
    o.reverse = a.reverse;
    o.chunk_rows = a.chunk_rows.max(1);
    Ok(o)
}

pub fn score(a: ScoreIfdArgs) -> Result<()> {
    let ds = super::read_input(&a.input)?;
    let opts = ifd_options(&a.lm, Template::None)?;
    let lm = load_lm(&a.lm.model)?;
    let t = ifd_stage(&ds, &lm, &opts, &a.output, &BarObserver::default())?;
    let ppl = t.f64_column("ifd_ppl", &a.output)?;
    let loss = t.f64_column("ifd_loss", &a.output)?;
    let nan = ppl.iter().filter(|x| x.is_nan()).count();
    crate::log::info(format!(
        "{} rows → {} (template {}, max_length {}); {nan} not computable (NaN)\n  ifd_ppl  {}\n  ifd_loss {}",
        ds.len(),
        a.output.display(),
        opts.template.name(),
        opts.max_length,
        gleaner_report::Distribution::of(ppl).line(),
        gleaner_report::Distribution::of(loss).line(),
    ));
    Ok(())
}

fn finish(
    name: &str,
    ds: &Dataset,
    r: &IfdRun,
    annotate: bool,
    c: &crate::cli::RunCommon,
    work: &gleaner_pipeline::WorkDir,
) -> Result<()> {
    let ifd = |i: usize| gleaner_core::nonfinite::float_value(r.ifd[i]);
    let fields: &[super::Annotation<'_>] = if annotate { &[(r.column, &ifd)] } else { &[] };
    super::write_picks_annotated(ds, &r.picks, fields, &c.out)?;
    eprint!("{}", selection_summary(name, ds.len(), &r.picks, Some((r.column, &r.ifd)), None));
    eprint!("{}", r.dropped_summary());
    eprint!("{}", r.stages.render());
    crate::log::info(format!("side files in {}", work.dir.display()));
    Ok(())
}

fn budget(size: &crate::cli::BudgetArgs, default_ratio: f64) -> Budget {
    match (size.budget, size.ratio) {
        (Some(n), _) => Budget::Count(n),
        (None, Some(r)) => Budget::Ratio(r),
        (None, None) => Budget::Ratio(default_ratio),
    }
}

pub fn cherry(a: RunCherryArgs) -> Result<()> {
    let c = &a.common;
    let ds = super::read_input(&c.input)?;
    let opts = ifd_options(&a.lm, Template::Alpaca)?;
    let lm = load_lm(&a.lm.model)?;
    let work = super::run::work_dir(c);
    let rule = IfdRule::Cherry(CherryOptions { budget: budget(&a.size, 0.06) });
    let r = run_ifd(&ds, &lm, &opts, &rule, None, &work, &BarObserver::default())?;
    finish("cherry", &ds, &r, a.annotate, c, &work)
}

pub fn superfilter(a: RunSuperfilterArgs) -> Result<()> {
    let c = &a.common;
    let ds = super::read_input(&c.input)?;
    let opts = ifd_options(&a.lm, Template::None)?;
    let lm = load_lm(&a.lm.model)?;
    let work = super::run::work_dir(c);
    let rule = IfdRule::Superfilter(SuperfilterOptions {
        budget: budget(&a.size, 0.1),
        threshold: a.threshold,
        reference_count: a.reference_count,
    });
    let r = run_ifd(&ds, &lm, &opts, &rule, None, &work, &BarObserver::default())?;
    finish("superfilter", &ds, &r, a.annotate, c, &work)
}

pub fn superfilter_d(a: RunSuperfilterDArgs) -> Result<()> {
    let c = &a.common;
    let ds = super::read_input(&c.input)?;
    let opts = ifd_options(&a.lm, Template::None)?;
    let lm = load_lm(&a.lm.model)?;
    let embedder = super::embed::load_embedder(&c.embedder, 8192)?;
    let work = super::run::work_dir(c);
    let part = match a.emb_type.as_str() {
        "instruction" => FlPart::Instruction,
        "response" => FlPart::Response,
        _ => FlPart::Whole,
    };
    let candidates = match (a.candidates, a.candidates_ratio) {
        (Some(n), _) => Budget::Count(n),
        (None, Some(r)) => Budget::Ratio(r),
        (None, None) => Budget::Ratio(0.2),
    };
    let rule = IfdRule::Diverse { candidates, upper: a.upper, budget: budget(&a.size, 0.02), part };
    let r = run_ifd(&ds, &lm, &opts, &rule, Some(&embedder), &work, &BarObserver::default())?;
    finish("superfilter-d", &ds, &r, false, c, &work)
}

pub fn pre_experience(a: RunPreExperienceArgs) -> Result<()> {
    let c = &a.common;
    let ds = super::read_input(&c.input)?;
    let opts = ifd_options(&a.lm, Template::Alpaca)?;
    let lm = load_lm(&a.lm.model)?;
    let embedder = if a.sentence_embeddings { Some(super::embed::load_embedder(&c.embedder, 8192)?) } else { None };
    let work = super::run::work_dir(c);
    let cluster = gleaner_pipeline::cluster::ClusterOptions {
        pca: None,
        k: gleaner_cluster::KRule::Fixed(a.clusters.min(ds.len()).max(1)),
        n_init: 1,
        seed: c.seed,
        mini_batch: None,
    };
    let pe = gleaner_select::PreExperienceOptions { per_cluster: a.per_cluster, low: a.low, up: a.up };
    let r = gleaner_pipeline::preexp::run_pre_experience(
        &ds,
        &lm,
        opts.template,
        opts.max_length,
        embedder.as_ref().map(|e| e as &dyn gleaner_embed::Embedder),
        &cluster,
        &pe,
        &work,
        &BarObserver::default(),
    )?;
    super::write_picks(&ds, &r.picks, &c.out)?;
    eprint!(
        "{}",
        selection_summary("pre-experience", ds.len(), &r.picks, Some(("prompt ppl", &r.ppl)), Some(&r.labels))
    );
    eprintln!("  dropped: {:<34} {}", "outside the per-cluster sample", ds.len() - r.picks.len());
    eprint!("{}", r.stages.render());
    Ok(())
}
