//! Causal self-attention over packed sequences, with grouped-query heads, an optional sliding
//! window, and rotary position embeddings.
//!
//! Unlike `gleaner_nn::attention` (which scores the full `L × L` square and masks it), queries
//! are processed in blocks of [`QBLOCK`] rows and each block only scores the keys it may see
//! (`0..=last query` for causal attention, a band for a sliding window), which halves the
//! work of long causal sequences. Arithmetic is the same as HF's eager attention:
//! `softmax(Q·Kᵀ·scale)·V` in f32.

use gleaner_nn::Packed;
use gleaner_nn::linear::matmul_strided;
use rayon::prelude::*;
use std::cell::RefCell;

/// Query rows per block.
pub const QBLOCK: usize = 64;

/// Head layout of a fused `[Q | K | V]` row.
#[derive(Debug, Clone, Copy)]
pub struct Heads {
    /// Query heads.
    pub heads: usize,
    /// Key/value heads.
    pub kv_heads: usize,
    /// Dimension per head.
    pub head_dim: usize,
    /// Score scale.
    pub scale: f32,
    /// Keys visible to a query: `q - k < window` (Gemma/Mistral sliding window); `None` = all
    /// earlier keys.
    pub window: Option<usize>,
}

impl Heads {
    /// Width of one fused QKV row.
    pub fn qkv_width(&self) -> usize {
        (self.heads + 2 * self.kv_heads) * self.head_dim
    }
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = const { RefCell::new(Scratch { q: Vec::new(), scores: Vec::new(), o: Vec::new(), inv: Vec::new() }) };
}

struct Scratch {
    q: Vec<f32>,
    scores: Vec<f32>,
    o: Vec<f32>,
    inv: Vec<f32>,
}

/// Causal attention of every packed sequence: `qkv` is `rows × qkv_width` (rotary already
/// applied), `out` receives `rows × heads·head_dim`.
///
/// One task per (sequence, key/value head, query block): the query heads that share a K/V
/// head are stacked into one `group·block × head_dim` matrix, so each task runs two larger
/// GEMMs (scores, then probabilities × V) and normalises the output rows instead of the
/// probability rows.
pub fn causal_attention(qkv: &[f32], packed: &Packed, s: &Heads, out: &mut [f32], par: bool) {
    let w = s.qkv_width();
    let hd = s.head_dim;
    let od = s.heads * hd;
    assert_eq!(qkv.len(), packed.rows() * w, "qkv shape");
    assert_eq!(out.len(), packed.rows() * od, "attention output shape");
    let group = s.heads / s.kv_heads;
    // tasks write disjoint blocks of the output (own rows × own head columns)
    let ptr = gleaner_nn::DisjointOut::new(out);
    // Tasks: (sequence, kv head, query block); the longest blocks first for load balance.
    let mut tasks: Vec<(usize, usize, usize)> = Vec::new();
    for q in 0..packed.len() {
        let l = packed.range(q).len();
        for b in (0..l).step_by(QBLOCK) {
            for h in 0..s.kv_heads {
                tasks.push((q, h, b));
            }
        }
    }
    tasks.sort_by_key(|&(_, _, b)| std::cmp::Reverse(b));
    let task = |&(seq, kvh, qs): &(usize, usize, usize)| {
        let r = packed.range(seq);
        let l = r.len();
        let qe = (qs + QBLOCK).min(l);
        let nq = qe - qs;
        let ks = match s.window {
            Some(win) => (qs + 1).saturating_sub(win),
            None => 0,
        };
        let nk = qe - ks;
        let m = group * nq;
        let k = &qkv[(r.start + ks) * w + s.heads * hd + kvh * hd..];
        let v = &qkv[(r.start + ks) * w + (s.heads + s.kv_heads) * hd + kvh * hd..];
        SCRATCH.with(|cell| {
            let sc = &mut *cell.borrow_mut();
            // Stack the group's queries: row g·nq + i = head kvh·group + g, position qs + i.
            sc.q.clear();
            for g in 0..group {
                let h = kvh * group + g;
                for i in 0..nq {
                    let src = (r.start + qs + i) * w + h * hd;
                    sc.q.extend_from_slice(&qkv[src..src + hd]);
                }
            }
            sc.scores.clear();
            sc.scores.resize(m * nk, 0.0);
            matmul_strided(m, nk, hd, &mut sc.scores, nk, &sc.q, hd, 1, k, 1, w, false);
            sc.inv.clear();
            for (row_i, row) in sc.scores.chunks_exact_mut(nk).enumerate() {
                let p = qs + row_i % nq; // absolute query position
                let lo = match s.window {
                    Some(win) => (p + 1).saturating_sub(win),
                    None => 0,
                } - ks;
                let hi = p + 1 - ks; // exclusive
                row[..lo].fill(0.0);
                let z = crate::kernels::exp_row(&mut row[lo..hi], s.scale);
                row[hi..].fill(0.0);
                sc.inv.push(1.0 / z);
            }
            sc.o.clear();
            sc.o.resize(m * hd, 0.0);
            matmul_strided(m, hd, nk, &mut sc.o, hd, &sc.scores, nk, 1, v, w, 1, false);
            for g in 0..group {
                let h = kvh * group + g;
                for i in 0..nq {
                    let row = g * nq + i;
                    let f = sc.inv[row];
                    // SAFETY: row qs+i of sequence `seq`, columns of head h: written by this
                    // task only, inside `out` (asserted above).
                    let dst =
                        unsafe { std::slice::from_raw_parts_mut(ptr.get().add((r.start + qs + i) * od + h * hd), hd) };
                    for (d, o) in dst.iter_mut().zip(&sc.o[row * hd..(row + 1) * hd]) {
                        *d = o * f;
                    }
                }
            }
        });
    };
    if par {
        tasks.par_iter().for_each(task);
    } else {
        tasks.iter().for_each(task);
    }
}

