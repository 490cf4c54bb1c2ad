//! [`ShmPool`]: K worker processes fed through shared-memory rings, large inputs mapped once.

use std::os::fd::OwnedFd;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::Instant;

use concur_shm::{Doorbell, Region, Wait, fdpass, pid_gone, ring};

use crate::pool::{kill_and_reap, reap};
use crate::shm_worker::{HELLO_TAG, REGION_TAG, SHM_WORKER_ENV, to_parent, to_worker};
use crate::worker::PARENT_ENV;
use crate::{Config, Error, Results, TaskFailure, TaskResult, describe_status};

/// Bytes of each task ring and each reply ring: a task or a reply must fit in one (large
/// inputs belong in the shared region, which has no such limit).
pub const RING_CAPACITY: usize = 1 << 20;

/// One running shm worker.
struct ShmWorker {
    child: Child,
    pid: u32,
    tasks: ring::Sender,
    replies: ring::Receiver,
    /// The socket that carries descriptors (regions) to the worker.
    sock: OwnedFd,
    /// The inode of the region the worker has mapped.
    mapped: Option<u64>,
    /// The task it is running.
    busy: Option<usize>,
}

/// The inode of a region's memfd: which region a worker has mapped. A worker keeps its
/// region alive, so no other region can get the same inode meanwhile.
fn region_id(region: &Region) -> Result<u64, Error> {
    let file = std::fs::File::from(region.fd().try_clone_to_owned()?);
    Ok(file.metadata()?.ino())
}

/// K pre-spawned worker processes fed through shared memory: per worker, a task ring and a
/// reply ring ([`concur_shm::ring`]), and one [`Doorbell`] on which the parent sleeps until
/// any worker has replied. A batch may come with a [`Region`]: each worker maps it once
/// (its descriptor travels over a Unix socket) and every task reads it in place, so K
/// workers hold one copy of a large input, not K.
///
/// Lifecycle as [`crate::ProcessPool`]: a worker that dies mid-task becomes
/// [`TaskFailure::Crashed`] naming its pid and signal, and is replaced; dropping the pool
/// closes the rings and reaps every worker; workers die with their parent. The segments are
/// memfds: nothing is left in `/dev/shm`, whatever happens.
pub struct ShmPool {
    cfg: Config,
    program: PathBuf,
    bell: Doorbell,
    slots: Vec<Option<ShmWorker>>,
}

impl std::fmt::Debug for ShmPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ShmPool")
            .field("pids", &self.pids())
            .finish()
    }
}

impl ShmPool {
    /// Starts `workers` worker processes of this program (which must have called
    /// [`crate::init`]).
    pub fn new(workers: usize) -> Result<Self, Error> {
        Self::with_config(workers, Config::default())
    }

    /// Starts `workers` worker processes as `cfg` says.
    pub fn with_config(workers: usize, cfg: Config) -> Result<Self, Error> {
        if workers == 0 {
            return Err(Error::NoWorkers);
        }
        let program = cfg.program()?;
        let mut pool = ShmPool {
            cfg,
            program,
            bell: Doorbell::create()?,
            slots: (0..workers).map(|_| None).collect(),
        };
        for slot in 0..workers {
            pool.slots[slot] = Some(pool.start()?); // On error, Drop reaps the ones started.
        }
        Ok(pool)
    }

    /// Number of worker processes.
    pub fn workers(&self) -> usize {
        self.slots.len()
    }

    /// The workers' process ids.
    pub fn pids(&self) -> Vec<u32> {
        self.slots.iter().flatten().map(|w| w.pid).collect()
    }

    /// Runs every task, the handler seeing `shared` (mapped by each worker once) as its
    /// second argument; results in task order. A task larger than its ring is
    /// [`TaskFailure::TooLarge`], the others still run. `Err` only when the pool itself
    /// failed (a replacement worker could not start); the workers still running its tasks
    /// are then killed, so the next batch gets only its own results.
    pub fn run(&mut self, tasks: &[Vec<u8>], shared: Option<&Region>) -> Result<Results, Error> {
        Ok(self
            .run_inner(tasks, shared, false)?
            .into_iter()
            .map(|r| r.expect("without fail_fast every task runs"))
            .collect())
    }

