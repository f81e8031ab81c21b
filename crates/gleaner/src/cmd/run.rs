//! `gleaner run <preset>` and `gleaner run --recipe FILE|NAME`: both become a recipe, checked
//! before any model loads, then run by the library's stage runner.

use crate::cli::{
    ClassifierArg, FlTextArg, InputArgs, LcgKRule, LmArgs, OutputArgs, RecipeRunArgs, RunArgs, RunCommand, RunCommon,
};
use crate::log::BarObserver;
use anyhow::{Result, anyhow};
use gleaner_pipeline::WorkDir;
use gleaner_pipeline::recipe::presets::{self as p, Keep, Preset, QualitySource};
use gleaner_pipeline::recipe::{self, ClassifierKind, KSpec, PrecisionChoice, Recipe, Select, Stage};
use gleaner_pipeline::report::ReportOptions;
use gleaner_pipeline::runner::{RunOptions, run as run_recipe};
use std::path::{Path, PathBuf};

pub fn run(a: RunArgs, precision: Option<PrecisionChoice>) -> Result<()> {
    match a.preset {
        Some(c) => preset(c, precision),
        None => recipe_file(a.recipe, precision),
    }
}

/// The work directory for a run.
pub(super) fn work_dir(dir: Option<&PathBuf>, out: Option<&PathBuf>) -> WorkDir {
    match (dir, out) {
        (Some(d), _) => WorkDir { dir: d.clone() },
        (None, Some(o)) => WorkDir::for_output(o),
        (None, None) => WorkDir { dir: "gleaner-work".into() },
    }
}

fn keep(size: &crate::cli::BudgetArgs, default: Keep) -> Keep {
    match (size.budget, size.ratio) {
        (Some(n), _) => Keep::Count(n),
        (None, Some(r)) => Keep::Ratio(r),
        (None, None) => default,
    }
}

fn lm(a: &LmArgs) -> p::Lm {
    p::Lm {
        model: a.model.clone(),
        template: a.template.map(|t| t.name().to_string()),
        max_length: a.max_length,
        reverse: a.reverse,
        chunk_rows: a.chunk_rows.max(1),
        precision: PrecisionChoice::Auto,
    }
}

