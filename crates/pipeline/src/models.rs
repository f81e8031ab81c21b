//! Loading the models a recipe names, with the arithmetic each one runs in.
//!
//! Precision is passed in per stage ([`PrecisionChoice`]) and given to each model at load; `auto`
//! resolves to each model family's own default ([`resolve_precision`]), and the resolved value
//! is part of every side file's identity, so a side file made in one precision is never reused
//! by a run in another.

use crate::recipe::spec::PrecisionChoice;
use crate::score::{IqsModel, OwnQualityModel, QualityModel};
use gleaner_core::{Error, Result};
use gleaner_embed::SentenceEncoder;
use gleaner_lm::LoadedLm;
use gleaner_nn::Precision;
use std::path::Path;

/// The model families whose `auto` precision differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelFamily {
    /// Sentence encoders (MiniLM): `auto` is one-term bf16 on AMX (cosine to f32 ≥ 0.9999).
    SentenceEncoder,
    /// Causal LMs scoring IFD: `auto` is three-term bf16 on AMX (every span mean loss within
    /// 1e-4 nat of transformers f32; see the README's precision table).
    IfdLm,
    /// Causal LMs used as feature extractors (the quality scorer), IQS, LM prompt states: `auto`
    /// is f32, the arithmetic they were trained and checked at.
    Exact,
}

/// The arithmetic a model of `family` runs in for `choice`: f32 wherever the CPU has no AMX
/// bf16 tiles.
pub fn resolve_precision(choice: PrecisionChoice, family: ModelFamily) -> Precision {
    let p = match choice {
        PrecisionChoice::Auto => match family {
            ModelFamily::SentenceEncoder => Precision::Bf16,
            ModelFamily::IfdLm => Precision::Bf16x3,
            ModelFamily::Exact => Precision::F32,
        },
        PrecisionChoice::F32 => Precision::F32,
        PrecisionChoice::Bf16x3 => Precision::Bf16x3,
        PrecisionChoice::Bf16 => Precision::Bf16,
    };
    gleaner_nn::effective(p)
}

/// The name of a resolved precision, as manifests and summaries write it.
pub fn precision_name(p: Precision) -> &'static str {
    match p {
        Precision::F32 => "f32",
        Precision::Bf16x3 => "bf16x3",
        Precision::Bf16 => "bf16",
    }
}

/// Loads a causal LM by path or installed name, its dense layers at `precision`.
pub fn load_lm(name: &str, precision: Precision) -> Result<LoadedLm> {
    let m = gleaner_models::resolve(name)?;
    gleaner_lm::load_with(m.path(), precision)
}

/// Loads a sentence-transformers model by name or path.
pub fn load_embedder(name: &str, batch_tokens: usize, precision: Precision) -> Result<SentenceEncoder> {
    let path = gleaner_models::resolve(name)?;
    let mut enc = SentenceEncoder::load_with(path.path(), precision)?;
    enc.batch_tokens = batch_tokens;
    Ok(enc)
}

/// Loads a quality model: `default` or a `gleaner train quality` model file (gleaner's own
/// scorer), or a CaR IQS checkpoint directory (its encoder from `encoder`, beside the
/// checkpoint, or the installed model that its `hparams.yaml` names).
pub fn load_quality(model: &str, encoder: Option<&Path>, precision: Precision) -> Result<Box<dyn QualityModel>> {
    if OwnQualityModel::is_own_model(model) {
        return Ok(Box::new(OwnQualityModel::load(model, precision)?));
    }
    let path = gleaner_models::resolve(model)?;
    let dir = path.path();
    if dir.join("hparams.yaml").is_file() || dir.extension().is_some_and(|e| e == "ckpt") {
        let model_dir = if dir.is_file() { dir.parent().and_then(Path::parent).unwrap_or(dir) } else { dir };
        let enc = match encoder {
            Some(e) => e.to_path_buf(),
            None => match gleaner_iqs::Iqs::local_encoder_dir(model_dir)? {
                Some(e) => e,
                None => {
                    let name = gleaner_iqs::Iqs::read_config(model_dir)?.pretrained_model;
                    gleaner_models::resolve(&name)
                        .map_err(|e| Error::model(&name, format!("the IQS encoder named in hparams.yaml: {e}")))?
                        .path()
                        .to_path_buf()
                }
            },
        };
        let iqs = gleaner_iqs::Iqs::load(dir, &enc, precision)?;
        let size = std::fs::metadata(dir).map(|m| m.len()).unwrap_or(0);
        return Ok(Box::new(IqsModel { iqs, id: format!("iqs:{}:{size}", dir.display()) }));
    }
    Err(Error::model(model, "not a gleaner quality model (.json or `default`) nor an IQS checkpoint (no hparams.yaml)"))
}
