//! `LshParams` against datasketch 2.0.0 (golden fixture from tests/golden/gen_datasketch_lsh.py):
//! the bands × rows datasketch's `MinHashLSH` derives, its false-positive / false-negative
//! areas (scipy `quad`; ours is Simpson with 1000 intervals: agreement to 1e-7 is expected for
//! these smooth integrands) and the S-curve.

use gleaner_dedup::LshParams;

#[test]
fn matches_datasketch_parameters_areas_and_s_curve() {
    let text = include_str!("golden/datasketch_lsh.json");
    let v: serde_json::Value = serde_json::from_str(text).unwrap();
    let cases = v["cases"].as_array().unwrap();
    assert!(cases.len() >= 50);
    for c in cases {
        let t = c["threshold"].as_f64().unwrap();
        let perms = c["num_perm"].as_u64().unwrap() as usize;
        let (wfp, wfn) = (c["fp_weight"].as_f64().unwrap(), c["fn_weight"].as_f64().unwrap());
        let want = LshParams { bands: c["b"].as_u64().unwrap() as usize, rows: c["r"].as_u64().unwrap() as usize };
        assert_eq!(
            LshParams::datasketch(t, perms, wfp, wfn),
            want,
            "threshold {t}, {perms} perms, weights {wfp}/{wfn}"
        );
        assert!((want.false_positive_area(t) - c["fp_area"].as_f64().unwrap()).abs() < 1e-7);
        assert!((want.false_negative_area(t) - c["fn_area"].as_f64().unwrap()).abs() < 1e-7);
        for (got, p) in want.s_curve().iter().zip(c["s_curve"].as_array().unwrap()) {
            assert!((got.0 - p[0].as_f64().unwrap()).abs() < 1e-9);
            assert!((got.1 - p[1].as_f64().unwrap()).abs() < 1e-12, "{t} {perms}: {got:?} vs {p}");
        }
    }
}
