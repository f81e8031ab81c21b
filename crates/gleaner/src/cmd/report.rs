//! `gleaner report WORKDIR -o report.html`: the selection report of a finished run.

use crate::cli::ReportArgs;
use crate::log::BarObserver;
use anyhow::Result;
use gleaner_pipeline::report::{ReportOptions, build};
use gleaner_report::html::Report;
use std::path::Path;

pub fn run(a: ReportArgs) -> Result<()> {
    let opts = ReportOptions {
        input: a.input.clone(),
        format: a.format.as_deref().and_then(gleaner_read::Format::parse),
        no_baselines: a.no_baselines,
    };
    let report = build(&a.work_dir, &opts, &BarObserver::default())?;
    let out = a.output.clone().unwrap_or_else(|| a.work_dir.join("report.html"));
    write(&report, &out)
}

/// Writes the page and says where it went.
pub fn write(report: &Report, out: &Path) -> Result<()> {
    let bytes = gleaner_pipeline::report::write(report, out)?;
    crate::log::info(format!("report: {} ({:.1} MB)", out.display(), bytes as f64 / 1e6));
    Ok(())
}
