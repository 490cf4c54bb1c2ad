//! One scheduler for every pool: worker slots, dispatch, fail-fast, replacement of dead
//! workers, retiring and reaping. How bytes reach a worker and come back is a [`Transport`]
//! (ipc-channel, or shared-memory rings); the rules of the pool are written once, here.

use std::path::{Path, PathBuf};

/// Descriptors a pool holds per worker at most: its channel's ends (ipc-channel sockets, or
/// shared-memory segments and a socket), the child's pidfd and pipes.
pub(crate) const FDS_PER_WORKER: usize = 8;
use std::process::{Child, ExitStatus};
use std::thread;
use std::time::{Duration, Instant};

use crate::{Error, Results, TaskFailure, TaskResult, describe_status};

/// How workers are started.
#[derive(Clone, Debug)]
pub struct Config {
    /// The executable that hosts workers. `None`: this program (which must have called
    /// [`crate::init`]).
    pub program: Option<PathBuf>,
    /// How long a new worker may take to connect before it is killed.
    pub start_timeout: Duration,
    /// How long a worker may take to exit after its task channel closes before it is killed.
    pub exit_grace: Duration,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            program: None,
            start_timeout: Duration::from_secs(10),
            exit_grace: Duration::from_secs(2),
        }
    }
}

impl Config {
    /// The executable to start: [`Config::program`], or this program if it called `init`.
    pub(crate) fn resolve_program(&self) -> Result<PathBuf, Error> {
        match &self.program {
            Some(p) => Ok(p.clone()),
            None if crate::is_initialised() => Ok(std::env::current_exe()?),
            None => Err(Error::NotInitialised),
        }
    }
}

/// One running worker and its transport's ends of the channel to it.
pub(crate) struct Slot<L> {
    /// The worker process; `None` for a worker in this thread ([`crate::InThreadPool`]).
    pub(crate) child: Option<Child>,
    /// The worker's process id (this process's, for a worker in this thread).
    pub(crate) pid: u32,
    /// The task it is running.
    pub(crate) busy: Option<usize>,
    pub(crate) link: L,
}

/// What a transport saw a worker do.
pub(crate) enum Event {
    /// It answered its task: the output, or the handler's error message.
    Reply(Result<Vec<u8>, String>),
    /// It sent something that is not a valid reply.
    Garbage(String),
    /// Its channel closed: it died (or is dying).
    Closed,
}

/// How tasks reach worker processes and replies come back.
pub(crate) trait Transport {
    /// A live worker's ends of the channel.
    type Link;
    /// What a batch hands every worker besides its tasks (the shared-memory region).
    type Shared<'a>: Copy;
    /// Whether workers are processes of a program (checked against the process limits, and
    /// the program resolved, before any starts); `false` for workers in this thread.
    const PROCESSES: bool = true;

    /// Starts a worker process of `program` and waits (bounded by `cfg.start_timeout`) until
    /// it is connected. On error nothing of it is left: the process is killed and reaped.
    /// `None` for the process: a worker in this thread.
    fn start(&mut self, program: &Path, cfg: &Config)
    -> Result<(Option<Child>, Self::Link), Error>;

    /// The largest task this transport carries, if it has a limit.
    fn task_limit(&self) -> Option<usize> {
        None
    }

    /// Sends a task. `Err`: the worker cannot be reached (it is dying); the scheduler kills
    /// it, and the crash is reported as its channel closes.
    fn send(
        &mut self,
        link: &mut Self::Link,
        task: &[u8],
        shared: Self::Shared<'_>,
    ) -> Result<(), ()>;

    /// Waits until at least one busy worker has something to say (or a short while, when a
    /// transport must look for dead workers itself) and pushes `(slot, event)` pairs. Events
    /// of workers no longer in `slots` are dropped.
    fn wait(
        &mut self,
        slots: &mut [Option<Slot<Self::Link>>],
        events: &mut Vec<(usize, Event)>,
    ) -> Result<(), Error>;
}

