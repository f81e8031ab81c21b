//! `gleaner.run(recipe, input, output)`: a whole recipe (a bundled name or a TOML file), as
//! `gleaner run --recipe` runs it, from Python.

use crate::Error;
use gleaner_pipeline::recipe::{self, Stage};
use gleaner_pipeline::runner::{RunOptions, run as run_recipe};
use gleaner_pipeline::{Silent, WorkDir};
use gleaner_read::{Container, Format, JsonStyle, OnError, ReadOptions};
use pyo3::prelude::*;
use std::path::{Path, PathBuf};

/// What a run returns: kept input row positions in output order, the reason each was kept,
/// and the summary text the CLI prints.
type Outcome = (Vec<usize>, Vec<&'static str>, String);

fn load(spec: &str) -> Result<(recipe::Recipe, String, PathBuf), Error> {
    let path = PathBuf::from(spec);
    if path.exists() || spec.ends_with(".toml") {
        let text = std::fs::read_to_string(&path).map_err(|e| gleaner_core::Error::io(&path, e))?;
        Ok((recipe::parse(&text, &path)?, text, path))
    } else {
        let r = recipe::find(spec).ok_or_else(|| {
            Error::Option(format!(
                "`{spec}` is neither a recipe file nor a bundled recipe (`gleaner recipes` lists them)"
            ))
        })?;
        Ok((r, String::new(), PathBuf::from(format!("bundled:{spec}"))))
    }
}

/// Where the kept records go: the output's container (by extension, else the input's), in
/// the input's JSON layout when the container is the same.
fn target(ds: &gleaner_read::Dataset, output: &Path) -> gleaner_write::Target {
    let container = Format::from_extension(output).unwrap_or(ds.container);
    let style = if container == ds.container && container != Container::Parquet {
        ds.style
    } else if container == Container::Json {
        JsonStyle { container, indent: Some(4), spaced: true, ensure_ascii: false, escape_slash: false }
    } else {
        JsonStyle::jsonl_default()
    };
    let schema = if ds.container == Container::Parquet { ds.schema.clone() } else { None };
    gleaner_write::Target { container, shape: None, style, schema }
}

fn execute(spec: &str, input: &Path, output: &Path, work_dir: Option<PathBuf>) -> Result<Outcome, Error> {
    let (r, text, source) = load(spec)?;
    recipe::validate(&r, &text, &source)?;
    let read = r.stages.iter().find_map(|s| if let Stage::Read(x) = s { Some(x.clone()) } else { None });
    let read = read.unwrap_or_default();
    let opts = ReadOptions {
        format: read.format.as_deref().and_then(Format::parse),
        on_error: match read.on_error {
            recipe::OnBadRecord::Fail => OnError::Fail,
            recipe::OnBadRecord::Skip => OnError::Skip,
        },
    };
    let mut ds = gleaner_read::read_released(input, &opts)?;
    if let Some(n) = read.limit {
        ds.truncate(n);
    }
    let work = work_dir.map_or_else(|| WorkDir::for_output(output), |dir| WorkDir { dir });
    let outcome = run_recipe(&r, &ds, &RunOptions { work: work.clone() }, &Silent)?;
    let kept = outcome.kept_records(&ds)?;
    let records =
        kept.records_in_memory().ok_or_else(|| Error::Batch("internal: kept records not in memory".into()))?;
    gleaner_write::write(Some(output), records, &target(&ds, output))?;
    outcome.write_summary(&work.dir)?;
    let (idx, why) = outcome.picks.iter().map(|p| (ds.positions[p.index], p.reason.label())).unzip();
    Ok((idx, why, outcome.render()))
}

/// Runs a recipe over `input`, writes the kept records to `output` and the side files and
/// `summary.json` to `work_dir` (default `OUTPUT.gleaner/`).
#[pyfunction]
#[pyo3(signature = (recipe, input, output, work_dir=None))]
pub fn run(
    py: Python<'_>,
    recipe: &str,
    input: PathBuf,
    output: PathBuf,
    work_dir: Option<PathBuf>,
) -> PyResult<Outcome> {
    Ok(py.detach(|| execute(recipe, &input, &output, work_dir))?)
}
