//! Principal component analysis, matching scikit-learn's `PCA` (solver `covariance_eigh`).
//!
//! Fit: the column mean is subtracted, the covariance `C = XcᵀXc / (n − 1)` is accumulated in
//! `f64` over fixed row blocks, and `C` is decomposed with faer's symmetric eigensolver. As in
//! scikit-learn:
//!
//! - eigenvalues are sorted descending and negative round-off is clipped to 0;
//!   `explained_variance` uses the `n − 1` denominator and `explained_variance_ratio` divides
//!   by the sum of **all** eigenvalues;
//! - for a variance target `t ∈ (0, 1)` the number of components is
//!   `searchsorted(cumsum(ratio), t, side="right") + 1`, i.e. the smallest count whose
//!   cumulative ratio is strictly greater than `t` (equal to `t` is not enough);
//! - signs follow `svd_flip(u_based_decision=False)`: in each component the entry of largest
//!   absolute value (the first such entry on ties) is made positive.
//!
//! scikit-learn's `PCA(0.95)` picks its solver by shape: `covariance_eigh` when
//! `n ≥ 10·d` and `d ≤ 1000` (CaR's 52,002 × 384), a full LAPACK SVD otherwise. Both give the
//! same decomposition up to rounding; the golden tests compare against the full-SVD result on a
//! 1,500-row matrix.
//!
//! Unlike scikit-learn, which keeps `float32` input in `float32`, the covariance and the
//! eigendecomposition here are always `f64`; CaR itself reads its embeddings back from a text
//! file as `float64`.

use faer::diag::Diag;
use faer::dyn_stack::{MemBuffer, MemStack};
use faer::linalg::evd::{ComputeEigenvectors, self_adjoint_evd, self_adjoint_evd_scratch};
use faer::linalg::matmul::matmul;
use faer::{Accum, Mat, MatRef, Par};
use gleaner_core::{Error, Result};
use rayon::prelude::*;

use crate::{BLOCK_ROWS, check_matrix};

/// How many components to keep.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum PcaTarget {
    /// The smallest number of components whose cumulative explained-variance ratio is
    /// strictly greater than this fraction, in `(0, 1)` (scikit-learn's float
    /// `n_components`). CaR and LCG use 0.95.
    Variance(f64),
    /// Exactly this many components, `1 ..= min(n, d)`.
    Components(usize),
}

impl Default for PcaTarget {
    /// `Variance(0.95)`, as CaR and LCG use.
    fn default() -> Self {
        PcaTarget::Variance(0.95)
    }
}

/// A fitted PCA: `transform(x) = (x − mean) · componentsᵀ`.
#[derive(Debug, Clone, PartialEq)]
pub struct Pca {
    /// Column means of the training data, length `n_features`.
    pub mean: Vec<f64>,
    /// Principal axes, `n_components × n_features`, row-major, in decreasing order of
    /// explained variance; unit length, signs as scikit-learn's `svd_flip`.
    pub components: Vec<f64>,
    /// Variance along each kept component (eigenvalue of the covariance with the `n − 1`
    /// denominator), scikit-learn's `explained_variance_`.
    pub explained_variance: Vec<f64>,
    /// `explained_variance` divided by the total variance (sum over all eigenvalues),
    /// scikit-learn's `explained_variance_ratio_`.
    pub explained_variance_ratio: Vec<f64>,
    /// Number of input columns `d`.
    pub n_features: usize,
    /// Number of rows the model was fitted on.
    pub n_samples: usize,
}

/// Rows converted to `f64` at a time in the covariance pass.
const COV_CHUNK: usize = 2048;
/// Memory allowed for the per-group partial covariance matrices.
const COV_PARTIAL_BYTES: usize = 256 << 20;

