//! The selection report of a run, assembled from its work directory: `summary.json` (counts,
//! drop rules, models, stage times, the recipe), `rows.parquet` (each row's fate and scores),
//! the last embeddings side file (for the map) and the input file (for the record text). The
//! baselines (`random` and `longest`) are the bundled recipes, run here on the same rows at the
//! run's budget. [`gleaner_report::html::render`] draws the result.

use crate::runner::{ROWS_FILE, RunOptions};
use crate::{Observer, WorkDir};
use gleaner_cache::{Column, Matrix, SideTable};
use gleaner_core::{Error, Result};
use gleaner_read::{Dataset, OnError, ReadOptions};
use gleaner_report::html::{
    self, Baseline, DedupSection, DropRule, Map, ModelUse, Report, Row, ScoreColumn, StageTime,
};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

/// Options of [`build`].
#[derive(Debug, Clone, Default)]
pub struct ReportOptions {
    /// Read the records from this file instead of the one `summary.json` names (it must hold
    /// the same rows).
    pub input: Option<PathBuf>,
    /// The input's format, when it cannot be detected from its extension.
    pub format: Option<gleaner_read::Format>,
    /// Leave out the baselines (they re-read the input and may load a tokenizer).
    pub no_baselines: bool,
}

fn side_err(path: &Path, message: impl Into<String>) -> Error {
    Error::SideFile { path: path.to_path_buf(), message: message.into() }
}

/// Reads `summary.json` from a work directory.
pub fn read_summary(work: &Path) -> Result<Value> {
    let p = work.join("summary.json");
    let text = std::fs::read_to_string(&p).map_err(|e| Error::io(&p, e))?;
    let v: Value = serde_json::from_str(&text).map_err(|e| side_err(&p, format!("not a run summary: {e}")))?;
    if v.get("rows_file").is_none() {
        return Err(side_err(&p, "written by a gleaner without reports (no per-row file); rerun the recipe"));
    }
    Ok(v)
}

fn text_of(v: &Value, key: &str) -> String {
    v.get(key).and_then(Value::as_str).unwrap_or_default().to_string()
}

fn usize_of(v: &Value, key: &str) -> usize {
    v.get(key).and_then(Value::as_u64).unwrap_or(0) as usize
}

fn skipped_of(summary: &Value) -> Vec<(String, usize)> {
    summary["skipped_on_read"]
        .as_array()
        .map(|a| a.iter().map(|d| (text_of(d, "reason"), usize_of(d, "rows"))).collect())
        .unwrap_or_default()
}

/// The report of the run whose work directory is `work`, reading its input file again.
pub fn build(work: &Path, opts: &ReportOptions, obs: &dyn Observer) -> Result<Report> {
    let summary = read_summary(work)?;
    let input = opts.input.clone().unwrap_or_else(|| PathBuf::from(text_of(&summary, "input")));
    let read_opts = ReadOptions {
        format: opts.format,
        on_error: if skipped_of(&summary).is_empty() { OnError::Fail } else { OnError::Skip },
    };
    let mut ds = gleaner_read::read_released(&input, &read_opts)?;
    ds.truncate(usize_of(&summary, "rows_in"));
    build_with(work, &ds, opts, obs)
}

