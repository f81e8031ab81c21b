//! Scores Alpaca JSON files with a quality model and prints, per file: rows, scoring rate,
//! the mean and median score, Spearman's ρ of the score against the response length (chars),
//! and against a `score` field when the records carry one (CaR's IQS score). Then, over all
//! files pooled, the share of the first file's rows among the pooled top `n` (`n` = the first
//! file's rows) against its base rate: with CaR's IQS top picks as the first file, how much
//! the model agrees with IQS about which real Alpaca records are best.
//!
//! `cargo run --release -p gleaner-quality --example sanity -- default|MODEL.json FILE.json…`

use gleaner_core::Record;
use gleaner_quality::{Model, Scorer};
use gleaner_report::spearman;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((model, files)) = args.split_first() else {
        return Err("usage: sanity default|MODEL.json FILE.json…".into());
    };
    let scorer = Scorer::load(Model::load_named(model)?, gleaner_nn::Precision::F32)?;
    println!("model {}", scorer.identity());
    println!(
        "{:<34} {:>6} {:>8} {:>8} {:>8} {:>10} {:>10}",
        "file", "rows", "rows/s", "mean", "median", "rho(len)", "rho(score)"
    );
    let mut pooled: Vec<(f64, bool)> = Vec::new();
    for (k, f) in files.iter().enumerate() {
        let v: Vec<serde_json::Value> = serde_json::from_str(&std::fs::read_to_string(f)?)?;
        let field = |r: &serde_json::Value, k: &str| r.get(k).and_then(|x| x.as_str()).unwrap_or("").to_string();
        let recs: Vec<Record> = v
            .iter()
            .map(|r| Record::alpaca(&field(r, "instruction"), &field(r, "input"), &field(r, "output")))
            .collect();
        let t = std::time::Instant::now();
        let s = scorer.score(&recs, &|_| {})?;
        let secs = t.elapsed().as_secs_f64();
        let len: Vec<f64> = recs.iter().map(|r| r.output().chars().count() as f64).collect();
        let given: Vec<f64> = v.iter().filter_map(|r| r.get("score").and_then(|x| x.as_f64())).collect();
        let rho_given = if given.len() == s.len() { format!("{:.3}", spearman(&s, &given)) } else { "-".into() };
        pooled.extend(s.iter().map(|&x| (x, k == 0)));
        let mut sorted = s.clone();
        sorted.sort_by(f64::total_cmp);
        let name = std::path::Path::new(f).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        println!(
            "{:<34} {:>6} {:>8.1} {:>8.3} {:>8.3} {:>10.3} {:>10}",
            name,
            s.len(),
            s.len() as f64 / secs,
            s.iter().sum::<f64>() / s.len() as f64,
            sorted[sorted.len() / 2],
            spearman(&s, &len),
            rho_given
        );
    }
    let first = pooled.iter().filter(|p| p.1).count();
    pooled.sort_by(|a, b| b.0.total_cmp(&a.0));
    let top = pooled[..first].iter().filter(|p| p.1).count();
    println!(
        "first file's share of the pooled top {first}: {:.3} (base rate {:.3})",
        top as f64 / first.max(1) as f64,
        first as f64 / pooled.len().max(1) as f64
    );
    Ok(())
}
