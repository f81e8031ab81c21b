//! The stage runner: runs a [`Recipe`] over a dataset.
//!
//! The runner keeps, per input row, the score columns computed so far, and the ordered list of
//! rows still in play. Model stages (score, embed) run on the rows in play through the cached,
//! resumable stage functions of this crate (each writes a side file with a manifest into the
//! work directory and journals its chunks), so a rerun reuses them and a killed run resumes.
//! Filters drop rows with a reason; the selection keeps rows with a reason; every input row ends
//! up kept or dropped, and [`RunOutcome::check_counts`] proves that the counts add up.

mod columns;
mod dedup_stage;
mod model_stages;
mod outcome;
mod select;

pub use outcome::{ROWS_FILE, RunOutcome, StageRecord, write_summary_json};

use crate::recipe::{Recipe, Stage};
use crate::stages::StageLog;
use crate::{Observer, WorkDir};
use gleaner_cache::Matrix;
use gleaner_core::{Error, Result};
use gleaner_read::Dataset;
use gleaner_select::Pick;
use std::collections::BTreeMap;

/// Options of a run that are not part of the recipe.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Where side files, the journal and `summary.json` go.
    pub work: WorkDir,
}

/// The last embeddings computed: a matrix over `rows` (input row indices, in matrix order).
struct Embedded {
    rows: Vec<usize>,
    matrix: Matrix,
    /// Identity of the model, text and precision, for the clustering manifest.
    identity: String,
    /// The text view embedded (names the clustering side file).
    text: String,
    /// The side file holding the matrix (its file name in the work dir).
    file: String,
}

/// The state of a run between stages.
struct State<'a> {
    ds: &'a Dataset,
    work: &'a WorkDir,
    obs: &'a dyn Observer,
    /// Rows still in play, in their current order.
    active: Vec<usize>,
    /// Score columns, one value per input row (NaN where not computed).
    cols: BTreeMap<String, Vec<f64>>,
    emb: Option<Embedded>,
    /// Number of clusters of the last clustering.
    k: usize,
    dropped: Vec<(String, usize)>,
    /// The stage (index into the recipe) of each entry of `dropped`.
    drop_stage: Vec<usize>,
    /// Per input row: the index into `dropped` of the rule that dropped it.
    row_drop: Vec<Option<u32>>,
    /// The stage being run (index into the recipe).
    stage_no: usize,
    /// The stage (index into the recipe) that computed each column.
    column_stage: BTreeMap<String, usize>,
    picks: Option<Vec<Pick>>,
    /// What each model stage ran: its identity and precision.
    models: Vec<StageRecord>,
    annotate: indexmap::IndexMap<String, String>,
    /// Reports of the dedup stages.
    dedup: Vec<crate::dedup::DedupSummary>,
}

