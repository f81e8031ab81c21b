//! `gleaner select …`: selection from values already computed.

use crate::cli::{SelectCarArgs, SelectCommand};
use anyhow::Result;
use gleaner_pipeline::summary::selection_summary;
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
    super::write_picks(&ds, &picks, &a.out)?;
    eprint!("{}", selection_summary("car", ds.len(), &picks, Some(("score", &scores)), Some(&labs)));
    Ok(())
}
