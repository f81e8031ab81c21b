//! What a dedup stage found (counts, the largest duplicate clusters, the evaluation-set
//! matches): the one type behind the run summary's text, `summary.json` and the page's
//! "Duplicates and contamination" section.

use serde_json::{Value, json};
use std::fmt::Write as _;

/// A duplicate cluster as a dedup stage reported it.
#[derive(Debug, Clone, Default)]
pub struct DupCluster {
    /// Rows in the cluster.
    pub size: usize,
    /// The text of the row that stayed.
    pub kept: String,
    /// Up to three dropped members: `(text, similarity to the cluster)`.
    pub dropped: Vec<(String, f64)>,
}

/// One evaluation set's matches in a dedup stage (decontamination).
#[derive(Debug, Clone, Default)]
pub struct EvalSetMatches {
    /// The set's name.
    pub set: String,
    /// Its prompts.
    pub eval_rows: usize,
    /// Pool rows that matched one of its prompts.
    pub matched: usize,
    /// Of which exact, near (MinHash) and semantic matches.
    pub exact: usize,
    /// Near-duplicate matches.
    pub near: usize,
    /// Semantic matches.
    pub semantic: usize,
    /// Up to three `(pool prompt, eval prompt, kind, similarity)`.
    pub examples: Vec<(String, String, String, f64)>,
}

/// What one dedup stage found.
#[derive(Debug, Clone, Default)]
pub struct DedupSection {
    /// Method, fields, keep rule, threshold and LSH settings, as text.
    pub settings: String,
    /// Rows that reached the stage.
    pub rows_in: usize,
    /// Rows it kept.
    pub kept: usize,
    /// Rows dropped as duplicates.
    pub duplicates: usize,
    /// Rows dropped as contaminated.
    pub contaminated: usize,
    /// Clusters of two or more rows.
    pub clusters: usize,
    /// Candidate, verified and accepted pairs.
    pub pairs: (u64, u64, u64),
    /// The largest clusters, largest first.
    pub largest: Vec<DupCluster>,
    /// Decontamination, per evaluation set.
    pub against: Vec<EvalSetMatches>,
    /// The side file with each row's `dup_cluster`, `dup_of` and `similarity`.
    pub side_file: String,
}

fn short(s: &str) -> String {
    let one: String = s.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 90 { format!("{}…", one.chars().take(89).collect::<String>()) } else { one }
}

impl DedupSection {
    /// The stage's report as text (the run summary on stderr).
    pub fn render(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "  dedup ({}): {} rows in, {} kept, {} duplicates, {} contaminated; {} clusters; pairs: {} candidates, {} verified, {} accepted",
            self.settings,
            self.rows_in,
            self.kept,
            self.duplicates,
            self.contaminated,
            self.clusters,
            self.pairs.0,
            self.pairs.1,
            self.pairs.2
        );
        for c in &self.largest {
            let _ = writeln!(s, "    cluster of {}: kept \"{}\"", c.size, short(&c.kept));
            for (t, sim) in &c.dropped {
                let _ = writeln!(s, "      dropped ({sim:.3}) \"{}\"", short(t));
            }
        }
        for a in &self.against {
            let _ = writeln!(
                s,
                "    against {} ({} prompts): {} pool rows matched ({} exact, {} near, {} semantic)",
                a.set, a.eval_rows, a.matched, a.exact, a.near, a.semantic
            );
            for (p, e, kind, sim) in &a.examples {
                let _ = writeln!(s, "      {kind} ({sim:.3}): \"{}\" ~ \"{}\"", short(p), short(e));
            }
        }
        let _ = writeln!(s, "    side file: {}", self.side_file);
        s
    }

    /// The stage's report as JSON (an element of `summary.json`'s `dedup`).
    pub fn to_json(&self) -> Value {
        json!({
            "settings": self.settings,
            "rows_in": self.rows_in,
            "kept": self.kept,
            "duplicates": self.duplicates,
            "contaminated": self.contaminated,
            "clusters": self.clusters,
            "pairs": {"candidates": self.pairs.0, "verified": self.pairs.1, "accepted": self.pairs.2},
            "largest_clusters": self.largest.iter().map(|c| json!({
                "size": c.size, "kept": c.kept,
                "dropped": c.dropped.iter().map(|(t, s)| json!({"text": t, "similarity": s})).collect::<Vec<_>>()
            })).collect::<Vec<_>>(),
            "against": self.against.iter().map(|a| json!({
                "set": a.set, "eval_rows": a.eval_rows, "matched": a.matched,
                "exact": a.exact, "near": a.near, "semantic": a.semantic,
                "examples": a.examples.iter().map(|(p, e, k, s)| json!({"pool": p, "eval": e, "kind": k, "similarity": s})).collect::<Vec<_>>()
            })).collect::<Vec<_>>(),
            "side_file": self.side_file,
        })
    }

    /// Reads back [`DedupSection::to_json`] (missing keys read as empty).
    pub fn from_json(d: &Value) -> DedupSection {
        let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_string();
        let n = |v: &Value, k: &str| v[k].as_u64().unwrap_or(0);
        let f = |v: &Value, k: &str| v[k].as_f64().unwrap_or(f64::NAN);
        let list = |v: &Value| v.as_array().cloned().unwrap_or_default();
        DedupSection {
            settings: text(d, "settings"),
            rows_in: n(d, "rows_in") as usize,
            kept: n(d, "kept") as usize,
            duplicates: n(d, "duplicates") as usize,
            contaminated: n(d, "contaminated") as usize,
            clusters: n(d, "clusters") as usize,
            pairs: (n(&d["pairs"], "candidates"), n(&d["pairs"], "verified"), n(&d["pairs"], "accepted")),
            largest: list(&d["largest_clusters"])
                .iter()
                .map(|c| DupCluster {
                    size: n(c, "size") as usize,
                    kept: text(c, "kept"),
                    dropped: list(&c["dropped"]).iter().map(|m| (text(m, "text"), f(m, "similarity"))).collect(),
                })
                .collect(),
            against: list(&d["against"])
                .iter()
                .map(|a| EvalSetMatches {
                    set: text(a, "set"),
                    eval_rows: n(a, "eval_rows") as usize,
                    matched: n(a, "matched") as usize,
                    exact: n(a, "exact") as usize,
                    near: n(a, "near") as usize,
                    semantic: n(a, "semantic") as usize,
                    examples: list(&a["examples"])
                        .iter()
                        .map(|e| (text(e, "pool"), text(e, "eval"), text(e, "kind"), f(e, "similarity")))
                        .collect(),
                })
                .collect(),
            side_file: text(d, "side_file"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trips_and_text_lists_the_clusters() {
        let d = DedupSection {
            settings: "minhash".into(),
            rows_in: 10,
            kept: 7,
            duplicates: 2,
            contaminated: 1,
            clusters: 1,
            pairs: (5, 4, 2),
            largest: vec![DupCluster { size: 3, kept: "a b".into(), dropped: vec![("a  b!".into(), 0.9)] }],
            against: vec![EvalSetMatches {
                set: "vicuna".into(),
                eval_rows: 80,
                matched: 1,
                exact: 1,
                examples: vec![("p".into(), "e".into(), "exact".into(), 1.0)],
                ..Default::default()
            }],
            side_file: "x.parquet".into(),
        };
        let back = DedupSection::from_json(&d.to_json());
        assert_eq!(format!("{back:?}"), format!("{d:?}"));
        let text = d.render();
        assert!(
            text.contains("cluster of 3: kept \"a b\"")
                && text.contains("against vicuna (80 prompts): 1 pool rows matched")
        );
    }
}
