//! tokio tasks as a concurrency model: the Rust ecosystem's answer to "threads for I/O".
//!
//! A [`TokioPool`] is a multi-thread tokio runtime with K worker threads. It runs a batch two
//! ways, and the caller picks by what the unit of work does:
//!
//! - **Waiting** ([`TokioPool::join_all`]): every unit becomes a task, all spawned at once;
//!   a task that waits (a timer, a socket) costs a few hundred bytes and no thread, so ten
//!   thousand concurrent waits need ten thousand tasks, not ten thousand threads.
//! - **Computing** ([`TokioPool::map_blocking`]): a CPU-bound unit would stall the worker
//!   thread that polls it, and with it every task queued there, so it goes to tokio's
//!   blocking pool (`spawn_blocking`) instead, at most K at once (a semaphore), so `--workers`
//!   means the same parallelism as for the thread pools. Async buys nothing for computation:
//!   this path exists so that every workload runs under every model.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use concur_tasks::TokioPool;
//!
//! let pool = TokioPool::new(2).unwrap();
//! let t = Instant::now();
//! // 1000 concurrent 20 ms waits on two threads: about 20 ms, not 10 s.
//! let out = pool
//!     .join_all(1000, |i| async move {
//!         tokio::time::sleep(Duration::from_millis(20)).await;
//!         i * 2
//!     })
//!     .unwrap();
//! assert_eq!(out[999], 1998);
//! assert!(t.elapsed() < Duration::from_secs(2));
//! let squares = pool.map_blocking(4, |i| i * i).unwrap();
//! assert_eq!(squares, [0, 1, 4, 9]);
//! ```

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

pub use tokio;
use tokio::runtime::Runtime;
use tokio::sync::Semaphore;
use tokio::task::{Id, JoinError, JoinSet};

/// What can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Zero workers were asked for.
    #[error("a tokio runtime needs at least one worker thread")]
    NoWorkers,
    /// The request is past what this machine lets the process start.
    #[error(transparent)]
    Limit(#[from] concur_limits::LimitError),
    /// The runtime could not be built (threads could not be started).
    #[error("could not start the tokio runtime: {0}")]
    Runtime(#[from] std::io::Error),
    /// A task panicked.
    #[error("task {task} panicked: {message}")]
    Panicked {
        /// Which task.
        task: usize,
        /// The panic message.
        message: String,
    },
}

/// A multi-thread tokio runtime with K worker threads, reused across batches.
#[derive(Debug)]
pub struct TokioPool {
    rt: Runtime,
    workers: usize,
}

impl TokioPool {
    /// Starts a runtime with `workers` worker threads (timers and I/O enabled).
    pub fn new(workers: usize) -> Result<Self, Error> {
        if workers == 0 {
            return Err(Error::NoWorkers);
        }
        concur_limits::threads(workers)?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .thread_name("concur-tokio")
            .enable_all()
            .build()?;
        Ok(TokioPool { rt, workers })
    }

    /// The number of worker threads.
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// The runtime, to `block_on` a whole timed loop at once.
    pub fn runtime(&self) -> &Runtime {
        &self.rt
    }

    /// Spawns `make(i)` for every `i` in `0..n`, all at once, and waits for all of them;
    /// results in index order. Blocks the calling thread (which must not be a runtime thread).
    /// When a task panics, the other tasks still run to completion; then [`Error::Panicked`] names
    /// the first failing task (by index) and the other results are dropped. (Like
    /// concur-threads' pools: no task is aborted midway.)
    pub fn join_all<T, F, Fut>(&self, n: usize, make: F) -> Result<Vec<T>, Error>
    where
        F: Fn(usize) -> Fut,
        Fut: Future<Output = T> + Send + 'static,
        T: Send + 'static,
    {
        self.rt.block_on(join_all(n, make))
    }

    /// Runs `f(i)` for every `i` in `0..n` on the blocking pool, at most [`Self::workers`] at
    /// once; results in index order. When a task panics, the other tasks still run to completion; then [`Error::Panicked`] names
    /// the first failing task (by index) and the other results are dropped.
    pub fn map_blocking<T, F>(&self, n: usize, f: F) -> Result<Vec<T>, Error>
    where
        F: Fn(usize) -> T + Send + Sync + 'static,
        T: Send + 'static,
    {
        self.rt.block_on(map_blocking(self.workers, n, f))
    }

    /// Builds a one-thread runtime, runs one no-op task on it and shuts it down: the cost the
    /// `spawn` probe measures.
    pub fn spawn_join_one() -> Result<(), Error> {
        let pool = TokioPool::new(1)?;
        pool.join_all(1, |_| async {})?;
        Ok(())
    }
}

/// [`TokioPool::join_all`] from inside a runtime.
pub async fn join_all<T, F, Fut>(n: usize, make: F) -> Result<Vec<T>, Error>
where
    F: Fn(usize) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let mut set = JoinSet::new();
    let mut ids = HashMap::with_capacity(n);
    for i in 0..n {
        let task = make(i);
        ids.insert(set.spawn(async move { (i, task.await) }).id(), i);
    }
    collect(n, set, &ids).await
}

