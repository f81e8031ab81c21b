//! Multi-head attention over packed sequences.
//!
//! Each sequence attends only to itself, so packing several sequences into one buffer costs
//! nothing and needs no padding mask. One rayon task per (sequence, head) computes
//! `softmax(Q·Kᵀ·scale [+ causal mask]) · V` with two small GEMMs.

use crate::Packed;
use crate::linear::matmul_strided;
use rayon::prelude::*;
use std::cell::RefCell;

/// Head layout of a fused `[Q | K | V]` projection.
#[derive(Debug, Clone, Copy)]
pub struct AttentionShape {
    /// Query heads.
    pub heads: usize,
    /// Key/value heads (`heads` for multi-head, fewer for grouped-query attention).
    pub kv_heads: usize,
    /// Dimension per head.
    pub head_dim: usize,
    /// Mask future positions (decoders).
    pub causal: bool,
    /// Score scale, usually `1/√head_dim`.
    pub scale: f32,
}

impl AttentionShape {
    /// Width of one fused QKV row.
    pub fn qkv_width(&self) -> usize {
        (self.heads + 2 * self.kv_heads) * self.head_dim
    }
}

thread_local! {
    static SCORES: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Attention for every packed sequence. `qkv` is `rows × qkv_width` (rotary embeddings, if
/// any, already applied); `out` receives `rows × heads·head_dim`.
pub fn attention(qkv: &[f32], packed: &Packed, s: &AttentionShape, out: &mut [f32]) {
    let w = s.qkv_width();
    let hd = s.head_dim;
    let od = s.heads * hd;
    assert_eq!(qkv.len(), packed.rows() * w, "qkv shape");
    assert_eq!(out.len(), packed.rows() * od, "attention output shape");
    let group = s.heads / s.kv_heads;
    // each task writes a disjoint block: its own rows × its own head's columns
    let ptr = crate::DisjointOut::new(out);
    let tasks: Vec<(usize, usize)> = (0..packed.len()).flat_map(|q| (0..s.heads).map(move |h| (q, h))).collect();
    tasks.par_iter().for_each(|&(seq, h)| {
        let r = packed.range(seq);
        let l = r.len();
        if l == 0 {
            return;
        }
        let kvh = h / group;
        let q = &qkv[r.start * w + h * hd..];
        let k = &qkv[r.start * w + s.heads * hd + kvh * hd..];
        let v = &qkv[r.start * w + (s.heads + s.kv_heads) * hd + kvh * hd..];
        SCORES.with(|cell| {
            let mut sc = cell.borrow_mut();
            sc.clear();
            sc.resize(l * l, 0.0);
            // scores = Q · Kᵀ
            matmul_strided(l, l, hd, &mut sc, l, q, w, 1, k, 1, w, false);
            for i in 0..l {
                let row = &mut sc[i * l..(i + 1) * l];
                let valid = if s.causal { i + 1 } else { l };
                crate::ops::scale(&mut row[..valid], s.scale);
                crate::ops::softmax(&mut row[..valid]);
                row[valid..].fill(0.0);
            }
            // SAFETY: rows r of `out`, columns h·hd..(h+1)·hd belong to this task only; the
            // bounds are those asserted on `out` above.
            let dst =
                unsafe { std::slice::from_raw_parts_mut(ptr.get().add(r.start * od + h * hd), (l - 1) * od + hd) };
            matmul_strided(l, hd, l, dst, od, &sc, l, 1, v, w, 1, false);
        });
    });
}

/// Naive attention of one sequence in f64, the reference the tests of every attention kernel
/// compare with (not for production use). Query `i` sees keys `j ≤ i` when `causal` (and
/// `i − j < window` with a sliding window), every key otherwise; returns `l × heads·head_dim`.
#[doc(hidden)]
pub fn reference_attention(qkv: &[f32], l: usize, s: &AttentionShape, window: Option<usize>) -> Vec<f32> {
    let w = s.qkv_width();
    let hd = s.head_dim;
    let mut out = vec![0.0; l * s.heads * hd];
    for h in 0..s.heads {
        let kvh = h / (s.heads / s.kv_heads);
        for i in 0..l {
            let hi = if s.causal { i + 1 } else { l };
            let lo = window.map_or(0, |win| (i + 1).saturating_sub(win));
            let sc: Vec<f64> = (lo..hi)
                .map(|j| {
                    (0..hd)
                        .map(|t| (qkv[i * w + h * hd + t] * qkv[j * w + s.heads * hd + kvh * hd + t]) as f64)
                        .sum::<f64>()
                        * s.scale as f64
                })
                .collect();
            let m = sc.iter().copied().fold(f64::MIN, f64::max);
            let e: Vec<f64> = sc.iter().map(|x| (x - m).exp()).collect();
            let z: f64 = e.iter().sum();
            for (jj, j) in (lo..hi).enumerate() {
                for t in 0..hd {
                    out[i * s.heads * hd + h * hd + t] +=
                        (e[jj] / z) as f32 * qkv[j * w + (s.heads + s.kv_heads) * hd + kvh * hd + t];
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_causal_gqa_matches_naive() {
        let s = AttentionShape { heads: 4, kv_heads: 2, head_dim: 8, causal: true, scale: 0.3 };
        let lens = [5usize, 1, 9];
        let p = Packed::from_lengths(lens);
        let w = s.qkv_width();
        let qkv: Vec<f32> = (0..p.rows() * w).map(|i| ((i * 37 % 101) as f32 - 50.0) / 40.0).collect();
        let mut out = vec![0.0; p.rows() * s.heads * s.head_dim];
        attention(&qkv, &p, &s, &mut out);
        for (i, &l) in lens.iter().enumerate() {
            let r = p.range(i);
            let want = reference_attention(&qkv[r.start * w..r.end * w], l, &s, None);
            let got = &out[r.start * 32..r.end * 32];
            for (a, b) in got.iter().zip(&want) {
                assert!((a - b).abs() < 1e-5, "{a} vs {b}");
            }
        }
    }
}
