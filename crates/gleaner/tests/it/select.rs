//! Selection rules reproduce the published selections.

use crate::util::*;
use gleaner_read::{ReadOptions, read};
use serde_json::{Value, json};

/// A deterministic shuffle (xorshift), so input order differs from the released order.
fn shuffle<T>(v: &mut [T], mut seed: u64) {
    for i in (1..v.len()).rev() {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        v.swap(i, (seed % (i as u64 + 1)) as usize);
    }
}

#[test]
fn car_selection_reproduces_the_released_1013_in_order() {
    let released: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(data("alpaca-selections/car_selected_1013.json")).unwrap())
            .unwrap();
    // Pool = the released rows shuffled, plus 500 decoys from another file that score below
    // everything and sit in existing clusters, so they must never be chosen.
    let mut pool = released.clone();
    let decoys: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(data("alpaca-selections/cherry_ifd_top6pct_3111.json")).unwrap())
            .unwrap();
    for (k, mut d) in decoys.into_iter().take(500).enumerate() {
        d["score"] = json!(0.1 + k as f64 * 1e-4);
        d["label"] = released[k % released.len()]["label"].clone();
        pool.push(d);
    }
    shuffle(&mut pool, 0x9e3779b97f4a7c15);
    let dir = tmp();
    let input = dir.path().join("pool.json");
    std::fs::write(&input, serde_json::to_string(&pool).unwrap()).unwrap();
    let out = dir.path().join("car.json");
    let log =
        gleaner(&["select", "car", input.to_str().unwrap(), "-o", out.to_str().unwrap(), "--n1", "1000", "--n2", "1"]);
    assert!(log.status.success(), "{}", String::from_utf8_lossy(&log.stderr));
    let got = read(&out, &ReadOptions::default()).unwrap();
    let want = read(&data("alpaca-selections/car_selected_1013.json"), &ReadOptions::default()).unwrap();
    assert_eq!(got.len(), 1013);
    for (i, (a, b)) in got.records_in_memory().unwrap().iter().zip(want.records_in_memory().unwrap()).enumerate() {
        assert_eq!(a.fields, b.fields, "record {i} differs");
    }
    let summary = String::from_utf8_lossy(&log.stderr);
    let count = |label: &str| {
        summary.lines().find(|l| l.contains(label)).and_then(|l| l.split_whitespace().last()).map(str::to_string)
    };
    assert_eq!(count("kept as top-n1 by score").as_deref(), Some("1000"), "{summary}");
    assert_eq!(count("kept as cluster pick").as_deref(), Some("13"), "{summary}");
    assert_eq!(count("dropped:").as_deref(), Some("500"), "the 500 decoys: {summary}");
}

#[test]
fn car_n2_and_budget_options() {
    let src = data("alpaca-selections/car_selected_1013.json");
    let dir = tmp();
    let out = dir.path().join("o.jsonl");
    let log =
        gleaner(&["select", "car", src.to_str().unwrap(), "-o", out.to_str().unwrap(), "--budget", "100", "--n2", "2"]);
    assert!(log.status.success());
    let got = read(&out, &ReadOptions::default()).unwrap();
    // 100 by score, then up to 2 per cluster (161 clusters) not already kept.
    assert!(got.len() > 161 && got.len() <= 100 + 2 * 161, "{}", got.len());
    let labels: std::collections::HashSet<String> =
        got.records_in_memory().unwrap().iter().map(|r| r.fields["label"].as_str().unwrap().to_string()).collect();
    assert_eq!(labels.len(), 161);
}
