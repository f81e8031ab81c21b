//! The IFD scoring stage: per-row response losses with and without the instruction from a
//! causal LM, both IFD forms, optional reversed IFD, multi-turn records, row-level resume.
//!
//! Columns of the side file (besides `row_id`, `row_index`):
//!
//! | column | meaning |
//! |---|---|
//! | `loss_direct`, `loss_cond` | mean NLL of the response tokens alone / given the prompt |
//! | `ifd_ppl` | `exp(loss_cond − loss_direct)` (Superfiltering's perplexity ratio) |
//! | `ifd_loss` | `loss_cond / loss_direct` (Cherry's loss ratio) |
//! | `tokens_direct`, `tokens_cond` | response tokens scored in each pass |
//! | `ifd_ppl_min`, `ifd_loss_min` | the smallest per-turn value (equal to the mean for one turn) |
//! | `turns` | assistant turns scored |
//! | `loss_q_direct`, `loss_q_cond`, `rifd_ppl`, `rifd_loss`, `tokens_q_direct`, `tokens_q_cond` | reversed IFD (`--reverse`) |
//! | `turn_ifd_ppl`, `turn_ifd_loss` | multi-turn inputs only: the per-turn values as JSON arrays |
//!
//! Skipped samples (docs/methods.md §2.4, §3.2: empty output, response truncated away, prompt at or beyond
//! `max_length`) get NaN and 0 tokens.
//!
//! **Multi-turn records.** Every assistant turn is scored given the conversation before it
//! (rendered in the template; see [`Template::conversation_prompt`]) and alone. The record's
//! `loss_*` and `ifd_*` are the **mean over its turns that could be scored** (each turn counts
//! once, whatever its length, so a long last answer does not drown the others); `*_min` is
//! the minimum, the turn where the context helped most. Single-turn records give exactly the
//! reference values. All passes of a chunk go to the model in one call, so a turn's
//! conditioned pass that is a token prefix of a later turn's is computed inside that longer
//! forward (`gleaner_lm`'s NLL driver shares prefixes), not run again.

use crate::Observer;
use crate::cached::{CachedStage, run_cached};
use crate::ifd_plan::{Planner, TurnPlan};
use crate::journal::Chunk;
use gleaner_cache::{Column, Manifest, SideTable};
use gleaner_core::Result;
use gleaner_core::layout::Template;
use gleaner_lm::LoadedLm;
use gleaner_read::Dataset;
use rayon::prelude::*;
use std::path::Path;

/// Options of the IFD stage.
#[derive(Debug, Clone)]
pub struct IfdOptions {
    /// Prompt template (`none` = Superfiltering, `alpaca|wiz|vicuna` = Cherry, `chatml`).
    pub template: Template,
    /// Token truncation length.
    pub max_length: usize,
    /// Also compute reversed IFD (docs/methods.md §3.6).
    pub reverse: bool,
    /// Rows per resume chunk.
    pub chunk_rows: usize,
    /// The arithmetic the model runs in (part of the side file's identity).
    pub precision: String,
}

impl IfdOptions {
    /// The template's reference defaults.
    pub fn new(template: Template) -> IfdOptions {
        IfdOptions {
            template,
            max_length: template.default_max_length(),
            reverse: false,
            chunk_rows: 128,
            precision: "f32".into(),
        }
    }

    /// The manifest of a run of this stage.
    pub fn manifest(&self, lm: &LoadedLm, ds: &Dataset) -> Manifest {
        Manifest::new("score-ifd", Some(lm.model.identity()), &ds.ids)
            .param("template", self.template.name())
            .param("max_length", self.max_length)
            .param("reverse", self.reverse)
            .param("chunk_rows", self.chunk_rows)
            .param("precision", &self.precision)
    }
}

fn mean(v: &[f32]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64
}

/// Per-turn results.
#[derive(Debug, Clone, Copy)]
struct TurnScore {
    ld: f64,
    lc: f64,
    td: i64,
    tc: i64,
    lqd: f64,
    lqc: f64,
    tqd: i64,
    tqc: i64,
}

fn agg(vals: impl Iterator<Item = f64>) -> (f64, f64) {
    let v: Vec<f64> = vals.filter(|x| !x.is_nan()).collect();
    if v.is_empty() {
        return (f64::NAN, f64::NAN);
    }
    (v.iter().sum::<f64>() / v.len() as f64, v.iter().copied().fold(f64::INFINITY, f64::min))
}

