//! Switchyard patch: a thread that runs quantized matmuls outside every rayon pool becomes the
//! first worker of a pool of its own.
//!
//! mistral.rs runs a model on its engine thread, which rayon does not know. Every parallel loop
//! candle starts from such a thread (a matmul, an RMS norm, a rotary embedding) is handed to the
//! global pool while the caller sleeps on a lock until the pool is done; decoding one token makes
//! about ten such round trips per layer, each a wake-up of a sleeping worker and one of the
//! caller. Once the thread is worker 0 of its own pool (`ThreadPoolBuilder::use_current_thread`),
//! the same loops run on it directly: it takes its share of the work, another worker steals the
//! rest if it wakes in time, and the thread finishes whatever was not stolen instead of waiting.
//!
//! The pool has as many threads as candle would use (`RAYON_NUM_THREADS` or the number of
//! CPUs), counting the calling thread, and lives as long as that thread. `CANDLE_OWN_POOL=0` in
//! the environment turns this off.

use std::cell::OnceCell;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::LazyLock;

static ENABLED: LazyLock<AtomicBool> =
    LazyLock::new(|| AtomicBool::new(std::env::var("CANDLE_OWN_POOL").as_deref() != Ok("0")));

thread_local! {
    static OWN_POOL: OnceCell<Option<rayon::ThreadPool>> = const { OnceCell::new() };
}

/// Turns joining a pool of one's own on or off for threads that have not joined one yet
/// (on unless `CANDLE_OWN_POOL=0`; benchmarks compare both).
pub fn set_enabled(enabled: bool) {
    ENABLED.store(enabled, Ordering::Relaxed);
}

/// Makes the calling thread worker 0 of a pool of its own unless it already belongs to a rayon
/// pool, only one thread is to be used, or this is turned off. Cheap after the first call.
pub(crate) fn join() {
    if rayon::current_thread_index().is_some() || !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    OWN_POOL.with(|pool| {
        pool.get_or_init(|| {
            let threads = crate::utils::get_num_threads();
            if threads < 2 {
                return None;
            }
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .thread_name(|index| format!("candle-own-{index}"))
                .use_current_thread()
                .build()
                .ok()
        });
    });
}
