//! How a ring end waits for its peer: spin, then sleep on a futex.

use std::time::{Duration, Instant};

use crate::primitive::{AtomicU32, Ordering, fence, spin_loop, yield_now};
use crate::{Error, Result};

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

/// How long one futex sleep lasts at most before the waiter checks that its peer is alive:
/// a peer that dies while we sleep is noticed within this long.
pub const SLEEP_SLICE: Duration = Duration::from_millis(50);

/// When a bounded wait gives up: at `at`, reported as [`Error::Timeout`] of `after`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline {
    at: Instant,
    after: Duration,
}

impl Deadline {
    /// `timeout` from now.
    pub(crate) fn after(timeout: Duration) -> Deadline {
        Deadline {
            at: Instant::now() + timeout,
            after: timeout,
        }
    }

    /// `Err(Timeout)` once past the deadline; else how long is left.
    fn left(deadline: Option<Deadline>) -> Result<Duration> {
        match deadline {
            None => Ok(Duration::MAX),
            Some(d) => {
                d.at.checked_duration_since(Instant::now())
                    .filter(|left| !left.is_zero())
                    .ok_or(Error::Timeout(d.after))
            }
        }
    }
}

/// While spinning, how many checks between two looks at the clock (when there is a
/// deadline); the other periodic checks' periods are multiples of it.
const SPINS_PER_CLOCK_CHECK: u32 = 1 << 10;

/// While spinning, how many checks between two yields of the CPU. Two spinning ends that the
/// scheduler put on the same core (it happens on a 2-core machine) would otherwise wait a
/// whole time slice for each other, milliseconds per message; a yield after this many
/// fruitless checks (tens of microseconds) hands the core over at once, and a round trip
/// that completes sooner never reaches it.
const SPINS_PER_YIELD: u32 = 1 << 12;

/// In [`Wait::Spin`] mode, how many checks between two peer-liveness checks.
const SPINS_PER_LIVENESS_CHECK: u32 = 1 << 20;

/// Waits until `ready()` holds, per `wait` (always spinning when `spin_only`), raising
/// `waiting` and sleeping on `seq` once spinning is over. `peer_gone` is asked after a sleep
/// that ended without `ready()` (a timeout or a spurious wake-up) and every million or so
/// spins; `Some(why)` ends the wait with [`Error::PeerGone`].
///
/// With a `deadline`, a wait still not ready by then ends with [`Error::Timeout`].
///
/// The waker's half is [`notify`]: either the re-check after raising `waiting` sees the
/// waker's publication, or the waker sees `waiting` and bumps `seq` and wakes us.
pub(crate) fn wait_until(
    wait: Wait,
    spin_only: bool,
    waiting: &AtomicU32,
    seq: &AtomicU32,
    deadline: Option<Deadline>,
    mut ready: impl FnMut() -> Result<bool>,
    peer_gone: impl Fn() -> Option<String>,
) -> Result<()> {
    let wait = if spin_only { Wait::Spin } else { wait };
    let spins = match wait {
        Wait::Spin => u32::MAX,
        Wait::SpinThenFutex { spins } => spins,
    };
    let mut n: u32 = 0;
    loop {
        if ready()? {
            return Ok(());
        }
        n = n.wrapping_add(1);
        // One masked test on the fast path; the periodic checks share the rare branch
        // (their periods are powers of two, multiples of the clock check's).
        if n & (SPINS_PER_CLOCK_CHECK - 1) == 0 {
            if n % SPINS_PER_LIVENESS_CHECK == 0
                && let Some(why) = peer_gone()
            {
                return Err(Error::PeerGone(why));
            }
            if deadline.is_some() {
                Deadline::left(deadline)?;
            }
            if (n < spins || wait == Wait::Spin) && n % SPINS_PER_YIELD == 0 {
                yield_now();
                continue;
            }
        }
        if n < spins || wait == Wait::Spin {
            spin_loop();
            continue;
        }
        waiting.store(1, Ordering::SeqCst);
        // Pairs with the fence in `notify`: either this side's re-check below sees the
        // peer's publication, or the peer sees `waiting` and wakes us. (Without this fence
        // loom finds the lost wake-up: the re-check is only an acquire load.)
        fence(Ordering::SeqCst);
        let s = seq.load(Ordering::SeqCst);
        if ready()? {
            waiting.store(0, Ordering::Relaxed);
            return Ok(());
        }
        let slice = match Deadline::left(deadline) {
            Ok(left) => left.min(SLEEP_SLICE),
            Err(e) => {
                waiting.store(0, Ordering::Relaxed);
                return Err(e);
            }
        };
        futex_wait(seq, s, slice);
        waiting.store(0, Ordering::Relaxed);
        // Woken with work to do: the common case, and no liveness check (reading /proc
        // costs more than the wake-up itself).
        if ready()? {
            return Ok(());
        }
        // A timeout or a spurious wake-up: is the peer still there?
        if let Some(why) = peer_gone() {
            // One last look: the peer may have published and then exited.
            return if ready()? {
                Ok(())
            } else {
                Err(Error::PeerGone(why))
            };
        }
        Deadline::left(deadline)?;
    }
}

/// Wakes the side waiting in [`wait_until`] on `seq` if it said (through `waiting`) that
/// it is about to sleep. Call after publishing.
pub(crate) fn notify(waiting: &AtomicU32, seq: &AtomicU32) {
    // Pairs with the waiter's SeqCst store of `waiting` and load of the counter.
    fence(Ordering::SeqCst);
    if waiting.load(Ordering::Relaxed) != 0 {
        seq.fetch_add(1, Ordering::Release);
        futex_wake(seq);
    }
}

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
