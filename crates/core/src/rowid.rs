//! Stable row ids.
//!
//! A row id is the XXH3-64 hash of a record's *content* (system prompt, Alpaca input and the
//! role and text of every turn, length-prefixed so no two contents share an encoding), mixed
//! with the record's occurrence number among records of identical content in the same file
//! (0 for the first, 1 for the second duplicate, …).
//!
//! Consequences, by design:
//! - extra fields (scores, labels, ids) do not change the id, so a published selection that
//!   added a `score` field joins back to the rows it came from;
//! - reordering or filtering a file keeps every id, except among exact duplicates;
//! - shards of one file are scored with ids computed over the whole file, so merged shards
//!   equal an unsharded run.

use crate::record::Record;
use std::collections::HashMap;
use xxhash_rust::xxh3::Xxh3;

/// A stable 64-bit row id.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RowId(pub u64);

impl std::fmt::Display for RowId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

/// The content hash of a record (occurrence 0).
pub fn content_hash(r: &Record) -> u64 {
    let mut h = Xxh3::new();
    let mut put = |tag: u8, s: &str| {
        h.update(&[tag]);
        h.update(&(s.len() as u64).to_le_bytes());
        h.update(s.as_bytes());
    };
    if let Some(s) = &r.system {
        put(b'S', s);
    }
    put(b'I', &r.input);
    for t in &r.turns {
        put(t.role as u8, &t.content);
    }
    h.digest()
}

/// Mixes the occurrence number into a content hash (splitmix64 finaliser).
fn mix(hash: u64, occurrence: u64) -> u64 {
    if occurrence == 0 {
        return hash;
    }
    let mut z = hash ^ occurrence.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Row ids for records in file order; duplicates get distinct ids by occurrence.
pub fn assign_row_ids(records: &[Record]) -> Vec<RowId> {
    let mut ids = RowIds::with_capacity(records.len());
    records.iter().map(|r| ids.next(r)).collect()
}

/// Assigns row ids one record at a time, in file order (what [`assign_row_ids`] does for a
/// slice), so records need not be held together.
#[derive(Debug, Default)]
pub struct RowIds {
    seen: HashMap<u64, u64>,
    used: std::collections::HashSet<u64>,
}

impl RowIds {
    /// An assigner expecting about `n` records.
    pub fn with_capacity(n: usize) -> RowIds {
        RowIds { seen: HashMap::with_capacity(n), used: std::collections::HashSet::with_capacity(n) }
    }

    /// The id of the next record.
    pub fn next(&mut self, r: &Record) -> RowId {
        let h = content_hash(r);
        let occ = self.seen.entry(h).or_insert(0);
        let mut id = mix(h, *occ);
        *occ += 1;
        // A 64-bit collision between different contents is astronomically rare; if it happens
        // keep ids unique by probing, so joins stay one-to-one.
        while !self.used.insert(id) {
            id = mix(id, 1);
        }
        RowId(id)
    }
}

/// FNV-1a 64 over row ids in order, as 16 hex digits: a tiny stable digest of which rows a
/// side file covers (the ids are already well mixed, so FNV is enough).
pub fn ids_digest(ids: &[RowId]) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for id in ids {
        for &b in &id.0.to_le_bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x100_0000_01b3);
        }
    }
    format!("{h:016x}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_get_distinct_ids_and_extra_fields_do_not_matter() {
        let a = Record::alpaca("i", "", "o");
        let mut b = a.clone();
        b.fields.insert("score".into(), serde_json::json!(1.5));
        let c = Record::alpaca("i", "x", "o");
        let ids = assign_row_ids(&[a.clone(), b, c]);
        assert_ne!(ids[0], ids[1]);
        assert_ne!(ids[0], ids[2]);
        assert_eq!(assign_row_ids(&[a])[0], ids[0]);
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        let a = Record::alpaca("ab", "", "c");
        let b = Record::alpaca("a", "", "bc");
        assert_ne!(content_hash(&a), content_hash(&b));
    }
}
