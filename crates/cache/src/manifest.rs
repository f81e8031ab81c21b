//! Manifests: what produced a side file, so it can be reused or resumed safely.

use gleaner_core::rowid::ids_digest;
use gleaner_core::shard::ShardOf;
use gleaner_core::{Error, Result, RowId};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What produced a side file. Two manifests are compatible when everything but `rows_done`
/// matches.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// The stage (`embed`, `score-ifd`, `cluster`, …).
    pub stage: String,
    /// gleaner's version.
    pub gleaner: String,
    /// Model identity (file SHA-256 or name), when a model is involved.
    pub model: Option<String>,
    /// Stage parameters that change the result.
    pub params: BTreeMap<String, String>,
    /// FNV-1a digest of the input's row ids, in order: the same input gives the same value.
    pub input: String,
    /// Number of input rows.
    pub rows: usize,
    /// For a side file of one shard (`--shard I/N`): which, and what the whole input was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<ShardOf>,
    /// Checksum (xxh3-64, hex) of the side file's bytes, set by [`Manifest::write_for`]: a
    /// side file that no longer matches it (truncated, bit-flipped, replaced) is not trusted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checksum: Option<String>,
    /// Checksum of this manifest's own text (written without this field), so a damaged
    /// manifest is detected rather than believed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub manifest_checksum: Option<String>,
}

/// What [`Manifest::load_for`] found beside a side file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Loaded {
    /// No manifest.
    Missing,
    /// A manifest whose own checksum holds.
    Found(Manifest),
    /// A manifest that cannot be trusted: the reason, naming the file.
    Corrupt(String),
}

impl Manifest {
    /// A manifest for `stage` over rows with `ids`.
    pub fn new(stage: &str, model: Option<String>, ids: &[RowId]) -> Manifest {
        Manifest {
            stage: stage.into(),
            gleaner: env!("CARGO_PKG_VERSION").into(),
            model,
            params: BTreeMap::new(),
            input: ids_digest(ids),
            rows: ids.len(),
            shard: None,
            checksum: None,
            manifest_checksum: None,
        }
    }

    /// Adds a parameter.
    pub fn param(mut self, key: &str, value: impl ToString) -> Manifest {
        self.params.insert(key.into(), value.to_string());
        self
    }

    /// The manifest path that belongs to a side file (`X.parquet` → `X.manifest.json`).
    pub fn path_for(side: &Path) -> PathBuf {
        let stem = side.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
        side.with_file_name(format!("{stem}.manifest.json"))
    }

    /// Writes the manifest beside `side` (atomically), recording the checksum of `side`'s
    /// bytes as they are now: call it once the side file is in place.
    pub fn write_for(&self, side: &Path) -> Result<()> {
        let p = Manifest::path_for(side);
        let mut m = self.clone();
        m.checksum = Some(gleaner_core::atomic::file_checksum(side)?);
        m.manifest_checksum = None;
        m.manifest_checksum = Some(gleaner_core::atomic::checksum(m.text()?.as_bytes()));
        gleaner_core::atomic::write_bytes_atomic(&p, m.text()?.as_bytes())
    }

    fn text(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map(|t| t + "\n").map_err(|e| Error::Other(e.to_string()))
    }

    /// Reads the manifest of `side`: missing, found (its own checksum holds) or corrupt
    /// (unreadable, or its checksum does not match its text). Only an I/O error other than
    /// "not found" is an error.
    pub fn load_for(side: &Path) -> Result<Loaded> {
        let p = Manifest::path_for(side);
        let bytes = match std::fs::read(&p) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Loaded::Missing),
            Err(e) => return Err(Error::io(&p, e)),
        };
        let corrupt = |why: String| Ok(Loaded::Corrupt(format!("{}: {why}", p.display())));
        let mut m: Manifest = match serde_json::from_slice(&bytes) {
            Ok(m) => m,
            Err(e) => return corrupt(format!("unreadable manifest ({e})")),
        };
        let Some(recorded) = m.manifest_checksum.take() else {
            return corrupt("the manifest has no checksum (damaged, or written by an older gleaner)".into());
        };
        if gleaner_core::atomic::checksum(m.text()?.as_bytes()) != recorded {
            return corrupt("the manifest does not match its checksum (damaged)".into());
        }
        m.manifest_checksum = Some(recorded);
        Ok(Loaded::Found(m))
    }

    /// Reads the manifest of `side`, if there is one and it is intact (a damaged manifest is
    /// an error naming it).
    pub fn read_for(side: &Path) -> Result<Option<Manifest>> {
        match Manifest::load_for(side)? {
            Loaded::Missing => Ok(None),
            Loaded::Found(m) => Ok(Some(m)),
            Loaded::Corrupt(why) => Err(Error::SideFile { path: Manifest::path_for(side), message: why }),
        }
    }

    /// Checks that `side`'s bytes still have the checksum this manifest recorded; the error
    /// says what is wrong, naming the file.
    pub fn verify_side(&self, side: &Path) -> std::result::Result<(), String> {
        let Some(want) = &self.checksum else {
            return Err(format!("{}: its manifest records no checksum", side.display()));
        };
        match gleaner_core::atomic::file_checksum(side) {
            Ok(got) if &got == want => Ok(()),
            Ok(got) => Err(format!(
                "{}: checksum {got} ≠ {want} recorded in its manifest (truncated, damaged or replaced)",
                side.display()
            )),
            Err(e) => Err(e.to_string()),
        }
    }

    /// The fields of `self` that differ from `other`, as readable `key: a ≠ b` strings.
    pub fn differences(&self, other: &Manifest) -> Vec<String> {
        let mut d = Vec::new();
        let mut cmp = |k: &str, a: &str, b: &str| {
            if a != b {
                d.push(format!("{k}: {a} ≠ {b}"));
            }
        };
        cmp("stage", &self.stage, &other.stage);
        cmp("gleaner", &self.gleaner, &other.gleaner);
        cmp("model", self.model.as_deref().unwrap_or("-"), other.model.as_deref().unwrap_or("-"));
        cmp("input", &self.input, &other.input);
        let shard = |m: &Manifest| m.shard.as_ref().map_or("-".to_string(), |s| format!("{}/{}", s.index, s.count));
        cmp("shard", &shard(self), &shard(other));
        let keys: std::collections::BTreeSet<&String> = self.params.keys().chain(other.params.keys()).collect();
        for k in keys {
            cmp(k, self.params.get(k).map_or("-", String::as_str), other.params.get(k).map_or("-", String::as_str));
        }
        d
    }

    /// True when an existing side file with manifest `existing` can be reused for `self`.
    pub fn matches(&self, existing: &Manifest) -> bool {
        self.differences(existing).is_empty()
    }
}
