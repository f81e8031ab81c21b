//! CaR's expert-revised CSV files (`src,score` and `src,pos,neg`), read with the `csv` crate:
//! a header row, then records whose quoted fields may hold commas, newlines and doubled quotes.

use gleaner_core::{Error, Result, error::Location};
use std::path::Path;

/// A parsed CSV row: its fields and the 1-based line it starts on.
pub type Row = (usize, Vec<String>);

/// Reads a CSV file with a header row and returns `(header, rows)`; every row must have as
/// many fields as the header (else an error naming the file and the row's line).
pub fn read(path: &Path) -> Result<(Vec<String>, Vec<Row>)> {
    let bytes = std::fs::read(path).map_err(|e| Error::io(path, e))?;
    parse(&bytes).map_err(|(line, msg)| Error::input(path, Location::Line(line), msg))
}

/// [`read`] from memory; errors are `(line, message)`. Lines are physical lines of the text
/// (the `csv` crate counts records, not the newlines inside quoted fields).
fn parse(src: &[u8]) -> std::result::Result<(Vec<String>, Vec<Row>), (usize, String)> {
    // where a record really starts: the crate may point at the `\n` of a `\r\n` before it
    let start = |byte: u64| {
        let mut at = (byte as usize).min(src.len());
        while matches!(src.get(at), Some(b'\r' | b'\n')) {
            at += 1;
        }
        at
    };
    let line_at = |byte: u64| 1 + src[..start(byte)].iter().filter(|&&b| b == b'\n').count();
    let mut r = ::csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(src);
    let line_of = |e: &::csv::Error| e.position().map_or(1, |p| line_at(p.byte()));
    let header: Vec<String> = r.headers().map_err(|e| (line_of(&e), e.to_string()))?.iter().map(String::from).collect();
    if header.is_empty() {
        return Err((1, "empty CSV file (no header)".into()));
    }
    let mut rows = Vec::new();
    // physical line of each record start, counted incrementally from the previous one
    let (mut seen_byte, mut seen_line) = (0usize, 1usize);
    for rec in r.records() {
        let rec = rec.map_err(|e| match e.kind() {
            ::csv::ErrorKind::UnequalLengths { pos, expected_len, len } => {
                (pos.as_ref().map_or(1, |p| line_at(p.byte())), format!("{len} fields, the header has {expected_len}"))
            }
            _ => (line_of(&e), e.to_string()),
        })?;
        let at = rec.position().map_or(seen_byte, |p| start(p.byte()));
        seen_line += src[seen_byte.min(at)..at].iter().filter(|&&b| b == b'\n').count();
        seen_byte = at;
        let line = seen_line;
        rows.push((line, rec.iter().map(String::from).collect()));
    }
    Ok((header, rows))
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn quoted_fields_and_lines() {
        let (h, rows) = parse(b"src,score\n\"a, \"\"b\"\"\nc\",1\r\nplain,0\n").unwrap();
        assert_eq!(h, ["src", "score"]);
        assert_eq!(rows[0], (2, vec!["a, \"b\"\nc".to_string(), "1".into()]));
        assert_eq!(rows[1], (4, vec!["plain".to_string(), "0".into()]));
        let (_, rows) = parse(b"x,y\n1,2").unwrap();
        assert_eq!(rows, vec![(2, vec!["1".to_string(), "2".into()])]);
    }

    #[test]
    fn a_short_row_names_its_line() {
        let (line, msg) = parse(b"src,score\na,1\n\"b\nc\"\n").unwrap_err();
        assert_eq!(line, 3, "{msg}");
        assert!(msg.contains("1 fields, the header has 2"), "{msg}");
        assert_eq!(parse(b"").unwrap_err().1, "empty CSV file (no header)");
    }
}
