//! Dense layers over the `gemm` crate, or AMX bf16 tiles ([`crate::amx`]).

use crate::amx::{PackedWeights, Precision};

/// `out[m×n] = x[m×k] · w[n×k]ᵀ` (PyTorch weight layout), multi-threaded.
pub fn matmul_t(x: &[f32], m: usize, k: usize, w: &[f32], n: usize, out: &mut [f32]) {
    matmul_t_par(x, m, k, w, n, out, true);
}

/// [`matmul_t`] with the choice of threading (`false` inside an already parallel loop).
pub fn matmul_t_par(x: &[f32], m: usize, k: usize, w: &[f32], n: usize, out: &mut [f32], parallel: bool) {
    assert!(x.len() >= m * k && w.len() >= n * k && out.len() >= m * n, "matmul_t shapes");
    if m == 0 || n == 0 {
        return;
    }
    let par = if parallel && m * n * k > 64 * 64 * 64 {
        gemm::Parallelism::Rayon(rayon::current_num_threads())
    } else {
        gemm::Parallelism::None
    };
    // SAFETY: the asserts above bound every index gemm touches: dst is m×n with row stride n,
    // lhs m×k with row stride k, rhs k×n read as w transposed (column stride k, row stride 1).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr(),
            1,
            n as isize,
            false,
            x.as_ptr(),
            1,
            k as isize,
            w.as_ptr(),
            k as isize,
            1,
            0.0,
            1.0,
            false,
            false,
            false,
            par,
        );
    }
}

/// `out = x · wᵀ` in precision `prec`, packing `w` into `packed` on first AMX use. Falls back
/// to f32 when `prec` is f32, AMX is missing, or the product is too small to gain.
#[allow(clippy::too_many_arguments)]
pub fn matmul_t_packed(
    x: &[f32],
    m: usize,
    k: usize,
    w: &[f32],
    n: usize,
    packed: &std::sync::OnceLock<PackedWeights>,
    out: &mut [f32],
    prec: Precision,
    parallel: bool,
) {
    // below ~8 rows the tile unit idles on padding; the f32 path is as fast
    if prec == Precision::F32 || m < 8 || !crate::amx::available() {
        return matmul_t_par(x, m, k, w, n, out, parallel);
    }
    let pw = packed.get_or_init(|| PackedWeights::new(w, n, k, prec == Precision::Bf16x3));
    if prec == Precision::Bf16x3 && !pw.has_lo() {
        return matmul_t_par(x, m, k, w, n, out, parallel);
    }
    crate::amx::matmul_t(x, m, pw, out, prec, parallel);
}

/// General strided product `dst = alpha·dst + beta·(a · b)` for attention blocks.
/// Strides are in elements: `(row stride, column stride)` for each matrix.
#[allow(clippy::too_many_arguments)]
pub fn matmul_strided(
    m: usize,
    n: usize,
    k: usize,
    dst: &mut [f32],
    dst_rs: usize,
    a: &[f32],
    a_rs: usize,
    a_cs: usize,
    b: &[f32],
    b_rs: usize,
    b_cs: usize,
    accumulate: bool,
) {
    if m == 0 || n == 0 {
        return;
    }
    assert!(dst.len() >= (m - 1) * dst_rs + n, "dst shape");
    assert!(k == 0 || a.len() > (m - 1) * a_rs + (k - 1) * a_cs, "lhs shape");
    assert!(k == 0 || b.len() > (k - 1) * b_rs + (n - 1) * b_cs, "rhs shape");
    // SAFETY: the asserts bound the largest index of each operand.
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            dst.as_mut_ptr(),
            1,
            dst_rs as isize,
            accumulate,
            a.as_ptr(),
            a_cs as isize,
            a_rs as isize,
            b.as_ptr(),
            b_cs as isize,
            b_rs as isize,
            1.0,
            1.0,
            false,
            false,
            false,
            gemm::Parallelism::None,
        );
    }
}

/// A dense layer `y = x · Wᵀ + b` with `W` of shape `out × in`.
///
/// The product runs in the layer's own precision ([`Linear::with_precision`], f32 by default;
/// [`crate::effective`] of it, so f32 where AMX is missing): f32 on the `gemm` crate, or AMX
/// bf16 tiles, whose packed copy of `W` is made on first use (so `w` must not change after the
/// first forward).
#[derive(Debug, Clone)]
pub struct Linear {
    /// Weights, `out × in`, row-major.
    pub w: Vec<f32>,
    /// Optional bias, `out`.
    pub b: Option<Vec<f32>>,
    /// Input features.
    pub inp: usize,
    /// Output features.
    pub out: usize,
    packed: std::sync::OnceLock<PackedWeights>,
    precision: Precision,
}

impl Linear {
    /// Parameters held: weights plus bias.
    pub fn parameters(&self) -> usize {
        self.w.len() + self.b.as_ref().map_or(0, Vec::len)
    }