    /// Runs the tasks until one fails, like [`crate::ProcessPool::try_run`].
    pub fn try_run(
        &mut self,
        tasks: &[Vec<u8>],
        shared: Option<&Region>,
    ) -> Result<Result<Vec<Vec<u8>>, TaskFailure>, Error> {
        let mut outputs = Vec::with_capacity(tasks.len());
        for r in self.run_inner(tasks, shared, true)? {
            match r {
                Some(Ok(bytes)) => outputs.push(bytes),
                Some(Err(f)) => return Ok(Err(f)),
                None => {}
            }
        }
        Ok(Ok(outputs))
    }

    /// Starts one worker, closes its rings and reaps it: the cost the `spawn` probe measures.
    pub fn spawn_join_one(cfg: &Config) -> Result<(), Error> {
        ShmPool::with_config(1, cfg.clone()).map(drop)
    }

    /// Starts a worker: its rings, its socket, the process, the greeting; then waits
    /// (bounded) for its hello.
    fn start(&self) -> Result<ShmWorker, Error> {
        let task_seg = ring::create(RING_CAPACITY)?;
        let reply_seg = ring::create(RING_CAPACITY)?;
        let (sock, theirs) = fdpass::pair()?;
        let mut child = Command::new(&self.program)
            .env(SHM_WORKER_ENV, "1")
            .env(PARENT_ENV, std::process::id().to_string())
            .stdin(Stdio::from(theirs))
            .spawn()
            .map_err(|e| Error::Start(format!("{}: {e}", self.program.display())))?;
        let pid = child.id();
        match self.greet(&mut child, &sock, &task_seg, &reply_seg) {
            Ok((tasks, replies)) => Ok(ShmWorker {
                child,
                pid,
                tasks,
                replies,
                sock,
                mapped: None,
                busy: None,
            }),
            Err(e) => {
                kill_and_reap(&mut child);
                Err(e)
            }
        }
    }

