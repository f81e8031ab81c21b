//! The six presets give byte-identical output to the binary built before they became recipes
//! (commit fd2d90b), on the bundled sample: `tests/regression/presets/cases.txt` lists the
//! cases and `expected.sha256` the digests that binary wrote (`capture.sh` regenerates them).
//! Each run's `summary.json` must also account for every row: kept + dropped = rows in.

use crate::util::{gleaner, root, tmp};
use sha2::{Digest, Sha256};

fn cases() -> Vec<(String, Vec<String>)> {
    let text = std::fs::read_to_string(root().join("tests/regression/presets/cases.txt")).unwrap();
    text.lines()
        .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (name, args) = l.split_once('\t').expect("NAME<TAB>ARGS");
            (name.to_string(), args.split_whitespace().map(String::from).collect())
        })
        .collect()
}

fn expected() -> std::collections::BTreeMap<String, String> {
    let text = std::fs::read_to_string(root().join("tests/regression/presets/expected.sha256")).unwrap();
    text.lines().filter_map(|l| l.split_once("  ")).map(|(d, n)| (n.trim().to_string(), d.to_string())).collect()
}

#[test]
fn presets_match_the_binary_before_recipes_byte_for_byte() {
    let dir = tmp();
    let input = root().join("data/sample/alpaca_en_demo.json");
    let want = expected();
    let mut failed = Vec::new();
    for (name, args) in cases() {
        let out = dir.path().join(&name);
        let args: Vec<String> = args
            .iter()
            .map(|a| match a.as_str() {
                "IN" => input.display().to_string(),
                "OUT" => out.display().to_string(),
                _ => a.clone(),
            })
            .collect();
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let res = gleaner(&argv);
        let stderr = String::from_utf8_lossy(&res.stderr);
        assert!(res.status.success(), "{name}: gleaner {args:?} failed:\n{stderr}");
        let digest = hex::encode(Sha256::digest(std::fs::read(&out).unwrap()));
        if want.get(&name) != Some(&digest) {
            failed.push(format!("{name}: {digest} (expected {:?})", want.get(&name)));
        }
        // the run report accounts for every row, with the drop reasons of the rules
        let summary: serde_json::Value = serde_json::from_str(
            &std::fs::read_to_string(dir.path().join(format!("{name}.gleaner/summary.json"))).unwrap(),
        )
        .unwrap();
        let dropped: u64 = summary["dropped"].as_array().unwrap().iter().map(|d| d["rows"].as_u64().unwrap()).sum();
        let kept = summary["kept"].as_u64().unwrap();
        assert_eq!(kept + dropped, summary["rows_in"].as_u64().unwrap(), "{name}: {summary:#}");
        assert!(stderr.contains("dropped:") || dropped == 0, "{name}: no dropped lines:\n{stderr}");
    }
    assert!(failed.is_empty(), "outputs differ from the pre-recipe binary:\n{}", failed.join("\n"));
}