/// Whether a slot's worker serves many tasks or one.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Mode {
    /// Workers stay warm across tasks and batches; a dead one is replaced at once.
    Pool,
    /// A fresh worker per task, retired after it.
    PerTask,
}

/// Worker slots driven over a transport.
pub(crate) struct Scheduler<T: Transport> {
    cfg: Config,
    program: PathBuf,
    mode: Mode,
    transport: T,
    slots: Vec<Option<Slot<T::Link>>>,
    /// When the last batch started (`None` before the first): see [`LIVENESS_AFTER_IDLE`].
    last_batch_start: Option<Instant>,
}

/// How long after the previous batch started a batch checks that its idle workers are
/// still alive ([`Scheduler::replace_dead_idle_workers`]: a `waitpid` per worker, 0.4 µs
/// each on the 2-vCPU VM, a third of an empty task through `shm-pool`). Measured from the
/// start, one clock read a batch (25 ns here), so a pool idle this long is always checked,
/// and one whose previous batch ran this long is checked too, at the cost of the waits. A
/// worker killed in a shorter gap between two batches is found dead during the next one
/// instead, and the task it was given is reported as crashed with it — as when it dies
/// between the check and the dispatch, or during the task.
const LIVENESS_AFTER_IDLE: Duration = Duration::from_millis(1);

impl<T: Transport> Scheduler<T> {
    /// `slots` worker slots; in [`Mode::Pool`] every worker starts now (on error the ones
    /// started are reaped).
    pub(crate) fn new(slots: usize, mode: Mode, cfg: Config, transport: T) -> Result<Self, Error> {
        if slots == 0 {
            return Err(Error::NoWorkers);
        }
        let program = if T::PROCESSES {
            concur_limits::processes(slots, FDS_PER_WORKER)?;
            cfg.resolve_program()?
        } else {
            PathBuf::new()
        };
        let mut s = Scheduler {
            cfg,
            program,
            mode,
            transport,
            slots: (0..slots).map(|_| None).collect(),
            last_batch_start: None,
        };
        if mode == Mode::Pool {
            for slot in 0..slots {
                s.start(slot)?; // On error, Drop reaps the ones started.
            }
        }
        Ok(s)
    }

    /// Number of worker slots.
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// The live workers' process ids.
    pub(crate) fn pids(&self) -> Vec<u32> {
        self.slots.iter().flatten().map(|w| w.pid).collect()
    }

    fn start(&mut self, slot: usize) -> Result<(), Error> {
        let (child, link) = self.transport.start(&self.program, &self.cfg)?;
        self.slots[slot] = Some(Slot {
            pid: child.as_ref().map_or_else(std::process::id, Child::id),
            child,
            busy: None,
            link,
        });
        Ok(())
    }

    /// Closes a worker's channel and reaps it (`None`: no worker, or one in this thread).
    fn retire(&mut self, slot: usize) -> Option<ExitStatus> {
        let Slot { child, link, .. } = self.slots[slot].take()?;
        drop(link); // The worker sees end-of-file and exits.
        Some(reap(&mut child?, self.cfg.exit_grace))
    }

    /// Kills a worker (it broke the protocol, or its batch failed) and reaps it.
    fn kill(&mut self, slot: usize) {
        if let Some(w) = self.slots[slot].as_mut() {
            if let Some(child) = w.child.as_mut() {
                let _ = child.kill();
            }
            self.retire(slot);
        }
    }

    /// Runs every task; results in task order.
    pub(crate) fn run_all(
        &mut self,
        tasks: &[Vec<u8>],
        shared: T::Shared<'_>,
    ) -> Result<Results, Error> {
        Ok(self
            .run(tasks, shared, false)?
            .into_iter()
            .map(|r| r.expect("without fail_fast every task runs"))
            .collect())
    }

