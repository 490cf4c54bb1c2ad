//! Shared memory between processes, for concur and for your own programs.
//!
//! - [`Segment`]: an anonymous shared-memory segment (`memfd_create` + `mmap`), sealed at its
//!   size, handed to another process as a file descriptor. It has no name anywhere, so
//!   nothing is ever left behind in `/dev/shm`: it disappears with its last descriptor.
//! - [`ring`]: a bounded single-producer, single-consumer byte ring laid out in a segment,
//!   with acquire/release atomics and a waiting strategy that spins, then sleeps on a futex
//!   ([`Wait`]).
//! - [`slots`]: zero-copy transfer: the sender fills a slot of shared memory in place and
//!   publishes it, the receiver reads it in place and releases it.
//! - [`Region`]: a read-only shared region for large inputs: written once, sealed, mapped by
//!   any number of processes as one copy.
//! - [`Doorbell`]: many processes ring, one waits: how a pool's parent sleeps until any
//!   worker has replied, on one futex.
//! - [`fdpass`]: sending descriptors (segments, regions) to another process over a Unix
//!   socket (`SCM_RIGHTS`).
//! - [`mailbox`]: two words handed back and forth by spinning or futex: the floor a ring's
//!   round trip is measured against.
//!
//! # The other process is untrusted
//!
//! Every index, length and counter read from shared memory is checked before it is used; a
//! corrupt header or message becomes [`Error::Corrupt`], never undefined behaviour or a
//! panic. A peer that dies mid-protocol is noticed while waiting (the futex sleep has a
//! timeout, [`SLEEP_SLICE`], and the waiter checks that the peer is alive):
//! [`Error::PeerGone`]. A peer that dies before it attached is noticed the same way once the
//! creator names it (`expect_peer`), and `recv_timeout` / `send_timeout` bound a wait on a
//! peer that is alive but silent: [`Error::Timeout`].
//!
//! ```
//! use concur_shm::{ring, Wait};
//!
//! let segment = ring::create(4096).unwrap(); // share `segment.fd()` with another process
//! let mut tx = ring::Sender::attach(&segment, Wait::default()).unwrap();
//! let mut rx = ring::Receiver::attach(&segment, Wait::default()).unwrap();
//! tx.send(b"hello").unwrap();
//! let mut buf = Vec::new();
//! rx.recv(&mut buf).unwrap();
//! assert_eq!(buf, b"hello");
//! ```

// Shared memory is raw memory: the crate's few `unsafe` blocks each state their invariant.
#![allow(unsafe_code)]

mod doorbell;
pub mod fdpass;
pub mod mailbox;
mod primitive;
mod region;
pub mod ring;
mod segment;
pub mod slots;
mod wait;

pub use doorbell::Doorbell;
pub use region::Region;
pub use segment::Segment;
pub use wait::{SLEEP_SLICE, Wait};

/// What can go wrong with shared memory.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An operating-system call failed.
    #[error("shared memory: {0}")]
    Io(#[from] std::io::Error),
    /// Something read from shared memory is inconsistent: the peer is buggy or hostile.
    #[error("shared memory is corrupt: {0}")]
    Corrupt(String),
    /// A message does not fit in the ring.
    #[error("a message of {len} bytes does not fit in a ring of {capacity} bytes")]
    TooLarge {
        /// The message length.
        len: usize,
        /// The ring's capacity.
        capacity: usize,
    },
    /// The peer closed its end or died (or, with an expected peer, died before attaching).
    #[error("the peer is gone: {0}")]
    PeerGone(String),
    /// A bounded wait (`recv_timeout`, `send_timeout`) ran out: the peer is alive but did not
    /// send (or make room) in time, or never attached.
    #[error("the peer did not answer within {0:?}")]
    Timeout(std::time::Duration),
}

/// Whether process `pid` has exited: gone from `/proc`, or a zombie not yet reaped. How a
/// ring end (or any peer of a shared segment) tells a dead peer from a slow one.
pub fn pid_gone(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).map_or(true, |stat| {
        stat.rfind(')')
            .and_then(|i| stat.get(i + 2..i + 3))
            .is_some_and(|state| state == "Z" || state == "X")
    })
}

/// Shorthand for this crate's results.
pub type Result<T> = std::result::Result<T, Error>;

/// The README's example, compiled and run as a doc test.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
