//! # gleaner-dedup
//!
//! Deduplication and decontamination of instruction data, as pure functions over texts and
//! vectors (the pipeline crate decides which fields of a record are compared and writes files).
//!
//! - **Exact** ([`exact`]): equality after a documented normalisation ([`normalize`]: NFKC,
//!   lower case, punctuation and whitespace folded).
//! - **Near-duplicates** ([`near`]): word 5-gram shingles ([`shingle`]; character n-grams for
//!   CJK), 128-permutation MinHash signatures ([`minhash`]), LSH bands × rows derived from the
//!   threshold ([`lsh`]), every candidate pair verified by exact Jaccard, and verified pairs
//!   merged in parallel by a lock-free union-find ([`unionfind`]). Threshold 0.8 by default.
//! - **Semantic** ([`semantic`]): cosine of embeddings ≥ 0.95, with k-means blocking.
//! - **Shards** ([`sigfile`]): per-shard signature files merged and clustered in one step.
//! - **Which row stays** ([`keep`]): the first, the longest, or the best by a score.
//!
//! Every module documents why its defaults are what they are.

pub mod exact;
pub mod keep;
pub mod lsh;
pub mod minhash;
pub mod near;
pub mod normalize;
pub mod semantic;
pub mod shingle;
pub mod sigfile;
pub mod unionfind;

pub use exact::{exact_clusters, exact_key};
pub use keep::{Keep, representatives};
pub use lsh::LshParams;
pub use minhash::MinHasher;
pub use near::{Clusters, NearIndex, NearOptions, near_clusters, near_clusters_with};
pub use normalize::normalize;
pub use semantic::{SemanticOptions, semantic_clusters};
pub use shingle::{Shingler, Unit, jaccard};
pub use sigfile::{SignatureSet, merge};

use std::path::PathBuf;

/// Errors of this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file could not be read or written.
    #[error("{}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// A signature file is damaged or does not fit the others.
    #[error("{}: {message}", path.display())]
    SignatureFile {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// An invalid request.
    #[error("{0}")]
    Invalid(String),
}