    /// Every task's output in task order, or the first failure seen (as
    /// [`Error::Task`]); later tasks are not started, the ones in flight finish.
    pub(crate) fn try_run(
        &mut self,
        tasks: &[Vec<u8>],
        shared: T::Shared<'_>,
    ) -> Result<Vec<Vec<u8>>, Error> {
        let mut outputs = Vec::with_capacity(tasks.len());
        let mut first_failure = None;
        for r in self.run(tasks, shared, true)? {
            match r {
                Some(Ok(bytes)) => outputs.push(bytes),
                Some(Err(f)) => {
                    first_failure.get_or_insert(f);
                }
                None => {}
            }
        }
        match first_failure {
            Some(f) => Err(Error::Task(f)),
            None => Ok(outputs),
        }
    }

    /// Runs a batch; with `fail_fast`, the first failure stops dispatching, the tasks in
    /// flight finish (so the workers are idle and reusable), and the rest stay `None`.
    ///
    /// When the batch fails (a replacement worker cannot start, the transport fails), the
    /// workers still running its tasks are killed before returning, so none of their
    /// replies can be taken for the next batch's.
    fn run(
        &mut self,
        tasks: &[Vec<u8>],
        shared: T::Shared<'_>,
        fail_fast: bool,
    ) -> Result<Vec<Option<TaskResult>>, Error> {
        let outcome = self.run_batch(tasks, shared, fail_fast);
        if outcome.is_err() {
            for slot in 0..self.slots.len() {
                if self.slots[slot].as_ref().is_some_and(|w| w.busy.is_some()) {
                    self.kill(slot);
                }
            }
        }
        outcome
    }

    fn run_batch(
        &mut self,
        tasks: &[Vec<u8>],
        shared: T::Shared<'_>,
        fail_fast: bool,
    ) -> Result<Vec<Option<TaskResult>>, Error> {
        let now = Instant::now();
        let since = self.last_batch_start.replace(now);
        if since.is_none_or(|start| now.duration_since(start) >= LIVENESS_AFTER_IDLE) {
            self.replace_dead_idle_workers()?;
        }
        let n = tasks.len();
        let mut results: Vec<Option<TaskResult>> = (0..n).map(|_| None).collect();
        let (mut next, mut stopped) = (0, false);
        let mut events = Vec::new();
        loop {
            // Give every idle slot a task, starting a worker where the slot is empty.
            for slot in 0..self.slots.len() {
                while next < n && !stopped {
                    if self.slots[slot].is_none() {
                        self.start(slot)?;
                    }
                    let idle = self.slots[slot].as_ref().is_some_and(|w| w.busy.is_none());
                    if !idle {
                        break;
                    }
                    match self.check_size(next, &tasks[next]) {
                        Ok(()) => self.dispatch(slot, next, &tasks[next], shared),
                        Err(failure) => {
                            // Never sent: a failure of this task alone.
                            stopped |= fail_fast;
                            results[next] = Some(Err(failure));
                        }
                    }
                    next += 1;
                }
            }
            if self.slots.iter().flatten().all(|w| w.busy.is_none()) {
                break; // All done, or stopped and drained.
            }
            events.clear();
            self.transport.wait(&mut self.slots, &mut events)?;
            for (slot, event) in events.drain(..) {
                let Some(w) = self.slots[slot].as_mut() else {
                    continue; // Retired while handling an earlier event.
                };
                let (pid, busy) = (w.pid, w.busy.take());
                let Some(task) = busy else {
                    // A reply nobody asked for, or an idle worker that died: retire it
                    // (a pool replaces it below, or when next needed).
                    self.retire(slot);
                    self.replace(slot)?;
                    continue;
                };
                let result = match event {
                    Event::Reply(Ok(bytes)) => Ok(bytes),
                    Event::Reply(Err(message)) => Err(TaskFailure::Handler { task, message }),
                    Event::Garbage(detail) => {
                        self.kill(slot); // Cannot be trusted with another task.
                        Err(TaskFailure::Protocol { task, pid, detail })
                    }
                    Event::Closed => {
                        let status = self.retire(slot).map_or_else(String::new, describe_status);
                        Err(TaskFailure::Crashed { task, pid, status })
                    }
                };
                stopped |= fail_fast && result.is_err();
                results[task] = Some(result);
                if self.mode == Mode::PerTask {
                    self.retire(slot);
                }
                self.replace(slot)?;
            }
        }
        Ok(results)
    }

