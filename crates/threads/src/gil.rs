//! An emulated CPython GIL, and `GilThreads`: K threads that must hold it to run task code.
//!
//! The scheme is CPython's "new GIL" (3.2+, `Python/ceval_gil.c`), point by point:
//!
//! | CPython | here |
//! |---|---|
//! | `gil->locked`, `gil->mutex`, `gil->cond` | [`Gil`]'s `State::locked` under a `Mutex`, `released` condition variable |
//! | `sys.getswitchinterval()`, 5 ms | [`Gil::interval`], [`DEFAULT_SWITCH_INTERVAL`] |
//! | `take_gil`: wait on `gil->cond` for at most the interval; on a timeout with no switch in between, set `gil_drop_request` | [`Gil::acquire`]: the same, setting `drop_request` |
//! | `eval_breaker`, checked by the bytecode loop between instructions | [`Gil::checkpoint`], called by a unit at its loop boundaries: one relaxed atomic load |
//! | the holder sees `gil_drop_request`, `drop_gil`, then (`FORCE_SWITCHING`) waits on `gil->switch_cond` until another thread took it, then `take_gil` again | [`Gil::checkpoint`]: release, wait on `switched` until `switch_number` moved, acquire |
//! | `Py_BEGIN_ALLOW_THREADS` around blocking calls (`time.sleep`, socket reads) and in C extensions (Pillow's `ImagingSectionEnter`) | [`Gil::release`] / [`Gil::acquire`], which concur calls around a unit's blocking or native sections |
//!
//! So a CPU-bound thread keeps the GIL until someone has waited a whole interval for it;
//! two CPU-bound threads take turns every ~5 ms and never run at once, and a thread that
//! blocks lets the others run at once.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::Duration;

use crate::{Error, ThreadPool};

/// CPython's default switch interval (`sys.getswitchinterval()`).
pub const DEFAULT_SWITCH_INTERVAL: Duration = Duration::from_millis(5);

#[derive(Debug, Default)]
struct State {
    /// Whether some thread holds the GIL.
    locked: bool,
    /// Incremented at every acquisition: how a waiter tells "nobody switched" from "it moved".
    switch_number: u64,
    /// Threads waiting in `acquire`.
    waiting: usize,
}

/// An emulated global interpreter lock. Not reentrant: a thread that holds it must not
/// acquire it again.
#[derive(Debug)]
pub struct Gil {
    state: Mutex<State>,
    /// Signalled when the GIL is released (CPython's `gil->cond`).
    released: Condvar,
    /// Signalled when a thread takes the GIL (CPython's `gil->switch_cond`).
    switched: Condvar,
    /// `gil_drop_request`: a waiter has waited a whole interval.
    drop_request: AtomicBool,
    interval: Duration,
}

impl Default for Gil {
    fn default() -> Self {
        Gil::new(DEFAULT_SWITCH_INTERVAL)
    }
}

impl Gil {
    /// A GIL with this switch interval.
    pub fn new(interval: Duration) -> Gil {
        Gil {
            state: Mutex::new(State::default()),
            released: Condvar::new(),
            switched: Condvar::new(),
            drop_request: AtomicBool::new(false),
            interval,
        }
    }

