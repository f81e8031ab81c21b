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
    /// The low and high 32 bits of each `a` (see [`permute`]).
    a_lo: Vec<u32>,
    a_hi: Vec<u32>,
}

/// `((a·x + b) mod p) mod 2³²` for `a = a_hi·2³² + a_lo < p` and a 32-bit `x`, in 64-bit
/// arithmetic only: both products are 32 × 32 → 64-bit multiplies, which the compiler turns
/// into SIMD (`pmuludq`) across permutations, where a 128-bit product would stay scalar. Since
/// `2⁶¹ ≡ 1 (mod p)`, `v ≡ (v mod 2⁶¹) + ⌊v / 2⁶¹⌋`, and `h·2³² ≡ (h mod 2²⁹)·2³² + ⌊h / 2²⁹⌋`.
/// The sum stays below 2⁶³; one fold and one conditional subtraction reduce it to `[0, p)`, so
/// the value is the exact residue (the unit test checks it against 128-bit arithmetic).
#[inline(always)]
fn permute(a_lo: u32, a_hi: u32, b: u64, x: u32) -> u32 {
    const M29: u64 = (1 << 29) - 1;
    let lo = u64::from(a_lo) * u64::from(x);
    let hi = u64::from(a_hi) * u64::from(x);
    let s = (lo & MERSENNE) + (lo >> 61) + ((hi & M29) << 32) + (hi >> 29) + b;
    let r = (s & MERSENNE) + (s >> 61);
    (if r >= MERSENNE { r - MERSENNE } else { r }) as u32
}

/// The signature loop; inlined into a baseline and an AVX2 build of [`MinHasher::signature_into`].
#[inline(always)]
fn signature_loop(a_lo: &[u32], a_hi: &[u32], b: &[u64], shingles: &[u32], out: &mut [u32]) {
    out.fill(u32::MAX);
    let n = out.len().min(a_lo.len()).min(a_hi.len()).min(b.len());
    let (out, a_lo, a_hi, b) = (&mut out[..n], &a_lo[..n], &a_hi[..n], &b[..n]);
    for &x in shingles {
        for i in 0..n {
            out[i] = out[i].min(permute(a_lo[i], a_hi[i], b[i], x));
        }
    }
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn signature_loop_avx2(a_lo: &[u32], a_hi: &[u32], b: &[u64], shingles: &[u32], out: &mut [u32]) {
    signature_loop(a_lo, a_hi, b, shingles, out)
}

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The 128-bit reduction the tests check [`permute`] against.
#[cfg(test)]
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
        let a_lo = a.iter().map(|&v| v as u32).collect();
        let a_hi = a.iter().map(|&v| (v >> 32) as u32).collect();
        MinHasher { a, b, seed, a_lo, a_hi }
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
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: the CPU has AVX2 (checked above).
            unsafe { signature_loop_avx2(&self.a_lo, &self.a_hi, &self.b, shingles, out) };
            return;
        }
        signature_loop(&self.a_lo, &self.a_hi, &self.b, shingles, out)
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
    fn the_64_bit_permutation_is_the_exact_residue() {
        let reference =
            |a: u64, b: u64, x: u32| (mod_mersenne(u128::from(a) * u128::from(x) + u128::from(b)) & 0xFFFF_FFFF) as u32;
        let mut s = 99u64;
        let mut cases: Vec<(u64, u64, u32)> = vec![
            (MERSENNE - 1, MERSENNE - 1, u32::MAX),
            (1, 0, 0),
            (1, MERSENNE - 1, 1),
            ((1 << 61) - 2, 0, u32::MAX),
            (u64::from(u32::MAX), MERSENNE - 1, u32::MAX),
        ];
        for _ in 0..200_000 {
            let a = 1 + splitmix(&mut s) % (MERSENNE - 1);
            let b = splitmix(&mut s) % MERSENNE;
            cases.push((a, b, splitmix(&mut s) as u32));
        }
        for (a, b, x) in cases {
            assert_eq!(permute(a as u32, (a >> 32) as u32, b, x), reference(a, b, x), "a={a} b={b} x={x}");
        }
        // and whole signatures, through the dispatching entry point
        let h = MinHasher::new(128, 3);
        let set: Vec<u32> = (0..500).map(|i| (i as u32).wrapping_mul(2_654_435_761)).collect();
        let want: Vec<u32> =
            (0..128).map(|i| set.iter().map(|&x| reference(h.a[i], h.b[i], x)).min().unwrap()).collect();
        assert_eq!(h.signature(&set), want);
    }

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
