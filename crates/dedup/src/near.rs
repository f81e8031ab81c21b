//! Near-duplicate clustering: LSH buckets of MinHash signatures give candidate pairs, each
//! candidate is verified by exact Jaccard of the shingle sets, and verified pairs are merged in
//! a concurrent union-find.
//!
//! Bands are processed one after another; inside a band, the band keys of all rows are
//! computed and sorted in parallel, and the buckets (runs of equal keys) are verified in
//! parallel. In a bucket of up to [`NearOptions::window`] rows every pair is a candidate; in a
//! larger bucket (templated prompts can fill one) each row is compared with the `window` rows
//! before it, which bounds the work at `rows × window` per band. A pair found by several bands is
//! verified once.
//!
//! Memory: the signatures (`rows × perms × 4` bytes) and the candidate pairs; the shingle sets
//! that verification needs are made only for the rows that are in some candidate pair, after
//! the bands are done (most rows of a pool are in none).

use crate::lsh::{LshParams, band_key};
use crate::shingle::jaccard;
use crate::unionfind::ConcurrentUnionFind;
use rayon::prelude::*;
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Settings of the near-duplicate search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NearOptions {
    /// Jaccard at or above which two rows are duplicates.
    pub threshold: f64,
    /// Bands × rows.
    pub lsh: LshParams,
    /// Pairs per row compared inside a large bucket.
    pub window: usize,
}

/// The default Jaccard threshold. 0.8 is the common choice (datasketch's examples, text-dedup,
/// NeMo Curator): on word 5-grams it keeps texts that share most of their wording (a few
/// edited words in a paragraph) and separates texts that share a template but differ in
/// content; the README's table gives recall per edit rate at 0.8 and 0.6.
pub const DEFAULT_THRESHOLD: f64 = 0.8;

impl NearOptions {
    /// Options for `threshold` and `perms` with the derived bands × rows.
    pub fn new(threshold: f64, perms: usize) -> NearOptions {
        NearOptions {
            threshold,
            lsh: LshParams::for_recall(threshold, perms, crate::lsh::DEFAULT_RECALL_AT_THRESHOLD),
            window: 32,
        }
    }
}

/// Duplicate clusters over rows `0..n`.
#[derive(Debug, Clone, PartialEq)]
pub struct Clusters {
    /// Each row's cluster: the smallest row index in it (a row alone is its own root).
    pub root: Vec<u32>,
    /// Each row's highest verified similarity to another member of its cluster (NaN for a row
    /// alone).
    pub similarity: Vec<f32>,
    /// Candidate pairs produced by the buckets (a pair found by several bands counts each time).
    pub candidates: u64,
    /// Pairs whose similarity was computed.
    pub verified: u64,
    /// Verified pairs at or above the threshold.
    pub accepted: u64,
}

impl Clusters {
    /// `(root, size)` of every cluster of two or more rows, largest first (ties by root).
    pub fn largest(&self) -> Vec<(u32, usize)> {
        let mut count: HashMap<u32, usize> = HashMap::new();
        for &r in &self.root {
            *count.entry(r).or_default() += 1;
        }
        let mut v: Vec<(u32, usize)> = count.into_iter().filter(|&(_, n)| n > 1).collect();
        v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
        v
    }

    /// Rows in clusters of two or more.
    pub fn duplicated_rows(&self) -> usize {
        self.largest().iter().map(|c| c.1).sum()
    }
}

/// Shared state of a clustering in progress.
pub(crate) struct Merger {
    pub uf: ConcurrentUnionFind,
    sim: Vec<AtomicU32>,
    pub candidates: AtomicU64,
    pub verified: AtomicU64,
    pub accepted: AtomicU64,
}

impl Merger {
    pub fn new(n: usize) -> Merger {
        Merger {
            uf: ConcurrentUnionFind::new(n),
            sim: (0..n).map(|_| AtomicU32::new(0)).collect(),
            candidates: AtomicU64::new(0),
            verified: AtomicU64::new(0),
            accepted: AtomicU64::new(0),
        }
    }

    /// Verifies candidate `(a, b)` with `similarity` and merges it at or above `threshold`.
    pub fn consider(&self, a: u32, b: u32, threshold: f64, similarity: impl FnOnce() -> f64) {
        self.candidates.fetch_add(1, Ordering::Relaxed);
        self.verify(a, b, threshold, similarity);
    }