impl Pca {
    /// Fits a PCA on the `n × d` row-major matrix `x`.
    ///
    /// Errors ([`Error::Invalid`]) on an empty or non-finite matrix, `n < 2` (the `n − 1`
    /// denominator), a variance target outside `(0, 1)`, or a component count outside
    /// `1 ..= min(n, d)`.
    pub fn fit(x: &[f32], n: usize, d: usize, target: PcaTarget) -> Result<Pca> {
        check_matrix(x, n, d, "PCA")?;
        if n < 2 {
            return Err(Error::Invalid(format!("PCA: needs at least 2 rows, got {n}")));
        }
        match target {
            PcaTarget::Variance(t) if !(t > 0.0 && t < 1.0) => {
                return Err(Error::Invalid(format!("PCA: explained-variance target must be in (0, 1), got {t}")));
            }
            PcaTarget::Components(k) if k == 0 || k > n.min(d) => {
                return Err(Error::Invalid(format!(
                    "PCA: n_components = {k} must be between 1 and min(n_samples, n_features) = {}",
                    n.min(d)
                )));
            }
            _ => {}
        }

        let (mean, _) = crate::mean_and_mean_var(x, n, d);
        let cov = covariance(x, n, d, &mean);

        // Symmetric eigendecomposition, single-threaded so the result does not depend on
        // the thread count (d × d is small next to the covariance pass).
        let mut s = Diag::<f64>::zeros(d);
        let mut u = Mat::<f64>::zeros(d, d);
        let par = Par::Seq;
        let mut mem =
            MemBuffer::new(self_adjoint_evd_scratch::<f64>(d, ComputeEigenvectors::Yes, par, Default::default()));
        self_adjoint_evd(cov.as_ref(), s.as_mut(), Some(u.as_mut()), par, MemStack::new(&mut mem), Default::default())
            .map_err(|e| Error::Other(format!("PCA: eigendecomposition failed: {e:?}")))?;

        // Descending order, clip negative round-off (sklearn: eigenvals[eigenvals < 0] = 0).
        let eig: Vec<f64> = (0..d).rev().map(|i| s[i].max(0.0)).collect();
        let total: f64 = eig.iter().sum();
        if total <= 0.0 {
            return Err(Error::Invalid("PCA: the data has zero variance (all rows are identical)".into()));
        }
        let ratio: Vec<f64> = eig.iter().map(|v| v / total).collect();
        let max_k = n.min(d);
        let k = match target {
            PcaTarget::Components(k) => k,
            PcaTarget::Variance(t) => {
                // np.searchsorted(cumsum, t, side="right") + 1
                let mut acc = 0.0f64;
                let mut below = 0usize;
                for r in &ratio {
                    acc += r;
                    if acc <= t {
                        below += 1;
                    } else {
                        break;
                    }
                }
                (below + 1).min(max_k)
            }
        };

        let mut components = vec![0.0f64; k * d];
        for c in 0..k {
            let col = d - 1 - c;
            let row = &mut components[c * d..(c + 1) * d];
            for (j, r) in row.iter_mut().enumerate() {
                *r = u[(j, col)];
            }
            // svd_flip(u_based_decision=False): largest |v| (first on ties) made positive.
            let mut best = 0usize;
            for j in 1..d {
                if row[j].abs() > row[best].abs() {
                    best = j;
                }
            }
            if row[best] < 0.0 {
                for r in row.iter_mut() {
                    *r = -*r;
                }
            }
        }

        Ok(Pca {
            mean,
            components,
            explained_variance: eig[..k].to_vec(),
            explained_variance_ratio: ratio[..k].to_vec(),
            n_features: d,
            n_samples: n,
        })
    }

    /// Fits on `x` and returns the model with `x` projected (`n × n_components`, `f32`).
    pub fn fit_transform(x: &[f32], n: usize, d: usize, target: PcaTarget) -> Result<(Pca, Vec<f32>)> {
        let pca = Pca::fit(x, n, d, target)?;
        let y = pca.transform(x, n)?;
        Ok((pca, y))
    }

    /// Number of kept components.
    pub fn n_components(&self) -> usize {
        self.explained_variance.len()
    }

