//! The IFD presets as thin recipes over the shared stages:
//!
//! - `cherry` (SPEC §2.4): IFD stage → keep finite `ifd_loss ≤ 1` → the largest
//!   `ratio × valid` (or a count) → original order.
//! - `superfilter` (SPEC §3.4): IFD stage (template `none`) → keep `ifd_ppl < 1` → the largest
//!   `ratio × rows` (the real row count, not the reference's hard-coded 52002) → descending order.
//! - `superfilter-d` (SPEC §3.5): the IFD stage's top candidates → MiniLM embeddings →
//!   facility location to the budget → greedy order.

use crate::embed::embed_stage;
use crate::ifd::{IfdOptions, ifd_stage};
use crate::stages::StageLog;
use crate::{Observer, WorkDir};
use gleaner_core::Result;
use gleaner_core::layout::{FlPart, TextKind};
use gleaner_embed::Embedder;
use gleaner_lm::LoadedLm;
use gleaner_read::Dataset;
use gleaner_select::{Budget, CherryOptions, Pick, Reason, SuperfilterOptions};
use std::fmt::Write as _;

/// Which IFD rule selects.
#[derive(Debug, Clone)]
pub enum IfdRule {
    /// Cherry: `ifd_loss ≤ 1`, budget of the valid rows, original order.
    Cherry(CherryOptions),
    /// Superfiltering: `ifd_ppl < threshold`, budget of all rows, descending order.
    Superfilter(SuperfilterOptions),
    /// Superfiltering.D: the top `candidates` by `ifd_ppl` below `upper`, then facility
    /// location on the embeddings of `part` to `budget`.
    Diverse {
        /// IFD candidates (`ifd_num`).
        candidates: Budget,
        /// Strict upper bound on the IFD (`ifd_lupper`, 0 disables).
        upper: f64,
        /// Facility-location budget (`fla_num`).
        budget: Budget,
        /// Text embedded.
        part: FlPart,
    },
}

/// What an IFD preset run produced.
pub struct IfdRun {
    /// Kept rows in output order.
    pub picks: Vec<Pick>,
    /// The ranked IFD column per input row.
    pub ifd: Vec<f64>,
    /// Name of that column.
    pub column: &'static str,
    /// Why rows were dropped, with counts (they add up with the picks to the rows in).
    pub dropped: Vec<(String, usize)>,
    /// Per-stage wall time and peak RSS.
    pub stages: StageLog,
}

impl IfdRun {
    /// The dropped-rows lines of the summary.
    pub fn dropped_summary(&self) -> String {
        let mut s = String::new();
        for (why, n) in &self.dropped {
            let _ = writeln!(s, "  dropped: {why:<34} {n}");
        }
        s
    }
}

/// Runs an IFD preset.
pub fn run_ifd(
    ds: &Dataset,
    lm: &LoadedLm,
    ifd_opts: &IfdOptions,
    rule: &IfdRule,
    embedder: Option<&dyn Embedder>,
    work: &WorkDir,
    obs: &dyn Observer,
) -> Result<IfdRun> {
    let mut stages = StageLog::default();
    stages.begin("ifd");
    let side = work.side(&format!("ifd-{}.parquet", ifd_opts.template.name()))?;
    let table = ifd_stage(ds, lm, ifd_opts, &side, obs)?;
    let (column, threshold_text) = match rule {
        IfdRule::Cherry(_) => ("ifd_loss", "IFD > 1 (misaligned)".to_string()),
        IfdRule::Superfilter(o) => ("ifd_ppl", format!("IFD ≥ {} (misaligned)", o.threshold)),
        IfdRule::Diverse { upper, .. } => ("ifd_ppl", format!("IFD ≥ {upper} (misaligned)")),
    };
    let ifd = table.f64_column(column, &side)?;
    let nan = ifd.iter().filter(|x| x.is_nan()).count();
    stages.begin("select");
    let (picks, over) = match rule {
        IfdRule::Cherry(o) => (
            gleaner_select::cherry(&ifd, o),
            ifd.iter().filter(|x| x.is_infinite() || (x.is_finite() && **x > 1.0)).count(),
        ),
        IfdRule::Superfilter(o) => {
            (gleaner_select::superfilter(&ifd, o), ifd.iter().filter(|x| !x.is_nan() && **x >= o.threshold).count())
        }
        IfdRule::Diverse { candidates, upper, budget, part } => {
            let top = candidates.resolve(ds.len()).max(1);
            let cand = gleaner_select::ifd_stage(&ifd, *upper, top, 0.0);
            // NaN rows pass `upper == 0` only; keep candidates with a number.
            let cand: Vec<usize> = cand.into_iter().filter(|&i| !ifd[i].is_nan()).collect();
            let over = ifd.iter().filter(|x| !x.is_nan() && *upper != 0.0 && **x >= *upper).count();
            let embedder =
                embedder.ok_or_else(|| gleaner_core::Error::Invalid("superfilter-d needs an embedder".into()))?;
            stages.begin("embed");
            let sub = ds.subset(&cand)?;
            let text = TextKind::Fl(*part);
            let emb =
                embed_stage(&sub, embedder, &text, &work.side(&format!("embeddings-{}.parquet", text.name()))?, obs)?;
            stages.begin("facility location");
            let n_fl = budget.resolve(ds.len()).min(cand.len());
            let data: Vec<f32> = (0..cand.len()).flat_map(|i| emb.row(i).to_vec()).collect();
            let fl = if n_fl == 0 {
                Vec::new()
            } else {
                gleaner_cluster::facility_location(
                    &data,
                    cand.len(),
                    embedder.dim(),
                    &gleaner_cluster::FacilityParams::new(n_fl),
                )?
                .picks
            };
            let picks: Vec<Pick> = fl.into_iter().map(|k| Pick { index: cand[k], reason: Reason::Diversity }).collect();
            stages.end();
            let dropped = vec![
                ("IFD not computable (NaN)".to_string(), nan),
                (threshold_text, over),
                ("below the IFD candidate cut".to_string(), ds.len() - nan - over - cand.len()),
                ("not picked by facility location".to_string(), cand.len() - picks.len()),
            ];
            return Ok(IfdRun { picks, ifd, column, dropped, stages });
        }
    };
    stages.end();
    let dropped = vec![
        ("IFD not computable (NaN)".to_string(), nan),
        (threshold_text, over),
        ("outside the budget".to_string(), ds.len() - nan - over - picks.len()),
    ];
    Ok(IfdRun { picks, ifd, column, dropped, stages })
}
