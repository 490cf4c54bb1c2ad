//! `thread-pool`: K long-lived workers fed through a crossbeam channel.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use crossbeam_channel::{Receiver, Sender};

use crate::{Error, panic_message};

type Job = Box<dyn FnOnce() + Send + 'static>;

/// A fixed set of worker threads that take jobs from one shared crossbeam channel, like
/// `concurrent.futures.ThreadPoolExecutor`. Workers outlive batches: [`ThreadPool::map`] can
/// be called any number of times. A panicking job never kills its worker. Dropping the pool
/// closes the channel and joins every worker after the queued jobs have run.
pub struct ThreadPool {
    jobs: Option<Sender<Job>>,
    workers: Vec<JoinHandle<()>>,
}

impl std::fmt::Debug for ThreadPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadPool")
            .field("workers", &self.workers.len())
            .finish()
    }
}

impl ThreadPool {
    /// Starts `workers` threads. If the OS refuses one, those already started are joined.
    pub fn new(workers: usize) -> Result<Self, Error> {
        if workers == 0 {
            return Err(Error::NoWorkers);
        }
        concur_limits::threads(workers)?;
        let (tx, rx) = crossbeam_channel::unbounded::<Job>();
        let mut pool = ThreadPool {
            jobs: Some(tx),
            workers: Vec::with_capacity(workers),
        };
        for index in 0..workers {
            let rx = rx.clone();
            let handle = thread::Builder::new()
                .name(format!("concur-pool-{index}"))
                .spawn(move || work(rx))
                .map_err(|source| Error::Spawn { index, source })?; // Drop joins the rest.
            pool.workers.push(handle);
        }
        Ok(pool)
    }

    /// Number of worker threads.
    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    /// Queues `job` to run on some worker. A panic in it is caught and discarded.
    pub fn execute(&self, job: impl FnOnce() + Send + 'static) {
        self.sender()
            .send(Box::new(job))
            .expect("workers hold the receiver until the pool is dropped");
    }

    /// Runs `f` on every item across the workers; results come back in item order.
    /// When a task panics, the other tasks still run to completion; then [`Error::Panicked`] names
    /// the first failing task (by index) and the other results are dropped. The pool is ready for the next batch.
    pub fn map<T, R, F>(&self, items: Vec<T>, f: F) -> Result<Vec<R>, Error>
    where
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(T) -> R + Send + Sync + 'static,
    {
        let n = items.len();
        let f = Arc::new(f);
        let (done_tx, done_rx) = crossbeam_channel::bounded(n);
        for (i, item) in items.into_iter().enumerate() {
            let f = Arc::clone(&f);
            let done_tx = done_tx.clone();
            self.sender()
                .send(Box::new(move || {
                    let r = catch_unwind(AssertUnwindSafe(|| f(item)));
                    let _ = done_tx.send((i, r));
                }))
                .expect("workers hold the receiver until the pool is dropped");
        }
        drop(done_tx);
        let mut results: Vec<Option<thread::Result<R>>> = (0..n).map(|_| None).collect();
        for _ in 0..n {
            // Every job sends exactly once; a closed channel would mean a job was dropped
            // unrun, which only dropping the pool does (impossible while `&self` is held).
            let (i, r) = done_rx.recv().expect("every queued job reports");
            results[i] = Some(r);
        }
        results
            .into_iter()
            .enumerate()
            .map(|(task, r)| {
                r.expect("each index reported once")
                    .map_err(|p| Error::Panicked {
                        task,
                        message: panic_message(p),
                    })
            })
            .collect()
    }

    /// Starts a pool of one worker and drops it (joining the worker): the cost the `spawn`
    /// probe measures.
    pub fn spawn_join_one() -> Result<(), Error> {
        ThreadPool::new(1).map(drop)
    }

    fn sender(&self) -> &Sender<Job> {
        self.jobs.as_ref().expect("only Drop takes the sender")
    }
}

fn work(jobs: Receiver<Job>) {
    while let Ok(job) = jobs.recv() {
        // Keep the worker alive whatever the job does; `map` reports panics itself.
        let _ = catch_unwind(AssertUnwindSafe(job));
    }
}

impl Drop for ThreadPool {
    fn drop(&mut self) {
        drop(self.jobs.take());
        for w in self.workers.drain(..) {
            let _ = w.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn reusable_across_batches() {
        let pool = ThreadPool::new(3).unwrap();
        for round in 0..5 {
            let out = pool
                .map((0..50).collect(), move |x: u64| x * round)
                .unwrap();
            assert_eq!(out, (0..50).map(|x| x * round).collect::<Vec<_>>());
        }
    }

    #[test]
    fn a_panic_is_reported_and_the_pool_keeps_serving() {
        let pool = ThreadPool::new(2).unwrap();
        let err = pool
            .map((0..8).collect(), |x: i32| {
                assert!(x != 5, "task five fails");
                x
            })
            .unwrap_err();
        assert!(matches!(err, Error::Panicked { task: 5, .. }), "{err}");
        assert_eq!(pool.map(vec![1, 2], |x: i32| x * 2).unwrap(), [2, 4]);
        assert_eq!(pool.workers(), 2);
    }

    #[test]
    fn drop_runs_queued_jobs_and_joins_workers() {
        let ran = Arc::new(AtomicUsize::new(0));
        let pool = ThreadPool::new(2).unwrap();
        for _ in 0..100 {
            let ran = Arc::clone(&ran);
            pool.execute(move || {
                ran.fetch_add(1, Ordering::SeqCst);
            });
        }
        drop(pool);
        assert_eq!(ran.load(Ordering::SeqCst), 100);
        // The workers are gone: the Arc has no other owner left.
        assert_eq!(Arc::strong_count(&ran), 1);
    }

    #[test]
    fn zero_workers_is_an_error() {
        assert!(matches!(ThreadPool::new(0), Err(Error::NoWorkers)));
    }
}