/// The report of the run whose work directory is `work` over its dataset `ds` (as the run
/// read it).
pub fn build_with(work: &Path, ds: &Dataset, opts: &ReportOptions, obs: &dyn Observer) -> Result<Report> {
    let summary = read_summary(work)?;
    let rows_in = usize_of(&summary, "rows_in");
    let skipped = skipped_of(&summary);
    let input = ds.path.clone();
    let rows_path = work.join(ROWS_FILE);
    let table = SideTable::read(&rows_path)?;
    if ds.len() != rows_in || table.len() != rows_in {
        return Err(side_err(
            &rows_path,
            format!(
                "the run had {rows_in} rows, {} holds {} and {} has {}: the input changed since the run",
                rows_path.display(),
                table.len(),
                input.display(),
                ds.len()
            ),
        ));
    }
    let table = table.align(&ds.ids, &rows_path).map_err(|_| {
        side_err(&rows_path, format!("the rows of {} are not the rows of this run: the input changed", input.display()))
    })?;
    let ints = |name: &str| -> Result<Vec<i64>> {
        match table.get(name) {
            Some(Column::I64(v)) => Ok(v.clone()),
            _ => Err(side_err(&rows_path, format!("no integer column `{name}`"))),
        }
    };
    let kept = ints("kept")?;
    let stage = ints("stage")?;
    let reason = match table.get("reason") {
        Some(Column::Str(v)) => v.clone(),
        _ => return Err(side_err(&rows_path, "no column `reason`")),
    };
    let cluster = table.get("score.cluster").map(Column::as_f64);
    let texts = ds.map_records(|r| {
        let mut q = r.instruction().to_string();
        if !r.input.is_empty() {
            q.push('\n');
            q.push_str(&r.input);
        }
        (q, r.output().to_string())
    })?;
    let rows: Vec<Row> = texts
        .into_iter()
        .enumerate()
        .map(|(i, (instruction, response))| Row {
            position: ds.positions[i],
            instruction,
            response,
            kept: kept[i] == 1,
            reason: reason[i].clone(),
            cluster: cluster.as_ref().map(|c| c[i]).filter(|x| x.is_finite()).map(|x| x as i64),
        })
        .collect();
    // a row was in play when a column was computed unless an earlier stage dropped it
    let column_stage = summary["column_stage"].as_object().cloned().unwrap_or_default();
    let columns: Vec<ScoreColumn> = summary["shown_columns"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .filter_map(|name| {
            let values = table.get(&format!("score.{name}"))?.as_f64();
            let at = column_stage.get(name).and_then(Value::as_i64).unwrap_or(0);
            let scored = (0..rows_in).map(|i| kept[i] == 1 || stage[i] >= at).collect();
            Some(ScoreColumn { name: name.to_string(), values, scored })
        })
        .collect();
    let drops = summary["dropped"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|d| DropRule {
                    stage: usize_of(d, "stage"),
                    stage_kind: text_of(d, "stage_kind"),
                    reason: text_of(d, "reason"),
                    rows: usize_of(d, "rows"),
                })
                .collect()
        })
        .unwrap_or_default();
    let mut notes = Vec::new();
    let (map, no_map) = match summary["embeddings"].as_str() {
        Some(file) => (Some(map(&work.join(file), ds, obs)?), String::new()),
        None => (
            None,
            "This recipe computed no embeddings, so there is no map (recipes with an `embed` stage get one).".into(),
        ),
    };
    let k = rows.iter().filter(|r| r.kept).count();
    let baselines = if opts.no_baselines { Vec::new() } else { baselines(ds, k, &mut notes, obs)? };
    let models = summary["models"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|m| ModelUse {
                    stage: text_of(m, "stage"),
                    model: text_of(m, "model"),
                    precision: text_of(m, "precision"),
                })
                .collect()
        })
        .unwrap_or_default();
    let stages = summary["stages"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|s| StageTime {
                    stage: text_of(s, "stage"),
                    wall_s: s["wall_s"].as_f64().unwrap_or(f64::NAN),
                    peak_rss_mib: s["peak_rss_mib"].as_f64().unwrap_or(f64::NAN),
                })
                .collect()
        })
        .unwrap_or_default();
    Ok(Report {
        recipe: text_of(&summary, "recipe"),
        recipe_toml: text_of(&summary, "recipe_toml"),
        input: input.display().to_string(),
        version: text_of(&summary, "gleaner"),
        rows,
        skipped_on_read: skipped,
        drops,
        columns,
        main_column: summary["main_column"].as_str().map(str::to_string),
        map,
        no_map,
        baselines,
        models,
        stages,
        notes,
        dedup: dedup_sections(&summary),
    })
}

/// The dedup stages' reports, as `summary.json` holds them.
fn dedup_sections(summary: &Value) -> Vec<DedupSection> {
    summary["dedup"].as_array().map(|a| a.iter().map(DedupSection::from_json).collect()).unwrap_or_default()
}