    /// Verifies `(a, b)` (not counted as a new candidate).
    pub fn verify(&self, a: u32, b: u32, threshold: f64, similarity: impl FnOnce() -> f64) {
        self.verified.fetch_add(1, Ordering::Relaxed);
        let s = similarity();
        if s >= threshold {
            self.accepted.fetch_add(1, Ordering::Relaxed);
            self.uf.union(a, b);
            // non-negative f32 order equals the order of their bit patterns
            let bits = (s.max(f64::from(f32::MIN_POSITIVE)) as f32).to_bits();
            self.sim[a as usize].fetch_max(bits, Ordering::Relaxed);
            self.sim[b as usize].fetch_max(bits, Ordering::Relaxed);
        }
    }

    pub fn finish(self) -> Clusters {
        let root = self.uf.roots();
        let similarity = self
            .sim
            .iter()
            .map(|s| {
                let b = s.load(Ordering::Relaxed);
                if b == 0 { f32::NAN } else { f32::from_bits(b) }
            })
            .collect();
        Clusters {
            root,
            similarity,
            candidates: self.candidates.into_inner(),
            verified: self.verified.into_inner(),
            accepted: self.accepted.into_inner(),
        }
    }
}

/// Verifies the candidate pairs of one bucket (`members` sorted ascending).
pub(crate) fn bucket_pairs(members: &[u32], window: usize, mut f: impl FnMut(u32, u32)) {
    for (i, &b) in members.iter().enumerate() {
        let from = if members.len() <= window { 0 } else { i.saturating_sub(window) };
        for &a in &members[from..i] {
            f(a, b);
        }
    }
}

/// Groups sorted `(key, row)` pairs into buckets of two or more rows.
pub(crate) fn buckets(keys: &[(u64, u32)]) -> Vec<&[(u64, u32)]> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=keys.len() {
        if i == keys.len() || keys[i].0 != keys[start].0 {
            if i - start > 1 {
                out.push(&keys[start..i]);
            }
            start = i;
        }
    }
    out
}

/// Clusters rows by near-duplicate shingle sets. `sigs` holds `perms` values per row
/// (row-major), `shingles` the sorted shingle hashes each signature was made from.
pub fn near_clusters(sigs: &[u32], perms: usize, shingles: &[Vec<u32>], opts: &NearOptions) -> Clusters {
    near_clusters_with(sigs, perms, &|i| Cow::Borrowed(shingles[i].as_slice()), opts)
}

/// [`near_clusters`] with the shingle set of row `i` given on demand by `shingles_of(i)`
/// (borrowed when it is already in memory, made when not): it is asked only for rows in a
/// candidate pair, once each.
pub fn near_clusters_with<'s>(
    sigs: &[u32],
    perms: usize,
    shingles_of: &(dyn Fn(usize) -> Cow<'s, [u32]> + Sync),
    opts: &NearOptions,
) -> Clusters {
    assert!(perms > 0 && sigs.len().is_multiple_of(perms), "one signature of `perms` values per row");
    let n = sigs.len() / perms;
    assert!(opts.lsh.bands * opts.lsh.rows <= perms, "bands × rows must not exceed the permutations");
    let m = Merger::new(n);
    let mut keys: Vec<(u64, u32)> = Vec::with_capacity(n);
    // pairs already found by an earlier band, as `a << 32 | b`; foldhash, since SipHash made
    // these inserts a tenth of the run on duplicate-heavy data
    let mut seen: std::collections::HashSet<u64, foldhash::fast::RandomState> = Default::default();
    let mut all: Vec<(u32, u32)> = Vec::new();
    for band in 0..opts.lsh.bands {
        keys.clear();
        (0..n)
            .into_par_iter()
            .map(|i| (band_key(&sigs[i * perms..(i + 1) * perms], band, opts.lsh.rows), i as u32))
            .collect_into_vec(&mut keys);
        keys.par_sort_unstable();
        let pairs: Vec<(u32, u32)> = buckets(&keys)
            .par_iter()
            .flat_map_iter(|run| {
                let members: Vec<u32> = run.iter().map(|k| k.1).collect();
                let mut v = Vec::new();
                bucket_pairs(&members, opts.window, |a, b| v.push((a, b)));
                v
            })
            .collect();
        m.candidates.fetch_add(pairs.len() as u64, Ordering::Relaxed);
        all.extend(pairs.into_iter().filter(|&(a, b)| seen.insert(u64::from(a) << 32 | u64::from(b))));
    }
    drop(seen);
    let mut wanted = vec![false; n];
    for &(a, b) in &all {
        wanted[a as usize] = true;
        wanted[b as usize] = true;
    }
    let shingles: Vec<Cow<'s, [u32]>> =
        wanted.par_iter().enumerate().map(|(i, &w)| if w { shingles_of(i) } else { Cow::Borrowed(&[][..]) }).collect();
    all.par_iter()
        .for_each(|&(a, b)| m.verify(a, b, opts.threshold, || jaccard(&shingles[a as usize], &shingles[b as usize])));
    m.finish()
}

