//! Shared driver of every model: length-sorted packed batches, the LM head at scored positions
//! only, log-softmax NLL, and mean hidden states.

use crate::kernels::{row_max, sum_exp};
use gleaner_nn::Packed;
use gleaner_nn::linear::matmul_t_packed;
use rayon::prelude::*;

/// What the driver needs from a model's forward.
pub(crate) trait Backbone: Send + Sync {
    /// Vocabulary size (rows of the LM head).
    fn vocab(&self) -> usize;
    /// Hidden size.
    fn hidden(&self) -> usize;
    /// Longest sequence the model can take (`None` = no hard limit, e.g. rotary positions).
    fn position_limit(&self) -> Option<usize>;
    /// Residual stream after the last block, *before* the final norm: `rows × hidden`.
    /// With `par`, kernels use the rayon pool; without, everything runs on the calling
    /// thread (the driver then runs several batches at once). Results are identical.
    fn forward(&self, ids: &[u32], packed: &Packed, par: bool) -> Vec<f32>;
    /// The final norm, in place on `rows × hidden`.
    fn final_norm(&self, x: &mut [f32], par: bool);
    /// The LM head, `vocab × hidden` (the embedding matrix when tied).
    fn head(&self) -> &[f32];
    /// Lazily packed AMX copies of the head, one per vocabulary block.
    fn head_packs(&self) -> &HeadPacks;
    /// Transformer blocks (after [`Backbone::keep_layers`]).
    fn layers(&self) -> usize;
    /// Transformer blocks the model file declares.
    fn declared_layers(&self) -> usize;
    /// Keeps only the first `n` blocks (`1 ≤ n ≤ layers`): the forward then ends after block
    /// `n`, e.g. for hidden-state features of an intermediate layer.
    fn keep_layers(&mut self, n: usize);
    /// Parameters held (f32 values), the LM head included when it is not tied.
    fn parameters(&self) -> usize;
    /// Gemma-2 style final logit soft-capping (`cap · tanh(logit / cap)`), if any.
    fn softcap(&self) -> Option<f32> {
        None
    }
    /// The arithmetic of every dense product: the blocks' layers and the LM head.
    fn precision(&self) -> gleaner_nn::Precision;
    /// Sets [`Backbone::precision`] on every dense layer and the LM head (at load, before any
    /// forward; packed AMX copies made for another precision are dropped).
    fn set_precision(&mut self, p: gleaner_nn::Precision);
}

/// Token budget of one packed forward; `GLEANER_LM_BATCH_TOKENS` overrides it.
pub(crate) fn batch_tokens() -> usize {
    std::env::var("GLEANER_LM_BATCH_TOKENS").ok().and_then(|v| v.parse().ok()).filter(|&v| v > 0).unwrap_or(2048)
}

