//! The count a [`crate::ThreadPool::map`] caller waits on: each task counts it down; the
//! caller spins briefly, then parks until the last task unparks it. Std's atomics and thread
//! parking, or loom's under `cfg(loom)`, so the hand-off is model-checked with this code.

use std::sync::OnceLock;

#[cfg(loom)]
use loom::sync::atomic::{AtomicUsize, Ordering};
#[cfg(loom)]
use loom::thread::{self, Thread};
#[cfg(not(loom))]
use std::sync::atomic::{AtomicUsize, Ordering};
#[cfg(not(loom))]
use std::thread::{self, Thread};

/// Tasks not yet done, and the thread waiting for them once it has stopped spinning.
///
/// The count and whether the caller may be parked share one word, and every change to it is
/// a read-modify-write, so the last task's decrement and the caller's "I may park" are
/// ordered one way or the other: either the decrement sees the flag and unparks, or the
/// flag's setting sees the count at zero and the caller does not park.
pub(crate) struct Countdown {
    /// Tasks left, with [`PARKED`] set once the caller may be parked.
    state: AtomicUsize,
    /// The waiting thread, set before [`PARKED`] is (a task reads it only after seeing it).
    caller: OnceLock<Thread>,
}

/// The bit of [`Countdown::state`] that says the caller may be parked. A count never
/// reaches it: a batch's tasks are a `Vec`'s items, fewer than `isize::MAX`.
const PARKED: usize = 1 << (usize::BITS - 1);

impl Countdown {
    /// `tasks` tasks to wait for.
    pub(crate) fn new(tasks: usize) -> Self {
        assert!(tasks < PARKED, "fewer tasks than a Vec can hold");
        Countdown {
            state: AtomicUsize::new(tasks),
            caller: OnceLock::new(),
        }
    }

    /// One task done (what it stored before this call is visible to the caller once
    /// [`Countdown::wait`] returns); the last one unparks a caller that may be parked.
    pub(crate) fn count_down(&self) {
        // Release: the task's result before the count; Acquire: the caller's handle, set
        // before its flag, when the flag is seen.
        if self.state.fetch_sub(1, Ordering::AcqRel) == PARKED | 1
            && let Some(caller) = self.caller.get()
        {
            caller.unpark();
        }
    }

    /// Returns once every task has counted down: spins briefly (a short task's result
    /// usually comes within a cache-line round trip or two), then parks until the last one
    /// unparks it (`park` may return early, so the count is checked again each time). For
    /// one caller: the thread that made the count.
    pub(crate) fn wait(&self) {
        let mut spin = Spin::new();
        while self.state.load(Ordering::Acquire) & !PARKED != 0 {
            if spin.again() {
                continue;
            }
            self.caller.get_or_init(thread::current);
            if self.state.fetch_or(PARKED, Ordering::AcqRel) & !PARKED != 0 {
                thread::park();
            }
        }
    }
}

/// The spinning before parking: [`FLAT_SPINS`] checks one pause apart, then crossbeam's
/// backoff (longer spins, then yields, a few dozen rounds).
#[cfg(not(loom))]
struct Spin {
    flat: u32,
    backoff: crossbeam_utils::Backoff,
}

/// Checks of the count one `spin_loop` pause apart before backing off: a short task's
/// result comes within a few cache-line round trips, and an exponential backoff from the
/// start would notice it up to a whole backoff step late (crossbeam's steps reach 64
/// pauses, several hundred ns here). A pool worker looks for its next job the same way.
/// 200, not 2 000: the empty task's round trip is the same either way, and 32 workers on
/// two CPUs spent twice the CPU time spinning with 2 000 (docs/ARCHITECTURE.md, "The thread
/// pools' hand-off").
pub(crate) const FLAT_SPINS: u32 = 200;

#[cfg(not(loom))]
impl Spin {
    fn new() -> Self {
        Spin {
            flat: 0,
            backoff: crossbeam_utils::Backoff::new(),
        }
    }

    /// Whether to look again without parking (after a pause).
    fn again(&mut self) -> bool {
        if self.flat < FLAT_SPINS {
            self.flat += 1;
            std::hint::spin_loop();
            return true;
        }
        if self.backoff.is_completed() {
            return false;
        }
        self.backoff.snooze();
        true
    }
}

/// Under loom, one yield (loom explores a spin loop only through its own yields).
#[cfg(loom)]
struct Spin(bool);

#[cfg(loom)]
impl Spin {
    fn new() -> Self {
        Spin(false)
    }

    fn again(&mut self) -> bool {
        if self.0 {
            return false;
        }
        self.0 = true;
        loom::thread::yield_now();
        true
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::Arc;
    use loom::sync::atomic::AtomicU32;

    /// Two tasks on two threads: the caller, spinning or parked, returns (a lost wake-up
    /// is a deadlock loom reports) and sees both tasks' results, written with relaxed
    /// stores before counting down (loom lets a relaxed load see an older value unless a
    /// happens-before edge forbids it: the count's must).
    #[test]
    fn loom_the_last_task_wakes_the_caller_and_its_results_are_seen() {
        loom::model(|| {
            let count = Arc::new(Countdown::new(2));
            let results = Arc::new([AtomicU32::new(0), AtomicU32::new(0)]);
            for i in 0..2u32 {
                let (count, results) = (Arc::clone(&count), Arc::clone(&results));
                thread::spawn(move || {
                    results[i as usize].store(i + 1, Ordering::Relaxed);
                    count.count_down();
                });
            }
            count.wait();
            for (i, r) in (1..).zip(results.iter()) {
                assert_eq!(r.load(Ordering::Relaxed), i);
            }
            // Not joined: loom runs every thread to its end anyway, and its `join` waits
            // on the parking an `unpark` left over from `count_down` would cut short.
        });
    }
}
