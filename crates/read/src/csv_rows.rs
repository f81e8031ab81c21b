//! CSV with a header row, through the `csv` crate: the header names the fields, and every row
//! becomes a JSON object of strings (`instruction,input,output` is an Alpaca record; any other
//! columns are kept as extra fields).
//!
//! The file is streamed one record at a time. Quoted fields may hold commas, doubled quotes and
//! newlines; a record's location is the *physical* line it starts on (1-based, the header is
//! line 1), counted from the line breaks the parser was fed, since the crate's own count lags
//! after `\r\n` terminators and blank lines.

use crate::RawItem;
use gleaner_core::error::Location;
use gleaner_core::{Error, Result};
use serde_json::{Map, Value};
use std::collections::VecDeque;
use std::io::{BufRead, Read};
use std::path::Path;

/// A reader that remembers where the line breaks it passes on are, so that the physical line
/// of a record can be told from the byte offset the `csv` crate reports for it.
struct Breaks<R> {
    inner: R,
    /// Bytes passed on so far.
    offset: u64,
    /// Offset and byte of every `\r` / `\n` passed on and not yet consumed by [`Breaks::line_of`]
    /// (at most what the parser has buffered ahead, plus the current record).
    pending: VecDeque<(u64, u8)>,
    /// `\n` bytes consumed by [`Breaks::line_of`].
    newlines: usize,
}

impl<R: Read> Read for Breaks<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        for i in memchr::memchr2_iter(b'\n', b'\r', &buf[..n]) {
            self.pending.push_back((self.offset + i as u64, buf[i]));
        }
        self.offset += n as u64;
        Ok(n)
    }
}

impl<R> Breaks<R> {
    fn new(inner: R) -> Self {
        Breaks { inner, offset: 0, pending: VecDeque::new(), newlines: 0 }
    }

    /// 1-based physical line of a record the parser reports at `byte`: the line of the first
    /// byte at or after `byte` that is not a line break (the parser may report a record at the
    /// `\n` of the previous `\r\n`, or before blank lines it skipped). Calls must come in
    /// non-decreasing `byte` order, after the record was parsed.
    fn line_of(&mut self, byte: u64) -> usize {
        let mut at = byte;
        while let Some(&(off, b)) = self.pending.front() {
            if off > at {
                break;
            }
            if off == at {
                at += 1;
            }
            self.newlines += usize::from(b == b'\n');
            self.pending.pop_front();
        }
        self.newlines + 1
    }
}

/// `n field(s)`.
fn fields(n: usize) -> String {
    if n == 1 { "1 field".into() } else { format!("{n} fields") }
}

/// One row as a JSON object keyed by the header, or the reason it cannot be.
fn row_value(names: &[String], row: &::csv::ByteRecord) -> std::result::Result<Value, String> {
    if row.len() != names.len() {
        return Err(format!("wrong number of fields: {}, the header has {}", fields(row.len()), names.len()));
    }
    let mut obj = Map::with_capacity(names.len());
    for (name, field) in names.iter().zip(row) {
        let text = std::str::from_utf8(field)
            .map_err(|e| format!("invalid UTF-8: column `{name}`, byte {} of the field", e.valid_up_to()))?;
        obj.insert(name.clone(), Value::String(text.to_owned()));
    }
    Ok(Value::Object(obj))
}

