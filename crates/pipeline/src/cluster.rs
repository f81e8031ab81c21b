//! The clustering stage: embeddings → (optional PCA) → k-means → `cluster` and `distance`
//! columns in a side file.

use crate::Observer;
use gleaner_cache::{Column, Manifest, Matrix, SideTable};
use gleaner_cluster::{KMeansMode, KMeansParams, KRule, Pca, PcaTarget, kmeans};
use gleaner_core::{Result, RowId};
use std::path::Path;

/// Options for [`cluster_stage`].
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// PCA before k-means (CaR and LCG: 95% of the variance); `None` clusters raw vectors.
    pub pca: Option<PcaTarget>,
    /// How many clusters.
    pub k: KRule,
    /// k-means restarts (best inertia kept).
    pub n_init: usize,
    /// Seed.
    pub seed: u64,
    /// Mini-batch size for very large inputs (`None`: full Lloyd).
    pub mini_batch: Option<usize>,
}

impl ClusterOptions {
    /// CaR's settings (docs/methods.md §1.6): PCA 0.95, k = ⌊√(n/2)⌋, seed 42.
    pub fn car() -> ClusterOptions {
        ClusterOptions {
            pca: Some(PcaTarget::Variance(0.95)),
            k: KRule::CarSqrtHalf,
            n_init: 3,
            seed: 42,
            mini_batch: None,
        }
    }
}

fn pca_name(t: &Option<PcaTarget>) -> String {
    match t {
        None => "none".into(),
        Some(PcaTarget::Variance(v)) => format!("variance:{v}"),
        Some(PcaTarget::Components(c)) => format!("components:{c}"),
    }
}

/// What clustering produced.
#[derive(Debug, Clone)]
pub struct Clustering {
    /// `cluster` (i64) and `distance` (f64, to the own centroid) per row.
    pub table: SideTable,
    /// Number of clusters.
    pub k: usize,
}

/// Clusters the rows of `emb` (aligned to `ids`), writing `side`; a side file made from the
/// same embeddings with the same settings is reused.
pub fn cluster_stage(
    emb: &Matrix,
    ids: &[RowId],
    embed_identity: &str,
    opts: &ClusterOptions,
    side: &Path,
    obs: &dyn Observer,
) -> Result<Clustering> {
    let n = ids.len();
    let k = opts.k.k(n);
    let mut params = match opts.mini_batch {
        Some(b) => KMeansParams::mini_batch(k, b),
        None => KMeansParams::new(k),
    };
    params.n_init = opts.n_init;
    params.seed = opts.seed;
    let manifest = Manifest::new("cluster", Some(embed_identity.to_string()), ids)
        .param("pca", pca_name(&opts.pca))
        .param("k", k)
        .param("n_init", opts.n_init)
        .param("seed", opts.seed)
        .param("mode", format!("{:?}", params.mode));
    // the input digest names the rows clustered: k-means over other rows is another clustering
    let same_rows = match Manifest::load_for(side)? {
        gleaner_cache::Loaded::Found(m) => m.input == manifest.input,
        gleaner_cache::Loaded::Missing => false,
        gleaner_cache::Loaded::Corrupt(why) => {
            obs.info(&format!("recomputing {}: damaged manifest: {why}", side.display()));
            false
        }
    };
    if same_rows
        && let Some(table) = crate::reuse(side, &manifest, obs, |p| SideTable::read(p).and_then(|t| t.align(ids, p)))?
    {
        obs.info(&format!("reusing clusters from {}", side.display()));
        return Ok(Clustering { table, k });
    }
    let aligned;
    let emb = if emb.is_aligned(ids) {
        emb
    } else {
        aligned = emb.align(ids, side)?;
        &aligned
    };
    let (data, dim) = match &opts.pca {
        Some(target) => {
            let p = Pca::fit(&emb.data, n, emb.dim, *target)?;
            let z = p.transform(&emb.data, n)?;
            obs.info(&format!(
                "PCA: {} → {} components ({:.1}% of the variance)",
                emb.dim,
                p.n_components(),
                100.0 * p.explained_variance_ratio_sum()
            ));
            (z, p.n_components())
        }
        None => (emb.data.clone(), emb.dim),
    };
    obs.info(&format!(
        "k-means: k = {k} on {n} × {dim}{}",
        if matches!(params.mode, KMeansMode::MiniBatch { .. }) { " (mini-batch)" } else { "" }
    ));
    let res = kmeans(&data, n, dim, &params)?;
    obs.info(&format!(
        "k-means: inertia {:.4}, {} iterations, best of {} runs",
        res.inertia, res.iterations, res.n_init_used
    ));
    let mut table = SideTable { row_id: emb.row_id.clone(), row_index: emb.row_index.clone(), columns: Vec::new() };
    table.set("cluster", Column::I64(res.labels.iter().map(|&l| i64::from(l)).collect()));
    table.set("distance", Column::F64(res.distance.iter().map(|&d| f64::from(d)).collect()));
    table.write(side)?;
    manifest.write_for(side)?;
    Ok(Clustering { table, k })
}
