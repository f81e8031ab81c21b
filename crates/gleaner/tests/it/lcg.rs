//! `gleaner run lcg` on the bundled real sample, with both classifiers.

use crate::util::{data, gleaner, tmp};

/// The number ending the first stderr line that contains `label`.
fn count_on_line(err: &str, label: &str) -> Option<usize> {
    err.lines().find(|l| l.contains(label)).and_then(|l| l.split_whitespace().last()).and_then(|n| n.parse().ok())
}

fn kept_as(err: &str, reason: &str) -> usize {
    count_on_line(err, &format!("kept as {reason}")).unwrap_or(0)
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

/// The count after `label` on the stderr line that contains it (which must exist).
fn count_after(err: &str, label: &str) -> usize {
    count_on_line(err, label).unwrap_or_else(|| panic!("no `{label}` line in:\n{err}"))
}

#[test]
fn lcg_with_pseudo_labels_from_a_file_writes_its_seeds_then_the_least_confident_pool_rows() {
    // Pool: LCG's released NB selection (its first 160 rows are the 4 nearest of each of the
    // 40 clusters of LCG's labelled file, the rest its low-confidence picks). Labels: that
    // labelled file (1,600 rows, field `cluster`).
    let dir = tmp();
    let pool = data("alpaca-selections/lcg_multinomialnb_1k.json");
    let labelled = data("alpaca-selections/lcg_centroid_train_1600.json");
    let out = dir.path().join("lcg.json");
    let args = [
        "run",
        "lcg",
        pool.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--pseudo-labels",
        labelled.to_str().unwrap(),
        "--budget",
        "300",
        "--seeds",
        "4",
    ];
    let o = gleaner(&args);
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert!(o.status.success(), "{err}");
    let read = |p: &std::path::Path| -> Vec<serde_json::Value> {
        serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
    };
    let (kept, pool_rows, train) = (read(&out), read(&pool), read(&labelled));
    assert_eq!(kept.len(), 300);
    // seeds: the first 4 rows of each cluster of the labelled file, cluster by cluster
    let key = |r: &serde_json::Value| (r["instruction"].to_string(), r["input"].to_string());
    let mut want = Vec::new();
    let mut clusters: Vec<i64> = train.iter().map(|r| r["cluster"].as_i64().unwrap()).collect();
    clusters.sort_unstable();
    clusters.dedup();
    for c in clusters {
        want.extend(train.iter().filter(|r| r["cluster"].as_i64() == Some(c)).take(4).map(key));
    }
    assert_eq!(want.len(), 160);
    assert_eq!(kept[..160].iter().map(key).collect::<Vec<_>>(), want);
    // ... which are LCG's own first 160 rows, position by position
    assert_eq!(&kept[..160], &pool_rows[..160]);
    // picks: pool rows whose instruction+input is not in the labelled file, each at most once
    let known: std::collections::HashSet<_> = train.iter().map(key).collect();
    let mut seen = std::collections::HashSet::new();
    for r in &kept[160..] {
        assert!(!known.contains(&key(r)), "a labelled row was picked from the pool: {r}");
        assert!(pool_rows.contains(r), "a pick is not a pool row: {r}");
        assert!(seen.insert(r.to_string()), "picked twice: {r}");
    }
    // every pool row is accounted for exactly once
    let seeds = count_after(&err, "kept as seed (pool row)");
    let picks = count_after(&err, "kept as low confidence");
    let overlap = count_after(&err, "same instruction+input as a labelled row");
    let budget = count_after(&err, "not low-confidence enough");
    assert_eq!((seeds, picks), (160, 140), "{err}");
    assert_eq!(seeds + picks + overlap + budget, pool_rows.len(), "{err}");
    // the same counts in the work directory's summary.json; the lock is gone
    let work = dir.path().join("lcg.json.gleaner");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(work.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["rows_in"].as_u64(), Some(pool_rows.len() as u64));
    let dropped: u64 = summary["dropped"].as_array().unwrap().iter().map(|d| d["rows"].as_u64().unwrap()).sum();
    assert_eq!(dropped as usize, overlap + budget);
    assert!(std::fs::read_dir(&work).unwrap().all(|e| !e.unwrap().file_name().to_string_lossy().ends_with(".lock")));
}
