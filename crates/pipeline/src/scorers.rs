//! One scorer trait for every per-row score: quality (gleaner's own scorer or CaR's IQS), IFD
//! and reversed IFD, length and random, plus values computed elsewhere. A scorer is built once
//! (its model loaded at the precision it was given) and then scores any dataset; the recipe
//! runner and the bindings call it the same way.

use crate::models::{ModelFamily, precision_name, resolve_precision};
use crate::recipe::presets::{DEFAULT_LM, DEFAULT_QUALITY};
use crate::recipe::{LengthUnit, Score, Scorer as Kind, score_columns};
use crate::{Observer, WorkDir};
use gleaner_core::layout::Template;
use gleaner_core::{Error, Record, Result};
use gleaner_read::Dataset;
use rayon::prelude::*;

/// Named score columns, one value per row of the scored dataset.
pub type Scores = Vec<(String, Vec<f64>)>;

/// A per-row scorer.
pub trait Scorer {
    /// The columns [`Scorer::score`] returns, in order.
    fn columns(&self) -> Vec<String>;
    /// The model and the precision it runs at (`None` for scorers without a model).
    fn model(&self) -> Option<(String, String)>;
    /// Scores every row of `ds`. With `work`, model scorers keep a side file there (reused when
    /// its identity matches, journaled so an interrupted run resumes).
    fn score(&self, ds: &Dataset, work: Option<&WorkDir>, obs: &dyn Observer) -> Result<Scores>;
}

/// Builds the scorer a recipe's score stage names, loading its model.
pub fn build(s: &Score) -> Result<Box<dyn Scorer>> {
    Ok(match s.scorer {
        Kind::Quality => Box::new(QualityScorer::load(s)?),
        Kind::Ifd | Kind::ReversedIfd => Box::new(IfdScorer::load(s)?),
        Kind::Length => Box::new(LengthScorer::load(s)?),
        Kind::Random => Box::new(RandomScorer { seed: s.seed.unwrap_or(0) }),
        Kind::Existing => Box::new(ExistingScorer {
            source: crate::values::Source::parse(s.source.as_deref().unwrap_or_default()),
            into: score_columns(s).remove(0),
        }),
    })
}

/// A side file path in `work`, or a temporary one when the caller keeps none.
fn side(work: Option<&WorkDir>, name: &str) -> Result<(std::path::PathBuf, Option<tempfile::TempDir>)> {
    match work {
        Some(w) => Ok((w.side(name)?, None)),
        None => {
            let t = tempfile::tempdir().map_err(|e| Error::io(std::env::temp_dir(), e))?;
            Ok((t.path().join(name), Some(t)))
        }
    }
}

/// The quality scorer: `quality`.
pub struct QualityScorer {
    model: Box<dyn crate::score::QualityModel>,
    precision: gleaner_nn::Precision,
    chunk_rows: usize,
}

impl QualityScorer {
    /// Loads the stage's model (`default`, a model file or an IQS checkpoint) at its precision.
    pub fn load(s: &Score) -> Result<QualityScorer> {
        let p = resolve_precision(s.precision, ModelFamily::Exact);
        let name = s.model.as_deref().unwrap_or(DEFAULT_QUALITY);
        let model = crate::models::load_quality(name, s.encoder.as_deref().map(std::path::Path::new), p)?;
        let chunk_rows = s.chunk_rows.unwrap_or(crate::score::QUALITY_CHUNK_ROWS).max(1);
        Ok(QualityScorer { model, precision: p, chunk_rows })
    }
}

impl QualityScorer {
    /// Scores records in memory (no side file), in the same chunks as the stage: the values
    /// of the side file's `quality` column.
    pub fn score_records(&self, records: &[Record]) -> Result<Vec<f64>> {
        let mut out = Vec::with_capacity(records.len());
        for chunk in records.chunks(self.chunk_rows) {
            out.extend(self.model.score(chunk, &|_| {})?);
        }
        Ok(out)
    }
}

impl Scorer for QualityScorer {
    fn columns(&self) -> Vec<String> {
        vec!["quality".into()]
    }

    fn model(&self) -> Option<(String, String)> {
        Some((self.model.identity(), precision_name(self.precision).into()))
    }

    fn score(&self, ds: &Dataset, work: Option<&WorkDir>, obs: &dyn Observer) -> Result<Scores> {
        if ds.is_empty() {
            return Ok(vec![("quality".into(), Vec::new())]);
        }
        let (path, _tmp) = side(work, "quality.parquet")?;
        let name = precision_name(self.precision);
        let t = crate::score::quality_stage(ds, self.model.as_ref(), name, self.chunk_rows, &path, obs)?;
        Ok(vec![("quality".into(), t.f64_column("quality", &path)?)])
    }
}

/// IFD (and reversed IFD) from a causal LM: the IFD columns of [`crate::ifd`].
pub struct IfdScorer {
    lm: gleaner_lm::LoadedLm,
    opts: crate::ifd::IfdOptions,
    columns: Vec<String>,
}