    /// Sum of the kept explained-variance ratios.
    pub fn explained_variance_ratio_sum(&self) -> f64 {
        self.explained_variance_ratio.iter().sum()
    }

    /// Projects the `n × n_features` matrix `x`: `(x − mean) · componentsᵀ`, an
    /// `n × n_components` `f32` matrix (GEMM in `f32`, blocked over rows).
    pub fn transform(&self, x: &[f32], n: usize) -> Result<Vec<f32>> {
        let d = self.n_features;
        check_matrix(x, n, d, "PCA transform")?;
        let k = self.n_components();
        let comps: Vec<f32> = self.components.iter().map(|&v| v as f32).collect();
        let mean: Vec<f32> = self.mean.iter().map(|&v| v as f32).collect();
        let mut out = vec![0.0f32; n * k];
        out.par_chunks_mut(BLOCK_ROWS * k).enumerate().for_each_init(Vec::new, |buf, (b, out_block)| {
            let start = b * BLOCK_ROWS;
            let rows = out_block.len() / k;
            buf.clear();
            for row in x[start * d..(start + rows) * d].chunks_exact(d) {
                buf.extend(row.iter().zip(&mean).map(|(&v, &m)| v - m));
            }
            gleaner_nn::linear::matmul_t_par(buf, rows, d, &comps, k, out_block, false);
        });
        Ok(out)
    }
}

