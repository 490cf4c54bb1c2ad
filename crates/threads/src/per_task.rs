//! `thread-per-task`: a fresh OS thread for every task.

use std::num::NonZeroUsize;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::mpsc;
use std::thread::{self, ScopedJoinHandle};

use crate::{Error, panic_message};

/// Starts one `std::thread` per task, like Python's `threading.Thread(target=...)`, and joins
/// them all. With [`ThreadPerTask::with_max_alive`], at most K threads are alive at once: a new
/// thread starts for the next task as soon as one finishes.
///
/// Threads are scoped, so `f` and the items may borrow from the caller.
#[derive(Clone, Copy, Debug, Default)]
pub struct ThreadPerTask {
    max_alive: Option<NonZeroUsize>,
}

impl ThreadPerTask {
    /// Every task's thread starts at once.
    pub fn new() -> Self {
        ThreadPerTask { max_alive: None }
    }

    /// At most `k` task threads alive at a time.
    pub fn with_max_alive(k: usize) -> Result<Self, Error> {
        let k = NonZeroUsize::new(k).ok_or(Error::NoWorkers)?;
        concur_limits::threads(k.get())?;
        Ok(ThreadPerTask { max_alive: Some(k) })
    }

    /// The cap on live threads, if any.
    pub fn max_alive(&self) -> Option<usize> {
        self.max_alive.map(NonZeroUsize::get)
    }

    /// Runs `f` on each item in its own thread; results come back in item order.
    ///
    /// If the OS refuses a thread, no further thread is started, the started ones are joined,
    /// and [`Error::Spawn`] says which. When a task panics, the other tasks still run to completion; then [`Error::Panicked`] names
    /// the first failing task (by index) and the other results are dropped.
    pub fn map<T, R, F>(&self, items: Vec<T>, f: F) -> Result<Vec<R>, Error>
    where
        T: Send,
        R: Send,
        F: Fn(T) -> R + Sync,
    {
        let n = items.len();
        let cap = self.max_alive.map_or(n, NonZeroUsize::get);
        // Checked again per batch: the cap, or every item at once, must still fit.
        concur_limits::threads(cap.min(n))?;
        let f = &f;
        thread::scope(|s| {
            let (done_tx, done_rx) = mpsc::channel::<usize>();
            let mut handles: Vec<Option<ScopedJoinHandle<'_, thread::Result<R>>>> =
                (0..n).map(|_| None).collect();
            let mut results: Vec<Option<thread::Result<R>>> = (0..n).map(|_| None).collect();
            let mut alive = 0;
            let mut spawn_error = None;
            for (i, item) in items.into_iter().enumerate() {
                if alive == cap {
                    // Every thread reports its index last thing, panic or not.
                    let done = done_rx.recv().expect("a live thread always reports");
                    results[done] = Some(join(handles[done].take()));
                    alive -= 1;
                }
                let tx = done_tx.clone();
                let spawned = thread::Builder::new()
                    .name(format!("concur-task-{i}"))
                    .spawn_scoped(s, move || {
                        let r = catch_unwind(AssertUnwindSafe(|| f(item)));
                        let _ = tx.send(i);
                        r
                    });
                match spawned {
                    Ok(h) => {
                        handles[i] = Some(h);
                        alive += 1;
                    }
                    Err(source) => {
                        spawn_error = Some(Error::Spawn { index: i, source });
                        break;
                    }
                }
            }
            for (slot, handle) in results.iter_mut().zip(&mut handles) {
                if let Some(h) = handle.take() {
                    *slot = Some(join(Some(h)));
                }
            }
            if let Some(e) = spawn_error {
                return Err(e);
            }
            results
                .into_iter()
                .enumerate()
                .map(|(task, r)| match r.expect("every task ran") {
                    Ok(v) => Ok(v),
                    Err(payload) => Err(Error::Panicked {
                        task,
                        message: panic_message(payload),
                    }),
                })
                .collect()
        })
    }

    /// Starts one no-op thread and joins it: the cost the `spawn` probe measures.
    pub fn spawn_join_one() -> Result<(), Error> {
        thread::Builder::new()
            .spawn(|| {})
            .map_err(|source| Error::Spawn { index: 0, source })?
            .join()
            .map_err(|p| Error::Panicked {
                task: 0,
                message: panic_message(p),
            })
    }
}

fn join<R>(h: Option<ScopedJoinHandle<'_, thread::Result<R>>>) -> thread::Result<R> {
    // The closure catches panics itself, so join only fails if catch_unwind did.
    h.expect("joined once").join().and_then(|r| r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[test]
    fn results_in_order_and_borrows_work() {
        let base = 100;
        let out = ThreadPerTask::new()
            .map((0..20).collect(), |x| x + base)
            .unwrap();
        assert_eq!(out, (100..120).collect::<Vec<_>>());
    }

    #[test]
    fn cap_bounds_live_threads() {
        let alive = AtomicUsize::new(0);
        let peak = AtomicUsize::new(0);
        let pt = ThreadPerTask::with_max_alive(3).unwrap();
        pt.map((0..24).collect(), |_: i32| {
            let now = alive.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            std::thread::sleep(Duration::from_millis(2));
            alive.fetch_sub(1, Ordering::SeqCst);
        })
        .unwrap();
        let peak = peak.load(Ordering::SeqCst);
        assert!((1..=3).contains(&peak), "peak {peak}");
    }

    #[test]
    fn zero_cap_is_an_error() {
        assert!(matches!(
            ThreadPerTask::with_max_alive(0),
            Err(Error::NoWorkers)
        ));
    }

    #[test]
    fn a_panic_names_the_task_and_the_rest_still_run() {
        let ran = AtomicUsize::new(0);
        for pt in [
            ThreadPerTask::new(),
            ThreadPerTask::with_max_alive(2).unwrap(),
        ] {
            let err = pt
                .map((0..6).collect(), |x: i32| {
                    ran.fetch_add(1, Ordering::SeqCst);
                    if x == 4 {
                        panic!("boom at {x}");
                    }
                    x
                })
                .unwrap_err();
            match err {
                Error::Panicked { task, message } => {
                    assert_eq!(task, 4);
                    assert_eq!(message, "boom at 4");
                }
                other => panic!("unexpected {other}"),
            }
        }
        assert_eq!(ran.load(Ordering::SeqCst), 12);
    }
}
