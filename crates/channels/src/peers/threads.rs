//! Channels between two threads (or a thread and a tokio task): crossbeam, std, tokio; and
//! the `latch` floor.

use std::io;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread;

use crossbeam_utils::CachePadded;

use crate::RoundTrip;

/// A peer thread that answers over a pair of in-process channels. Messages are `Vec<u8>`
/// moved (not copied) between threads: that is what sharing an address space buys.
pub(crate) struct ThreadPeer {
    send: Box<dyn FnMut(Vec<u8>) -> bool>,
    recv: Box<dyn FnMut() -> Option<Vec<u8>>>,
    buf: Vec<u8>,
    peer: Option<thread::JoinHandle<()>>,
}

/// A [`ThreadPeer`] over two bounded(1) channels made by `$bounded`: crossbeam's and std's
/// have the same `send`/`recv` shape but no common trait.
macro_rules! thread_peer {
    ($bounded:expr) => {{
        let (to_peer, peer_rx) = $bounded;
        let (peer_tx, from_peer) = $bounded;
        let peer = thread::spawn(move || {
            while let Ok(m) = peer_rx.recv() {
                if peer_tx.send(m).is_err() {
                    break;
                }
            }
        });
        ThreadPeer {
            send: Box::new(move |m| to_peer.send(m).is_ok()),
            recv: Box::new(move || from_peer.recv().ok()),
            buf: Vec::new(),
            peer: Some(peer),
        }
    }};
}

impl ThreadPeer {
    pub(crate) fn crossbeam() -> Self {
        thread_peer!(crossbeam_channel::bounded::<Vec<u8>>(1))
    }

    pub(crate) fn std_mpsc() -> Self {
        thread_peer!(std::sync::mpsc::sync_channel::<Vec<u8>>(1))
    }

    /// The peer is a tokio task on a current-thread runtime of its own thread; this side
    /// blocks in `blocking_send` / `blocking_recv`: tokio's bounded mpsc between a thread
    /// and a task.
    pub(crate) fn tokio_mpsc() -> io::Result<Self> {
        let (to_peer, mut peer_rx) = tokio::sync::mpsc::channel::<Vec<u8>>(1);
        let (peer_tx, mut from_peer) = tokio::sync::mpsc::channel::<Vec<u8>>(1);
        let rt = tokio::runtime::Builder::new_current_thread().build()?;
        let peer = thread::Builder::new()
            .name("concur-tokio-echo".into())
            .spawn(move || {
                rt.block_on(async move {
                    while let Some(m) = peer_rx.recv().await {
                        if peer_tx.send(m).await.is_err() {
                            break;
                        }
                    }
                })
            })?;
        Ok(ThreadPeer {
            send: Box::new(move |m| to_peer.blocking_send(m).is_ok()),
            recv: Box::new(move || from_peer.blocking_recv()),
            buf: Vec::new(),
            peer: Some(peer),
        })
    }
}

impl RoundTrip for ThreadPeer {
    fn round_trip(&mut self, payload: &[u8]) -> io::Result<()> {
        // Reuse the buffer that came back, so a round trip allocates nothing.
        let mut m = std::mem::take(&mut self.buf);
        if m.len() != payload.len() {
            m = payload.to_vec();
        }
        let lost = || io::Error::new(io::ErrorKind::BrokenPipe, "peer thread gone");
        if !(self.send)(m) {
            return Err(lost());
        }
        self.buf = (self.recv)().ok_or_else(lost)?;
        Ok(())
    }
}

impl Drop for ThreadPeer {
    fn drop(&mut self) {
        // Dropping the sender (inside `send`) ends the peer's loop.
        self.send = Box::new(|_| false);
        if let Some(p) = self.peer.take() {
            let _ = p.join();
        }
    }
}

/// The `latch` floor: this thread posts a word to a peer thread that spins on it, then waits
/// for the answer on a mutex and condvar, which the peer sets and signals. That is how a
/// thread outside a rayon pool waits for `install` (rayon's `LockLatch`), with nothing of
/// rayon's around it: the least such a hand-off costs. The caller sleeps only if the answer
/// has not come by the time it holds the mutex. No payload travels.
pub(crate) struct LatchPeer {
    shared: Arc<Latch>,
    posted: u64,
    peer: Option<thread::JoinHandle<()>>,
}

/// What the two threads of a [`LatchPeer`] share.
struct Latch {
    /// The caller's request count; [`STOP`] ends the peer.
    request: CachePadded<AtomicU64>,
    /// Set by the peer when it has answered, cleared by the caller.
    answered: Mutex<bool>,
    signal: Condvar,
}

/// The request word that tells the peer to return.
const STOP: u64 = u64::MAX;

impl Latch {
    /// Locks the flag; no code that holds it can panic, so a poisoned lock is still sound.
    fn flag(&self) -> MutexGuard<'_, bool> {
        self.answered.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl LatchPeer {
    pub(crate) fn start() -> io::Result<Self> {
        let shared = Arc::new(Latch {
            request: CachePadded::new(AtomicU64::new(0)),
            answered: Mutex::new(false),
            signal: Condvar::new(),
        });
        let theirs = Arc::clone(&shared);
        let peer = thread::Builder::new()
            .name("concur-latch-echo".into())
            .spawn(move || {
                let mut seen = 0;
                loop {
                    let request = theirs.request.load(Ordering::Acquire);
                    if request == seen {
                        std::hint::spin_loop();
                        continue;
                    }
                    if request == STOP {
                        return;
                    }
                    seen = request;
                    *theirs.flag() = true;
                    theirs.signal.notify_one();
                }
            })?;
        Ok(LatchPeer {
            shared,
            posted: 0,
            peer: Some(peer),
        })
    }
}

impl RoundTrip for LatchPeer {
    fn round_trip(&mut self, _payload: &[u8]) -> io::Result<()> {
        self.posted += 1;
        self.shared.request.store(self.posted, Ordering::Release);
        let mut answered = self.shared.flag();
        while !*answered {
            answered = self
                .shared
                .signal
                .wait(answered)
                .unwrap_or_else(|e| e.into_inner());
        }
        *answered = false;
        Ok(())
    }
}

impl Drop for LatchPeer {
    fn drop(&mut self) {
        self.shared.request.store(STOP, Ordering::Release);
        if let Some(p) = self.peer.take() {
            let _ = p.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latch_answers_every_request_and_stops() {
        let mut latch = LatchPeer::start().unwrap();
        for _ in 0..10_000 {
            latch.round_trip(&[]).unwrap();
        }
        let shared = Arc::clone(&latch.shared);
        drop(latch); // Joins the peer: only this handle is left.
        assert_eq!(Arc::strong_count(&shared), 1);
        assert!(!*shared.flag(), "every answer was taken");
    }
}