fn preset(c: RunCommand, precision: Option<PrecisionChoice>) -> Result<()> {
    let (recipe, common): (Recipe, RunCommon) = match c {
        RunCommand::Car(a) => {
            let n1 = match (a.size.budget, a.size.ratio) {
                (Some(b), _) => b,
                _ => a.n1,
            };
            let car = p::Car {
                quality: match &a.quality {
                    Some(q) => QualitySource::Values(q.clone()),
                    None => QualitySource::Model {
                        model: a.quality_model.clone(),
                        encoder: a.encoder.as_ref().map(|e| e.display().to_string()),
                    },
                },
                embedder: a.embedder.clone(),
                n1,
                ratio: if a.size.budget.is_none() { a.size.ratio } else { None },
                n2: a.n2,
                pca: super::cluster::pca_spec(&a.pca)?,
                k: a.k,
                n_init: a.n_init,
                seed: a.seed,
                annotate: a.annotate,
            };
            (car.recipe(), a.common)
        }
        RunCommand::Cherry(a) => {
            let d = p::Cherry::default();
            let c = p::Cherry { lm: lm(&a.lm), keep: keep(&a.size, d.keep), annotate: a.annotate };
            (c.recipe(), a.common)
        }
        RunCommand::Superfilter(a) => {
            let d = p::Superfilter::default();
            let s = p::Superfilter {
                lm: lm(&a.lm),
                keep: keep(&a.size, d.keep),
                threshold: a.threshold,
                reference_count: a.reference_count,
                annotate: a.annotate,
            };
            (s.recipe(), a.common)
        }
        RunCommand::SuperfilterD(a) => {
            let d = p::SuperfilterD::default();
            let candidates = match (a.candidates, a.candidates_ratio) {
                (Some(n), _) => Keep::Count(n),
                (None, Some(r)) => Keep::Ratio(r),
                (None, None) => d.candidates,
            };
            let s = p::SuperfilterD {
                lm: lm(&a.lm),
                embedder: a.embedder.clone(),
                candidates,
                upper: a.upper,
                keep: keep(&a.size, d.keep),
                text: match a.emb_type {
                    FlTextArg::Whole => "fl",
                    FlTextArg::Instruction => "fl-instruction",
                    FlTextArg::Response => "fl-response",
                }
                .into(),
            };
            (s.recipe(), a.common)
        }
        RunCommand::Lcg(a) => {
            let d = p::Lcg::default();
            let mut l = p::Lcg {
                embedder: a.embedder.clone(),
                keep: keep(&a.size, d.keep),
                k: match (a.k, a.k_rule) {
                    (Some(k), _) => KSpec::Fixed(k),
                    (None, LcgKRule::Fixed) => d.k.clone(),
                    (None, LcgKRule::SqrtN8) => KSpec::Rule("lcg".into()),
                },
                pca: super::cluster::pca_spec(&a.pca)?,
                n_init: a.n_init,
                seed: a.seed,
                pseudo: a.pseudo,
                seeds: a.seeds,
                per_cluster_quota: a.per_cluster_quota,
                classify: d.classify.clone(),
            };
            l.classify.classifier = match a.classifier {
                ClassifierArg::Nb => ClassifierKind::Nb,
                ClassifierArg::Neural => ClassifierKind::Neural,
            };
            l.classify.epochs = a.epochs;
            l.classify.lr = a.lr;
            l.classify.batch_size = a.batch_size;
            l.classify.hidden = a.hidden;
            l.classify.seed = Some(a.seed);
            l.classify.load = a.load_classifier.as_ref().map(|p| p.display().to_string());
            l.classify.save = a.save_classifier.as_ref().map(|p| p.display().to_string());
            if let Some(labels) = &a.pseudo_labels {
                return super::lcg_labelled::run(&a, &l, labels);
            }
            (l.recipe(), a.common)
        }
        RunCommand::PreExperience(a) => {
            let pe = p::PreExperience {
                lm: lm(&a.lm),
                clusters: a.clusters,
                per_cluster: a.per_cluster,
                low: a.low,
                up: a.up,
                sentence_embeddings: a.sentence_embeddings.clone(),
                seed: a.seed,
            };
            (pe.recipe(), a.common)
        }
    };
    let work = work_dir(common.work_dir.as_ref(), common.out.output.as_ref());
    let source = PathBuf::from(format!("preset:{}", recipe.name));
    execute(recipe, "", &source, &common.input, &common.out, work, precision, report_options(common.no_report))
}

/// Applies the command line's overrides to a recipe (flags win over the recipe's values);
/// `--precision` is applied by [`execute`], for presets and recipes alike.
fn override_recipe(r: &mut Recipe, a: &RecipeRunArgs) {
    for st in &mut r.stages {
        match st {
            Stage::Score(s) => {
                if let (Some(seed), gleaner_pipeline::recipe::Scorer::Random) = (a.seed, s.scorer) {
                    s.seed = Some(seed);
                }
            }
            Stage::Cluster(c) => {
                if let Some(seed) = a.seed {
                    c.seed = seed;
                }
            }
            Stage::Select(s) if a.budget.is_some() || a.ratio.is_some() => match s {
                Select::TopK(t) => (t.budget, t.ratio) = (a.budget, a.ratio),
                Select::FacilityLocation(f) => (f.budget, f.ratio) = (a.budget, a.ratio),
                Select::Lcg(l) => (l.budget, l.ratio) = (a.budget, a.ratio),
                Select::Car(c) => {
                    if let Some(b) = a.budget {
                        c.n1 = b;
                    }
                    c.ratio = a.ratio;
                }
                Select::PreExperience(_) => {}
            },
            _ => {}
        }
    }
}

