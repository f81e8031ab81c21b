//! Sparsemax (Martins & Astudillo, 2016): the Euclidean projection onto the simplex.

/// Sparsemax of `z`: `max(z − τ, 0)` with τ chosen so the result sums to 1.
pub fn sparsemax(z: &[f64]) -> Vec<f64> {
    let mut sorted = z.to_vec();
    sorted.sort_by(|a, b| b.total_cmp(a));
    let mut cum = 0.0;
    let mut k = 0usize;
    let mut cum_k = 0.0;
    for (i, &v) in sorted.iter().enumerate() {
        cum += v;
        if 1.0 + (i + 1) as f64 * v > cum {
            k = i + 1;
            cum_k = cum;
        }
    }
    let tau = (cum_k - 1.0) / k.max(1) as f64;
    z.iter().map(|&v| (v - tau).max(0.0)).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_known_values() {
        // The tiny IQS fixture: weights [0.31, −0.72, 0.55, 0.08, 0.47] → [0.2, 0, 0.44, 0, 0.36].
        let p = sparsemax(&[0.31, -0.72, 0.55, 0.08, 0.47]);
        for (a, b) in p.iter().zip([0.2, 0.0, 0.44, 0.0, 0.36]) {
            assert!((a - b).abs() < 1e-12, "{p:?}");
        }
        // Equal inputs give the uniform distribution (COMET's initial state).
        assert!(sparsemax(&[0.0; 4]).iter().all(|&v| (v - 0.25).abs() < 1e-12));
    }
}
