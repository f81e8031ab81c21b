//! Scores the dedup stage on data/dedup/corpus.json (real Alpaca records with injected copies
//! of known kind; see data/dedup/make_corpus.py): recall per kind of copy, recall among the
//! copies whose true Jaccard with their original reaches the threshold, and precision. Shared
//! by the test `dedup_corpus` and the example `dedup_corpus_eval` (which prints the README table).

#![allow(dead_code)]

use gleaner_dedup::{Shingler, jaccard};
use gleaner_pipeline::dedup::{DedupInputs, DedupSettings, RowOutcome, dedup, field_text};
use gleaner_pipeline::recipe::{Dedup, DedupFields, DedupMethod, DedupTurns};
use gleaner_pipeline::{Silent, WorkDir};
use gleaner_read::Dataset;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// The corpus file.
pub fn corpus_path() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/dedup/corpus.json")
}

/// Ground truth of one row.
#[derive(Debug, Clone)]
pub struct Truth {
    pub family: i64,
    pub kind: String,
    pub rate: f64,
}

/// The corpus and its truth.
pub fn load() -> (Dataset, Vec<Truth>) {
    let ds = gleaner_read::read(&corpus_path(), &Default::default()).expect("corpus reads");
    let truth = ds
        .records_in_memory()
        .unwrap()
        .iter()
        .map(|r| Truth {
            family: r.fields["truth_family"].as_i64().unwrap(),
            kind: r.fields["truth_kind"].as_str().unwrap().to_string(),
            rate: r.fields["truth_rate"].as_f64().unwrap(),
        })
        .collect();
    (ds, truth)
}

/// One line of the table: a kind of copy (with its edit rate).
#[derive(Debug, Clone, Default)]
pub struct KindScore {
    pub copies: usize,
    pub found: usize,
    /// Copies whose true Jaccard with their original is ≥ the threshold, and how many found.
    pub above: usize,
    pub found_above: usize,
    pub mean_jaccard: f64,
}

/// The result of one method and threshold.
#[derive(Debug, Clone)]
pub struct Score {
    pub label: String,
    pub threshold: f64,
    pub kinds: BTreeMap<String, KindScore>,
    /// Dropped rows whose kept representative is of their family / of another family.
    pub true_drops: usize,
    pub false_drops: usize,
    /// `(dropped row, its representative)` of the wrong drops.
    pub false_pairs: Vec<(usize, usize)>,
    /// Clusters holding two or more families.
    pub mixed_clusters: usize,
    pub rows: Vec<RowOutcome>,
}

impl Score {
    pub fn precision(&self) -> f64 {
        self.true_drops as f64 / (self.true_drops + self.false_drops).max(1) as f64
    }
}

/// Runs `method` at `threshold` (None: the default) over the corpus.
pub fn evaluate(ds: &Dataset, truth: &[Truth], method: DedupMethod, threshold: Option<f64>, work: &Path) -> Score {
    let spec = Dedup { method, fields: DedupFields::All, threshold, ..Default::default() };
    let settings = DedupSettings::of(&spec).unwrap();
    let work = WorkDir { dir: work.to_path_buf() };
    let inputs = DedupInputs { settings: &settings, scores: None, embeddings: None, against: &[] };
    let (rows, _summary) = dedup(ds, inputs, &work, &Silent).expect("dedup runs");
    let texts = ds.map_records(|r| field_text(r, DedupFields::All, DedupTurns::All)).unwrap();
    let sh = Shingler::default();
    let original: HashMap<i64, usize> =
        truth.iter().enumerate().filter(|(_, t)| t.kind == "original").map(|(i, t)| (t.family, i)).collect();
    let mut kinds: BTreeMap<String, KindScore> = BTreeMap::new();
    for (i, t) in truth.iter().enumerate() {
        if t.kind == "original" {
            continue;
        }
        let o = original[&t.family];
        let j = jaccard(&sh.shingles(&texts[i]), &sh.shingles(&texts[o]));
        let found = rows[i].cluster.is_some() && rows[i].cluster == rows[o].cluster;
        let key = if t.kind == "edit" { format!("edit {:.2}", t.rate) } else { t.kind.clone() };
        let k = kinds.entry(key).or_default();
        k.copies += 1;
        k.found += usize::from(found);
        k.mean_jaccard += j;
        if j >= settings.threshold || method != DedupMethod::Minhash {
            k.above += 1;
            k.found_above += usize::from(found);
        }
    }
    for k in kinds.values_mut() {
        k.mean_jaccard /= k.copies.max(1) as f64;
    }
    let (mut true_drops, mut false_drops, mut false_pairs) = (0, 0, Vec::new());
    let mut families: HashMap<usize, std::collections::BTreeSet<i64>> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        if let Some(k) = r.dup_of {
            if truth[k].family == truth[i].family {
                true_drops += 1;
            } else {
                false_drops += 1;
                false_pairs.push((i, k));
            }
        }
        if let Some(c) = r.cluster {
            families.entry(c).or_default().insert(truth[i].family);
        }
    }
    let mixed_clusters = families.values().filter(|f| f.len() > 1).count();
    Score {
        label: method.name().to_string(),
        threshold: settings.threshold,
        kinds,
        true_drops,
        false_drops,
        false_pairs,
        mixed_clusters,
        rows,
    }
}

/// The markdown table of several scores.
pub fn table(scores: &[Score]) -> String {
    let mut s = String::from(
        "| method | threshold | copy kind | copies | mean true Jaccard | recall | copies with Jaccard ≥ threshold | recall on those |\n|---|---:|---|---:|---:|---:|---:|---:|\n",
    );
    for sc in scores {
        for (k, v) in &sc.kinds {
            let above = if sc.label == "minhash" {
                format!(
                    "{} | {}",
                    v.above,
                    if v.above == 0 { "–".into() } else { format!("{:.3}", v.found_above as f64 / v.above as f64) }
                )
            } else {
                "– | –".to_string()
            };
            s.push_str(&format!(
                "| {} | {} | {k} | {} | {:.3} | {:.3} | {above} |\n",
                sc.label,
                sc.threshold,
                v.copies,
                v.mean_jaccard,
                v.found as f64 / v.copies as f64
            ));
        }
        s.push_str(&format!(
            "| {} | {} | **precision** | {} dropped | | {:.3} ({} wrong drops, {} mixed clusters) | | |\n",
            sc.label,
            sc.threshold,
            sc.true_drops + sc.false_drops,
            sc.precision(),
            sc.false_drops,
            sc.mixed_clusters
        ));
    }
    s
}
