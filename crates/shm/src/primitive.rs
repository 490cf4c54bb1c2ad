//! The atomics the ring uses: std's, or loom's under `cfg(loom)`, so the protocol can be
//! model-checked with the same code.

#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU32, AtomicU64, Ordering, fence};
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU32, AtomicU64, Ordering, fence};

#[cfg(loom)]
pub(crate) fn spin_loop() {
    loom::thread::yield_now();
}
#[cfg(not(loom))]
pub(crate) use std::hint::spin_loop;

#[cfg(loom)]
pub(crate) fn yield_now() {
    loom::thread::yield_now();
}
#[cfg(not(loom))]
pub(crate) use std::thread::yield_now;
