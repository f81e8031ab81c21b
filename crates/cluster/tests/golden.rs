//! Golden tests against scikit-learn / numpy on real MiniLM embeddings of Alpaca records
//! (fixtures made by `tests/golden/cluster/gen_cluster.py`; see that script for the data).
//!
//! Tolerances:
//! - PCA component count: equal. The fixture also records the cumulative ratio just below and
//!   at the cut-off; the test checks the margin to 0.95 is far larger than rounding.
//! - explained_variance_ratio: |Δ| ≤ 1e-9. Both sides are `f64` (sklearn's full SVD of the
//!   centred data vs our covariance + eigh); ratios are O(1e-2) and agree to ~1e-13, so 1e-9
//!   leaves four orders of margin while still catching a wrong denominator (n vs n − 1 does
//!   not change ratios, so explained_variance is checked separately at relative 1e-9).
//! - components: an eigenvector is only determined to ≈ ‖ΔC‖ / gap, where gap is the distance
//!   to the nearest other eigenvalue. With `f64` accumulation ‖ΔC‖ ≲ 1e-13·λ₁, so the allowed
//!   max |Δ| for component c is 1e-7 + 1e-11·λ₁ / gap_c (gaps from the fixture); the sign must
//!   match exactly (positive dot product with sklearn's component), which checks `svd_flip`.
//! - transform: |Δ| ≤ 2e-5. Ours is an `f32` GEMM (384-term dot products of values ≲ 0.1 with
//!   ~6e-8 relative rounding each), sklearn's is `f64`; values are O(0.1–1).
//! - k-means: inertia ≤ sklearn's (random_state 42, n_init "auto") × (1 + 1e-3) on the same
//!   PCA-reduced data (different random streams, so only quality can be compared). One run
//!   against one run is partly luck, so a second test compares distributions: the median of
//!   our default (n_init 3) over seeds 0..9 must not exceed the median of sklearn's single-init
//!   runs over random states 0..19.
//! - facility location: the pick order must equal the `f64` numpy greedy reference for every
//!   step up to the first near-tie, where a near-tie is an absolute gap between the best and
//!   the second-best reference gain below 2e-8. Our gains carry the `f32` rounding of the GEMM
//!   dot products (everything after the dot product is `f64`): measured |Δgain| ≤ 3.8e-9 over
//!   the 50 steps (gains fall from 797 to 4.8e-3; similarities of unit vectors all lie in
//!   [0.9948, 1], so a gain is a sum of small differences), asserted ≤ 1e-8. The smallest
//!   reference gap is 2.3e-7 (step 46), 100× our error, so all 50 picks are compared.

mod common;

use common::*;
use gleaner_cluster::{FacilityParams, KMeansParams, KRule, Pca, PcaTarget, facility_location, kmeans};

fn embeddings() -> (Vec<f32>, usize, usize) {
    let (x, shape) = read_npy_f32(&golden_dir().join("emb.npy"));
    (x, shape[0], shape[1])
}

#[test]
fn pca_matches_sklearn() {
    let g = golden_json();
    let gp = &g["pca"];
    let (x, n, d) = embeddings();
    let pca = Pca::fit(&x, n, d, PcaTarget::Variance(0.95)).unwrap();

    let k = gp["n_components"].as_u64().unwrap() as usize;
    let below = gp["cumsum_at_k_minus_1"].as_f64().unwrap();
    let at = gp["cumsum_at_k"].as_f64().unwrap();
    assert!(below <= 0.95 && at > 0.95 && (0.95 - below).min(at - 0.95) > 1e-9);
    assert_eq!(pca.n_components(), k, "component count");

    let ratio = f64s(&gp["explained_variance_ratio"]);
    let ev = f64s(&gp["explained_variance"]);
    let mut max_ratio = 0.0f64;
    for c in 0..k {
        let dr = (pca.explained_variance_ratio[c] - ratio[c]).abs();
        max_ratio = max_ratio.max(dr);
        assert!(dr <= 1e-9, "ratio {c}: {} vs {}", pca.explained_variance_ratio[c], ratio[c]);
        let de = (pca.explained_variance[c] - ev[c]).abs() / ev[c];
        assert!(de <= 1e-9, "explained_variance {c}: {} vs {}", pca.explained_variance[c], ev[c]);
    }

    let (comps, shape) = read_npy(&golden_dir().join("pca_components.npy"));
    assert_eq!(shape, vec![k, d]);
    let gaps = f64s(&gp["eigen_gap_per_component"]);
    let mut worst = (0.0f64, 0usize);
    for c in 0..k {
        let ours = &pca.components[c * d..(c + 1) * d];
        let theirs = &comps[c * d..(c + 1) * d];
        let dot: f64 = ours.iter().zip(theirs).map(|(a, b)| a * b).sum();
        assert!(dot > 0.0, "component {c}: sign differs from sklearn's svd_flip");
        let diff = ours.iter().zip(theirs).map(|(a, b)| (a - b).abs()).fold(0.0, f64::max);
        let tol = 1e-7 + 1e-11 * ev[0] / gaps[c];
        assert!(diff <= tol, "component {c}: max |diff| {diff:e} > {tol:e} (gap {:e})", gaps[c]);
        if diff > worst.0 {
            worst = (diff, c);
        }
    }

    let (head, hs) = read_npy(&golden_dir().join("pca_transform_head.npy"));
    let rows = hs[0];
    let y = pca.transform(&x[..rows * d], rows).unwrap();
    let mut max_t = 0.0f64;
    for (a, b) in y.iter().zip(&head) {
        max_t = max_t.max((*a as f64 - b).abs());
    }
    assert!(max_t <= 2e-5, "transform max |diff| {max_t:e}");
    eprintln!(
        "PCA: k = {k}; max |Δratio| = {max_ratio:.2e}; worst component |Δ| = {:.2e} (component {}); \
         max |Δtransform| = {max_t:.2e}",
        worst.0, worst.1
    );
}

