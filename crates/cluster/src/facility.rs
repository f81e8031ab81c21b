//! Facility location by lazy greedy (Superfiltering.D, docs/methods.md §3.5).
//!
//! Maximises `f(S) = Σᵢ max_{j ∈ S} s_ij` over `|S| = budget` with submodlib's dense
//! euclidean kernel `s_ij = exp(−‖xᵢ − xⱼ‖₂ / d)`, `d` the number of columns, and
//! `s_ii = 1`. This is what `FacilityLocationFunction(mode="dense", metric="euclidean")`
//! builds in submodlib's `helper.cpp` (`euclidean_similarity`: `exp(−ED · (1/num_features))`;
//! `create_square_kernel_dense` sets the diagonal to 1) and maximises with `LazyGreedy`
//! (`stopIfZeroGain = stopIfNegativeGain = false`).
//!
//! ## Memory and work
//!
//! The `n × n` kernel is never stored. The initial gains `g_j = Σᵢ s_ij` are computed in one
//! blocked pass over the upper triangle (GEMM for the dot products, the kernel is symmetric);
//! afterwards each lazy re-evaluation recomputes kernel columns, a batch of stale candidates at
//! a time, by GEMM over row blocks. Memory is `O(n·d)` for a centred copy of the data plus
//! `O(n · batch)` for the evaluated columns.
//!
//! ## Numerics and ties
//!
//! Dot products are `f32` GEMM on mean-centred data (distances are translation invariant and
//! centring shrinks the cancellation in `‖x‖² + ‖y‖² − 2·x·y`); the distance, the `exp`, every
//! gain and every sum are `f64`. For L2-normalised embeddings all similarities lie in
//! `[e^{−2/d}, 1] ≈ [0.9948, 1]`, so the gains are differences of numbers close to 1 — submodlib
//! stores its kernel in `float32` (ulp 6e-8 near 1) and sums in the order of a hash set, so its
//! own pick order is only defined up to that noise; this implementation follows the exact
//! (`f64`) greedy instead. Lazy greedy here returns exactly the plain greedy sequence with
//! the chosen [`TieBreak`] among equal gains: **lowest index first** by default.
//! submodlib's `std::priority_queue<pair<double, ll>>` prefers the **highest** index among
//! exactly equal gains ([`TieBreak::HighestIndex`] reproduces that); exact ties only arise
//! between duplicate rows or once every remaining gain is 0.

use std::cmp::Ordering;
use std::collections::BinaryHeap;

use gleaner_core::{Error, Result};
use multiversion::multiversion;
use rayon::prelude::*;

use crate::{BLOCK_ROWS, centred_sq_norms, check_matrix, mean_and_mean_var};

/// Which element wins among exactly equal gains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TieBreak {
    /// The lowest row index (like `np.argmax`). The default.
    #[default]
    LowestIndex,
    /// The highest row index (what submodlib's max-heap of `(gain, index)` pairs does).
    HighestIndex,
}

/// Parameters for [`facility_location`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FacilityParams {
    /// Number of rows to pick (`fla_num`), at most `n`.
    pub budget: usize,
    /// Tie rule among equal gains.
    pub tie_break: TieBreak,
}

impl FacilityParams {
    /// `budget` picks, ties to the lowest index.
    pub fn new(budget: usize) -> FacilityParams {
        FacilityParams { budget, tie_break: TieBreak::LowestIndex }
    }
}

/// The greedy sequence.
#[derive(Debug, Clone, PartialEq)]
pub struct FacilityResult {
    /// Picked row indices, in pick order.
    pub picks: Vec<usize>,
    /// Marginal gain of each pick when it was added (non-increasing up to rounding).
    pub gains: Vec<f64>,
    /// `f(S)` of the final set (the sum of the gains).
    pub objective: f64,
    /// Kernel columns evaluated during the lazy phase (re-evaluations plus pick updates),
    /// a measure of how lazy the run was.
    pub evaluations: usize,
}

