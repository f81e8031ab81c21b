//! Cherry's pre-experienced sample selection (`data_by_cluster.py`, docs/methods.md §2.3).

use crate::{Pick, Reason};

/// Options for [`pre_experience`].
#[derive(Debug, Clone)]
pub struct PreExperienceOptions {
    /// Samples per cluster (`sample_num`, default 10).
    pub per_cluster: usize,
    /// Lower perplexity percentile (`low_th`; the scripts use 25, argparse default 1).
    pub low: f64,
    /// Upper perplexity percentile (`up_th`; the scripts use 75, argparse default 99).
    pub up: f64,
}

impl Default for PreExperienceOptions {
    fn default() -> Self {
        PreExperienceOptions { per_cluster: 10, low: 25.0, up: 75.0 }
    }
}

fn percentile(values: &[f64], q: f64) -> f64 {
    let mut v: Vec<f64> = values.to_vec();
    v.sort_by(f64::total_cmp);
    let pos = (v.len() - 1) as f64 * q / 100.0;
    let (lo, hi) = (pos.floor() as usize, pos.ceil() as usize);
    v[lo] + (v[hi] - v[lo]) * (pos - lo as f64)
}

/// For each cluster `0..k` (members in ascending index): all members if fewer than `n`;
/// else the members whose perplexity lies in the [low, up] percentile band (numpy linear
/// interpolation), and of those, `n` evenly spaced by position (step ⌊|mid|/n⌋). Output is
/// cluster 0 first.
pub fn pre_experience(labels: &[u32], ppl: &[f64], k: usize, opts: &PreExperienceOptions) -> Vec<Pick> {
    let n = opts.per_cluster;
    let mut out = Vec::new();
    for c in 0..k {
        let idx: Vec<usize> = (0..labels.len()).filter(|&i| labels[i] as usize == c).collect();
        let chosen: Vec<usize> = if idx.len() < n {
            idx
        } else {
            let p: Vec<f64> = idx.iter().map(|&i| ppl[i]).collect();
            let lo = percentile(&p, opts.low);
            let hi = percentile(&p, opts.up);
            let mid: Vec<usize> = idx.iter().copied().filter(|&i| ppl[i] >= lo && ppl[i] <= hi).collect();
            if mid.len() < n || n == 0 {
                mid
            } else {
                let step = mid.len() / n;
                mid.iter().step_by(step).take(n).copied().collect()
            }
        };
        out.extend(chosen.into_iter().map(|index| Pick { index, reason: Reason::PreExperience }));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn band_and_even_spacing() {
        // one cluster of 10 with ppl 0..9; band [25th, 75th] = [2.25, 6.75] → members 3..=6
        let labels = vec![0u32; 10];
        let ppl: Vec<f64> = (0..10).map(f64::from).collect();
        let p = pre_experience(&labels, &ppl, 1, &PreExperienceOptions { per_cluster: 2, low: 25.0, up: 75.0 });
        let idx: Vec<usize> = p.iter().map(|p| p.index).collect();
        assert_eq!(idx, vec![3, 5]);
    }
}
