//! The `tcp-relay` floor: loopback TCP with the threads a two-process `cluster` puts around
//! it. A timely worker never touches its sockets: it hands a message to a send thread, which
//! writes it, and a receive thread, blocked in `read`, hands what arrives back to the
//! worker. And a caller of concur-cluster never touches the worker: it hands its job to
//! process 0's worker thread and waits for the result to be handed back. A unit through a
//! two-process `cluster` crosses both; this floor is those threads alone, one 8-byte word
//! each way with nothing of timely's or concur's around it, so the cluster is read against
//! the mechanism it rides on (as `rayon-task` is read against `latch`, a caller outside the
//! pool included).
//!
//! Each side has a *worker* (here: a thread the measuring thread hands each word to; in the
//! echo child: its main thread), which waits for a word as concur-cluster's workers do
//! (polling, yielding the CPU, for [`POLL_FOR`], then blocking), and a send thread and a
//! receive thread, which block as timely's do. The measuring thread waits for the answer
//! as concur-cluster's caller does: polling for [`POLL_FOR`], then blocking.

use std::io::{self, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::os::fd::OwnedFd;
use std::process::{Child, Stdio};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvError, Sender, TryRecvError};

use crate::child::echo_child;
use crate::{Channel, RoundTrip};

/// How long a worker polls for its next word before it blocks: concur-cluster's default
/// `Options::poll_for`.
pub(crate) const POLL_FOR: Duration = Duration::from_micros(200);

/// The next message on `rx`: polled for [`POLL_FOR`], yielding the CPU between looks, then
/// waited for. `None`: every sender is gone.
fn poll_recv<T>(rx: &Receiver<T>) -> Option<T> {
    let start = Instant::now();
    while start.elapsed() < POLL_FOR {
        match rx.try_recv() {
            Ok(message) => return Some(message),
            Err(TryRecvError::Empty) => thread::yield_now(),
            Err(TryRecvError::Disconnected) => return None,
        }
    }
    rx.recv().map_err(|RecvError| ()).ok()
}

/// A connection's two relay threads, and the worker's ends of them.
struct Relay {
    /// Words for the send thread to write (`None` once closing).
    outbox: Option<Sender<[u8; 8]>>,
    /// Words the receive thread read.
    inbox: Receiver<[u8; 8]>,
    threads: [Option<JoinHandle<()>>; 2],
}

impl Relay {
    /// Starts the send and receive threads of `sock`.
    fn start(sock: TcpStream) -> io::Result<Relay> {
        sock.set_nodelay(true)?;
        let (outbox, to_write) = crossbeam_channel::unbounded::<[u8; 8]>();
        let (read_tx, inbox) = crossbeam_channel::unbounded::<[u8; 8]>();
        let mut writer = sock.try_clone()?;
        let mut reader = sock;
        let send = thread::Builder::new()
            .name("relay-send".into())
            .spawn(move || {
                for word in to_write {
                    if writer.write_all(&word).is_err() {
                        break;
                    }
                }
                // The worker closed its outbox: the peer's receive thread sees end-of-file.
                let _ = writer.shutdown(Shutdown::Write);
            })?;
        let recv = thread::Builder::new()
            .name("relay-recv".into())
            .spawn(move || {
                let mut word = [0u8; 8];
                // Ends at end-of-file or an error, closing the worker's inbox.
                while reader.read_exact(&mut word).is_ok() {
                    if read_tx.send(word).is_err() {
                        break;
                    }
                }
            })?;
        Ok(Relay {
            outbox: Some(outbox),
            inbox,
            threads: [Some(send), Some(recv)],
        })
    }

    /// Hands `word` to the send thread.
    fn send(&self, word: [u8; 8]) -> io::Result<()> {
        self.outbox
            .as_ref()
            .expect("open until closed")
            .send(word)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "the send thread ended"))
    }

    /// The next word the receive thread read ([`poll_recv`]). `None`: the connection ended.
    fn recv(&self) -> Option<[u8; 8]> {
        poll_recv(&self.inbox)
    }

    /// Closes the outbox (the send thread shuts the connection's write side) and joins
    /// both threads once the peer has closed its side.
    fn close(&mut self) {
        drop(self.outbox.take());
        for t in self.threads.iter_mut().filter_map(Option::take) {
            let _ = t.join();
        }
    }
}

