//! Exact duplicates: equal texts after [`crate::normalize`].

use crate::near::Clusters;
use crate::normalize::normalize;
use rayon::prelude::*;
use std::collections::HashMap;

/// The 128-bit key of a text's normalised form.
pub fn exact_key(text: &str) -> u128 {
    xxhash_rust::xxh3::xxh3_128(normalize(text).as_bytes())
}

/// Clusters texts with equal normalised forms (similarity 1 for every member of a cluster of
/// two or more).
pub fn exact_clusters<S: AsRef<str> + Sync>(texts: &[S]) -> Clusters {
    let keys: Vec<u128> = texts.par_iter().map(|t| exact_key(t.as_ref())).collect();
    exact_clusters_by_key(&keys)
}

/// [`exact_clusters`] from precomputed keys.
pub fn exact_clusters_by_key(keys: &[u128]) -> Clusters {
    let mut first: HashMap<u128, u32> = HashMap::with_capacity(keys.len());
    let root: Vec<u32> = keys.iter().enumerate().map(|(i, k)| *first.entry(*k).or_insert(i as u32)).collect();
    let mut size = vec![0u32; keys.len()];
    for &r in &root {
        size[r as usize] += 1;
    }
    let similarity = root.iter().map(|&r| if size[r as usize] > 1 { 1.0 } else { f32::NAN }).collect();
    let dups = root.iter().enumerate().filter(|&(i, &r)| r as usize != i).count() as u64;
    Clusters { root, similarity, candidates: dups, verified: dups, accepted: dups }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_normalised_equals() {
        let c = exact_clusters(&["Hello, World!", "other", "hello world", " HELLO   world ", "other."]);
        assert_eq!(c.root, vec![0, 1, 0, 0, 1]);
        assert_eq!(c.largest(), vec![(0, 3), (1, 2)]);
    }
}
