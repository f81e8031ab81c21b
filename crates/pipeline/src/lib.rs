//! # gleaner-pipeline
//!
//! gleaner as a library: recipes ([`recipe`]: the method presets as typed structs, user
//! recipes as TOML) run by one stage runner ([`runner`]) over the shared stages. Every model
//! stage writes a side file keyed by row id with a manifest naming everything that changes its
//! numbers (model, parameters, precision, gleaner version), so a rerun reuses it and a mismatch
//! recomputes; model stages journal finished chunks of rows, so a killed run resumes and writes
//! byte-identical output. Progress and log lines go through an [`Observer`] supplied by the
//! caller (the CLI draws progress bars on stderr).
//!
//! ```no_run
//! use gleaner_pipeline::recipe::presets::{Cherry, Preset};
//! use gleaner_pipeline::runner::{RunOptions, run};
//! use gleaner_pipeline::{Silent, WorkDir};
//! let ds = gleaner_read::read_released("pool.json".as_ref(), &Default::default())?;
//! let recipe = Cherry::default().recipe();
//! gleaner_pipeline::recipe::validate(&recipe, "", "cherry".as_ref())?;
//! let work = WorkDir { dir: "pool.gleaner".into() };
//! let out = run(&recipe, &ds, &RunOptions { work }, &Silent)?;
//! eprint!("{}", out.render());
//! # Ok::<(), gleaner_core::Error>(())
//! ```

pub mod cached;
pub mod cluster;
pub mod dedup;
pub mod embed;
pub mod ifd;
pub mod ifd_plan;
pub mod journal;
pub mod lcg;
pub mod lock;
pub mod merge;
pub mod models;
pub mod preexp;
pub mod recipe;
pub mod report;
pub mod runner;
pub mod score;
pub mod scorers;
pub mod stages;
pub mod values;

use std::path::{Path, PathBuf};

/// Receives progress and log lines from stages.
pub trait Observer: Sync {
    /// A stage begins with `total` units of work.
    fn start(&self, stage: &str, total: u64, unit: &str);
    /// Work advanced to `done` units.
    fn progress(&self, done: u64);
    /// The current stage ended.
    fn finish(&self);
    /// An informational line.
    fn info(&self, msg: &str);
    /// A short status shown beside the current stage's progress (rates, counts).
    fn detail(&self, _msg: &str) {}
}

/// An observer that prints nothing.
pub struct Silent;

impl Observer for Silent {
    fn start(&self, _: &str, _: u64, _: &str) {}
    fn progress(&self, _: u64) {}
    fn finish(&self) {}
    fn info(&self, _: &str) {}
}

/// A directory of side files for one run (`--work-dir`, default `OUT.gleaner/`).
#[derive(Debug, Clone)]
pub struct WorkDir {
    /// The directory.
    pub dir: PathBuf,
}

impl WorkDir {
    /// The work dir for an output path: `OUT.gleaner/` beside it.
    pub fn for_output(out: &Path) -> WorkDir {
        let name = out.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| "out".into());
        WorkDir { dir: out.with_file_name(format!("{name}.gleaner")) }
    }

    /// Takes the work directory's lock ([`lock::WorkLock`]): held for the whole run, so two
    /// runs never interleave their side files; a second run is refused naming the holder's pid.
    pub fn lock(&self, note: &dyn Fn(&str)) -> gleaner_core::Result<lock::WorkLock> {
        lock::WorkLock::acquire(&self.dir.join(lock::LOCK_FILE), note)
    }

    /// A side file path inside the work dir (created on demand).
    pub fn side(&self, name: &str) -> gleaner_core::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir).map_err(|e| gleaner_core::Error::io(&self.dir, e))?;
        Ok(self.dir.join(name))
    }
}

/// Reads a side file made by the same recipe (stage, model, parameters, precision, gleaner
/// version) as `manifest`, if there is one and it covers the rows `load` needs; `None` means
/// "compute it". When a side file exists but was made otherwise, one line says what differs.
/// A side file or manifest that fails its checksum (truncated, bit-flipped, replaced) is never
/// trusted: one line names the file and it is recomputed.
///
/// The input digest is not compared: `load` aligns by row id, so a side file computed over a
/// superset of the rows (the full pool) serves a subset too.
pub fn reuse<T>(
    side: &Path,
    manifest: &gleaner_cache::Manifest,
    obs: &dyn Observer,
    load: impl FnOnce(&Path) -> gleaner_core::Result<T>,
) -> gleaner_core::Result<Option<T>> {
    let old = match gleaner_cache::Manifest::load_for(side)? {
        gleaner_cache::Loaded::Missing => return Ok(None),
        gleaner_cache::Loaded::Corrupt(why) => {
            obs.info(&format!("recomputing {}: damaged manifest: {why}", side.display()));
            return Ok(None);
        }
        gleaner_cache::Loaded::Found(m) => m,
    };
    let mut theirs = old.clone();
    theirs.input = manifest.input.clone();
    theirs.rows = manifest.rows;
    let diff = manifest.differences(&theirs);
    if !diff.is_empty() {
        obs.info(&format!("recomputing {}: it was made with other settings ({})", side.display(), diff.join("; ")));
        return Ok(None);
    }
    if !side.exists() {
        return Ok(None);
    }
    if let Err(why) = old.verify_side(side) {
        obs.info(&format!("recomputing {}: damaged side file: {why}", side.display()));
        return Ok(None);
    }
    match load(side) {
        Ok(t) => Ok(Some(t)),
        Err(e) => {
            obs.info(&format!("recomputing {}: {e}", side.display()));
            Ok(None)
        }
    }
}
