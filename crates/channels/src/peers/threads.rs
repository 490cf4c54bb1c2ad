//! Channels between two threads (or a thread and a tokio task): crossbeam, std, tokio; and
//! the `latch` floor.

use std::io;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
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

/// How many times an idle rayon worker yields before it sleeps: rayon-core 1.13's
/// `sleep` module yields for `ROUNDS_UNTIL_SLEEPY` (32) rounds, one more once it has
/// announced itself sleepy, and sleeps on its condvar at the next.
pub(crate) const RAYON_IDLE_YIELDS: u32 = 33;

/// The `latch` floor: the hand-off a caller outside a rayon pool makes in `install`, with
/// nothing of rayon's around it. This thread posts a word and waits for the answer on a
/// mutex and condvar (rayon's `LockLatch`); the peer idles as a rayon worker does — it
/// yields [`RAYON_IDLE_YIELDS`] times looking for work, then sleeps on its own mutex and
/// condvar until a post wakes it — and answers by setting the latch and signalling it with
/// the lock held (as `LockLatch::set` does). No payload travels. Back-to-back round trips
/// pay the wake-ups this policy causes and no more: the least such a hand-off costs.
pub(crate) struct LatchPeer {
    shared: Arc<Latch>,
    posted: u64,
    peer: Option<thread::JoinHandle<()>>,
}

/// What the two threads of a [`LatchPeer`] share.
struct Latch {
    /// The caller's request count; [`STOP`] ends the peer.
    request: CachePadded<AtomicU64>,
    /// Set (SeqCst) by the peer, holding `idle`'s lock, just before it sleeps.
    sleeping: CachePadded<AtomicBool>,
    /// The peer sleeps on `wake` holding this lock, as a rayon worker on its `is_blocked`.
    idle: Mutex<()>,
    wake: Condvar,
    /// Set by the peer when it has answered, cleared by the caller.
    answered: Mutex<bool>,
    signal: Condvar,
}

/// The request word that tells the peer to return.
const STOP: u64 = u64::MAX;

/// Locks `m`; no code that holds these locks can panic, so a poisoned lock is still sound.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl Latch {
    /// The peer's wait for a request other than `seen`: yields, then sleeps.
    ///
    /// No post is missed: the peer stores `sleeping` then loads `request`, the caller stores
    /// `request` then loads `sleeping`, all SeqCst, so at least one sees the other's store.
    /// If the peer sees the post it does not sleep; if the caller sees `sleeping` it takes
    /// `idle`'s lock, which the peer holds from before its store until `wait` releases it,
    /// so the notification comes after the peer waits.
    fn next_request(&self, seen: u64) -> u64 {
        for _ in 0..RAYON_IDLE_YIELDS {
            let request = self.request.load(Ordering::Acquire);
            if request != seen {
                return request;
            }
            thread::yield_now();
        }
        let mut idle = lock(&self.idle);
        self.sleeping.store(true, Ordering::SeqCst);
        let mut request = self.request.load(Ordering::SeqCst);
        while request == seen {
            idle = self.wake.wait(idle).unwrap_or_else(|e| e.into_inner());
            request = self.request.load(Ordering::SeqCst);
        }
        self.sleeping.store(false, Ordering::Relaxed);
        request
    }

    /// The caller's post: the request, and a wake-up if the peer sleeps.
    fn post(&self, request: u64) {
        self.request.store(request, Ordering::SeqCst);
        if self.sleeping.load(Ordering::SeqCst) {
            let _idle = lock(&self.idle);
            self.wake.notify_one();
        }
    }
}

impl LatchPeer {
    pub(crate) fn start() -> io::Result<Self> {
        let shared = Arc::new(Latch {
            request: CachePadded::new(AtomicU64::new(0)),
            sleeping: CachePadded::new(AtomicBool::new(false)),
            idle: Mutex::new(()),
            wake: Condvar::new(),
            answered: Mutex::new(false),
            signal: Condvar::new(),
        });
        let theirs = Arc::clone(&shared);
        let peer = thread::Builder::new()
            .name("concur-latch-echo".into())
            .spawn(move || {
                let mut seen = 0;
                loop {
                    seen = theirs.next_request(seen);
                    if seen == STOP {
                        return;
                    }
                    // As rayon's `LockLatch::set`: signalled with the lock held, so
                    // the woken caller may wait once more, for the lock.
                    let mut answered = lock(&theirs.answered);
                    *answered = true;
                    theirs.signal.notify_all();
                    drop(answered);
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
        self.shared.post(self.posted);
        let mut answered = lock(&self.shared.answered);
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
        self.shared.post(STOP);
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
        assert!(!*lock(&shared.answered), "every answer was taken");
    }

    /// Waits (at most 10 s) until the latch's peer has gone to sleep.
    fn until_asleep(latch: &LatchPeer) {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !latch.shared.sleeping.load(Ordering::SeqCst) {
            assert!(std::time::Instant::now() < deadline, "the peer never slept");
            thread::sleep(std::time::Duration::from_millis(1));
        }
    }

    #[test]
    fn a_sleeping_peer_is_woken_by_a_post_and_by_the_stop() {
        let mut latch = LatchPeer::start().unwrap();
        for _ in 0..3 {
            until_asleep(&latch);
            latch.round_trip(&[]).unwrap();
        }
        until_asleep(&latch);
        drop(latch); // Would hang if the stop did not wake the peer.
    }
}
