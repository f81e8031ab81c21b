//! Element-wise kernels of the LM forward that must vectorise: `exp`, row max / Σexp, and the
//! gated MLP activations.
//!
//! [`exp`] is `gleaner_nn::fastmath::exp` (range reduction by ln 2, degree-7 polynomial,
//! relative error < 5e-7; written so that loops around it vectorise). Functions are compiled
//! for AVX-512 and AVX2+FMA and chosen at run time.

use multiversion::multiversion;
use rayon::prelude::*;

pub use gleaner_nn::fastmath::exp;

/// Maximum of a row (−∞ for an empty row).
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma"))]
pub fn row_max(x: &[f32]) -> f32 {
    let mut m = [f32::NEG_INFINITY; 16];
    let mut it = x.chunks_exact(16);
    for c in &mut it {
        for j in 0..16 {
            m[j] = m[j].max(c[j]);
        }
    }
    let mut r = m.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    for &v in it.remainder() {
        r = r.max(v);
    }
    r
}

/// `Σ exp(x − m)`, accumulated in 16 f32 lanes and summed in f64.
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma"))]
pub fn sum_exp(x: &[f32], m: f32) -> f64 {
    let mut s = [0.0f32; 16];
    let mut it = x.chunks_exact(16);
    for c in &mut it {
        for j in 0..16 {
            s[j] += exp(c[j] - m);
        }
    }
    let mut r: f64 = s.iter().map(|&v| v as f64).sum();
    for &v in it.remainder() {
        r += exp(v - m) as f64;
    }
    r
}

