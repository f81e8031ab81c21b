//! `gleaner run <preset>`: the method presets end to end.

use crate::cli::{RunCarArgs, RunCommand, RunCommon, RunLcgArgs};
use crate::log::BarObserver;
use anyhow::{Result, bail};
use gleaner_pipeline::WorkDir;
use gleaner_pipeline::car::{Quality, run_car};
use gleaner_pipeline::cluster::ClusterOptions;
use gleaner_pipeline::summary::selection_summary;
use gleaner_pipeline::values::Source;

pub fn run(c: RunCommand) -> Result<()> {
    match c {
        RunCommand::Car(a) => car(a),
        RunCommand::Cherry(a) => super::ifd::cherry(a),
        RunCommand::Superfilter(a) => super::ifd::superfilter(a),
        RunCommand::SuperfilterD(a) => super::ifd::superfilter_d(a),
        RunCommand::Lcg(a) => lcg(a),
        RunCommand::PreExperience(a) => super::ifd::pre_experience(a),
    }
}

/// The work directory for a run.
pub fn work_dir(c: &RunCommon) -> WorkDir {
    match (&c.work_dir, &c.out.output) {
        (Some(d), _) => WorkDir { dir: d.clone() },
        (None, Some(o)) => WorkDir::for_output(o),
        (None, None) => WorkDir { dir: "gleaner-work".into() },
    }
}

