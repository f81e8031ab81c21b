//! What a run produced, the run report (stderr text and `summary.json`) and the output records.

use crate::recipe::{Recipe, Select};
use crate::stages::StageLog;
use gleaner_core::{Error, Result};
use gleaner_read::Dataset;
use gleaner_report::Distribution;
use gleaner_select::Pick;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

/// A model stage as it ran: the model's identity and the arithmetic it used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageRecord {
    /// The stage.
    pub stage: String,
    /// The model's identity (file digest or path and size).
    pub identity: String,
    /// The resolved precision (`f32`, `bf16x3`, `bf16`).
    pub precision: String,
}

/// What the stage runner collected, handed to [`RunOutcome::new`].
pub(super) struct Parts {
    pub picks: Vec<Pick>,
    pub dropped: Vec<(String, usize)>,
    pub drop_stage: Vec<usize>,
    pub row_drop: Vec<Option<u32>>,
    pub columns: BTreeMap<String, Vec<f64>>,
    pub column_stage: BTreeMap<String, usize>,
    pub embeddings: Option<String>,
    pub annotate: indexmap::IndexMap<String, String>,
    pub models: Vec<StageRecord>,
    pub stages: StageLog,
}

/// The per-row side file of a run (`rows.parquet` in the work dir): each input row's fate
/// (`kept` 1/0), the kept reason or the drop rule (`reason`), the recipe stage that dropped it
/// (`stage`, -1 when kept), its position in the output (`order`, -1 when dropped) and every
/// score column as `score.NAME`.
pub const ROWS_FILE: &str = "rows.parquet";

/// The result of [`super::run`].
#[derive(Debug, Clone)]
pub struct RunOutcome {
    /// The recipe's name.
    pub recipe: String,
    /// Rows read (after `--limit`).
    pub rows_in: usize,
    /// Records skipped by the reader (`on_error = "skip"`), per reason.
    pub skipped: Vec<(String, usize)>,
    /// Kept rows in output order, each with its reason.
    pub picks: Vec<Pick>,
    /// Dropped rows per reason, in the order the stages dropped them.
    pub dropped: Vec<(String, usize)>,
    /// The recipe stage (0-based index) of each entry of `dropped`.
    pub drop_stage: Vec<usize>,
    /// Per input row: the index into `dropped` of the rule that dropped it (`None`: kept).
    pub row_drop: Vec<Option<u32>>,
    /// The recipe's stages, by kind (`score`, `filter`, …), in order.
    pub stage_kinds: Vec<String>,
    /// The recipe as TOML (what `gleaner recipes show` prints).
    pub recipe_toml: String,
    /// The input file.
    pub input: std::path::PathBuf,
    /// The stage (0-based index into the recipe) that computed each column.
    pub column_stage: BTreeMap<String, usize>,
    /// The side file (name in the work dir) of the last embeddings computed, if any.
    pub embeddings: Option<String>,
    /// Every score column, one value per input row (NaN where not computed).
    pub columns: BTreeMap<String, Vec<f64>>,
    /// Fields added to the written records: field → column.
    pub annotate: indexmap::IndexMap<String, String>,
    /// The model stages with identity and precision.
    pub models: Vec<StageRecord>,
    /// Wall time and peak RSS per stage.
    pub stages: StageLog,
    /// The column the selection ranked by, shown first in the summary.
    pub main_column: Option<String>,
    /// The reports of the dedup stages (largest clusters, evaluation-set matches).
    pub dedup: Vec<crate::dedup::DedupSummary>,
}

impl RunOutcome {
    pub(super) fn new(recipe: &Recipe, ds: &Dataset, parts: Parts, select: Option<Select>) -> RunOutcome {
        let main_column = match select {
            Some(Select::TopK(t)) => Some(t.by),
            Some(Select::Car(c)) => Some(c.by),
            Some(Select::PreExperience(p)) => Some(p.by),
            Some(Select::Lcg(_)) => Some("confidence".into()),
            Some(Select::FacilityLocation(_)) | None => None,
        };
        RunOutcome {
            recipe: recipe.name.clone(),
            rows_in: ds.len(),
            skipped: ds.accounting.reasons().into_iter().map(|(r, n)| (r.to_string(), n)).collect(),
            picks: parts.picks,
            dropped: parts.dropped,
            drop_stage: parts.drop_stage,
            row_drop: parts.row_drop,
            stage_kinds: recipe.stages.iter().map(|s| s.kind().to_string()).collect(),
            recipe_toml: crate::recipe::to_toml(recipe),
            input: std::fs::canonicalize(&ds.path).unwrap_or_else(|_| ds.path.clone()),
            column_stage: parts.column_stage,
            embeddings: parts.embeddings,
            columns: parts.columns,
            annotate: parts.annotate,
            models: parts.models,
            stages: parts.stages,
            main_column,
            dedup: Vec::new(),
        }
    }

