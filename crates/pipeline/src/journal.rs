//! Row-level resume: a stage appends finished chunks of rows to a journal beside its side file
//! (`X.parquet` → `X.parquet.partial`), one JSON line per chunk. A rerun after an interruption
//! (even `kill -9`) reads the complete lines, skips their chunks and appends the rest. Floats are
//! stored as their IEEE bit patterns, so a resumed run writes byte-identical results.
//!
//! The first line holds the stage's [`Manifest`]; a journal made with other settings, another
//! model or another input is refused with the list of differences.
//!
//! Every line is `CHECKSUM JSON` (xxh3-64 of the JSON text, 16 hex digits): a line that fails
//! its checksum (bit-flipped, truncated) is never trusted. A damaged chunk line is recomputed
//! with every chunk after it; a damaged header starts the journal over. Both are reported. A
//! failed append (disk full) cuts the file back to its last complete line, so the journal on
//! disk is always a valid prefix.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use gleaner_cache::{Column, Manifest};
use gleaner_core::{Error, Result};
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Named columns of one chunk of rows.
pub type Chunk = Vec<(String, Column)>;

/// An open journal.
pub struct Journal {
    path: PathBuf,
    file: std::fs::File,
    /// Bytes of complete, checksummed lines.
    len: u64,
}

/// The JSON text of a complete line whose checksum holds (`None` for a torn or damaged line).
fn checked(line: &str) -> Option<&str> {
    let body = line.strip_suffix('\n')?;
    let (sum, json) = body.split_once(' ')?;
    (sum == gleaner_core::atomic::checksum(json.as_bytes())).then_some(json)
}

/// The journal path of a side file.
pub fn journal_path(side: &Path) -> PathBuf {
    gleaner_core::atomic::with_suffix(side, ".partial")
}

fn encode(col: &Column) -> Value {
    match col {
        Column::F64(v) => json!({"f64": v.iter().map(|x| x.to_bits()).collect::<Vec<u64>>()}),
        // embeddings are large: little-endian bytes in base64 (4 bytes → 5.3 characters)
        Column::F32(v) => {
            let bytes: Vec<u8> = v.iter().flat_map(|x| x.to_le_bytes()).collect();
            json!({"f32le": BASE64.encode(bytes)})
        }
        Column::I64(v) => json!({"i64": v}),
        Column::Str(v) => json!({"str": v}),
    }
}

fn decode(v: &Value) -> Option<Column> {
    let (kind, vals) = v.as_object()?.iter().next()?;
    let empty = Vec::new();
    let arr = vals.as_array().unwrap_or(&empty);
    Some(match kind.as_str() {
        "f64" => Column::F64(arr.iter().map(|x| x.as_u64().map(f64::from_bits)).collect::<Option<_>>()?),
        "f32" => Column::F32(arr.iter().map(|x| x.as_u64().map(|b| f32::from_bits(b as u32))).collect::<Option<_>>()?),
        "f32le" => {
            let bytes = BASE64.decode(vals.as_str()?).ok()?;
            if bytes.len() % 4 != 0 {
                return None;
            }
            Column::F32(bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect())
        }
        "i64" => Column::I64(arr.iter().map(Value::as_i64).collect::<Option<_>>()?),
        "str" => Column::Str(arr.iter().map(|x| x.as_str().map(String::from)).collect::<Option<_>>()?),
        _ => return None,
    })
}

fn parse_chunk(line: &str) -> Option<(usize, Chunk)> {
    let v: Value = serde_json::from_str(line).ok()?;
    let index = v.get("chunk")?.as_u64()? as usize;
    let cols = v.get("cols")?.as_array()?;
    let mut out = Vec::new();
    for c in cols {
        let name = c.get("name")?.as_str()?.to_string();
        out.push((name, decode(c.get("values")?)?));
    }
    Some((index, out))
}

