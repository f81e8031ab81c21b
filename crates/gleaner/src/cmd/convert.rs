//! `gleaner convert`.

use crate::cli::ConvertArgs;
use anyhow::{Result, bail};
use gleaner_read::{Container, Format, JsonStyle};
use gleaner_write::Target;

/// The write target for `out_format` / output path, keeping the source layout where the
/// container is unchanged.
pub fn target_for(ds: &gleaner_read::Dataset, output: Option<&std::path::Path>, to: Option<&str>) -> Result<Target> {
    let fmt = match to {
        Some(name) => Format::parse(name),
        None => output.and_then(Format::from_extension).map(|c| Format { container: c, shape: None, sniff: false }),
    }
    .unwrap_or(Format { container: ds.container, shape: None, sniff: false });
    if fmt.container == Container::Parquet && output.is_none() {
        bail!("Parquet cannot be written to stdout; pass `-o OUT.parquet`");
    }
    let style = if fmt.container == ds.container && fmt.container != Container::Parquet {
        ds.style
    } else if fmt.container == Container::Json {
        JsonStyle {
            container: Container::Json,
            indent: Some(4),
            spaced: true,
            ensure_ascii: false,
            escape_slash: false,
        }
    } else {
        JsonStyle::jsonl_default()
    };
    let schema = if ds.container != Container::Parquet {
        None
    } else if fmt.shape.is_none() || ds.map_records(|r| r.shape)?.iter().all(|&s| Some(s) == fmt.shape) {
        ds.schema.clone()
    } else {
        None
    };
    Ok(Target { container: fmt.container, shape: fmt.shape, style, schema })
}

pub fn run(a: ConvertArgs) -> Result<()> {
    let ds = super::read_input_in_memory(&a.input)?;
    let target = target_for(&ds, a.output.as_deref(), a.to.as_deref())?;
    let t0 = std::time::Instant::now();
    let records = ds.records_in_memory().ok_or_else(|| anyhow::anyhow!("internal: records not in memory"))?;
    gleaner_write::write(a.output.as_deref(), records, &target)?;
    crate::log::info(format!(
        "converted {} records ({} read, {} skipped) in {:.2}s",
        ds.len(),
        ds.accounting.read,
        ds.accounting.skipped.len(),
        t0.elapsed().as_secs_f64()
    ));
    Ok(())
}