/// Rows (and columns) per block in the initial-gain pass.
const GAIN_BLOCK: usize = 512;
/// Block pairs evaluated per wave of the initial pass (bounds the partial-sum memory).
const PAIRS_PER_WAVE: usize = 1024;
/// Stale candidates re-evaluated together (one pass over the data per batch). On 10,400
/// MiniLM embeddings with budget 1,040 the lazy greedy needs about 61 re-evaluations per pick
/// whatever the batch (63.4k evaluations with batches of 4, 65.3k with 16, 75k with 32,
/// 102k with 64); 16 balances passes over the data against wasted evaluations.
const LAZY_BATCH: usize = 16;
/// Squared distances below `NEAR × (‖xᵢ‖² + ‖xⱼ‖²)` are recomputed exactly: there the
/// `f32` GEMM expansion has no correct digits left.
const NEAR: f64 = 1e-4;

/// The centred data and what is needed to evaluate kernel entries.
struct Kernel {
    xc: Vec<f32>,
    norms: Vec<f64>,
    n: usize,
    d: usize,
    inv_d: f64,
}

impl Kernel {
    /// Similarities of row `i` with rows `js` from their GEMM dot products: the vectorised
    /// `exp(−√(‖xᵢ‖² + ‖xⱼ‖² − 2·xᵢ·xⱼ) / d)`, then the exact fix-ups — `s_ii = 1`, and
    /// near-duplicates (squared distance below `NEAR × (‖xᵢ‖² + ‖xⱼ‖²)`, where the expansion
    /// is dominated by the `f32` rounding of the dot product) recomputed from the exact
    /// difference (so identical rows get exactly 1).
    fn sims(&self, i: usize, js: &[usize], nj: &[f64], dots: &[f32], out: &mut [f64]) {
        let ni = self.norms[i];
        sims_line(ni, nj, dots, self.inv_d, out);
        for (t, &j) in js.iter().enumerate() {
            let scale = ni + nj[t];
            if j == i {
                out[t] = 1.0;
            } else if scale - 2.0 * dots[t] as f64 <= NEAR * scale {
                out[t] = exp_neg(-self.exact_sq_dist(i, j).sqrt() * self.inv_d);
            }
        }
    }

    /// `Σ (xᵢ − xⱼ)²` in `f64` from the centred rows (symmetric in `i`, `j`).
    fn exact_sq_dist(&self, i: usize, j: usize) -> f64 {
        let d = self.d;
        let (a, b) = (&self.xc[i * d..(i + 1) * d], &self.xc[j * d..(j + 1) * d]);
        a.iter()
            .zip(b)
            .map(|(&u, &v)| {
                let t = u as f64 - v as f64;
                t * t
            })
            .sum()
    }

    /// Dot products of rows `r0..r0 + rows` with rows `ids` (each single-threaded GEMM).
    fn dots(&self, r0: usize, rows: usize, cols: &[f32], c: usize, out: &mut Vec<f32>) {
        let d = self.d;
        out.resize(rows * c, 0.0);
        gleaner_nn::linear::matmul_t_par(&self.xc[r0 * d..(r0 + rows) * d], rows, d, cols, c, out, false);
    }

