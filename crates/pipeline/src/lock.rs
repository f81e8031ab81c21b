//! One run per work directory. A run holds an OS advisory lock (`flock`) on a lock file in
//! its work directory that records its process id; a second run on the same directory is
//! refused with [`Error::Busy`] naming the holder's pid (it does not wait: a curation run can
//! take hours, and waiting silently looks like a hang). The kernel releases the lock when its
//! holder exits, even by `kill -9`, so a lock file left by a dead run is taken over (and
//! reported) rather than blocking forever. The holder removes the file when it finishes.

use gleaner_core::{Error, Result};
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

/// The name of the lock file inside a work directory.
pub const LOCK_FILE: &str = "gleaner.lock";

/// A held lock; dropping it removes the lock file and releases the lock.
#[derive(Debug)]
pub struct WorkLock {
    path: PathBuf,
    file: File,
}

impl WorkLock {
    /// Takes the lock at `path` (creating its directory), or fails with [`Error::Busy`] when
    /// a live process holds it. `note` hears about a stale lock taken over.
    pub fn acquire(path: &Path, note: &dyn Fn(&str)) -> Result<WorkLock> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        }
        loop {
            let mut file = OpenOptions::new()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(path)
                .map_err(|e| Error::io(path, e))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(TryLockError::WouldBlock) => {
                    let pid = holder(&mut file);
                    let holder = if pid.is_empty() { "unknown: it is starting".into() } else { pid };
                    return Err(Error::Busy { path: path.to_path_buf(), holder });
                }
                Err(TryLockError::Error(e)) => return Err(Error::io(path, e)),
            }
            // A holder that finished removed the file after we opened it: lock the new one.
            if !same_file(&file, path) {
                continue;
            }
            let previous = holder(&mut file);
            if !previous.is_empty() {
                note(&format!(
                    "{}: taking over a stale lock left by pid {previous}, which is no longer running",
                    path.display()
                ));
            }
            let write = |f: &mut File| -> std::io::Result<()> {
                f.set_len(0)?;
                f.rewind()?;
                writeln!(f, "{}", std::process::id())?;
                f.sync_data()
            };
            write(&mut file).map_err(|e| Error::io(path, e))?;
            return Ok(WorkLock { path: path.to_path_buf(), file });
        }
    }

    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for WorkLock {
    fn drop(&mut self) {
        // Remove while still holding the lock, so nobody can lock a file that is going away
        // without noticing (see the `same_file` check).
        let _ = std::fs::remove_file(&self.path);
        let _ = self.file.unlock();
    }
}

/// The pid recorded in a lock file ("" when empty, "unknown" when unreadable).
fn holder(file: &mut File) -> String {
    let mut s = String::new();
    if file.rewind().and_then(|_| file.read_to_string(&mut s)).is_err() {
        return "unknown".into();
    }
    s.trim().to_string()
}

#[cfg(unix)]
fn same_file(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

#[cfg(not(unix))]
fn same_file(_: &File, path: &Path) -> bool {
    path.exists()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_holder_is_refused_with_the_pid_and_a_stale_file_is_taken_over() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("w").join(LOCK_FILE);
        let a = WorkLock::acquire(&p, &|_| {}).unwrap();
        let err = WorkLock::acquire(&p, &|_| {}).unwrap_err();
        assert!(matches!(&err, Error::Busy { holder, .. } if *holder == std::process::id().to_string()), "{err}");
        drop(a);
        assert!(!p.exists(), "the holder removes its lock file");
        // a lock file whose holder died (no flock held): taken over, and said so
        std::fs::write(&p, "999999999\n").unwrap();
        let notes = std::cell::RefCell::new(Vec::new());
        let b = WorkLock::acquire(&p, &|n| notes.borrow_mut().push(n.to_string())).unwrap();
        assert!(notes.borrow()[0].contains("stale lock left by pid 999999999"), "{:?}", notes.borrow());
        assert_eq!(std::fs::read_to_string(&p).unwrap().trim(), std::process::id().to_string());
        drop(b);
    }
}