fn ratio_ppl(c: f64, d: f64) -> f64 {
    (c - d).exp()
}

fn ratio_loss(c: f64, d: f64) -> f64 {
    c / d
}

/// Scores one chunk of records.
fn score_chunk(
    planner: &Planner<'_>,
    lm: &LoadedLm,
    recs: &[gleaner_core::Record],
    opts: &IfdOptions,
    multi: bool,
) -> Result<(Chunk, usize)> {
    let plans: Vec<Vec<TurnPlan>> = recs.par_iter().map(|r| planner.record(r)).collect::<Result<_>>()?;
    // Flatten every pass into one call so the model batches across rows.
    let mut seqs: Vec<&[u32]> = Vec::new();
    let mut from: Vec<usize> = Vec::new();
    type Slots = [Option<usize>; 4];
    let mut slots: Vec<Vec<Slots>> = Vec::with_capacity(plans.len());
    for turns in &plans {
        let mut row = Vec::with_capacity(turns.len());
        for t in turns {
            let mut s: Slots = [None; 4];
            for (slot, p) in s.iter_mut().zip([&t.direct, &t.cond, &t.q_direct, &t.q_cond]) {
                if let Some(p) = p {
                    seqs.push(&p.ids);
                    from.push(p.from);
                    *slot = Some(seqs.len() - 1);
                }
            }
            row.push(s);
        }
        slots.push(row);
    }
    let tokens: usize = seqs.iter().map(|s| s.len()).sum();
    let nll = lm.model.nll(&seqs, &from);
    let loss = |s: Option<usize>| s.map_or(f64::NAN, |i| mean(&nll[i]));
    let count = |s: Option<usize>| s.map_or(0, |i| nll[i].len() as i64);
    let scores: Vec<Vec<TurnScore>> = slots
        .iter()
        .map(|turns| {
            turns
                .iter()
                .map(|s| TurnScore {
                    ld: loss(s[0]),
                    lc: loss(s[1]),
                    td: count(s[0]),
                    tc: count(s[1]),
                    lqd: loss(s[2]),
                    lqc: loss(s[3]),
                    tqd: count(s[2]),
                    tqc: count(s[3]),
                })
                .collect()
        })
        .collect();
    let col = |f: &dyn Fn(&[TurnScore]) -> f64| Column::F64(scores.iter().map(|t| f(t)).collect());
    let coli = |f: &dyn Fn(&[TurnScore]) -> i64| Column::I64(scores.iter().map(|t| f(t)).collect());
    let mut out: Chunk = vec![
        ("loss_direct".into(), col(&|t| agg(t.iter().map(|s| s.ld)).0)),
        ("loss_cond".into(), col(&|t| agg(t.iter().map(|s| s.lc)).0)),
        ("ifd_ppl".into(), col(&|t| agg(t.iter().map(|s| ratio_ppl(s.lc, s.ld))).0)),
        ("ifd_loss".into(), col(&|t| agg(t.iter().map(|s| ratio_loss(s.lc, s.ld))).0)),
        ("tokens_direct".into(), coli(&|t| t.iter().map(|s| s.td).sum())),
        ("tokens_cond".into(), coli(&|t| t.iter().map(|s| s.tc).sum())),
        ("ifd_ppl_min".into(), col(&|t| agg(t.iter().map(|s| ratio_ppl(s.lc, s.ld))).1)),
        ("ifd_loss_min".into(), col(&|t| agg(t.iter().map(|s| ratio_loss(s.lc, s.ld))).1)),
        ("turns".into(), coli(&|t| t.len() as i64)),
    ];
    if opts.reverse {
        out.extend([
            ("loss_q_direct".into(), col(&|t| agg(t.iter().map(|s| s.lqd)).0)),
            ("loss_q_cond".into(), col(&|t| agg(t.iter().map(|s| s.lqc)).0)),
            ("rifd_ppl".into(), col(&|t| agg(t.iter().map(|s| ratio_ppl(s.lqc, s.lqd))).0)),
            ("rifd_loss".into(), col(&|t| agg(t.iter().map(|s| ratio_loss(s.lqc, s.lqd))).0)),
            ("tokens_q_direct".into(), coli(&|t| t.iter().map(|s| s.tqd).sum())),
            ("tokens_q_cond".into(), coli(&|t| t.iter().map(|s| s.tqc).sum())),
        ]);
    }
    if multi {
        let js = |f: &dyn Fn(&TurnScore) -> f64| {
            Column::Str(
                scores
                    .iter()
                    .map(|t| {
                        let v: Vec<serde_json::Value> =
                            t.iter().map(|s| gleaner_core::nonfinite::float_value(f(s))).collect();
                        serde_json::Value::Array(v).to_string()
                    })
                    .collect(),
            )
        };
        out.push(("turn_ifd_ppl".into(), js(&|s| ratio_ppl(s.lc, s.ld))));
        out.push(("turn_ifd_loss".into(), js(&|s| ratio_loss(s.lc, s.ld))));
    }
    Ok((out, tokens))
}

