//! Row-wise operations on packed `rows × dim` buffers.

use crate::fastmath;
use multiversion::multiversion;
use rayon::prelude::*;

const PAR_MIN: usize = 1 << 14;

/// Sum with eight independent accumulators, so the compiler can vectorise it (a plain
/// `iter().sum()` of floats must keep its order and stays scalar).
#[inline(always)]
fn sum8(x: &[f32]) -> f32 {
    let mut acc = [0.0f32; 8];
    let chunks = x.chunks_exact(8);
    let rem = chunks.remainder();
    for c in chunks {
        for i in 0..8 {
            acc[i] += c[i];
        }
    }
    acc.iter().sum::<f32>() + rem.iter().sum::<f32>()
}

/// Sum of squared deviations from `mean`, vectorisable.
#[inline(always)]
fn sq_dev8(x: &[f32], mean: f32) -> f32 {
    let mut acc = [0.0f32; 8];
    let chunks = x.chunks_exact(8);
    let rem = chunks.remainder();
    for c in chunks {
        for i in 0..8 {
            let d = c[i] - mean;
            acc[i] += d * d;
        }
    }
    acc.iter().sum::<f32>() + rem.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>()
}

/// Maximum, vectorisable (NaN-free input assumed; NaN propagates as in `f32::max`).
#[inline(always)]
fn max8(x: &[f32]) -> f32 {
    let mut acc = [f32::NEG_INFINITY; 8];
    let chunks = x.chunks_exact(8);
    let rem = chunks.remainder();
    for c in chunks {
        for i in 0..8 {
            acc[i] = if c[i] > acc[i] { c[i] } else { acc[i] };
        }
    }
    acc.iter().chain(rem).copied().fold(f32::NEG_INFINITY, f32::max)
}

