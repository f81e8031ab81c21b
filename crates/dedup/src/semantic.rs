//! Semantic duplicates: cosine similarity of embeddings at or above a threshold, found by
//! k-means blocking instead of all pairs.
//!
//! The unit-normalised vectors are clustered by spherical k-means (`k = ⌈√(n/2)⌉` by default,
//! seeded, a few Lloyd iterations). Each row joins the blocks of its `probes` nearest centroids
//! (2 by default: a duplicate pair straddling a border between two cells is still compared)
//! and every pair inside a block is a candidate, verified by its exact cosine. Work is about
//! `probes² · n · √(2n) / 2` dot products instead of `n² / 2`.
//!
//! Default threshold 0.95: high enough that distinct real records rarely merge (on the
//! README's corpus of 1,200 distinct Alpaca records, one pair reaches it: two answers about agile
//! software development), and low enough to catch copies that keep the wording but change case,
//! whitespace, sentence order or a few words. Lower thresholds catch more paraphrases and merge
//! more distinct records on one topic; the README's table gives recall and precision at 0.95 and
//! 0.9.

use crate::near::{Clusters, Merger, bucket_pairs};
use rayon::prelude::*;

/// Settings of the semantic search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SemanticOptions {
    /// Cosine at or above which two rows are duplicates.
    pub threshold: f64,
    /// Number of k-means blocks (default `⌈√(n/2)⌉`).
    pub blocks: Option<usize>,
    /// Blocks each row joins (its nearest centroids).
    pub probes: usize,
    /// Lloyd iterations.
    pub iterations: usize,
    /// Seed of the initial centroids.
    pub seed: u64,
}

/// The default cosine threshold.
pub const DEFAULT_SEMANTIC_THRESHOLD: f64 = 0.95;

