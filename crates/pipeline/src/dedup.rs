//! The dedup stage over records: which text of a record is compared ([`field_text`]),
//! decontamination against evaluation sets, clustering by the chosen method (the algorithms
//! are in `gleaner-dedup`), the kept row of each cluster, the side file and the summary.
//!
//! Order: rows whose prompt matches an evaluation set are dropped first; the other rows are
//! then clustered and every cluster keeps one row. Every row ends kept, dropped as a
//! duplicate of a named row, or dropped as contaminated by a named evaluation set.

use crate::recipe::{Dedup, DedupFields, DedupMethod, DedupTurns};
use crate::{Observer, WorkDir};
use gleaner_cache::{Column, Matrix, SideTable};
use gleaner_core::{Error, Record, Result, Role};
use gleaner_dedup::{
    Keep, MinHasher, NearIndex, NearOptions, SemanticOptions, Shingler, Unit, exact_key, representatives,
    semantic_clusters,
};
use gleaner_read::Dataset;
use rayon::prelude::*;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;

/// The text of `r` that `fields` and `turns` compare. Parts are joined by newlines.
pub fn field_text(r: &Record, fields: DedupFields, turns: DedupTurns) -> String {
    let mut parts: Vec<&str> = Vec::new();
    match fields {
        DedupFields::Prompt => user_turns(r, &mut parts),
        DedupFields::Response => parts.extend(r.turns.iter().filter(|t| t.role.is_model()).map(|t| t.content.as_str())),
        DedupFields::All => {
            if let Some(s) = &r.system {
                parts.push(s);
            }
            match turns {
                DedupTurns::User => user_turns(r, &mut parts),
                DedupTurns::All => {
                    let mut input_done = r.input.is_empty();
                    for t in &r.turns {
                        parts.push(&t.content);
                        if !input_done && t.role == Role::User {
                            parts.push(&r.input);
                            input_done = true;
                        }
                    }
                    if !input_done {
                        parts.push(&r.input);
                    }
                }
            }
        }
    }
    parts.join("\n")
}

/// Every user turn, the Alpaca input after the first.
fn user_turns<'a>(r: &'a Record, parts: &mut Vec<&'a str>) {
    let mut first = true;
    for t in r.turns.iter().filter(|t| t.role == Role::User) {
        parts.push(&t.content);
        if first && !r.input.is_empty() {
            parts.push(&r.input);
        }
        first = false;
    }
    if first && !r.input.is_empty() {
        parts.push(&r.input);
    }
}

/// The prompt of a record, as decontamination compares it.
pub fn prompt_text(r: &Record) -> String {
    field_text(r, DedupFields::Prompt, DedupTurns::All)
}

/// The resolved settings of a dedup stage.
#[derive(Debug, Clone)]
pub struct DedupSettings {
    /// The method.
    pub method: DedupMethod,
    /// Which text.
    pub fields: DedupFields,
    /// Which turns.
    pub turns: DedupTurns,
    /// Which row stays.
    pub keep: Keep,
    /// Jaccard or cosine threshold.
    pub threshold: f64,
    /// MinHash permutations.
    pub perms: usize,
    /// Shingling.
    pub shingler: Shingler,
    /// Sentence encoder for semantic comparisons that compute embeddings.
    pub model: String,
    /// Its arithmetic.
    pub precision: crate::recipe::PrecisionChoice,
}

