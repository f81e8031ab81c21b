//! # gleaner-nn
//!
//! The CPU kernels gleaner's transformer forwards are built from. Everything works on
//! row-major `f32` slices; sequences of different lengths are *packed* one after another (no
//! padding), described by [`Packed`] offsets, so no work is spent on pad tokens.
//!
//! - [`Linear`] and [`matmul_t`]: `y = x · Wᵀ + b` on the `gemm` crate (runtime-dispatched
//!   AVX2/FMA/AVX-512 microkernels, rayon-parallel), or on AMX bf16 tiles ([`amx`]) when the
//!   layer's [`Precision`] (an option of each model, given at load) asks for it;
//! - [`ops`]: layer norm, RMS norm, GELU (erf), SiLU, softmax, built on vectorisable
//!   polynomial `exp`/`erf` ([`fastmath`]) instead of scalar libm calls;
//! - [`attention`]: multi-head attention per packed sequence, bidirectional or causal, with
//!   grouped-query heads;
//! - [`weights`]: safetensors loading (f32, f16, bf16) into `f32`.

pub mod amx;
pub mod attention;
pub mod fastmath;
pub mod linear;
pub mod ops;
pub mod weights;

pub use amx::Precision;
pub use attention::{AttentionShape, attention};
pub use linear::{Linear, matmul_t};

/// The precision a layer asked for `p` runs in: `p`, or [`Precision::F32`] where AMX is not
/// [`amx::available`] (no tiles on this CPU, no tile state granted by the kernel, or
/// `GLEANER_NO_AMX=1`).
pub fn effective(p: Precision) -> Precision {
    if p != Precision::F32 && !amx::available() { Precision::F32 } else { p }
}

/// An output buffer's pointer shared by parallel tasks that each write their own disjoint part
/// of it (rows × head columns in attention, column strips in the AMX GEMM). Creating one is
/// safe; every write through [`DisjointOut::get`] is `unsafe` and must stay inside the buffer
/// and inside the task's own part.
#[derive(Debug, Clone, Copy)]
pub struct DisjointOut(*mut f32);

// SAFETY: the pointer is only written through by tasks with disjoint parts (see the type's
// documentation), so sharing it between threads creates no data race.
unsafe impl Send for DisjointOut {}
unsafe impl Sync for DisjointOut {}

impl DisjointOut {
    /// Wraps the start of `buf`.
    pub fn new(buf: &mut [f32]) -> DisjointOut {
        DisjointOut(buf.as_mut_ptr())
    }

    /// The start of the buffer (a method, so closures capture the whole wrapper).
    pub fn get(&self) -> *mut f32 {
        self.0
    }
}

/// Offsets of packed sequences: sequence `i` occupies rows `offsets[i]..offsets[i + 1]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packed {
    /// Row offsets, `len() == sequences + 1`, starting at 0.
    pub offsets: Vec<usize>,
}

impl Packed {
    /// Offsets from sequence lengths.
    pub fn from_lengths(lengths: impl IntoIterator<Item = usize>) -> Packed {
        let mut offsets = vec![0];
        for l in lengths {
            offsets.push(offsets.last().unwrap() + l);
        }
        Packed { offsets }
    }

    /// Number of sequences.
    pub fn len(&self) -> usize {
        self.offsets.len() - 1
    }

    /// True when there are no sequences.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Total rows.
    pub fn rows(&self) -> usize {
        *self.offsets.last().unwrap()
    }

    /// Row range of sequence `i`.
    pub fn range(&self, i: usize) -> std::ops::Range<usize> {
        self.offsets[i]..self.offsets[i + 1]
    }
}
