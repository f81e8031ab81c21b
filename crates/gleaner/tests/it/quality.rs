//! `gleaner train quality` → a model file → `gleaner score quality`, on real expert-revised
//! pairs (a small slice, so the LM recipe runs in seconds), for both embedder kinds.

use crate::util::{data, fails, gleaner, ok, tmp};
use std::path::Path;

/// Writes `pairs` as CaR's `src,score` CSV (worse row 0, better row 1).
fn write_csv(path: &Path, pairs: &[gleaner_quality::Pair]) {
    let mut s = String::from("src,score\n");
    for p in pairs {
        for (r, score) in [(&p.worse, 0), (&p.better, 1)] {
            let src = gleaner_quality::text::car_layout(r.instruction(), &r.input, r.output());
            s.push_str(&format!("\"{}\",{score}\n", src.replace('"', "\"\"")));
        }
    }
    std::fs::write(path, s).unwrap();
}

#[test]
fn train_quality_writes_a_model_that_score_quality_loads_for_both_embedder_kinds() {
    let dir = tmp();
    let pairs = gleaner_quality::read_pairs_csv(&data("expert-revised/APE_score_train.csv")).unwrap();
    let (train, valid) = (dir.path().join("train.csv"), dir.path().join("valid.csv"));
    write_csv(&train, &pairs[..24]);
    write_csv(&valid, &pairs[24..34]);
    let input = data("sample/alpaca_en_demo.json");
    for (kind, extra) in
        [("lm", &["--lm-layers", "1"][..]), ("minilm", &["--embedder", "all-MiniLM-L6-v2", "--lm-layers", "0"])]
    {
        let model = dir.path().join(format!("{kind}.json"));
        let mut args = vec!["train", "quality", "--train", train.to_str().unwrap(), "--valid", valid.to_str().unwrap()];
        args.extend(["-o", model.to_str().unwrap(), "--folds", "2", "--lambda", "10,100"]);
        args.extend(extra);
        let o = gleaner(&args);
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(o.status.success(), "{kind}: {err}");
        assert!(err.contains("valid pairwise accuracy") && err.contains("(10 pairs"), "{kind}: {err}");
        let m: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&model).unwrap()).unwrap();
        assert_eq!(m["training"]["pairs"], 24);
        match kind {
            "lm" => {
                assert_eq!((m["embedder"]["lm_layers"].as_u64(), m["embedder"]["dim"].as_u64()), (Some(1), Some(576)));
                assert!(err.contains("after block 1 of SmolLM2-135M-Instruct"), "{err}");
            }
            _ => assert!(m["embedder"].get("lm_layers").is_none() && m["embedder"]["dim"] == 384, "{m}"),
        }
        let scores = dir.path().join(format!("{kind}.jsonl"));
        let args = ["score", "quality", input.to_str().unwrap(), "--limit", "12", "--model", model.to_str().unwrap()];
        ok(&[&args[..], &["-o", scores.to_str().unwrap()]].concat());
        let rows: Vec<serde_json::Value> =
            std::fs::read_to_string(&scores).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        assert_eq!(rows.len(), 12, "{kind}");
        assert!(rows.iter().all(|r| r["quality"].as_f64().is_some_and(f64::is_finite)), "{kind}: {rows:?}");
    }
    let err = fails(&["train", "quality", "--train", train.to_str().unwrap(), "-o", "x.json", "--views", "nope"]);
    assert!(err.contains("unknown view `nope`"), "{err}");
}
