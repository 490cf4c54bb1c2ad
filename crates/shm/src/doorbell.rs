//! A doorbell: any number of processes ring it, one process waits on it. How a pool's parent
//! sleeps until *any* of its workers has published a reply in its own ring, with one futex.

use std::sync::Arc;

use crate::primitive::{AtomicU32, AtomicU64, Ordering};
use crate::wait::{Wait, notify, wait_until};
use crate::{Error, Result, Segment};

/// "CONCURDB", little-endian.
const MAGIC: u64 = u64::from_le_bytes(*b"CONCURDB");

/// Layout: the magic on its own line, then the futex word and the waiter's flag.
#[repr(C)]
struct Bell {
    magic: AtomicU64,
    _pad: [u64; 15],
    seq: AtomicU32,
    waiting: AtomicU32,
}

/// A doorbell in a shared segment: ringers call [`Doorbell::ring`] after publishing
/// something (a reply in a ring), the one waiter calls [`Doorbell::wait_until`] with a check
/// of everything it watches. A ring costs a fence and a load unless the waiter is asleep.
pub struct Doorbell {
    bell: *const Bell,
    seg: Option<Arc<Segment>>,
}

// SAFETY: `bell` points into `seg`'s mapping (or, under test, a leaked heap block), which
// lives as long as `self`; it is only used through atomics.
unsafe impl Send for Doorbell {}
// SAFETY: as above; every access is atomic.
unsafe impl Sync for Doorbell {}

impl std::fmt::Debug for Doorbell {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Doorbell").finish_non_exhaustive()
    }
}

impl Doorbell {
    /// A fresh doorbell in its own segment; hand [`Doorbell::segment`]'s descriptor to the
    /// ringers.
    pub fn create() -> Result<Doorbell> {
        let seg = Segment::create("concur-doorbell", 4096)?;
        // SAFETY: page-aligned, 4096 bytes, zero-filled (valid atomics), not yet shared.
        let bell = unsafe { &*(seg.as_ptr() as *const Bell) };
        bell.magic.store(MAGIC, Ordering::Release);
        Ok(Doorbell {
            bell,
            seg: Some(Arc::new(seg)),
        })
    }

    /// The doorbell in a segment received from another process.
    pub fn from_segment(seg: Arc<Segment>) -> Result<Doorbell> {
        if seg.len() < std::mem::size_of::<Bell>() {
            return Err(Error::Corrupt(format!(
                "a doorbell needs {} bytes, got {}",
                std::mem::size_of::<Bell>(),
                seg.len()
            )));
        }
        // SAFETY: page-aligned and long enough (checked); atomics are valid for any bits.
        let bell = unsafe { &*(seg.as_ptr() as *const Bell) };
        if bell.magic.load(Ordering::Acquire) != MAGIC {
            return Err(Error::Corrupt("bad magic: not a concur doorbell".into()));
        }
        Ok(Doorbell {
            bell,
            seg: Some(seg),
        })
    }

    /// The segment, to share with the ringers (`None` only for in-process test doorbells).
    pub fn segment(&self) -> Option<&Arc<Segment>> {
        self.seg.as_ref()
    }

    fn bell(&self) -> &Bell {
        // SAFETY: see `Send for Doorbell`.
        unsafe { &*self.bell }
    }

    /// Wakes the waiter if it is asleep. Call after publishing what it waits for.
    pub fn ring(&self) {
        let b = self.bell();
        notify(&b.waiting, &b.seq);
    }

    /// Waits until `ready()` holds: spins, then sleeps until rung (per `wait`). Sleeps last at
    /// most 50 ms; after one that ends without `ready()`, `gone()` is asked whether to give
    /// up (`Some(why)`: [`Error::PeerGone`]). Only one process may wait on a doorbell.
    pub fn wait_until(
        &self,
        wait: Wait,
        ready: impl FnMut() -> Result<bool>,
        gone: impl Fn() -> Option<String>,
    ) -> Result<()> {
        let b = self.bell();
        wait_until(wait, false, &b.waiting, &b.seq, None, ready, gone)
    }

    /// A doorbell on the heap, for the loom model (which cannot map segments).
    #[cfg(loom)]
    pub(crate) fn on_heap() -> Doorbell {
        let bell: &'static Bell = Box::leak(Box::new(Bell {
            magic: AtomicU64::new(MAGIC),
            _pad: [0; 15],
            seq: AtomicU32::new(0),
            waiting: AtomicU32::new(0),
        }));
        Doorbell { bell, seg: None }
    }
}

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicBool;

    #[test]
    fn a_sleeping_waiter_is_woken_by_any_ringer() {
        let bell = Arc::new(Doorbell::create().unwrap());
        let again =
            Doorbell::from_segment(Arc::clone(bell.segment().unwrap())).expect("same magic");
        let flags: Arc<[AtomicBool; 2]> =
            Arc::new([AtomicBool::new(false), AtomicBool::new(false)]);
        let ringer = {
            let flags = Arc::clone(&flags);
            std::thread::spawn(move || {
                for f in flags.iter() {
                    std::thread::sleep(std::time::Duration::from_millis(5));
                    f.store(true, std::sync::atomic::Ordering::Release);
                    again.ring();
                }
            })
        };
        let t0 = std::time::Instant::now();
        bell.wait_until(
            Wait::SpinThenFutex { spins: 1 },
            || {
                Ok(flags
                    .iter()
                    .all(|f| f.load(std::sync::atomic::Ordering::Acquire)))
            },
            || None,
        )
        .unwrap();
        ringer.join().unwrap();
        // Woken by the rings, not by the 50 ms sleep timeouts (two of them would be 100 ms).
        assert!(t0.elapsed() < std::time::Duration::from_secs(5));
    }

    #[test]
    fn gives_up_when_told_and_refuses_foreign_segments() {
        let bell = Doorbell::create().unwrap();
        let err = bell
            .wait_until(
                Wait::SpinThenFutex { spins: 1 },
                || Ok(false),
                || Some("nobody home".into()),
            )
            .unwrap_err();
        assert!(matches!(err, Error::PeerGone(ref why) if why == "nobody home"));
        let blank = Arc::new(Segment::create("blank", 4096).unwrap());
        assert!(matches!(
            Doorbell::from_segment(blank),
            Err(Error::Corrupt(_))
        ));
    }
}

/// Model check: two ringers, one waiter that sleeps at once: no wake-up is lost.
#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use loom::sync::atomic::AtomicBool;

    #[test]
    fn no_lost_wakeup_with_two_ringers() {
        loom::model(|| {
            let bell = Arc::new(Doorbell::on_heap());
            let flags = Arc::new([AtomicBool::new(false), AtomicBool::new(false)]);
            let ringers: Vec<_> = (0..2)
                .map(|i| {
                    let (bell, flags) = (Arc::clone(&bell), Arc::clone(&flags));
                    loom::thread::spawn(move || {
                        flags[i].store(true, Ordering::Release);
                        bell.ring();
                    })
                })
                .collect();
            bell.wait_until(
                Wait::SpinThenFutex { spins: 0 },
                || Ok(flags.iter().all(|f| f.load(Ordering::Acquire))),
                || None,
            )
            .unwrap();
            for r in ringers {
                r.join().unwrap();
            }
        });
    }
}
