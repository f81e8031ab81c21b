//! IFD selections: Cherry (docs/methods.md §2.4), Superfiltering (§3.4) and Superfiltering.D's IFD stage
//! (§3.5).

use crate::{Budget, Pick, Reason, stable_desc};

/// Options for [`cherry`].
#[derive(Debug, Clone)]
pub struct CherryOptions {
    /// `sample_number` (count) or `sample_rate` (fraction of the *valid* rows: finite IFD ≤ 1).
    pub budget: Budget,
}

/// Cherry's `data_by_IFD.py` selection: keep rows with a finite IFD ≤ 1; take the
/// `budget` largest, ties broken in favour of the larger index; output in original order.
pub fn cherry(ifd: &[f64], opts: &CherryOptions) -> Vec<Pick> {
    let mut valid: Vec<usize> = (0..ifd.len()).filter(|&i| ifd[i].is_finite() && ifd[i] <= 1.0).collect();
    let n_sel = opts.budget.resolve(valid.len());
    // Rank by (IFD, index) descending.
    valid.sort_by(|&a, &b| ifd[b].partial_cmp(&ifd[a]).unwrap().then(b.cmp(&a)));
    let mut chosen: Vec<usize> = valid.into_iter().take(n_sel).collect();
    chosen.sort_unstable();
    chosen.into_iter().map(|index| Pick { index, reason: Reason::Ifd }).collect()
}

/// Options for [`superfilter`].
#[derive(Debug, Clone)]
pub struct SuperfilterOptions {
    /// Count, or fraction of `reference_count` (default: the real row count).
    pub budget: Budget,
    /// Strict upper bound on the IFD (`filter_threash`, default 1).
    pub threshold: f64,
    /// Base of a ratio budget. The reference hard-codes 52002 (Alpaca's size); gleaner uses
    /// the real row count unless this is set.
    pub reference_count: Option<usize>,
}

/// Superfiltering's `select_data.py`: keep finite values below the threshold, sort
/// descending (stable), keep the first ⌊base × rate⌋; output in that (descending) order.
pub fn superfilter(ifd: &[f64], opts: &SuperfilterOptions) -> Vec<Pick> {
    let mut keep: Vec<usize> = (0..ifd.len()).filter(|&i| !ifd[i].is_nan() && ifd[i] < opts.threshold).collect();
    stable_desc(&mut keep, &|i| ifd[i]);
    let n = opts.budget.resolve(opts.reference_count.unwrap_or(ifd.len()));
    keep.into_iter().take(n).map(|index| Pick { index, reason: Reason::Ifd }).collect()
}

/// Superfiltering.D's IFD stage (`do_fla.py`): with `upper > 0` keep values `< upper`; then
/// with `top > 0` the `top` largest (stable, NaN last), else the values `> lower`.
/// Returns indices in descending IFD order (the order FL then sees).
pub fn ifd_stage(ifd: &[f64], upper: f64, top: usize, lower: f64) -> Vec<usize> {
    let mut keep: Vec<usize> = (0..ifd.len()).filter(|&i| upper == 0.0 || ifd[i] < upper).collect();
    if top > 0 {
        stable_desc(&mut keep, &|i| ifd[i]);
        keep.truncate(top);
    } else {
        keep.retain(|&i| ifd[i] > lower);
    }
    keep
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cherry_keeps_original_order_and_breaks_ties_by_larger_index() {
        let ifd = [0.5, f64::NAN, 0.9, 1.2, 0.9, 1.0, 0.1];
        let p = cherry(&ifd, &CherryOptions { budget: Budget::Count(3) });
        let idx: Vec<usize> = p.iter().map(|p| p.index).collect();
        // valid: 0, 2, 4, 5, 6 → top 3 by (ifd, index) desc: 5 (1.0), 4 (0.9), 2 (0.9)
        assert_eq!(idx, vec![2, 4, 5]);
        // rate is of the valid rows: ⌊5 × 0.5⌋ = 2
        assert_eq!(cherry(&ifd, &CherryOptions { budget: Budget::Ratio(0.5) }).len(), 2);
    }

    #[test]
    fn superfilter_is_strict_and_sorted() {
        let ifd = [0.5, f64::NAN, 0.9, 1.0, 0.95, 0.0];
        let p =
            superfilter(&ifd, &SuperfilterOptions { budget: Budget::Count(10), threshold: 1.0, reference_count: None });
        let idx: Vec<usize> = p.iter().map(|p| p.index).collect();
        assert_eq!(idx, vec![4, 2, 0, 5]);
        let p = superfilter(
            &ifd,
            &SuperfilterOptions { budget: Budget::Ratio(0.5), threshold: 1.0, reference_count: None },
        );
        assert_eq!(p.len(), 3);
    }
}