fn recipe_file(a: RecipeRunArgs, precision: Option<PrecisionChoice>) -> Result<()> {
    let spec = a.recipe.clone().ok_or_else(|| anyhow!("pass --recipe FILE.toml or a preset"))?;
    let path = PathBuf::from(&spec);
    let (mut r, text, source) = if path.exists() || spec.ends_with(".toml") {
        let text = std::fs::read_to_string(&path).map_err(|e| gleaner_core::Error::io(&path, e))?;
        (recipe::parse(&text, &path)?, text, path)
    } else {
        let r = recipe::find(&spec).ok_or_else(|| {
            anyhow!("`{spec}` is neither a recipe file nor a bundled recipe (`gleaner recipes` lists them)")
        })?;
        (r, String::new(), PathBuf::from(format!("bundled:{spec}")))
    };
    // the file as written must be valid (line numbers refer to it), then with the overrides
    recipe::validate(&r, &text, &source)?;
    override_recipe(&mut r, &a);
    let read = r.stages.iter().find_map(|s| if let Stage::Read(x) = s { Some(x.clone()) } else { None });
    let read = read.unwrap_or_default();
    let input = InputArgs {
        input: a.input.clone().ok_or_else(|| anyhow!("pass the input file"))?,
        format: a.format.clone().or(read.format.clone()),
        on_error: a.on_error.unwrap_or(match read.on_error {
            recipe::OnBadRecord::Fail => crate::cli::OnErrorArg::Fail,
            recipe::OnBadRecord::Skip => crate::cli::OnErrorArg::Skip,
        }),
        limit: a.limit.or(read.limit),
    };
    let work = work_dir(a.work_dir.as_ref(), a.out.output.as_ref());
    execute(r, "", &source, &input, &a.out, work, precision, report_options(a.no_report))
}

/// The report of a run: none with `--no-report`, else the full page.
pub(super) fn report_options(no_report: bool) -> Option<ReportOptions> {
    (!no_report).then(ReportOptions::default)
}

/// Validates, reads, runs, writes the output, the summary, `summary.json`, the per-row file
/// and (with `report` options) `report.html`.
#[allow(clippy::too_many_arguments)]
pub(super) fn execute(
    mut r: Recipe,
    text: &str,
    source: &Path,
    input: &InputArgs,
    out: &OutputArgs,
    work: WorkDir,
    precision: Option<PrecisionChoice>,
    report: Option<ReportOptions>,
) -> Result<()> {
    for st in &mut r.stages {
        match st {
            Stage::Score(s) => s.precision = precision.unwrap_or(s.precision),
            Stage::Embed(e) => e.precision = precision.unwrap_or(e.precision),
            Stage::Dedup(d) => d.precision = precision.unwrap_or(d.precision),
            _ => {}
        }
    }
    recipe::validate(&r, text, source)?;
    // Before any input is read or model loaded: the output must be writable and the work
    // directory ours alone for the whole run.
    super::check_writable(out.output.as_deref())?;
    let _lock = super::lock_work(&work)?;
    let ds = super::read_input(input)?;
    let obs = BarObserver::default();
    let outcome = run_recipe(&r, &ds, &RunOptions { work: work.clone() }, &obs)?;
    let kept = outcome.kept_records(&ds)?;
    super::write_records(&ds, &kept, out)?;
    eprint!("{}", outcome.render());
    let summary = outcome.write_summary(&work.dir)?;
    outcome.write_rows(&ds, &work.dir)?;
    crate::log::info(format!(
        "side files and {} in {}",
        summary.file_name().unwrap().to_string_lossy(),
        work.dir.display()
    ));
    if let Some(opts) = report {
        let page = work.dir.join("report.html");
        let report = gleaner_pipeline::report::build_with(&work.dir, &ds, &opts, &obs)?;
        super::report::write(&report, &page)?;
    }
    Ok(())
}
