//! `gleaner cluster`.

use crate::cli::{ClusterArgs, ClusterKRule};
use crate::log::BarObserver;
use anyhow::{Result, bail};
use gleaner_cluster::{KRule, PcaTarget};
use gleaner_core::RowId;
use gleaner_pipeline::cluster::{ClusterOptions, cluster_stage};
use gleaner_pipeline::recipe::PcaSpec;

/// Parses `--pca`: a variance fraction in (0, 1), a component count, or `none`.
pub fn pca_spec(s: &str) -> Result<PcaSpec> {
    if s == "none" {
        return Ok(PcaSpec::Name("none".into()));
    }
    if let Ok(c) = s.parse::<usize>() {
        return Ok(PcaSpec::Components(c));
    }
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v < 1.0 => Ok(PcaSpec::Variance(v)),
        _ => bail!("--pca must be a fraction in (0, 1), a component count, or `none` (got `{s}`)"),
    }
}

pub fn run(a: ClusterArgs) -> Result<()> {
    let emb = gleaner_cache::Matrix::read(&a.embeddings)?;
    let ids: Vec<RowId> = emb.row_id.iter().map(|&i| RowId(i)).collect();
    let identity = gleaner_cache::Manifest::read_for(&a.embeddings)?
        .map(|m| {
            let param = |k: &str| m.params.get(k).cloned().unwrap_or_default();
            format!("{}:{}@{}", m.model.clone().unwrap_or_default(), param("text"), param("precision"))
        })
        .unwrap_or_else(|| a.embeddings.display().to_string());
    let opts = ClusterOptions {
        pca: match pca_spec(&a.pca)? {
            PcaSpec::Components(c) => Some(PcaTarget::Components(c)),
            PcaSpec::Variance(v) => Some(PcaTarget::Variance(v)),
            PcaSpec::Name(_) => None,
        },
        k: match (a.k, a.k_rule) {
            (Some(k), _) => KRule::Fixed(k),
            (None, ClusterKRule::Car) => KRule::CarSqrtHalf,
            (None, ClusterKRule::Lcg) => KRule::LcgSqrtEighth,
        },
        n_init: a.n_init,
        seed: a.seed,
        mini_batch: a.mini_batch,
    };
    let t0 = std::time::Instant::now();
    let c = cluster_stage(&emb, &ids, &identity, &opts, &a.output, &BarObserver::default())?;
    crate::log::info(format!(
        "{} rows in {} clusters in {:.2}s → {}",
        ids.len(),
        c.k,
        t0.elapsed().as_secs_f64(),
        a.output.display()
    ));
    Ok(())
}
