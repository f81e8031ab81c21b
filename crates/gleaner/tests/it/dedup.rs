//! `gleaner dedup`: the S-curve it explains, counts that add up on the injected-duplicate
//! corpus, the side file, decontamination against an evaluation set, the sharded path, and
//! clear errors.

use crate::util::{data, fails, gleaner, ok, tmp};

#[test]
fn explain_prints_the_derived_bands_and_the_s_curve() {
    let out = ok(&["dedup", "--explain"]);
    assert!(out.contains("16 bands × 6 rows"), "{out}");
    // P(0.80) = 1 - (1 - 0.8^6)^16
    let want = 1.0 - (1.0 - 0.8f64.powi(6)).powi(16);
    let line = out.lines().find(|l| l.trim_start().starts_with("0.80")).unwrap();
    let got: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!((got - want).abs() < 1e-6, "{line}");
    assert_eq!(out.lines().filter(|l| l.trim_start().starts_with(['0', '1'])).count(), 11);
    let low = ok(&["dedup", "--explain", "--threshold", "0.6"]);
    assert!(low.contains("19 bands × 3 rows"), "{low}");
}

#[test]
fn dedup_corpus_counts_add_up_and_side_file_is_written() {
    let dir = tmp();
    let out = dir.path().join("out.jsonl");
    let o = gleaner(&["dedup", data("dedup/corpus.json").to_str().unwrap(), "-o", out.to_str().unwrap()]);
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    let kept = std::fs::read_to_string(&out).unwrap().lines().count();
    let dropped: usize = err
        .lines()
        .filter(|l| l.trim_start().starts_with("dropped:"))
        .map(|l| l.split_whitespace().last().unwrap().parse::<usize>().unwrap())
        .sum();
    assert_eq!(kept + dropped, 1900, "{err}");
    assert!(dropped > 300, "{err}");
    assert!(err.contains("cluster of"), "the report lists the largest clusters:\n{err}");
    assert!(dir.path().join("out.jsonl.gleaner/dedup-minhash-all.parquet").exists());
    let summary = std::fs::read_to_string(dir.path().join("out.jsonl.gleaner/summary.json")).unwrap();
    assert!(summary.contains("largest_clusters"));
}

