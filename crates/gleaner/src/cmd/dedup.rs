//! `gleaner dedup IN -o OUT`: a recipe of one `dedup` stage (plus the score column `--keep
//! score:COLUMN` reads), run by the library's stage runner; `--explain` prints the S-curve;
//! `--signatures-out` and `--merge-signatures` are the sharded path.

use crate::cli::{DedupArgs, DedupFieldsArg, DedupMethodArg, DedupTurnsArg, InputArgs, UnitArg};
use anyhow::{Result, anyhow};
use gleaner_pipeline::dedup::{DedupSettings, field_text};
use gleaner_pipeline::recipe::{
    Dedup, DedupFields, DedupMethod, DedupTurns, PrecisionChoice, Recipe, Score, Scorer, Stage, Write,
};
use gleaner_pipeline::report::ReportOptions;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::PathBuf;

fn stage(a: &DedupArgs) -> Dedup {
    Dedup {
        method: match a.method {
            DedupMethodArg::Exact => DedupMethod::Exact,
            DedupMethodArg::Minhash => DedupMethod::Minhash,
            DedupMethodArg::Semantic => DedupMethod::Semantic,
        },
        fields: match a.fields {
            DedupFieldsArg::Prompt => DedupFields::Prompt,
            DedupFieldsArg::Response => DedupFields::Response,
            DedupFieldsArg::All => DedupFields::All,
        },
        turns: match a.turns {
            DedupTurnsArg::All => DedupTurns::All,
            DedupTurnsArg::User => DedupTurns::User,
        },
        keep: Some(a.keep.clone()),
        threshold: a.threshold,
        perms: a.perms,
        ngram: a.ngram,
        unit: a.unit.map(|u| {
            match u {
                UnitArg::Auto => "auto",
                UnitArg::Word => "word",
                UnitArg::Char => "char",
            }
            .to_string()
        }),
        model: a.embedder.clone(),
        against: a.against.iter().map(|p| p.display().to_string()).collect(),
        precision: PrecisionChoice::Auto,
    }
}

fn input(a: &DedupArgs) -> Result<InputArgs> {
    Ok(InputArgs {
        input: a.input.clone().ok_or_else(|| anyhow!("pass the input file"))?,
        format: a.format.clone(),
        on_error: a.on_error,
        limit: a.limit,
    })
}

pub fn run(a: DedupArgs, precision: Option<PrecisionChoice>) -> Result<()> {
    let d = stage(&a);
    let settings = DedupSettings::of(&d)?;
    if a.explain {
        print!("{}", settings.explain());
        if a.input.is_none() && a.merge_signatures.is_empty() {
            return Ok(());
        }
    }
    if !a.merge_signatures.is_empty() {
        return merge(&a);
    }
    if let Some(out) = &a.signatures_out {
        return signatures(&a, &settings, out);
    }
    let mut stages = Vec::new();
    if let Some(col) = a.keep.strip_prefix("score:") {
        // `score:PATH:COLUMN` names a side file column; `score:FIELD` a record field
        let into = col.rsplit(':').next().unwrap_or(col).to_string();
        let mut s = Score::new(Scorer::Existing);
        s.source = Some(col.to_string());
        s.into = Some(into.clone());
        stages.push(Stage::Score(s));
        let mut d = d.clone();
        d.keep = Some(format!("score:{into}"));
        stages.push(Stage::Dedup(d));
    } else {
        stages.push(Stage::Dedup(d));
    }
    stages.push(Stage::Write(Write::default()));
    let recipe = Recipe { name: "dedup".into(), description: String::new(), stages };
    let work = super::run::work_dir(a.work_dir.as_ref(), a.out.output.as_ref());
    // a dedup run's report leaves out the baselines: random and longest selections at the
    // kept count say nothing about duplicates
    let report = (!a.no_report).then(|| ReportOptions { no_baselines: true, ..Default::default() });
    super::run::execute(recipe, "", &PathBuf::from("dedup"), &input(&a)?, &a.out, work, precision, report)
}

/// The text settings a signature file records (shards merge only when they agree).
fn settings_label(s: &DedupSettings) -> String {
    format!("fields={} turns={:?}", s.fields.name(), s.turns).to_lowercase()
}

fn signatures(a: &DedupArgs, s: &DedupSettings, out: &std::path::Path) -> Result<()> {
    let ds = super::read_input(&input(a)?)?;
    let texts = ds.map_records(|r| field_text(r, s.fields, s.turns))?;
    let hasher = gleaner_dedup::MinHasher::new(s.perms, gleaner_dedup::minhash::DEFAULT_SEED);
    let ids = ds.ids.iter().map(|i| i.0).collect();
    let set = gleaner_dedup::SignatureSet::compute(&texts, ids, s.shingler, &hasher, &settings_label(s));
    set.write(out)?;
    crate::log::info(format!(
        "{}: {} signatures ({} perms) in {}",
        ds.path.display(),
        set.len(),
        s.perms,
        out.display()
    ));
    Ok(())
}

fn merge(a: &DedupArgs) -> Result<()> {
    let sets = a
        .merge_signatures
        .iter()
        .map(|p| gleaner_dedup::SignatureSet::read(p))
        .collect::<std::result::Result<Vec<_>, _>>()?;
    let threshold = a.threshold.unwrap_or(gleaner_dedup::near::DEFAULT_THRESHOLD);
    let m = gleaner_dedup::merge(&sets, &a.merge_signatures, threshold)?;
    let name = |g: usize| format!("{}:{}", a.merge_signatures[m.origin[g].shard].display(), m.origin[g].row);
    let mut csv = String::from("file,row,id,dup_cluster,dup_of,similarity\n");
    let mut cross = 0usize;
    let sizes = m.clusters.largest();
    let in_cluster: std::collections::HashSet<u32> = sizes.iter().map(|c| c.0).collect();
    for g in 0..m.ids.len() {
        let root = m.clusters.root[g] as usize;
        let (cluster, dup_of) = if in_cluster.contains(&(root as u32)) {
            (name(root), if root == g { String::new() } else { name(root) })
        } else {
            (String::new(), String::new())
        };
        if root != g && m.origin[root].shard != m.origin[g].shard {
            cross += 1;
        }
        let sim = m.clusters.similarity[g];
        let _ = writeln!(
            csv,
            "{},{},{:016x},{cluster},{dup_of},{}",
            a.merge_signatures[m.origin[g].shard].display(),
            m.origin[g].row,
            m.ids[g],
            if sim.is_nan() { String::new() } else { format!("{sim:.4}") }
        );
    }
    match &a.out.output {
        Some(p) => gleaner_core::atomic::write_bytes_atomic(p, csv.as_bytes())?,
        None => std::io::stdout().write_all(csv.as_bytes())?,
    }
    let dups: usize = sizes.iter().map(|c| c.1 - 1).sum();
    crate::log::info(format!(
        "{} rows from {} signature files: {} clusters, {dups} duplicates ({cross} of them of a row in another shard); pairs: {} candidates, {} verified",
        m.ids.len(),
        sets.len(),
        sizes.len(),
        m.clusters.candidates,
        m.clusters.verified
    ));
    Ok(())
}