/// Scores records in memory, with no side file: `opts.chunk_rows` rows per model call, as
/// [`ifd_stage`] does, and exactly [`ifd_stage`]'s per-row arithmetic. Returns the IFD columns of
/// the side file ([`crate::recipe::IFD_COLUMNS`], plus [`crate::recipe::RIFD_COLUMNS`] with
/// `opts.reverse`), one value per record; the per-turn JSON columns of multi-turn inputs are
/// left out so that every batch yields the same columns. Rows that cannot be scored get NaN
/// and 0 tokens, as in the side file.
pub fn score_records(lm: &LoadedLm, opts: &IfdOptions, records: &[gleaner_core::Record]) -> Result<Chunk> {
    let planner = Planner::new(&lm.tokenizer, opts.template, opts.max_length, opts.reverse);
    let mut wanted: Vec<&str> = crate::recipe::IFD_COLUMNS.to_vec();
    if opts.reverse {
        wanted.extend_from_slice(crate::recipe::RIFD_COLUMNS);
    }
    let mut chunks = std::collections::BTreeMap::new();
    for (i, recs) in records.chunks(opts.chunk_rows.max(1)).enumerate() {
        let (chunk, _) = score_chunk(&planner, lm, recs, opts, false)?;
        chunks.insert(i, chunk.into_iter().filter(|(n, _)| wanted.contains(&n.as_str())).collect::<Chunk>());
    }
    if chunks.is_empty() {
        let int = |n: &str| n.starts_with("tokens");
        return Ok(wanted
            .iter()
            .map(|n| (n.to_string(), if int(n) { Column::I64(Vec::new()) } else { Column::F64(Vec::new()) }))
            .collect());
    }
    crate::journal::concat(&chunks)
}

/// Scores every record into `side` (reused when made by the same recipe; resumed row-chunk by
/// row-chunk after an interruption).
pub fn ifd_stage(ds: &Dataset, lm: &LoadedLm, opts: &IfdOptions, side: &Path, obs: &dyn Observer) -> Result<SideTable> {
    let planner = Planner::new(&lm.tokenizer, opts.template, opts.max_length, opts.reverse);
    // whether any record is multi-turn decides the columns; found on the first chunk computed,
    // so a reused side file costs no pass over the records
    let mut multi = None;
    let t0 = std::time::Instant::now();
    let (mut rows_run, mut tokens_run) = (0usize, 0usize);
    let stage = CachedStage {
        name: "ifd",
        what: "IFD scores",
        unit: "rows",
        side,
        manifest: opts.manifest(lm, ds),
        chunk_rows: opts.chunk_rows,
    };
    let t: SideTable = run_cached(ds, stage, obs, &mut |records| {
        let multi = match multi {
            Some(m) => m,
            None => *multi.insert(ds.map_records(|r| r.model_turns() > 1)?.into_iter().any(|m| m)),
        };
        let (chunk, tokens) = score_chunk(&planner, lm, records, opts, multi)?;
        rows_run += records.len();
        tokens_run += tokens;
        let secs = t0.elapsed().as_secs_f64().max(1e-9);
        obs.detail(&format!("{:.0} tok/s, {:.1} rows/s", tokens_run as f64 / secs, rows_run as f64 / secs));
        Ok(chunk)
    })?;
    if rows_run > 0 {
        let secs = t0.elapsed().as_secs_f64();
        obs.info(&format!(
            "ifd: scored {rows_run} rows ({tokens_run} tokens) in {secs:.1}s: {:.0} tokens/s, {:.1} rows/s",
            tokens_run as f64 / secs,
            rows_run as f64 / secs
        ));
    }
    Ok(t)
}