    /// Initial gains `g_j = Σᵢ s_ij` (the kernel is symmetric: one pass over the upper
    /// triangle of blocks, reduced in a fixed order).
    fn column_sums(&self) -> Vec<f64> {
        let (n, d) = (self.n, self.d);
        let nb = n.div_ceil(GAIN_BLOCK);
        let pairs: Vec<(usize, usize)> = (0..nb).flat_map(|i| (i..nb).map(move |j| (i, j))).collect();
        let mut g = vec![0.0f64; n];
        for wave in pairs.chunks(PAIRS_PER_WAVE) {
            let parts: Vec<(Vec<f64>, Vec<f64>)> = wave
                .par_iter()
                .map_init(
                    || (Vec::new(), Vec::new()),
                    |bufs, &(bi, bj)| {
                        let (r0, c0) = (bi * GAIN_BLOCK, bj * GAIN_BLOCK);
                        let rows = GAIN_BLOCK.min(n - r0);
                        let cols = GAIN_BLOCK.min(n - c0);
                        let (buf, line) = bufs;
                        self.dots(r0, rows, &self.xc[c0 * d..(c0 + cols) * d], cols, buf);
                        let js: Vec<usize> = (c0..c0 + cols).collect();
                        let nj = &self.norms[c0..c0 + cols];
                        line.resize(cols, 0.0);
                        let mut rs = vec![0.0f64; rows];
                        let mut cs = vec![0.0f64; if bi == bj { 0 } else { cols }];
                        for (r, dots) in buf.chunks_exact(cols).enumerate() {
                            self.sims(r0 + r, &js, nj, dots, line);
                            rs[r] = line.iter().sum();
                            if bi != bj {
                                for (c, &v) in cs.iter_mut().zip(line.iter()) {
                                    *c += v;
                                }
                            }
                        }
                        (rs, cs)
                    },
                )
                .collect();
            for (&(bi, bj), (rs, cs)) in wave.iter().zip(parts) {
                let (r0, c0) = (bi * GAIN_BLOCK, bj * GAIN_BLOCK);
                for (gv, v) in g[r0..r0 + rs.len()].iter_mut().zip(&rs) {
                    *gv += v;
                }
                for (gv, v) in g[c0..c0 + cs.len()].iter_mut().zip(&cs) {
                    *gv += v;
                }
            }
        }
        g
    }

    /// Kernel columns for `ids` (`cols[i × c + t] = s(i, ids[t])`) and the gains
    /// `Σᵢ max(0, s(i, ids[t]) − cur[i])`, reduced in block order.
    fn columns(&self, ids: &[usize], cur: &[f64], cols: &mut Vec<f64>) -> Vec<f64> {
        let (n, d) = (self.n, self.d);
        let c = ids.len();
        let mut cand = Vec::with_capacity(c * d);
        for &j in ids {
            cand.extend_from_slice(&self.xc[j * d..(j + 1) * d]);
        }
        let nj: Vec<f64> = ids.iter().map(|&j| self.norms[j]).collect();
        cols.resize(n * c, 0.0);
        let parts: Vec<Vec<f64>> = cols
            .par_chunks_mut(BLOCK_ROWS * c)
            .enumerate()
            .map_init(Vec::new, |buf, (b, out)| {
                let r0 = b * BLOCK_ROWS;
                let rows = out.len() / c;
                self.dots(r0, rows, &cand, c, buf);
                let mut gains = vec![0.0f64; c];
                for (r, (dots, line)) in buf.chunks_exact(c).zip(out.chunks_exact_mut(c)).enumerate() {
                    let i = r0 + r;
                    self.sims(i, ids, &nj, dots, line);
                    let base = cur[i];
                    for (g, &s) in gains.iter_mut().zip(line.iter()) {
                        if s > base {
                            *g += s - base;
                        }
                    }
                }
                gains
            })
            .collect();
        let mut gains = vec![0.0f64; c];
        for p in parts {
            for (g, v) in gains.iter_mut().zip(p) {
                *g += v;
            }
        }
        gains
    }
}

/// `out[t] = exp(−√max(0, ni + nj[t] − 2·dots[t]) · inv_d)`, vectorised per CPU.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma"))]
fn sims_line(ni: f64, nj: &[f64], dots: &[f32], inv_d: f64, out: &mut [f64]) {
    for ((o, &dot), &n2) in out.iter_mut().zip(dots).zip(nj) {
        let d2 = (ni + n2 - 2.0 * dot as f64).max(0.0);
        *o = exp_neg(-(d2.sqrt() * inv_d));
    }
}

