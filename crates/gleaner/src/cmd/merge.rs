//! `gleaner merge`: shards' side files into the one an unsharded run writes.

use crate::cli::MergeArgs;
use anyhow::Result;

pub fn run(a: MergeArgs) -> Result<()> {
    let m = gleaner_pipeline::merge::merge(&a.shards, &a.output)?;
    crate::log::info(format!("merged {} shards of {} ({} rows) → {}", m.shards, m.stage, m.rows, a.output.display()));
    Ok(())
}
