//! The dedup stage on real Alpaca records with injected copies (data/dedup/corpus.json, built
//! by data/dedup/make_corpus.py): every exact copy found, near-copies whose true Jaccard
//! reaches the threshold found with recall ≥ 0.95 at 0.8 and at 0.6, and no distinct
//! originals merged (precision 1.0 after Jaccard verification). Semantic dedup (MiniLM cosine
//! ≥ 0.95) finds the copies that keep the wording and has precision ≥ 0.99.

#[path = "dedup_eval/mod.rs"]
mod dedup_eval;

use dedup_eval::{evaluate, load};
use gleaner_pipeline::recipe::DedupMethod;

fn check_near(threshold: f64) {
    let (ds, truth) = load();
    let dir = tempfile::tempdir().unwrap();
    let s = evaluate(&ds, &truth, DedupMethod::Minhash, Some(threshold), dir.path());
    eprint!("{}", dedup_eval::table(std::slice::from_ref(&s)));
    for kind in ["exact", "case", "whitespace"] {
        let k = &s.kinds[kind];
        assert_eq!(k.found, k.copies, "{kind} copies at {threshold}");
    }
    let (above, found): (usize, usize) = s.kinds.values().fold((0, 0), |(a, f), k| (a + k.above, f + k.found_above));
    assert!(above > 300, "{above} copies above the threshold: the corpus has too few to measure");
    let recall = found as f64 / above as f64;
    assert!(recall >= 0.95, "recall {recall} ({found}/{above}) at {threshold}");
    assert_eq!(s.false_drops, 0, "distinct records merged at {threshold}");
    assert_eq!(s.mixed_clusters, 0);
    // every row ends kept or dropped with a reason; the counts add up
    let dropped = s.rows.iter().filter(|r| r.dropped.is_some()).count();
    assert_eq!(dropped, s.true_drops);
    assert_eq!(s.rows.len(), ds.len());
    // the side file holds one row per input row
    let side = dir.path().join("dedup-minhash-all.parquet");
    let t = gleaner_cache::SideTable::read(&side).unwrap();
    assert_eq!(t.len(), ds.len());
    assert!(t.get("dup_cluster").is_some() && t.get("dup_of").is_some() && t.get("similarity").is_some());
}

#[test]
fn minhash_at_the_default_threshold() {
    check_near(0.8);
}

#[test]
fn minhash_at_a_low_threshold() {
    check_near(0.6);
}

#[test]
fn exact_finds_every_exact_copy_and_nothing_else() {
    let (ds, truth) = load();
    let dir = tempfile::tempdir().unwrap();
    let s = evaluate(&ds, &truth, DedupMethod::Exact, None, dir.path());
    for kind in ["exact", "case", "whitespace"] {
        let k = &s.kinds[kind];
        assert_eq!(k.found, k.copies, "{kind}");
    }
    // an edited copy is found only when no word was edited (possible for short records)
    let texts = ds
        .map_records(|r| {
            let t = gleaner_pipeline::dedup::field_text(r, Default::default(), Default::default());
            gleaner_dedup::normalize(&t)
        })
        .unwrap();
    for (i, t) in truth.iter().enumerate() {
        if t.kind == "edit" {
            let o = truth.iter().position(|x| x.kind == "original" && x.family == t.family).unwrap();
            let found = s.rows[i].cluster.is_some() && s.rows[i].cluster == s.rows[o].cluster;
            assert_eq!(found, texts[i] == texts[o], "row {i}");
        }
    }
    assert!(s.kinds["edit 0.10"].found < 10);
    assert_eq!(s.false_drops, 0);
}

#[test]
fn semantic_finds_copies_with_minilm() {
    let dir = gleaner_models::model_file("GLEANER_MINILM_DIR", "all-MiniLM-L6-v2", "");
    if !gleaner_models::require_or_skip("semantic_finds_copies_with_minilm", &dir, "run `gleaner models fetch`") {
        return;
    }
    let (ds, truth) = load();
    let work = tempfile::tempdir().unwrap();
    let s = evaluate(&ds, &truth, DedupMethod::Semantic, None, work.path());
    eprint!("{}", dedup_eval::table(std::slice::from_ref(&s)));
    for kind in ["exact", "case", "whitespace"] {
        let k = &s.kinds[kind];
        assert!(k.found as f64 >= 0.95 * k.copies as f64, "{kind}: {}/{}", k.found, k.copies);
    }
    // distinct originals can be semantically this close: report them, allow very few
    let texts = ds.map_records(|r| format!("{} | {}", r.instruction(), r.output())).unwrap();
    for &(a, b) in &s.false_pairs {
        eprintln!("distinct rows merged at cosine ≥ 0.95:\n  {}\n  {}", texts[a], texts[b]);
    }
    assert!(s.precision() >= 0.99, "semantic precision {}", s.precision());
    // the embeddings side file is reused on a second run
    let again = evaluate(&ds, &truth, DedupMethod::Semantic, None, work.path());
    for (a, b) in again.rows.iter().zip(&s.rows) {
        assert_eq!((&a.dropped, a.cluster, a.dup_of), (&b.dropped, b.cluster, b.dup_of));
        assert_eq!(a.similarity.to_bits(), b.similarity.to_bits());
    }
}
