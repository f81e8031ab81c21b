//! # gleaner-select
//!
//! The selection step of each method, as pure functions over per-row values. Every function
//! returns [`Pick`]s: indices into the input rows, in output order, each with the reason it
//! was kept, so a run can report "kept per reason" and the counts add up.
//!
//! Each rule reproduces its reference implementation's semantics and quirks (docs/methods.md §1.6,
//! §2.3, §2.4, §3.4, §3.5, §4.4); deviations are options, named and documented.

mod car;
mod ifd;
mod lcg;
mod preexp;
mod topk;

pub use car::{CarOptions, car};
pub use ifd::{CherryOptions, SuperfilterOptions, cherry, ifd_stage, superfilter};
pub use lcg::{LcgOptions, lcg};
pub use preexp::{PreExperienceOptions, pre_experience};
pub use topk::{TopKOptions, top_k};

/// Why a row was kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Reason {
    /// Among the top n1 by score (CaR).
    TopScore,
    /// Best of its cluster not already kept (CaR n2).
    ClusterPick,
    /// Passed the IFD threshold and ranked within the budget (Cherry, Superfiltering).
    Ifd,
    /// Chosen by facility location (Superfiltering.D).
    Diversity,
    /// Nearest to its cluster centroid (LCG seed).
    CentroidSeed,
    /// Low classifier confidence (LCG).
    LowConfidence,
    /// Pre-experience sample from a cluster's perplexity band (Cherry).
    PreExperience,
    /// Among the best rows by a score (a recipe's `top-k` rule).
    TopK,
    /// Passed every filter of a recipe with no selection stage.
    Passed,
}

impl Reason {
    /// A short label for summaries.
    pub fn label(self) -> &'static str {
        match self {
            Reason::TopScore => "top-n1 by score",
            Reason::ClusterPick => "cluster pick",
            Reason::Ifd => "IFD rank",
            Reason::Diversity => "facility location",
            Reason::CentroidSeed => "centroid seed",
            Reason::LowConfidence => "low confidence",
            Reason::PreExperience => "pre-experience",
            Reason::TopK => "top-k by score",
            Reason::Passed => "passed the filters",
        }
    }
}

/// One kept row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pick {
    /// Index into the input rows.
    pub index: usize,
    /// Why it was kept.
    pub reason: Reason,
}

/// How many rows to keep: an absolute count or a fraction of a base count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Budget {
    /// Exactly this many (or fewer if not enough rows qualify).
    Count(usize),
    /// `⌊ratio × base⌋`, where each rule names its base.
    Ratio(f64),
}

impl Budget {
    /// Resolves against a base count (floor, as the references do with `int(...)`).
    pub fn resolve(self, base: usize) -> usize {
        match self {
            Budget::Count(n) => n,
            Budget::Ratio(r) => (base as f64 * r).floor().max(0.0) as usize,
        }
    }
}

/// Indices sorted by `key` descending; equal keys keep input order (Python's stable
/// `sorted(..., reverse=True)`). NaN keys sort last.
pub(crate) fn stable_desc(idx: &mut [usize], key: &dyn Fn(usize) -> f64) {
    idx.sort_by(|&a, &b| {
        let (x, y) = (key(a), key(b));
        match (x.is_nan(), y.is_nan()) {
            (true, true) => std::cmp::Ordering::Equal,
            (true, false) => std::cmp::Ordering::Greater,
            (false, true) => std::cmp::Ordering::Less,
            _ => y.partial_cmp(&x).unwrap(),
        }
    });
}
