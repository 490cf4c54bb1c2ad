//! The two ends of each channel: a peer thread (or task) in this process, or an echo child
//! process (started by `crate::child`, served by `serve_echo`) reached over the channel's
//! own mechanism.

mod iceoryx;
mod ipc;
mod relay;
pub(crate) mod shm;
mod streams;
mod threads;

pub(crate) use iceoryx::IceoryxPeer;
pub use iceoryx::{
    remove_files as remove_iceoryx_files, remove_stale_files as remove_stale_iceoryx_files,
};
pub(crate) use ipc::{EchoHello, IpcPeer};
pub(crate) use relay::{RelayPeer, serve_relay_echo};
pub(crate) use shm::{LoanPeer, ShmPeer, loan_send};
pub(crate) use streams::StreamPeer;
pub(crate) use threads::{LatchPeer, ThreadPeer};

pub(crate) use iceoryx::serve_echo as serve_iceoryx_echo;

/// A concur-shm error as an I/O error (the ping-pong's error type).
pub(crate) fn shm_err(e: concur_shm::Error) -> std::io::Error {
    std::io::Error::other(e.to_string())
}