/// In place `row[j] = exp(scale·(row[j] − max(row)))`; returns `Σ row` (the softmax
/// denominator).
#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma"))]
pub fn exp_row(row: &mut [f32], scale: f32) -> f32 {
    let m = row_max(row);
    let mut acc = [0.0f32; 16];
    let mut it = row.chunks_exact_mut(16);
    for c in &mut it {
        for j in 0..16 {
            let e = exp((c[j] - m) * scale);
            c[j] = e;
            acc[j] += e;
        }
    }
    let mut s: f32 = acc.iter().sum();
    for v in it.into_remainder() {
        *v = exp((*v - m) * scale);
        s += *v;
    }
    s
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma"))]
fn gate_chunk(gate: &[f32], up: &[f32], out: &mut [f32], tanh_gelu: bool) {
    if tanh_gelu {
        const C: f32 = 0.797_884_6; // √(2/π)
        for ((o, g), u) in out.iter_mut().zip(gate).zip(up) {
            let z = C * (*g + 0.044_715 * *g * *g * *g);
            let t = 1.0 - 2.0 / (exp(2.0 * z) + 1.0);
            *o = 0.5 * *g * (1.0 + t) * *u;
        }
    } else {
        for ((o, g), u) in out.iter_mut().zip(gate).zip(up) {
            *o = *g / (1.0 + exp(-*g)) * *u;
        }
    }
}

/// `out = act(gate) · up` for rows stored as `[gate | up]` (width `2·d`), with act = SiLU or
/// tanh-GELU. Same arithmetic as `gleaner_nn::ops::gated`, vectorised.
pub fn gated(gate_up: &[f32], d: usize, out: &mut [f32], tanh_gelu: bool, par: bool) {
    let f = |(o, gu): (&mut [f32], &[f32])| {
        let (g, u) = gu.split_at(d);
        gate_chunk(g, u, o, tanh_gelu);
    };
    if par {
        out.par_chunks_mut(d).zip(gate_up.par_chunks(2 * d)).with_min_len(16).for_each(f);
    } else {
        out.chunks_mut(d).zip(gate_up.chunks(2 * d)).for_each(f);
    }
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma"))]
fn gelu_tanh_chunk(x: &mut [f32]) {
    const C: f32 = 0.797_884_6;
    for v in x.iter_mut() {
        let u = C * (*v + 0.044_715 * *v * *v * *v);
        let t = 1.0 - 2.0 / (exp(2.0 * u) + 1.0);
        *v = 0.5 * *v * (1.0 + t);
    }
}

/// tanh-GELU (`gelu_new`) in place.
pub fn gelu_tanh(x: &mut [f32], par: bool) {
    for_chunks(x, 4096, par, gelu_tanh_chunk);
}

/// Runs `f` over `chunk`-sized pieces of `x`, in parallel (rayon) when `par`.
fn for_chunks(x: &mut [f32], chunk: usize, par: bool, f: impl Fn(&mut [f32]) + Sync + Send) {
    if par && x.len() >= 1 << 14 {
        x.par_chunks_mut(chunk).for_each(f);
    } else {
        x.chunks_mut(chunk).for_each(f);
    }
}

/// `y[rows × out] = x · Wᵀ + b`, on the calling thread only unless `par`.
pub fn linear(l: &gleaner_nn::Linear, x: &[f32], rows: usize, y: &mut Vec<f32>, par: bool) {
    y.resize(rows * l.out, 0.0);
    l.matmul(x, rows, y, par);
    if let Some(b) = &l.b {
        for_chunks(y, l.out, par, |row| add_row(row, b));
    }
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma"))]
fn add_row(a: &mut [f32], b: &[f32]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += *y;
    }
}

/// `a += b` (residual connection).
pub fn add(a: &mut [f32], b: &[f32], par: bool) {
    assert_eq!(a.len(), b.len());
    if par && a.len() >= 1 << 14 {
        a.par_chunks_mut(4096).zip(b.par_chunks(4096)).for_each(|(x, y)| add_row(x, y));
    } else {
        add_row(a, b);
    }
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma"))]
fn rms_row(x: &mut [f32], g: &[f32], eps: f32, add_one: bool) {
    let mut acc = [0.0f32; 16];
    let mut it = x.chunks_exact(16);
    for c in &mut it {
        for j in 0..16 {
            acc[j] += c[j] * c[j];
        }
    }
    let mut ss: f32 = acc.iter().sum();
    for v in it.remainder() {
        ss += v * v;
    }
    let inv = 1.0 / (ss / x.len() as f32 + eps).sqrt();
    if add_one {
        for (v, g) in x.iter_mut().zip(g) {
            *v = *v * inv * (1.0 + g);
        }
    } else {
        for (v, g) in x.iter_mut().zip(g) {
            *v = *v * inv * g;
        }
    }
}

/// RMSNorm of every `g.len()`-wide row of `x`, in place: `x·w/√(mean(x²)+eps)`, or Gemma's
/// `x·(1+w)/…` with `add_one`.
pub fn rms_norm(x: &mut [f32], g: &[f32], eps: f32, add_one: bool, par: bool) {
    for_chunks(x, g.len(), par, |row| rms_row(row, g, eps, add_one));
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma"))]
fn ln_row(x: &mut [f32], g: &[f32], b: &[f32], eps: f32) {
    let n = x.len() as f32;
    let mean = x.iter().sum::<f32>() / n;
    let var = x.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
    let inv = 1.0 / (var + eps).sqrt();
    for ((v, g), b) in x.iter_mut().zip(g).zip(b) {
        *v = (*v - mean) * inv * g + b;
    }
}

/// LayerNorm (biased variance, as PyTorch) of every row of `x`, in place.
pub fn layer_norm(x: &mut [f32], g: &[f32], b: &[f32], eps: f32, par: bool) {
    for_chunks(x, g.len(), par, |row| ln_row(row, g, b, eps));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_matches_std_and_nn() {
        let mut worst = 0.0f64;
        let mut x = -87.0f32;
        while x < 88.0 {
            let want = (x as f64).exp();
            worst = worst.max(((exp(x) as f64) - want).abs() / want);
            assert_eq!(exp(x), gleaner_nn::fastmath::exp(x), "same algorithm at {x}");
            x += 0.0137;
        }
        assert!(worst < 5e-7, "{worst}");
    }

    #[test]
    fn exp_row_is_softmax_numerator() {
        let mut row: Vec<f32> = (0..37).map(|i| (i as f32 * 0.37).sin() * 5.0).collect();
        let orig = row.clone();
        let z = exp_row(&mut row, 0.5);
        let m = orig.iter().copied().fold(f32::MIN, f32::max);
        let mut zz = 0.0f64;
        for (a, b) in row.iter().zip(&orig) {
            let e = (((b - m) * 0.5) as f64).exp();
            zz += e;
            assert!((*a as f64 - e).abs() < 1e-6);
        }
        assert!((z as f64 - zz).abs() < 1e-5);
    }

    #[test]
    fn gated_matches_nn() {
        let d = 40;
        let gu: Vec<f32> = (0..3 * 2 * d).map(|i| (i as f32 * 0.173).sin() * 4.0).collect();
        for tanh in [false, true] {
            let mut a = vec![0.0; 3 * d];
            let mut b = vec![0.0; 3 * d];
            gated(&gu, d, &mut a, tanh, false);
            gleaner_nn::ops::gated(&gu, d, &mut b, tanh);
            for (x, y) in a.iter().zip(&b) {
                assert!((x - y).abs() <= 1e-6 * y.abs().max(1.0));
            }
        }
    }
}

#[cfg(test)]
mod norm_tests {
    use super::*;

    #[test]
    fn norms_match_nn() {
        let d = 37;
        let x: Vec<f32> = (0..5 * d).map(|i| (i as f32 * 0.71).cos() * 3.0).collect();
        let g: Vec<f32> = (0..d).map(|i| 0.5 + i as f32 * 0.01).collect();
        let b: Vec<f32> = (0..d).map(|i| i as f32 * -0.02).collect();
        for add_one in [false, true] {
            let mut a = x.clone();
            rms_norm(&mut a, &g, 1e-5, add_one, false);
            let mut want = vec![0.0; x.len()];
            gleaner_nn::ops::rms_norm(&x, &g, 1e-5, &mut want, add_one);
            for (p, q) in a.iter().zip(&want) {
                assert!((p - q).abs() < 1e-5);
            }
        }
        let mut a = x.clone();
        layer_norm(&mut a, &g, &b, 1e-5, false);
        let mut want = x.clone();
        gleaner_nn::ops::layer_norm(&mut want, &g, &b, 1e-5);
        for (p, q) in a.iter().zip(&want) {
            assert!((p - q).abs() < 1e-5);
        }
    }
}
