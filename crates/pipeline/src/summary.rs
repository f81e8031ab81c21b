//! The summary a selection prints on stderr: rows in, kept per reason, clusters covered, and
//! the score distribution of the kept rows against all rows.

use gleaner_report::Distribution;
use gleaner_select::Pick;
use std::collections::{BTreeMap, HashSet};
use std::fmt::Write as _;

/// Renders a selection summary. `scores` and `labels` are per input row when known.
pub fn selection_summary(
    method: &str,
    rows_in: usize,
    picks: &[Pick],
    scores: Option<(&str, &[f64])>,
    labels: Option<&[String]>,
) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "{method}: {rows_in} rows in, {} kept ({:.2}%)",
        picks.len(),
        100.0 * picks.len() as f64 / rows_in.max(1) as f64
    );
    let mut by_reason: BTreeMap<&str, usize> = BTreeMap::new();
    for p in picks {
        *by_reason.entry(p.reason.label()).or_insert(0) += 1;
    }
    for (r, n) in by_reason {
        let _ = writeln!(s, "  kept as {r:<18} {n}");
    }
    if let Some(labels) = labels {
        let all: HashSet<&str> = labels.iter().map(String::as_str).collect();
        let kept: HashSet<&str> = picks.iter().map(|p| labels[p.index].as_str()).collect();
        let _ = writeln!(s, "  clusters covered   {} of {}", kept.len(), all.len());
    }
    if let Some((name, v)) = scores {
        let _ = writeln!(s, "  {name} (all)  {}", Distribution::of(v.iter().copied()).line());
        let _ = writeln!(s, "  {name} (kept) {}", Distribution::of(picks.iter().map(|p| v[p.index])).line());
    }
    s
}
