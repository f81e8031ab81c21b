//! A small RFC 4180 CSV reader for CaR's expert-revised files (`src,score` and
//! `src,pos,neg`): quoted fields may hold commas, newlines and doubled quotes.

use gleaner_core::{Error, Result, error::Location};
use std::path::Path;

/// A parsed CSV row: its fields and the 1-based line it starts on.
pub type Row = (usize, Vec<String>);

/// Parses CSV text into rows of fields, each with the 1-based line it starts on. Line ends
/// are `\n` or `\r\n`; a final newline is optional. A quote inside an unquoted field is
/// kept literally. Errors carry the line they were found on.
pub fn parse(text: &str) -> std::result::Result<Vec<Row>, (usize, String)> {
    let mut rows = Vec::new();
    let mut row_start = 1usize;
    let mut row = Vec::new();
    let mut field = String::new();
    let mut chars = text.chars().peekable();
    let mut line = 1usize;
    let mut in_quotes = false;
    let mut at_field_start = true;
    while let Some(c) = chars.next() {
        if in_quotes {
            match c {
                '"' if chars.peek() == Some(&'"') => {
                    chars.next();
                    field.push('"');
                }
                '"' => {
                    in_quotes = false;
                    match chars.peek() {
                        None | Some(',') | Some('\n') | Some('\r') => {}
                        Some(other) => {
                            return Err((line, format!("unexpected {other:?} after a closing quote")));
                        }
                    }
                }
                '\n' => {
                    line += 1;
                    field.push(c);
                }
                _ => field.push(c),
            }
            continue;
        }
        match c {
            '"' if at_field_start => {
                in_quotes = true;
                at_field_start = false;
            }
            ',' => {
                row.push(std::mem::take(&mut field));
                at_field_start = true;
            }
            '\r' if chars.peek() == Some(&'\n') => {}
            '\n' => {
                row.push(std::mem::take(&mut field));
                rows.push((row_start, std::mem::take(&mut row)));
                at_field_start = true;
                line += 1;
                row_start = line;
            }
            _ => {
                field.push(c);
                at_field_start = false;
            }
        }
    }
    if in_quotes {
        return Err((line, "unterminated quoted field".into()));
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push((row_start, row));
    }
    Ok(rows)
}

/// Reads a CSV file with a header row and returns `(header, rows)`; every row must have as
/// many fields as the header (else an error naming the file and the row's line).
pub fn read(path: &Path) -> Result<(Vec<String>, Vec<Row>)> {
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    let mut rows = parse(&text).map_err(|(line, msg)| Error::input(path, Location::Line(line), msg))?;
    if rows.is_empty() {
        return Err(Error::input(path, Location::Line(1), "empty CSV file (no header)"));
    }
    let header = rows.remove(0).1;
    for (line, r) in &rows {
        if r.len() != header.len() {
            return Err(Error::input(
                path,
                Location::Line(*line),
                format!("{} fields, the header has {}", r.len(), header.len()),
            ));
        }
    }
    Ok((header, rows))
}

#[cfg(test)]
mod tests {
    use super::parse;

    #[test]
    fn quoted_fields() {
        let rows = parse("src,score\n\"a, \"\"b\"\"\nc\",1\r\nplain,0\n").unwrap();
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1], (2, vec!["a, \"b\"\nc".to_string(), "1".into()]));
        assert_eq!(rows[2], (4, vec!["plain".to_string(), "0".into()]));
        assert_eq!(parse("\"open\n").unwrap_err().0, 2);
        assert!(parse("\"a\"b,1").is_err());
        assert_eq!(parse("x,y").unwrap(), vec![(1, vec!["x".to_string(), "y".into()])]);
    }
}