/// [`TokioPool::map_blocking`] from inside a runtime: at most `limit` at once.
pub async fn map_blocking<T, F>(limit: usize, n: usize, f: F) -> Result<Vec<T>, Error>
where
    F: Fn(usize) -> T + Send + Sync + 'static,
    T: Send + 'static,
{
    let f = Arc::new(f);
    let permits = Arc::new(Semaphore::new(limit.max(1)));
    let mut set = JoinSet::new();
    let mut ids = HashMap::with_capacity(n);
    for i in 0..n {
        let (f, permits) = (Arc::clone(&f), Arc::clone(&permits));
        let handle = set.spawn(async move {
            let _permit = permits.acquire_owned().await.expect("never closed");
            let out = tokio::task::spawn_blocking(move || f(i)).await;
            (i, out)
        });
        ids.insert(handle.id(), i);
    }
    let nested = collect(n, set, &ids).await?;
    nested
        .into_iter()
        .enumerate()
        .map(|(task, r)| r.map_err(|e| panicked(task, e)))
        .collect()
}

/// Waits for every task of `set`, putting results back in index order; `ids` names the
/// task of a panic. After a panic the other tasks still run to completion (nothing is
/// aborted midway), then the panic of the lowest-numbered task is returned.
async fn collect<T: Send + 'static>(
    n: usize,
    mut set: JoinSet<(usize, T)>,
    ids: &HashMap<Id, usize>,
) -> Result<Vec<T>, Error> {
    let mut out: Vec<Option<T>> = (0..n).map(|_| None).collect();
    let mut first: Option<Error> = None;
    while let Some(joined) = set.join_next().await {
        match joined {
            Ok((i, v)) => out[i] = Some(v),
            Err(e) => {
                let task = ids.get(&e.id()).copied().unwrap_or(n);
                if first
                    .as_ref()
                    .is_none_or(|f| matches!(f, Error::Panicked { task: t, .. } if task < *t))
                {
                    first = Some(panicked(task, e));
                }
            }
        }
    }
    if let Some(e) = first {
        return Err(e);
    }
    Ok(out
        .into_iter()
        .map(|v| v.expect("every task joined"))
        .collect())
}

fn panicked(task: usize, e: JoinError) -> Error {
    let message = match e.try_into_panic() {
        Ok(payload) => payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a non-string panic".into()),
        Err(e) => e.to_string(),
    };
    Error::Panicked { task, message }
}

/// The README's example, compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn blocking_work_is_capped_at_the_worker_count() {
        let pool = TokioPool::new(2).unwrap();
        let (now, peak) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let (n2, p2) = (Arc::clone(&now), Arc::clone(&peak));
        let out = pool
            .map_blocking(12, move |i| {
                let k = n2.fetch_add(1, Ordering::SeqCst) + 1;
                p2.fetch_max(k, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(5));
                n2.fetch_sub(1, Ordering::SeqCst);
                i
            })
            .unwrap();
        assert_eq!(out, (0..12).collect::<Vec<_>>());
        assert!(peak.load(Ordering::SeqCst) <= 2);
    }

    #[test]
    fn a_panicking_task_is_an_error_not_a_crash() {
        let pool = TokioPool::new(1).unwrap();
        let err = pool
            .map_blocking(3, |i| {
                if i == 1 {
                    panic!("boom");
                }
                i
            })
            .unwrap_err();
        assert!(matches!(err, Error::Panicked { task: 1, ref message } if message == "boom"));
        let err = pool
            .join_all(2, |i| async move {
                if i == 1 {
                    panic!("async boom");
                }
            })
            .unwrap_err();
        assert!(
            matches!(err, Error::Panicked { task: 1, ref message } if message == "async boom"),
            "{err}"
        );
        assert!(TokioPool::new(0).is_err());
        TokioPool::spawn_join_one().unwrap();
    }

    #[test]
    fn after_a_panic_the_other_tasks_still_finish() {
        let pool = TokioPool::new(2).unwrap();
        let finished = Arc::new(AtomicUsize::new(0));
        let done = Arc::clone(&finished);
        let err = pool
            .join_all(4, move |i| {
                let done = Arc::clone(&done);
                async move {
                    if i == 2 || i == 3 {
                        panic!("task {i}");
                    }
                    tokio::time::sleep(std::time::Duration::from_millis(30)).await;
                    done.fetch_add(1, Ordering::SeqCst);
                }
            })
            .unwrap_err();
        assert!(matches!(err, Error::Panicked { task: 2, .. }), "{err}");
        assert_eq!(
            finished.load(Ordering::SeqCst),
            2,
            "tasks 0 and 1 ran to the end"
        );
    }
}