    /// A pool keeps its workers warm: start one in `slot` if it is empty.
    fn replace(&mut self, slot: usize) -> Result<(), Error> {
        if self.mode == Mode::Pool && self.slots[slot].is_none() {
            self.start(slot)?;
        }
        Ok(())
    }

    fn check_size(&self, task: usize, payload: &[u8]) -> Result<(), TaskFailure> {
        match self.transport.task_limit() {
            Some(limit) if payload.len() > limit => Err(TaskFailure::TooLarge {
                task,
                len: payload.len(),
                limit,
            }),
            _ => Ok(()),
        }
    }

    fn dispatch(&mut self, slot: usize, task: usize, payload: &[u8], shared: T::Shared<'_>) {
        let w = self.slots[slot].as_mut().expect("dispatch to a live slot");
        w.busy = Some(task);
        if self.transport.send(&mut w.link, payload, shared).is_err() {
            // The worker is dying or dead: make sure it is, so its channel closes and the
            // crash is reported like any other.
            if let Some(child) = w.child.as_mut() {
                let _ = child.kill();
            }
        }
    }

    /// Replaces workers that died while idle, so a new batch never lands on a dead worker.
    fn replace_dead_idle_workers(&mut self) -> Result<(), Error> {
        for slot in 0..self.slots.len() {
            let dead = self.slots[slot]
                .as_mut()
                .and_then(|w| w.child.as_mut())
                .is_some_and(|child| !matches!(child.try_wait(), Ok(None)));
            if dead {
                self.retire(slot);
                self.replace(slot)?;
            }
        }
        Ok(())
    }
}

impl<T: Transport> Drop for Scheduler<T> {
    fn drop(&mut self) {
        // Close every channel first, so all workers exit in parallel, then reap them.
        let mut children: Vec<Child> = self
            .slots
            .iter_mut()
            .filter_map(Option::take)
            .filter_map(|w| {
                drop(w.link);
                w.child
            })
            .collect();
        for child in &mut children {
            reap(child, self.cfg.exit_grace);
        }
    }
}

/// Kills `child` and reaps it.
pub(crate) fn kill_and_reap(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits up to `grace` for `child` to exit, then kills it; always reaps it.
pub(crate) fn reap(child: &mut Child, grace: Duration) -> ExitStatus {
    if let Some(status) = wait_exit(child, grace) {
        return status;
    }
    let _ = child.kill();
    // After SIGKILL the wait is bounded by the kernel tearing the process down.
    child
        .wait()
        .unwrap_or_else(|_| std::os::unix::process::ExitStatusExt::from_raw(9))
}

/// Waits up to `grace` for `child` to exit and reaps it; `None` if it is still running
/// then. Sleeps on the child's pidfd, which wakes the moment it exits (a worker's exit is
/// part of what the `spawn` probe times: polling with growing pauses overshot it by up
/// to the last pause); polls `try_wait` with growing pauses where there is no pidfd (Linux
/// before 5.3).
fn wait_exit(child: &mut Child, grace: Duration) -> Option<ExitStatus> {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    let deadline = Instant::now() + grace;
    // The child is not reaped before the loop below does it, so its pid names it alone.
    let pidfd = rustix::process::Pid::from_raw(child.id() as i32).and_then(|pid| {
        rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()).ok()
    });
    let mut pause = Duration::from_micros(20);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Some(status),
            Ok(None) => {}
            Err(_) => return None,
        }
        let left = deadline
            .checked_duration_since(Instant::now())
            .filter(|left| !left.is_zero())?;
        match &pidfd {
            Some(fd) => {
                let timeout = Timespec {
                    tv_sec: left.as_secs() as _,
                    tv_nsec: left.subsec_nanos() as _,
                };
                // Readable once the process exited; an interrupted or failed poll just
                // goes round again (try_wait decides).
                let _ = poll(&mut [PollFd::new(fd, PollFlags::IN)], Some(&timeout));
            }
            None => {
                thread::sleep(pause.min(left));
                pause = (pause * 2).min(Duration::from_millis(5));
            }
        }
    }
}
