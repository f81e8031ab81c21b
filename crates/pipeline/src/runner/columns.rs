//! Stages that work on score columns only: `filter` and `combine`.

use super::State;
use crate::recipe::{Combine, CombineMethod, Filter, RatioOf};
use gleaner_core::Result;

/// Drops the rows in play whose `column` is NaN or outside the bounds, then keeps the best
/// `top` (or `top_ratio`) rows in rank order. Each drop is counted with its reason here, by the
/// code that applies the rule.
pub(super) fn filter(st: &mut State<'_>, f: &Filter) -> Result<()> {
    let col = st.cols.get(&f.column).cloned().unwrap_or_default();
    let before = st.active.len();
    let nan = st.retain_active(|r| !col[r].is_nan());
    st.drop_rows(format!("{} not computable (NaN)", f.column), &nan);
    type Bound<'a> = (Option<f64>, &'a str, fn(f64, f64) -> bool);
    let bounds: [Bound<'_>; 4] = [
        (f.below, "≥", |x, b| x < b),
        (f.at_most, ">", |x, b| x <= b),
        (f.above, "≤", |x, b| x > b),
        (f.at_least, "<", |x, b| x >= b),
    ];
    let mut failed: Vec<(String, Vec<usize>)> = Vec::new();
    for (bound, op, keep) in bounds {
        let Some(b) = bound else { continue };
        let gone = st.retain_active(|r| keep(col[r], b));
        failed.push((format!("{} {op} {b}", f.column), gone));
    }
    match &f.reason {
        // one stated reason for the whole bound
        Some(reason) if !failed.is_empty() => {
            let rows: Vec<usize> = failed.into_iter().flat_map(|x| x.1).collect();
            st.drop_rows(reason.clone(), &rows)
        }
        _ => failed.into_iter().for_each(|(why, rows)| st.drop_rows(why, &rows)),
    }
    let base = match f.ratio_of {
        RatioOf::Input => st.ds.len(),
        RatioOf::Remaining => st.active.len(),
    };
    let top = match (f.top, f.top_ratio) {
        (Some(n), _) => Some(n),
        (None, Some(r)) => Some(gleaner_select::Budget::Ratio(r).resolve(base)),
        _ => None,
    };
    if let Some(top) = top {
        // stable: equal values keep their current order
        if f.ascending {
            st.active.sort_by(|&a, &b| col[a].total_cmp(&col[b]));
        } else {
            st.active.sort_by(|&a, &b| col[b].total_cmp(&col[a]));
        }
        let cut = st.active.split_off(top.min(st.active.len()));
        let why = f
            .reason
            .clone()
            .filter(|_| f.below.is_none() && f.at_most.is_none() && f.above.is_none() && f.at_least.is_none());
        st.drop_rows(why.unwrap_or_else(|| format!("outside the top {top} by {}", f.column)), &cut);
    }
    st.obs.info(&format!("filter on {}: {} of {before} rows remain", f.column, st.active.len()));
    Ok(())
}

/// Ranks of `v` scaled to [0, 1] (0 = lowest); ties share their mean rank; a single value is 1.
fn scaled_ranks(v: &[f64]) -> Vec<f64> {
    let n = v.len();
    let mut idx: Vec<usize> = (0..n).collect();
    idx.sort_by(|&a, &b| v[a].total_cmp(&v[b]));
    let mut rank = vec![0.0; n];
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && v[idx[j + 1]] == v[idx[i]] {
            j += 1;
        }
        let mean = (i + j) as f64 / 2.0;
        for &k in &idx[i..=j] {
            rank[k] = if n > 1 { mean / (n - 1) as f64 } else { 1.0 };
        }
        i = j + 1;
    }
    rank
}

/// Min-max normalisation to [0, 1] (a constant column is 1).
fn normalised(v: &[f64]) -> Vec<f64> {
    let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
    let hi = v.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    v.iter().map(|&x| if hi > lo { (x - lo) / (hi - lo) } else { 1.0 }).collect()
}

/// A new column from several, over the rows in play whose inputs are all numbers (the others
/// get NaN).
pub(super) fn combine(st: &mut State<'_>, c: &Combine) -> Result<()> {
    let inputs: Vec<Vec<f64>> = c.columns.iter().map(|n| st.gather(n)).collect::<Result<_>>()?;
    let ok: Vec<usize> = (0..st.active.len()).filter(|&i| inputs.iter().all(|col| col[i].is_finite())).collect();
    let weights = c.weights.clone().unwrap_or_else(|| vec![1.0; c.columns.len()]);
    let wsum: f64 = weights.iter().sum();
    let mut out = vec![f64::NAN; st.active.len()];
    let mut acc = vec![if c.method == CombineMethod::Product { 1.0 } else { 0.0 }; ok.len()];
    for ((name, col), w) in c.columns.iter().zip(&inputs).zip(&weights) {
        let flip = c.lower_is_better.contains(name);
        let v: Vec<f64> = ok.iter().map(|&i| if flip { -col[i] } else { col[i] }).collect();
        match c.method {
            CombineMethod::RankMean => {
                for (a, r) in acc.iter_mut().zip(scaled_ranks(&v)) {
                    *a += w * r / wsum;
                }
            }
            CombineMethod::Product => {
                for (a, x) in acc.iter_mut().zip(normalised(&v)) {
                    *a *= x.powf(*w);
                }
            }
        }
    }
    for (&i, a) in ok.iter().zip(acc) {
        out[i] = a;
    }
    st.scatter(&c.into, &out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranks_share_ties_and_scale_to_unit() {
        assert_eq!(scaled_ranks(&[3.0, 1.0, 3.0, 2.0]), vec![(2.0 + 3.0) / 2.0 / 3.0, 0.0, 2.5 / 3.0, 1.0 / 3.0]);
        assert_eq!(scaled_ranks(&[5.0]), vec![1.0]);
        assert_eq!(normalised(&[1.0, 3.0, 2.0]), vec![0.0, 1.0, 0.5]);
    }
}
