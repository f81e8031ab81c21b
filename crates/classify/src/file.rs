//! The classifier file format: one JSON object per file, self-describing.
//!
//! Every file starts with the same three header fields, then the kind's own fields:
//!
//! ```json
//! {"format": "gleaner-classifier", "kind": "multinomial-nb", "version": 1, ...}
//! ```
//!
//! - `format` is always [`FORMAT`]; anything else is not a classifier file.
//! - `kind` names the model ([`crate::nb::KIND`], [`crate::neural::KIND`]).
//! - `version` is the layout version of that kind. A reader accepts only the versions it
//!   knows and reports any other with a clear [`gleaner_core::Error::Format`], never a panic.
//!
//! `f32` weight matrices are stored as `{"dtype": "f32le", "shape": [rows, cols],
//! "base64": "…"}` (little-endian IEEE-754 bytes, standard base64 with padding), so they load
//! back bit-for-bit (a decimal round trip through `f64` could double-round).

use gleaner_core::{Error, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The value of the `format` header field of every classifier file.
pub const FORMAT: &str = "gleaner-classifier";

/// The header of a classifier file: which model it holds and in which layout version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    /// The model kind, e.g. `"multinomial-nb"` or `"neural-head"`.
    pub kind: String,
    /// The layout version of that kind.
    pub version: u32,
}

#[derive(Deserialize)]
struct RawHeader {
    format: Option<serde_json::Value>,
    kind: Option<serde_json::Value>,
    version: Option<serde_json::Value>,
}

fn format_err(path: &Path, message: impl Into<String>) -> Error {
    Error::Format { path: path.to_path_buf(), message: message.into() }
}

fn parse_header(path: &Path, text: &str) -> Result<FileInfo> {
    let raw: RawHeader = serde_json::from_str(text)
        .map_err(|e| format_err(path, format!("not a gleaner classifier file (expected a JSON object): {e}")))?;
    match raw.format.as_ref().and_then(|v| v.as_str()) {
        Some(FORMAT) => {}
        Some(other) => {
            return Err(format_err(
                path,
                format!("not a gleaner classifier file (format is {other:?}, expected {FORMAT:?})"),
            ));
        }
        None => {
            return Err(format_err(path, format!("not a gleaner classifier file (no \"format\": {FORMAT:?} header)")));
        }
    }
    let kind = raw
        .kind
        .as_ref()
        .and_then(|v| v.as_str())
        .ok_or_else(|| format_err(path, "classifier file has no string \"kind\" field"))?
        .to_owned();
    let version = raw
        .version
        .as_ref()
        .and_then(|v| v.as_u64())
        .and_then(|v| u32::try_from(v).ok())
        .ok_or_else(|| format_err(path, "classifier file has no non-negative integer \"version\" field"))?;
    Ok(FileInfo { kind, version })
}

fn read_text(path: &Path) -> Result<String> {
    std::fs::read_to_string(path).map_err(|e| Error::io(path, e))
}

/// Reads only the header of a classifier file: its kind and version.
pub fn peek(path: &Path) -> Result<FileInfo> {
    let text = read_text(path)?;
    parse_header(path, &text)
}

/// Reads a file, checks that it holds `kind` at `version`, and deserialises it as `T`.
pub(crate) fn read_kind<T: for<'de> Deserialize<'de>>(path: &Path, kind: &str, version: u32) -> Result<T> {
    let text = read_text(path)?;
    let info = parse_header(path, &text)?;
    if info.kind != kind {
        return Err(format_err(
            path,
            format!(
                "holds a {:?} classifier, not a {kind:?} one (load it with gleaner_classify::load, which dispatches on the kind)",
                info.kind
            ),
        ));
    }
    check_version(path, &info, version)?;
    serde_json::from_str(&text).map_err(|e| format_err(path, format!("bad {kind} classifier file: {e}")))
}

/// Errors unless `info.version == supported`.
pub(crate) fn check_version(path: &Path, info: &FileInfo, supported: u32) -> Result<()> {
    if info.version == supported {
        Ok(())
    } else {
        Err(format_err(
            path,
            format!(
                "{} classifier file version {} is not supported (this build reads version {supported}){}",
                info.kind,
                info.version,
                if info.version > supported { "; it was written by a newer gleaner" } else { "" }
            ),
        ))
    }
}

