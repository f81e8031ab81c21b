//! MinHash signatures.
//!
//! Permutation `i` maps a 32-bit shingle hash `x` to `((a_i·x + b_i) mod p) mod 2³²` with the
//! Mersenne prime `p = 2⁶¹ − 1` and `a_i ∈ [1, p)`, `b_i ∈ [0, p)` drawn from a seeded
//! SplitMix64 stream: the universal family datasketch uses. A signature is the minimum of each
//! permutation over the shingles: `perms × 4` bytes per row. `P(sig_a[i] = sig_b[i]) = J(a, b)`.
//!
//! Default: 128 permutations. Candidates are verified by exact Jaccard, so the permutation
//! count only sharpens the S-curve (recall near the threshold) and does not set precision; 128
//! is datasketch's default, keeps a signature at 512 bytes, and lets the derived bands reach
//! P(candidate) ≥ 0.99 at the threshold (see [`crate::lsh`]).

use rayon::prelude::*;

/// The default number of permutations.
pub const DEFAULT_PERMS: usize = 128;
/// The default seed of the permutations.
pub const DEFAULT_SEED: u64 = 1;

const MERSENNE: u64 = (1 << 61) - 1;

/// The permutation family: `perms` pairs `(a, b)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MinHasher {
    a: Vec<u64>,
    b: Vec<u64>,
    seed: u64,
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[inline]
fn mod_mersenne(v: u128) -> u64 {
    let m = MERSENNE as u128;
    let mut r = (v & m) + (v >> 61);
    r = (r & m) + (r >> 61);
    let mut r = r as u64;
    if r >= MERSENNE {
        r -= MERSENNE;
    }
    r
}

impl MinHasher {
    /// `perms` permutations from `seed`.
    pub fn new(perms: usize, seed: u64) -> MinHasher {
        let mut s = seed;
        let mut a = Vec::with_capacity(perms);
        let mut b = Vec::with_capacity(perms);
        for _ in 0..perms {
            a.push(1 + splitmix(&mut s) % (MERSENNE - 1));
            b.push(splitmix(&mut s) % MERSENNE);
        }
        MinHasher { a, b, seed }
    }

    /// The number of permutations.
    pub fn perms(&self) -> usize {
        self.a.len()
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Writes the signature of `shingles` into `out` (`perms` values); all `u32::MAX` for the
    /// empty set.
    pub fn signature_into(&self, shingles: &[u32], out: &mut [u32]) {
        out.fill(u32::MAX);
        for &x in shingles {
            let x = u128::from(x);
            for ((o, &a), &b) in out.iter_mut().zip(&self.a).zip(&self.b) {
                let h = (mod_mersenne(u128::from(a) * x + u128::from(b)) & 0xFFFF_FFFF) as u32;
                if h < *o {
                    *o = h;
                }
            }
        }
    }

    /// The signature of `shingles`.
    pub fn signature(&self, shingles: &[u32]) -> Vec<u32> {
        let mut out = vec![0; self.perms()];
        self.signature_into(shingles, &mut out);
        out
    }

    /// Signatures of many texts in parallel, flattened row-major (`rows × perms`); each text's
    /// shingle set is made, hashed and dropped, so only the signatures stay in memory.
    pub fn signatures_of_texts(&self, texts: &[String], shingler: &crate::Shingler) -> Vec<u32> {
        let p = self.perms();
        let mut out = vec![0u32; texts.len() * p];
        if p > 0 {
            out.par_chunks_mut(p)
                .zip(texts.par_iter())
                .for_each(|(o, t)| self.signature_into(&shingler.shingles(t), o));
        }
        out
    }

    /// Signatures of many shingle sets in parallel, flattened row-major (`rows × perms`).
    pub fn signatures(&self, sets: &[Vec<u32>]) -> Vec<u32> {
        let p = self.perms();
        let mut out = vec![0u32; sets.len() * p];
        if p > 0 {
            out.par_chunks_mut(p).zip(sets.par_iter()).for_each(|(o, s)| self.signature_into(s, o));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mersenne_reduction_matches_naive() {
        for v in [0u128, 1, MERSENNE as u128, (MERSENNE as u128) * 7 + 5, u128::from(u64::MAX) * u128::from(u32::MAX)] {
            assert_eq!(u128::from(mod_mersenne(v)), v % MERSENNE as u128);
        }
    }

    #[test]
    fn equal_sets_equal_signatures_and_estimate_tracks_jaccard() {
        let h = MinHasher::new(256, 7);
        let a: Vec<u32> = (0..200).collect();
        let b: Vec<u32> = (100..300).collect(); // J = 100/300
        assert_eq!(h.signature(&a), h.signature(&a.clone()));
        let (sa, sb) = (h.signature(&a), h.signature(&b));
        let est = sa.iter().zip(&sb).filter(|(x, y)| x == y).count() as f64 / 256.0;
        // binomial sd at p = 1/3, n = 256 is 0.029: 4 sd
        assert!((est - 1.0 / 3.0).abs() < 0.12, "estimate {est}");
    }
}