#[test]
fn against_an_eval_set_drops_its_prompts() {
    let dir = tmp();
    // a pool: three Vicuna prompts (one re-cased, one with two words edited) plus sample rows
    let vicuna = std::fs::read_to_string(data("eval-sets/vicuna_test_set.jsonl")).unwrap();
    let prompts: Vec<String> = vicuna
        .lines()
        .take(3)
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["text"].as_str().unwrap().to_string())
        .collect();
    let mut pool = vec![
        serde_json::json!({"instruction": prompts[0], "input": "", "output": "a"}),
        serde_json::json!({"instruction": prompts[1].to_uppercase(), "input": "", "output": "b"}),
        serde_json::json!({"instruction": "Name three colours of the rainbow and explain how rainbows form in the sky", "input": "", "output": "c"}),
    ];
    pool.push(serde_json::json!({"instruction": format!("{} Please answer briefly and clearly for a student", prompts[2]), "input": "", "output": "d"}));
    let inp = dir.path().join("pool.json");
    std::fs::write(&inp, serde_json::to_string(&pool).unwrap()).unwrap();
    let out = dir.path().join("clean.json");
    let o = gleaner(&[
        "dedup",
        inp.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--fields",
        "prompt",
        "--against",
        data("eval-sets/vicuna_test_set.jsonl").to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(err.contains("contaminated: exact match in vicuna_test_set"), "{err}");
    assert!(err.contains("vicuna_test_set (80 prompts): 2 pool rows matched (2 exact"), "{err}");
    let kept: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(kept.as_array().unwrap().len(), 2);
}

#[test]
fn semantic_decontamination_catches_a_reworded_eval_prompt() {
    // a real pool prompt (cherry's selection) that rewords a Vicuna prompt ("How can I improve
    // my time management skills?"): no shared word 5-gram, MiniLM cosine 0.876
    let dir = tmp();
    let pool = serde_json::json!([
        {"instruction": "Suggest some tips for effective time management.", "input": "", "output": "a"},
        {"instruction": "Name three colours of the rainbow and explain how rainbows form in the sky", "input": "", "output": "b"},
        {"instruction": "Translate the sentence into French.", "input": "The cat sleeps.", "output": "c"},
    ]);
    let inp = dir.path().join("pool.json");
    std::fs::write(&inp, pool.to_string()).unwrap();
    let out = dir.path().join("clean.json");
    let vicuna = data("eval-sets/vicuna_test_set.jsonl");
    let run = |method: &str, threshold: &str| {
        let o = gleaner(&[
            "dedup",
            inp.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--fields",
            "prompt",
            "--method",
            method,
            "--threshold",
            threshold,
            "--against",
            vicuna.to_str().unwrap(),
        ]);
        let err = String::from_utf8_lossy(&o.stderr).to_string();
        assert!(o.status.success(), "{err}");
        err
    };
    let err = run("minhash", "0.6");
    assert!(err.contains("0 pool rows matched"), "word shingles cannot see a rewording:\n{err}");
    let err = run("semantic", "0.85");
    assert!(err.contains("vicuna_test_set (80 prompts): 1 pool rows matched (0 exact, 0 near, 1 semantic)"), "{err}");
    assert!(err.contains("How can I improve my time management skills?"), "the example names the eval prompt:\n{err}");
    let kept: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    assert_eq!(kept.as_array().unwrap().len(), 2);
    // the report page lists the match
    let page = std::fs::read_to_string(dir.path().join("clean.json.gleaner/report.html")).unwrap();
    assert!(page.contains("data-set=\"vicuna_test_set\" data-matched=\"1\""));
}

#[test]
fn shards_merge_to_the_unsharded_result() {
    let dir = tmp();
    let corpus: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(data("dedup/corpus.json")).unwrap()).unwrap();
    let mut sigs = Vec::new();
    for (k, part) in corpus.chunks(1000).enumerate() {
        let p = dir.path().join(format!("shard{k}.json"));
        std::fs::write(&p, serde_json::to_string(part).unwrap()).unwrap();
        let s = dir.path().join(format!("shard{k}.gsig"));
        ok(&["dedup", p.to_str().unwrap(), "--signatures-out", s.to_str().unwrap()]);
        sigs.push(s.to_str().unwrap().to_string());
    }
    let csv = dir.path().join("clusters.csv");
    let mut args = vec!["dedup", "--merge-signatures"];
    args.extend(sigs.iter().map(String::as_str));
    args.extend(["-o", csv.to_str().unwrap()]);
    ok(&args);
    let text = std::fs::read_to_string(&csv).unwrap();
    let dups = text.lines().skip(1).filter(|l| !l.split(',').nth(4).unwrap().is_empty()).count();
    // the unsharded run drops the same number
    let out = dir.path().join("one.json");
    let o = gleaner(&["dedup", data("dedup/corpus.json").to_str().unwrap(), "-o", out.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&format!("{dups} duplicates")), "{dups} from the shards; unsharded:\n{err}");
}

#[test]
fn bad_keep_and_threshold_are_clear_errors() {
    let corpus = data("dedup/corpus.json");
    let e = fails(&["dedup", corpus.to_str().unwrap(), "-o", "/tmp/x.json", "--keep", "best"]);
    assert!(e.contains("first") && e.contains("longest") && e.contains("hint:"), "{e}");
    let e = fails(&["dedup", corpus.to_str().unwrap(), "-o", "/tmp/x.json", "--threshold", "1.5"]);
    assert!(e.contains("threshold"), "{e}");
    let e = fails(&["dedup", "--merge-signatures", corpus.to_str().unwrap()]);
    assert!(e.contains("signature file"), "{e}");
}