    /// A layer from weights (`out × in`) and an optional bias.
    pub fn new(w: Vec<f32>, b: Option<Vec<f32>>, out: usize, inp: usize) -> Linear {
        assert_eq!(w.len(), out * inp, "linear weight shape");
        if let Some(b) = &b {
            assert_eq!(b.len(), out, "linear bias shape");
        }
        Linear { w, b, inp, out, packed: std::sync::OnceLock::new(), precision: Precision::F32 }
    }

    /// The layer with its products in precision `p` (see [`Linear::set_precision`]).
    pub fn with_precision(mut self, p: Precision) -> Linear {
        self.set_precision(p);
        self
    }

    /// Sets the precision of the layer's products (bf16 ones run in f32 where AMX is missing,
    /// see [`crate::effective`]). Drops a packed AMX copy of `W` made for another precision.
    pub fn set_precision(&mut self, p: Precision) {
        if p != self.precision {
            self.precision = p;
            self.packed = std::sync::OnceLock::new();
        }
    }

    /// The precision the layer was given (before [`crate::effective`]).
    pub fn precision(&self) -> Precision {
        self.precision
    }

    /// Stacks layers with the same input size along the output dimension (fused QKV).
    pub fn concat(parts: &[Linear]) -> Linear {
        let inp = parts[0].inp;
        let out = parts.iter().map(|p| p.out).sum();
        let w = parts.iter().flat_map(|p| p.w.iter().copied()).collect();
        let b = if parts.iter().all(|p| p.b.is_some()) {
            Some(parts.iter().flat_map(|p| p.b.as_ref().unwrap().iter().copied()).collect())
        } else {
            None
        };
        Linear::new(w, b, out, inp).with_precision(parts[0].precision)
    }

    /// `y[m × out] = x[m × in] · Wᵀ + b`.
    pub fn forward(&self, x: &[f32], m: usize, y: &mut Vec<f32>) {
        self.forward_par(x, m, y, true);
    }

    /// [`Linear::forward`] with the choice of threading (`false` inside a parallel loop).
    pub fn forward_par(&self, x: &[f32], m: usize, y: &mut Vec<f32>, parallel: bool) {
        y.resize(m * self.out, 0.0);
        self.matmul(x, m, y, parallel);
        if let Some(b) = &self.b {
            crate::ops::add_bias(y, b);
        }
    }

    /// `y[m × out] = x[m × in] · Wᵀ` (no bias) in the layer's [`crate::effective`] precision.
    pub fn matmul(&self, x: &[f32], m: usize, y: &mut [f32], parallel: bool) {
        let prec = crate::effective(self.precision);
        matmul_t_packed(x, m, self.inp, &self.w, self.out, &self.packed, y, prec, parallel);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_is_the_layers_own() {
        assert_eq!(crate::effective(Precision::F32), Precision::F32);
        let bf = if crate::amx::available() { Precision::Bf16 } else { Precision::F32 };
        assert_eq!(crate::effective(Precision::Bf16), bf);
        let (m, k, n) = (40, 64, 48);
        let x: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 13) as f32 - 6.0) / 7.1).collect();
        let w: Vec<f32> = (0..n * k).map(|i| ((i * 5 % 11) as f32 - 5.0) / 5.3).collect();
        let a = Linear::new(w[..n / 2 * k].to_vec(), None, n / 2, k).with_precision(Precision::Bf16x3);
        let b = Linear::new(w[n / 2 * k..].to_vec(), None, n / 2, k);
        assert_eq!((a.precision(), b.precision()), (Precision::Bf16x3, Precision::F32));
        let mut l = Linear::concat(&[a, b]);
        assert_eq!(l.precision(), Precision::Bf16x3, "concat keeps the first part's precision");
        let (mut y3, mut y1, mut fresh) = (Vec::new(), Vec::new(), Vec::new());
        l.forward(&x, m, &mut y3);
        // a new precision after a forward must not reuse the weights packed for the old one
        l.set_precision(Precision::Bf16);
        l.forward(&x, m, &mut y1);
        Linear::new(w.clone(), None, n, k).with_precision(Precision::Bf16).forward(&x, m, &mut fresh);
        assert_eq!(y1, fresh);
        let mut f32_out = vec![0.0; m * n];
        matmul_t(&x, m, k, &w, n, &mut f32_out);
        if crate::amx::available() {
            assert_ne!(y1, y3, "one-term bf16 differs from three-term");
        } else {
            assert_eq!((&y1, &y3), (&f32_out, &f32_out), "f32 without AMX");
        }
    }

    #[test]
    fn matmul_matches_naive() {
        let (m, k, n) = (37, 53, 29);
        let x: Vec<f32> = (0..m * k).map(|i| ((i * 7 % 13) as f32 - 6.0) / 7.0).collect();
        let w: Vec<f32> = (0..n * k).map(|i| ((i * 5 % 11) as f32 - 5.0) / 5.0).collect();
        let mut y = vec![0.0; m * n];
        matmul_t(&x, m, k, &w, n, &mut y);
        for i in 0..m {
            for j in 0..n {
                let r: f32 = (0..k).map(|t| x[i * k + t] * w[j * k + t]).sum();
                assert!((r - y[i * n + j]).abs() < 1e-4);
            }
        }
    }
}
