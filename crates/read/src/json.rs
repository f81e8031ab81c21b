//! JSON array and JSONL scanning with per-item errors.
//!
//! A JSON array is read one element at a time, so an element with bad syntax (invalid UTF-8,
//! a stray token) costs only that element: the scanner finds the element's end by bracket
//! matching and carries on. A file truncated mid-element keeps every complete element before
//! the cut; the cut element is reported as truncated.

use crate::RawItem;
use gleaner_core::error::Location;
use gleaner_core::nonfinite::rewrite_literals;
use gleaner_core::{Error, Result};
use serde_json::Value;
use std::path::Path;

/// 1-based line and column of a byte offset.
fn line_col(bytes: &[u8], offset: usize) -> (usize, usize) {
    let upto = &bytes[..offset.min(bytes.len())];
    let line = memchr::memchr_iter(b'\n', upto).count() + 1;
    let col = offset - upto.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1) + 1;
    (line, col)
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && b[i].is_ascii_whitespace() {
        i += 1;
    }
    i
}

/// Finds the end (exclusive) of the JSON value starting at `start` by bracket matching,
/// ignoring brackets inside strings. `None` when the input ends first (truncated).
fn value_end(b: &[u8], start: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut i = start;
    let mut in_str = false;
    while i < b.len() {
        let c = b[i];
        if in_str {
            match c {
                b'\\' => i += 1,
                b'"' => in_str = false,
                _ => {}
            }
        } else {
            match c {
                b'"' => in_str = true,
                b'{' | b'[' => depth += 1,
                b'}' | b']' => {
                    if depth <= 1 {
                        return Some(i + 1);
                    }
                    depth -= 1;
                }
                b',' if depth == 0 => return Some(i),
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// Parses one JSON value from the front of `b`, returning it and the bytes consumed.
fn parse_one(b: &[u8]) -> std::result::Result<(Value, usize), serde_json::Error> {
    let mut it = serde_json::Deserializer::from_slice(b).into_iter::<Value>();
    match it.next() {
        Some(Ok(v)) => Ok((v, it.byte_offset())),
        Some(Err(e)) => Err(e),
        None => Err(serde::de::Error::custom("expected a value")),
    }
}

fn describe(e: &serde_json::Error, bytes: &[u8], base: usize) -> String {
    let msg = e.to_string();
    // serde_json appends " at line L column C" relative to the element; restate it for the file.
    let core = msg.split(" at line ").next().unwrap_or(&msg).to_string();
    let (line, col) = line_col(bytes, base + e.column().saturating_sub(1) + offset_of_line(bytes, base, e.line()));
    format!("{core} (line {line}, column {col})")
}

/// Byte distance from `base` to the start of the element-relative line `line` (1-based).
fn offset_of_line(bytes: &[u8], base: usize, line: usize) -> usize {
    if line <= 1 {
        return 0;
    }
    memchr::memchr_iter(b'\n', &bytes[base..]).nth(line - 2).map_or(0, |p| p + 1)
}

/// Reads a JSON array. Structural damage outside any element (no `[`) is an error; damage
/// inside an element becomes an item error for that element.
pub(crate) fn read_array(
    path: &Path,
    raw: &[u8],
    on_error: crate::OnError,
    sink: &mut dyn FnMut(RawItem) -> Result<()>,
) -> Result<()> {
    let fixed = rewrite_literals(raw);
    let b: &[u8] = &fixed;
    let mut i = skip_ws(b, if b.starts_with(b"\xEF\xBB\xBF") { 3 } else { 0 });
    if b.get(i) != Some(&b'[') {
        let (line, col) = line_col(b, i);
        return Err(Error::input(
            path,
            Location::Byte(i),
            format!("expected a JSON array starting with `[` (line {line}, column {col})"),
        ));
    }
    i += 1;
    let mut index = 0usize;
    loop {
        i = skip_ws(b, i);
        match b.get(i) {
            None => {
                if index == 0 || on_error == crate::OnError::Fail {
                    return Err(Error::input(
                        path,
                        Location::Record(index),
                        "file ends before the closing `]` (truncated?)",
                    ));
                }
                break;
            }
            // `[]`, or a trailing comma before `]` (tolerated).
            Some(b']') => break,
            _ => {}
        }
        let start = i;
        match parse_one(&b[start..]) {
            Ok((v, used)) => {
                sink(RawItem { position: index, location: Location::Record(index), value: Ok(v) })?;
                i = start + used;
            }
            Err(e) => {
                let reason = if e.is_eof() {
                    "truncated: the file ends inside this record".to_string()
                } else {
                    format!("invalid JSON: {}", describe(&e, b, start))
                };
                if on_error == crate::OnError::Fail {
                    return Err(Error::input(path, Location::Record(index), reason));
                }
                sink(RawItem { position: index, location: Location::Record(index), value: Err(reason) })?;
                match value_end(b, start) {
                    Some(end) => i = end,
                    None => break,
                }
            }
        }
        index += 1;
        i = skip_ws(b, i);
        match b.get(i) {
            Some(b',') => i += 1,
            Some(b']') => {
                let after = skip_ws(b, i + 1);
                if after < b.len() {
                    let (line, col) = line_col(b, after);
                    return Err(Error::input(
                        path,
                        Location::Byte(after),
                        format!("unexpected content after the closing `]` (line {line}, column {col})"),
                    ));
                }
                break;
            }
            None => {
                if on_error == crate::OnError::Fail {
                    return Err(Error::input(
                        path,
                        Location::Record(index),
                        "file ends before the closing `]` (truncated?)",
                    ));
                }
                break;
            }
            Some(_) => {
                let (line, col) = line_col(b, i);
                let reason = format!("expected `,` or `]` after record {} (line {line}, column {col})", index - 1);
                if on_error == crate::OnError::Fail {
                    return Err(Error::input(path, Location::Record(index - 1), reason));
                }
                // Resynchronise at the next element start.
                match value_end(b, i) {
                    Some(end) => i = end + usize::from(b.get(end) == Some(&b',')),
                    None => break,
                }
            }
        }
    }
    Ok(())
}

/// Reads JSONL from memory: one value per non-blank line. Every line's problem is an item
/// error. (Files are read with [`stream_lines`]; this is its in-memory twin for tests.)
#[cfg(test)]
pub(crate) fn read_lines(raw: &[u8], sink: &mut dyn FnMut(RawItem) -> Result<()>) -> Result<()> {
    let mut lines = Lines::default();
    for line in raw.split_inclusive(|&c| c == b'\n') {
        lines.feed(line, sink)?;
    }
    Ok(())
}

/// Reads a JSONL file line by line from disk, so that only one line is in memory at a time;
/// the items equal those of [`read_lines`] over the whole file.
pub(crate) fn stream_lines(path: &Path, sink: &mut dyn FnMut(RawItem) -> Result<()>) -> Result<()> {
    use std::io::BufRead;
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut reader = std::io::BufReader::with_capacity(1 << 20, file);
    let mut lines = Lines::default();
    let mut line = Vec::new();
    loop {
        line.clear();
        if reader.read_until(b'\n', &mut line).map_err(|e| Error::io(path, e))? == 0 {
            return Ok(());
        }
        lines.feed(&line, sink)?;
    }
}

/// JSONL parsing state across lines: line number and position of the next value.
#[derive(Default)]
struct Lines {
    /// Lines seen so far (the next line's 0-based index).
    seen: usize,
    /// Values (non-blank lines) seen so far.
    position: usize,
}

impl Lines {
    /// Parses one line (with or without its `\n`).
    fn feed(&mut self, line: &[u8], sink: &mut dyn FnMut(RawItem) -> Result<()>) -> Result<()> {
        let n = self.seen;
        self.seen += 1;
        let line = if n == 0 { line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line) } else { line };
        let line = line.strip_suffix(b"\n").unwrap_or(line);
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.iter().all(|c| c.is_ascii_whitespace()) {
            return Ok(());
        }
        let location = Location::Line(n + 1);
        let value = match std::str::from_utf8(line) {
            Err(e) => Err(format!("invalid UTF-8 at byte {} of the line", e.valid_up_to())),
            Ok(_) => {
                let fixed = rewrite_literals(line);
                serde_json::from_slice::<Value>(&fixed).map_err(|e| {
                    let msg = e.to_string();
                    let core = msg.split(" at line ").next().unwrap_or(&msg).to_string();
                    if e.is_eof() {
                        format!("truncated JSON: {core}")
                    } else {
                        format!("invalid JSON: {core} (column {})", e.column())
                    }
                })
            }
        };
        sink(RawItem { position: self.position, location, value })?;
        self.position += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::OnError;

    fn vals(items: &[RawItem]) -> Vec<bool> {
        items.iter().map(|i| i.value.is_ok()).collect()
    }

    fn array(src: &[u8], on_error: OnError) -> Result<Vec<RawItem>> {
        let mut items = Vec::new();
        read_array(Path::new("x.json"), src, on_error, &mut |i| {
            items.push(i);
            Ok(())
        })?;
        Ok(items)
    }

    #[test]
    fn array_resyncs_after_a_bad_element() {
        let src = b"[{\"a\": 1}, {\"a\": tru}, {\"b\": [1, {\"c\": \"]\"}]}]";
        let items = array(src, OnError::Skip).unwrap();
        assert_eq!(vals(&items), vec![true, false, true]);
        assert!(array(src, OnError::Fail).is_err());
    }

    #[test]
    fn truncated_array_keeps_complete_elements() {
        let src = b"[{\"a\": 1}, {\"a\": 2}, {\"a\": \"unfinished";
        let items = array(src, OnError::Skip).unwrap();
        assert_eq!(vals(&items), vec![true, true, false]);
        assert!(items[2].value.as_ref().unwrap_err().starts_with("truncated"));
    }

    #[test]
    fn jsonl_reports_lines() {
        let src = b"{\"a\": 1}\n\n{\"a\": \xff}\n{\"a\": NaN}\n";
        let mut items = Vec::new();
        read_lines(src, &mut |i| {
            items.push(i);
            Ok(())
        })
        .unwrap();
        assert_eq!(items.len(), 3);
        assert_eq!(items[1].location, Location::Line(3));
        assert!(items[1].value.is_err());
        assert!(items[2].value.is_ok());
        // streaming from disk (with a BOM, CRLF and no final newline) gives the same items
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.jsonl");
        std::fs::write(&p, b"\xEF\xBB\xBF{\"a\": 1}\r\n\n{\"a\": \xff}\n{\"a\": NaN}").unwrap();
        let mut streamed = Vec::new();
        stream_lines(&p, &mut |i| {
            streamed.push(i);
            Ok(())
        })
        .unwrap();
        let key =
            |v: &[RawItem]| v.iter().map(|i| (i.position, i.location.clone(), i.value.clone())).collect::<Vec<_>>();
        assert_eq!(key(&streamed), key(&items));
    }
}