    /// The switch interval.
    pub fn interval(&self) -> Duration {
        self.interval
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding this std mutex cannot leave `State` half-updated (every
        // update is a field store), so a poisoned lock is still consistent.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the GIL, waiting as long as needed. After waiting a whole interval without the
    /// holder switching, asks it to drop the GIL (`drop_request`), as CPython's `take_gil`.
    pub fn acquire(&self) {
        let mut s = self.lock();
        if s.locked {
            s.waiting += 1;
            while s.locked {
                let before = s.switch_number;
                let (guard, timeout) = self
                    .released
                    .wait_timeout(s, self.interval)
                    .unwrap_or_else(|e| e.into_inner());
                s = guard;
                if s.locked && timeout.timed_out() && s.switch_number == before {
                    self.drop_request.store(true, Ordering::Relaxed);
                }
            }
            s.waiting -= 1;
        }
        s.locked = true;
        s.switch_number += 1;
        // The new holder owes nobody a switch yet: a request stands only if another thread
        // is still waiting (it renews it after its own interval).
        self.drop_request.store(false, Ordering::Relaxed);
        self.switched.notify_all();
    }

    /// Releases the GIL (the caller must hold it) and wakes one waiter.
    pub fn release(&self) {
        let mut s = self.lock();
        s.locked = false;
        drop(s);
        self.released.notify_one();
    }

    /// The eval breaker: one relaxed load, unless a waiter asked for the GIL; then drops it,
    /// waits until another thread has taken it (forced switching), and takes it back. Call
    /// at loop boundaries while holding the GIL.
    #[inline]
    pub fn checkpoint(&self) {
        if self.drop_request.load(Ordering::Relaxed) {
            self.yield_to_waiter();
        }
    }

    #[cold]
    fn yield_to_waiter(&self) {
        let mut s = self.lock();
        self.drop_request.store(false, Ordering::Relaxed);
        if s.waiting == 0 {
            return; // The waiter gave up or was served meanwhile.
        }
        let taken_at = s.switch_number;
        s.locked = false;
        self.released.notify_one();
        while s.switch_number == taken_at {
            s = self.switched.wait(s).unwrap_or_else(|e| e.into_inner());
        }
        drop(s);
        self.acquire();
    }

    /// Runs `f` with the GIL released (a blocking call, or native code that releases it, like
    /// `Py_BEGIN_ALLOW_THREADS`); the caller must hold the GIL, and holds it again after.
    pub fn allow_threads<R>(&self, f: impl FnOnce() -> R) -> R {
        self.release();
        let r = f();
        self.acquire();
        r
    }
}

/// K threads that run every task while holding one [`Gil`]: Python threads under CPython.
#[derive(Debug)]
pub struct GilThreads {
    pool: ThreadPool,
    gil: Arc<Gil>,
}

impl GilThreads {
    /// `workers` threads sharing a GIL with the default 5 ms switch interval.
    pub fn new(workers: usize) -> Result<Self, Error> {
        Self::with_interval(workers, DEFAULT_SWITCH_INTERVAL)
    }

    /// `workers` threads sharing a GIL with this switch interval.
    pub fn with_interval(workers: usize, interval: Duration) -> Result<Self, Error> {
        Ok(GilThreads {
            pool: ThreadPool::new(workers)?,
            gil: Arc::new(Gil::new(interval)),
        })
    }

    /// The number of threads.
    pub fn workers(&self) -> usize {
        self.pool.workers()
    }

    /// The shared GIL, for tasks to call [`Gil::checkpoint`] and [`Gil::allow_threads`].
    pub fn gil(&self) -> &Arc<Gil> {
        &self.gil
    }

    /// Runs `f(item, gil)` for every item, each while holding the GIL; results in item
    /// order. `f` should call `gil.checkpoint()` in its loops and wrap blocking calls in
    /// `gil.allow_threads`, or it keeps the other threads out until it returns.
    /// When a task panics, the other tasks still run to completion; then [`Error::Panicked`] names
    /// the first failing task (by index) and the other results are dropped.
    pub fn map<T, R, F>(&self, items: Vec<T>, f: F) -> Result<Vec<R>, Error>
    where
        T: Send + 'static,
        R: Send + 'static,
        F: Fn(T, &Gil) -> R + Send + Sync + 'static,
    {
        let gil = Arc::clone(&self.gil);
        self.pool.map(items, move |item| {
            gil.acquire();
            // Released even if `f` panics (the pool reports the panic).
            let _release = ReleaseOnDrop(&gil);
            f(item, &gil)
        })
    }

    /// Starts one GIL thread, runs a no-op task on it and joins it.
    pub fn spawn_join_one() -> Result<(), Error> {
        GilThreads::new(1)?.map(vec![()], |(), _| ()).map(drop)
    }
}

struct ReleaseOnDrop<'a>(&'a Gil);

impl Drop for ReleaseOnDrop<'_> {
    fn drop(&mut self) {
        self.0.release();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;
    use std::time::Instant;

    #[test]
    fn never_two_holders_and_everyone_gets_turns() {
        let threads = GilThreads::with_interval(4, Duration::from_micros(200)).unwrap();
        let holders = Arc::new(AtomicUsize::new(0));
        let max = Arc::new(AtomicUsize::new(0));
        let (h, m) = (Arc::clone(&holders), Arc::clone(&max));
        let out = threads
            .map((0..16).collect(), move |i: u64, gil| {
                let mut x = i;
                for round in 0..2_000u64 {
                    let now = h.fetch_add(1, Ordering::SeqCst) + 1;
                    m.fetch_max(now, Ordering::SeqCst);
                    x = x.wrapping_mul(6364136223846793005).wrapping_add(round);
                    h.fetch_sub(1, Ordering::SeqCst);
                    gil.checkpoint();
                    if round % 500 == 0 {
                        gil.allow_threads(std::thread::yield_now);
                    }
                }
                x
            })
            .unwrap();
        assert_eq!(out.len(), 16);
        assert_eq!(
            max.load(Ordering::SeqCst),
            1,
            "two threads held the GIL at once"
        );
    }

    #[test]
    fn a_waiter_gets_the_gil_within_about_an_interval() {
        let gil = Arc::new(Gil::new(Duration::from_millis(5)));
        let (stop, ready) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        let (g, s, r) = (Arc::clone(&gil), Arc::clone(&stop), Arc::clone(&ready));
        let spinner = std::thread::spawn(move || {
            // The holder: computes, checking the eval breaker, until told to stop.
            g.acquire();
            r.store(true, Ordering::Release);
            while !s.load(Ordering::Relaxed) {
                g.checkpoint();
            }
            g.release();
        });
        while !ready.load(Ordering::Acquire) {
            std::thread::yield_now();
        }
        let t = Instant::now();
        gil.acquire(); // Must not wait for the spinner to finish: it never would.
        let waited = t.elapsed();
        stop.store(true, Ordering::Relaxed);
        gil.release();
        spinner.join().unwrap();
        assert!(waited < Duration::from_secs(10), "waited {waited:?}"); // "No hang".
    }

    #[test]
    fn a_panicking_task_releases_the_gil() {
        let threads = GilThreads::new(2).unwrap();
        let r = threads.map(vec![0, 1, 2], |i, _| {
            if i == 1 {
                panic!("task panics holding the GIL");
            }
            i
        });
        assert!(matches!(r, Err(Error::Panicked { task: 1, .. })));
        assert_eq!(threads.map(vec![5], |i, _| i).unwrap(), [5], "still usable");
        GilThreads::spawn_join_one().unwrap();
    }
}
