//! Locality-sensitive hashing over MinHash signatures: bands × rows, derived from the
//! threshold, and the S-curve.
//!
//! A signature of `perms` values is cut into `bands` bands of `rows` values (`bands × rows ≤
//! perms`). Two rows become a *candidate pair* when all values of at least one band agree, which
//! for Jaccard `s` happens with probability `P(s) = 1 − (1 − s^rows)^bands`: the S-curve.
//! `rows` is the steepness (values per band), `bands` the number of chances.
//!
//! [`LshParams::for_recall`] (gleaner's default) picks, among all `bands × rows ≤ perms`, the
//! pair with `P(threshold) ≥ 0.99` and the smallest false-positive area `∫₀^threshold P(s) ds`.
//! Every candidate is verified by exact Jaccard, so false positives cost only time while false
//! negatives lose duplicates: recall at the threshold is the constraint and candidate volume
//! is what is minimised. [`LshParams::datasketch`] reproduces datasketch's `_optimal_param`
//! (equal weights on the false-positive and false-negative areas), which has P(threshold) ≈
//! 0.4 at 128 permutations and threshold 0.8 and is available for like-for-like comparisons.

/// Bands and rows per band.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LshParams {
    /// Number of bands.
    pub bands: usize,
    /// Signature values per band.
    pub rows: usize,
}

/// The recall at the threshold [`LshParams::for_recall`] asks for by default.
pub const DEFAULT_RECALL_AT_THRESHOLD: f64 = 0.99;

/// Integral of `f` over `[a, b]` by composite Simpson's rule (`n` even intervals).
fn integrate(f: impl Fn(f64) -> f64, a: f64, b: f64) -> f64 {
    let n = 1000;
    let h = (b - a) / n as f64;
    let mut s = f(a) + f(b);
    for i in 1..n {
        s += f(a + i as f64 * h) * if i % 2 == 1 { 4.0 } else { 2.0 };
    }
    s * h / 3.0
}

impl LshParams {
    /// The probability that a pair with Jaccard `s` becomes a candidate.
    pub fn probability(&self, s: f64) -> f64 {
        1.0 - (1.0 - s.powi(self.rows as i32)).powi(self.bands as i32)
    }

    /// `∫₀^t P(s) ds`: the candidate mass below the threshold.
    pub fn false_positive_area(&self, t: f64) -> f64 {
        integrate(|s| self.probability(s), 0.0, t)
    }

    /// `∫_t^1 (1 − P(s)) ds`: the missed mass above the threshold.
    pub fn false_negative_area(&self, t: f64) -> f64 {
        integrate(|s| 1.0 - self.probability(s), t, 1.0)
    }

    /// gleaner's default: `P(threshold) ≥ recall`, then the least false-positive area; ties go
    /// to fewer bands. Falls back to one row per band × `perms` bands if nothing reaches
    /// `recall`.
    pub fn for_recall(threshold: f64, perms: usize, recall: f64) -> LshParams {
        let mut best: Option<(f64, LshParams)> = None;
        for bands in 1..=perms {
            for rows in 1..=perms / bands {
                let p = LshParams { bands, rows };
                if p.probability(threshold) < recall {
                    continue;
                }
                let fp = p.false_positive_area(threshold);
                if best.is_none_or(|(b, _)| fp < b - 1e-12) {
                    best = Some((fp, p));
                }
            }
        }
        best.map_or(LshParams { bands: perms.max(1), rows: 1 }, |b| b.1)
    }

    /// datasketch's `MinHashLSH._optimal_param(threshold, num_perm, fp_weight, fn_weight)`:
    /// minimises `fp_weight · FP area + fn_weight · FN area` over `bands × rows ≤ perms`
    /// (datasketch's defaults are 0.5 and 0.5).
    pub fn datasketch(threshold: f64, perms: usize, fp_weight: f64, fn_weight: f64) -> LshParams {
        let mut best = (f64::INFINITY, LshParams { bands: 1, rows: 1 });
        for bands in 1..=perms {
            for rows in 1..=perms / bands {
                let p = LshParams { bands, rows };
                let err = fp_weight * p.false_positive_area(threshold) + fn_weight * p.false_negative_area(threshold);
                if err < best.0 {
                    best = (err, p);
                }
            }
        }
        best.1
    }

    /// The S-curve at Jaccard 0.50, 0.55, …, 1.00: `(s, P(candidate))`.
    pub fn s_curve(&self) -> Vec<(f64, f64)> {
        (0..=10).map(|i| 0.5 + 0.05 * i as f64).map(|s| (s, self.probability(s))).collect()
    }
}

/// The key of band `band` of a signature (`rows` values hashed together).
pub fn band_key(sig: &[u32], band: usize, rows: usize) -> u64 {
    let part = &sig[band * rows..(band + 1) * rows];
    let mut bytes = Vec::with_capacity(rows * 4 + 8);
    bytes.extend_from_slice(&(band as u64).to_le_bytes());
    for v in part {
        bytes.extend_from_slice(&v.to_le_bytes());
    }
    xxhash_rust::xxh3::xxh3_64(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_params_reach_recall_at_threshold() {
        for t in [0.5, 0.6, 0.7, 0.8, 0.9, 0.95] {
            let p = LshParams::for_recall(t, 128, 0.99);
            assert!(p.bands * p.rows <= 128);
            assert!(p.probability(t) >= 0.99, "{t}: {p:?}");
            // a looser curve (one fewer row) would cost more false-positive area
            if p.rows > 1 {
                let looser = LshParams { bands: p.bands, rows: p.rows - 1 };
                assert!(looser.false_positive_area(t) > p.false_positive_area(t));
            }
        }
        assert_eq!(LshParams::for_recall(0.8, 128, 0.99), LshParams { bands: 16, rows: 6 });
    }

    #[test]
    fn s_curve_is_monotone() {
        let p = LshParams { bands: 16, rows: 6 };
        let c = p.s_curve();
        assert_eq!(c.len(), 11);
        assert!(c.windows(2).all(|w| w[0].1 <= w[1].1));
        assert!((c[10].1 - 1.0).abs() < 1e-12);
    }
}
