//! Signature files: the MinHash signatures and shingle sets of one shard, so that shards
//! processed separately (batches of a distributed run) are clustered in one global step.
//!
//! Layout (little endian): the magic `GLNSIG01`; `perms: u32`, `seed: u64`, `ngram: u32`,
//! `unit: u8` (0 auto, 1 word, 2 char); a settings string (`len: u32` + UTF-8: which fields were
//! compared); `rows: u64`; then per row `id: u64`, `shingles: u32`, `perms × u32` signature
//! values and the sorted shingle hashes (`shingles × u32`). A row costs `8 + 4 + 4·perms +
//! 4·shingles` bytes.

use crate::Error;
use crate::minhash::MinHasher;
use crate::near::{Clusters, NearOptions, near_clusters};
use crate::shingle::{Shingler, Unit};
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

const MAGIC: &[u8; 8] = b"GLNSIG01";

/// The signatures of one shard.
#[derive(Debug, Clone, PartialEq)]
pub struct SignatureSet {
    /// Permutation count and seed.
    pub perms: usize,
    /// Seed of the permutations.
    pub seed: u64,
    /// How shingles were made.
    pub shingler: Shingler,
    /// What was compared (for example `fields=all turns=all`); shards merge only when equal.
    pub settings: String,
    /// Row ids (stable content ids of the rows).
    pub ids: Vec<u64>,
    /// `rows × perms` signature values.
    pub signatures: Vec<u32>,
    /// Sorted shingle hashes per row.
    pub shingles: Vec<Vec<u32>>,
}

impl SignatureSet {
    /// Shingles and signs `texts` (parallel).
    pub fn compute<S: AsRef<str> + Sync>(
        texts: &[S],
        ids: Vec<u64>,
        shingler: Shingler,
        hasher: &MinHasher,
        settings: &str,
    ) -> SignatureSet {
        use rayon::prelude::*;
        let shingles: Vec<Vec<u32>> = texts.par_iter().map(|t| shingler.shingles(t.as_ref())).collect();
        let signatures = hasher.signatures(&shingles);
        SignatureSet {
            perms: hasher.perms(),
            seed: hasher.seed(),
            shingler,
            settings: settings.to_string(),
            ids,
            signatures,
            shingles,
        }
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.ids.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// Writes the set to `path`.
    pub fn write(&self, path: &Path) -> Result<(), Error> {
        let io = |e| Error::Io { path: path.to_path_buf(), source: e };
        let f = std::fs::File::create(path).map_err(io)?;
        let mut w = BufWriter::new(f);
        let mut put = |b: &[u8]| w.write_all(b).map_err(io);
        put(MAGIC)?;
        put(&(self.perms as u32).to_le_bytes())?;
        put(&self.seed.to_le_bytes())?;
        put(&(self.shingler.n as u32).to_le_bytes())?;
        put(&[match self.shingler.unit {
            Unit::Auto => 0,
            Unit::Word => 1,
            Unit::Char => 2,
        }])?;
        put(&(self.settings.len() as u32).to_le_bytes())?;
        put(self.settings.as_bytes())?;
        put(&(self.ids.len() as u64).to_le_bytes())?;
        for (i, id) in self.ids.iter().enumerate() {
            put(&id.to_le_bytes())?;
            put(&(self.shingles[i].len() as u32).to_le_bytes())?;
            for v in &self.signatures[i * self.perms..(i + 1) * self.perms] {
                put(&v.to_le_bytes())?;
            }
            for v in &self.shingles[i] {
                put(&v.to_le_bytes())?;
            }
        }
        w.flush().map_err(io)
    }

    /// Reads a set written by [`SignatureSet::write`].
    pub fn read(path: &Path) -> Result<SignatureSet, Error> {
        let f = std::fs::File::open(path).map_err(|e| Error::Io { path: path.to_path_buf(), source: e })?;
        let mut r = BufReader::new(f);
        let bad = |what: &str| Error::SignatureFile { path: path.to_path_buf(), message: what.to_string() };
        let mut buf = [0u8; 8];
        let mut get = |n: usize, what: &str| -> Result<u64, Error> {
            r.read_exact(&mut buf[..n]).map_err(|_| bad(&format!("truncated at the {what}")))?;
            let mut b = [0u8; 8];
            b[..n].copy_from_slice(&buf[..n]);
            Ok(u64::from_le_bytes(b))
        };
        if get(8, "magic")?.to_le_bytes() != *MAGIC {
            return Err(bad("not a gleaner signature file (bad magic)"));
        }
        let perms = get(4, "header")? as usize;
        let seed = get(8, "header")?;
        let n = get(4, "header")? as usize;
        let unit = match get(1, "header")? {
            0 => Unit::Auto,
            1 => Unit::Word,
            2 => Unit::Char,
            u => return Err(bad(&format!("unknown n-gram unit {u}"))),
        };
        let len = get(4, "header")? as usize;
        let mut s = vec![0u8; len];
        for b in s.iter_mut() {
            *b = get(1, "settings")? as u8;
        }
        let settings = String::from_utf8(s).map_err(|_| bad("settings are not UTF-8"))?;
        let rows = get(8, "header")? as usize;
        let mut ids = Vec::with_capacity(rows.min(1 << 24));
        let mut signatures = Vec::with_capacity(rows.min(1 << 24) * perms);
        let mut shingles = Vec::with_capacity(rows.min(1 << 24));
        for i in 0..rows {
            let what = format!("row {i}");
            ids.push(get(8, &what)?);
            let k = get(4, &what)? as usize;
            for _ in 0..perms {
                signatures.push(get(4, &what)? as u32);
            }
            let mut sh = Vec::with_capacity(k);
            for _ in 0..k {
                sh.push(get(4, &what)? as u32);
            }
            shingles.push(sh);
        }
        Ok(SignatureSet { perms, seed, shingler: Shingler { n, unit }, settings, ids, signatures, shingles })
    }
}

/// Where a row of a merged set came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Origin {
    /// Index of the shard (in the order given).
    pub shard: usize,
    /// Row within the shard.
    pub row: usize,
}