/// The 2-D PCA map of the embedded rows (a seeded sample above [`html::MAP_MAX_POINTS`]).
fn map(path: &Path, ds: &Dataset, obs: &dyn Observer) -> Result<Map> {
    let m = Matrix::read(path)?;
    let at: HashMap<u64, usize> = ds.ids.iter().enumerate().map(|(i, id)| (id.0, i)).collect();
    // matrix rows that are rows of this run
    let mut rows: Vec<(usize, usize)> =
        m.row_id.iter().enumerate().filter_map(|(j, id)| at.get(id).map(|&i| (i, j))).collect();
    let embedded = rows.len();
    if rows.len() > html::MAP_MAX_POINTS {
        rows.sort_by_key(|&(i, _)| (html::mix(i as u64 ^ 0x006d_6170), i));
        rows.truncate(html::MAP_MAX_POINTS);
    }
    rows.sort_unstable();
    let mut x = Vec::with_capacity(rows.len() * m.dim);
    for &(_, j) in &rows {
        x.extend_from_slice(m.row(j));
    }
    let file = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    if rows.len() < 3 {
        return Ok(Map {
            points: rows.iter().map(|&(i, _)| (i, 0.0, 0.0)).collect(),
            embedded,
            projection: format!("Too few embedded rows ({}) to project.", rows.len()),
            axes: (String::new(), String::new()),
        });
    }
    let (pca, y) =
        gleaner_cluster::Pca::fit_transform(&x, rows.len(), m.dim, gleaner_cluster::PcaTarget::Components(2))?;
    let kcomp = pca.n_components();
    obs.info(&format!("report map: PCA of {} embedded rows", rows.len()));
    let points = rows
        .iter()
        .enumerate()
        .map(|(p, &(i, _))| (i, y[p * kcomp], if kcomp > 1 { y[p * kcomp + 1] } else { 0.0 }))
        .collect();
    Ok(Map {
        points,
        embedded,
        projection: format!(
            "Principal component analysis of the {}-dimensional embeddings ({file}) to 2 dimensions; the two components \
explain {:.1}% of their variance, so rows close on the map are close in embedding space but not always the reverse.",
            m.dim,
            100.0 * pca.explained_variance_ratio_sum()
        ),
        axes: ("first principal component".into(), "second principal component".into()),
    })
}

/// Runs the bundled `random` and `longest` recipes on `ds` at a budget of `k` rows.
fn baselines(ds: &Dataset, k: usize, notes: &mut Vec<String>, obs: &dyn Observer) -> Result<Vec<Baseline>> {
    use crate::recipe::{LengthUnit, Select, Stage};
    let tmp = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
    let work = WorkDir { dir: tmp.path().to_path_buf() };
    let mut out = Vec::new();
    for name in ["random", "longest"] {
        let mut r = crate::recipe::find(name).ok_or_else(|| Error::Other(format!("no bundled recipe `{name}`")))?;
        for st in &mut r.stages {
            if let Stage::Select(Select::TopK(t)) = st {
                (t.budget, t.ratio) = (Some(k), None);
            }
        }
        let mut how = match name {
            "random" => format!("{k} rows drawn at random (the bundled random recipe, seed 42)"),
            _ => format!("the {k} rows with the longest responses in SmolLM2 tokens (the bundled longest recipe)"),
        };
        let res = crate::runner::run(&r, ds, &RunOptions { work: work.clone() }, obs);
        let res = match res {
            Err(Error::Model { name: model, message }) if name == "longest" => {
                // no tokenizer installed: count characters instead, and say so
                notes.push(format!(
                    "The `longest` baseline counts response characters: the tokenizer model {model} is not installed ({message})."
                ));
                for st in &mut r.stages {
                    if let Stage::Score(s) = st {
                        s.unit = Some(LengthUnit::Chars);
                    }
                    if let Stage::Select(Select::TopK(t)) = st {
                        t.by = "response_chars".into();
                    }
                }
                how = format!("the {k} rows with the longest responses in characters");
                crate::runner::run(&r, ds, &RunOptions { work: work.clone() }, obs)
            }
            other => other,
        }?;
        out.push(Baseline { name: name.into(), how, kept: res.picks.iter().map(|p| p.index).collect() });
    }
    Ok(out)
}

/// Renders `report` into `out`; returns the page's size in bytes.
pub fn write(report: &Report, out: &Path) -> Result<usize> {
    let page = html::render(report);
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    std::fs::write(out, &page).map_err(|e| Error::io(out, e))?;
    Ok(page.len())
}