/// Rotary layout of the pairs a rotation acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RopeStyle {
    /// Adjacent pairs `(x[2i], x[2i+1])`: GGML's "normal" rope, what GGUF llama files expect
    /// (the converter permutes HF's Q/K rows into this order).
    Interleaved,
    /// Halves `(x[i], x[i + d/2])`: HF's `rotate_half`, GGML's NeoX rope (Gemma, Qwen, GPT-NeoX).
    Half,
}

/// Cos/sin tables for positions `0..len`: `len × dims/2` each.
pub struct RopeTable {
    cos: Vec<f32>,
    sin: Vec<f32>,
    half: usize,
}

impl RopeTable {
    /// Tables as HF transformers computes them in float32: `inv_freq[i] = 1 / base^(2i/dims)`
    /// (divided by `factor` for linear rope scaling), angle = `f32(pos) · inv_freq[i]` rounded
    /// to f32, then cos/sin of that angle.
    pub fn new(base: f32, dims: usize, len: usize, factor: f32) -> RopeTable {
        let half = dims / 2;
        let inv: Vec<f32> = (0..half).map(|i| 1.0 / base.powf((2 * i) as f32 / dims as f32) / factor).collect();
        let mut cos = Vec::with_capacity(len * half);
        let mut sin = Vec::with_capacity(len * half);
        for p in 0..len {
            for &f in &inv {
                let a = (p as f32 * f) as f64;
                cos.push(a.cos() as f32);
                sin.push(a.sin() as f32);
            }
        }
        RopeTable { cos, sin, half }
    }