/// Reads every row of a CSV file as a JSON object of strings into `sink`, one record at a time.
/// A row with the wrong number of fields or invalid UTF-8 is an item error (located at the line
/// the row starts on); an unreadable header is an error. An empty file has no records.
pub(crate) fn read_rows(path: &Path, sink: &mut dyn FnMut(RawItem) -> Result<()>) -> Result<()> {
    let file = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut inner = std::io::BufReader::with_capacity(1 << 16, file);
    if inner.fill_buf().map_err(|e| Error::io(path, e))?.starts_with(b"\xEF\xBB\xBF") {
        inner.consume(3);
    }
    let mut rdr = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .buffer_capacity(1 << 16)
        .from_reader(Breaks::new(inner));
    let csv_err = |e: ::csv::Error| {
        if e.is_io_error() {
            match e.into_kind() {
                ::csv::ErrorKind::Io(io) => Error::io(path, io),
                _ => unreachable!("an I/O error"),
            }
        } else {
            Error::Format { path: path.to_path_buf(), message: format!("not a readable CSV file: {e}") }
        }
    };
    let start = |rec: &::csv::ByteRecord| rec.position().map_or(0, ::csv::Position::byte);

    let mut rec = ::csv::ByteRecord::new();
    if !rdr.read_byte_record(&mut rec).map_err(csv_err)? {
        return Ok(());
    }
    let header_line = rdr.get_mut().line_of(start(&rec));
    let header_err = |message: String| Error::input(path, Location::Line(header_line), message);
    let mut names = Vec::with_capacity(rec.len());
    for (k, field) in rec.iter().enumerate() {
        let name = std::str::from_utf8(field)
            .map_err(|_| header_err(format!("invalid UTF-8 in the header (column {})", k + 1)))?;
        if names.iter().any(|n| n == name) {
            return Err(header_err(format!("duplicate column `{name}` in the header")));
        }
        names.push(name.to_owned());
    }

    let mut position = 0usize;
    while rdr.read_byte_record(&mut rec).map_err(csv_err)? {
        let line = rdr.get_mut().line_of(start(&rec));
        sink(RawItem { position, location: Location::Line(line), value: row_value(&names, &rec) })?;
        position += 1;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(src: &[u8]) -> Result<Vec<RawItem>> {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.csv");
        std::fs::write(&p, src).unwrap();
        let mut out = Vec::new();
        read_rows(&p, &mut |i| {
            out.push(i);
            Ok(())
        })?;
        Ok(out)
    }

    fn lines(items: &[RawItem]) -> Vec<usize> {
        items
            .iter()
            .map(|i| match i.location {
                Location::Line(l) => l,
                ref other => panic!("{other}"),
            })
            .collect()
    }

    #[test]
    fn physical_lines_through_quotes_crlf_and_blank_lines() {
        let src = b"\xEF\xBB\xBFa,b\r\n\"x\r\ny\",1\r\n\r\n\r\nplain,2\r\n\"\"\"q\"\"\n\n\",3\nlast,4";
        let got = items(src).unwrap();
        assert_eq!(lines(&got), [2, 6, 7, 10]);
        assert_eq!(got.iter().map(|i| i.position).collect::<Vec<_>>(), [0, 1, 2, 3]);
        let v = got[0].value.as_ref().unwrap();
        assert_eq!(v, &serde_json::json!({"a": "x\r\ny", "b": "1"}));
        assert_eq!(got[2].value.as_ref().unwrap()["a"], "\"q\"\n\n");
        assert_eq!(got[3].value.as_ref().unwrap()["b"], "4");
    }

    #[test]
    fn row_errors_are_items_and_header_errors_are_fatal() {
        let got = items(b"a,b\n1\n\"2\n\",\xff\n3,4,5\n6,7\n").unwrap();
        assert_eq!(lines(&got), [2, 3, 5, 6]);
        assert_eq!(got[0].value.as_ref().unwrap_err(), "wrong number of fields: 1 field, the header has 2");
        assert_eq!(got[1].value.as_ref().unwrap_err(), "invalid UTF-8: column `b`, byte 0 of the field");
        assert_eq!(got[2].value.as_ref().unwrap_err(), "wrong number of fields: 3 fields, the header has 2");
        assert!(got[3].value.is_ok());
        let e = items(b"a,a\n1,2\n").err().unwrap().to_string();
        assert!(e.ends_with("line 1: duplicate column `a` in the header"), "{e}");
        assert!(items(b"\na,\xff\n").err().unwrap().to_string().contains("line 2: invalid UTF-8 in the header"));
        assert!(items(b"").unwrap().is_empty());
        assert!(items(b"a,b\r\n").unwrap().is_empty());
    }

    #[test]
    fn lines_stay_right_across_buffer_refills() {
        // records longer than the parser's buffer, with newlines inside
        let long = "x\n".repeat(50_000);
        let src = format!("t,n\n\"{long}\",1\nshort,2\n");
        let got = items(src.as_bytes()).unwrap();
        assert_eq!(lines(&got), [2, 50_003]);
        assert_eq!(got[0].value.as_ref().unwrap()["t"].as_str().unwrap().len(), long.len());
    }

    // The dataset level: records, accounting and the released (re-parsing) mode.

    use crate::{Container, Format, OnError, ReadOptions, read, read_released};
    use gleaner_core::RecordShape;

    fn write(dir: &tempfile::TempDir, name: &str, src: &[u8]) -> std::path::PathBuf {
        let p = dir.path().join(name);
        std::fs::write(&p, src).unwrap();
        p
    }

    const ALPACA: &[u8] = b"instruction,input,output,source\n\
        Say hi,,Hello!,demo\n\
        \"Add, then explain\",\"2, 3\",\"5.\nBecause \"\"2 + 3\"\" is 5.\",demo\n\
        List two colours,,\"red\r\nblue\",\n";

    #[test]
    fn a_csv_file_reads_as_alpaca_records_with_extra_fields() {
        let dir = tempfile::tempdir().unwrap();
        let p = write(&dir, "a.csv", ALPACA);
        assert_eq!(Format::detect(&p).unwrap().container, Container::Csv);
        let ds = read(&p, &ReadOptions::default()).unwrap();
        assert_eq!((ds.container, ds.len(), ds.accounting.read), (Container::Csv, 3, 3));
        let rs = ds.records_in_memory().unwrap();
        assert!(rs.iter().all(|r| r.shape == RecordShape::Alpaca));
        assert_eq!((rs[0].instruction(), rs[0].input.as_str(), rs[0].output()), ("Say hi", "", "Hello!"));
        assert_eq!((rs[1].instruction(), rs[1].input.as_str()), ("Add, then explain", "2, 3"));
        assert_eq!(rs[1].output(), "5.\nBecause \"2 + 3\" is 5.");
        assert_eq!(rs[2].output(), "red\r\nblue");
        let keys: Vec<&str> = rs[0].fields.keys().map(String::as_str).collect();
        assert_eq!(keys, ["instruction", "input", "output", "source"]);
        assert_eq!(rs[1].fields["source"], "demo");
        assert_eq!(rs[2].fields["source"], "");
        assert_eq!(ds.positions, [0, 1, 2]);

        // forced by name, whatever the extension
        let q = write(&dir, "a.txt", ALPACA);
        assert!(Format::detect(&q).is_err());
        let forced = ReadOptions { format: Format::parse("csv"), ..Default::default() };
        assert!(Format::NAMES.contains(&"csv"));
        assert_eq!(read(&q, &forced).unwrap().into_records().unwrap(), rs);

        // released: same ids and positions, records parsed again one at a time
        let rel = read_released(&p, &ReadOptions::default()).unwrap();
        assert!(rel.is_released());
        assert_eq!((&rel.ids, &rel.positions, &rel.accounting), (&ds.ids, &ds.positions, &ds.accounting));
        assert_eq!(rel.subset(&[2, 0]).unwrap().records_in_memory().unwrap(), [rs[2].clone(), rs[0].clone()]);
        assert_eq!(rel.into_records().unwrap(), rs);
    }

    #[test]
    fn a_bad_row_fails_with_its_line_or_is_skipped_and_counted() {
        let dir = tempfile::tempdir().unwrap();
        // the short row is the third record but starts on line 5 (a quoted field spans 2-3)
        let src = b"instruction,output\n\"multi\nline\",a\nok,b\nshort\nlast,c\nbad,\xff\n";
        let p = write(&dir, "s.csv", src);
        let e = read(&p, &ReadOptions::default()).unwrap_err();
        assert_eq!(
            e.to_string(),
            format!("{}: line 5: wrong number of fields: 1 field, the header has 2", p.display())
        );
        assert!(matches!(e, gleaner_core::Error::Input { location: Location::Line(5), .. }));
        assert!(read_released(&p, &ReadOptions::default()).is_err());

        let skip = ReadOptions { on_error: OnError::Skip, ..Default::default() };
        for ds in [read(&p, &skip).unwrap(), read_released(&p, &skip).unwrap()] {
            let acc = &ds.accounting;
            assert_eq!((acc.read, acc.ok, acc.skipped.len()), (5, 3, 2));
            assert!(acc.balanced());
            assert_eq!(acc.skipped[0].location, "line 5");
            assert_eq!(acc.skipped[0].reason, "wrong number of fields: 1 field, the header has 2");
            assert_eq!(acc.skipped[1].location, "line 7");
            assert!(acc.skipped[1].reason.starts_with("invalid UTF-8: column `output`"));
            assert_eq!(ds.positions, [0, 1, 3]);
            let outs = ds.map_records(|r| r.output().to_string()).unwrap();
            assert_eq!(outs, ["a", "b", "c"]);
        }
    }

    #[test]
    fn a_header_only_file_has_no_records_and_a_prompt_file_is_a_prompt_set() {
        let dir = tempfile::tempdir().unwrap();
        for src in [&b"instruction,input,output\n"[..], b"instruction,input,output", b""] {
            let p = write(&dir, "h.csv", src);
            let ds = read(&p, &ReadOptions::default()).unwrap();
            assert_eq!((ds.len(), ds.accounting.read), (0, 0));
            assert_eq!(read_released(&p, &ReadOptions::default()).unwrap().len(), 0);
        }
        let p = write(&dir, "p.csv", b"id,prompt\n1,What is 2+2?\n2,Name a colour.\n");
        let ds = read(&p, &ReadOptions::default()).unwrap();
        let rs = ds.records_in_memory().unwrap();
        assert_eq!((rs[1].shape, rs[1].instruction()), (RecordShape::Prompt("prompt"), "Name a colour."));
        assert_eq!(rs[0].fields["id"], "1");
    }
}
