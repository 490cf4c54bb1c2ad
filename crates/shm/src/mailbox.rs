//! The floor under the ring: two 32-bit words in a shared segment, handed back and forth by
//! spinning or by futex wait/wake. What a cross-process round trip costs with nothing on top.

use std::sync::Arc;

use crate::primitive::{AtomicU32, Ordering, spin_loop};
use crate::wait::{SLEEP_SLICE, Wait, futex_wait, futex_wake};
use crate::{Error, Result, Segment};

/// Which word: the first side writes `Ping` and waits on `Pong`; the other the reverse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// Offset 0.
    Ping,
    /// Offset 128 (its own cache lines).
    Pong,
}

/// Two words in a segment, for the raw spin and futex ping-pong probes.
#[derive(Debug)]
pub struct Mailbox {
    seg: Arc<Segment>,
}

impl Mailbox {
    /// A fresh mailbox (both words zero) in its own segment.
    pub fn create() -> Result<Mailbox> {
        Self::from_segment(Arc::new(Segment::create("concur-mailbox", 4096)?))
    }

    /// A mailbox in a segment received from another process.
    pub fn from_segment(seg: Arc<Segment>) -> Result<Mailbox> {
        if seg.len() < 256 {
            return Err(Error::Corrupt(format!(
                "a mailbox needs 256 bytes, got {}",
                seg.len()
            )));
        }
        Ok(Mailbox { seg })
    }

    /// The segment, to hand to the other process.
    pub fn segment(&self) -> &Arc<Segment> {
        &self.seg
    }

    fn word(&self, slot: Slot) -> &AtomicU32 {
        let offset = match slot {
            Slot::Ping => 0,
            Slot::Pong => 128,
        };
        // SAFETY: the segment is page-aligned and at least 256 bytes (checked), so the word is
        // aligned and in bounds; an AtomicU32 is valid for any bits a peer may write.
        unsafe { &*(self.seg.as_ptr().add(offset) as *const AtomicU32) }
    }

    /// Stores `value` into `slot` and wakes a futex sleeper on it if `wait` sleeps.
    pub fn post(&self, slot: Slot, value: u32, wait: Wait) {
        let word = self.word(slot);
        word.store(value, Ordering::Release);
        if wait != Wait::Spin {
            futex_wake(word);
        }
    }

    /// Waits until `slot` no longer holds `old` (spinning, or spinning then sleeping on the
    /// futex) and returns its new value. `give_up` is asked between sleeps (and every
    /// million or so spins) whether to stop waiting.
    pub fn wait_change(
        &self,
        slot: Slot,
        old: u32,
        wait: Wait,
        give_up: impl Fn() -> bool,
    ) -> Result<u32> {
        let word = self.word(slot);
        let spins = match wait {
            Wait::Spin => u32::MAX,
            Wait::SpinThenFutex { spins } => spins,
        };
        let mut n: u32 = 0;
        loop {
            let now = word.load(Ordering::Acquire);
            if now != old {
                return Ok(now);
            }
            n = n.wrapping_add(1);
            let check = n % (1 << 20) == 0;
            if n < spins || wait == Wait::Spin {
                spin_loop();
            } else {
                futex_wait(word, old, SLEEP_SLICE);
            }
            if (check || (n >= spins && wait != Wait::Spin))
                && word.load(Ordering::Acquire) == old
                && give_up()
            {
                return Err(Error::PeerGone("gave up waiting on the mailbox".into()));
            }
        }
    }
}
