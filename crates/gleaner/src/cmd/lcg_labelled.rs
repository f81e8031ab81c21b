//! `gleaner run lcg --pseudo-labels FILE`: LCG with the pseudo-labels of a file (such as LCG's
//! own `train_dataset.json`) instead of clustering the pool.

use crate::cli::RunLcgArgs;
use crate::log::BarObserver;
use anyhow::Result;
use gleaner_pipeline::lcg::{LcgClassifier, LcgRecipe};
use gleaner_pipeline::recipe::ClassifierKind;
use gleaner_pipeline::recipe::presets::Keep;
use gleaner_pipeline::values::Source;
use std::path::Path;

/// `run lcg --pseudo-labels FILE`: seeds from the labelled file, then the pool's least
/// confident rows. A seed is written as the pool's record when the pool holds the same
/// instruction and input (so it carries its output), else as the labelled file's record.
pub fn run(a: &RunLcgArgs, preset: &gleaner_pipeline::recipe::presets::Lcg, path: &Path) -> Result<()> {
    let c = &a.common;
    let field = a.label_field.as_str();
    // as every run: the output must be writable and the work directory ours, before any input
    // is read or model trained
    super::check_writable(c.out.output.as_deref())?;
    let work = super::run::work_dir(c.work_dir.as_ref(), c.out.output.as_ref());
    let _lock = super::lock_work(&work)?;
    let pool = &super::read_input(&c.input)?;
    let classifier = match (&preset.classify.load, preset.classify.classifier) {
        (Some(p), _) => LcgClassifier::Load(p.into()),
        (None, ClassifierKind::Nb) => LcgClassifier::Nb(gleaner_classify::NbOptions::default()),
        (None, ClassifierKind::Neural) => LcgClassifier::Neural(gleaner_classify::NeuralOptions::default()),
    };
    let budget = match preset.keep {
        Keep::Count(n) => n,
        Keep::Ratio(r) => gleaner_select::Budget::Ratio(r).resolve(pool.len()),
    };
    let recipe = &LcgRecipe {
        classifier,
        save_classifier: preset.classify.save.as_ref().map(Into::into),
        select: gleaner_select::LcgOptions {
            budget,
            seeds_per_cluster: preset.seeds,
            per_cluster_quota: preset.per_cluster_quota,
        },
    };
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
    let overlap_dropped = r.overlapping - seed_pool_rows;
    let budget_dropped = pool.len() - r.overlapping - r.picks.len();
    eprintln!("  kept as {:<18} {}", "seed (pool row)", seed_pool_rows);
    eprintln!("  kept as {:<18} {}", "low confidence", r.picks.len());
    eprintln!("  dropped: {:<34} {}", "same instruction+input as a labelled row", overlap_dropped);
    eprintln!("  dropped: {:<34} {}", "not low-confidence enough (budget)", budget_dropped);
    // the counts in the work directory, as other runs leave them (this mode has no per-row
    // file, so no HTML report)
    let summary = serde_json::json!({
        "recipe": "lcg --pseudo-labels",
        "input": pool.path.display().to_string(),
        "pseudo_labels": path.display().to_string(),
        "gleaner": env!("CARGO_PKG_VERSION"),
        "rows_in": pool.len(),
        "written": r.seeds.len() + r.picks.len(),
        "seeds": r.seeds.len(),
        "seeds_from_pool": from_pool,
        "kept_by_reason": {"seed (pool row)": seed_pool_rows, "low confidence": r.picks.len()},
        "dropped": [
            {"reason": "same instruction+input as a labelled row", "rows": overlap_dropped},
            {"reason": "not low-confidence enough (budget)", "rows": budget_dropped},
        ],
    });
    gleaner_pipeline::runner::write_summary_json(&work.dir, &summary)?;
    Ok(())
}