/// `eˣ` for `x ≤ 0` in `f64`, branch-free so loops over it vectorise: range reduction by
/// ln 2 (fdlibm's split constants), a degree-13 Taylor polynomial on |r| ≤ ln2/2 (truncation
/// below 5e-18), and `2ᵏ` assembled from the exponent bits. Relative error ≲ 3e-16 for
/// `x ≥ −708`; smaller arguments return `e^−708` (≈ 3e-308) instead of underflowing.
#[inline(always)]
fn exp_neg(x: f64) -> f64 {
    const LOG2E: f64 = std::f64::consts::LOG2_E;
    const LN2_HI: f64 = 6.931_471_803_691_238e-1;
    const LN2_LO: f64 = 1.908_214_929_270_587_7e-10;
    // 1.5 · 2⁵²: adding it rounds to an integer held in the low mantissa bits
    const MAGIC: f64 = 6_755_399_441_055_744.0;
    let x = x.clamp(-708.0, 0.0);
    let t = x * LOG2E + MAGIC;
    let kf = t - MAGIC;
    let k = (t.to_bits() as i64).wrapping_sub(MAGIC.to_bits() as i64);
    let r = x - kf * LN2_HI - kf * LN2_LO;
    const C: [f64; 14] = [
        1.0,
        1.0,
        1.0 / 2.0,
        1.0 / 6.0,
        1.0 / 24.0,
        1.0 / 120.0,
        1.0 / 720.0,
        1.0 / 5040.0,
        1.0 / 40320.0,
        1.0 / 362_880.0,
        1.0 / 3_628_800.0,
        1.0 / 39_916_800.0,
        1.0 / 479_001_600.0,
        1.0 / 6_227_020_800.0,
    ];
    let mut p = C[13];
    for c in C[..13].iter().rev() {
        p = p * r + c;
    }
    p * f64::from_bits(((k + 1023) as u64) << 52)
}

/// A heap entry: an upper bound on the gain of `idx`, valid as the exact gain when `stamp`
/// equals the current number of picks.
#[derive(Debug, Clone, Copy)]
struct Entry {
    gain: f64,
    /// `−idx` for [`TieBreak::LowestIndex`], `idx` for [`TieBreak::HighestIndex`].
    tie: i64,
    idx: usize,
    stamp: usize,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> Ordering {
        self.gain.total_cmp(&other.gain).then(self.tie.cmp(&other.tie))
    }
}

