//! `gleaner select …`: selection from values already computed.

use crate::cli::{SelectCarArgs, SelectCommand};
use anyhow::Result;
use gleaner_pipeline::runner::RunOutcome;
use gleaner_pipeline::values::{Source, labels, numbers};

pub fn run(c: SelectCommand) -> Result<()> {
    match c {
        SelectCommand::Car(a) => car(a),
    }
}

fn car(a: SelectCarArgs) -> Result<()> {
    let ds = super::read_input(&a.input)?;
    let scores = numbers(&ds, &Source::parse(&a.score), "quality")?;
    let labs = labels(&ds, &Source::parse(&a.cluster), "cluster")?;
    let n1 = match (a.size.budget, a.size.ratio) {
        (Some(b), _) => b,
        (None, Some(r)) => gleaner_select::Budget::Ratio(r).resolve(ds.len()),
        (None, None) => a.n1,
    };
    let picks = gleaner_select::car(&scores, &labs, &gleaner_select::CarOptions { n1, n2: a.n2 });
    // the same report as a run: cluster labels become numbers when they are integers
    let ids: std::collections::BTreeMap<&str, f64> =
        labs.iter().enumerate().map(|(i, l)| (l.as_str(), l.parse().unwrap_or(i as f64))).collect();
    let mut columns = std::collections::BTreeMap::new();
    columns.insert("score".to_string(), scores);
    columns.insert("cluster".to_string(), labs.iter().map(|l| ids[l.as_str()]).collect());
    let mut row_drop = vec![Some(0); ds.len()];
    picks.iter().for_each(|p| row_drop[p.index] = None);
    let outcome = RunOutcome {
        recipe: "select car".into(),
        rows_in: ds.len(),
        skipped: Vec::new(),
        dropped: vec![("not in the top n1 nor a cluster's best".into(), ds.len() - picks.len())],
        drop_stage: vec![0],
        row_drop,
        stage_kinds: vec!["select".into()],
        recipe_toml: String::new(),
        input: ds.path.clone(),
        column_stage: Default::default(),
        embeddings: None,
        picks,
        columns,
        annotate: Default::default(),
        models: Vec::new(),
        stages: Default::default(),
        main_column: Some("score".into()),
        dedup: Vec::new(),
    };
    outcome.check_counts()?;
    let kept = outcome.kept_records(&ds)?;
    super::write_records(&ds, &kept, &a.out)?;
    eprint!("{}", outcome.render());
    Ok(())
}
