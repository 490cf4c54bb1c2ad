//! Thread-based concurrency models, each a small public type usable on its own.
//!
//! - [`ThreadPerTask`]: a fresh `std::thread` for every task, like `threading.Thread`, with an
//!   optional cap on how many are alive at once.
//! - [`ThreadPool`]: K long-lived workers fed through a crossbeam channel; reusable across
//!   batches; dropping it joins every worker.
//! - `RayonPool`: a rayon `ThreadPool` of K threads, work-stealing over the tasks (feature
//!   `rayon`, on by default).
//! - [`GilThreads`]: K threads that must hold one emulated CPython GIL ([`Gil`]) to run task
//!   code: Python's threads, GIL included, to measure what the GIL costs.
//!
//! All three offer the same `map`: run `f` over every item, return the results in item order,
//! and turn a panicking task into an [`Error`] naming it instead of tearing the caller down.
//!
//! ```
//! use concur_threads::{RayonPool, ThreadPerTask, ThreadPool};
//!
//! let squares = ThreadPerTask::new().map(vec![1, 2, 3], |x| x * x).unwrap();
//! assert_eq!(squares, [1, 4, 9]);
//!
//! let pool = ThreadPool::new(2).unwrap();
//! assert_eq!(pool.map(vec![1, 2, 3], |x| x + 1).unwrap(), [2, 3, 4]);
//! assert_eq!(pool.map(vec![10], |x| x * 2).unwrap(), [20]); // reused
//!
//! let rayon = RayonPool::new(2).unwrap();
//! assert_eq!(rayon.map(vec![1, 2, 3], |x| x * 10).unwrap(), [10, 20, 30]);
//! ```

mod countdown;
mod gil;
mod per_task;
mod pool;
#[cfg(feature = "rayon")]
mod rayon_pool;
mod slot;

pub use gil::{DEFAULT_SWITCH_INTERVAL, Gil, GilThreads};
pub use per_task::ThreadPerTask;
pub use pool::ThreadPool;
#[cfg(feature = "rayon")]
pub use rayon_pool::RayonPool;

use std::any::Any;

/// Why a batch did not complete.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A pool was asked for zero workers.
    #[error("a pool needs at least one worker")]
    NoWorkers,
    /// The OS refused to start a thread (thread or memory limit).
    #[error(
        "could not start thread {index}: {source} (thread limit: see `ulimit -u` and /proc/sys/kernel/threads-max)"
    )]
    Spawn {
        /// Which thread (task index for `ThreadPerTask`, worker index for pools).
        index: usize,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The request is past what this machine lets the process start (checked before any
    /// thread starts: past `vm.max_map_count` the standard library would abort).
    #[error(transparent)]
    Limit(#[from] concur_limits::LimitError),
    /// A rayon pool could not be built.
    #[cfg(feature = "rayon")]
    #[error("could not build the rayon pool: {0}")]
    Rayon(#[from] rayon::ThreadPoolBuildError),
    /// The task's closure panicked.
    #[error("task {task} panicked: {message}")]
    Panicked {
        /// Index of the panicking task.
        task: usize,
        /// The panic payload, when it is a string.
        message: String,
    },
}

/// Checks that this process can start `n` more threads (memory maps, the system's and this
/// user's thread limits, address space: `concur_limits::threads`), as every model here does
/// before it starts any: a model of your own built on `std::thread` calls it first, so a
/// request past the machine's limits is a clear [`Error::Limit`], not an abort.
pub fn check_limits(n: usize) -> Result<(), Error> {
    Ok(concur_limits::threads(n)?)
}

/// The text of a panic payload.
pub(crate) fn panic_message(payload: Box<dyn Any + Send>) -> String {
    match payload.downcast::<String>() {
        Ok(s) => *s,
        Err(payload) => match payload.downcast::<&'static str>() {
            Ok(s) => (*s).to_owned(),
            Err(_) => "non-string panic payload".to_owned(),
        },
    }
}

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
