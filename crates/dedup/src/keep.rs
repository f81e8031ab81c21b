//! Which member of a duplicate cluster stays.

/// The policy for choosing a cluster's representative.
#[derive(Debug, Clone, PartialEq)]
pub enum Keep {
    /// The first row in input order.
    First,
    /// The row with the most characters (ties: the first).
    Longest,
    /// The row with the highest value of a score column (NaN ranks lowest; ties: the first).
    Score(String),
}

impl Keep {
    /// Parses `first`, `longest` or `score:COLUMN`.
    pub fn parse(s: &str) -> Option<Keep> {
        match s {
            "first" => Some(Keep::First),
            "longest" => Some(Keep::Longest),
            _ => s.strip_prefix("score:").filter(|c| !c.is_empty()).map(|c| Keep::Score(c.to_string())),
        }
    }

    /// The name as written (`first`, `longest`, `score:COLUMN`).
    pub fn name(&self) -> String {
        match self {
            Keep::First => "first".into(),
            Keep::Longest => "longest".into(),
            Keep::Score(c) => format!("score:{c}"),
        }
    }
}

/// The representative of every row's cluster: per cluster, the row with the highest
/// `priority` (NaN lowest), ties to the smallest index. `None` priorities mean "the first".
pub fn representatives(root: &[u32], priority: Option<&[f64]>) -> Vec<u32> {
    let mut best: Vec<u32> = (0..root.len() as u32).collect();
    let key = |i: u32| priority.map_or(0.0, |p| if p[i as usize].is_nan() { f64::NEG_INFINITY } else { p[i as usize] });
    for (i, &r) in root.iter().enumerate() {
        let cur = best[r as usize];
        let i = i as u32;
        if i != cur && key(i) > key(cur) {
            best[r as usize] = i;
        }
    }
    root.iter().map(|&r| best[r as usize]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn picks_by_policy() {
        let root = [0, 0, 2, 0, 2];
        assert_eq!(representatives(&root, None), vec![0, 0, 2, 0, 2]);
        assert_eq!(representatives(&root, Some(&[1.0, 3.0, f64::NAN, 3.0, 0.5])), vec![1, 1, 4, 1, 4]);
        assert_eq!(Keep::parse("score:quality"), Some(Keep::Score("quality".into())));
        assert_eq!(Keep::parse("score:"), None);
        assert_eq!(Keep::parse("longest").map(|k| k.name()), Some("longest".into()));
    }
}
