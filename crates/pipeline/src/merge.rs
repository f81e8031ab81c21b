//! `gleaner merge`: joins the side files of `--shard 1/N … N/N` into the side file (and
//! manifest) one unsharded run would have written, byte for byte, after checking that the
//! shards come from one input and one set of settings and cover it exactly once.

use gleaner_cache::{Manifest, Matrix, SideTable};
use gleaner_core::rowid::ids_digest;
use gleaner_core::{Error, Result, RowId};
use std::path::{Path, PathBuf};

/// What a merge joined.
#[derive(Debug, Clone)]
pub struct Merged {
    /// The stage the shards ran (`score-ifd`, `embed`, …).
    pub stage: String,
    /// Shards joined.
    pub shards: usize,
    /// Rows written.
    pub rows: usize,
}

/// One shard: its side file and manifest.
struct Part {
    path: PathBuf,
    manifest: Manifest,
}

fn refuse(path: &Path, message: String) -> Error {
    Error::SideFile { path: path.to_path_buf(), message }
}

/// Reads each shard's manifest and checks that together they are shards 1..N of one run.
fn check(paths: &[PathBuf]) -> Result<Vec<Part>> {
    let mut parts = Vec::with_capacity(paths.len());
    for p in paths {
        let manifest = Manifest::read_for(p)?.ok_or_else(|| {
            refuse(
                p,
                format!("no manifest ({}) beside it: not a side file of gleaner", Manifest::path_for(p).display()),
            )
        })?;
        if manifest.shard.is_none() {
            return Err(refuse(p, "not a shard (it was not written with --shard I/N)".into()));
        }
        manifest.verify_side(p).map_err(|why| refuse(p, why))?;
        parts.push(Part { path: p.clone(), manifest });
    }
    let first = parts.first().ok_or_else(|| Error::Invalid("no shards to merge".into()))?;
    let first = Part { path: first.path.clone(), manifest: first.manifest.clone() };
    let of = first.manifest.shard.clone().expect("checked above");
    let whole = |m: &Manifest| Manifest { shard: None, input: String::new(), rows: 0, ..m.clone() };
    for p in &parts[1..] {
        let s = p.manifest.shard.as_ref().expect("checked above");
        let mut diff = whole(&p.manifest).differences(&whole(&first.manifest));
        if (s.count, s.rows, &s.input) != (of.count, of.rows, &of.input) {
            diff.push(format!(
                "input: shard of {} rows in {} ({}) ≠ of {} rows in {} ({})",
                s.rows, s.count, s.input, of.rows, of.count, of.input
            ));
        }
        if !diff.is_empty() {
            return Err(refuse(&p.path, format!("does not belong with {}: {}", first.path.display(), diff.join("; "))));
        }
    }
    parts.sort_by_key(|p| p.manifest.shard.as_ref().map(|s| s.index));
    let have: Vec<usize> = parts.iter().map(|p| p.manifest.shard.as_ref().expect("checked").index).collect();
    if let Some(w) = have.windows(2).find(|w| w[0] == w[1]) {
        return Err(Error::Invalid(format!("shard {}/{} is given twice", w[0], of.count)));
    }
    let missing: Vec<String> =
        (1..=of.count).filter(|i| !have.contains(i)).map(|i| format!("{i}/{}", of.count)).collect();
    if !missing.is_empty() {
        return Err(Error::Invalid(format!("missing shard(s) {} of {}", missing.join(", "), first.path.display())));
    }
    Ok(parts)
}

/// Reads a shard's rows and checks them against its manifest.
fn rows_of<T>(p: &Part, read: impl Fn(&Path) -> Result<T>, ids: impl Fn(&T) -> Vec<RowId>) -> Result<T> {
    let t = read(&p.path)?;
    let got = ids(&t);
    if got.len() != p.manifest.rows || ids_digest(&got) != p.manifest.input {
        return Err(refuse(&p.path, "its rows do not match its manifest (edited or truncated?)".into()));
    }
    Ok(t)
}

/// Merges the side files of shards `1..N` (in any order) into `out` and its manifest.
pub fn merge(paths: &[PathBuf], out: &Path) -> Result<Merged> {
    let parts = check(paths)?;
    let first = &parts[0].manifest;
    let of = first.shard.clone().expect("checked");
    let embeddings = first.stage == "embed";
    let ids: Vec<RowId> = if embeddings {
        let mats = parts
            .iter()
            .map(|p| rows_of(p, Matrix::read, |m: &Matrix| m.row_id.iter().map(|&i| RowId(i)).collect()))
            .collect::<Result<Vec<_>>>()?;
        let m = Matrix::concat(&mats, out)?;
        let ids: Vec<RowId> = m.row_id.iter().map(|&i| RowId(i)).collect();
        finish(&ids, &of, out)?;
        m.write(out)?;
        ids
    } else {
        let tables = parts
            .iter()
            .map(|p| rows_of(p, SideTable::read, |t: &SideTable| t.row_id.iter().map(|&i| RowId(i)).collect()))
            .collect::<Result<Vec<_>>>()?;
        let t = SideTable::concat(&tables)?;
        let ids: Vec<RowId> = t.row_id.iter().map(|&i| RowId(i)).collect();
        finish(&ids, &of, out)?;
        t.write(out)?;
        ids
    };
    let manifest = Manifest { shard: None, input: ids_digest(&ids), rows: ids.len(), ..first.clone() };
    manifest.write_for(out)?;
    Ok(Merged { stage: first.stage.clone(), shards: parts.len(), rows: ids.len() })
}

/// Checks that the joined rows are the whole input the shards recorded.
fn finish(ids: &[RowId], of: &gleaner_core::shard::ShardOf, out: &Path) -> Result<()> {
    if ids.len() != of.rows || ids_digest(ids) != of.input {
        return Err(refuse(
            out,
            format!("the joined shards are not the {} rows of the input they were cut from", of.rows),
        ));
    }
    Ok(())
}
