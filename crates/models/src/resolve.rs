//! Model resolution.

use gleaner_core::{Error, Result};
use sha2::Digest;
use std::path::{Path, PathBuf};

/// A resolved model location.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelPath {
    /// A directory with `config.json` and weights.
    Dir(PathBuf),
    /// A single GGUF file.
    Gguf(PathBuf),
}

impl ModelPath {
    /// The directory or file.
    pub fn path(&self) -> &Path {
        match self {
            ModelPath::Dir(p) | ModelPath::Gguf(p) => p,
        }
    }
}

/// gleaner's model directory: `$GLEANER_MODELS`, or `<user cache dir>/gleaner/models`.
pub fn models_dir() -> PathBuf {
    if let Some(p) = std::env::var_os("GLEANER_MODELS").filter(|p| !p.is_empty()) {
        return PathBuf::from(p);
    }
    dirs::cache_dir().unwrap_or_else(|| PathBuf::from(".cache")).join("gleaner").join("models")
}

fn hf_hub_dirs() -> Vec<PathBuf> {
    let mut v = Vec::new();
    if let Some(p) = std::env::var_os("HF_HUB_CACHE") {
        v.push(PathBuf::from(p));
    }
    if let Some(p) = std::env::var_os("HF_HOME") {
        v.push(PathBuf::from(p).join("hub"));
    }
    if let Some(c) = dirs::home_dir() {
        v.push(c.join(".cache").join("huggingface").join("hub"));
    }
    v
}

/// A directory that holds a model: a config.json, or exactly one `.gguf`.
fn classify(p: &Path) -> Option<ModelPath> {
    if p.is_file() {
        return p.extension().is_some_and(|e| e == "gguf").then(|| ModelPath::Gguf(p.to_path_buf()));
    }
    if !p.is_dir() {
        return None;
    }
    if p.join("config.json").is_file() {
        return Some(ModelPath::Dir(p.to_path_buf()));
    }
    let ggufs: Vec<PathBuf> = std::fs::read_dir(p)
        .ok()?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|f| f.extension().is_some_and(|e| e == "gguf"))
        .collect();
    if ggufs.len() == 1 {
        return Some(ModelPath::Gguf(ggufs[0].clone()));
    }
    // A dir with a checkpoint subtree (CaR's IQS layout) counts as a model dir too.
    if p.join("hparams.yaml").is_file() || p.join("checkpoints").is_dir() {
        return Some(ModelPath::Dir(p.to_path_buf()));
    }
    None
}

fn hf_snapshot(hub: &Path, id: &str) -> Option<PathBuf> {
    let repo = hub.join(format!("models--{}", id.replace('/', "--")));
    let snaps = repo.join("snapshots");
    if let Ok(rev) = std::fs::read_to_string(repo.join("refs").join("main")) {
        let p = snaps.join(rev.trim());
        if p.is_dir() {
            return Some(p);
        }
    }
    let mut all: Vec<PathBuf> = std::fs::read_dir(&snaps).ok()?.filter_map(|e| e.ok().map(|e| e.path())).collect();
    all.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
    all.pop()
}

/// Resolves a model argument (see the crate docs for the order).
pub fn resolve(arg: &str) -> Result<ModelPath> {
    let as_path = Path::new(arg);
    if as_path.exists() {
        return classify(as_path).ok_or_else(|| {
            Error::model(arg, "exists but is neither a .gguf file nor a directory with config.json or one .gguf file")
        });
    }
    let dir = models_dir();
    let base = arg.rsplit('/').next().unwrap_or(arg);
    for name in [arg, base] {
        if let Some(m) = classify(&dir.join(name)) {
            return Ok(m);
        }
    }
    // HF ids: `org/name`, and legacy org-less ids such as `xlm-roberta-large`, which the hub
    // now also serves as `FacebookAI/xlm-roberta-large`.
    for hub in hf_hub_dirs() {
        let mut ids = vec![arg.to_string()];
        if !arg.contains('/') {
            ids.push(format!("FacebookAI/{arg}"));
            ids.push(format!("google-bert/{arg}"));
        }
        for id in &ids {
            if let Some(m) = hf_snapshot(&hub, id).and_then(|p| classify(&p)) {
                return Ok(m);
            }
        }
    }
    Err(Error::model(arg, format!("not found as a path, in {} or in a local Hugging Face cache", dir.display())))
}

/// SHA-256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h = sha2::Sha256::new();
    std::io::copy(&mut f, &mut h).map_err(|e| Error::io(path, e))?;
    Ok(hex::encode(h.finalize()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_paths_and_hf_cache() {
        let d = tempfile::tempdir().unwrap();
        let g = d.path().join("m.gguf");
        std::fs::write(&g, b"x").unwrap();
        assert_eq!(resolve(g.to_str().unwrap()).unwrap(), ModelPath::Gguf(g.clone()));
        let snap = d.path().join("hub/models--org--tiny/snapshots/abc");
        std::fs::create_dir_all(&snap).unwrap();
        std::fs::write(snap.join("config.json"), b"{}").unwrap();
        assert_eq!(hf_snapshot(&d.path().join("hub"), "org/tiny"), Some(snap));
        assert!(resolve("definitely/not-a-model-here").is_err());
    }
}
