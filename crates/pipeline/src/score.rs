//! Per-row scoring stages whose results go to a side file (`quality`, IFD columns, …).

use crate::Observer;
use crate::cached::{CachedStage, run_cached};
use gleaner_cache::{Column, Manifest, SideTable};
use gleaner_core::{Record, Result};
use gleaner_read::Dataset;
use std::path::Path;

/// A model that gives each record one quality score (higher is better).
pub trait QualityModel: Send + Sync {
    /// Scores records, in order. `progress` receives the number done so far.
    fn score(&self, records: &[Record], progress: &(dyn Fn(usize) + Sync)) -> Result<Vec<f64>>;
    /// A stable identity for manifests.
    fn identity(&self) -> String;
}

/// CaR's IQS checkpoint as a [`QualityModel`]; it scores CaR's input string.
pub struct IqsModel {
    /// The loaded model.
    pub iqs: gleaner_iqs::Iqs,
    /// Identity (checkpoint path and size).
    pub id: String,
}

impl QualityModel for IqsModel {
    fn score(&self, records: &[Record], progress: &(dyn Fn(usize) + Sync)) -> Result<Vec<f64>> {
        let mut out = Vec::with_capacity(records.len());
        for chunk in records.chunks(256) {
            let texts: Vec<String> = chunk.iter().map(gleaner_core::layout::car_text).collect();
            out.extend(self.iqs.score(&texts)?);
            progress(out.len());
        }
        Ok(out)
    }

    fn identity(&self) -> String {
        self.id.clone()
    }
}

/// Rows per journaled chunk of the quality stage by default. Both models score in chunks of
/// 256, so the scores equal one call over all records.
pub const QUALITY_CHUNK_ROWS: usize = 4096;

/// Scores every record of `ds` with `model`, chunk by chunk (a released dataset is parsed
/// again one chunk at a time rather than held whole).
pub fn score_dataset(ds: &Dataset, model: &dyn QualityModel, progress: &(dyn Fn(usize) + Sync)) -> Result<Vec<f64>> {
    let mut out = Vec::with_capacity(ds.len());
    ds.for_each_chunk(QUALITY_CHUNK_ROWS, &mut |first, chunk| {
        out.extend(model.score(chunk, &|n| progress(first + n))?);
        Ok(())
    })?;
    Ok(out)
}

/// Scores every record into the `quality` column of `side`: reused when the side file was made
/// by the same model at the same `precision` and covers the rows; resumed chunk by chunk after
/// an interruption (a journal made otherwise is refused).
pub fn quality_stage(
    ds: &Dataset,
    model: &dyn QualityModel,
    precision: &str,
    chunk_rows: usize,
    side: &Path,
    obs: &dyn Observer,
) -> Result<SideTable> {
    let manifest = Manifest::new("score-quality", Some(model.identity()), &ds.ids)
        .param("precision", precision)
        .param("chunk_rows", chunk_rows);
    let stage = CachedStage { name: "quality", what: "quality scores", unit: "rows", side, manifest, chunk_rows };
    run_cached(ds, stage, obs, &mut |records| {
        Ok(vec![("quality".to_string(), Column::F64(model.score(records, &|_| {})?))])
    })
}

/// gleaner's own quality scorer ([`gleaner_quality::Scorer`]: frozen sentence embeddings and
/// text statistics under a pairwise-trained linear head) as a [`QualityModel`].
pub struct OwnQualityModel {
    /// The model with its loaded embedder.
    pub scorer: gleaner_quality::Scorer,
}

impl OwnQualityModel {
    /// Loads `default` (the shipped model) or a model file, and the embedder it names, at
    /// `precision`.
    pub fn load(name_or_path: &str, precision: gleaner_nn::Precision) -> Result<OwnQualityModel> {
        let model = gleaner_quality::Model::load_named(name_or_path)?;
        Ok(OwnQualityModel { scorer: gleaner_quality::Scorer::load(model, precision)? })
    }

    /// Whether `name_or_path` names a gleaner quality model (`default`, or a JSON file whose
    /// `format` is `gleaner-quality`) rather than, say, an IQS checkpoint.
    pub fn is_own_model(name_or_path: &str) -> bool {
        if name_or_path == "default" {
            return true;
        }
        let p = Path::new(name_or_path);
        p.is_file()
            && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("json"))
            && std::fs::read_to_string(p).is_ok_and(|t| gleaner_quality::Model::is_model_json(&t))
    }
}

impl QualityModel for OwnQualityModel {
    fn score(&self, records: &[Record], progress: &(dyn Fn(usize) + Sync)) -> Result<Vec<f64>> {
        let mut out = Vec::with_capacity(records.len());
        for chunk in records.chunks(256) {
            out.extend(self.scorer.score(chunk, &|_| {})?);
            progress(out.len());
        }
        Ok(out)
    }

    fn identity(&self) -> String {
        self.scorer.identity()
    }
}
