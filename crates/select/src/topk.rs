//! The generic rank rule: the best `n` rows by one score.

use crate::{Pick, Reason};
use std::cmp::Ordering;

/// Options of [`top_k`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TopKOptions {
    /// How many to keep.
    pub n: usize,
    /// Lowest first instead of highest first.
    pub ascending: bool,
    /// Output in input order (by row index) instead of rank order.
    pub input_order: bool,
    /// Of two equal scores, the later row ranks first (Cherry's selection script) instead of the
    /// earlier one (a stable sort, as Superfiltering's).
    pub later_first: bool,
}

/// The `n` best of `rows` by `score[row]` (NaN rows are never kept), with [`Reason::TopK`].
pub fn top_k(rows: &[usize], score: &[f64], opts: &TopKOptions) -> Vec<Pick> {
    let mut keep: Vec<usize> = rows.iter().copied().filter(|&r| !score[r].is_nan()).collect();
    keep.sort_by(|&a, &b| {
        let by_score = if opts.ascending { score[a].partial_cmp(&score[b]) } else { score[b].partial_cmp(&score[a]) };
        let tie = if opts.later_first { b.cmp(&a) } else { a.cmp(&b) };
        by_score.unwrap_or(Ordering::Equal).then(tie)
    });
    keep.truncate(opts.n);
    if opts.input_order {
        keep.sort_unstable();
    }
    keep.into_iter().map(|index| Pick { index, reason: Reason::TopK }).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Budget, CherryOptions, SuperfilterOptions, cherry, superfilter};

    fn idx(p: &[Pick]) -> Vec<usize> {
        p.iter().map(|p| p.index).collect()
    }

    #[test]
    fn reproduces_cherry_and_superfilter_on_ties() {
        let ifd = [0.5, f64::NAN, 0.9, 1.2, 0.9, 1.0, 0.1, 0.9];
        let valid: Vec<usize> = (0..ifd.len()).filter(|&i| ifd[i].is_finite() && ifd[i] <= 1.0).collect();
        for n in 0..6 {
            let o = TopKOptions { n, ascending: false, input_order: true, later_first: true };
            assert_eq!(idx(&top_k(&valid, &ifd, &o)), idx(&cherry(&ifd, &CherryOptions { budget: Budget::Count(n) })));
            let below: Vec<usize> = (0..ifd.len()).filter(|&i| ifd[i] < 1.0).collect();
            let o = TopKOptions { n, ascending: false, input_order: false, later_first: false };
            let sf = SuperfilterOptions { budget: Budget::Count(n), threshold: 1.0, reference_count: None };
            assert_eq!(idx(&top_k(&below, &ifd, &o)), idx(&superfilter(&ifd, &sf)));
        }
    }

    #[test]
    fn ascending_and_nan() {
        let s = [3.0, f64::NAN, 1.0, 2.0];
        let o = TopKOptions { n: 10, ascending: true, input_order: false, later_first: false };
        assert_eq!(idx(&top_k(&[0, 1, 2, 3], &s, &o)), vec![2, 3, 0]);
    }
}