fn car(a: RunCarArgs) -> Result<()> {
    let c = &a.common;
    let ds = super::read_input(&c.input)?;
    let work = work_dir(c);
    let obs = BarObserver::default();
    let model;
    let quality = match (&a.quality, &a.quality_model) {
        (Some(q), _) => Quality::Values(Source::parse(q)),
        (None, Some(m)) => {
            model = super::score::load_quality(m, a.encoder.as_deref())?;
            Quality::Model(model.as_ref())
        }
        (None, None) => {
            bail!("pass --quality-model MODEL (an IQS checkpoint or a gleaner quality model) or --quality FIELD|SIDE")
        }
    };
    let embedder = super::embed::load_embedder(&c.embedder, 8192)?;
    let n1 = match (a.size.budget, a.size.ratio) {
        (Some(b), _) => b,
        (None, Some(r)) => gleaner_select::Budget::Ratio(r).resolve(ds.len()),
        (None, None) => a.n1,
    };
    let cluster = ClusterOptions {
        pca: super::cluster::parse_pca(&a.pca)?,
        k: super::cluster::parse_k(a.k, "car"),
        n_init: a.n_init,
        seed: c.seed,
        mini_batch: None,
    };
    let r = run_car(&ds, quality, &embedder, &cluster, &gleaner_select::CarOptions { n1, n2: a.n2 }, &work, &obs)?;
    let score = |i: usize| gleaner_core::nonfinite::float_value(r.quality[i]);
    let label = |i: usize| serde_json::Value::from(r.labels[i].clone());
    let fields: &[super::Annotation<'_>] = if a.annotate { &[("score", &score), ("label", &label)] } else { &[] };
    super::write_picks_annotated(&ds, &r.picks, fields, &c.out)?;
    eprint!("{}", selection_summary("car", ds.len(), &r.picks, Some(("quality", &r.quality)), Some(&r.labels)));
    eprint!("{}", r.stages.render());
    crate::log::info(format!("side files in {}", work.dir.display()));
    Ok(())
}

fn lcg(a: RunLcgArgs) -> Result<()> {
    use gleaner_pipeline::lcg::{LcgClassifier, LcgRecipe, run_lcg};
    let c = &a.common;
    let ds = super::read_input(&c.input)?;
    let work = work_dir(c);
    let embedder = super::embed::load_embedder(&c.embedder, 8192)?;
    let budget = match (a.size.budget, a.size.ratio) {
        (Some(b), _) => b,
        (None, Some(r)) => gleaner_select::Budget::Ratio(r).resolve(ds.len()),
        (None, None) => 1000,
    };
    let k = match (a.k, a.k_rule.as_str()) {
        (Some(k), _) => gleaner_cluster::KRule::Fixed(k),
        (None, "sqrt-n-8") => gleaner_cluster::KRule::LcgSqrtEighth,
        (None, _) => gleaner_cluster::KRule::Fixed(40.min(ds.len().max(1))),
    };
    let classifier = match (&a.load_classifier, a.classifier.as_str()) {
        (Some(p), _) => LcgClassifier::Load(p.clone()),
        (None, "neural") => {
            let mut o = gleaner_classify::NeuralOptions {
                epochs: a.epochs,
                batch_size: a.batch_size,
                hidden: a.hidden,
                seed: c.seed,
                ..Default::default()
            };
            if let Some(lr) = a.lr {
                o.lr = lr;
            }
            LcgClassifier::Neural(o)
        }
        _ => LcgClassifier::Nb(gleaner_classify::NbOptions::default()),
    };
    let recipe = LcgRecipe {
        cluster: ClusterOptions {
            pca: super::cluster::parse_pca(&a.pca)?,
            k,
            n_init: a.n_init,
            seed: c.seed,
            mini_batch: None,
        },
        pseudo_per_cluster: a.pseudo,
        classifier,
        save_classifier: a.save_classifier.clone(),
        select: gleaner_select::LcgOptions {
            budget,
            seeds_per_cluster: a.seeds,
            per_cluster_quota: a.per_cluster_quota,
        },
    };
    if let Some(p) = &a.pseudo_labels {
        return lcg_labelled(&ds, p, &a.label_field, &recipe, c);
    }
    let r = run_lcg(&ds, &embedder, &recipe, &work, &BarObserver::default())?;
    super::write_picks(&ds, &r.picks, &c.out)?;
    eprint!("{}", selection_summary("lcg", ds.len(), &r.picks, Some(("confidence", &r.confidence)), Some(&r.labels)));
    eprintln!("  dropped: {:<34} {}", "not low-confidence enough (budget)", ds.len() - r.picks.len());
    crate::log::info(format!(
        "{} clusters, {} pseudo-labelled rows (classifier agrees with {:.1}% of them)",
        r.k,
        r.pseudo,
        100.0 * r.train_accuracy
    ));
    eprint!("{}", r.stages.render());
    crate::log::info(format!("side files in {}", work.dir.display()));
    Ok(())
}

/// `run lcg --pseudo-labels FILE`: seeds from the labelled file, then the pool's least
/// confident rows. A seed is written as the pool's record when the pool holds the same
/// instruction and input (so it carries its output), else as the labelled file's record.
fn lcg_labelled(
    pool: &gleaner_read::Dataset,
    path: &std::path::Path,
    field: &str,
    recipe: &gleaner_pipeline::lcg::LcgRecipe,
    c: &RunCommon,
) -> Result<()> {
    let train = super::read_input(&crate::cli::InputArgs {
        input: path.to_path_buf(),
        format: None,
        on_error: c.input.on_error,
        limit: None,
    })?;
    let raw = gleaner_pipeline::values::labels(&train, &Source::Field(field.to_string()), field)?;
    let labels: Vec<u32> = raw
        .iter()
        .enumerate()
        .map(|(i, l)| {
            l.parse::<u32>().map_err(|_| {
                anyhow::anyhow!(
                    "{}: record {i}: label `{l}` in field `{field}` is not a non-negative integer",
                    path.display()
                )
            })
        })
        .collect::<Result<_>>()?;
    let r = gleaner_pipeline::lcg::run_lcg_labelled(pool, &train, &labels, recipe, &BarObserver::default())?;
    // Output rows: each seed from the pool when the pool holds it (else from the labelled
    // file), then the picks; pool rows are gathered in one pass over the pool.
    let seed_rows = &r.seeds_in_pool;
    let from_pool = seed_rows.iter().flatten().count();
    let pool_idx: Vec<usize> = seed_rows.iter().flatten().copied().chain(r.picks.iter().map(|p| p.index)).collect();
    let mut pool_rows = pool.subset(&pool_idx)?.into_records()?.into_iter();
    let mut train_rows = train.subset(&r.seeds)?.into_records()?.into_iter();
    let mut out = pool.subset(&[])?;
    let rows = out.records_mut()?;
    for s in seed_rows {
        let from_train = train_rows.next();
        rows.extend(if s.is_some() { pool_rows.next() } else { from_train });
    }
    rows.extend(pool_rows);
    super::write_records(pool, &out, &c.out)?;
    // every pool row once: written as a seed, written as a pick, or dropped with a reason
    let seed_pool_rows = seed_rows.iter().flatten().collect::<std::collections::HashSet<_>>().len();
    eprintln!(
        "lcg (pseudo-labels from {}): {} pool rows in, {} written: {} seeds ({} from the pool, {} from the labelled file), {} low-confidence picks",
        path.display(),
        pool.len(),
        r.seeds.len() + r.picks.len(),
        r.seeds.len(),
        from_pool,
        r.seeds.len() - from_pool,
        r.picks.len()
    );
    eprintln!("  kept as {:<18} {}", "seed (pool row)", seed_pool_rows);
    eprintln!("  kept as {:<18} {}", "low confidence", r.picks.len());
    eprintln!("  dropped: {:<34} {}", "same instruction+input as a labelled row", r.overlapping - seed_pool_rows);
    eprintln!("  dropped: {:<34} {}", "not low-confidence enough (budget)", pool.len() - r.overlapping - r.picks.len());
    Ok(())
}
