//! # gleaner-pipeline
//!
//! The stages, each reading and writing a side file keyed by row id so it can be reused on a
//! rerun, and the method presets (`car`, `cherry`, `superfilter`, `lcg`) as short recipes
//! over those stages. Progress and log lines go through an [`Observer`] supplied by the
//! caller (the CLI draws progress bars on stderr).

pub mod car;
pub mod cluster;
pub mod embed;
pub mod ifd;
pub mod ifd_plan;
pub mod ifd_presets;
pub mod journal;
pub mod lcg;
pub mod preexp;
pub mod score;
pub mod stages;
pub mod summary;
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

    /// A side file path inside the work dir (created on demand).
    pub fn side(&self, name: &str) -> gleaner_core::Result<PathBuf> {
        std::fs::create_dir_all(&self.dir).map_err(|e| gleaner_core::Error::io(&self.dir, e))?;
        Ok(self.dir.join(name))
    }
}

/// Reads a side file made by the same recipe (stage, model, parameters) as `manifest`, if
/// there is one and it covers the rows `load` needs; `None` means "compute it".
///
/// The input digest is not compared: `load` aligns by row id, so a side file computed over a
/// superset of the rows (the full pool) serves a subset too.
pub fn reuse<T>(
    side: &Path,
    manifest: &gleaner_cache::Manifest,
    load: impl FnOnce(&Path) -> gleaner_core::Result<T>,
) -> gleaner_core::Result<Option<T>> {
    let Some(old) = gleaner_cache::Manifest::read_for(side)? else {
        return Ok(None);
    };
    let same_recipe = old.stage == manifest.stage && old.model == manifest.model && old.params == manifest.params;
    if !same_recipe || !side.exists() {
        return Ok(None);
    }
    Ok(load(side).ok())
}
