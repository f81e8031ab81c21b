//! Per-row confidence scores from class probabilities.
//!
//! LCG ranks the pool by ascending confidence and keeps the least confident rows
//! (docs/methods.md §4.4). The standard score, and the default, is the maximum class
//! probability; the margin between the two most probable classes is offered as an alternative
//! (it separates "torn between two clusters" from "spread over many").

use crate::Probabilities;
use gleaner_core::Error;

/// Which confidence score to compute.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Confidence {
    /// The largest class probability (`max_proba`); in `[1/k, 1]`.
    #[default]
    MaxProba,
    /// The largest minus the second-largest class probability; in `[0, 1]`.
    Margin,
}

impl Confidence {
    /// The score of one probability row.
    pub fn score(self, row: &[f64]) -> f64 {
        let (top1, top2) = top_two(row);
        match self {
            Confidence::MaxProba => top1,
            Confidence::Margin => top1 - top2,
        }
    }

    /// The score of every row.
    pub fn scores(self, proba: &Probabilities) -> Vec<f64> {
        proba.rows().map(|r| self.score(r)).collect()
    }

    /// The option spelling: `"max-proba"` or `"margin"`.
    pub fn name(self) -> &'static str {
        match self {
            Confidence::MaxProba => "max-proba",
            Confidence::Margin => "margin",
        }
    }
}

impl std::str::FromStr for Confidence {
    type Err = Error;

    /// Parses `max-proba` (also `max_proba`, `max`) or `margin`.
    fn from_str(s: &str) -> Result<Confidence, Error> {
        match s {
            "max-proba" | "max_proba" | "max" => Ok(Confidence::MaxProba),
            "margin" => Ok(Confidence::Margin),
            _ => Err(Error::Invalid(format!("unknown confidence {s:?} (expected max-proba or margin)"))),
        }
    }
}

impl std::fmt::Display for Confidence {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The largest and second-largest values of a row (the second is 0 for a one-column row).
fn top_two(row: &[f64]) -> (f64, f64) {
    let (mut a, mut b) = (f64::NEG_INFINITY, f64::NEG_INFINITY);
    for &v in row {
        if v > a {
            b = a;
            a = v;
        } else if v > b {
            b = v;
        }
    }
    if b == f64::NEG_INFINITY {
        b = 0.0;
    }
    (a, b)
}

/// The maximum class probability of every row.
pub fn max_proba(proba: &Probabilities) -> Vec<f64> {
    Confidence::MaxProba.scores(proba)
}

/// The top-1 − top-2 probability margin of every row.
pub fn margin(proba: &Probabilities) -> Vec<f64> {
    Confidence::Margin.scores(proba)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn max_and_margin() {
        let p = Probabilities::new(vec![0.2, 0.5, 0.3, 0.4, 0.4, 0.2], 3).unwrap();
        assert_eq!(max_proba(&p), vec![0.5, 0.4]);
        let m = margin(&p);
        assert!((m[0] - 0.2).abs() < 1e-15);
        assert_eq!(m[1], 0.0);
        assert_eq!("margin".parse::<Confidence>().unwrap(), Confidence::Margin);
        assert_eq!("max-proba".parse::<Confidence>().unwrap(), Confidence::MaxProba);
        assert!("entropy".parse::<Confidence>().is_err());
        assert_eq!(Confidence::Margin.score(&[1.0]), 1.0);
    }
}
