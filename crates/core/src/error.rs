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
    ///
    /// The message already includes the OS error, so the variant reports no
    /// [`std::error::Error::source`]: a chain printer (anyhow's `{:#}`) would print it twice.
    #[error("{path}: {error}")]
    Io {
        /// The file involved.
        path: PathBuf,
        /// The underlying error (part of the message, not a `source()`).
        error: std::io::Error,
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
    /// A recipe that cannot run: a parse error, an unknown stage or key, a wrong type, or an
    /// impossible order (a stage needing a column no earlier stage computes).
    #[error("{path}:{line}: {message}")]
    Recipe {
        /// The recipe file (or `bundled:NAME`).
        path: PathBuf,
        /// 1-based line of the offending stage or key.
        line: usize,
        /// What was wrong, naming the key.
        message: String,
    },
    /// A work directory (or output) that another running gleaner process holds.
    #[error(
        "{path} is locked by another gleaner run (pid {holder}); two runs on one work directory would mix their files"
    )]
    Busy {
        /// The lock file.
        path: PathBuf,
        /// The holder's process id, as its lock file records it.
        holder: String,
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
    pub fn io(path: impl Into<PathBuf>, error: std::io::Error) -> Self {
        Error::Io { path: path.into(), error }
    }

    /// Shorthand for an [`Error::Input`].
    pub fn input(path: impl Into<PathBuf>, location: Location, message: impl Into<String>) -> Self {
        Error::Input { path: path.into(), location, message: message.into() }
    }

    /// Shorthand for an [`Error::Model`].
    pub fn model(name: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Model { name: name.into(), message: message.into() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The error and its causes joined by `: `, as anyhow's `{:#}` prints them.
    fn chain(e: &dyn std::error::Error) -> String {
        let mut out = e.to_string();
        let mut cur = e.source();
        while let Some(c) = cur {
            out.push_str(": ");
            out.push_str(&c.to_string());
            cur = c.source();
        }
        out
    }

    #[test]
    fn every_cause_is_printed_once() {
        let os = std::fs::File::open("/nonexistent/gleaner.json").unwrap_err();
        let msg = os.to_string();
        let e = Error::io("/nonexistent/gleaner.json", os);
        for shown in [e.to_string(), chain(&e)] {
            assert_eq!(shown.matches(&msg).count(), 1, "{shown}");
            assert!(shown.starts_with("/nonexistent/gleaner.json: "), "{shown}");
        }
        // no variant both prints a cause and reports it as its source
        let others = [
            Error::input("x.csv", Location::Line(3), "2 fields, the header has 3"),
            Error::Format { path: "x.bin".into(), message: "unknown".into() },
            Error::model("m", "missing"),
            Error::Invalid("bad".into()),
        ];
        for e in others {
            assert_eq!(chain(&e), e.to_string());
        }
    }
}