/// An LSH index over a fixed set of rows (evaluation prompts) answering "which indexed row is
/// the closest verified near-duplicate of this text".
#[derive(Debug)]
pub struct NearIndex {
    opts: NearOptions,
    perms: usize,
    tables: Vec<HashMap<u64, Vec<u32>>>,
    shingles: Vec<Vec<u32>>,
}

impl NearIndex {
    /// Indexes rows given by their signatures and shingle sets.
    pub fn build(sigs: &[u32], perms: usize, shingles: Vec<Vec<u32>>, opts: &NearOptions) -> NearIndex {
        let tables = (0..opts.lsh.bands)
            .into_par_iter()
            .map(|band| {
                let mut t: HashMap<u64, Vec<u32>> = HashMap::new();
                for i in 0..shingles.len() {
                    t.entry(band_key(&sigs[i * perms..(i + 1) * perms], band, opts.lsh.rows))
                        .or_default()
                        .push(i as u32);
                }
                t
            })
            .collect();
        NearIndex { opts: *opts, perms, tables, shingles }
    }

    /// The indexed row with the highest verified Jaccard ≥ threshold to a query, if any.
    pub fn query(&self, sig: &[u32], shingles: &[u32]) -> Option<(u32, f64)> {
        debug_assert_eq!(sig.len(), self.perms);
        let mut seen = std::collections::HashSet::new();
        let mut best: Option<(u32, f64)> = None;
        for (band, t) in self.tables.iter().enumerate() {
            let Some(hits) = t.get(&band_key(sig, band, self.opts.lsh.rows)) else { continue };
            for &h in hits {
                if !seen.insert(h) {
                    continue;
                }
                let s = jaccard(shingles, &self.shingles[h as usize]);
                if s >= self.opts.threshold && best.is_none_or(|(_, b)| s > b) {
                    best = Some((h, s));
                }
            }
        }
        best
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::minhash::MinHasher;
    use crate::shingle::Shingler;

    #[test]
    fn finds_verified_near_duplicates_only() {
        let texts = [
            "the quick brown fox jumps over the lazy dog near the river bank today",
            "the quick brown fox jumps over the lazy dog near the river bank today!",
            "the quick brown fox jumps over the lazy cat near the river bank today",
            "write a poem about the sea and the sky and the wind over the hills",
            "The quick brown fox jumps over the lazy dog near the river bank, today",
        ];
        let sh = Shingler::default();
        let sets: Vec<Vec<u32>> = texts.iter().map(|t| sh.shingles(t)).collect();
        let h = MinHasher::new(128, 1);
        let sigs = h.signatures(&sets);
        let c = near_clusters(&sigs, 128, &sets, &NearOptions::new(0.8, 128));
        assert_eq!(c.root, vec![0, 0, 2, 3, 0]);
        assert!(c.similarity[3].is_nan());
        assert_eq!(c.similarity[1], 1.0);
        // a one-word edit in 14 words changes 5 of 10 shingles: J = 5/15; it joins at 0.3
        let c = near_clusters(&sigs, 128, &sets, &NearOptions::new(0.3, 128));
        assert_eq!(c.root, vec![0, 0, 0, 3, 0]);
        assert_eq!(c.largest(), vec![(0, 4)]);
        let idx = NearIndex::build(&sigs[..128 * 4], 128, sets[..4].to_vec(), &NearOptions::new(0.8, 128));
        assert_eq!(idx.query(&sigs[128 * 4..], &sets[4]).map(|m| m.0), Some(0));
        assert_eq!(idx.query(&h.signature(&sh.shingles("nothing alike here at all")), &sh.shingles("x")), None);
    }

    #[test]
    fn large_buckets_use_a_window() {
        let mut pairs = Vec::new();
        bucket_pairs(&[1, 2, 3], 32, |a, b| pairs.push((a, b)));
        assert_eq!(pairs, vec![(1, 2), (1, 3), (2, 3)]);
        pairs.clear();
        bucket_pairs(&(0..40).collect::<Vec<_>>(), 32, |a, b| pairs.push((a, b)));
        assert_eq!(pairs.len(), (1..40).map(|i: usize| i.min(32)).sum::<usize>());
    }
}
