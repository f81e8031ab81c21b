//! `_gleaner.Scorer`: one loaded model (IFD, quality or embeddings) behind the Python classes
//! `gleaner.IfdScorer`, `gleaner.QualityScorer` and `gleaner.Embedder`. The model is loaded
//! once, at construction; each call scores one batch with the library's in-memory scorer
//! functions (the arithmetic of the CLI's side files), the GIL released, on the object's own
//! thread pool.

use crate::Error;
use crate::batch::{read_rows, write_columns, write_embeddings};
use crate::threads::Budget;
use gleaner_cache::Column;
use gleaner_core::layout::{Template, TextKind};
use gleaner_pipeline::embed::TextEmbedder;
use gleaner_pipeline::recipe::{PrecisionChoice, Score, Scorer as Kind};
use gleaner_pipeline::scorers::{IfdScorer, QualityScorer};
use pyo3::prelude::*;
use pyo3::types::PyBytes;

enum Model {
    Ifd(IfdScorer),
    Quality(QualityScorer),
    Embed(TextEmbedder),
}

/// A loaded scorer.
#[pyclass(module = "gleaner._gleaner", frozen)]
pub struct Scorer {
    model: Model,
    budget: Budget,
}

fn precision(p: &str) -> Result<PrecisionChoice, Error> {
    PrecisionChoice::parse(p)
        .ok_or_else(|| Error::Option(format!("precision `{p}`: expected one of auto, f32, bf16x3, bf16")))
}

#[pymethods]
impl Scorer {
    /// Loads an IFD scorer (`kind = "ifd"`), a quality scorer (`"quality"`) or an embedder
    /// (`"embed"`); options not used by the kind are ignored.
    #[new]
    #[pyo3(signature = (kind, model, *, template="none", max_length=None, reverse=false, precision="auto", text="car", num_threads=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        kind: &str,
        model: &str,
        template: &str,
        max_length: Option<usize>,
        reverse: bool,
        precision: &str,
        text: &str,
        num_threads: Option<usize>,
    ) -> PyResult<Scorer> {
        let budget = Budget::new(num_threads);
        let choice = self::precision(precision)?;
        let pool = budget.pool().map_err(|e| Error::Option(format!("thread pool: {e}")))?;
        let model = match kind {
            "ifd" => {
                if Template::parse(template).is_none() {
                    return Err(Error::Option(format!(
                        "template `{template}`: expected one of none, alpaca, wiz, vicuna, chatml"
                    ))
                    .into());
                }
                if max_length.is_some_and(|m| m < 2) {
                    return Err(Error::Option("max_length must be at least 2".into()).into());
                }
                let mut s = Score::new(if reverse { Kind::ReversedIfd } else { Kind::Ifd });
                s.model = (model != "default").then(|| model.to_string());
                s.template = Some(template.to_string());
                s.max_length = max_length;
                s.precision = choice;
                Model::Ifd(py.detach(|| pool.install(|| IfdScorer::load(&s))).map_err(Error::from)?)
            }
            "quality" => {
                let mut s = Score::new(Kind::Quality);
                s.model = Some(model.to_string());
                s.precision = choice;
                Model::Quality(py.detach(|| pool.install(|| QualityScorer::load(&s))).map_err(Error::from)?)
            }
            "embed" => {
                let t = TextKind::parse(text).ok_or_else(|| {
                    Error::Option(format!(
                        "text `{text}`: expected car, lcg, fl, fl-instruction, fl-response, conversation or a template with {{instruction}}, {{input}}, {{output}}"
                    ))
                })?;
                Model::Embed(py.detach(|| pool.install(|| TextEmbedder::load(model, t, choice))).map_err(Error::from)?)
            }
            other => return Err(Error::Option(format!("unknown scorer kind `{other}`")).into()),
        };
        Ok(Scorer { model, budget })
    }

    /// Scores the rows of an Arrow IPC stream; returns the score columns as an Arrow IPC
    /// stream with one row per input row. A row that is not a record raises an error naming
    /// the row and the field, or gets nulls with `null_bad_rows`.
    #[pyo3(signature = (ipc, null_bad_rows=false))]
    fn score<'py>(&self, py: Python<'py>, ipc: &[u8], null_bad_rows: bool) -> PyResult<Bound<'py, PyBytes>> {
        let pool = self.budget.pool().map_err(|e| Error::Option(format!("thread pool: {e}")))?;
        let out = py.detach(|| {
            pool.install(|| -> Result<Vec<u8>, Error> {
                let rows = read_rows(ipc, null_bad_rows)?;
                match &self.model {
                    Model::Ifd(m) => write_columns(&m.score_records(&rows.records)?, &rows.slot),
                    Model::Quality(m) => {
                        let q = m.score_records(&rows.records)?;
                        write_columns(&[("quality".to_string(), Column::F64(q))], &rows.slot)
                    }
                    Model::Embed(m) => write_embeddings(&m.embed_records(&rows.records)?, m.dim(), &rows.slot),
                }
            })
        })?;
        Ok(PyBytes::new(py, &out))
    }

    /// The columns a call adds, in order.
    fn columns(&self) -> Vec<String> {
        match &self.model {
            Model::Ifd(m) => {
                let mut v: Vec<String> = gleaner_pipeline::recipe::IFD_COLUMNS.iter().map(|s| s.to_string()).collect();
                if m.options().reverse {
                    v.extend(gleaner_pipeline::recipe::RIFD_COLUMNS.iter().map(|s| s.to_string()));
                }
                v
            }
            Model::Quality(_) => vec!["quality".into()],
            Model::Embed(_) => vec!["embedding".into()],
        }
    }

    /// The model's identity and the precision it runs at, as the CLI's manifests name them.
    fn model(&self) -> (String, String) {
        use gleaner_pipeline::scorers::Scorer as _;
        match &self.model {
            Model::Ifd(m) => m.model().unwrap_or_default(),
            Model::Quality(m) => m.model().unwrap_or_default(),
            Model::Embed(m) => (m.identity(), m.precision.clone()),
        }
    }

    /// Threads this object scores with in this process.
    fn num_threads(&self) -> usize {
        self.budget.threads()
    }
}