/// The result of clustering several shards together.
#[derive(Debug, Clone)]
pub struct Merged {
    /// Per global row: its shard and row.
    pub origin: Vec<Origin>,
    /// Per global row: its id.
    pub ids: Vec<u64>,
    /// The clusters over the concatenated rows.
    pub clusters: Clusters,
}

/// Clusters the rows of several shards as one set. The shards must share permutations, seed,
/// shingling and settings; `names` label them in errors.
pub fn merge(sets: &[SignatureSet], names: &[PathBuf], threshold: f64) -> Result<Merged, Error> {
    let Some(first) = sets.first() else {
        return Err(Error::Invalid("no signature files to merge".into()));
    };
    for (s, name) in sets.iter().zip(names).skip(1) {
        if (s.perms, s.seed, s.shingler, &s.settings) != (first.perms, first.seed, first.shingler, &first.settings) {
            return Err(Error::SignatureFile {
                path: name.clone(),
                message: format!(
                    "made with other settings than the first file ({} perms, seed {}, {}-gram {}, {}) ≠ ({} perms, seed {}, {}-gram {}, {})",
                    s.perms,
                    s.seed,
                    s.shingler.n,
                    s.shingler.unit.name(),
                    s.settings,
                    first.perms,
                    first.seed,
                    first.shingler.n,
                    first.shingler.unit.name(),
                    first.settings
                ),
            });
        }
    }
    let mut origin = Vec::new();
    let mut ids = Vec::new();
    let mut sigs = Vec::new();
    let mut shingles = Vec::new();
    for (shard, s) in sets.iter().enumerate() {
        origin.extend((0..s.len()).map(|row| Origin { shard, row }));
        ids.extend_from_slice(&s.ids);
        sigs.extend_from_slice(&s.signatures);
        shingles.extend(s.shingles.iter().cloned());
    }
    let clusters = near_clusters(&sigs, first.perms, &shingles, &NearOptions::new(threshold, first.perms));
    Ok(Merged { origin, ids, clusters })
}
