//! # gleaner-python
//!
//! The native part (`gleaner._gleaner`) of the Python package `gleaner`, built by maturin
//! from this crate; the rest of the workspace stays free of PyO3. It exposes:
//!
//! - [`scorer::Scorer`]: a loaded IFD, quality or embedding model that scores Arrow batches
//!   with the library's in-memory scorer functions (the same arithmetic as the CLI's side
//!   files), the GIL released, on a per-object thread pool that is fork-safe ([`threads`]);
//! - the selection rules and k-means of the global step ([`select`]);
//! - [`run::run`]: a whole recipe.
//!
//! The Python classes (`gleaner.IfdScorer`, …) live in `python/gleaner/`: they convert batches
//! (pyarrow, polars, dicts of lists) to an Arrow IPC stream and back, and pickle as their
//! options.

mod batch;
mod run;
mod scorer;
mod select;
mod threads;

use pyo3::prelude::*;

// The same allocator as the `gleaner` binary: the model's forward passes allocate heavily, and
// with glibc malloc a scorer in Python ran 20% slower than the CLI on the same batches
// (bench/python_ray/). Only Rust allocations of this extension use it; buffers handed to
// Python are copied into Python-owned objects.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

pyo3::create_exception!(_gleaner, GleanerError, pyo3::exceptions::PyValueError, "An error from gleaner.");

/// Errors of the bindings; every one becomes a `gleaner.GleanerError` (a `ValueError`).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An error of the library (model loading, scoring, selection, recipes).
    #[error(transparent)]
    Gleaner(#[from] gleaner_core::Error),
    /// A row of the batch that is not a record.
    #[error("row {row} of the batch: {reason}")]
    Row {
        /// 0-based row in the batch.
        row: usize,
        /// Why (names the missing or mistyped field).
        reason: String,
    },
    /// The batch itself could not be read or written.
    #[error("{0}")]
    Batch(String),
    /// A bad option.
    #[error("{0}")]
    Option(String),
}

impl From<Error> for PyErr {
    fn from(e: Error) -> PyErr {
        GleanerError::new_err(e.to_string())
    }
}

#[pymodule]
fn _gleaner(m: &Bound<'_, PyModule>) -> PyResult<()> {
    threads::install_fork_guard();
    m.add("GleanerError", m.py().get_type::<GleanerError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_class::<scorer::Scorer>()?;
    m.add_function(wrap_pyfunction!(select::car, m)?)?;
    m.add_function(wrap_pyfunction!(select::top_k, m)?)?;
    m.add_function(wrap_pyfunction!(select::facility_location, m)?)?;
    m.add_function(wrap_pyfunction!(select::lcg, m)?)?;
    m.add_function(wrap_pyfunction!(select::kmeans, m)?)?;
    m.add_function(wrap_pyfunction!(run::run, m)?)?;
    Ok(())
}
