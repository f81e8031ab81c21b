//! The `car` preset (CaR, SPEC §1): quality score → embed → PCA + k-means → top n1 + best n2
//! per cluster. A thin recipe over the shared stages; every stage keeps its side file in the
//! work directory and is reused on a rerun.

use crate::cluster::{ClusterOptions, cluster_stage};
use crate::embed::embed_stage;
use crate::score::{QualityModel, quality_stage};
use crate::stages::StageLog;
use crate::values::{Source, numbers};
use crate::{Observer, WorkDir};
use gleaner_core::Result;
use gleaner_core::layout::TextKind;
use gleaner_embed::Embedder;
use gleaner_read::Dataset;
use gleaner_select::{CarOptions, Pick, car};

/// Where the quality scores come from.
pub enum Quality<'a> {
    /// Score with a model (written to `quality.parquet`).
    Model(&'a dyn QualityModel),
    /// Read existing values (a record field such as CaR's `score`, or a side file).
    Values(Source),
}

/// What a `car` run produced.
pub struct CarRun {
    /// The kept rows, in output order.
    pub picks: Vec<Pick>,
    /// Quality per input row.
    pub quality: Vec<f64>,
    /// Cluster label per input row (decimal strings, as CaR writes them).
    pub labels: Vec<String>,
    /// Number of clusters.
    pub k: usize,
    /// Per-stage wall time and peak RSS.
    pub stages: StageLog,
}

/// Runs the CaR recipe.
pub fn run_car(
    ds: &Dataset,
    quality: Quality<'_>,
    embedder: &dyn Embedder,
    cluster: &ClusterOptions,
    select: &CarOptions,
    work: &WorkDir,
    obs: &dyn Observer,
) -> Result<CarRun> {
    let mut stages = StageLog::default();
    stages.begin("quality");
    let q = match quality {
        Quality::Model(m) => {
            quality_stage(ds, m, &work.side("quality.parquet")?, obs)?.f64_column("quality", &work.dir)?
        }
        Quality::Values(src) => numbers(ds, &src, "quality")?,
    };
    stages.begin("embed");
    let emb_side = work.side("embeddings-car.parquet")?;
    let emb = embed_stage(ds, embedder, &TextKind::Car, &emb_side, obs)?;
    stages.begin("cluster");
    let c = cluster_stage(
        &emb,
        &ds.ids,
        &format!("{}:car", embedder.identity()),
        cluster,
        &work.side("clusters.parquet")?,
        obs,
    )?;
    let labels: Vec<String> =
        c.table.f64_column("cluster", &work.dir)?.iter().map(|&l| format!("{}", l as i64)).collect();
    stages.begin("select");
    let picks = car(&q, &labels, select);
    stages.end();
    Ok(CarRun { picks, quality: q, labels, k: c.k, stages })
}