impl DedupSettings {
    /// Resolves a recipe stage's options with the documented defaults.
    pub fn of(d: &Dedup) -> Result<DedupSettings> {
        let keep = match &d.keep {
            None => Keep::First,
            Some(k) => Keep::parse(k)
                .ok_or_else(|| Error::Invalid(format!("dedup keep `{k}`: use first, longest or score:COLUMN")))?,
        };
        let unit = match &d.unit {
            None => Unit::Auto,
            Some(u) => {
                Unit::parse(u).ok_or_else(|| Error::Invalid(format!("dedup unit `{u}`: use auto, word or char")))?
            }
        };
        let (lo, hi) = if d.method == DedupMethod::Semantic { (-1.0, 1.0) } else { (0.0, 1.0) };
        if let Some(t) = d.threshold
            && !(t > lo && t <= hi)
        {
            return Err(Error::Invalid(format!("dedup threshold {t}: must be in ({lo}, {hi}]")));
        }
        if d.perms.is_some_and(|p| p == 0 || p > 1024) || d.ngram == Some(0) {
            return Err(Error::Invalid("dedup perms must be in 1..=1024 and ngram at least 1".into()));
        }
        Ok(DedupSettings {
            method: d.method,
            fields: d.fields,
            turns: d.turns,
            keep,
            threshold: d.threshold.unwrap_or(match d.method {
                DedupMethod::Semantic => gleaner_dedup::semantic::DEFAULT_SEMANTIC_THRESHOLD,
                _ => gleaner_dedup::near::DEFAULT_THRESHOLD,
            }),
            perms: d.perms.unwrap_or(gleaner_dedup::minhash::DEFAULT_PERMS),
            shingler: Shingler { n: d.ngram.unwrap_or(gleaner_dedup::shingle::DEFAULT_NGRAM), unit },
            model: d.model.clone().unwrap_or_else(|| crate::recipe::presets::DEFAULT_EMBEDDER.to_string()),
            precision: d.precision,
        })
    }

    /// The near-duplicate options (threshold, derived bands × rows).
    pub fn near(&self) -> NearOptions {
        NearOptions::new(self.threshold, self.perms)
    }

    /// The near-duplicate options used for decontamination (the MinHash threshold even when the
    /// method is semantic).
    fn near_for_against(&self) -> NearOptions {
        let t =
            if self.method == DedupMethod::Semantic { gleaner_dedup::near::DEFAULT_THRESHOLD } else { self.threshold };
        NearOptions::new(t, self.perms)
    }

    /// `--explain`: the bands × rows and the S-curve, one line per Jaccard value.
    pub fn explain(&self) -> String {
        let o = self.near();
        let mut s = format!(
            "minhash: {} permutations, threshold {}, {} bands × {} rows (P(candidate) ≥ {} at the threshold, least false-positive area)\n  Jaccard  P(candidate)\n",
            self.perms,
            self.threshold,
            o.lsh.bands,
            o.lsh.rows,
            gleaner_dedup::lsh::DEFAULT_RECALL_AT_THRESHOLD
        );
        for (j, p) in o.lsh.s_curve() {
            let _ = writeln!(s, "  {j:.2}     {p:.6}");
        }
        s
    }
}

/// What happened to one row of the stage.
#[derive(Debug, Clone, PartialEq)]
pub struct RowOutcome {
    /// The reason it was dropped, or `None` when kept.
    pub dropped: Option<String>,
    /// Its cluster (the view index of the cluster's first row), `None` when unique.
    pub cluster: Option<usize>,
    /// The kept representative of its cluster (view index), `None` when it is kept itself.
    pub dup_of: Option<usize>,
    /// Highest verified similarity to another member of its cluster or to the evaluation
    /// prompt it matched (NaN when none).
    pub similarity: f64,
    /// The evaluation set it matched, if any: `(set, kind, eval row)`.
    pub contaminated: Option<(String, &'static str, usize)>,
}

/// One evaluation set's matches, and a dedup stage's report: the report crate's types, so
/// that `summary.json` and the HTML page describe the same values.
pub use gleaner_report::html::{DedupSection as DedupSummary, DupCluster, EvalSetMatches as SetReport};

/// What the caller supplies besides the rows.
pub struct DedupInputs<'a> {
    /// The settings.
    pub settings: &'a DedupSettings,
    /// Values of the `keep = score:COLUMN` column, one per row.
    pub scores: Option<Vec<f64>>,
    /// Embeddings of the rows (an earlier embed stage's), reused by the semantic method.
    pub embeddings: Option<Matrix>,
    /// Evaluation set files.
    pub against: &'a [String],
}

/// Embeds `texts` of `view` rows with the settings' encoder, cached in the work dir as
/// `embeddings-dedup-NAME.parquet` (a rerun reuses it).
fn embed_view(
    view: &Dataset,
    s: &DedupSettings,
    name: &str,
    render: &(dyn Fn(&Record) -> String + Sync),
    work: &WorkDir,
    obs: &dyn Observer,
) -> Result<Matrix> {
    let p = crate::models::resolve_precision(s.precision, crate::models::ModelFamily::SentenceEncoder);
    let enc = crate::models::load_embedder(&s.model, 8192, p)?;
    let side = work.side(&format!("embeddings-dedup-{name}.parquet"))?;
    crate::embed::embed_rendered(
        view,
        &enc,
        &format!("dedup-{name}"),
        render,
        crate::models::precision_name(p),
        crate::embed::EMBED_CHUNK_ROWS,
        &side,
        obs,
    )
}

