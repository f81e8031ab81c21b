//! `gleaner run lcg` on the bundled real sample, with both classifiers.

use crate::util::{data, gleaner, tmp};

fn kept_as(err: &str, reason: &str) -> usize {
    err.lines()
        .find(|l| l.contains(&format!("kept as {reason}")))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

#[test]
fn lcg_seeds_first_then_low_confidence_and_a_saved_classifier_reproduces_the_run() {
    let dir = tmp();
    let input = data("sample/alpaca_en_demo.json");
    let out = dir.path().join("lcg.json");
    let model = dir.path().join("nb.json");
    let args = |out: &std::path::Path, extra: &[&str]| -> Vec<String> {
        let mut v: Vec<String> = [
            "run",
            "lcg",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--k",
            "10",
            "--pseudo",
            "20",
            "--budget",
            "300",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        v.extend(extra.iter().map(|s| s.to_string()));
        v
    };
    let a = args(&out, &["--save-classifier", model.to_str().unwrap()]);
    let o = gleaner(&a.iter().map(String::as_str).collect::<Vec<_>>());
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{err}");
    assert_eq!(kept_as(&err, "centroid seed"), 40, "{err}");
    assert_eq!(kept_as(&err, "low confidence"), 260, "{err}");
    let kept: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(kept.len(), 300);
    // No row chosen twice: no content appears more often than in the input (the sample has
    // a few exact duplicates).
    let all: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(&input).unwrap()).unwrap();
    let mut budget = std::collections::HashMap::new();
    for r in &all {
        *budget.entry(r.to_string()).or_insert(0i32) += 1;
    }
    for r in &kept {
        let n = budget.get_mut(&r.to_string()).expect("output row is an input row");
        *n -= 1;
        assert!(*n >= 0, "a row was chosen twice: {r}");
    }
    let head = std::fs::read_to_string(&model).unwrap();
    assert!(head.contains("gleaner-classifier") && head.contains("multinomial"), "saved classifier header");

    // Loading the saved classifier gives the same selection.
    let out2 = dir.path().join("lcg2.json");
    let b = args(&out2, &["--load-classifier", model.to_str().unwrap()]);
    let o = gleaner(&b.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(std::fs::read(&out).unwrap(), std::fs::read(&out2).unwrap());
}

#[test]
fn lcg_neural_head_runs_and_accounts_for_rows() {
    let dir = tmp();
    let input = data("sample/alpaca_en_demo.json");
    let out = dir.path().join("lcg.jsonl");
    let o = gleaner(&[
        "run",
        "lcg",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--classifier",
        "neural",
        "--k",
        "8",
        "--budget",
        "100",
    ]);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{err}");
    let n = std::fs::read_to_string(&out).unwrap().lines().count();
    assert_eq!(n, 100);
    assert_eq!(kept_as(&err, "centroid seed") + kept_as(&err, "low confidence"), 100, "{err}");
}
