//! Shared oracles of gleaner's fuzz targets.
//!
//! Every reader target writes the fuzzer's bytes to a scratch file (the readers take paths,
//! as the CLI does) and checks, beyond "no panic":
//!
//! - an error names the file;
//! - with `--on-error skip` the counts add up (read = ok + skipped);
//! - a strict read that succeeds equals the skipping read (and skipped nothing);
//! - the released (streaming) read accepts and skips the same rows and parses the same
//!   records again on access;
//! - read → write (same container and layout) → read gives the same records.

use gleaner_core::Record;
use gleaner_read::{Dataset, Format, OnError, ReadOptions, read, read_released};
use gleaner_write::{Target, write};
use std::path::{Path, PathBuf};

/// A per-process scratch directory (one fuzzer process runs one input at a time).
pub fn scratch_dir() -> &'static Path {
    static DIR: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    DIR.get_or_init(|| {
        let d = std::env::temp_dir().join(format!("gleaner-fuzz-{}", std::process::id()));
        std::fs::create_dir_all(&d).expect("scratch dir");
        d
    })
}

/// Writes `bytes` to the scratch file `name` and returns its path.
pub fn scratch_file(name: &str, bytes: &[u8]) -> PathBuf {
    let p = scratch_dir().join(name);
    std::fs::write(&p, bytes).expect("write scratch file");
    p
}

fn records(ds: Dataset) -> Vec<Record> {
    ds.into_records().expect("records of a dataset just read")
}

/// Checks the reader oracles (see the crate docs) on `bytes` read as `format`.
pub fn check_reader(bytes: &[u8], format: &str, ext: &str) {
    let format = Format::parse(format).expect("a known format");
    let path = scratch_file(&format!("in.{ext}"), bytes);
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let opts = |on_error| ReadOptions { format: Some(format), on_error };
    let strict = read(&path, &opts(OnError::Fail));
    let skip = read(&path, &opts(OnError::Skip));
    if let Err(e) = &strict {
        assert!(e.to_string().contains(&name), "an error that does not name the file: {e}");
    }
    let ds = match skip {
        Ok(ds) => ds,
        Err(e) => {
            assert!(e.to_string().contains(&name), "an error that does not name the file: {e}");
            assert!(strict.is_err(), "the skipping read failed where the strict one did not: {e}");
            assert!(read_released(&path, &opts(OnError::Skip)).is_err(), "released read succeeded where read failed");
            return;
        }
    };
    assert!(ds.accounting.balanced(), "counts do not add up: {:?}", ds.accounting);
    assert_eq!(ds.accounting.ok, ds.len());
    if let Ok(s) = &strict {
        assert!(ds.accounting.skipped.is_empty(), "the strict read succeeded but the skipping read skipped");
        assert_eq!(s.ids, ds.ids);
    }
    let lean = read_released(&path, &opts(OnError::Skip)).expect("released read fails where read succeeded");
    assert_eq!((&lean.ids, &lean.positions), (&ds.ids, &ds.positions));
    assert_eq!(lean.accounting.skipped, ds.accounting.skipped);
    let target = Target { container: ds.container, shape: None, style: ds.style, schema: ds.schema.clone() };
    let first = records(ds);
    assert_eq!(records(lean), first, "the released read parsed other records");
    round_trip(&first, &target, ext);
}

/// read → write → read is the identity on the records (their fields, shape and turns).
pub fn round_trip(first: &[Record], target: &Target, ext: &str) {
    if first.is_empty() {
        return;
    }
    let out = scratch_dir().join(format!("out.{ext}"));
    if let Err(e) = write(Some(&out), first, target) {
        // CSV holds flat records only: nested values are refused with a reason.
        let nested = first.iter().any(|r| r.fields.values().any(|v| v.is_array() || v.is_object()));
        assert!(target.container == gleaner_read::Container::Csv && nested, "writing back failed: {e}");
        return;
    }
    let back = read(
        &out,
        &ReadOptions {
            format: Some(Format { container: target.container, shape: None, sniff: false }),
            on_error: OnError::Fail,
        },
    )
    .unwrap_or_else(|e| panic!("the written file does not read back: {e}"));
    assert_eq!(records(back), first, "read -> write -> read changed the records");
}
