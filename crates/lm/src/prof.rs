//! Opt-in phase timing (`GLEANER_LM_PROFILE=1`): wall time per forward phase, summed over
//! calls, read with [`crate::profile_report`]. Costs one relaxed load per phase when off.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// Forward phases that are timed.
pub(crate) const PHASES: [&str; 9] = [
    "embed+rope tables",
    "norms",
    "qkv proj",
    "q/k norm+rope",
    "attention",
    "out proj",
    "mlp up",
    "mlp act",
    "mlp down",
];
/// Index of the LM head phase (after the forward phases).
pub(crate) const HEAD: usize = PHASES.len();

static NANOS: [AtomicU64; PHASES.len() + 1] = [const { AtomicU64::new(0) }; PHASES.len() + 1];

pub(crate) fn enabled() -> bool {
    static ON: OnceLock<bool> = OnceLock::new();
    *ON.get_or_init(|| std::env::var_os("GLEANER_LM_PROFILE").is_some_and(|v| v != "0"))
}

/// A running phase timer.
pub(crate) struct Timer(Option<Instant>);

impl Timer {
    pub(crate) fn start() -> Timer {
        Timer(enabled().then(Instant::now))
    }
    /// Adds the time since the last mark to `phase` and restarts.
    pub(crate) fn mark(&mut self, phase: usize) {
        if let Some(t) = self.0 {
            NANOS[phase].fetch_add(t.elapsed().as_nanos() as u64, Ordering::Relaxed);
            self.0 = Some(Instant::now());
        }
    }
}

/// `(phase, seconds)` accumulated so far.
pub(crate) fn report() -> Vec<(&'static str, f64)> {
    let names = PHASES.iter().copied().chain(["lm head+softmax"]);
    names.zip(NANOS.iter()).map(|(n, v)| (n, v.load(Ordering::Relaxed) as f64 * 1e-9)).collect()
}
