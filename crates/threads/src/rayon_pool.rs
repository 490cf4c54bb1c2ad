//! `rayon`: a rayon thread pool of K threads.

use std::panic::{AssertUnwindSafe, catch_unwind};

use rayon::prelude::*;

use crate::{Error, panic_message};

/// A dedicated rayon `ThreadPool` (not the global one) of K threads. Tasks are split one per
/// job (`with_max_len(1)`), so idle threads steal single tasks and uneven tasks balance.
#[derive(Debug)]
pub struct RayonPool {
    pool: rayon::ThreadPool,
}

impl RayonPool {
    /// A pool of `threads` threads.
    pub fn new(threads: usize) -> Result<Self, Error> {
        if threads == 0 {
            return Err(Error::NoWorkers);
        }
        concur_limits::threads(threads)?;
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .thread_name(|i| format!("concur-rayon-{i}"))
            .build()?;
        Ok(RayonPool { pool })
    }

    /// Number of threads.
    pub fn threads(&self) -> usize {
        self.pool.current_num_threads()
    }

    /// Runs `f` on every item inside the pool; results come back in item order.
    /// When a task panics, the other tasks still run to completion; then [`Error::Panicked`] names
    /// the first failing task (by index) and the other results are dropped.
    pub fn map<T, R, F>(&self, items: Vec<T>, f: F) -> Result<Vec<R>, Error>
    where
        T: Send,
        R: Send,
        F: Fn(T) -> R + Sync + Send,
    {
        let results: Vec<_> = self.pool.install(|| {
            items
                .into_par_iter()
                .with_max_len(1)
                .enumerate()
                .map(|(i, t)| catch_unwind(AssertUnwindSafe(|| f(t))).map_err(|p| (i, p)))
                .collect()
        });
        results
            .into_iter()
            .map(|r| {
                r.map_err(|(task, p)| Error::Panicked {
                    task,
                    message: panic_message(p),
                })
            })
            .collect()
    }

    /// Runs `op` on one of the pool's threads and returns its result, the caller waiting
    /// (rayon's `ThreadPool::install`: from a thread outside the pool, the job goes through
    /// the pool's injector and the caller sleeps on a latch until a worker has run it).
    /// [`RayonPool::map`] is this around a parallel iterator.
    pub fn install<R: Send>(&self, op: impl FnOnce() -> R + Send) -> R {
        self.pool.install(op)
    }

    /// Builds a one-thread rayon pool, runs a no-op in it and waits for its thread to exit:
    /// the cost the `spawn` probe measures. (Dropping a `rayon::ThreadPool` does not wait for
    /// its threads, so this uses a scoped pool, which does.)
    pub fn spawn_join_one() -> Result<(), Error> {
        rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build_scoped(|thread| thread.run(), |pool| pool.install(|| {}))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_runs_on_a_pool_thread() {
        let pool = RayonPool::new(1).unwrap();
        let name = pool.install(|| std::thread::current().name().map(str::to_owned));
        assert_eq!(name.as_deref(), Some("concur-rayon-0"));
    }

    #[test]
    fn results_in_order() {
        let pool = RayonPool::new(2).unwrap();
        assert_eq!(pool.threads(), 2);
        let out = pool.map((0..100).collect(), |x: u32| x * 3).unwrap();
        assert_eq!(out, (0..100).map(|x| x * 3).collect::<Vec<_>>());
    }

    #[test]
    fn a_panic_is_reported() {
        let pool = RayonPool::new(2).unwrap();
        let err = pool
            .map((0..10).collect(), |x: i32| {
                assert!(x != 7, "seven");
                x
            })
            .unwrap_err();
        assert!(matches!(err, Error::Panicked { task: 7, .. }), "{err}");
        assert_eq!(pool.map(vec![1], |x: i32| x).unwrap(), [1]);
    }

    #[test]
    fn spawn_join_one_works() {
        RayonPool::spawn_join_one().unwrap();
        assert!(matches!(RayonPool::new(0), Err(Error::NoWorkers)));
    }
}