impl Default for SemanticOptions {
    fn default() -> Self {
        SemanticOptions { threshold: DEFAULT_SEMANTIC_THRESHOLD, blocks: None, probes: 2, iterations: 10, seed: 0 }
    }
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Unit-normalised copy of row-major vectors (zero vectors stay zero).
pub fn normalized(data: &[f32], dim: usize) -> Vec<f32> {
    let mut v = data.to_vec();
    v.par_chunks_mut(dim.max(1)).for_each(|r| {
        let n = dot(r, r).sqrt();
        if n > 0.0 {
            r.iter_mut().for_each(|x| *x /= n);
        }
    });
    v
}

/// The `probes` nearest centroids of `x` (by dot product).
fn nearest(x: &[f32], centroids: &[f32], dim: usize, probes: usize) -> Vec<u32> {
    let mut s: Vec<(f32, u32)> = centroids.chunks(dim).enumerate().map(|(c, ce)| (dot(x, ce), c as u32)).collect();
    s.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
    s.into_iter().take(probes).map(|p| p.1).collect()
}

/// Spherical k-means: `k` unit centroids.
fn spherical_kmeans(v: &[f32], dim: usize, k: usize, iterations: usize, seed: u64) -> Vec<f32> {
    let n = v.len() / dim;
    // seeded pick of k distinct rows (a partial Fisher–Yates shuffle with SplitMix64)
    let mut idx: Vec<usize> = (0..n).collect();
    let mut s = seed;
    for i in 0..k {
        s = s.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        let j = i + ((z ^ (z >> 31)) % (n - i) as u64) as usize;
        idx.swap(i, j);
    }
    let mut c: Vec<f32> = idx[..k].iter().flat_map(|&i| v[i * dim..(i + 1) * dim].iter().copied()).collect();
    for _ in 0..iterations {
        let assign: Vec<u32> = v.par_chunks(dim).map(|x| nearest(x, &c, dim, 1)[0]).collect();
        let mut sum = vec![0f32; k * dim];
        for (x, &a) in v.chunks(dim).zip(&assign) {
            for (s, y) in sum[a as usize * dim..(a as usize + 1) * dim].iter_mut().zip(x) {
                *s += y;
            }
        }
        for (cc, ss) in c.chunks_mut(dim).zip(sum.chunks(dim)) {
            let n = dot(ss, ss).sqrt();
            if n > 0.0 {
                cc.iter_mut().zip(ss).for_each(|(a, b)| *a = b / n);
            }
        }
    }
    c
}

/// Clusters rows whose embeddings (row-major, `dim` wide) have cosine ≥ the threshold.
pub fn semantic_clusters(data: &[f32], dim: usize, opts: &SemanticOptions) -> Clusters {
    let n = data.len().checked_div(dim).unwrap_or(0);
    let v = normalized(data, dim);
    let m = Merger::new(n);
    if n < 2 {
        return m.finish();
    }
    let k = opts.blocks.unwrap_or(((n as f64 / 2.0).sqrt().ceil()) as usize).clamp(1, n);
    let probes = opts.probes.clamp(1, k);
    let c = spherical_kmeans(&v, dim, k, opts.iterations, opts.seed);
    let near: Vec<Vec<u32>> = v.par_chunks(dim).map(|x| nearest(x, &c, dim, probes)).collect();
    let mut blocks: Vec<Vec<u32>> = vec![Vec::new(); k];
    for (i, cs) in near.iter().enumerate() {
        for &b in cs {
            blocks[b as usize].push(i as u32);
        }
    }
    blocks.par_iter().for_each(|members| {
        bucket_pairs(members, usize::MAX, |a, b| {
            m.consider(a, b, opts.threshold, || {
                f64::from(dot(
                    &v[a as usize * dim..(a as usize + 1) * dim],
                    &v[b as usize * dim..(b as usize + 1) * dim],
                ))
            })
        });
    });
    m.finish()
}

/// For each query row, the indexed row with the highest cosine ≥ `threshold`, if any (all pairs:
/// evaluation sets are small).
pub fn best_matches(queries: &[f32], index: &[f32], dim: usize, threshold: f64) -> Vec<Option<(u32, f64)>> {
    let q = normalized(queries, dim);
    let x = normalized(index, dim);
    q.par_chunks(dim.max(1))
        .map(|a| {
            let mut best: Option<(u32, f64)> = None;
            for (j, b) in x.chunks(dim.max(1)).enumerate() {
                let s = f64::from(dot(a, b));
                if s >= threshold && best.is_none_or(|(_, t)| s > t) {
                    best = Some((j as u32, s));
                }
            }
            best
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocking_finds_close_vectors_and_matches_brute_force() {
        // 300 random unit vectors in 16-d plus 60 perturbed copies
        let dim = 16;
        let mut s = 42u64;
        let mut rnd = || {
            s = s.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            ((s >> 33) as f32 / (1u64 << 31) as f32) - 0.5
        };
        let mut data: Vec<f32> = (0..300 * dim).map(|_| rnd()).collect();
        for i in 0..60 {
            let row: Vec<f32> = data[i * 5 * dim..(i * 5 + 1) * dim].iter().map(|x| x + 0.01 * rnd()).collect();
            data.extend(row);
        }
        let c = semantic_clusters(&data, dim, &SemanticOptions::default());
        let v = normalized(&data, dim);
        let n = data.len() / dim;
        let mut brute = crate::unionfind::ConcurrentUnionFind::new(n);
        for a in 0..n {
            for b in a + 1..n {
                if dot(&v[a * dim..(a + 1) * dim], &v[b * dim..(b + 1) * dim]) as f64 >= 0.95 {
                    brute.union(a as u32, b as u32);
                }
            }
        }
        let reference = std::mem::replace(&mut brute, crate::unionfind::ConcurrentUnionFind::new(0)).roots();
        assert_eq!(c.root, reference);
        for i in 0..60 {
            assert_eq!(c.root[300 + i], c.root[i * 5]);
        }
        let m = best_matches(&data[300 * dim..], &data[..300 * dim], dim, 0.95);
        assert!(m.iter().enumerate().all(|(i, b)| b.map(|x| x.0) == Some(i as u32 * 5)));
    }
}
