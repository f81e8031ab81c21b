//! Prints the README's dedup table: recall per kind of injected copy and precision, for exact,
//! MinHash at 0.8 and 0.6, and semantic (MiniLM, 0.95 and 0.9) on data/dedup/corpus.json.
//!
//!     cargo run --release -p gleaner-pipeline --example dedup_corpus_eval > research/dedup/corpus-eval.md

#[path = "../tests/dedup_eval/mod.rs"]
mod dedup_eval;

use gleaner_pipeline::recipe::DedupMethod;

fn main() {
    let (ds, truth) = dedup_eval::load();
    let work = tempfile::tempdir().unwrap();
    let mut scores = vec![
        dedup_eval::evaluate(&ds, &truth, DedupMethod::Exact, None, work.path()),
        dedup_eval::evaluate(&ds, &truth, DedupMethod::Minhash, Some(0.8), work.path()),
        dedup_eval::evaluate(&ds, &truth, DedupMethod::Minhash, Some(0.6), work.path()),
    ];
    if gleaner_models::model_file("GLEANER_MINILM_DIR", "all-MiniLM-L6-v2", "").exists() {
        scores.push(dedup_eval::evaluate(&ds, &truth, DedupMethod::Semantic, Some(0.95), work.path()));
        scores.push(dedup_eval::evaluate(&ds, &truth, DedupMethod::Semantic, Some(0.9), work.path()));
    }
    println!("Dedup on data/dedup/corpus.json ({} rows; data/dedup/make_corpus.py), `--fields all`.\n", ds.len());
    print!("{}", dedup_eval::table(&scores));
}