impl Drop for Relay {
    fn drop(&mut self) {
        self.close();
    }
}

/// This process's end of `tcp-relay`: a worker thread with a relay to an echo child (which
/// has a relay of its own), and the caller's ends of the worker's two channels.
pub(crate) struct RelayPeer {
    /// Words for the worker to send (`None` once closing).
    to_worker: Option<Sender<[u8; 8]>>,
    /// The worker's answers: the word back, or `None` once the connection ended.
    from_worker: Receiver<Option<[u8; 8]>>,
    worker: Option<JoinHandle<()>>,
    child: Child,
    last: u64,
}

impl RelayPeer {
    /// Connects over loopback TCP, starts the echo child with its end as stdin and the
    /// worker thread with ours.
    pub(crate) fn start() -> io::Result<RelayPeer> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let theirs = TcpStream::connect(listener.local_addr()?)?;
        let (ours, _) = listener.accept()?;
        theirs.set_nodelay(true)?;
        let mut child = echo_child(
            Channel::TcpRelay.name(),
            Stdio::from(OwnedFd::from(theirs)),
            Stdio::null(),
        )?;
        let (to_worker, words) = crossbeam_channel::unbounded();
        let (answers, from_worker) = crossbeam_channel::unbounded();
        let worker = Relay::start(ours).and_then(|relay| {
            thread::Builder::new()
                .name("relay-worker".into())
                .spawn(move || serve_caller(relay, &words, &answers))
        });
        match worker {
            Ok(worker) => Ok(RelayPeer {
                to_worker: Some(to_worker),
                from_worker,
                worker: Some(worker),
                child,
                last: 0,
            }),
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                Err(e)
            }
        }
    }
}

/// The worker's loop: each word the caller hands over goes through the relay, and its
/// answer (or `None`, the connection ended) goes back; it ends when the caller closes its
/// channel or the connection ends, and dropping the relay closes our side of it.
fn serve_caller(relay: Relay, words: &Receiver<[u8; 8]>, answers: &Sender<Option<[u8; 8]>>) {
    while let Some(word) = poll_recv(words) {
        let answer = relay.send(word).ok().and_then(|()| relay.recv());
        if answers.send(answer).is_err() || answer.is_none() {
            break;
        }
    }
}

impl RoundTrip for RelayPeer {
    /// Hands the next word to the worker and waits for it back (a floor carries one word;
    /// the payload is not sent).
    fn round_trip(&mut self, _payload: &[u8]) -> io::Result<()> {
        self.last = self.last.wrapping_add(1);
        let ended = || {
            io::Error::new(
                io::ErrorKind::BrokenPipe,
                "the tcp-relay echo child closed the connection",
            )
        };
        let handed = self.to_worker.as_ref().expect("open until dropped");
        if handed.send(self.last.to_le_bytes()).is_err() {
            return Err(ended());
        }
        match poll_recv(&self.from_worker).flatten() {
            Some(word) if u64::from_le_bytes(word) == self.last => Ok(()),
            Some(word) => Err(io::Error::other(format!(
                "tcp-relay peer answered {}, expected {}",
                u64::from_le_bytes(word),
                self.last
            ))),
            None => Err(ended()),
        }
    }
}

impl Drop for RelayPeer {
    fn drop(&mut self) {
        // The worker sees its channel closed and drops the relay: our write side shuts
        // down, the child's relay sees end-of-file, its worker ends and closes its side,
        // which ends our receive thread and lets the worker's drop join it.
        drop(self.to_worker.take());
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
        let _ = self.child.wait();
    }
}

/// The echo child's side: answers every word with itself through a relay of its own, until
/// the parent closes the connection (`sock`).
pub(crate) fn serve_relay_echo(sock: TcpStream) -> io::Result<()> {
    let mut relay = Relay::start(sock)?;
    while let Some(word) = relay.recv() {
        if relay.send(word).is_err() {
            break;
        }
    }
    relay.close();
    Ok(())
}
