//! The shared-memory transport of [`crate::ShmPool`]: per worker a task ring and a reply
//! ring ([`concur_shm::ring`]) plus a `SOCK_SEQPACKET` socket for descriptors, and one
//! [`Doorbell`] on which the parent sleeps until any worker has replied. The parent's side is
//! [`ShmTransport`]; the worker's side is [`serve`].
//!
//! A worker's stdin is the socket: its first message carries the task ring, the reply ring
//! and the parent's doorbell ([`HELLO_TAG`]); later ones carry regions.

use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use concur_shm::{Doorbell, Region, Segment, Wait, fdpass, pid_gone, ring};

use crate::child::{PARENT_ENV, SHM_WORKER_ENV, die_with_parent, exit_code, init_hint};
use crate::scheduler::{Config, Event, Slot, Transport, kill_and_reap, reap};
use crate::{Error, Handler, describe_status};

/// Bytes of each task ring and each reply ring: a task or a reply must fit in one (large
/// inputs belong in the shared region, which has no such limit).
pub const RING_CAPACITY: usize = 1 << 20;

/// A ring message's framing beyond the ring's own: the message's kind byte.
const FRAMING: usize = 1;

/// The tag of the first descriptor message: protocol name and version.
const HELLO_TAG: &[u8] = b"concur-shm-pool/1";
/// The tag of a message carrying a region.
const REGION_TAG: &[u8] = b"region";

/// Parent to worker, first byte of a ring message.
mod to_worker {
    /// Run the task in the rest of the message.
    pub(super) const TASK: u8 = 1;
    /// A region follows on the socket: map it, drop the previous one.
    pub(super) const MAP: u8 = 2;
    /// Drop the mapped region.
    pub(super) const UNMAP: u8 = 3;
}

/// Worker to parent, first byte of a ring message.
mod to_parent {
    /// Started: the rest is the worker's pid, u32 little-endian.
    pub(super) const HELLO: u8 = 1;
    /// The task's output follows.
    pub(super) const DONE: u8 = 2;
    /// The task failed: a UTF-8 message follows.
    pub(super) const FAILED: u8 = 3;
}

/// A batch's shared input as the scheduler hands it to [`ShmTransport::send`]: the region
/// and its [`region_id`].
pub(crate) type SharedRegion<'a> = Option<(&'a Region, u64)>;

/// The inode of a region's memfd: which region a worker has mapped. A worker keeps its
/// region alive, so no other region can get the same inode meanwhile.
pub(crate) fn region_id(region: &Region) -> Result<u64, Error> {
    let file = std::fs::File::from(region.fd().try_clone_to_owned()?);
    Ok(file.metadata()?.ino())
}

/// The parent's side.
pub(crate) struct ShmTransport {
    bell: Doorbell,
    /// Where replies are read to; reused, so a reply costs no allocation but its output's.
    buf: Vec<u8>,
    /// Where tasks are framed; reused likewise.
    msg: Vec<u8>,
}

/// A worker's rings and socket. Dropping it closes the task ring first: the worker exits.
pub(crate) struct ShmLink {
    tasks: ring::Sender,
    replies: ring::Receiver,
    /// The socket that carries descriptors (regions) to the worker.
    sock: OwnedFd,
    /// The inode of the region the worker has mapped.
    mapped: Option<u64>,
}

impl ShmTransport {
    pub(crate) fn new() -> Result<Self, Error> {
        Ok(ShmTransport {
            bell: Doorbell::create()?,
            buf: Vec::new(),
            msg: Vec::new(),
        })
    }

    /// Sends the worker its rings and the doorbell, then waits (bounded) for its hello.
    fn greet(
        &self,
        program: &Path,
        cfg: &Config,
        child: &mut Child,
        sock: &OwnedFd,
        task_seg: &Arc<Segment>,
        reply_seg: &Arc<Segment>,
    ) -> Result<(ring::Sender, ring::Receiver), Error> {
        let pid = child.id();
        let bell_seg = self
            .bell
            .segment()
            .expect("a pool's doorbell is in a segment");
        let sent = fdpass::send(
            sock,
            HELLO_TAG,
            &[task_seg.fd(), reply_seg.fd(), bell_seg.fd()],
        );
        let mut tasks = ring::Sender::attach(task_seg, Wait::default())?;
        let mut replies = ring::Receiver::attach(reply_seg, Wait::default())?;
        tasks.expect_peer(pid);
        replies.expect_peer(pid);
        let early_exit = |child: &mut Child, why: String| {
            let status = reap(child, cfg.exit_grace);
            Error::Start(format!(
                "worker {pid} {} before starting{why} {}",
                describe_status(status),
                init_hint(program)
            ))
        };
        if let Err(e) = sent {
            return Err(early_exit(
                child,
                format!(" (its rings could not be sent: {e})"),
            ));
        }
        let deadline = Instant::now() + cfg.start_timeout;
        let waited = self.bell.wait_until(
            Wait::default(),
            || replies.pending(),
            || {
                if pid_gone(pid) {
                    Some(String::new())
                } else if Instant::now() >= deadline {
                    Some(format!(
                        "worker {pid} did not start within {:?} {}",
                        cfg.start_timeout,
                        init_hint(program)
                    ))
                } else {
                    None
                }
            },
        );
        match waited {
            Ok(()) => {}
            Err(concur_shm::Error::PeerGone(why)) if why.is_empty() => {
                return Err(early_exit(child, String::new()));
            }
            Err(concur_shm::Error::PeerGone(why)) => return Err(Error::Start(why)),
            Err(e) => return Err(e.into()),
        }
        let mut hello = Vec::new();
        replies.recv(&mut hello)?;
        match hello.split_first() {
            Some((&to_parent::HELLO, p)) if p == pid.to_le_bytes() => Ok((tasks, replies)),
            _ => Err(Error::Start(format!(
                "worker {pid} greeted with {} unexpected bytes",
                hello.len()
            ))),
        }
    }

