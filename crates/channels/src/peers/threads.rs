//! Channels between two threads (or a thread and a tokio task): crossbeam, std, tokio.

use std::io;
use std::thread;

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
