//! One placement per comparison: a spinning pair (this thread and its echo child) pinned to
//! a stated CPU pair, so the two sides of a paired comparison cross the same two CPUs. On a
//! VM whose host moves the virtual CPUs, an unpinned spinning round trip is whatever
//! placement the scheduler picked that minute (a cache-line round trip of 84 ns in one
//! suite, 481 ns in the next, in one run); pinned, both sides of a round see the same one.

use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};

use rustix::thread::{CpuSet, sched_getaffinity, sched_setaffinity};
use serde::{Deserialize, Serialize};

/// Set in an echo child's environment while a pair is pinned: the CPU it pins itself to.
pub const PIN_ENV: &str = "CONCUR_ECHO_CPU";

/// No child CPU: [`CHILD_CPU`]'s value when nothing is pinned.
const NONE: usize = usize::MAX;

/// The CPU echo children started now pin themselves to ([`NONE`]: none), set while a
/// [`Pinned`] lives. One pair at a time: the benchmarks run one channel at a time.
static CHILD_CPU: AtomicUsize = AtomicUsize::new(NONE);

/// Two CPUs: this thread on `parent`, its echo child on `child`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CpuPair {
    /// The CPU this (the measuring) thread runs on.
    pub parent: usize,
    /// The CPU the echo child runs on.
    pub child: usize,
}

impl CpuPair {
    /// The first two CPUs this thread may run on; `None` when it may run on fewer (a
    /// `taskset -c 0` run: nothing to pin apart).
    pub fn first_allowed() -> Option<CpuPair> {
        let allowed = sched_getaffinity(None).ok()?;
        let mut cpus = (0..CpuSet::MAX_CPU).filter(|&c| allowed.is_set(c));
        Some(CpuPair {
            parent: cpus.next()?,
            child: cpus.next()?,
        })
    }
}

impl std::fmt::Display for CpuPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "CPUs {}↔{}", self.parent, self.child)
    }
}

/// While it lives, this thread runs on `pair.parent` alone and every echo child this process
/// starts pins itself to `pair.child`; dropping it gives the thread back the CPUs it had.
#[derive(Debug)]
pub struct Pinned {
    previous: CpuSet,
    pair: CpuPair,
}

impl Pinned {
    /// Pins this thread to `pair.parent`, and the echo children started from now on to
    /// `pair.child`.
    pub fn new(pair: CpuPair) -> io::Result<Pinned> {
        let previous = sched_getaffinity(None)?;
        pin_this_thread(pair.parent)?;
        CHILD_CPU.store(pair.child, Ordering::SeqCst);
        Ok(Pinned { previous, pair })
    }

    /// The pair.
    pub fn pair(&self) -> CpuPair {
        self.pair
    }
}

impl Drop for Pinned {
    fn drop(&mut self) {
        CHILD_CPU.store(NONE, Ordering::SeqCst);
        let _ = sched_setaffinity(None, &self.previous);
    }
}

/// The CPU the other end of a pinned pair runs on (an echo child, or a helper thread that
/// pins itself there), if a pair is pinned now.
pub fn child_cpu() -> Option<usize> {
    Some(CHILD_CPU.load(Ordering::SeqCst)).filter(|&c| c != NONE)
}

/// Pins this thread to `cpu` alone (a helper thread on the other end of a pinned pair).
pub fn pin_this_thread(cpu: usize) -> io::Result<()> {
    let mut only = CpuSet::new();
    only.set(cpu);
    Ok(sched_setaffinity(None, &only)?)
}

/// In an echo child: pins this thread to the CPU [`PIN_ENV`] names, if it is set. The value
/// comes from another process: anything but a CPU number the kernel accepts for this
/// process is an error. (The child starts with its parent's mask, the parent's one CPU, so
/// the kernel, not that mask, says which CPUs it may have.)
pub(crate) fn pin_from_env() -> io::Result<()> {
    let Some(value) = std::env::var_os(PIN_ENV) else {
        return Ok(());
    };
    let refused = |why: String| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("{PIN_ENV}={value:?}: {why}"),
        )
    };
    let cpu = value
        .to_str()
        .and_then(|v| v.parse::<usize>().ok())
        .filter(|&c| c < CpuSet::MAX_CPU)
        .ok_or_else(|| refused(format!("not a CPU number below {}", CpuSet::MAX_CPU)))?;
    pin_this_thread(cpu)
        .map_err(|e| refused(format!("the kernel refused to pin this process there: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinning_moves_this_thread_and_dropping_restores_it() {
        let Some(pair) = CpuPair::first_allowed() else {
            return; // one CPU: nothing to pin apart
        };
        let before = sched_getaffinity(None).unwrap();
        {
            let pinned = Pinned::new(pair).unwrap();
            let now = sched_getaffinity(None).unwrap();
            assert!(now.is_set(pair.parent) && !now.is_set(pair.child));
            assert_eq!(child_cpu(), Some(pair.child));
            assert_eq!(pinned.pair(), pair);
        }
        assert_eq!(child_cpu(), None);
        assert_eq!(sched_getaffinity(None).unwrap(), before);
    }
}