    /// Pushes the replies waiting in busy workers' rings.
    fn collect(&mut self, slots: &mut [Option<Slot<ShmLink>>], events: &mut Vec<(usize, Event)>) {
        for (slot, w) in slots.iter_mut().enumerate() {
            let Some(w) = w.as_mut().filter(|w| w.busy.is_some()) else {
                continue;
            };
            let event = match w.link.replies.try_recv(&mut self.buf) {
                Ok(false) => continue,
                Ok(true) => match self.buf.split_first() {
                    Some((&to_parent::DONE, out)) => Event::Reply(Ok(out.to_vec())),
                    Some((&to_parent::FAILED, message)) => {
                        Event::Reply(Err(String::from_utf8_lossy(message).into_owned()))
                    }
                    _ => Event::Garbage(format!("unexpected reply of {} bytes", self.buf.len())),
                },
                Err(e) => Event::Garbage(e.to_string()),
            };
            events.push((slot, event));
        }
    }
}

impl Transport for ShmTransport {
    type Link = ShmLink;
    type Shared<'a> = SharedRegion<'a>;

    fn start(&mut self, program: &Path, cfg: &Config) -> Result<(Option<Child>, ShmLink), Error> {
        let task_seg = ring::create(RING_CAPACITY)?;
        let reply_seg = ring::create(RING_CAPACITY)?;
        let (sock, theirs) = fdpass::pair()?;
        let mut child = Command::new(program)
            .env(SHM_WORKER_ENV, "1")
            .env(PARENT_ENV, std::process::id().to_string())
            .stdin(Stdio::from(theirs))
            .spawn()
            .map_err(|e| Error::Start(format!("{}: {e}", program.display())))?;
        match self.greet(program, cfg, &mut child, &sock, &task_seg, &reply_seg) {
            Ok((tasks, replies)) => Ok((
                Some(child),
                ShmLink {
                    tasks,
                    replies,
                    sock,
                    mapped: None,
                },
            )),
            Err(e) => {
                kill_and_reap(&mut child);
                Err(e)
            }
        }
    }

    fn task_limit(&self) -> Option<usize> {
        Some(concur_shm::ring::max_message(RING_CAPACITY) - FRAMING)
    }

    /// Maps `shared` in the worker first if it has a different region (or unmaps one it no
    /// longer needs), then sends the task.
    fn send(&mut self, w: &mut ShmLink, task: &[u8], shared: SharedRegion<'_>) -> Result<(), ()> {
        let wanted = shared.map(|(_, id)| id);
        let sent = (|| -> concur_shm::Result<()> {
            if w.mapped != wanted {
                match shared {
                    Some((region, id)) => {
                        // The descriptor first: the worker reads it right after `MAP`.
                        fdpass::send(&w.sock, REGION_TAG, &[region.fd()])?;
                        w.tasks.send(&[to_worker::MAP])?;
                        w.mapped = Some(id);
                    }
                    None => {
                        w.tasks.send(&[to_worker::UNMAP])?;
                        w.mapped = None;
                    }
                }
            }
            self.msg.clear();
            self.msg.push(to_worker::TASK);
            self.msg.extend_from_slice(task);
            w.tasks.send(&self.msg)
        })();
        sent.map_err(drop)
    }

    /// Replies already in a ring are taken at once; otherwise the parent sleeps on the
    /// doorbell until a busy worker rings, waking every 50 ms to look for dead workers (a
    /// reply published just before dying still counts).
    fn wait(
        &mut self,
        slots: &mut [Option<Slot<ShmLink>>],
        events: &mut Vec<(usize, Event)>,
    ) -> Result<(), Error> {
        self.collect(slots, events);
        if !events.is_empty() {
            return Ok(());
        }
        let waited = self.bell.wait_until(
            Wait::default(),
            || {
                Ok(slots
                    .iter()
                    .filter_map(busy)
                    .any(|w| w.link.replies.pending().unwrap_or(true)))
            },
            || {
                slots
                    .iter()
                    .filter_map(busy)
                    .any(|w| pid_gone(w.pid))
                    .then(String::new)
            },
        );
        match waited {
            Ok(()) | Err(concur_shm::Error::PeerGone(_)) => {}
            Err(e) => return Err(e.into()),
        }
        self.collect(slots, events);
        for (slot, w) in slots.iter().enumerate() {
            let Some(w) = busy(w) else { continue };
            let answered = events.iter().any(|&(s, _)| s == slot);
            if !answered && pid_gone(w.pid) && !w.link.replies.pending().unwrap_or(true) {
                events.push((slot, Event::Closed));
            }
        }
        Ok(())
    }
}

/// The slot's worker, if it is running a task.
fn busy(w: &Option<Slot<ShmLink>>) -> Option<&Slot<ShmLink>> {
    w.as_ref().filter(|w| w.busy.is_some())
}

/// The worker's side: serves tasks until the parent closes the task ring; returns the exit
/// code.
pub(crate) fn serve(handler: Handler) -> i32 {
    if !die_with_parent() {
        return exit_code::ORPHANED;
    }
    let Ok(sock) = std::io::stdin().as_fd().try_clone_to_owned() else {
        return exit_code::NO_CHANNEL;
    };
    match serve_on(&sock, handler) {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("concur shm worker {}: {e}", std::process::id());
            exit_code::PROTOCOL
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
