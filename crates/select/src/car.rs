//! CaR's diversity-preserving selection (docs/methods.md §1.6).

use crate::{Pick, Reason, stable_desc};

/// Options for [`car`].
#[derive(Debug, Clone)]
pub struct CarOptions {
    /// Rows taken by score (CaR hard-codes 1000).
    pub n1: usize,
    /// Best rows per cluster added when not already kept (CaR: effectively 1).
    pub n2: usize,
}

impl Default for CarOptions {
    fn default() -> Self {
        CarOptions { n1: 1000, n2: 1 }
    }
}

/// CaR selection.
///
/// 1. The first `n1` rows by score, descending (ties keep input order).
/// 2. Rows sorted by (label as a *string*, score) descending, stably; for each cluster, its
///    first `n2` rows in that order are appended unless already kept. With `n2 = 1` this is
///    exactly the reference: a cluster whose best row is already kept adds nothing.
///
/// Output order: the top `n1` in score order, then cluster picks in descending string order
/// of the label (`"76"` before `"112"`), as the reference writes them. Rows are identified
/// by index, i.e. by row id: exact duplicates are distinct rows (the reference compares
/// whole records, which would merge them).
pub fn car(scores: &[f64], labels: &[String], opts: &CarOptions) -> Vec<Pick> {
    assert_eq!(scores.len(), labels.len(), "one label per score");
    let n = scores.len();
    let mut by_score: Vec<usize> = (0..n).collect();
    stable_desc(&mut by_score, &|i| scores[i]);
    let mut kept = vec![false; n];
    let mut out = Vec::new();
    for &i in by_score.iter().take(opts.n1) {
        kept[i] = true;
        out.push(Pick { index: i, reason: Reason::TopScore });
    }
    let mut by_cluster: Vec<usize> = (0..n).collect();
    // (label, score) descending, stable: sort by score first, then stably by label.
    stable_desc(&mut by_cluster, &|i| scores[i]);
    by_cluster.sort_by(|&a, &b| labels[b].cmp(&labels[a]));
    let mut prev: Option<&str> = None;
    let mut taken = 0usize;
    for &i in &by_cluster {
        if prev != Some(labels[i].as_str()) {
            prev = Some(labels[i].as_str());
            taken = 0;
        }
        if taken < opts.n2 {
            taken += 1;
            if !kept[i] {
                kept[i] = true;
                out.push(Pick { index: i, reason: Reason::ClusterPick });
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reproduces_label_string_order_and_covered_clusters() {
        // clusters "2", "13", "112"; top-1 is in "13".
        let scores = [0.9, 0.5, 0.7, 0.6, 0.8];
        let labels: Vec<String> = ["13", "2", "112", "112", "13"].iter().map(|s| s.to_string()).collect();
        let picks = car(&scores, &labels, &CarOptions { n1: 1, n2: 1 });
        let idx: Vec<usize> = picks.iter().map(|p| p.index).collect();
        // top: 0 (0.9, cluster 13); then clusters in descending string order "2" > "13" > "112":
        // "2" → 1, "13" already covered, "112" → 2.
        assert_eq!(idx, vec![0, 1, 2]);
        let picks = car(&scores, &labels, &CarOptions { n1: 1, n2: 2 });
        let idx: Vec<usize> = picks.iter().map(|p| p.index).collect();
        assert_eq!(idx, vec![0, 1, 4, 2, 3]);
    }
}
