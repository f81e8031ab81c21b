//! The selection rules and the k-means of the global step, on collected scores and
//! embeddings (`gleaner.select.*`). Each rule returns the kept row indices, in output order,
//! and the reason each was kept; the GIL is released while they run.

use crate::Error;
use gleaner_select::{CarOptions, LcgOptions, Pick, TopKOptions};
use pyo3::prelude::*;

type Selection = (Vec<usize>, Vec<&'static str>);

fn split(picks: Vec<Pick>) -> Selection {
    picks.into_iter().map(|p| (p.index, p.reason.label())).unzip()
}

/// `n × d` float32 values, row-major, from their bytes (native endianness).
fn matrix(data: &[u8], n: usize, d: usize) -> Result<Vec<f32>, Error> {
    if data.len() != n * d * 4 {
        return Err(Error::Option(format!("embeddings: {} bytes for {n} × {d} float32 values", data.len())));
    }
    Ok(data.chunks_exact(4).map(|b| f32::from_ne_bytes([b[0], b[1], b[2], b[3]])).collect())
}

/// CaR: the top `n1` by score, then the best `n2` of each cluster not yet kept.
#[pyfunction]
#[pyo3(signature = (scores, labels, n1, n2))]
pub fn car(py: Python<'_>, scores: Vec<f64>, labels: Vec<i64>, n1: usize, n2: usize) -> PyResult<Selection> {
    if scores.len() != labels.len() {
        return Err(Error::Option(format!("{} scores but {} labels", scores.len(), labels.len())).into());
    }
    Ok(py.detach(|| {
        let labels: Vec<String> = labels.iter().map(|l| l.to_string()).collect();
        split(gleaner_select::car(&scores, &labels, &CarOptions { n1, n2 }))
    }))
}

/// The best `n` rows by a score (NaN never kept).
#[pyfunction]
#[pyo3(signature = (scores, n, ascending, input_order, later_first))]
pub fn top_k(
    py: Python<'_>,
    scores: Vec<f64>,
    n: usize,
    ascending: bool,
    input_order: bool,
    later_first: bool,
) -> Selection {
    py.detach(|| {
        let rows: Vec<usize> = (0..scores.len()).collect();
        split(gleaner_select::top_k(&rows, &scores, &TopKOptions { n, ascending, input_order, later_first }))
    })
}

/// Greedy facility location over embeddings (`n × d` float32 bytes): `budget` picks.
#[pyfunction]
pub fn facility_location(py: Python<'_>, embeddings: &[u8], n: usize, d: usize, budget: usize) -> PyResult<Selection> {
    let x = matrix(embeddings, n, d)?;
    let picks = py
        .detach(|| {
            if budget == 0 || n == 0 {
                return Ok(Vec::new());
            }
            let params = gleaner_cluster::FacilityParams::new(budget.min(n));
            gleaner_cluster::facility_location(&x, n, d, &params).map(|r| r.picks)
        })
        .map_err(Error::from)?;
    Ok(picks.into_iter().map(|i| (i, gleaner_select::Reason::Diversity.label())).unzip())
}

/// LCG: per cluster its `seeds` rows nearest the centroid, then the lowest-confidence rows.
#[pyfunction]
#[pyo3(signature = (confidence, labels, distance, budget, seeds, per_cluster_quota=None))]
pub fn lcg(
    py: Python<'_>,
    confidence: Vec<f64>,
    labels: Vec<u32>,
    distance: Vec<f64>,
    budget: usize,
    seeds: usize,
    per_cluster_quota: Option<usize>,
) -> PyResult<Selection> {
    if confidence.len() != labels.len() || labels.len() != distance.len() {
        return Err(Error::Option(format!(
            "{} confidences, {} labels, {} distances: one of each per row",
            confidence.len(),
            labels.len(),
            distance.len()
        ))
        .into());
    }
    Ok(py.detach(|| {
        let k = labels.iter().map(|&l| l as usize + 1).max().unwrap_or(0);
        let mut nearest: Vec<Vec<usize>> = vec![Vec::new(); k];
        for (i, &l) in labels.iter().enumerate() {
            nearest[l as usize].push(i);
        }
        for m in &mut nearest {
            m.sort_by(|&a, &b| distance[a].total_cmp(&distance[b]).then(a.cmp(&b)));
        }
        let opts = LcgOptions { budget, seeds_per_cluster: seeds, per_cluster_quota };
        split(gleaner_select::lcg(&nearest, &confidence, &labels, &opts))
    }))
}

/// k-means (Lloyd, k-means++ seeding, best of `n_init`) over `n × d` float32 bytes: each
/// row's cluster and its distance to that cluster's centre.
#[pyfunction]
pub fn kmeans(
    py: Python<'_>,
    embeddings: &[u8],
    n: usize,
    d: usize,
    k: usize,
    seed: u64,
    n_init: usize,
) -> PyResult<(Vec<u32>, Vec<f32>)> {
    let x = matrix(embeddings, n, d)?;
    let r = py
        .detach(|| {
            let mut p = gleaner_cluster::KMeansParams::new(k);
            p.seed = seed;
            p.n_init = n_init.max(1);
            gleaner_cluster::kmeans(&x, n, d, &p)
        })
        .map_err(Error::from)?;
    Ok((r.labels, r.distance))
}