/// Greedy facility location on the `n × d` row-major matrix `x`; see the module docs.
///
/// Errors ([`Error::Invalid`]) on an empty or non-finite matrix or `budget > n`. A budget of
/// 0 returns an empty selection.
pub fn facility_location(x: &[f32], n: usize, d: usize, params: &FacilityParams) -> Result<FacilityResult> {
    check_matrix(x, n, d, "facility location")?;
    let budget = params.budget;
    if budget > n {
        return Err(Error::Invalid(format!("facility location: budget {budget} is more than the {n} candidates")));
    }
    if n > i64::MAX as usize / 2 {
        return Err(Error::Invalid("facility location: too many rows".into()));
    }
    let mut result = FacilityResult { picks: Vec::new(), gains: Vec::new(), objective: 0.0, evaluations: 0 };
    if budget == 0 {
        return Ok(result);
    }

    let (mean, _) = mean_and_mean_var(x, n, d);
    let shift: Vec<f32> = mean.iter().map(|&m| m as f32).collect();
    let mut xc = vec![0.0f32; n * d];
    xc.par_chunks_mut(d).zip(x.par_chunks(d)).for_each(|(o, r)| {
        for ((o, &v), &m) in o.iter_mut().zip(r).zip(&shift) {
            *o = v - m;
        }
    });
    let norms = centred_sq_norms(x, d, &shift);
    let kernel = Kernel { xc, norms, n, d, inv_d: 1.0 / d as f64 };

    let tie = |idx: usize| match params.tie_break {
        TieBreak::LowestIndex => -(idx as i64),
        TieBreak::HighestIndex => idx as i64,
    };
    let g0 = kernel.column_sums();
    let mut heap: BinaryHeap<Entry> =
        g0.iter().enumerate().map(|(idx, &gain)| Entry { gain, tie: tie(idx), idx, stamp: 0 }).collect();

    let mut cur = vec![0.0f64; n];
    let mut cols: Vec<f64> = Vec::new();
    // ids whose columns are in `cols`, valid while no pick has been made since
    let mut cached: Vec<usize> = Vec::new();
    let mut batch: Vec<usize> = Vec::with_capacity(LAZY_BATCH);
    while result.picks.len() < budget {
        let round = result.picks.len();
        let top = *heap.peek().expect("budget ≤ n keeps the heap non-empty");
        if top.stamp == round {
            heap.pop();
            let col: Vec<f64> = match cached.iter().position(|&j| j == top.idx) {
                Some(t) => {
                    let c = cached.len();
                    (0..n).map(|i| cols[i * c + t]).collect()
                }
                None => {
                    let mut one = Vec::new();
                    kernel.columns(&[top.idx], &cur, &mut one);
                    result.evaluations += 1;
                    one
                }
            };
            for (cv, s) in cur.iter_mut().zip(col) {
                if s > *cv {
                    *cv = s;
                }
            }
            result.picks.push(top.idx);
            result.gains.push(top.gain);
            result.objective += top.gain;
            cached.clear();
            continue;
        }
        // re-evaluate the stale top candidates together
        batch.clear();
        while batch.len() < LAZY_BATCH {
            match heap.peek() {
                Some(e) if e.stamp != round => {
                    batch.push(e.idx);
                    heap.pop();
                }
                _ => break,
            }
        }
        let gains = kernel.columns(&batch, &cur, &mut cols);
        result.evaluations += batch.len();
        for (&idx, &gain) in batch.iter().zip(&gains) {
            heap.push(Entry { gain, tie: tie(idx), idx, stamp: round });
        }
        cached.clear();
        cached.extend_from_slice(&batch);
    }
    Ok(result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rng::Rng;

    fn points(n: usize, d: usize, seed: u64) -> Vec<f32> {
        let mut r = Rng::new(seed, 0);
        let mut x: Vec<f32> = (0..n * d).map(|_| (r.next_f64() - 0.5) as f32).collect();
        for row in x.chunks_mut(d) {
            let s = row.iter().map(|v| v * v).sum::<f32>().sqrt();
            row.iter_mut().for_each(|v| *v /= s);
        }
        x
    }

    /// Plain greedy over an explicit `f64` kernel (exact distances), lowest index on ties.
    fn naive(x: &[f32], n: usize, d: usize, budget: usize) -> (Vec<usize>, Vec<f64>) {
        let mut s = vec![0.0f64; n * n];
        for i in 0..n {
            for j in 0..n {
                let d2: f64 = (0..d).map(|q| (x[i * d + q] as f64 - x[j * d + q] as f64).powi(2)).sum();
                s[i * n + j] = if i == j { 1.0 } else { (-d2.sqrt() / d as f64).exp() };
            }
        }
        let mut cur = vec![0.0f64; n];
        let mut picked = vec![false; n];
        let (mut picks, mut gains) = (Vec::new(), Vec::new());
        for _ in 0..budget {
            let mut best = (f64::NEG_INFINITY, 0usize);
            for j in 0..n {
                if picked[j] {
                    continue;
                }
                let g: f64 = (0..n).map(|i| (s[i * n + j] - cur[i]).max(0.0)).sum();
                if g > best.0 {
                    best = (g, j);
                }
            }
            let j = best.1;
            picked[j] = true;
            for i in 0..n {
                cur[i] = cur[i].max(s[i * n + j]);
            }
            picks.push(j);
            gains.push(best.0);
        }
        (picks, gains)
    }

    #[test]
    fn exp_neg_accuracy() {
        let mut worst = 0.0f64;
        let mut x = 0.0f64;
        while x > -700.0 {
            let rel = (exp_neg(x) - x.exp()).abs() / x.exp();
            worst = worst.max(rel);
            x -= 0.000_731 * (1.0 + x.abs());
        }
        assert!(worst < 5e-16, "{worst:e}");
        for x in [0.0, -1e-300, -1e-12, -0.001, -0.5, -std::f64::consts::LN_2, -1.0, -2.0 / 384.0] {
            assert!((exp_neg(x) - x.exp()).abs() <= 4e-16 * x.exp(), "{x}");
        }
        assert_eq!(exp_neg(0.0), 1.0);
        assert!(exp_neg(-1000.0) < 1e-307);
    }

    #[test]
    fn matches_naive_greedy() {
        let (n, d) = (700, 16);
        let x = points(n, d, 11);
        let res = facility_location(&x, n, d, &FacilityParams::new(60)).unwrap();
        let (picks, gains) = naive(&x, n, d, 60);
        assert_eq!(res.picks, picks);
        for (a, b) in res.gains.iter().zip(&gains) {
            assert!((a - b).abs() < 1e-6 * b.max(1e-3), "{a} {b}");
        }
        assert!(res.gains.windows(2).all(|w| w[1] <= w[0] + 1e-9));
        let total: f64 = res.gains.iter().sum();
        assert!((total - res.objective).abs() < 1e-9);
        // lazy: far fewer evaluations than the naive n × budget
        assert!(res.evaluations < n * 60 / 4, "{}", res.evaluations);
    }

    #[test]
    fn budget_n_picks_everything_once() {
        let (n, d) = (37, 5);
        let x = points(n, d, 12);
        let res = facility_location(&x, n, d, &FacilityParams::new(n)).unwrap();
        let mut p = res.picks.clone();
        p.sort_unstable();
        assert_eq!(p, (0..n).collect::<Vec<_>>());
        // f(V) = n exactly; the gains carry the f32 rounding of the GEMM dot products
        assert!((res.objective - n as f64).abs() < 1e-6, "{}", res.objective);
    }

    #[test]
    fn ties_and_duplicates() {
        // rows 0, 2, 4 identical; 1, 3 identical
        let d = 3;
        let a = [1.0f32, 0.0, 0.0];
        let b = [0.0f32, 1.0, 0.0];
        let x: Vec<f32> = [a, b, a, b, a].concat();
        let low = facility_location(&x, 5, d, &FacilityParams::new(5)).unwrap();
        // the a-group (3 rows) first, lowest index; then b; then zero gains in index order
        assert_eq!(low.picks, vec![0, 1, 2, 3, 4]);
        assert_eq!(&low.gains[2..], &[0.0, 0.0, 0.0]);
        let high =
            facility_location(&x, 5, d, &FacilityParams { budget: 5, tie_break: TieBreak::HighestIndex }).unwrap();
        assert_eq!(high.picks, vec![4, 3, 2, 1, 0]);
    }

    #[test]
    fn deterministic_across_threads() {
        let (n, d) = (1500, 8);
        let x = points(n, d, 13);
        let run = |t: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap()
                .install(|| facility_location(&x, n, d, &FacilityParams::new(40)).unwrap())
        };
        let a = run(1);
        assert_eq!(a, run(2));
        assert_eq!(a, run(4));
    }

    #[test]
    fn bad_input() {
        let x = points(5, 3, 14);
        assert!(facility_location(&x, 5, 3, &FacilityParams::new(6)).is_err());
        assert!(facility_location(&[], 0, 3, &FacilityParams::new(0)).is_err());
        let r = facility_location(&x, 5, 3, &FacilityParams::new(0)).unwrap();
        assert!(r.picks.is_empty());
        let mut bad = x.clone();
        bad[0] = f32::NAN;
        assert!(facility_location(&bad, 5, 3, &FacilityParams::new(1)).is_err());
    }
}