    fn greet(
        &self,
        child: &mut Child,
        sock: &OwnedFd,
        task_seg: &Arc<concur_shm::Segment>,
        reply_seg: &Arc<concur_shm::Segment>,
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
        let tasks = ring::Sender::attach(task_seg, Wait::default())?;
        let mut replies = ring::Receiver::attach(reply_seg, Wait::default())?;
        let hint = || {
            format!(
                "(does {} call concur_procs::init first thing in main?)",
                self.program.display()
            )
        };
        if let Err(e) = sent {
            let status = reap(child, self.cfg.exit_grace);
            return Err(Error::Start(format!(
                "worker {pid} {} before starting (its rings could not be sent: {e}) {}",
                describe_status(status),
                hint()
            )));
        }
        let deadline = Instant::now() + self.cfg.start_timeout;
        let waited = self.bell.wait_until(
            Wait::default(),
            || replies.pending(),
            || {
                if pid_gone(pid) {
                    Some(String::new())
                } else if Instant::now() >= deadline {
                    Some(format!(
                        "worker {pid} did not start within {:?} {}",
                        self.cfg.start_timeout,
                        hint()
                    ))
                } else {
                    None
                }
            },
        );
        match waited {
            Ok(()) => {}
            Err(concur_shm::Error::PeerGone(why)) if why.is_empty() => {
                let status = reap(child, self.cfg.exit_grace);
                return Err(Error::Start(format!(
                    "worker {pid} {} before starting {}",
                    describe_status(status),
                    hint()
                )));
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

    /// Closes a worker's rings and socket and reaps it.
    fn retire(&mut self, slot: usize) -> Option<ExitStatus> {
        let w = self.slots[slot].take()?;
        let ShmWorker {
            mut child,
            tasks,
            sock,
            ..
        } = w;
        drop(tasks); // The worker sees the ring closed and exits.
        drop(sock);
        Some(reap(&mut child, self.cfg.exit_grace))
    }

    /// Kills a worker (it broke the protocol, or cannot be reached) and reaps it.
    fn kill(&mut self, slot: usize) -> Option<ExitStatus> {
        let w = self.slots[slot].as_mut()?;
        let _ = w.child.kill();
        self.retire(slot)
    }

    /// Replaces workers that died while idle, so a batch never lands on a dead worker.
    fn replace_dead_idle_workers(&mut self) -> Result<(), Error> {
        for slot in 0..self.slots.len() {
            let dead = match self.slots[slot].as_mut() {
                Some(w) => !matches!(w.child.try_wait(), Ok(None)),
                None => true,
            };
            if dead {
                self.retire(slot);
                self.slots[slot] = Some(self.start()?);
            }
        }
        Ok(())
    }

    /// Sends task `task` to the worker in `slot`, mapping `shared` there first if it has a
    /// different region (or unmapping one it no longer needs). The task fits its ring
    /// ([`fits_ring`]).
    fn dispatch(
        &mut self,
        slot: usize,
        task: usize,
        payload: &[u8],
        shared: Option<(&Region, u64)>,
        msg: &mut Vec<u8>,
    ) {
        let w = self.slots[slot].as_mut().expect("dispatch to a live slot");
        w.busy = Some(task);
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
            msg.clear();
            msg.push(to_worker::TASK);
            msg.extend_from_slice(payload);
            w.tasks.send(msg)
        })();
        if sent.is_err() {
            // The worker is dying or dead: make sure, so the wait below reports the crash.
            let _ = w.child.kill();
        }
    }

    /// Kills and reaps the workers still running a task: after a batch failed, their
    /// replies must not be taken for the next batch's.
    fn discard_in_flight(&mut self) {
        for slot in 0..self.slots.len() {
            if self.slots[slot].as_ref().is_some_and(|w| w.busy.is_some()) {
                self.kill(slot);
            }
        }
    }

    /// Turns a reply from the worker in `slot` into the result of its task.
    fn take_reply(&mut self, slot: usize, buf: &mut Vec<u8>) -> Option<(usize, TaskResult)> {
        let w = self.slots[slot].as_mut()?;
        let pid = w.pid;
        let task = w.busy?;
        let reply = match w.replies.try_recv(buf) {
            Ok(false) => return None,
            Ok(true) => match buf.split_first() {
                Some((&to_parent::DONE, out)) => Ok(out.to_vec()),
                Some((&to_parent::FAILED, message)) => Err(TaskFailure::Handler {
                    task,
                    message: String::from_utf8_lossy(message).into_owned(),
                }),
                _ => Err(TaskFailure::Protocol {
                    task,
                    pid,
                    detail: format!("unexpected reply of {} bytes", buf.len()),
                }),
            },
            Err(e) => Err(TaskFailure::Protocol {
                task,
                pid,
                detail: e.to_string(),
            }),
        };
        w.busy = None;
        if matches!(reply, Err(TaskFailure::Protocol { .. })) {
            self.kill(slot); // Cannot be trusted with another task.
        }
        Some((task, reply))
    }

    /// Runs a batch; when it fails, nothing of it stays in flight.
    fn run_inner(
        &mut self,
        tasks: &[Vec<u8>],
        shared: Option<&Region>,
        fail_fast: bool,
    ) -> Result<Vec<Option<TaskResult>>, Error> {
        let outcome = self.run_batch(tasks, shared, fail_fast);
        if outcome.is_err() {
            self.discard_in_flight();
        }
        outcome
    }

    fn run_batch(
        &mut self,
        tasks: &[Vec<u8>],
        shared: Option<&Region>,
        fail_fast: bool,
    ) -> Result<Vec<Option<TaskResult>>, Error> {
        self.replace_dead_idle_workers()?;
        let shared = match shared {
            Some(r) => Some((r, region_id(r)?)),
            None => None,
        };
        let n = tasks.len();
        let mut results: Vec<Option<TaskResult>> = (0..n).map(|_| None).collect();
        let (mut next, mut stopped) = (0, false);
        // Reused across the loop: no allocation per reply on the dispatch path.
        let (mut msg, mut buf, mut busy) = (Vec::new(), Vec::new(), Vec::new());
        loop {
            for slot in 0..self.slots.len() {
                if next == n || stopped {
                    break;
                }
                if self.slots[slot].is_none() {
                    self.slots[slot] = Some(self.start()?);
                }
                while next < n
                    && !stopped
                    && self.slots[slot].as_ref().is_some_and(|w| w.busy.is_none())
                {
                    if let Err(failure) = fits_ring(next, &tasks[next]) {
                        // Never sent: a failure of this task alone.
                        stopped |= fail_fast;
                        results[next] = Some(Err(failure));
                    } else {
                        self.dispatch(slot, next, &tasks[next], shared, &mut msg);
                    }
                    next += 1;
                }
            }
            busy.clear();
            busy.extend(
                (0..self.slots.len())
                    .filter(|&s| self.slots[s].as_ref().is_some_and(|w| w.busy.is_some())),
            );
            if busy.is_empty() {
                break; // All done, or stopped and drained.
            }
            let mut replied = false;
            for &slot in &busy {
                if let Some((task, result)) = self.take_reply(slot, &mut buf) {
                    stopped |= fail_fast && result.is_err();
                    results[task] = Some(result);
                    replied = true;
                }
            }
            if replied {
                continue;
            }
            // Sleep until a worker rings; every 50 ms without one, look for dead workers.
            let slots = &self.slots;
            let waited = self.bell.wait_until(
                Wait::default(),
                || {
                    for &s in &busy {
                        if let Some(w) = &slots[s]
                            && w.replies.pending().unwrap_or(true)
                        {
                            return Ok(true);
                        }
                    }
                    Ok(false)
                },
                || {
                    busy.iter()
                        .any(|&s| slots[s].as_ref().is_some_and(|w| pid_gone(w.pid)))
                        .then(String::new)
                },
            );
            match waited {
                Ok(()) | Err(concur_shm::Error::PeerGone(_)) => {}
                Err(e) => return Err(e.into()),
            }
            for &slot in &busy {
                let Some(w) = self.slots[slot].as_mut() else {
                    continue;
                };
                // A reply published just before dying still counts.
                if !pid_gone(w.pid) || w.replies.pending().unwrap_or(true) {
                    continue;
                }
                let (pid, task) = (w.pid, w.busy.expect("busy"));
                let status = self.retire(slot).map_or_else(String::new, describe_status);
                stopped |= fail_fast;
                results[task] = Some(Err(TaskFailure::Crashed { task, pid, status }));
                self.slots[slot] = Some(self.start()?);
            }
        }
        Ok(results)
    }
}

/// Whether task `task` fits a task ring with its kind byte and the ring's length prefix.
fn fits_ring(task: usize, payload: &[u8]) -> Result<(), TaskFailure> {
    const FRAMING: usize = 1 + 4;
    if payload.len() + FRAMING > RING_CAPACITY {
        return Err(TaskFailure::TooLarge {
            task,
            len: payload.len(),
            limit: RING_CAPACITY - FRAMING,
        });
    }
    Ok(())
}

impl Drop for ShmPool {
    fn drop(&mut self) {
        // Close every ring first, so all workers exit in parallel, then reap them.
        let mut children: Vec<Child> = self
            .slots
            .iter_mut()
            .filter_map(Option::take)
            .map(|w| w.child)
            .collect();
        for child in &mut children {
            reap(child, self.cfg.exit_grace);
        }
    }
}