/// Groups sequence indices into batches: sorted by length (longest first), greedily filled up
/// to `budget` tokens (a longer sequence forms a batch of its own).
pub(crate) fn plan_batches(lens: &[usize], budget: usize) -> Vec<Vec<usize>> {
    let mut order: Vec<usize> = (0..lens.len()).filter(|&i| lens[i] > 0).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(lens[i]));
    let mut out = Vec::new();
    let mut cur = Vec::new();
    let mut tokens = 0;
    for i in order {
        if !cur.is_empty() && tokens + lens[i] > budget {
            out.push(std::mem::take(&mut cur));
            tokens = 0;
        }
        tokens += lens[i];
        cur.push(i);
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// True if the model can run this sequence (ids in the vocabulary, length within limits).
fn valid(b: &dyn Backbone, s: &[u32]) -> bool {
    let v = b.vocab();
    s.iter().all(|&t| (t as usize) < v) && b.position_limit().is_none_or(|l| s.len() <= l)
}

/// `logsumexp(row) − row[target]`: the NLL of `target` under softmax(row).
#[cfg(test)]
pub(crate) fn nll_of(row: &[f32], target: usize) -> f32 {
    let m = row_max(row);
    let lse = m as f64 + sum_exp(row, m).ln();
    (lse - row[target] as f64) as f32
}

/// Runs `f(batch, par)` for every batch and returns the results in batch order. With two or
/// more rayon threads and at least as many batches, batches run concurrently, one per thread,
/// each single-threaded (`par = false`): no barrier inside GEMMs, and a thread slowed by a
/// competing process does not hold the other back. Otherwise batches run one after another
/// with multi-threaded kernels. Each batch's arithmetic is the same either way.
fn run_batches<T: Send>(batches: &[Vec<usize>], f: impl Fn(&[usize], bool) -> T + Sync + Send) -> Vec<T> {
    let threads = rayon::current_num_threads();
    if threads > 1 && batches.len() >= threads {
        batches.par_iter().with_max_len(1).map(|b| f(b, false)).collect()
    } else {
        batches.iter().map(|b| f(b, true)).collect()
    }
}

/// The NLL of each scored token. `seqs[i]` scores tokens `score_from[i]..len` (token `j`
/// predicted from position `j − 1`); invalid sequences and token 0 give NaN. A sequence whose
/// tokens begin another sequence of the same call is not run on its own: its NLLs are read
/// from that longer forward (the same values up to f32 rounding).
pub(crate) fn nll(b: &dyn Backbone, seqs: &[&[u32]], score_from: &[usize]) -> Vec<Vec<f32>> {
    assert_eq!(seqs.len(), score_from.len(), "one score_from per sequence");
    let mut out: Vec<Vec<f32>> =
        seqs.iter().zip(score_from).map(|(s, &f)| vec![f32::NAN; s.len().saturating_sub(f)]).collect();
    // Sequences that have something to score and can be run.
    let run: Vec<usize> =
        (0..seqs.len()).filter(|&i| score_from[i].max(1) < seqs[i].len() && valid(b, seqs[i])).collect();
    // A sequence that is a prefix of another (or equal to it) is scored inside that one's
    // forward: in a causal LM, position j sees only tokens ..= j.
    let riders = prefix_hosts(seqs, &run);
    let riding: std::collections::HashSet<usize> = riders.values().flatten().copied().collect();
    let hosts: Vec<usize> = run.iter().copied().filter(|i| !riding.contains(i)).collect();
    let lens: Vec<usize> = hosts.iter().map(|&i| seqs[i].len()).collect();
    let batches: Vec<Vec<usize>> =
        plan_batches(&lens, batch_tokens()).into_iter().map(|bt| bt.into_iter().map(|k| hosts[k]).collect()).collect();
    let results = run_batches(&batches, |members, par| {
        let packed = Packed::from_lengths(members.iter().map(|&i| seqs[i].len()));
        let ids: Vec<u32> = members.iter().flat_map(|&i| seqs[i].iter().copied()).collect();
        let x = b.forward(&ids, &packed, par);
        // (row of the predicting position, target id, output sequence, output slot)
        let mut targets: Vec<(usize, u32, usize, usize)> = Vec::new();
        for (k, &h) in members.iter().enumerate() {
            let start = packed.offsets[k];
            for &i in std::iter::once(&h).chain(riders.get(&h).into_iter().flatten()) {
                let from = score_from[i];
                for (j, &tok) in seqs[i].iter().enumerate().skip(from.max(1)) {
                    targets.push((start + j - 1, tok, i, j - from));
                }
            }
        }
        let vals = score_rows(b, &x, &targets, par);
        (targets, vals)
    });
    for (targets, vals) in results {
        for (t, v) in targets.iter().zip(vals) {
            out[t.2][t.3] = v;
        }
    }
    out
}

/// For the sequences `run`, the ones whose tokens are a prefix of (or equal to) another's,
/// grouped under that longer *host*: `host → riders`. Hosts are never riders themselves.
/// Sorting the sequences puts every sequence right before those it is a prefix of, so one
/// pass from the back resolves chains (a prefix of a prefix joins the longest).
fn prefix_hosts(seqs: &[&[u32]], run: &[usize]) -> std::collections::HashMap<usize, Vec<usize>> {
    let mut order = run.to_vec();
    order.sort_by(|&a, &b| seqs[a].cmp(seqs[b]).then(a.cmp(&b)));
    let mut host = vec![usize::MAX; order.len()];
    let mut riders: std::collections::HashMap<usize, Vec<usize>> = std::collections::HashMap::new();
    for k in (0..order.len()).rev() {
        host[k] = match order.get(k + 1) {
            Some(&next) if seqs[next].starts_with(seqs[order[k]]) => host[k + 1],
            _ => order[k],
        };
        if host[k] != order[k] {
            riders.entry(host[k]).or_default().push(order[k]);
        }
    }
    riders
}

/// Scored rows per pass of the fused head.
const HEAD_ROWS: usize = 1024;
/// Vocabulary rows per head task.
const VOCAB_BLOCK: usize = 2048;

/// AMX-packed copies of the LM head, one per [`VOCAB_BLOCK`] rows, made on first use when
/// the model's [`Backbone::precision`] is a bf16 one (empty cells otherwise).
#[derive(Debug, Default)]
pub(crate) struct HeadPacks(Vec<std::sync::OnceLock<gleaner_nn::amx::PackedWeights>>);

impl HeadPacks {
    /// Empty cells for a vocabulary of `vocab` rows.
    pub(crate) fn new(vocab: usize) -> HeadPacks {
        HeadPacks((0..vocab.div_ceil(VOCAB_BLOCK)).map(|_| std::sync::OnceLock::new()).collect())
    }
}

/// Partial log-softmax statistics of one vocabulary block.
struct BlockStats {
    max: Vec<f32>,
    sum: Vec<f64>,
    /// `(row, logit)` for rows whose target lies in this block.
    target: Vec<(usize, f32)>,
}

/// Final norm + LM head + log-softmax at the given rows of `x`, fused: the vocabulary is cut
/// into blocks of [`VOCAB_BLOCK`] rows; one rayon task per block multiplies all scored rows
/// (up to [`HEAD_ROWS`]) by its slice of the head and keeps per-row max and Σexp. Blocks are
/// merged in vocabulary order (deterministic), so the full `rows × vocab` logits never exist
/// and each head row is streamed once per pass instead of once per small chunk of rows.
fn score_rows(b: &dyn Backbone, x: &[f32], targets: &[(usize, u32, usize, usize)], par: bool) -> Vec<f32> {
    let d = b.hidden();
    let v = b.vocab();
    let head = b.head();
    let cap = b.softcap();
    let mut out = Vec::with_capacity(targets.len());
    let mut h = Vec::new();
    for c in targets.chunks(HEAD_ROWS) {
        let mut tm = crate::prof::Timer::start();
        let m = c.len();
        h.clear();
        for t in c {
            h.extend_from_slice(&x[t.0 * d..(t.0 + 1) * d]);
        }
        b.final_norm(&mut h, par);
        let starts: Vec<usize> = (0..v).step_by(VOCAB_BLOCK).collect();
        let prec = gleaner_nn::effective(b.precision());
        let block = |tile: &mut Vec<f32>, vs: usize| {
            let nb = VOCAB_BLOCK.min(v - vs);
            tile.resize(m * nb, 0.0);
            let pack = &b.head_packs().0[vs / VOCAB_BLOCK];
            matmul_t_packed(&h, m, d, &head[vs * d..(vs + nb) * d], nb, pack, tile, prec, false);
            if let Some(cap) = cap {
                tile.iter_mut().for_each(|z| *z = cap * (*z / cap).tanh());
            }
            let mut st = BlockStats { max: Vec::with_capacity(m), sum: Vec::with_capacity(m), target: Vec::new() };
            for (r, row) in tile.chunks_exact(nb).enumerate() {
                let mx = row_max(row);
                st.max.push(mx);
                st.sum.push(sum_exp(row, mx));
                let t = c[r].1 as usize;
                if (vs..vs + nb).contains(&t) {
                    st.target.push((r, row[t - vs]));
                }
            }
            st
        };
        let parts: Vec<BlockStats> = if par {
            starts.par_iter().map_init(Vec::new, |tile, &vs| block(tile, vs)).collect()
        } else {
            let mut tile = Vec::new();
            starts.iter().map(|&vs| block(&mut tile, vs)).collect()
        };
        let mut mx = vec![f32::NEG_INFINITY; m];
        let mut sum = vec![0.0f64; m];
        let mut tgt = vec![f32::NAN; m];
        for p in &parts {
            for r in 0..m {
                let (a, b) = (mx[r], p.max[r]);
                let nm = a.max(b);
                sum[r] = sum[r] * ((a - nm) as f64).exp() + p.sum[r] * ((b - nm) as f64).exp();
                mx[r] = nm;
            }
            for &(r, l) in &p.target {
                tgt[r] = l;
            }
        }
        out.extend((0..m).map(|r| (mx[r] as f64 + sum[r].ln() - tgt[r] as f64) as f32));
        tm.mark(crate::prof::HEAD);
    }
    out
}

/// Mean over all tokens of the final hidden states (after the final norm, as HF's
/// `hidden_states[-1]`); empty or invalid sequences give NaN vectors.
pub(crate) fn mean_hidden(b: &dyn Backbone, seqs: &[&[u32]]) -> Vec<Vec<f32>> {
    let d = b.hidden();
    let mut out: Vec<Vec<f32>> = vec![vec![f32::NAN; d]; seqs.len()];
    let run: Vec<usize> = (0..seqs.len()).filter(|&i| !seqs[i].is_empty() && valid(b, seqs[i])).collect();
    let lens: Vec<usize> = run.iter().map(|&i| seqs[i].len()).collect();
    let batches: Vec<Vec<usize>> =
        plan_batches(&lens, batch_tokens()).into_iter().map(|bt| bt.into_iter().map(|k| run[k]).collect()).collect();
    let results = run_batches(&batches, |members, par| {
        let packed = Packed::from_lengths(members.iter().map(|&i| seqs[i].len()));
        let ids: Vec<u32> = members.iter().flat_map(|&i| seqs[i].iter().copied()).collect();
        let mut x = b.forward(&ids, &packed, par);
        b.final_norm(&mut x, par);
        let mut means = Vec::with_capacity(members.len());
        for (k, &i) in members.iter().enumerate() {
            let r = packed.range(k);
            let n = r.len() as f64;
            let mut acc = vec![0.0f64; d];
            for row in r {
                for (a, v) in acc.iter_mut().zip(&x[row * d..(row + 1) * d]) {
                    *a += *v as f64;
                }
            }
            means.push((i, acc.into_iter().map(|a| (a / n) as f32).collect::<Vec<f32>>()));
        }
        means
    });
    for (i, v) in results.into_iter().flatten() {
        out[i] = v;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_respect_budget_and_cover_all() {
        let lens = [5, 0, 300, 7, 200, 100, 2000];
        let b = plan_batches(&lens, 310);
        let mut seen: Vec<usize> = b.iter().flatten().copied().collect();
        seen.sort();
        assert_eq!(seen, vec![0, 2, 3, 4, 5, 6]);
        assert_eq!(b[0], vec![6]);
        for batch in &b[1..] {
            assert!(batch.iter().map(|&i| lens[i]).sum::<usize>() <= 310);
        }
    }

    #[test]
    fn prefixes_ride_in_the_longest_sequence_that_starts_with_them() {
        let (a, b, c, d, e) = (vec![1u32, 2, 3, 4], vec![1u32, 2], vec![1u32, 2, 3], vec![1u32, 5], vec![1u32, 2]);
        let seqs: Vec<&[u32]> = vec![&a, &b, &c, &d, &e];
        let r = prefix_hosts(&seqs, &[0, 1, 2, 3, 4]);
        let mut on_a = r[&0].clone();
        on_a.sort();
        assert_eq!(on_a, vec![1, 2, 4], "b, c and the duplicate e ride in a");
        assert_eq!(r.len(), 1, "d is a host of nothing and rides nowhere");
        // only sequences in `run` take part
        assert!(prefix_hosts(&seqs, &[1, 3]).is_empty());
    }

    #[test]
    fn nll_matches_f64() {
        let row: Vec<f32> = (0..1000).map(|i| ((i * 7919 % 1009) as f32) / 50.0 - 10.0).collect();
        let m = row.iter().copied().fold(f64::MIN, |a, b| a.max(b as f64));
        let lse = m + row.iter().map(|&v| (v as f64 - m).exp()).sum::<f64>().ln();
        for t in [0, 17, 999] {
            let want = lse - row[t] as f64;
            assert!((nll_of(&row, t) as f64 - want).abs() < 1e-5);
        }
    }
}
