//! A [`crate::ThreadPool::map`] task's slot: its item until a worker runs it, then its
//! result. Not a lock: the batch's protocol gives the slot to one thread at a time, so the
//! slot needs no atomic operation of its own (a `Mutex` per slot cost three lock and
//! unlock pairs a task, about a tenth of an empty task's round trip).
//!
//! Who holds a slot, in order: `map`'s caller, which fills it before sending its task; the
//! one worker that takes that task from the queue (the channel's send and receive order the
//! filling before the taking), which empties it, runs the item and stores the result before
//! counting the batch's [`Countdown`](crate::countdown::Countdown) down; and the caller
//! again once `Countdown::wait` has returned (every count-down is a read-modify-write of
//! one word, so the caller's acquiring load of zero sees every task's result). Loom checks
//! the hand-back (`loom_tests` below); the hand-out is crossbeam-channel's guarantee.
#![allow(unsafe_code)]

#[cfg(loom)]
use loom::cell::UnsafeCell;
#[cfg(not(loom))]
use std::cell::UnsafeCell;

/// A task's item until a worker takes it, then its result (or its panic).
pub(crate) enum Slot<T, R> {
    /// Filled by the caller, not yet taken.
    Queued(T),
    /// Taken by a worker, or emptied by the caller.
    Running,
    /// Run: the result, or the panic's payload.
    Done(std::thread::Result<R>),
}

/// A [`Slot`] that one thread at a time may use (see the module's docs for which).
pub(crate) struct SlotCell<T, R>(UnsafeCell<Slot<T, R>>);

// SAFETY: a slot is never used by two threads at once (the module's docs): its item moves
// to one worker and its result back to the caller, so sending `T` and `R` between threads
// is all sharing the cell needs.
unsafe impl<T: Send, R: Send> Sync for SlotCell<T, R> {}

impl<T, R> SlotCell<T, R> {
    /// A slot holding `item`.
    pub(crate) fn new(item: T) -> Self {
        SlotCell(UnsafeCell::new(Slot::Queued(item)))
    }

    /// Takes what the slot holds, leaving [`Slot::Running`].
    ///
    /// # Safety
    /// The calling thread holds the slot: it is the worker that took this task from the
    /// queue, before it counts down, or `map`'s caller after the count reached zero.
    pub(crate) unsafe fn take(&self) -> Slot<T, R> {
        // SAFETY: the caller holds the slot (this function's contract).
        unsafe { self.with_mut(|slot| std::mem::replace(slot, Slot::Running)) }
    }

    /// Stores `slot`.
    ///
    /// # Safety
    /// As for [`SlotCell::take`].
    pub(crate) unsafe fn put(&self, slot: Slot<T, R>) {
        // SAFETY: the caller holds the slot (this function's contract).
        unsafe { self.with_mut(|s| *s = slot) }
    }

    /// Runs `f` on the slot.
    ///
    /// # Safety
    /// As for [`SlotCell::take`].
    unsafe fn with_mut<U>(&self, f: impl FnOnce(&mut Slot<T, R>) -> U) -> U {
        #[cfg(loom)]
        {
            // SAFETY: the caller holds the slot, so no other reference to it exists while
            // `f` runs (loom checks that the uses are ordered).
            self.0.with_mut(|p| f(unsafe { &mut *p }))
        }
        #[cfg(not(loom))]
        {
            // SAFETY: the caller holds the slot, so no other reference to it exists while
            // `f` runs.
            f(unsafe { &mut *self.0.get() })
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    use super::*;
    use crate::countdown::Countdown;
    use loom::sync::Arc;

    /// Two tasks on two threads each take their item and store a result before counting
    /// down; the caller takes both results after the wait. A use of a slot that is not
    /// ordered after the previous one is a data race loom reports.
    #[test]
    fn loom_results_stored_before_the_count_down_are_the_callers_after_the_wait() {
        loom::model(|| {
            let batch = Arc::new((Countdown::new(2), [SlotCell::new(1u32), SlotCell::new(2)]));
            for i in 0..2 {
                let batch = Arc::clone(&batch);
                loom::thread::spawn(move || {
                    let (left, slots) = &*batch;
                    // SAFETY: this thread is task i's worker (handed the slot by the
                    // spawn, as a worker is by the channel), before it counts down.
                    let Slot::Queued(item) = (unsafe { slots[i].take() }) else {
                        panic!("task {i} queued once");
                    };
                    // SAFETY: still task i's worker, before counting down.
                    unsafe { slots[i].put(Slot::Done(Ok(item * 10))) };
                    left.count_down();
                });
            }
            let (left, slots) = &*batch;
            left.wait();
            for (slot, want) in slots.iter().zip([10, 20]) {
                // SAFETY: the count reached zero: the caller holds every slot again.
                match unsafe { slot.take() } {
                    Slot::Done(Ok(got)) => assert_eq!(got, want),
                    _ => panic!("every task stored its result"),
                }
            }
        });
    }
}
