//! concur's channel benchmark: round trips of a small message and 1 MiB transfers over every
//! channel concur compares, and the floors they are read against, timed the same way.
//!
//! - [`Channel`] and [`channels`]: the registry (crossbeam, std and tokio channels between
//!   threads; pipes, a Unix socket, loopback TCP, ipc-channel, concur-shm's rings and slots,
//!   iceoryx2 between processes; the `atomic-spin` and `futex` floors).
//! - [`RoundTrip`] and [`time_round_trips`]: one side of an open channel, and the timing
//!   loop every ping-pong figure comes from (median and p99 of per-trip samples).
//! - [`floors`]: the least each mechanism costs here (hand-off, copy across cores, process
//!   start), measured in the same run.
//! - [`pin`]: a spinning pair pinned to a stated CPU pair, one placement per comparison.
//! - [`serve_if_child`]: the echo child, this same executable started again; call it first
//!   thing in `main`.
//!
//! ```
//! use concur_channels::{Channel, time_round_trips};
//!
//! concur_channels::serve_if_child();
//! let mut peer = Channel::Crossbeam.open().unwrap();
//! let r = time_round_trips("crossbeam", peer.as_mut(), 100, 8).unwrap();
//! assert_eq!(r.round_trips, 100);
//! assert!(r.median_ns > 0.0 && r.p99_ns >= r.median_ns);
//! ```

mod channel;
mod child;
mod echo;
pub mod floors;
mod peers;
pub mod pin;
mod round_trip;

pub use channel::{Channel, ChannelSpec, Peers, channels, open, unknown_channel};
pub use child::ECHO_ENV;
pub use echo::{serve_echo, serve_if_child};
pub use floors::{READ_ACROSS, ReadAcross, SpawnFloor};
pub use peers::{remove_iceoryx_files, remove_stale_iceoryx_files};
pub use round_trip::{MAX_PAYLOAD, PingPongReport, RoundTrip, WARMUP, time_n, time_round_trips};

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