impl<'a> State<'a> {
    /// The dataset restricted to the rows in play (the dataset itself while all rows are).
    fn view(&self) -> Result<std::borrow::Cow<'a, Dataset>> {
        if self.active.len() == self.ds.len() && self.active.iter().enumerate().all(|(i, &r)| i == r) {
            Ok(std::borrow::Cow::Borrowed(self.ds))
        } else {
            Ok(std::borrow::Cow::Owned(self.ds.subset(&self.active)?))
        }
    }

    /// Stores values computed for the rows in play as column `name`.
    fn scatter(&mut self, name: &str, values: &[f64]) {
        let mut col = vec![f64::NAN; self.ds.len()];
        for (&r, &v) in self.active.iter().zip(values) {
            col[r] = v;
        }
        self.cols.insert(name.to_string(), col);
        self.column_stage.insert(name.to_string(), self.stage_no);
    }

    /// Column `name` for the rows in play.
    fn gather(&self, name: &str) -> Result<Vec<f64>> {
        let col = self.cols.get(name).ok_or_else(|| Error::Invalid(format!("no column `{name}` computed")))?;
        Ok(self.active.iter().map(|&r| col[r]).collect())
    }

    /// The embeddings of the rows in play, in their order.
    fn active_embeddings(&self) -> Result<(Matrix, String)> {
        let e = self.emb.as_ref().ok_or_else(|| Error::Invalid("no embeddings computed".into()))?;
        if e.rows == self.active {
            return Ok((e.matrix.clone(), e.identity.clone()));
        }
        let at: std::collections::HashMap<usize, usize> = e.rows.iter().enumerate().map(|(i, &r)| (r, i)).collect();
        let mut data = Vec::with_capacity(self.active.len() * e.matrix.dim);
        for r in &self.active {
            let i = at.get(r).ok_or_else(|| {
                Error::Invalid("the rows in play were not all embedded; put the `embed` stage after the filters".into())
            })?;
            data.extend_from_slice(e.matrix.row(*i));
        }
        let ids: Vec<_> = self.active.iter().map(|&r| self.ds.ids[r]).collect();
        let pos: Vec<_> = self.active.iter().map(|&r| self.ds.positions[r]).collect();
        Ok((Matrix::new(&ids, &pos, e.matrix.dim, data), e.identity.clone()))
    }

    /// Records the input rows `rows` as dropped by a rule (zero rows too: the report shows every
    /// rule that ran). The count is the length of the list, so per-row fates and counts agree.
    fn drop_rows(&mut self, reason: String, rows: &[usize]) {
        let at = self.dropped.len() as u32;
        for &r in rows {
            self.row_drop[r] = Some(at);
        }
        self.dropped.push((reason, rows.len()));
        self.drop_stage.push(self.stage_no);
    }

    /// Keeps the rows in play for which `keep` holds and returns the others (in their order).
    fn retain_active(&mut self, keep: impl Fn(usize) -> bool) -> Vec<usize> {
        let (kept, gone): (Vec<usize>, Vec<usize>) = self.active.iter().partition(|&&r| keep(r));
        self.active = kept;
        gone
    }
}

/// Runs `recipe` over `ds`. The recipe must have passed [`crate::recipe::validate`].
pub fn run(recipe: &Recipe, ds: &Dataset, opts: &RunOptions, obs: &dyn Observer) -> Result<RunOutcome> {
    let mut st = State {
        ds,
        work: &opts.work,
        obs,
        active: (0..ds.len()).collect(),
        cols: BTreeMap::new(),
        emb: None,
        k: 0,
        dropped: Vec::new(),
        drop_stage: Vec::new(),
        row_drop: vec![None; ds.len()],
        stage_no: 0,
        column_stage: BTreeMap::new(),
        picks: None,
        models: Vec::new(),
        annotate: indexmap::IndexMap::new(),
        dedup: Vec::new(),
    };
    let mut log = StageLog::default();
    let mut select_rule = None;
    for (no, stage) in recipe.stages.iter().enumerate() {
        st.stage_no = no;
        log.begin(stage.kind());
        match stage {
            Stage::Read(_) => {}
            Stage::Score(s) => model_stages::score(&mut st, s)?,
            Stage::Embed(e) => model_stages::embed(&mut st, e)?,
            Stage::Cluster(c) => model_stages::cluster(&mut st, c)?,
            Stage::Classify(c) => model_stages::classify(&mut st, c)?,
            Stage::Dedup(d) => dedup_stage::dedup(&mut st, d)?,
            Stage::Filter(f) => columns::filter(&mut st, f)?,
            Stage::Combine(c) => columns::combine(&mut st, c)?,
            Stage::Select(s) => {
                select::select(&mut st, s)?;
                select_rule = Some(s.clone());
            }
            Stage::Write(w) => st.annotate = w.annotate.clone(),
        }
    }
    log.end();
    let picks = match st.picks.take() {
        Some(p) => p,
        None => st.active.iter().map(|&index| Pick { index, reason: gleaner_select::Reason::Passed }).collect(),
    };
    let parts = outcome::Parts {
        picks,
        dropped: st.dropped,
        drop_stage: st.drop_stage,
        row_drop: st.row_drop,
        columns: st.cols,
        column_stage: st.column_stage,
        embeddings: st.emb.map(|e| e.file),
        annotate: st.annotate,
        models: st.models,
        stages: log,
    };
    let mut outcome = RunOutcome::new(recipe, ds, parts, select_rule);
    outcome.dedup = st.dedup;
    outcome.check_counts()?;
    Ok(outcome)
}
