//! Row accounting: every input row ends up kept, skipped with a reason, or errored.

use std::collections::BTreeMap;

/// One skipped input row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skip {
    /// Where it was (e.g. `line 12`, `record 3`).
    pub location: String,
    /// Why it was skipped.
    pub reason: String,
}

/// Counts for one read (or one selection): `read == ok + skipped`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Accounting {
    /// Rows seen in the input.
    pub read: usize,
    /// Rows accepted.
    pub ok: usize,
    /// Skipped rows, in input order.
    pub skipped: Vec<Skip>,
}

impl Accounting {
    /// Records an accepted row.
    pub fn accept(&mut self) {
        self.read += 1;
        self.ok += 1;
    }

    /// Records a skipped row with its reason.
    pub fn skip(&mut self, location: String, reason: String) {
        self.read += 1;
        self.skipped.push(Skip { location, reason });
    }

    /// Skip counts grouped by reason kind (the text before the first `:`), sorted.
    pub fn reasons(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for s in &self.skipped {
            let kind = s.reason.split(':').next().unwrap_or(&s.reason).trim().to_string();
            *m.entry(kind).or_insert(0) += 1;
        }
        m
    }

    /// True when the counts add up (always, by construction; checked in tests).
    pub fn balanced(&self) -> bool {
        self.read == self.ok + self.skipped.len()
    }
}