/// Serialises `value` as JSON to `path`, atomically (complete or absent, as every file gleaner
/// writes: [`gleaner_core::atomic`]).
pub(crate) fn write_json<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let text = serde_json::to_string(value).map_err(|e| Error::Other(format!("serialising classifier: {e}")))?;
    gleaner_core::atomic::write_bytes_atomic(path, text.as_bytes())
}

/// A stored `f32` matrix (see the module docs).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct F32Array {
    dtype: String,
    shape: Vec<usize>,
    base64: String,
}

impl F32Array {
    /// Encodes `data` with the given shape.
    pub(crate) fn encode(data: &[f32], shape: &[usize]) -> F32Array {
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        let mut bytes = Vec::with_capacity(data.len() * 4);
        for v in data {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        F32Array { dtype: "f32le".into(), shape: shape.to_vec(), base64: base64_encode(&bytes) }
    }

    /// Decodes the matrix, checking the dtype and that it has exactly `shape`.
    pub(crate) fn decode(&self, path: &Path, name: &str, shape: &[usize]) -> Result<Vec<f32>> {
        if self.dtype != "f32le" {
            return Err(format_err(path, format!("{name}: dtype {:?}, expected \"f32le\"", self.dtype)));
        }
        if self.shape != shape {
            return Err(format_err(path, format!("{name}: shape {:?}, expected {shape:?}", self.shape)));
        }
        let bytes = base64_decode(&self.base64).ok_or_else(|| format_err(path, format!("{name}: invalid base64")))?;
        let n: usize = shape.iter().product();
        if bytes.len() != n * 4 {
            return Err(format_err(path, format!("{name}: {} bytes of data, expected {}", bytes.len(), n * 4)));
        }
        let out: Vec<f32> = bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
        if out.iter().any(|v| !v.is_finite()) {
            return Err(format_err(path, format!("{name}: non-finite weight")));
        }
        Ok(out)
    }
}

const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

fn base64_encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], chunk.get(1).copied().unwrap_or(0), chunk.get(2).copied().unwrap_or(0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        out.push(B64[(n >> 18) as usize & 63] as char);
        out.push(B64[(n >> 12) as usize & 63] as char);
        out.push(if chunk.len() > 1 { B64[(n >> 6) as usize & 63] as char } else { '=' });
        out.push(if chunk.len() > 2 { B64[n as usize & 63] as char } else { '=' });
    }
    out
}

fn base64_decode(text: &str) -> Option<Vec<u8>> {
    fn val(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let s = text.as_bytes();
    if !s.len().is_multiple_of(4) {
        return None;
    }
    let mut out = Vec::with_capacity(s.len() / 4 * 3);
    let n_chunks = s.len() / 4;
    for (i, c) in s.chunks_exact(4).enumerate() {
        let last = i + 1 == n_chunks;
        let pad = if last { c.iter().rev().take_while(|&&b| b == b'=').count() } else { 0 };
        if pad > 2 {
            return None;
        }
        let mut n = 0u32;
        for (j, &b) in c.iter().enumerate() {
            let v = if j >= 4 - pad { 0 } else { val(b)? };
            n = (n << 6) | v;
        }
        out.push((n >> 16) as u8);
        if pad < 2 {
            out.push((n >> 8) as u8);
        }
        if pad < 1 {
            out.push(n as u8);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trip() {
        for n in 0..20usize {
            let bytes: Vec<u8> = (0..n).map(|i| (i * 37 + 11) as u8).collect();
            let enc = base64_encode(&bytes);
            assert_eq!(base64_decode(&enc).unwrap(), bytes, "n = {n}");
        }
        assert_eq!(base64_encode(b"Man"), "TWFu");
        assert_eq!(base64_encode(b"Ma"), "TWE=");
        assert_eq!(base64_encode(b"M"), "TQ==");
        assert!(base64_decode("TQ=").is_none());
        assert!(base64_decode("T!==").is_none());
        assert!(base64_decode("====").is_none());
    }

    #[test]
    fn f32_array_is_bit_exact() {
        let v = [0.1f32, -3.5e-30, f32::MIN_POSITIVE, 1.0 / 3.0, -0.0];
        let a = F32Array::encode(&v, &[5]);
        let back = a.decode(Path::new("x"), "w", &[5]).unwrap();
        for (x, y) in v.iter().zip(&back) {
            assert_eq!(x.to_bits(), y.to_bits());
        }
        assert!(a.decode(Path::new("x"), "w", &[1, 5]).is_err());
    }
}
