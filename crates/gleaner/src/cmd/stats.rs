//! `gleaner stats`.

use crate::cli::StatsArgs;
use anyhow::Result;

pub fn run(a: StatsArgs, precision: Option<gleaner_pipeline::recipe::PrecisionChoice>) -> Result<()> {
    let ds = super::read_input(&a.input)?;
    let stats = gleaner_report::Stats::of(&ds)?;
    let quality = if a.quality { Some(quality(&ds, &a.quality_model, precision)?) } else { None };
    if a.json {
        let mut v = serde_json::to_value(&stats)?;
        if let (Some(obj), Some((id, d))) = (v.as_object_mut(), &quality) {
            obj.insert("quality".into(), serde_json::json!({ "model": id, "distribution": d }));
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
    } else {
        print!("{}", stats.render());
        if let Some((id, d)) = &quality {
            println!("  quality         {}\n                  ({id})", d.line());
        }
    }
    Ok(())
}

/// Scores every record with `model` and summarises the scores.
fn quality(
    ds: &gleaner_read::Dataset,
    model: &str,
    precision: Option<gleaner_pipeline::recipe::PrecisionChoice>,
) -> Result<(String, gleaner_report::Distribution)> {
    let p = super::score::precision_for(precision, gleaner_pipeline::models::ModelFamily::Exact);
    let m = gleaner_pipeline::models::load_quality(model, None, p)?;
    let pb = crate::log::progress(ds.len() as u64, "quality", "rows");
    let scores = gleaner_pipeline::score::score_dataset(ds, m.as_ref(), &|n| pb.set_position(n as u64))?;
    pb.finish_and_clear();
    Ok((m.identity(), gleaner_report::Distribution::of(scores)))
}
