//! Sharding without a cluster (Slurm arrays, plain loops): `--shard I/N` scores the I-th of N
//! contiguous row ranges into its own side file, and `gleaner merge` joins the shards into the
//! file one run would have written.

use serde::{Deserialize, Serialize};
use std::ops::Range;

/// The I-th of N contiguous row ranges, numbered from 1 like `split -n K/N`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// 1-based shard number.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
}

impl Shard {
    /// Parses `I/N` with `1 <= I <= N`.
    pub fn parse(s: &str) -> Result<Shard, String> {
        let (i, n) = s.split_once('/').ok_or_else(|| format!("`{s}` is not I/N (for example 2/8)"))?;
        let num = |x: &str| x.trim().parse::<usize>().map_err(|_| format!("`{s}` is not I/N: `{x}` is not a number"));
        let (index, count) = (num(i)?, num(n)?);
        if count == 0 || index == 0 || index > count {
            return Err(format!(
                "`{s}`: shards are numbered 1 to N (like `split -n K/N`), so I must be in 1..={count}"
            ));
        }
        Ok(Shard { index, count })
    }

    /// The rows of this shard among `rows`: `[(I-1)·rows/N, I·rows/N)`, so the N ranges are
    /// contiguous, cover every row once, and differ in size by at most one.
    pub fn range(&self, rows: usize) -> Range<usize> {
        let at = |k: usize| (k as u128 * rows as u128 / self.count as u128) as usize;
        at(self.index - 1)..at(self.index)
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

/// What a shard's side file records about the whole input, so that a merge can check that
/// its shards come from one input and one set of settings and fit together exactly.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ShardOf {
    /// 1-based shard number.
    pub index: usize,
    /// Number of shards.
    pub count: usize,
    /// Rows of the whole input.
    pub rows: usize,
    /// Digest of the whole input's row ids ([`crate::rowid::ids_digest`]).
    pub input: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_cover_every_row_once() {
        for rows in [0usize, 1, 2, 7, 999, 1000] {
            for count in 1..=9 {
                let mut next = 0;
                for index in 1..=count {
                    let r = Shard { index, count }.range(rows);
                    assert_eq!(r.start, next);
                    assert!(r.len() <= rows / count + 1);
                    next = r.end;
                }
                assert_eq!(next, rows);
            }
        }
    }

    #[test]
    fn parse_is_one_based() {
        assert_eq!(Shard::parse("2/8").unwrap(), Shard { index: 2, count: 8 });
        assert_eq!(Shard::parse("8/8").unwrap().to_string(), "8/8");
        for bad in ["0/4", "5/4", "1/0", "x/2", "3"] {
            assert!(Shard::parse(bad).is_err(), "{bad}");
        }
    }
}
