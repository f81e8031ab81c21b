//! # gleaner-cluster
//!
//! The numerical core of gleaner's diversity steps, on row-major `f32` matrices (`n` rows of
//! `d` columns, `x[i * d + j]`):
//!
//! - [`pca`]: principal component analysis as scikit-learn's `PCA(n_components=0.95)` does it
//!   (covariance in `f64`, symmetric eigendecomposition with faer, the `svd_flip` sign
//!   convention, the `searchsorted(..., side="right") + 1` component count). Used by CaR
//!   (docs/methods.md §1.6) and LCG (docs/methods.md §4.2) before clustering.
//! - [`mod@kmeans`]: k-means with scikit-learn's greedy k-means++ seeding, Lloyd iterations on
//!   GEMM distances (‖x‖² + ‖c‖² − 2·x·cᵀ, blocked over rows) with sklearn's tolerance and
//!   empty-cluster relocation, a seeded mini-batch mode for millions of rows, distances to
//!   centroids ([`kmeans::transform`]) and LCG's centroid-nearest members
//!   ([`kmeans::nearest_per_cluster`]). The cluster-count rules of CaR and LCG are in
//!   [`kmeans::KRule`].
//! - [`facility`]: facility-location maximisation (Superfiltering.D, docs/methods.md §3.5) by
//!   lazy greedy with submodlib's euclidean similarity `exp(−‖xᵢ − xⱼ‖ / d)`, never
//!   materialising the `n × n` kernel.
//!
//! Every entry point validates its input and returns [`gleaner_core::Error::Invalid`] for an
//! empty matrix, a shape mismatch, a non-finite value or an impossible parameter (such as
//! `k > n`) instead of panicking.
//!
//! ## Determinism
//!
//! Results depend only on the input and the seed, not on the number of rayon threads: work is
//! split into fixed-size row blocks, each block's GEMM runs single-threaded, and every
//! reduction over blocks is summed in block order.

#![warn(missing_docs)]

pub mod facility;
pub mod kmeans;
pub mod pca;
use gleaner_core::rng;

use gleaner_core::{Error, Result};
use rayon::prelude::*;

pub use facility::{FacilityParams, FacilityResult, TieBreak, facility_location};
pub use kmeans::{KMeansMode, KMeansParams, KMeansResult, KRule, k_rule, kmeans, nearest_per_cluster, transform};
pub use pca::{Pca, PcaTarget};

/// Rows per block for the blocked GEMM passes. Fixed (not derived from the thread count) so
/// that reductions are summed in the same order on every machine.
pub(crate) const BLOCK_ROWS: usize = 256;

/// Checks that `x` holds an `n × d` matrix of finite values; `what` names the caller in the
/// error message.
pub(crate) fn check_matrix(x: &[f32], n: usize, d: usize, what: &str) -> Result<()> {
    if n == 0 {
        return Err(Error::Invalid(format!("{what}: empty input (0 rows)")));
    }
    if d == 0 {
        return Err(Error::Invalid(format!("{what}: rows have 0 columns")));
    }
    let expected = n.checked_mul(d).ok_or_else(|| Error::Invalid(format!("{what}: {n} × {d} overflows")))?;
    if x.len() != expected {
        return Err(Error::Invalid(format!(
            "{what}: data has {} values, expected {n} rows × {d} columns = {expected}",
            x.len()
        )));
    }
    if let Some(pos) = x.par_iter().position_first(|v| !v.is_finite()) {
        return Err(Error::Invalid(format!(
            "{what}: non-finite value {} at row {}, column {}",
            x[pos],
            pos / d,
            pos % d
        )));
    }
    Ok(())
}

/// Column means (`f64`) and the mean over columns of the population variance (`np.var`,
/// ddof = 0), each reduced in fixed block order.
pub(crate) fn mean_and_mean_var(x: &[f32], n: usize, d: usize) -> (Vec<f64>, f64) {
    let sums: Vec<Vec<f64>> = x
        .par_chunks(BLOCK_ROWS * 16 * d)
        .map(|chunk| {
            let mut s = vec![0.0f64; d];
            for row in chunk.chunks_exact(d) {
                for (a, &v) in s.iter_mut().zip(row) {
                    *a += v as f64;
                }
            }
            s
        })
        .collect();
    let mut mean = vec![0.0f64; d];
    for s in &sums {
        for (m, v) in mean.iter_mut().zip(s) {
            *m += v;
        }
    }
    for m in &mut mean {
        *m /= n as f64;
    }
    let sq: Vec<f64> = x
        .par_chunks(BLOCK_ROWS * 16 * d)
        .map(|chunk| {
            let mut acc = 0.0f64;
            for row in chunk.chunks_exact(d) {
                for (&v, m) in row.iter().zip(&mean) {
                    let t = v as f64 - m;
                    acc += t * t;
                }
            }
            acc
        })
        .collect();
    let total: f64 = sq.iter().sum();
    (mean, total / (n as f64 * d as f64))
}

/// Copies rows `start..start + len` of `x` minus `shift` into `buf` (resized to `len × d`).
pub(crate) fn centred_rows(x: &[f32], d: usize, shift: &[f32], start: usize, len: usize, buf: &mut Vec<f32>) {
    buf.clear();
    buf.reserve(len * d);
    for row in x[start * d..(start + len) * d].chunks_exact(d) {
        buf.extend(row.iter().zip(shift).map(|(&v, &m)| v - m));
    }
}

/// Squared norms of the rows of `x − shift`, computed in `f64`.
pub(crate) fn centred_sq_norms(x: &[f32], d: usize, shift: &[f32]) -> Vec<f64> {
    x.par_chunks(d)
        .map(|row| {
            row.iter()
                .zip(shift)
                .map(|(&v, &m)| {
                    let t = (v - m) as f64;
                    t * t
                })
                .sum()
        })
        .collect()
}
