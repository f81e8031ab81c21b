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
    let same_shape = fmt.shape.is_none() || ds.records.iter().all(|r| Some(r.shape) == fmt.shape);
    let schema = if ds.container == Container::Parquet && same_shape { ds.schema.clone() } else { None };
    Ok(Target { container: fmt.container, shape: fmt.shape, style, schema })
}

pub fn run(a: ConvertArgs) -> Result<()> {
    let ds = super::read_input(&a.input)?;
    let target = target_for(&ds, a.output.as_deref(), a.to.as_deref())?;
    let t0 = std::time::Instant::now();
    gleaner_write::write(a.output.as_deref(), &ds.records, &target)?;
    crate::log::info(format!(
        "converted {} records ({} read, {} skipped) in {:.2}s",
        ds.len(),
        ds.accounting.read,
        ds.accounting.skipped.len(),
        t0.elapsed().as_secs_f64()
    ));
    Ok(())
}
