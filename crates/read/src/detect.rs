//! Format detection: container from the extension (or content), JSON layout from the bytes.

use gleaner_core::{Error, RecordShape, Result};
use std::path::Path;

/// The file container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Container {
    /// One JSON array of objects.
    Json,
    /// One JSON object per line.
    Jsonl,
    /// Apache Parquet, one row per record.
    Parquet,
    /// CSV with a header row naming the fields; one row per record, every value a string.
    Csv,
}

/// A container plus an optional forced record shape.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Format {
    /// The container.
    pub container: Container,
    /// Force every record to this shape (otherwise detected per record).
    pub shape: Option<RecordShape>,
    /// Let the content override the container (a `.json` file holding JSONL).
    pub sniff: bool,
}

impl Format {
    /// Names accepted by `--format`.
    pub const NAMES: &'static [&'static str] = &[
        "json",
        "jsonl",
        "parquet",
        "csv",
        "alpaca",
        "alpaca-jsonl",
        "sharegpt",
        "sharegpt-jsonl",
        "messages",
        "messages-jsonl",
    ];

    /// Parses a `--format` value.
    pub fn parse(name: &str) -> Option<Format> {
        let (container, shape) = match name {
            "json" => (Container::Json, None),
            "jsonl" | "ndjson" => (Container::Jsonl, None),
            "parquet" => (Container::Parquet, None),
            "csv" => (Container::Csv, None),
            "alpaca" => (Container::Json, Some(RecordShape::Alpaca)),
            "alpaca-jsonl" => (Container::Jsonl, Some(RecordShape::Alpaca)),
            "sharegpt" => (Container::Json, Some(RecordShape::ShareGpt)),
            "sharegpt-jsonl" => (Container::Jsonl, Some(RecordShape::ShareGpt)),
            "messages" => (Container::Json, Some(RecordShape::Messages)),
            "messages-jsonl" => (Container::Jsonl, Some(RecordShape::Messages)),
            _ => return None,
        };
        Some(Format { container, shape, sniff: false })
    }

    /// The container implied by a file's extension (`.json`, `.jsonl`/`.ndjson`, `.parquet`,
    /// `.csv`).
    pub fn from_extension(path: &Path) -> Option<Container> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        Some(match ext.as_str() {
            "json" => Container::Json,
            "jsonl" | "ndjson" => Container::Jsonl,
            "parquet" | "pq" => Container::Parquet,
            "csv" => Container::Csv,
            _ => return None,
        })
    }

    /// Detects the format of an input file from its extension; for `.json` / `.jsonl` the
    /// content decides between a JSON array and JSONL.
    pub fn detect(path: &Path) -> Result<Format> {
        match Format::from_extension(path) {
            Some(container) => {
                Ok(Format { container, shape: None, sniff: matches!(container, Container::Json | Container::Jsonl) })
            }
            None => Err(Error::Format {
                path: path.to_path_buf(),
                message:
                    "cannot tell the format from the extension (expected .json, .jsonl, .ndjson, .parquet or .csv)"
                        .into(),
            }),
        }
    }
}

/// JSON array vs JSONL from the first non-blank byte (`[` means an array).
pub(crate) fn sniff_container(bytes: &[u8], fallback: Container) -> Container {
    let body = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'[') => Container::Json,
        Some(b'{') => {
            // A single pretty-printed object spanning many lines is not JSONL; but a file of
            // objects one per line is. Treat `{` as JSONL: a lone object file is rare.
            Container::Jsonl
        }
        _ => fallback,
    }
}

/// How a JSON file was laid out, so a writer can reproduce it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JsonStyle {
    /// The container the bytes turned out to be.
    pub container: Container,
    /// Spaces per indentation level (`None` = compact, all on one line).
    pub indent: Option<usize>,
    /// Python's default separators `", "` and `": "` in compact output.
    pub spaced: bool,
    /// Non-ASCII written as `\uXXXX` (Python's `ensure_ascii=True`).
    pub ensure_ascii: bool,
    /// `/` written as `\/` (pandas).
    pub escape_slash: bool,
}

impl JsonStyle {
    /// Python's `json.dumps` defaults, one object per line.
    pub fn jsonl_default() -> JsonStyle {
        JsonStyle { container: Container::Jsonl, indent: None, spaced: true, ensure_ascii: false, escape_slash: false }
    }

    /// Detects the layout from a file's first bytes.
    pub fn detect(bytes: &[u8], container: Container) -> JsonStyle {
        let head = &bytes[..bytes.len().min(1 << 16)];
        let body = head.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(head);
        let indent = if container == Container::Json {
            // `[\n    {` → indent 4; `[{` → compact.
            let start = body.iter().position(|&b| b == b'[').map_or(0, |p| p + 1);
            let rest = &body[start..];
            if rest.first() == Some(&b'\n') { Some(rest[1..].iter().take_while(|&&b| b == b' ').count()) } else { None }
        } else {
            None
        };
        let spaced = memchr::memmem::find(body, b"\": ").is_some() || memchr::memmem::find(body, b"\":").is_none();
        let raw_non_ascii = bytes.iter().any(|&b| b >= 0x80);
        let escaped_non_ascii = has_non_ascii_escape(body);
        let ensure_ascii = escaped_non_ascii || !raw_non_ascii;
        let escape_slash = memchr::memmem::find(body, b"\\/").is_some();
        JsonStyle { container, indent, spaced, ensure_ascii, escape_slash }
    }
}

/// True when the bytes contain a `\uXXXX` escape of a code point ≥ 0x80.
fn has_non_ascii_escape(b: &[u8]) -> bool {
    memchr::memmem::find_iter(b, b"\\u").any(|p| {
        // Ignore `\\u` (an escaped backslash followed by u).
        let backslashes = b[..p].iter().rev().take_while(|&&c| c == b'\\').count();
        if backslashes % 2 == 1 {
            return false;
        }
        b.get(p + 2..p + 6)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .is_some_and(|cp| cp >= 0x80)
    })
}