    /// Rotates `heads` consecutive head vectors of width `head_dim` starting at `x[0]` for
    /// position `pos` (the first `2·half` dimensions of each head rotate).
    #[inline]
    pub fn apply(&self, x: &mut [f32], heads: usize, head_dim: usize, pos: usize, style: RopeStyle) {
        let c = &self.cos[pos * self.half..(pos + 1) * self.half];
        let s = &self.sin[pos * self.half..(pos + 1) * self.half];
        for h in 0..heads {
            let v = &mut x[h * head_dim..(h + 1) * head_dim];
            match style {
                RopeStyle::Interleaved => {
                    for i in 0..self.half {
                        let (a, b) = (v[2 * i], v[2 * i + 1]);
                        v[2 * i] = a * c[i] - b * s[i];
                        v[2 * i + 1] = b * c[i] + a * s[i];
                    }
                }
                RopeStyle::Half => {
                    let (lo, hi) = v[..2 * self.half].split_at_mut(self.half);
                    for i in 0..self.half {
                        let (a, b) = (lo[i], hi[i]);
                        lo[i] = a * c[i] - b * s[i];
                        hi[i] = b * c[i] + a * s[i];
                    }
                }
            }
        }
    }
}

/// Applies rotary embeddings to the Q and K parts of fused QKV rows in place. Row `r` of
/// sequence `q` has position `r - start(q)`.
pub fn rope_qkv(qkv: &mut [f32], packed: &Packed, s: &Heads, table: &RopeTable, style: RopeStyle, par: bool) {
    let w = s.qkv_width();
    let hd = s.head_dim;
    let mut rows: Vec<(usize, &mut [f32])> = Vec::with_capacity(packed.rows());
    let mut rest = qkv;
    for q in 0..packed.len() {
        for pos in 0..packed.range(q).len() {
            let (row, tail) = rest.split_at_mut(w);
            rows.push((pos, row));
            rest = tail;
        }
    }
    let f = |(pos, row): &mut (usize, &mut [f32])| table.apply(row, s.heads + s.kv_heads, hd, *pos, style);
    if par {
        rows.par_iter_mut().with_min_len(64).for_each(f);
    } else {
        rows.iter_mut().for_each(f);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_causal_matches_naive() {
        for window in [None, Some(7), Some(70)] {
            let s = Heads { heads: 4, kv_heads: 2, head_dim: 8, scale: 0.3, window };
            let lens = [5usize, 1, 150, 64, 65];
            let p = Packed::from_lengths(lens);
            let w = s.qkv_width();
            let qkv: Vec<f32> = (0..p.rows() * w).map(|i| ((i * 37 % 101) as f32 - 50.0) / 40.0).collect();
            let mut out = vec![0.0; p.rows() * 32];
            causal_attention(&qkv, &p, &s, &mut out, true);
            for (i, &l) in lens.iter().enumerate() {
                let r = p.range(i);
                let shape = gleaner_nn::AttentionShape {
                    heads: s.heads,
                    kv_heads: s.kv_heads,
                    head_dim: s.head_dim,
                    causal: true,
                    scale: s.scale,
                };
                let want = gleaner_nn::attention::reference_attention(&qkv[r.start * w..r.end * w], l, &shape, window);
                let got = &out[r.start * 32..r.end * 32];
                for (a, b) in got.iter().zip(&want) {
                    assert!((a - b).abs() < 2e-5, "{window:?}: {a} vs {b}");
                }
            }
        }
    }

    #[test]
    fn rope_styles_agree_up_to_permutation() {
        // Interleaved rope on permuted dims == half rope on the original order.
        let t = RopeTable::new(10000.0, 8, 5, 1.0);
        let x: Vec<f32> = (0..8).map(|i| i as f32 * 0.3 - 1.0).collect();
        let mut half = x.clone();
        t.apply(&mut half, 1, 8, 3, RopeStyle::Half);
        // interleave: position 2i <- x[i], 2i+1 <- x[i+4]
        let mut inter: Vec<f32> = (0..8).map(|j| if j % 2 == 0 { x[j / 2] } else { x[j / 2 + 4] }).collect();
        t.apply(&mut inter, 1, 8, 3, RopeStyle::Interleaved);
        for i in 0..4 {
            assert!((inter[2 * i] - half[i]).abs() < 1e-6);
            assert!((inter[2 * i + 1] - half[i + 4]).abs() < 1e-6);
        }
    }
}