/// Adds `bias` to every row of `y`.
pub fn add_bias(y: &mut [f32], bias: &[f32]) {
    let d = bias.len();
    let f = |row: &mut [f32]| add_assign(row, bias);
    if y.len() >= PAR_MIN {
        y.par_chunks_mut(d).for_each(f);
    } else {
        y.chunks_mut(d).for_each(f);
    }
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma"))]
fn add_assign(a: &mut [f32], b: &[f32]) {
    for (x, y) in a.iter_mut().zip(b) {
        *x += *y;
    }
}

/// `a += b` elementwise (residual connections).
pub fn add_inplace(a: &mut [f32], b: &[f32]) {
    assert_eq!(a.len(), b.len());
    if a.len() >= PAR_MIN {
        a.par_chunks_mut(4096).zip(b.par_chunks(4096)).for_each(|(x, y)| add_assign(x, y));
    } else {
        add_assign(a, b);
    }
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma"))]
fn layer_norm_row(x: &mut [f32], g: &[f32], b: &[f32], eps: f32) {
    let n = x.len() as f32;
    let mean = sum8(x) / n;
    let var = sq_dev8(x, mean) / n;
    let inv = 1.0 / (var + eps).sqrt();
    for ((v, g), b) in x.iter_mut().zip(g).zip(b) {
        *v = (*v - mean) * inv * g + b;
    }
}

/// LayerNorm over each row (biased variance, as PyTorch).
pub fn layer_norm(x: &mut [f32], gamma: &[f32], beta: &[f32], eps: f32) {
    let d = gamma.len();
    let f = |row: &mut [f32]| layer_norm_row(row, gamma, beta, eps);
    if x.len() >= PAR_MIN {
        x.par_chunks_mut(d).for_each(f);
    } else {
        x.chunks_mut(d).for_each(f);
    }
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma"))]
fn rms_norm_row(x: &[f32], g: &[f32], eps: f32, out: &mut [f32], add_one: bool) {
    let n = x.len() as f32;
    let ms = sq_dev8(x, 0.0) / n;
    let inv = 1.0 / (ms + eps).sqrt();
    if add_one {
        for ((o, v), g) in out.iter_mut().zip(x).zip(g) {
            *o = v * inv * (1.0 + g);
        }
    } else {
        for ((o, v), g) in out.iter_mut().zip(x).zip(g) {
            *o = v * inv * g;
        }
    }
}

/// RMSNorm of each row of `x` into `out` (`weight·x/√(mean(x²)+eps)`; with `add_one`,
/// Gemma's `(1+weight)` form).
pub fn rms_norm(x: &[f32], gamma: &[f32], eps: f32, out: &mut [f32], add_one: bool) {
    let d = gamma.len();
    let f = |(o, r): (&mut [f32], &[f32])| rms_norm_row(r, gamma, eps, o, add_one);
    if x.len() >= PAR_MIN {
        out.par_chunks_mut(d).zip(x.par_chunks(d)).for_each(f);
    } else {
        out.chunks_mut(d).zip(x.chunks(d)).for_each(f);
    }
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma"))]
fn gelu_chunk(x: &mut [f32]) {
    const S: f32 = std::f32::consts::FRAC_1_SQRT_2;
    for v in x.iter_mut() {
        *v = 0.5 * *v * (1.0 + fastmath::erf(*v * S));
    }
}

/// Exact (erf) GELU in place.
pub fn gelu(x: &mut [f32]) {
    x.par_chunks_mut(4096).for_each(gelu_chunk);
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma"))]
fn gelu_tanh_chunk(x: &mut [f32]) {
    const C: f32 = 0.797_884_6; // sqrt(2/pi)
    for v in x.iter_mut() {
        let u = C * (*v + 0.044_715 * *v * *v * *v);
        // tanh(u) = 1 - 2 / (e^{2u} + 1)
        let t = 1.0 - 2.0 / (fastmath::exp(2.0 * u) + 1.0);
        *v = 0.5 * *v * (1.0 + t);
    }
}

/// The tanh-approximate GELU (GPT-2's `gelu_new`, Gemma's `gelu_pytorch_tanh`) in place.
pub fn gelu_tanh(x: &mut [f32]) {
    x.par_chunks_mut(4096).for_each(gelu_tanh_chunk);
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma"))]
fn gated_chunk(gate: &[f32], up: &[f32], out: &mut [f32], tanh_gelu: bool) {
    if tanh_gelu {
        const C: f32 = 0.797_884_6;
        for ((o, g), u) in out.iter_mut().zip(gate).zip(up) {
            let z = C * (*g + 0.044_715 * *g * *g * *g);
            let t = 1.0 - 2.0 / (fastmath::exp(2.0 * z) + 1.0);
            *o = 0.5 * *g * (1.0 + t) * *u;
        }
    } else {
        for ((o, g), u) in out.iter_mut().zip(gate).zip(up) {
            *o = *g / (1.0 + fastmath::exp(-*g)) * *u;
        }
    }
}

/// `out = act(gate) * up` with `act` = SiLU (llama) or tanh-GELU (Gemma), where `gate_up`
/// holds each row as `[gate | up]` (a fused projection of width `2·d`).
pub fn gated(gate_up: &[f32], d: usize, out: &mut [f32], tanh_gelu: bool) {
    out.par_chunks_mut(d).zip(gate_up.par_chunks(2 * d)).for_each(|(o, gu)| {
        let (g, u) = gu.split_at(d);
        gated_chunk(g, u, o, tanh_gelu);
    });
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma"))]
fn softmax_row(x: &mut [f32]) {
    let m = max8(x);
    for v in x.iter_mut() {
        *v = fastmath::exp(*v - m);
    }
    let inv = 1.0 / sum8(x);
    for v in x.iter_mut() {
        *v *= inv;
    }
}

/// Softmax of one row in place.
pub fn softmax(x: &mut [f32]) {
    softmax_row(x);
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma"))]
fn logsumexp_row(x: &[f32]) -> f32 {
    let m = max8(x);
    let mut acc = [0.0f32; 8];
    let chunks = x.chunks_exact(8);
    let rem = chunks.remainder();
    for c in chunks {
        for i in 0..8 {
            acc[i] += fastmath::exp(c[i] - m);
        }
    }
    let s = acc.iter().sum::<f32>() + rem.iter().map(|v| fastmath::exp(v - m)).sum::<f32>();
    m + s.ln()
}

/// `log Σ exp(x)`, stable.
pub fn logsumexp(x: &[f32]) -> f32 {
    logsumexp_row(x)
}

#[multiversion(targets("x86_64+avx512f+avx512bw+avx512vl", "x86_64+avx2+fma"))]
fn scale_chunk(x: &mut [f32], s: f32) {
    for v in x.iter_mut() {
        *v *= s;
    }
}

/// `x *= s`.
pub fn scale(x: &mut [f32], s: f32) {
    scale_chunk(x, s);
}

/// L2-normalises each row in place (rows of zeros stay zero).
pub fn l2_normalize(x: &mut [f32], d: usize) {
    for row in x.chunks_mut(d) {
        let n = row.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
        for v in row.iter_mut() {
            *v /= n;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layer_norm_and_softmax() {
        let mut x = vec![1.0, 2.0, 3.0, 4.0];
        layer_norm(&mut x, &[1.0; 4], &[0.0; 4], 0.0);
        let expect = [-1.341_640_8, -0.447_213_6, 0.447_213_6, 1.341_640_8];
        for (a, b) in x.iter().zip(expect) {
            assert!((a - b).abs() < 1e-5);
        }
        let mut s = vec![1.0, 2.0, 3.0];
        softmax(&mut s);
        let z: f32 = [1.0f32, 2.0, 3.0].iter().map(|v| v.exp()).sum();
        assert!((s[2] - 3.0f32.exp() / z).abs() < 1e-6);
        assert!((logsumexp(&[1.0, 2.0, 3.0]) - z.ln()).abs() < 1e-6);
    }
}
