//! The prompt stage of Cherry's pre-experienced sample selection (docs/methods.md §2.3): the causal LM's
//! perplexity of each prompt and the mean of its last hidden states, which the
//! `pre-experience` recipe clusters (k-means, no PCA) before taking, per cluster, the prompts
//! whose perplexity lies in a percentile band.
//!
//! The prompt is Cherry's `instruct_i`: the template's prompt without the response (the raw
//! instruction for `wiz`), truncated at `max_length` tokens.

use crate::{Observer, WorkDir};
use gleaner_cache::{Column, Manifest, Matrix, SideTable};
use gleaner_core::Result;
use gleaner_core::layout::Template;
use gleaner_lm::LoadedLm;
use gleaner_read::Dataset;
use rayon::prelude::*;

/// Cherry's `instruct_i` for a record.
pub fn instruct_text(template: Template, r: &gleaner_core::Record) -> String {
    match template {
        Template::Wiz => r.instruction().to_string(),
        t => {
            let k = r.turns.iter().position(|t| t.role.is_model()).unwrap_or(r.turns.len());
            t.conversation_prompt(r, k)
        }
    }
}

/// Prompt perplexities and LM prompt embeddings, cached in `prompt-ppl-<template>.parquet`
/// and `prompt-states-<template>.parquet`.
pub fn prompt_stage(
    ds: &Dataset,
    lm: &LoadedLm,
    template: Template,
    max_length: usize,
    precision: &str,
    work: &WorkDir,
    obs: &dyn Observer,
) -> Result<(Vec<f64>, Matrix)> {
    let ppl_side = work.side(&format!("prompt-ppl-{}.parquet", template.name()))?;
    let emb_side = work.side(&format!("prompt-states-{}.parquet", template.name()))?;
    let manifest = Manifest::new("prompt-lm", Some(lm.model.identity()), &ds.ids)
        .param("template", template.name())
        .param("max_length", max_length)
        .param("precision", precision);
    let cached = crate::reuse(&ppl_side, &manifest, obs, |p| SideTable::read(p).and_then(|t| t.align(&ds.ids, p)))?;
    let cached_m =
        crate::reuse(&emb_side, &manifest, obs, |p| Matrix::read(p).and_then(|m| m.into_aligned(&ds.ids, p)))?;
    if let (Some(t), Some(m)) = (cached, cached_m) {
        obs.info("reusing prompt perplexities and hidden states");
        return Ok((t.f64_column("ppl", &ppl_side)?, m));
    }
    let ids: Vec<Vec<u32>> = ds
        .map_records(|r| instruct_text(template, r))?
        .par_iter()
        .map(|t| {
            let mut v = lm.tokenizer.encode(t)?;
            v.truncate(max_length);
            Ok(v)
        })
        .collect::<Result<_>>()?;
    let mut ppl = Vec::with_capacity(ds.len());
    let mut emb = Vec::with_capacity(ds.len() * lm.model.hidden());
    obs.start("prompt ppl", ds.len() as u64, "rows");
    for chunk in ids.chunks(256) {
        let seqs: Vec<&[u32]> = chunk.iter().map(Vec::as_slice).collect();
        let nll = lm.model.nll(&seqs, &vec![1; seqs.len()]);
        ppl.extend(nll.iter().map(|v| {
            if v.is_empty() { f64::NAN } else { (v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64).exp() }
        }));
        for e in lm.model.prompt_embedding(&seqs) {
            emb.extend(e);
        }
        obs.progress(ppl.len() as u64);
    }
    obs.finish();
    let mut t = SideTable::new(&ds.ids, &ds.positions);
    t.set("ppl", Column::F64(ppl.clone()));
    t.write(&ppl_side)?;
    manifest.write_for(&ppl_side)?;
    let m = Matrix::new(&ds.ids, &ds.positions, lm.model.hidden(), emb);
    m.write(&emb_side)?;
    manifest.write_for(&emb_side)?;
    Ok((ppl, m))
}
