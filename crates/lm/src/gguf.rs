//! GGUF files: metadata access and tensors dequantised to `f32`.
//!
//! Parsing and dequantisation are candle's (`gguf_file::Content`, `QTensor::dequantize`);
//! everything else (architecture hyper-parameters, tokenizer, forward) is gleaner's. Every
//! weight is dequantised to `f32` at load time ("exact mode"): the forward then runs in f32
//! like HF transformers' dequantised GGUF path, not with llama.cpp's Q8 activations.

use candle_core::Device;
use candle_core::quantized::gguf_file::{Content, Value};
use gleaner_core::{Error, Result};
use rayon::prelude::*;
use std::io::Cursor;
use std::path::{Path, PathBuf};

/// An open GGUF file: parsed header and a memory map of the whole file.
pub struct GgufFile {
    path: PathBuf,
    map: memmap2::Mmap,
    content: Content,
}

impl GgufFile {
    /// Opens and parses the header (metadata + tensor directory) of a GGUF file.
    pub fn open(path: &Path) -> Result<GgufFile> {
        let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
        // SAFETY: read-only map of a model file that gleaner never writes while it is mapped.
        let map = unsafe { memmap2::Mmap::map(&file) }.map_err(|e| Error::io(path, e))?;
        let content = Content::read(&mut Cursor::new(&map[..]))
            .map_err(|e| Error::model(path.display().to_string(), format!("not a readable GGUF file: {e}")))?;
        Ok(GgufFile { path: path.to_path_buf(), map, content })
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Size of the file in bytes.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True for an empty file (never for a parsed GGUF).
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The raw bytes of the file.
    pub fn bytes(&self) -> &[u8] {
        &self.map
    }

    fn err(&self, msg: impl Into<String>) -> Error {
        Error::model(self.path.display().to_string(), msg)
    }

    /// A metadata value.
    pub fn meta(&self, key: &str) -> Option<&Value> {
        self.content.metadata.get(key)
    }

    /// A metadata string.
    pub fn meta_str(&self, key: &str) -> Option<&str> {
        match self.meta(key)? {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    /// A metadata integer of any width.
    pub fn meta_u64(&self, key: &str) -> Option<u64> {
        match self.meta(key)? {
            Value::U8(v) => Some(*v as u64),
            Value::I8(v) => u64::try_from(*v).ok(),
            Value::U16(v) => Some(*v as u64),
            Value::I16(v) => u64::try_from(*v).ok(),
            Value::U32(v) => Some(*v as u64),
            Value::I32(v) => u64::try_from(*v).ok(),
            Value::U64(v) => Some(*v),
            Value::I64(v) => u64::try_from(*v).ok(),
            Value::Bool(b) => Some(*b as u64),
            _ => None,
        }
    }

    /// A metadata float (integers are converted).
    pub fn meta_f64(&self, key: &str) -> Option<f64> {
        match self.meta(key)? {
            Value::F32(v) => Some(*v as f64),
            Value::F64(v) => Some(*v),
            _ => self.meta_u64(key).map(|v| v as f64),
        }
    }

    /// A metadata boolean.
    pub fn meta_bool(&self, key: &str) -> Option<bool> {
        match self.meta(key)? {
            Value::Bool(b) => Some(*b),
            _ => self.meta_u64(key).map(|v| v != 0),
        }
    }

    /// A metadata array.
    pub fn meta_array(&self, key: &str) -> Option<&[Value]> {
        match self.meta(key)? {
            Value::Array(a) => Some(a),
            _ => None,
        }
    }

    /// A required integer.
    pub fn req_u64(&self, key: &str) -> Result<u64> {
        self.meta_u64(key).ok_or_else(|| self.err(format!("GGUF metadata lacks integer `{key}`")))
    }

    /// `general.architecture`.
    pub fn architecture(&self) -> Result<&str> {
        self.meta_str("general.architecture").ok_or_else(|| self.err("GGUF metadata lacks `general.architecture`"))
    }

    /// True when the file has a tensor of that name.
    pub fn has_tensor(&self, name: &str) -> bool {
        self.content.tensor_infos.contains_key(name)
    }

    /// Shape of a tensor in row-major order (`[rows, cols]` for a weight matrix, i.e.
    /// `[out, in]`), or `None` if absent.
    pub fn shape(&self, name: &str) -> Option<Vec<usize>> {
        self.content.tensor_infos.get(name).map(|t| t.shape.dims().to_vec())
    }

    /// A tensor dequantised to `f32` with its row-major shape.
    pub fn tensor_f32(&self, name: &str) -> Result<(Vec<f32>, Vec<usize>)> {
        if !self.has_tensor(name) {
            return Err(self.err(format!("missing tensor `{name}`")));
        }
        // A tensor with no elements (a zero dimension) or more than usize can count is not a
        // weight of any model; candle would build a typed slice over an empty, unaligned
        // buffer for the first (found by fuzz/gguf), so it is refused here.
        let dims = self.shape(name).unwrap_or_default();
        match dims.iter().try_fold(1usize, |a, &d| a.checked_mul(d)) {
            Some(0) => return Err(self.err(format!("tensor `{name}` has no elements (shape {dims:?})"))),
            None => return Err(self.err(format!("tensor `{name}`: shape {dims:?} is too large"))),
            Some(_) => {}
        }
        let q = self
            .content
            .tensor(&mut Cursor::new(&self.map[..]), name, &Device::Cpu)
            .map_err(|e| self.err(format!("tensor `{name}`: {e}")))?;
        let shape = q.shape().dims().to_vec();
        let t = q.dequantize(&Device::Cpu).map_err(|e| self.err(format!("tensor `{name}`: {e}")))?;
        let v =
            t.flatten_all().and_then(|t| t.to_vec1::<f32>()).map_err(|e| self.err(format!("tensor `{name}`: {e}")))?;
        Ok((v, shape))
    }

    /// Several tensors dequantised in parallel, in the order of `names`.
    pub fn tensors_f32(&self, names: &[String]) -> Result<Vec<(Vec<f32>, Vec<usize>)>> {
        names.par_iter().map(|n| self.tensor_f32(n)).collect()
    }

    /// A tensor that must have exactly `shape`.
    pub fn expect(&self, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        let (v, s) = self.tensor_f32(name)?;
        if s != shape {
            return Err(self.err(format!("tensor `{name}` has shape {s:?}, expected {shape:?}")));
        }
        Ok(v)
    }
}

/// Strings of a metadata array (e.g. `tokenizer.ggml.tokens`).
pub(crate) fn strings(a: &[Value]) -> Option<Vec<&str>> {
    a.iter()
        .map(|v| match v {
            Value::String(s) => Some(s.as_str()),
            _ => None,
        })
        .collect()
}

/// Integers of a metadata array (e.g. `tokenizer.ggml.token_type`).
pub(crate) fn ints(a: &[Value]) -> Option<Vec<i64>> {
    a.iter()
        .map(|v| match v {
            Value::I32(x) => Some(*x as i64),
            Value::U32(x) => Some(*x as i64),
            Value::I8(x) => Some(*x as i64),
            Value::U8(x) => Some(*x as i64),
            Value::I16(x) => Some(*x as i64),
            Value::U16(x) => Some(*x as i64),
            Value::I64(x) => Some(*x),
            Value::U64(x) => Some(*x as i64),
            _ => None,
        })
        .collect()
}

/// Floats of a metadata array (e.g. `tokenizer.ggml.scores`).
pub(crate) fn floats(a: &[Value]) -> Option<Vec<f32>> {
    a.iter()
        .map(|v| match v {
            Value::F32(x) => Some(*x),
            Value::F64(x) => Some(*x as f32),
            _ => None,
        })
        .collect()
}