    /// Kept rows per reason.
    pub fn kept_by_reason(&self) -> BTreeMap<&'static str, usize> {
        let mut m = BTreeMap::new();
        for p in &self.picks {
            *m.entry(p.reason.label()).or_insert(0) += 1;
        }
        m
    }

    /// Checks that every row read is kept or dropped exactly once.
    pub fn check_counts(&self) -> Result<()> {
        let dropped: usize = self.dropped.iter().map(|d| d.1).sum();
        let mut seen = vec![false; self.rows_in];
        for p in &self.picks {
            if std::mem::replace(&mut seen[p.index], true) {
                return Err(Error::Other(format!("internal: row {} kept twice", p.index)));
            }
        }
        if self.picks.len() + dropped != self.rows_in {
            return Err(Error::Other(format!(
                "internal: {} kept + {dropped} dropped ≠ {} rows in",
                self.picks.len(),
                self.rows_in
            )));
        }
        // every row has exactly one fate: kept, or dropped by one rule
        for (r, d) in self.row_drop.iter().enumerate() {
            if seen[r] == d.is_some() {
                return Err(Error::Other(format!("internal: row {r} is kept and dropped, or neither")));
            }
        }
        Ok(())
    }

    /// Columns in the order the summary shows them: the ranked column first; derived columns
    /// (cluster labels, distances, raw losses and token counts) are left out.
    pub fn shown_columns(&self) -> Vec<&str> {
        let mut v: Vec<&str> = Vec::new();
        if let Some(m) = &self.main_column {
            v.push(m);
        }
        for name in [
            "quality",
            "ifd_ppl",
            "ifd_loss",
            "rifd_ppl",
            "response_tokens",
            "response_chars",
            "prompt_ppl",
            "confidence",
        ] {
            if self.columns.contains_key(name) && !v.contains(&name) {
                v.push(name);
            }
        }
        for name in self.columns.keys() {
            let derived = ["cluster", "distance", "predicted", "pseudo_label", "turns", "random"];
            if !v.contains(&name.as_str())
                && !derived.contains(&name.as_str())
                && !name.starts_with("loss")
                && !name.starts_with("tokens")
                && !name.ends_with("_min")
            {
                v.push(name);
            }
        }
        v
    }

    /// The run report as text (stderr): rows in, kept per reason, dropped per reason, clusters
    /// covered, score distributions of the kept rows against all scored rows, models, stages.
    pub fn render(&self) -> String {
        let mut s = String::new();
        let kept = self.picks.len();
        let _ = writeln!(
            s,
            "{}: {} rows in, {kept} kept ({:.2}%)",
            self.recipe,
            self.rows_in,
            100.0 * kept as f64 / self.rows_in.max(1) as f64
        );
        for (r, n) in self.kept_by_reason() {
            let _ = writeln!(s, "  kept as {r:<31} {n}");
        }
        for (why, n) in &self.dropped {
            let _ = writeln!(s, "  dropped: {why:<31} {n}");
        }
        for (why, n) in &self.skipped {
            let _ = writeln!(s, "  skipped on reading: {why} ({n}; not counted in the rows in)");
        }
        if let Some(c) = self.columns.get("cluster") {
            let all: std::collections::BTreeSet<i64> = c.iter().filter(|x| !x.is_nan()).map(|&x| x as i64).collect();
            let covered: std::collections::BTreeSet<i64> =
                self.picks.iter().map(|p| c[p.index]).filter(|x| !x.is_nan()).map(|x| x as i64).collect();
            let _ = writeln!(s, "  clusters covered {} of {}", covered.len(), all.len());
        }
        for name in self.shown_columns() {
            let v = &self.columns[name];
            let _ =
                writeln!(s, "  {name} (all)  {}", Distribution::of(v.iter().copied().filter(|x| !x.is_nan())).line());
            let _ = writeln!(s, "  {name} (kept) {}", Distribution::of(self.picks.iter().map(|p| v[p.index])).line());
        }
        for d in &self.dedup {
            s.push_str(&d.render());
        }
        for m in &self.models {
            let _ = writeln!(s, "  {}: {} ({})", m.stage, m.identity, m.precision);
        }
        s.push_str(&self.stages.render());
        s
    }

    /// The run report as JSON (`summary.json`).
    pub fn to_json(&self) -> Value {
        let dist = |d: Distribution| {
            json!({"n": d.n, "missing": d.missing, "mean": num(d.mean), "std": num(d.std), "min": num(d.min),
                   "p5": num(d.p5), "p25": num(d.p25), "p50": num(d.p50), "p75": num(d.p75), "p95": num(d.p95),
                   "max": num(d.max)})
        };
        let scores: serde_json::Map<String, Value> = self
            .shown_columns()
            .into_iter()
            .map(|name| {
                let v = &self.columns[name];
                let all = Distribution::of(v.iter().copied().filter(|x| !x.is_nan()));
                let kept = Distribution::of(self.picks.iter().map(|p| v[p.index]));
                (name.to_string(), json!({"all": dist(all), "kept": dist(kept)}))
            })
            .collect();
        json!({
            "recipe": self.recipe,
            "rows_in": self.rows_in,
            "kept": self.picks.len(),
            "kept_by_reason": self.kept_by_reason(),
            "dropped": self.dropped.iter().zip(&self.drop_stage)
                .map(|((r, n), &s)| json!({"reason": r, "rows": n, "stage": s, "stage_kind": self.stage_kinds[s]}))
                .collect::<Vec<_>>(),
            "skipped_on_read": self.skipped.iter().map(|(r, n)| json!({"reason": r, "rows": n})).collect::<Vec<_>>(),
            "scores": scores,
            "dedup": self.dedup.iter().map(|d| d.to_json()).collect::<Vec<_>>(),
            "models": self.models.iter().map(|m| json!({"stage": m.stage, "model": m.identity, "precision": m.precision})).collect::<Vec<_>>(),
            "stages": self.stages.rows().iter().map(|(n, t, m)| json!({"stage": n, "wall_s": t, "peak_rss_mib": m})).collect::<Vec<_>>(),
            "gleaner": env!("CARGO_PKG_VERSION"),
            "input": self.input.display().to_string(),
            "recipe_toml": self.recipe_toml,
            "recipe_stages": self.stage_kinds,
            "shown_columns": self.shown_columns(),
            "column_stage": self.column_stage,
            "main_column": self.main_column,
            "embeddings": self.embeddings,
            "rows_file": ROWS_FILE,
        })
    }

    /// Writes `summary.json` into `dir`.
    pub fn write_summary(&self, dir: &Path) -> Result<std::path::PathBuf> {
        write_summary_json(dir, &self.to_json())
    }

    /// Writes the per-row side file ([`ROWS_FILE`]) into `dir`, keyed by the row ids of `ds`.
    pub fn write_rows(&self, ds: &Dataset, dir: &Path) -> Result<std::path::PathBuf> {
        use gleaner_cache::{Column, SideTable};
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let n = self.rows_in;
        let mut kept = vec![0i64; n];
        let mut order = vec![-1i64; n];
        let mut stage = vec![-1i64; n];
        let mut reason = vec![String::new(); n];
        for (i, p) in self.picks.iter().enumerate() {
            kept[p.index] = 1;
            order[p.index] = i as i64;
            reason[p.index] = p.reason.label().to_string();
        }
        for (r, d) in self.row_drop.iter().enumerate() {
            if let Some(d) = d {
                reason[r] = self.dropped[*d as usize].0.clone();
                stage[r] = self.drop_stage[*d as usize] as i64;
            }
        }
        let mut t = SideTable::new(&ds.ids[..n], &ds.positions[..n]);
        t.set("kept", Column::I64(kept));
        t.set("order", Column::I64(order));
        t.set("stage", Column::I64(stage));
        t.set("reason", Column::Str(reason));
        for (name, v) in &self.columns {
            t.set(&format!("score.{name}"), Column::F64(v.clone()));
        }
        let p = dir.join(ROWS_FILE);
        t.write(&p)?;
        Ok(p)
    }

    /// The kept records in output order, with the `annotate` fields added; the `cluster` column
    /// is written as a decimal string (CaR's released format), other columns as numbers.
    pub fn kept_records(&self, ds: &Dataset) -> Result<Dataset> {
        let idx: Vec<usize> = self.picks.iter().map(|p| p.index).collect();
        let mut sub = ds.subset(&idx)?;
        if !self.annotate.is_empty() {
            for (rec, &i) in sub.records_mut()?.iter_mut().zip(&idx) {
                for (field, col) in &self.annotate {
                    let x = self.columns[col][i];
                    let v = if col == "cluster" {
                        Value::from(format!("{}", x as i64))
                    } else {
                        gleaner_core::nonfinite::float_value(x)
                    };
                    rec.fields.insert(field.clone(), v);
                }
            }
        }
        Ok(sub)
    }
}

/// Writes `summary` as `DIR/summary.json` (pretty, atomically; the directory is created).
pub fn write_summary_json(dir: &Path, summary: &Value) -> Result<std::path::PathBuf> {
    let p = dir.join("summary.json");
    let text = serde_json::to_string_pretty(summary).map_err(|e| Error::Other(e.to_string()))?;
    gleaner_core::atomic::write_bytes_atomic(&p, (text + "\n").as_bytes())?;
    Ok(p)
}

fn num(x: f64) -> Value {
    if x.is_finite() { json!(x) } else { Value::Null }
}
