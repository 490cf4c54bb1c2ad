//! The worker side of [`crate::ShmPool`]: tasks in through one shm ring, replies out through
//! another, the shared input mapped from a [`Region`] the parent sends over the socket.
//!
//! The worker's stdin is a `SOCK_SEQPACKET` socket: its first message carries the task ring,
//! the reply ring and the parent's doorbell ([`HELLO_TAG`]); later ones carry regions.

use std::os::fd::{AsFd, OwnedFd};
use std::sync::Arc;

use concur_shm::{Doorbell, Region, Segment, Wait, fdpass, ring};

use crate::worker::{EXIT_NO_CHANNEL, EXIT_ORPHANED, Handler, die_with_parent};

/// Set in an shm worker's environment; its presence makes [`crate::init`] serve an
/// [`crate::ShmPool`] instead of returning.
pub const SHM_WORKER_ENV: &str = "CONCUR_SHM_WORKER";

/// The tag of the first descriptor message: protocol name and version.
pub(crate) const HELLO_TAG: &[u8] = b"concur-shm-pool/1";
/// The tag of a message carrying a region.
pub(crate) const REGION_TAG: &[u8] = b"region";

/// Parent to worker, first byte of a ring message.
pub(crate) mod to_worker {
    /// Run the task in the rest of the message.
    pub(crate) const TASK: u8 = 1;
    /// A region follows on the socket: map it, drop the previous one.
    pub(crate) const MAP: u8 = 2;
    /// Drop the mapped region.
    pub(crate) const UNMAP: u8 = 3;
}

/// Worker to parent, first byte of a ring message.
pub(crate) mod to_parent {
    /// Started: the rest is the worker's pid, u32 little-endian.
    pub(crate) const HELLO: u8 = 1;
    /// The task's output follows.
    pub(crate) const DONE: u8 = 2;
    /// The task failed: a UTF-8 message follows.
    pub(crate) const FAILED: u8 = 3;
}

/// The exit code of a worker whose parent broke the protocol.
const EXIT_PROTOCOL: i32 = 73;

/// Serves tasks until the parent closes the task ring; returns the exit code.
pub(crate) fn serve(handler: Handler) -> i32 {
    if !die_with_parent() {
        return EXIT_ORPHANED;
    }
    let Ok(sock) = std::io::stdin().as_fd().try_clone_to_owned() else {
        return EXIT_NO_CHANNEL;
    };
    match serve_on(&sock, handler) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("concur shm worker {}: {e}", std::process::id());
            EXIT_PROTOCOL
        }
    }
}

fn serve_on(sock: &OwnedFd, handler: Handler) -> concur_shm::Result<()> {
    let mut tag = [0u8; 32];
    let (n, fds) = fdpass::recv(sock, &mut tag)?;
    let [tasks, replies, bell]: [OwnedFd; 3] = fds.try_into().map_err(|fds: Vec<OwnedFd>| {
        concur_shm::Error::Corrupt(format!("expected 3 descriptors, got {}", fds.len()))
    })?;
    if &tag[..n] != HELLO_TAG {
        return Err(concur_shm::Error::Corrupt(format!(
            "expected the {:?} greeting",
            String::from_utf8_lossy(HELLO_TAG)
        )));
    }
    let mut tasks = ring::Receiver::attach(&Arc::new(Segment::from_fd(tasks)?), Wait::default())?;
    let mut replies = ring::Sender::attach(&Arc::new(Segment::from_fd(replies)?), Wait::default())?;
    let bell = Doorbell::from_segment(Arc::new(Segment::from_fd(bell)?))?;

    let mut reply = Vec::with_capacity(256);
    reply.push(to_parent::HELLO);
    reply.extend_from_slice(&std::process::id().to_le_bytes());
    replies.send(&reply)?;
    bell.ring();

    // The mapped region, or why it could not be mapped (told to every task that follows).
    let mut region: Option<Result<Region, String>> = None;
    let mut msg = Vec::new();
    loop {
        match tasks.recv(&mut msg) {
            Ok(()) => {}
            // The parent closed the ring (or died): done.
            Err(concur_shm::Error::PeerGone(_)) => return Ok(()),
            Err(e) => return Err(e),
        }
        match msg.split_first() {
            Some((&to_worker::TASK, task)) => {
                let outcome = match &region {
                    Some(Err(why)) => Err(why.clone()),
                    Some(Ok(r)) => handler(task, Some(r.as_bytes())),
                    None => handler(task, None),
                };
                reply.clear();
                match outcome {
                    Ok(bytes) => {
                        reply.push(to_parent::DONE);
                        reply.extend_from_slice(&bytes);
                    }
                    Err(message) => {
                        reply.push(to_parent::FAILED);
                        reply.extend_from_slice(message.as_bytes());
                    }
                }
                if let Err(concur_shm::Error::TooLarge { len, capacity }) = replies.send(&reply) {
                    let message = format!(
                        "the task's output ({len} bytes) does not fit the reply ring ({capacity} bytes)"
                    );
                    reply.clear();
                    reply.push(to_parent::FAILED);
                    reply.extend_from_slice(message.as_bytes());
                    replies.send(&reply)?;
                }
                bell.ring();
            }
            Some((&to_worker::MAP, [])) => {
                drop(region.take()); // Unmap the old one first: never two large regions at once.
                let (n, fds) = fdpass::recv(sock, &mut tag)?;
                region = Some(
                    match (&tag[..n] == REGION_TAG, <[OwnedFd; 1]>::try_from(fds)) {
                        (true, Ok([fd])) => Region::from_fd(fd).map_err(|e| e.to_string()),
                        _ => Err("the parent sent no region with its map message".into()),
                    },
                );
            }
            Some((&to_worker::UNMAP, [])) => region = None,
            _ => {
                return Err(concur_shm::Error::Corrupt(format!(
                    "unknown message from the parent ({} bytes, kind {:?})",
                    msg.len(),
                    msg.first()
                )));
            }
        }
    }
}
