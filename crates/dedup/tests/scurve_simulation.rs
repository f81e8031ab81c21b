//! The S-curve `--explain` prints, `P(s) = 1 − (1 − s^r)^b`, against a simulation with
//! gleaner's own hash family: pairs of shingle sets with exact Jaccard `s` are signed and
//! bucketed, and the fraction that share a band is compared with the formula.

use gleaner_dedup::lsh::band_key;
use gleaner_dedup::{LshParams, MinHasher, NearOptions};

/// A SplitMix64 step: shingle values look like the 32-bit hashes real shingles get.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Two sets of 32-bit "shingles" (hash-like values, distinct per trial) with |A ∪ B| = `union`
/// and Jaccard `inter/union`.
fn pair(trial: u64, union: u32, inter: u32) -> (Vec<u32>, Vec<u32>) {
    let mut ids: Vec<u32> = (0..union).map(|i| mix(trial << 32 | u64::from(i)) as u32).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), union as usize);
    // shuffle deterministically so that A's and B's parts are not ordered by value
    ids.sort_by_key(|&v| mix(u64::from(v) ^ trial));
    let rest = union - inter;
    let a: Vec<u32> = ids[..(inter + rest / 2) as usize].to_vec();
    let mut b: Vec<u32> = ids[..inter as usize].to_vec();
    b.extend_from_slice(&ids[(inter + rest / 2) as usize..]);
    (a, b)
}

#[test]
fn s_curve_matches_simulation() {
    let perms = 128;
    let trials = 2000u64;
    for threshold in [0.8, 0.6] {
        let o = NearOptions::new(threshold, perms);
        let LshParams { bands, rows } = o.lsh;
        for (s, p) in o.lsh.s_curve() {
            let union = 200u32;
            let inter = (s * f64::from(union)).round() as u32;
            let exact = f64::from(inter) / f64::from(union);
            let hits = (0..trials)
                .filter(|&t| {
                    let h = MinHasher::new(perms, 1000 + t);
                    let (a, b) = pair(t, union, inter);
                    let (sa, sb) = (h.signature(&a), h.signature(&b));
                    (0..bands).any(|k| band_key(&sa, k, rows) == band_key(&sb, k, rows))
                })
                .count();
            let sim = hits as f64 / trials as f64;
            let want = LshParams { bands, rows }.probability(exact);
            let sd = (want * (1.0 - want) / trials as f64).sqrt();
            assert!(
                (sim - want).abs() <= 4.0 * sd + 0.005,
                "threshold {threshold}, Jaccard {s}: simulated {sim}, formula {want} (sd {sd}); printed {p}"
            );
        }
    }
}
