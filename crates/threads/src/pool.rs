//! `thread-pool`: K long-lived workers fed through a crossbeam channel.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::thread::{self, JoinHandle};

use crossbeam_channel::{Receiver, Sender, TryRecvError};

use crate::countdown::{Countdown, FLAT_SPINS};
use crate::slot::{Slot, SlotCell};
use crate::{Error, panic_message};

/// What a worker takes from the queue: a job of [`ThreadPool::execute`], or task `i` of a
/// [`ThreadPool::map`] batch (no allocation per task: the batch holds the items).
enum Job {
    Once(Box<dyn FnOnce() + Send + 'static>),
    Task(Arc<dyn Tasks>, usize),
}

/// A batch's tasks, run by index ([`BatchState`]).
trait Tasks: Send + Sync {
    fn run(&self, i: usize);
}

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
            .send(Job::Once(Box::new(job)))
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
        self.run(items.into_iter(), f)
    }

    /// [`ThreadPool::map`] over the indices `0..tasks`, with no `Vec` of them to build:
    /// `pool.map_indices(n, f)` is `pool.map((0..n).collect(), f)`.
    pub fn map_indices<R, F>(&self, tasks: usize, f: F) -> Result<Vec<R>, Error>
    where
        R: Send + 'static,
        F: Fn(usize) -> R + Send + Sync + 'static,
    {
        self.run(0..tasks, f)
    }

    // Its one `unsafe`: emptying the slots the workers handed back (crate::slot).
    #[allow(unsafe_code)]
    fn run<T, R, F>(&self, items: impl ExactSizeIterator<Item = T>, f: F) -> Result<Vec<R>, Error>
    where
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(T) -> R + Send + Sync + 'static,
    {
        let n = items.len();
        // One allocation for the batch's function, its slots (each task's item, then its
        // result) and count: a channel per batch cost more than the empty task it carried (a
        // cache-padded counter from `posix_memalign` and a buffer, ~800 instructions a batch
        // under callgrind), and a boxed job per task is a `malloc` here and a `free` there.
        let batch = Arc::new(BatchState {
            left: Countdown::new(n),
            slots: Slots::new(items),
            f,
        });
        for i in 0..n {
            let tasks: Arc<dyn Tasks> = batch.clone();
            self.sender()
                .send(Job::Task(tasks, i))
                .expect("workers hold the receiver until the pool is dropped");
        }
        batch.left.wait();
        // Every slot is emptied here, after a panic too: the results must not wait for the
        // last worker to let go of the batch.
        let mut results = Vec::with_capacity(n);
        let mut first_panic = None;
        for (task, slot) in batch.slots.all().iter().enumerate() {
            // Every task fills its slot exactly once before counting down (a job is dropped
            // unrun only by dropping the pool, impossible while `&self` is held).
            // SAFETY: the count reached zero, so every worker is done with its slot and this
            // thread holds them all again (crate::slot).
            match unsafe { slot.take() } {
                Slot::Done(Ok(r)) => results.push(r),
                Slot::Done(Err(p)) => {
                    first_panic.get_or_insert_with(|| Error::Panicked {
                        task,
                        message: panic_message(p),
                    });
                }
                _ => unreachable!("every task reports before the count reaches zero"),
            }
        }
        match first_panic {
            None => Ok(results),
            Some(e) => Err(e),
        }
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

/// One [`ThreadPool::map`] call, shared by its jobs: the tasks not yet done, which the
/// caller waits on, a slot per task, and the function. In this order (`repr(C)`): a
/// one-task batch's slot sits beside the count, so the line the caller waits on brings
/// the result with it.
#[repr(C)]
struct BatchState<T, F, R> {
    left: Countdown,
    slots: Slots<T, R>,
    f: F,
}

/// A batch's slots: one task's inline (no second allocation, no second line to cross),
/// several in a `Vec`.
enum Slots<T, R> {
    One([SlotCell<T, R>; 1]),
    Many(Vec<SlotCell<T, R>>),
}

impl<T, R> Slots<T, R> {
    fn new(items: impl ExactSizeIterator<Item = T>) -> Self {
        let mut slots = items.map(SlotCell::new);
        match slots.len() {
            1 => Slots::One([slots.next().expect("one item")]),
            _ => Slots::Many(slots.collect()),
        }
    }

    fn all(&self) -> &[SlotCell<T, R>] {
        match self {
            Slots::One(one) => one,
            Slots::Many(many) => many,
        }
    }
}

impl<T: Send, F: Fn(T) -> R + Send + Sync, R: Send> Tasks for BatchState<T, F, R> {
    /// Runs task `i` on its item, stores its result (or panic) and counts it done; the
    /// last one wakes the caller.
    #[allow(unsafe_code)] // The slot this worker holds (crate::slot).
    fn run(&self, i: usize) {
        let slot = &self.slots.all()[i];
        // SAFETY: this worker took task `i` from the queue (each task is sent once) and has
        // not counted down yet: it holds slot `i` (crate::slot).
        let Slot::Queued(item) = (unsafe { slot.take() }) else {
            unreachable!("each task is queued once");
        };
        let r = catch_unwind(AssertUnwindSafe(|| (self.f)(item)));
        // SAFETY: as above; the count-down below hands the slot back to the caller.
        unsafe { slot.put(Slot::Done(r)) };
        self.left.count_down();
    }
}

/// The next job, or `None` once the pool is dropped and the queue is empty: checked
/// [`FLAT_SPINS`] times one pause apart, then waited for in `recv` (whose own backoff is
/// exponential: a job arriving mid-step is seen up to a step late).
fn next_job(jobs: &Receiver<Job>) -> Option<Job> {
    for _ in 0..FLAT_SPINS {
        match jobs.try_recv() {
            Ok(job) => return Some(job),
            Err(TryRecvError::Empty) => std::hint::spin_loop(),
            Err(TryRecvError::Disconnected) => return None,
        }
    }
    jobs.recv().ok()
}

fn work(jobs: Receiver<Job>) {
    while let Some(job) = next_job(&jobs) {
        match job {
            // Keep the worker alive whatever the job does.
            Job::Once(job) => {
                let _ = catch_unwind(AssertUnwindSafe(job));
            }
            // `map`'s tasks catch their own panics and report them.
            Job::Task(tasks, i) => tasks.run(i),
        }
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
    fn map_indices_is_map_over_the_indices() {
        let pool = ThreadPool::new(2).unwrap();
        for n in [0, 1, 7] {
            let by_index = pool.map_indices(n, |i| i * 3).unwrap();
            assert_eq!(by_index, pool.map((0..n).collect(), |i| i * 3).unwrap());
        }
    }

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
    fn batches_from_several_threads_share_the_pool() {
        // Each caller waits on its own batch's count and is woken by its own last task.
        let pool = ThreadPool::new(2).unwrap();
        std::thread::scope(|s| {
            for caller in 0..4u64 {
                let pool = &pool;
                s.spawn(move || {
                    for round in 0..200u64 {
                        let out = pool.map(vec![caller, round], |x: u64| x + 1).unwrap();
                        assert_eq!(out, [caller + 1, round + 1]);
                    }
                });
            }
        });
    }

    #[test]
    fn an_empty_batch_returns_at_once_and_a_slow_task_is_waited_for() {
        let pool = ThreadPool::new(1).unwrap();
        assert!(pool.map(Vec::<u8>::new(), |x| x).unwrap().is_empty());
        // Long past the caller's spinning: it parks and the task's end unparks it.
        let out = pool
            .map(vec![30u64], |ms| {
                std::thread::sleep(std::time::Duration::from_millis(ms));
                ms
            })
            .unwrap();
        assert_eq!(out, [30]);
    }

    #[test]
    fn items_and_results_are_all_dropped() {
        // The batch holds items and results in its slots: nothing stays behind, whether a
        // task returns or panics.
        let token = Arc::new(());
        let pool = ThreadPool::new(2).unwrap();
        let items: Vec<Arc<()>> = (0..16).map(|_| Arc::clone(&token)).collect();
        let out = pool.map(items, |t| t).unwrap();
        assert_eq!(Arc::strong_count(&token), 17);
        drop(out);
        let items: Vec<(usize, Arc<()>)> = (0..16).map(|i| (i, Arc::clone(&token))).collect();
        let err = pool
            .map(items, |(i, t)| {
                assert!(i != 3, "three");
                t
            })
            .unwrap_err();
        assert!(matches!(err, Error::Panicked { task: 3, .. }), "{err}");
        assert_eq!(Arc::strong_count(&token), 1);
    }

    #[test]
    fn a_one_task_batch_returns_its_result_or_its_panic() {
        // One task's slot lives inside the batch (`Slots::One`): the same contract.
        let token = Arc::new(());
        let pool = ThreadPool::new(1).unwrap();
        let out = pool.map(vec![Arc::clone(&token)], |t| t).unwrap();
        assert_eq!(Arc::strong_count(&token), 2);
        drop(out);
        let err = pool
            .map(vec![Arc::clone(&token)], |_t| -> () { panic!("alone") })
            .unwrap_err();
        assert!(matches!(err, Error::Panicked { task: 0, .. }), "{err}");
        assert_eq!(Arc::strong_count(&token), 1);
    }

    #[test]
    fn zero_workers_is_an_error() {
        assert!(matches!(ThreadPool::new(0), Err(Error::NoWorkers)));
    }
}
