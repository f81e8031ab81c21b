//! Low-Confidence Gold's selection (docs/methods.md §4.4, a reconstruction from the released files).

use crate::{Pick, Reason};

/// Options for [`lcg`].
#[derive(Debug, Clone)]
pub struct LcgOptions {
    /// Total rows to output.
    pub budget: usize,
    /// Nearest-to-centroid seeds per cluster placed first (the released 1k files: 4).
    pub seeds_per_cluster: usize,
    /// Optional cap of low-confidence picks per cluster (none in the reference).
    pub per_cluster_quota: Option<usize>,
}

/// LCG selection: for each cluster in id order, its `seeds_per_cluster` members nearest to the
/// centroid (`nearest[c]` is sorted by distance); then every remaining row in ascending
/// `confidence` (ties by index) until the budget. No row is chosen twice.
pub fn lcg(nearest: &[Vec<usize>], confidence: &[f64], labels: &[u32], opts: &LcgOptions) -> Vec<Pick> {
    let n = confidence.len();
    let mut chosen = vec![false; n];
    let mut out = Vec::with_capacity(opts.budget);
    'seeds: for members in nearest {
        for &i in members.iter().take(opts.seeds_per_cluster) {
            if out.len() >= opts.budget {
                break 'seeds;
            }
            if !chosen[i] {
                chosen[i] = true;
                out.push(Pick { index: i, reason: Reason::CentroidSeed });
            }
        }
    }
    let mut order: Vec<usize> = (0..n).filter(|&i| !chosen[i] && !confidence[i].is_nan()).collect();
    order.sort_by(|&a, &b| confidence[a].partial_cmp(&confidence[b]).unwrap().then(a.cmp(&b)));
    let k = nearest.len().max(labels.iter().map(|&l| l as usize + 1).max().unwrap_or(0));
    let mut per_cluster = vec![0usize; k];
    for i in order {
        if out.len() >= opts.budget {
            break;
        }
        let c = labels[i] as usize;
        if opts.per_cluster_quota.is_some_and(|q| per_cluster[c] >= q) {
            continue;
        }
        per_cluster[c] += 1;
        chosen[i] = true;
        out.push(Pick { index: i, reason: Reason::LowConfidence });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_then_lowest_confidence() {
        let nearest = vec![vec![0, 1], vec![3, 2]];
        let conf = [0.9, 0.1, 0.2, 0.8, 0.15, 0.05];
        let labels = [0, 0, 1, 1, 0, 1];
        let p = lcg(&nearest, &conf, &labels, &LcgOptions { budget: 5, seeds_per_cluster: 1, per_cluster_quota: None });
        let idx: Vec<usize> = p.iter().map(|p| p.index).collect();
        assert_eq!(idx, vec![0, 3, 5, 1, 4]);
        let p =
            lcg(&nearest, &conf, &labels, &LcgOptions { budget: 5, seeds_per_cluster: 1, per_cluster_quota: Some(1) });
        let idx: Vec<usize> = p.iter().map(|p| p.index).collect();
        assert_eq!(idx, vec![0, 3, 5, 1]);
    }
}
