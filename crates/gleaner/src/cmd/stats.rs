//! `gleaner stats`.

use crate::cli::StatsArgs;
use anyhow::Result;

pub fn run(a: StatsArgs) -> Result<()> {
    let ds = super::read_input(&a.input)?;
    let stats = gleaner_report::Stats::of(&ds);
    if a.json {
        println!("{}", serde_json::to_string_pretty(&stats)?);
    } else {
        print!("{}", stats.render());
    }
    Ok(())
}