impl Journal {
    /// Opens (or creates) the journal of `side` for `manifest` and returns the chunks already
    /// done. A torn last line (from a kill) is dropped; a damaged line is dropped with every
    /// line after it and `note` says so; a damaged header starts over (also noted).
    pub fn open(side: &Path, manifest: &Manifest, note: &dyn Fn(&str)) -> Result<(Journal, BTreeMap<usize, Chunk>)> {
        let path = journal_path(side);
        let mut done = BTreeMap::new();
        let mut good_len = 0usize;
        match std::fs::read(&path) {
            Ok(bytes) => {
                let text = String::from_utf8_lossy(&bytes);
                let mut lines = text.split_inclusive('\n');
                let header = lines.next().unwrap_or("");
                let old: Option<Manifest> = checked(header).and_then(|j| serde_json::from_str(j).ok());
                match old {
                    None if !bytes.is_empty() => note(&format!(
                        "{}: damaged resume journal header (checksum mismatch, torn or unreadable); starting this stage over",
                        path.display()
                    )),
                    None => {}
                    Some(old) => {
                        let diff = manifest.differences(&old);
                        if !diff.is_empty() {
                            return Err(Error::SideFile {
                                path: path.clone(),
                                message: format!(
                                    "refusing to resume: the partial scores were made with different settings ({}); \
                                     delete the file to start over, or rerun with the original settings",
                                    diff.join("; ")
                                ),
                            });
                        }
                        good_len = header.len();
                        for (n, line) in lines.enumerate() {
                            let parsed = checked(line).and_then(parse_chunk);
                            match parsed {
                                Some((i, c)) => {
                                    done.insert(i, c);
                                    good_len += line.len();
                                }
                                // a torn last line: the normal trace of a kill mid-append
                                None if !line.ends_with('\n') => break,
                                None => {
                                    note(&format!(
                                        "{}: line {} is damaged (checksum mismatch); recomputing its chunk and any after it",
                                        path.display(),
                                        n + 2
                                    ));
                                    break;
                                }
                            }
                        }
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(Error::io(&path, e)),
        }
        let file = std::fs::OpenOptions::new().create(true).write(true).truncate(false).open(&path);
        let file = file.map_err(|e| Error::io(&path, e))?;
        file.set_len(good_len as u64).map_err(|e| Error::io(&path, e))?;
        let mut j = Journal { path, file, len: good_len as u64 };
        use std::io::Seek;
        j.file.seek(std::io::SeekFrom::End(0)).map_err(|e| Error::io(&j.path, e))?;
        if good_len == 0 {
            let header = serde_json::to_string(manifest).map_err(|e| Error::Other(e.to_string()))?;
            j.write_line(&header)?;
        }
        Ok((j, done))
    }

    /// Appends `CHECKSUM JSON\n` and syncs it; on failure (a full disk) the file is cut back
    /// to its previous length so that no partial line stays behind.
    fn write_line(&mut self, json: &str) -> Result<()> {
        let line = format!("{} {json}\n", gleaner_core::atomic::checksum(json.as_bytes()));
        let res = self.file.write_all(line.as_bytes()).and_then(|_| self.file.sync_data());
        if let Err(e) = res {
            use std::io::Seek;
            let _ = self.file.set_len(self.len);
            let _ = self.file.seek(std::io::SeekFrom::Start(self.len));
            return Err(Error::io(&self.path, e));
        }
        self.len += line.len() as u64;
        Ok(())
    }

    /// Appends one finished chunk.
    pub fn append(&mut self, index: usize, chunk: &Chunk) -> Result<()> {
        let cols: Vec<Value> = chunk.iter().map(|(n, c)| json!({"name": n, "values": encode(c)})).collect();
        let line =
            serde_json::to_string(&json!({"chunk": index, "cols": cols})).map_err(|e| Error::Other(e.to_string()))?;
        self.write_line(&line)
    }

    /// Removes the journal (after the side file is written).
    pub fn finish(self) -> Result<()> {
        drop(self.file);
        std::fs::remove_file(&self.path).map_err(|e| Error::io(&self.path, e))
    }
}

/// Runs `compute` over `ds` in chunks of `chunk_rows` rows, journaling each finished chunk
/// beside `side` under `manifest`, and returns the concatenated columns. A rerun after an
/// interruption skips the chunks already in the journal (one with another manifest is refused;
/// damage is reported through `note`);
/// `progress` receives the rows done so far. The caller writes the side file and then calls
/// [`Journal::finish`] on the returned journal.
#[allow(clippy::too_many_arguments)]
pub fn run_chunked(
    ds: &gleaner_read::Dataset,
    side: &Path,
    manifest: &Manifest,
    chunk_rows: usize,
    note: &dyn Fn(&str),
    resumed: &dyn Fn(usize, usize),
    progress: &mut dyn FnMut(usize),
    compute: &mut dyn FnMut(&[gleaner_core::Record]) -> Result<Chunk>,
) -> Result<(Chunk, Journal)> {
    let (mut journal, mut done) = Journal::open(side, manifest, note)?;
    if ds.is_empty() {
        // No chunk runs on an empty dataset: one call on no records still gives the stage's
        // columns (empty), so its side file has them.
        return Ok((compute(&[])?, journal));
    }
    let chunk_rows = chunk_rows.max(1);
    if !done.is_empty() {
        resumed(done.len(), ds.len().div_ceil(chunk_rows));
    }
    let rows_done = |done: &BTreeMap<usize, Chunk>| {
        done.keys().map(|&k| ((k + 1) * chunk_rows).min(ds.len()) - k * chunk_rows).sum::<usize>()
    };
    progress(rows_done(&done));
    ds.for_each_chunk(chunk_rows, &mut |lo, records| {
        let c = lo / chunk_rows;
        if done.contains_key(&c) {
            return Ok(());
        }
        let chunk = compute(records)?;
        journal.append(c, &chunk)?;
        done.insert(c, chunk);
        progress(rows_done(&done));
        Ok(())
    })?;
    Ok((concat(&done)?, journal))
}

/// Concatenates chunks (in chunk order) column by column; every chunk must have the same
/// columns in the same order.
pub fn concat(chunks: &BTreeMap<usize, Chunk>) -> Result<Chunk> {
    let mut out: Chunk = Vec::new();
    for c in chunks.values() {
        if out.is_empty() {
            out = c.iter().map(|(n, col)| (n.clone(), empty_like(col))).collect();
        }
        if c.len() != out.len() {
            return Err(Error::Other("resume journal chunks have different columns".into()));
        }
        for ((name, dst), (n2, src)) in out.iter_mut().zip(c) {
            if name != n2 {
                return Err(Error::Other(format!("resume journal column mismatch: {name} vs {n2}")));
            }
            match (dst, src) {
                (Column::F64(a), Column::F64(b)) => a.extend_from_slice(b),
                (Column::F32(a), Column::F32(b)) => a.extend_from_slice(b),
                (Column::I64(a), Column::I64(b)) => a.extend_from_slice(b),
                (Column::Str(a), Column::Str(b)) => a.extend_from_slice(b),
                _ => return Err(Error::Other(format!("resume journal column {name} changed type"))),
            }
        }
    }
    Ok(out)
}

fn empty_like(c: &Column) -> Column {
    match c {
        Column::F64(_) => Column::F64(Vec::new()),
        Column::F32(_) => Column::F32(Vec::new()),
        Column::I64(_) => Column::I64(Vec::new()),
        Column::Str(_) => Column::Str(Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gleaner_core::RowId;
    use std::cell::RefCell;

    fn chunk(x: f64) -> Chunk {
        vec![("x".into(), Column::F64(vec![x, 1.5]))]
    }

    /// Opens the journal, collecting the notes.
    fn open(side: &Path, m: &Manifest) -> (Journal, BTreeMap<usize, Chunk>, Vec<String>) {
        let notes = RefCell::new(Vec::new());
        let (j, done) = Journal::open(side, m, &|n| notes.borrow_mut().push(n.to_string())).unwrap();
        (j, done, notes.into_inner())
    }

    /// A journal with chunks 0, 1, 2; returns its path and bytes.
    fn three_chunks(side: &Path, m: &Manifest) -> (PathBuf, Vec<u8>) {
        let (mut j, _, _) = open(side, m);
        for i in 0..3 {
            j.append(i, &chunk(i as f64)).unwrap();
        }
        drop(j);
        let p = journal_path(side);
        let b = std::fs::read(&p).unwrap();
        (p, b)
    }

    #[test]
    fn resumes_complete_chunks_and_drops_a_torn_line() {
        let dir = tempfile::tempdir().unwrap();
        let side = dir.path().join("s.parquet");
        let m = Manifest::new("t", None, &[RowId(1), RowId(2)]);
        let (mut j, done, _) = open(&side, &m);
        assert!(done.is_empty());
        j.append(0, &chunk(f64::NAN)).unwrap();
        drop(j);
        // a torn write
        let p = journal_path(&side);
        let mut f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        f.write_all(b"0123456789abcdef {\"chunk\": 1, \"co").unwrap();
        drop(f);
        let (j, done, notes) = open(&side, &m);
        assert_eq!(done.len(), 1);
        assert!(notes.is_empty(), "a torn last line is the normal trace of a kill: {notes:?}");
        let all = concat(&done).unwrap();
        let Column::F64(v) = &all[0].1 else { panic!() };
        assert!(v[0].is_nan() && v[1] == 1.5);
        drop(j);
        // another manifest is refused
        let m2 = m.clone().param("template", "alpaca");
        let err = Journal::open(&side, &m2, &|_| {}).err().unwrap().to_string();
        assert!(err.contains("refusing to resume"), "{err}");
    }

    #[test]
    fn a_bit_flipped_chunk_line_is_reported_and_recomputed_from_there() {
        let dir = tempfile::tempdir().unwrap();
        let side = dir.path().join("s.parquet");
        let m = Manifest::new("t", None, &[RowId(1), RowId(2)]);
        let (p, mut b) = three_chunks(&side, &m);
        // flip one bit inside the second chunk line (the third line): a digit of its values
        let line_starts: Vec<usize> =
            std::iter::once(0).chain(b.iter().enumerate().filter(|(_, c)| **c == b'\n').map(|(i, _)| i + 1)).collect();
        let at = line_starts[2] + 40;
        b[at] ^= 0x01;
        std::fs::write(&p, &b).unwrap();
        let (j, done, notes) = open(&side, &m);
        assert_eq!(done.keys().copied().collect::<Vec<_>>(), vec![0], "chunks after the damage are recomputed");
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("s.parquet.partial") && notes[0].contains("line 3 is damaged"), "{}", notes[0]);
        drop(j);
        assert_eq!(std::fs::metadata(&p).unwrap().len() as usize, line_starts[2], "cut back to the good lines");
    }

    #[test]
    fn a_truncated_journal_keeps_its_complete_lines() {
        let dir = tempfile::tempdir().unwrap();
        let side = dir.path().join("s.parquet");
        let m = Manifest::new("t", None, &[RowId(1), RowId(2)]);
        let (p, b) = three_chunks(&side, &m);
        std::fs::write(&p, &b[..b.len() - 7]).unwrap();
        let (_, done, _) = open(&side, &m);
        assert_eq!(done.keys().copied().collect::<Vec<_>>(), vec![0, 1]);
    }

    #[test]
    fn a_damaged_header_starts_over_and_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let side = dir.path().join("s.parquet");
        let m = Manifest::new("t", None, &[RowId(1), RowId(2)]);
        for damage in ["flip", "truncate"] {
            let (p, mut b) = three_chunks(&side, &m);
            match damage {
                "flip" => b[30] ^= 0x04,
                _ => b.truncate(20),
            }
            std::fs::write(&p, &b).unwrap();
            let (j, done, notes) = open(&side, &m);
            assert!(done.is_empty(), "{damage}: chunks were trusted under a damaged header");
            assert!(notes.len() == 1 && notes[0].contains("damaged resume journal header"), "{damage}: {notes:?}");
            drop(j);
            let (_, _, notes) = open(&side, &m);
            assert!(notes.is_empty(), "{damage}: the rewritten header is valid: {notes:?}");
            std::fs::remove_file(&p).unwrap();
        }
    }
}
