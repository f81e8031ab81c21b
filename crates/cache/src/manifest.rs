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

    /// Writes the manifest beside `side`.
    pub fn write_for(&self, side: &Path) -> Result<()> {
        let p = Manifest::path_for(side);
        let text = serde_json::to_string_pretty(self).map_err(|e| Error::Other(e.to_string()))?;
        std::fs::write(&p, text + "\n").map_err(|e| Error::io(&p, e))
    }

    /// Reads the manifest of `side`, if there is one.
    pub fn read_for(side: &Path) -> Result<Option<Manifest>> {
        let p = Manifest::path_for(side);
        match std::fs::read_to_string(&p) {
            Ok(t) => serde_json::from_str(&t)
                .map(Some)
                .map_err(|e| Error::SideFile { path: p.clone(), message: format!("unreadable manifest: {e}") }),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(Error::io(&p, e)),
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
