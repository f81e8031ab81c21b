//! The error type shared by gleaner's library crates.

use std::path::PathBuf;

/// Result alias with gleaner's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Where in an input file a problem was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// 1-based line number (JSONL, CSV).
    Line(usize),
    /// 0-based record index inside a JSON array or Parquet file.
    Record(usize),
    /// Byte offset, when neither a line nor a record can be named.
    Byte(usize),
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Line(l) => write!(f, "line {l}"),
            Location::Record(r) => write!(f, "record {r}"),
            Location::Byte(b) => write!(f, "byte {b}"),
        }
    }
}

/// Every failure a gleaner library can report.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An I/O failure on a named file.
    #[error("{path}: {source}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Bad content at a known place in an input file.
    #[error("{path}: {location}: {message}")]
    Input {
        /// The file involved.
        path: PathBuf,
        /// Where in the file.
        location: Location,
        /// What was wrong.
        message: String,
    },
    /// A file whose format could not be recognised or is not supported.
    #[error("{path}: {message}")]
    Format {
        /// The file involved.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// A model that could not be found or loaded.
    #[error("model {name}: {message}")]
    Model {
        /// The model name or path as the user gave it.
        name: String,
        /// What was wrong.
        message: String,
    },
    /// A side file (scores, embeddings, manifest) that is missing, stale or inconsistent.
    #[error("{path}: {message}")]
    SideFile {
        /// The side file.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// An invalid option or option combination.
    #[error("{0}")]
    Invalid(String),
    /// Anything else, with context.
    #[error("{0}")]
    Other(String),
}

impl Error {
    /// Shorthand for an [`Error::Io`].
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io { path: path.into(), source }
    }

    /// Shorthand for an [`Error::Input`].
    pub fn input(path: impl Into<PathBuf>, location: Location, message: impl Into<String>) -> Self {
        Error::Input { path: path.into(), location, message: message.into() }
    }

    /// Shorthand for an [`Error::Model`].
    pub fn model(name: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Model { name: name.into(), message: message.into() }
    }

    /// A one-line suggestion shown after the error as `hint: …`, where one helps.
    pub fn hint(&self) -> Option<String> {
        match self {
            Error::Input { .. } => {
                Some("pass `--on-error skip` to skip bad records and count them, or fix the record".into())
            }
            Error::Format { .. } => {
                Some("name the format with `--format alpaca|alpaca-jsonl|sharegpt|sharegpt-jsonl|parquet`".into())
            }
            Error::Model { .. } => Some(
                "run `gleaner models fetch` to install the default models, or pass a directory or .gguf path".into(),
            ),
            Error::SideFile { .. } => Some("delete the side file (or the work directory) to recompute it".into()),
            Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                Some("check the path; relative paths are resolved from the current directory".into())
            }
            _ => None,
        }
    }
}
