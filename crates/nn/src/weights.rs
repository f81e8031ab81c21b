//! Reading safetensors files into `f32` vectors.

use gleaner_core::{Error, Result};
use safetensors::{Dtype, SafeTensors};
use std::path::{Path, PathBuf};

/// A tensor as `f32` values with its shape.
pub type TensorF32 = (Vec<f32>, Vec<usize>);

/// Looks up a tensor by name (weights from safetensors, PyTorch checkpoints, GGUF, …).
pub type TensorGetter<'a> = &'a dyn Fn(&str) -> Result<TensorF32>;

/// A memory-mapped safetensors file (or several shards) with f32 access by name.
pub struct SafeTensorFiles {
    maps: Vec<(PathBuf, memmap2::Mmap)>,
}

impl SafeTensorFiles {
    /// Opens `model.safetensors`, or all `*.safetensors` shards, in a directory (or a file).
    pub fn open(path: &Path) -> Result<SafeTensorFiles> {
        let files: Vec<PathBuf> = if path.is_file() {
            vec![path.to_path_buf()]
        } else {
            let mut v: Vec<PathBuf> = std::fs::read_dir(path)
                .map_err(|e| Error::io(path, e))?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|e| e == "safetensors"))
                .collect();
            v.sort();
            v
        };
        if files.is_empty() {
            return Err(Error::model(path.display().to_string(), "no .safetensors file"));
        }
        let mut maps = Vec::new();
        for f in files {
            let file = std::fs::File::open(&f).map_err(|e| Error::io(&f, e))?;
            // SAFETY: the file is opened read-only; gleaner does not modify model files while
            // they are mapped (a concurrent external writer would be a user error).
            let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(&f, e))?;
            maps.push((f, map));
        }
        Ok(SafeTensorFiles { maps })
    }

    /// All tensor names.
    pub fn names(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (_, m) in &self.maps {
            if let Ok(st) = SafeTensors::deserialize(m) {
                out.extend(st.names().into_iter().map(String::from));
            }
        }
        out
    }

    /// A tensor as f32 with its shape; `None` if absent.
    pub fn get(&self, name: &str) -> Result<Option<(Vec<f32>, Vec<usize>)>> {
        for (path, m) in &self.maps {
            let st = SafeTensors::deserialize(m)
                .map_err(|e| Error::model(path.display().to_string(), format!("bad safetensors: {e}")))?;
            let Ok(t) = st.tensor(name) else { continue };
            let data = t.data();
            let v: Vec<f32> = match t.dtype() {
                Dtype::F32 => data.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect(),
                Dtype::F16 => data.chunks_exact(2).map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
                Dtype::BF16 => data.chunks_exact(2).map(|b| half::bf16::from_le_bytes([b[0], b[1]]).to_f32()).collect(),
                d => {
                    return Err(Error::model(
                        path.display().to_string(),
                        format!("tensor {name}: unsupported dtype {d:?}"),
                    ));
                }
            };
            return Ok(Some((v, t.shape().to_vec())));
        }
        Ok(None)
    }

    /// A tensor that must exist, trying each prefix in turn (`""`, `"bert."`, …).
    pub fn require(&self, prefixes: &[&str], name: &str) -> Result<(Vec<f32>, Vec<usize>)> {
        for p in prefixes {
            if let Some(t) = self.get(&format!("{p}{name}"))? {
                return Ok(t);
            }
        }
        Err(Error::model(
            self.maps[0].0.display().to_string(),
            format!("missing tensor `{name}` (tried prefixes {prefixes:?})"),
        ))
    }
}

/// Reads and parses a JSON config file.
pub fn read_json(path: &Path) -> Result<serde_json::Value> {
    let t = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    serde_json::from_str(&t).map_err(|e| Error::model(path.display().to_string(), format!("bad JSON: {e}")))
}