impl IfdScorer {
    /// Loads the stage's causal LM at its precision.
    pub fn load(s: &Score) -> Result<IfdScorer> {
        let template = match s.template.as_deref() {
            Some(t) => Template::parse(t).ok_or_else(|| Error::Invalid(format!("unknown template `{t}`")))?,
            None => Template::None,
        };
        let mut opts = crate::ifd::IfdOptions::new(template);
        if let Some(m) = s.max_length {
            opts.max_length = m;
        }
        if let Some(c) = s.chunk_rows {
            opts.chunk_rows = c.max(1);
        }
        opts.reverse = s.scorer == Kind::ReversedIfd;
        let p = resolve_precision(s.precision, ModelFamily::IfdLm);
        opts.precision = precision_name(p).into();
        let lm = crate::models::load_lm(s.model.as_deref().unwrap_or(DEFAULT_LM), p)?;
        Ok(IfdScorer { lm, opts, columns: score_columns(s) })
    }
}

impl IfdScorer {
    /// Scores records in memory (no side file): see [`crate::ifd::score_records`].
    pub fn score_records(&self, records: &[Record]) -> Result<crate::journal::Chunk> {
        crate::ifd::score_records(&self.lm, &self.opts, records)
    }

    /// The options the scorer runs with (template, truncation, precision, chunking).
    pub fn options(&self) -> &crate::ifd::IfdOptions {
        &self.opts
    }
}

impl Scorer for IfdScorer {
    fn columns(&self) -> Vec<String> {
        self.columns.clone()
    }

    fn model(&self) -> Option<(String, String)> {
        Some((self.lm.model.identity(), self.opts.precision.clone()))
    }

    fn score(&self, ds: &Dataset, work: Option<&WorkDir>, obs: &dyn Observer) -> Result<Scores> {
        if ds.is_empty() {
            return Ok(self.columns.iter().map(|c| (c.clone(), Vec::new())).collect());
        }
        let (path, _tmp) = side(work, &format!("ifd-{}.parquet", self.opts.template.name()))?;
        let t = crate::ifd::ifd_stage(ds, &self.lm, &self.opts, &path, obs)?;
        self.columns.iter().map(|c| Ok((c.clone(), t.f64_column(c, &path)?))).collect()
    }
}

/// Response length: `response_tokens` (a causal LM's tokenizer) or `response_chars`, every
/// assistant turn counted.
pub struct LengthScorer {
    lm: Option<gleaner_lm::LoadedLm>,
    column: String,
}

impl LengthScorer {
    /// Loads the tokenizer's model when counting tokens.
    pub fn load(s: &Score) -> Result<LengthScorer> {
        let lm = match s.unit.unwrap_or_default() {
            // the tokenizer only: no forward pass runs
            LengthUnit::Tokens => {
                Some(crate::models::load_lm(s.model.as_deref().unwrap_or(DEFAULT_LM), gleaner_nn::Precision::F32)?)
            }
            LengthUnit::Chars => None,
        };
        Ok(LengthScorer { lm, column: score_columns(s).remove(0) })
    }
}

fn responses(r: &Record) -> Vec<String> {
    r.turns.iter().filter(|t| t.role.is_model()).map(|t| t.content.clone()).collect()
}

impl Scorer for LengthScorer {
    fn columns(&self) -> Vec<String> {
        vec![self.column.clone()]
    }

    fn model(&self) -> Option<(String, String)> {
        self.lm.as_ref().map(|lm| (format!("tokenizer of {}", lm.model.identity()), "-".into()))
    }

    fn score(&self, ds: &Dataset, _: Option<&WorkDir>, _: &dyn Observer) -> Result<Scores> {
        let texts = ds.map_records(responses)?;
        let v: Vec<f64> = match &self.lm {
            None => texts.iter().map(|t| t.iter().map(|x| x.chars().count()).sum::<usize>() as f64).collect(),
            Some(lm) => texts
                .par_iter()
                .map(|turns| turns.iter().try_fold(0usize, |n, t| Ok::<_, Error>(n + lm.tokenizer.encode(t)?.len())))
                .map(|n| n.map(|n| n as f64))
                .collect::<Result<_>>()?,
        };
        Ok(vec![(self.column.clone(), v)])
    }
}

/// `random`: uniform in [0, 1) from a hash of the row id and the seed, so a row's value does
/// not depend on the other rows.
pub struct RandomScorer {
    /// The seed.
    pub seed: u64,
}

impl Scorer for RandomScorer {
    fn columns(&self) -> Vec<String> {
        vec!["random".into()]
    }

    fn model(&self) -> Option<(String, String)> {
        None
    }

    fn score(&self, ds: &Dataset, _: Option<&WorkDir>, _: &dyn Observer) -> Result<Scores> {
        let v = ds
            .ids
            .iter()
            .map(|id| {
                (xxhash_rust::xxh3::xxh3_64_with_seed(&id.0.to_le_bytes(), self.seed) >> 11) as f64
                    / (1u64 << 53) as f64
            })
            .collect();
        Ok(vec![("random".into(), v)])
    }
}

/// Values computed elsewhere: a record field or a side file column.
pub struct ExistingScorer {
    source: crate::values::Source,
    into: String,
}

impl Scorer for ExistingScorer {
    fn columns(&self) -> Vec<String> {
        vec![self.into.clone()]
    }

    fn model(&self) -> Option<(String, String)> {
        None
    }

    fn score(&self, ds: &Dataset, _: Option<&WorkDir>, _: &dyn Observer) -> Result<Scores> {
        Ok(vec![(self.into.clone(), crate::values::numbers(ds, &self.source, &self.into)?)])
    }
}