fn set_name(path: &str) -> String {
    Path::new(path).file_stem().map_or_else(|| path.to_string(), |s| s.to_string_lossy().into_owned())
}

/// A pool row's match: (evaluation set index, kind, evaluation row, similarity).
type EvalMatch = (usize, &'static str, usize, f64);

/// Finds, per pool row, the first evaluation set (in the order given) whose prompts it
/// matches, and counts matches per set.
fn decontaminate(
    view: &Dataset,
    inputs: &DedupInputs<'_>,
    work: &WorkDir,
    obs: &dyn Observer,
) -> Result<(Vec<Option<EvalMatch>>, Vec<SetReport>)> {
    let s = inputs.settings;
    let n = view.len();
    let mut first: Vec<Option<EvalMatch>> = vec![None; n];
    if inputs.against.is_empty() {
        return Ok((first, Vec::new()));
    }
    let prompts = view.map_records(prompt_text)?;
    let keys: Vec<u128> = prompts.par_iter().map(|p| exact_key(p)).collect();
    let hasher = MinHasher::new(s.perms, gleaner_dedup::minhash::DEFAULT_SEED);
    let opts = s.near_for_against();
    let shingles: Vec<Vec<u32>> = prompts.par_iter().map(|p| s.shingler.shingles(p)).collect();
    let sigs = hasher.signatures(&shingles);
    let pool_emb = if s.method == DedupMethod::Semantic {
        Some(embed_view(view, s, "prompt", &prompt_text, work, obs)?)
    } else {
        None
    };
    let mut reports = Vec::new();
    for (set_i, path) in inputs.against.iter().enumerate() {
        let eval = gleaner_read::read(Path::new(path), &gleaner_read::ReadOptions::default())?;
        let eval_prompts = eval.map_records(prompt_text)?;
        let mut eval_keys: HashMap<u128, usize> = HashMap::new();
        for (i, p) in eval_prompts.iter().enumerate() {
            eval_keys.entry(exact_key(p)).or_insert(i);
        }
        let eval_sh: Vec<Vec<u32>> = eval_prompts.par_iter().map(|p| s.shingler.shingles(p)).collect();
        let eval_sigs = hasher.signatures(&eval_sh);
        let index = NearIndex::build(&eval_sigs, s.perms, eval_sh, &opts);
        let sem = match &pool_emb {
            Some(pe) => {
                let enc_p = crate::models::resolve_precision(s.precision, crate::models::ModelFamily::SentenceEncoder);
                let enc = crate::models::load_embedder(&s.model, 8192, enc_p)?;
                use gleaner_embed::Embedder;
                let ev = enc.embed(&eval_prompts, &|_| {})?;
                gleaner_dedup::semantic::best_matches(&pe.data, &ev, pe.dim, s.threshold)
            }
            None => vec![None; n],
        };
        let found: Vec<Option<(&'static str, usize, f64)>> = (0..n)
            .into_par_iter()
            .map(|i| {
                if let Some(&e) = eval_keys.get(&keys[i]) {
                    return Some(("exact", e, 1.0));
                }
                if let Some((e, j)) = index.query(&sigs[i * s.perms..(i + 1) * s.perms], &shingles[i]) {
                    return Some(("near", e as usize, j));
                }
                sem[i].map(|(e, c)| ("semantic", e as usize, c))
            })
            .collect();
        let mut rep = SetReport { set: set_name(path), eval_rows: eval.len(), ..Default::default() };
        for (i, f) in found.iter().enumerate() {
            let Some((kind, e, sim)) = *f else { continue };
            rep.matched += 1;
            match kind {
                "exact" => rep.exact += 1,
                "near" => rep.near += 1,
                _ => rep.semantic += 1,
            }
            if rep.examples.len() < 3 {
                rep.examples.push((prompts[i].clone(), eval_prompts[e].clone(), kind.to_string(), sim));
            }
            if first[i].is_none() {
                first[i] = Some((set_i, kind, e, sim));
            }
        }
        obs.info(&format!("dedup: {} of {} pool rows match {}", rep.matched, n, rep.set));
        reports.push(rep);
    }
    Ok((first, reports))
}

/// Runs the stage over the rows of `view`: returns one outcome per row and the summary, and
/// writes the side file `dedup-METHOD-FIELDS.parquet` into `work`.
pub fn dedup(
    view: &Dataset,
    inputs: DedupInputs<'_>,
    work: &WorkDir,
    obs: &dyn Observer,
) -> Result<(Vec<RowOutcome>, DedupSummary)> {
    let s = inputs.settings;
    let n = view.len();
    let (contam, against) = decontaminate(view, &inputs, work, obs)?;
    // the rows that take part in deduplication
    let live: Vec<usize> = (0..n).filter(|&i| contam[i].is_none()).collect();
    let texts: Vec<String> = {
        let mut all = view.map_records(|r| field_text(r, s.fields, s.turns))?;
        // `live` is increasing: each text is moved out once
        live.iter().map(|&i| std::mem::take(&mut all[i])).collect()
    };
    obs.start(&format!("dedup {}", s.method.name()), live.len() as u64, "rows");
    let clusters = match s.method {
        DedupMethod::Exact => gleaner_dedup::exact_clusters(&texts),
        DedupMethod::Minhash => {
            let hasher = MinHasher::new(s.perms, gleaner_dedup::minhash::DEFAULT_SEED);
            let sigs = hasher.signatures_of_texts(&texts, &s.shingler);
            gleaner_dedup::near_clusters_with(&sigs, s.perms, &|i| s.shingler.shingles(&texts[i]).into(), &s.near())
        }
        DedupMethod::Semantic => {
            let m = match &inputs.embeddings {
                Some(m) => m.clone(),
                None => {
                    let (f, t) = (s.fields, s.turns);
                    let name = format!("{}{}", f.name(), if t == DedupTurns::User { "-user" } else { "" });
                    embed_view(view, s, &name, &move |r| field_text(r, f, t), work, obs)?
                }
            };
            if m.rows() != n {
                return Err(Error::Invalid(format!("internal: {} embeddings for {n} rows", m.rows())));
            }
            let data: Vec<f32> = live.iter().flat_map(|&i| m.row(i).iter().copied()).collect();
            semantic_clusters(&data, m.dim, &SemanticOptions { threshold: s.threshold, ..Default::default() })
        }
    };
    obs.progress(live.len() as u64);
    obs.finish();
    let priority: Option<Vec<f64>> = match &s.keep {
        Keep::First => None,
        Keep::Longest => {
            let len = view.map_records(|r| r.text_chars() as f64)?;
            Some(live.iter().map(|&i| len[i]).collect())
        }
        Keep::Score(c) => {
            let v = inputs.scores.as_ref().ok_or_else(|| Error::Invalid(format!("no column `{c}` for keep")))?;
            Some(live.iter().map(|&i| v[i]).collect())
        }
    };
    let rep = representatives(&clusters.root, priority.as_deref());
    let mut sizes: HashMap<u32, usize> = HashMap::new();
    for &r in &clusters.root {
        *sizes.entry(r).or_default() += 1;
    }
    let what = match s.method {
        DedupMethod::Exact => "exact duplicate".to_string(),
        DedupMethod::Minhash => format!("near-duplicate (Jaccard ≥ {})", s.threshold),
        DedupMethod::Semantic => format!("semantic duplicate (cosine ≥ {})", s.threshold),
    };
    let mut rows: Vec<RowOutcome> = (0..n)
        .map(|i| match contam[i] {
            Some((set, kind, e, sim)) => RowOutcome {
                dropped: Some(format!("contaminated: {kind} match in {}", against[set].set)),
                cluster: None,
                dup_of: None,
                similarity: sim,
                contaminated: Some((against[set].set.clone(), kind, e)),
            },
            None => RowOutcome { dropped: None, cluster: None, dup_of: None, similarity: f64::NAN, contaminated: None },
        })
        .collect();
    for (j, &i) in live.iter().enumerate() {
        let root = clusters.root[j];
        if sizes[&root] < 2 {
            continue;
        }
        let r = &mut rows[i];
        r.cluster = Some(live[root as usize]);
        r.similarity = f64::from(clusters.similarity[j]);
        if rep[j] as usize != j {
            r.dup_of = Some(live[rep[j] as usize]);
            r.dropped = Some(what.clone());
        }
    }
    // side file
    let side = work.side(&format!("dedup-{}-{}.parquet", s.method.name(), s.fields.name()))?;
    let pos = |o: Option<usize>| o.map_or(-1, |i| view.positions[i] as i64);
    let mut t = SideTable::new(&view.ids, &view.positions);
    t.set("dup_cluster", Column::I64(rows.iter().map(|r| pos(r.cluster)).collect()));
    t.set("dup_of", Column::I64(rows.iter().map(|r| pos(r.dup_of)).collect()));
    t.set("similarity", Column::F64(rows.iter().map(|r| r.similarity).collect()));
    t.set(
        "status",
        Column::Str(rows.iter().map(|r| if r.dropped.is_some() { "dropped" } else { "kept" }.to_string()).collect()),
    );
    t.set("reason", Column::Str(rows.iter().map(|r| r.dropped.clone().unwrap_or_default()).collect()));
    t.set(
        "contaminated_by",
        Column::Str(rows.iter().map(|r| r.contaminated.as_ref().map_or(String::new(), |c| c.0.clone())).collect()),
    );
    t.write(&side)?;
    // summary: the largest clusters with examples
    let all_texts = &texts;
    let largest = clusters
        .largest()
        .into_iter()
        .take(5)
        .map(|(root, size)| {
            let members: Vec<usize> = (0..live.len()).filter(|&j| clusters.root[j] == root).collect();
            let keep = rep[root as usize] as usize;
            let dropped = members
                .iter()
                .filter(|&&j| j != keep)
                .take(3)
                .map(|&j| (all_texts[j].clone(), f64::from(clusters.similarity[j])))
                .collect();
            DupCluster { size, kept: all_texts[keep].clone(), dropped }
        })
        .collect();
    let duplicates = rows.iter().filter(|r| r.dup_of.is_some()).count();
    let contaminated = rows.iter().filter(|r| r.contaminated.is_some()).count();
    let near = s.near();
    let settings = match s.method {
        DedupMethod::Exact => format!("exact, fields {}, keep {}", s.fields.name(), s.keep.name()),
        DedupMethod::Minhash => format!(
            "minhash, fields {}, keep {}, Jaccard ≥ {}, {}-gram {}, {} perms = {} bands × {} rows",
            s.fields.name(),
            s.keep.name(),
            s.threshold,
            s.shingler.n,
            s.shingler.unit.name(),
            s.perms,
            near.lsh.bands,
            near.lsh.rows
        ),
        DedupMethod::Semantic => {
            format!(
                "semantic, fields {}, keep {}, cosine ≥ {}, {}",
                s.fields.name(),
                s.keep.name(),
                s.threshold,
                s.model
            )
        }
    };
    let summary = DedupSummary {
        settings,
        rows_in: n,
        kept: n - duplicates - contaminated,
        duplicates,
        contaminated,
        clusters: clusters.largest().len(),
        pairs: (clusters.candidates, clusters.verified, clusters.accepted),
        largest,
        against,
        side_file: side.display().to_string(),
    };
    Ok((rows, summary))
}

#[cfg(test)]
mod tests {
    use super::*;
    use gleaner_core::Turn;

    #[test]
    fn fields_and_turns_pick_the_text() {
        let mut r = Record::alpaca("Sum these.", "1 2", "3");
        assert_eq!(field_text(&r, DedupFields::Prompt, DedupTurns::All), "Sum these.\n1 2");
        assert_eq!(field_text(&r, DedupFields::Response, DedupTurns::All), "3");
        assert_eq!(field_text(&r, DedupFields::All, DedupTurns::All), "Sum these.\n1 2\n3");
        r.system = Some("Be brief.".into());
        r.turns.push(Turn { role: Role::User, content: "And 4 5?".into() });
        r.turns.push(Turn { role: Role::Assistant, content: "9".into() });
        assert_eq!(field_text(&r, DedupFields::Prompt, DedupTurns::All), "Sum these.\n1 2\nAnd 4 5?");
        assert_eq!(field_text(&r, DedupFields::Response, DedupTurns::All), "3\n9");
        assert_eq!(field_text(&r, DedupFields::All, DedupTurns::All), "Be brief.\nSum these.\n1 2\n3\nAnd 4 5?\n9");
        assert_eq!(field_text(&r, DedupFields::All, DedupTurns::User), "Be brief.\nSum these.\n1 2\nAnd 4 5?");
    }
}
