//! How a ring end waits for its peer: spin, then sleep on a futex.

use std::time::Duration;

use crate::primitive::AtomicU32;

/// How a blocked `send` or `recv` waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// Spin with `spin_loop` hints and never sleep: the lowest latency when both ends own a
    /// core, and a burnt core otherwise. For latency benchmarks.
    Spin,
    /// Spin up to `spins` checks, then sleep on a futex until the peer wakes us.
    SpinThenFutex {
        /// How many times to check before sleeping.
        spins: u32,
    },
}

impl Default for Wait {
    /// Spin briefly (a few microseconds), then sleep.
    fn default() -> Self {
        Wait::SpinThenFutex { spins: 2_000 }
    }
}

/// How long one futex sleep lasts at most before the waiter checks that its peer is alive.
pub(crate) const SLEEP_SLICE: Duration = Duration::from_millis(50);

/// Sleeps while `word == expected`, for at most `timeout`. Spurious wake-ups are fine: the
/// caller re-checks its condition.
#[cfg(not(loom))]
pub(crate) fn futex_wait(word: &AtomicU32, expected: u32, timeout: Duration) {
    let ts = rustix::thread::futex::Timespec {
        tv_sec: timeout.as_secs() as _,
        tv_nsec: timeout.subsec_nanos() as _,
    };
    // Not FUTEX_PRIVATE: the word lives in memory shared between processes.
    let _ = rustix::thread::futex::wait(
        word,
        rustix::thread::futex::Flags::empty(),
        expected,
        Some(&ts),
    );
}

/// Wakes one sleeper on `word`.
#[cfg(not(loom))]
pub(crate) fn futex_wake(word: &AtomicU32) {
    let _ = rustix::thread::futex::wake(word, rustix::thread::futex::Flags::empty(), 1);
}

/// Under loom, futexes are one global mutex and condition variable: a sleeper checks the
/// word and waits under the mutex, a waker (who changed the word first) notifies under it,
/// so wake-ups are neither lost nor invented, and a lost one leaves the sleeper blocked for
/// good, which loom reports as a deadlock.
#[cfg(loom)]
loom::lazy_static! {
    static ref FUTEX: (loom::sync::Mutex<()>, loom::sync::Condvar) =
        (loom::sync::Mutex::new(()), loom::sync::Condvar::new());
}

#[cfg(loom)]
pub(crate) fn futex_wait(word: &AtomicU32, expected: u32, _timeout: Duration) {
    use crate::primitive::Ordering;
    let mut guard = FUTEX.0.lock().unwrap();
    while word.load(Ordering::SeqCst) == expected {
        guard = FUTEX.1.wait(guard).unwrap();
    }
}

#[cfg(loom)]
pub(crate) fn futex_wake(_word: &AtomicU32) {
    let _guard = FUTEX.0.lock().unwrap();
    FUTEX.1.notify_all();
}
