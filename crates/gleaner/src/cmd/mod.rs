//! Command implementations.

mod cluster;
mod convert;
mod dedup;
mod embed;
mod lcg_labelled;
mod merge;
mod models;
mod recipes;
mod report;
mod run;
mod score;
mod select;
mod stats;
mod train;

use crate::cli::{Cli, Command, InputArgs, OnErrorArg};
use anyhow::Result;
use gleaner_pipeline::recipe::PrecisionChoice;
use gleaner_read::{Dataset, Format, OnError, ReadOptions};

/// Runs one command.
pub fn run(cli: Cli) -> Result<()> {
    let precision = cli.precision.map(|p| p.choice());
    if precision.is_some_and(|p| !matches!(p, PrecisionChoice::F32 | PrecisionChoice::Auto))
        && !gleaner_nn::amx::available()
    {
        crate::log::warn(format!(
            "--precision {}: this CPU (or kernel) has no AMX bf16 tiles; using f32",
            precision.map_or("auto", |p| p.name())
        ));
    }
    match cli.command {
        Command::Convert(a) => convert::run(a),
        Command::Stats(a) => stats::run(a, precision),
        Command::Embed(a) => embed::run(a, precision),
        Command::Cluster(a) => cluster::run(a),
        Command::Score(s) => score::run(s, precision),
        Command::Select(s) => select::run(s),
        Command::Merge(a) => merge::run(a),
        Command::Run(r) => run::run(r, precision),
        Command::Dedup(d) => dedup::run(d, precision),
        Command::Report(r) => report::run(r),
        Command::Recipes(r) => recipes::run(r),
        Command::Models(m) => models::run(m),
        Command::Train(t) => train::run(t),
        Command::Completions { shell } => {
            let mut cmd = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut cmd, "gleaner", &mut std::io::stdout());
            Ok(())
        }
    }
}

/// Reads the input named by `args`, logging skipped rows.
pub fn read_input(args: &InputArgs) -> Result<Dataset> {
    read_input_with(args, false)
}

/// Reads the input of a command that writes one stage's side file, keeping only the rows of
/// `--shard I/N` when given.
pub fn read_input_shard(args: &InputArgs, shard: &crate::cli::ShardArgs) -> Result<Dataset> {
    let mut ds = read_input(args)?;
    if let Some(s) = shard.shard {
        let all = ds.len();
        ds.keep_shard(s);
        let (first, n) = (ds.positions.first().copied(), ds.len());
        crate::log::info(match first {
            Some(p) => format!("shard {s}: {n} of {all} rows, from input row {p}"),
            None => format!("shard {s}: no rows (the input has {all})"),
        });
    }
    Ok(ds)
}

/// Reads the input with its records in memory (for commands that write every record).
pub fn read_input_in_memory(args: &InputArgs) -> Result<Dataset> {
    read_input_with(args, true)
}

/// Reads the input; unless `in_memory`, the records are not kept but parsed again from the file
/// by each stage that needs them ([`gleaner_read::read_released`]), so that memory stays
/// bounded by the stages' own data (embeddings, scores) at any row count.
fn read_input_with(args: &InputArgs, in_memory: bool) -> Result<Dataset> {
    let opts = ReadOptions {
        format: args.format.as_deref().and_then(Format::parse),
        on_error: match args.on_error {
            OnErrorArg::Fail => OnError::Fail,
            OnErrorArg::Skip => OnError::Skip,
        },
    };
    let mut ds = if in_memory {
        gleaner_read::read(&args.input, &opts)?
    } else {
        gleaner_read::read_released(&args.input, &opts)?
    };
    if let Some(n) = args.limit.filter(|&n| n < ds.len()) {
        crate::log::info(format!("{}: using the first {n} of {} rows (--limit)", args.input.display(), ds.len()));
        ds.truncate(n);
    }
    let acc = &ds.accounting;
    if !acc.skipped.is_empty() {
        crate::log::warn(format!(
            "{}: skipped {} of {} rows ({} kept)",
            args.input.display(),
            acc.skipped.len(),
            acc.read,
            acc.ok
        ));
        for (reason, n) in acc.reasons() {
            crate::log::warn(format!("  {n:>6} × {reason}"));
        }
        if let Some(first) = acc.skipped.first() {
            crate::log::warn(format!("  first: {}: {}", first.location, first.reason));
        }
    }
    Ok(ds)
}

/// Writes `sub` (records derived from `ds`) in the requested (or `ds`'s) format.
pub fn write_records(ds: &Dataset, sub: &Dataset, out: &crate::cli::OutputArgs) -> Result<()> {
    let target = convert::target_for(ds, out.output.as_deref(), out.to.as_deref())?;
    let records =
        sub.records_in_memory().ok_or_else(|| anyhow::anyhow!("internal: records to write are not in memory"))?;
    gleaner_write::write(out.output.as_deref(), records, &target)?;
    Ok(())
}

/// Fails early, before any model loads, when `out` cannot be written: creates and removes
/// `OUT.writecheck` beside it. The name differs from the final write's temporary file
/// (`OUT.tmp`), so a probe is never mistaken for a write under way; a run killed between the
/// two calls leaves the probe, and the next run's probe removes it.
pub fn check_writable(out: Option<&std::path::Path>) -> Result<()> {
    let Some(p) = out else { return Ok(()) };
    let tmp = gleaner_core::atomic::with_suffix(p, ".writecheck");
    let res = (|| {
        if let Some(d) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(d)?;
        }
        std::fs::File::create(&tmp)?;
        std::fs::remove_file(&tmp)
    })();
    res.map_err(|e| gleaner_core::Error::io(p, e))?;
    Ok(())
}

/// Takes the lock of the work directory, reporting a stale lock taken over.
pub fn lock_work(work: &gleaner_pipeline::WorkDir) -> Result<gleaner_pipeline::lock::WorkLock> {
    Ok(work.lock(&|n| crate::log::warn(n))?)
}

/// Takes the lock of a command that writes the single side file `out` (`OUT.lock` beside it).
pub fn lock_output(out: &std::path::Path) -> Result<gleaner_pipeline::lock::WorkLock> {
    let lock = gleaner_core::atomic::with_suffix(out, ".lock");
    Ok(gleaner_pipeline::lock::WorkLock::acquire(&lock, &|n| crate::log::warn(n))?)
}