/// `XcᵀXc / (n − 1)` in `f64`, where `Xc = x − mean`; summed over fixed row chunks in a fixed
/// order so the result does not depend on the thread count.
fn covariance(x: &[f32], n: usize, d: usize, mean: &[f64]) -> Mat<f64> {
    let n_chunks = n.div_ceil(COV_CHUNK);
    let max_groups = (COV_PARTIAL_BYTES / (d * d * 8)).clamp(1, 32);
    let chunks_per_group = n_chunks.div_ceil(max_groups.min(n_chunks));
    let rows_per_group = chunks_per_group * COV_CHUNK;
    let partials: Vec<Mat<f64>> = x
        .par_chunks(rows_per_group * d)
        .map(|group| {
            let mut acc = Mat::<f64>::zeros(d, d);
            let mut buf: Vec<f64> = Vec::with_capacity(COV_CHUNK * d);
            for chunk in group.chunks(COV_CHUNK * d) {
                let rows = chunk.len() / d;
                buf.clear();
                for row in chunk.chunks_exact(d) {
                    buf.extend(row.iter().zip(mean).map(|(&v, &m)| v as f64 - m));
                }
                let b = MatRef::from_row_major_slice(&buf, rows, d);
                matmul(acc.as_mut(), Accum::Add, b.transpose(), b, 1.0, Par::Seq);
            }
            acc
        })
        .collect();
    let mut cov = Mat::<f64>::zeros(d, d);
    for p in &partials {
        cov += p;
    }
    let denom = (n - 1) as f64;
    for j in 0..d {
        for i in 0..d {
            cov[(i, j)] /= denom;
        }
    }
    cov
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A deterministic pseudo-random matrix with a decaying spectrum.
    fn data(n: usize, d: usize) -> Vec<f32> {
        let mut r = crate::rng::Rng::new(7, 0);
        let mut x = vec![0.0f32; n * d];
        for i in 0..n {
            for j in 0..d {
                let g = (r.next_f64() - 0.5) * 2.0;
                x[i * d + j] = (g / (1.0 + j as f64)) as f32 + 0.3;
            }
        }
        x
    }

    #[test]
    fn orthonormal_and_sorted() {
        let (n, d) = (300, 12);
        let x = data(n, d);
        let p = Pca::fit(&x, n, d, PcaTarget::Components(d)).unwrap();
        for a in 0..d {
            for b in 0..d {
                let dot: f64 = (0..d).map(|j| p.components[a * d + j] * p.components[b * d + j]).sum();
                let want = if a == b { 1.0 } else { 0.0 };
                assert!((dot - want).abs() < 1e-10, "{a} {b} {dot}");
            }
        }
        assert!(p.explained_variance.windows(2).all(|w| w[0] >= w[1]));
        assert!((p.explained_variance_ratio_sum() - 1.0).abs() < 1e-12);
        // the variance along each axis of the projection equals explained_variance
        let y = p.transform(&x, n).unwrap();
        for c in 0..d {
            let m: f64 = (0..n).map(|i| y[i * d + c] as f64).sum::<f64>() / n as f64;
            let v: f64 = (0..n).map(|i| (y[i * d + c] as f64 - m).powi(2)).sum::<f64>() / (n - 1) as f64;
            assert!((v - p.explained_variance[c]).abs() < 1e-5 * p.explained_variance[0]);
        }
    }

    #[test]
    fn variance_target_rule() {
        let (n, d) = (200, 10);
        let x = data(n, d);
        let full = Pca::fit(&x, n, d, PcaTarget::Components(d)).unwrap();
        let cum: Vec<f64> = full
            .explained_variance_ratio
            .iter()
            .scan(0.0, |a, r| {
                *a += r;
                Some(*a)
            })
            .collect();
        for t in [0.3, 0.5, 0.8, 0.95, 0.999] {
            let p = Pca::fit(&x, n, d, PcaTarget::Variance(t)).unwrap();
            let want = cum.iter().filter(|&&c| c <= t).count() + 1;
            assert_eq!(p.n_components(), want.min(d), "target {t}");
            // exactly at a cumulative value: equal is not enough (side = "right")
        }
        let t = cum[2];
        let p = Pca::fit(&x, n, d, PcaTarget::Variance(t)).unwrap();
        assert_eq!(p.n_components(), 4);
    }

    #[test]
    fn sign_convention() {
        let (n, d) = (100, 6);
        let x = data(n, d);
        let p = Pca::fit(&x, n, d, PcaTarget::Components(4)).unwrap();
        for c in 0..4 {
            let row = &p.components[c * d..(c + 1) * d];
            let best = row.iter().copied().fold(0.0f64, |m, v| if v.abs() > m.abs() { v } else { m });
            assert!(best > 0.0);
        }
    }

    #[test]
    fn deterministic_across_threads() {
        let (n, d) = (5000, 16);
        let x = data(n, d);
        let run = |t: usize| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(t)
                .build()
                .unwrap()
                .install(|| Pca::fit_transform(&x, n, d, PcaTarget::Variance(0.9)).unwrap())
        };
        assert_eq!(run(1), run(4));
    }

    #[test]
    fn bad_input() {
        let x = data(10, 3);
        assert!(Pca::fit(&x, 10, 3, PcaTarget::Variance(1.0)).is_err());
        assert!(Pca::fit(&x, 10, 3, PcaTarget::Variance(0.0)).is_err());
        assert!(Pca::fit(&x, 10, 3, PcaTarget::Components(0)).is_err());
        assert!(Pca::fit(&x, 10, 3, PcaTarget::Components(4)).is_err());
        assert!(Pca::fit(&x[..3], 1, 3, PcaTarget::Components(1)).is_err());
        assert!(Pca::fit(&[], 0, 3, PcaTarget::default()).is_err());
        assert!(Pca::fit(&x, 10, 4, PcaTarget::default()).is_err());
        let mut bad = x.clone();
        bad[7] = f32::NAN;
        let e = Pca::fit(&bad, 10, 3, PcaTarget::default()).unwrap_err();
        assert!(e.to_string().contains("row 2, column 1"), "{e}");
        let same = vec![1.0f32; 30];
        assert!(Pca::fit(&same, 10, 3, PcaTarget::default()).is_err());
        let p = Pca::fit(&x, 10, 3, PcaTarget::Components(2)).unwrap();
        assert!(p.transform(&x, 5).is_err());
    }
}