#[test]
fn kmeans_inertia_not_worse_than_sklearn() {
    let g = golden_json();
    let gk = &g["kmeans"];
    let (x, n, d) = embeddings();
    let (pca, y) = Pca::fit_transform(&x, n, d, PcaTarget::default()).unwrap();
    let k = KRule::CarSqrtHalf.k(n);
    assert_eq!(k as u64, gk["k"].as_u64().unwrap());
    let res = kmeans(&y, n, pca.n_components(), &KMeansParams::new(k)).unwrap();
    let sk = gk["inertia_auto"].as_f64().unwrap();
    let sk10 = gk["inertia_n_init_10"].as_f64().unwrap();
    let seeds = f64s(&gk["inertia_n_init_1_random_states_0_19"]);
    let better = seeds.iter().filter(|&&s| s >= res.inertia).count();
    eprintln!(
        "k-means k = {k}: gleaner inertia {:.4} ({} iterations, n_init {}), sklearn auto {sk:.4}, \
         n_init=10 {sk10:.4}; gleaner ≤ {better}/{} single-init sklearn runs",
        res.inertia,
        res.iterations,
        res.n_init_used,
        seeds.len()
    );
    assert!(res.inertia <= sk * (1.0 + 1e-3), "inertia {} vs sklearn {sk}", res.inertia);
    // the labels and distances are consistent with the inertia
    let s: f64 = res.distance.iter().map(|&v| (v as f64).powi(2)).sum();
    assert!((s - res.inertia).abs() <= 1e-5 * res.inertia);
    assert_eq!(res.labels.len(), n);
    assert!(res.cluster_sizes().iter().all(|&c| c > 0));
}

#[test]
fn kmeans_median_not_worse_than_sklearn() {
    let g = golden_json();
    let mut sk = f64s(&g["kmeans"]["inertia_n_init_1_random_states_0_19"]);
    sk.sort_by(f64::total_cmp);
    let sk_median = (sk[9] + sk[10]) / 2.0;
    let (x, n, d) = embeddings();
    let (pca, y) = Pca::fit_transform(&x, n, d, PcaTarget::default()).unwrap();
    let k = KRule::CarSqrtHalf.k(n);
    let mut ours: Vec<f64> = (0..10u64)
        .map(|seed| {
            let mut p = KMeansParams::new(k);
            p.seed = seed;
            kmeans(&y, n, pca.n_components(), &p).unwrap().inertia
        })
        .collect();
    ours.sort_by(f64::total_cmp);
    let median = (ours[4] + ours[5]) / 2.0;
    eprintln!(
        "k-means medians: gleaner (n_init 3, seeds 0..9) {median:.4} [{:.4} .. {:.4}], \
         sklearn (n_init 1, random states 0..19) {sk_median:.4} [{:.4} .. {:.4}]",
        ours[0], ours[9], sk[0], sk[19]
    );
    assert!(median <= sk_median, "median inertia {median} vs sklearn {sk_median}");
}

#[test]
fn facility_matches_numpy_greedy() {
    let g = golden_json();
    let gf = &g["facility"];
    let (x, _, d) = embeddings();
    let rows = gf["rows"].as_u64().unwrap() as usize;
    let budget = gf["budget"].as_u64().unwrap() as usize;
    let want: Vec<usize> = gf["picks"].as_array().unwrap().iter().map(|v| v.as_u64().unwrap() as usize).collect();
    let gains = f64s(&gf["gains"]);
    let gap = f64s(&gf["gap_rel"]);

    let res = facility_location(&x[..rows * d], rows, d, &FacilityParams::new(budget)).unwrap();
    // absolute gap between the best and the second-best gain at each reference step
    let gap_abs: Vec<f64> = gap.iter().zip(&gains).map(|(r, g)| r * g).collect();
    let upto = gap_abs.iter().position(|&g| g < 2e-8).unwrap_or(budget);
    assert!(upto >= 40, "the fixture has a near-tie at step {upto}; regenerate or review");
    assert_eq!(res.picks[..upto], want[..upto], "pick order");
    let mut max_abs = 0.0f64;
    for (s, (ours, theirs)) in res.gains.iter().zip(&gains).take(upto).enumerate() {
        let err = (ours - theirs).abs();
        max_abs = max_abs.max(err);
        assert!(err <= 1e-8, "gain {s}: {ours} vs {theirs}");
    }
    let min_gap = gap_abs.iter().cloned().fold(f64::INFINITY, f64::min);
    eprintln!(
        "facility: {upto}/{budget} picks compared, max |Δgain| {max_abs:.2e}, \
         smallest reference gap {min_gap:.2e}, {} column evaluations",
        res.evaluations
    );
}
