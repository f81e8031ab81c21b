//! The thread budget of each scorer object: its own rayon pool, sized by `num_threads=`, else
//! `GLEANER_NUM_THREADS`, else `OMP_NUM_THREADS` (which Ray sets to an actor's `num_cpus`),
//! else every core; and the fork guard.
//!
//! **Fork safety.** `datasets.map(num_proc=N)` forks the process. A forked child has only the
//! thread that called `fork`: the pool threads of the parent are gone, and handing work to that
//! pool would wait forever. A `pthread_atfork` child handler (registered once, when the module
//! is imported, as huggingface/tokenizers does) bumps a fork generation; a pool made in another
//! generation is abandoned (leaked, not dropped: its threads do not exist to be joined), and the
//! child builds a fresh pool on first use, with the explicit budget if one was given and one
//! thread otherwise, so N children do not each start one thread per core.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

/// Incremented in the child after every `fork`.
static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);

extern "C" fn after_fork_in_child() {
    FORK_GENERATION.fetch_add(1, Ordering::SeqCst);
}

/// Registers the fork handler; called once at module import.
pub fn install_fork_guard() {
    // SAFETY: the handler only touches an atomic, which is async-signal-safe.
    unsafe {
        libc::pthread_atfork(None, None, Some(after_fork_in_child as unsafe extern "C" fn()));
    }
}

/// The budget from the environment: `GLEANER_NUM_THREADS`, then `OMP_NUM_THREADS`.
fn env_threads() -> Option<usize> {
    ["GLEANER_NUM_THREADS", "OMP_NUM_THREADS"]
        .iter()
        .find_map(|k| std::env::var(k).ok().and_then(|v| v.trim().parse::<usize>().ok()).filter(|&n| n > 0))
}

/// A lazily built rayon pool that is rebuilt in a forked child.
pub struct Budget {
    /// Threads asked for (`num_threads=` or the environment); `None` = every core.
    asked: Option<usize>,
    pool: Mutex<Option<(u64, Arc<rayon::ThreadPool>)>>,
}

impl Budget {
    /// The budget for an object made with `num_threads` (`None`: from the environment).
    pub fn new(num_threads: Option<usize>) -> Budget {
        Budget { asked: num_threads.filter(|&n| n > 0).or_else(env_threads), pool: Mutex::new(None) }
    }

    /// Threads the pool of this process has (or will have).
    pub fn threads(&self) -> usize {
        let forked = FORK_GENERATION.load(Ordering::SeqCst) > 0;
        match self.asked {
            Some(n) => n,
            None if forked => 1,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        }
    }

    /// The pool for this process: the one built before, unless a fork happened since.
    pub fn pool(&self) -> Result<Arc<rayon::ThreadPool>, rayon::ThreadPoolBuildError> {
        let generation = FORK_GENERATION.load(Ordering::SeqCst);
        let mut slot = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((g, p)) = slot.as_ref()
            && *g == generation
        {
            return Ok(p.clone());
        }
        if let Some(stale) = slot.take() {
            // made before a fork: its threads live in the parent only
            std::mem::forget(stale);
        }
        let p = Arc::new(
            rayon::ThreadPoolBuilder::new()
                .num_threads(self.threads())
                .thread_name(|i| format!("gleaner-{i}"))
                .build()?,
        );
        *slot = Some((generation, p.clone()));
        Ok(p)
    }
}
