//! Shingles: the set of n-grams of a normalised text, each hashed to 32 bits.
//!
//! Words are the units by default (split on spaces after [`crate::normalize`]); CJK text, which
//! has no spaces between words, uses characters. A text with fewer than `n` units gives one
//! shingle of all its units, so short texts still compare; an empty text gives the empty set.
//!
//! Default: word 5-grams. Shorter n-grams (1–3) make unrelated texts share many shingles
//! ("of the", "in a"), raising Jaccard between distinct records; longer ones make one edited
//! word break up to n shingles, so near-copies fall below the threshold. 5 is the common
//! choice of the near-duplicate literature (Lee et al. 2022, the Pile, RefinedWeb, text-dedup)
//! and keeps single-sentence Alpaca prompts (10–20 words) meaningful.

use crate::normalize::{mostly_cjk, normalize};
use xxhash_rust::xxh3::xxh3_64;

/// The default n-gram size.
pub const DEFAULT_NGRAM: usize = 5;

/// The unit of an n-gram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Unit {
    /// Words, except characters for text that is mostly CJK.
    #[default]
    Auto,
    /// Words (space-separated after normalisation).
    Word,
    /// Characters (spaces removed): for CJK text.
    Char,
}

impl Unit {
    /// The name as written on the command line and in recipes.
    pub fn name(self) -> &'static str {
        match self {
            Unit::Auto => "auto",
            Unit::Word => "word",
            Unit::Char => "char",
        }
    }

    /// Parses a name.
    pub fn parse(s: &str) -> Option<Unit> {
        Some(match s {
            "auto" => Unit::Auto,
            "word" => Unit::Word,
            "char" => Unit::Char,
            _ => return None,
        })
    }
}

/// How shingles are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shingler {
    /// Units per shingle.
    pub n: usize,
    /// The unit.
    pub unit: Unit,
}

impl Default for Shingler {
    fn default() -> Self {
        Shingler { n: DEFAULT_NGRAM, unit: Unit::Auto }
    }
}

impl Shingler {
    /// The sorted, de-duplicated shingle hashes of `text` (normalised first).
    pub fn shingles(&self, text: &str) -> Vec<u32> {
        self.shingles_normalized(&normalize(text))
    }

    /// [`Shingler::shingles`] of text that is already normalised.
    pub fn shingles_normalized(&self, norm: &str) -> Vec<u32> {
        let chars = match self.unit {
            Unit::Char => true,
            Unit::Word => false,
            Unit::Auto => mostly_cjk(norm),
        };
        let n = self.n.max(1);
        let mut out = Vec::new();
        if chars {
            let cs: Vec<char> = norm.chars().filter(|c| *c != ' ').collect();
            let mut buf = String::new();
            for w in cs.windows(n.min(cs.len().max(1))) {
                buf.clear();
                buf.extend(w);
                out.push(hash32(buf.as_bytes()));
            }
        } else {
            let ws: Vec<&str> = norm.split(' ').filter(|w| !w.is_empty()).collect();
            let mut buf = String::new();
            for w in ws.windows(n.min(ws.len().max(1))) {
                buf.clear();
                for (i, t) in w.iter().enumerate() {
                    if i > 0 {
                        buf.push('\u{1f}');
                    }
                    buf.push_str(t);
                }
                out.push(hash32(buf.as_bytes()));
            }
        }
        out.sort_unstable();
        out.dedup();
        out
    }
}

fn hash32(b: &[u8]) -> u32 {
    let h = xxh3_64(b);
    (h ^ (h >> 32)) as u32
}

/// Exact Jaccard similarity of two sorted, de-duplicated sets (1 for two empty sets).
pub fn jaccard(a: &[u32], b: &[u32]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut inter) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                inter += 1;
                i += 1;
                j += 1;
            }
        }
    }
    inter as f64 / (a.len() + b.len() - inter) as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_and_char_shingles() {
        let s = Shingler { n: 2, unit: Unit::Word };
        assert_eq!(s.shingles("a b c").len(), 2);
        assert_eq!(s.shingles("A, b").len(), 1);
        assert_eq!(s.shingles("a").len(), 1);
        assert!(s.shingles("").is_empty());
        let c = Shingler { n: 2, unit: Unit::Auto };
        assert_eq!(c.shingles("你好世界").len(), 3);
        assert_eq!(c.shingles("hello big world").len(), 2);
    }

    #[test]
    fn jaccard_counts() {
        assert_eq!(jaccard(&[1, 2, 3], &[2, 3, 4]), 0.5);
        assert_eq!(jaccard(&[], &[]), 1.0);
        assert_eq!(jaccard(&[1], &[]), 0.0);
        let s = Shingler::default();
        let a = s.shingles("the quick brown fox jumps over the lazy dog today");
        assert_eq!(jaccard(&a, &s.shingles("The quick  brown fox jumps over the lazy dog, today!")), 1.0);
    }
}
