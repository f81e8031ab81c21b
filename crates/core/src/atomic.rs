//! Files that are complete or absent: every output and side file is written to a temporary
//! name beside its final path (`NAME.tmp`), flushed to disk, and renamed into place. A run
//! killed or out of disk space mid-write leaves at most the temporary file (which the next
//! write of the same path replaces), never a half-written `NAME`.
//!
//! Also the checksum that manifests and journals record ([`checksum`], xxh3-64 in hex).

use crate::{Error, Result};
use std::io::Read;
use std::path::{Path, PathBuf};

/// `path` with `suffix` appended to its file name (`out.json` + `.lock` → `out.json.lock`):
/// the companion files gleaner keeps beside an output (temporary file, journal, lock, probe).
pub fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

/// The temporary name a file is written under before it is renamed to `path`.
pub fn tmp_path(path: &Path) -> PathBuf {
    with_suffix(path, ".tmp")
}

/// Writes `path` atomically: `write` fills the temporary file; then it is synced, renamed to
/// `path` and the directory synced. On any error the temporary file is removed and `path` is
/// left as it was.
pub fn write_atomic<T>(path: &Path, write: impl FnOnce(&mut std::fs::File) -> Result<T>) -> Result<T> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
    if let Some(dir) = dir {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    }
    let tmp = tmp_path(path);
    let result = (|| {
        let mut file = std::fs::File::create(&tmp).map_err(|e| Error::io(path, e))?;
        let value = write(&mut file)?;
        file.sync_all().map_err(|e| Error::io(path, e))?;
        drop(file);
        std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
        Ok(value)
    })();
    match result {
        Ok(v) => {
            // Make the rename itself durable; a failure here loses nothing that is not on disk.
            if let Some(d) = dir.and_then(|d| std::fs::File::open(d).ok()) {
                let _ = d.sync_all();
            }
            Ok(v)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Writes `bytes` to `path` atomically.
pub fn write_bytes_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic(path, |f| {
        use std::io::Write;
        f.write_all(bytes).map_err(|e| Error::io(path, e))
    })
}

/// The checksum of `bytes`: xxh3-64 as 16 hex digits.
pub fn checksum(bytes: &[u8]) -> String {
    format!("{:016x}", xxhash_rust::xxh3::xxh3_64(bytes))
}

/// The checksum of a file's bytes (streamed: side files can be large).
pub fn file_checksum(path: &Path) -> Result<String> {
    let mut f = std::fs::File::open(path).map_err(|e| Error::io(path, e))?;
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| Error::io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(format!("{:016x}", h.digest()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_write_leaves_neither_a_file_nor_a_temporary() {
        let dir = std::env::temp_dir().join(format!("gleaner-atomic-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join("out.json");
        write_bytes_atomic(&p, b"first").unwrap();
        let r: Result<()> = write_atomic(&p, |f| {
            use std::io::Write;
            f.write_all(b"half").unwrap();
            Err(Error::Other("disk full".into()))
        });
        assert!(r.is_err());
        assert_eq!(std::fs::read(&p).unwrap(), b"first", "the old file is untouched");
        assert!(!tmp_path(&p).exists(), "the temporary file is removed");
        assert_eq!(checksum(b"first"), file_checksum(&p).unwrap());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
