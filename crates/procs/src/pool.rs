//! The parent side: starting workers, feeding them tasks, noticing when they die.

use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::RecvTimeoutError;
use ipc_channel::TrySelectError;
use ipc_channel::ipc::{
    IpcBytesSender, IpcOneShotServer, IpcReceiverSet, IpcSelectionResult, IpcSender,
};

use crate::worker::{Hello, PARENT_ENV, Reply, WORKER_ENV};
use crate::{Error, TaskFailure, describe_status};

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
    pub(crate) fn program(&self) -> Result<PathBuf, Error> {
        match &self.program {
            Some(p) => Ok(p.clone()),
            None if crate::is_initialised() => Ok(std::env::current_exe()?),
            None => Err(Error::NotInitialised),
        }
    }
}

/// One running worker process.
struct Worker {
    child: Child,
    pid: u32,
    tasks: IpcBytesSender,
    /// Its reply channel's id in the pool's receiver set.
    id: u64,
    /// The task it is running.
    busy: Option<usize>,
}

/// One task's output bytes, or why it has none.
pub type TaskResult = Result<Vec<u8>, TaskFailure>;

/// A result per task, in task order.
pub type Results = Vec<TaskResult>;

/// One-shot servers waiting for a worker to connect. Each is a socket in a temporary
/// directory that ipc-channel removes when the handshake ends; if the process is interrupted
/// mid-handshake it would stay behind, so [`remove_pending_handshakes`] can remove it.
static PENDING: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Removes the sockets (and their temporary directories) of handshakes still in flight. For
/// a signal handler that is about to exit the process (`concur` calls it on Ctrl-C): the
/// workers themselves die with their parent (`PR_SET_PDEATHSIG`).
pub fn remove_pending_handshakes() {
    let pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
    for name in pending.iter() {
        let socket = std::path::Path::new(name);
        let _ = std::fs::remove_file(socket);
        if let Some(dir) = socket.parent() {
            let _ = std::fs::remove_dir(dir); // Only if empty: never more than ours.
        }
    }
}

/// Registers a pending handshake for as long as the guard lives.
struct PendingHandshake(String);

impl PendingHandshake {
    fn new(name: &str) -> Self {
        PENDING
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(name.to_owned());
        PendingHandshake(name.to_owned())
    }
}

impl Drop for PendingHandshake {
    fn drop(&mut self) {
        let mut pending = PENDING.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(i) = pending.iter().position(|n| *n == self.0) {
            pending.swap_remove(i);
        }
    }
}

/// Starts a worker and waits (bounded) for it to connect.
fn start_worker(
    program: &PathBuf,
    cfg: &Config,
    set: &mut IpcReceiverSet,
) -> Result<Worker, Error> {
    let (server, name) = IpcOneShotServer::<Hello>::new()?;
    let _pending = PendingHandshake::new(&name);
    let mut child = Command::new(program)
        .env(WORKER_ENV, &name)
        .env(PARENT_ENV, std::process::id().to_string())
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| Error::Start(format!("{}: {e}", program.display())))?;
    let pid = child.id();
    let (tx, rx) = crossbeam_channel::bounded(1);
    let acceptor = thread::Builder::new()
        .name("concur-procs-accept".into())
        .spawn(move || {
            let _ = tx.send(server.accept().map(|(_, hello)| hello));
        });
    let acceptor = match acceptor {
        Ok(a) => a,
        Err(e) => {
            kill_and_reap(&mut child);
            return Err(e.into());
        }
    };
    let deadline = Instant::now() + cfg.start_timeout;
    let outcome = loop {
        match rx.recv_timeout(Duration::from_millis(20)) {
            Ok(Ok(hello)) => break Ok(hello),
            Ok(Err(e)) => break Err(format!("worker {pid} failed the handshake: {e:?}")),
            Err(RecvTimeoutError::Timeout) => {
                if let Ok(Some(status)) = child.try_wait() {
                    break Err(format!(
                        "worker {pid} {} before connecting (does {} call concur_procs::init first thing in main?)",
                        describe_status(status),
                        program.display()
                    ));
                }
                if Instant::now() >= deadline {
                    break Err(format!(
                        "worker {pid} did not connect within {:?} (does {} call concur_procs::init first thing in main?)",
                        cfg.start_timeout,
                        program.display()
                    ));
                }
            }
            Err(RecvTimeoutError::Disconnected) => break Err("the acceptor thread died".into()),
        }
    };
    match outcome {
        Ok(hello) if hello.pid == pid => {
            let _ = acceptor.join();
            let id = match set.add(hello.replies) {
                Ok(id) => id,
                Err(e) => {
                    kill_and_reap(&mut child);
                    return Err(e.into());
                }
            };
            Ok(Worker {
                child,
                pid,
                tasks: hello.tasks,
                id,
                busy: None,
            })
        }
        Ok(hello) => {
            let _ = acceptor.join();
            kill_and_reap(&mut child);
            Err(Error::Start(format!(
                "worker {pid} introduced itself as pid {}",
                hello.pid
            )))
        }
        Err(message) => {
            // Unblock `accept` (it has no timeout) with a connection that closes at once.
            drop(IpcSender::<Hello>::connect(name));
            kill_and_reap(&mut child);
            let _ = acceptor.join();
            Err(Error::Start(message))
        }
    }
}

pub(crate) fn kill_and_reap(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Waits up to `grace` for `child` to exit, then kills it; always reaps it.
pub(crate) fn reap(child: &mut Child, grace: Duration) -> ExitStatus {
    let deadline = Instant::now() + grace;
    let mut pause = Duration::from_micros(20);
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return status,
            Ok(None) if Instant::now() < deadline => {
                thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(5));
            }
            _ => {
                let _ = child.kill();
                // After SIGKILL the wait is bounded by the kernel tearing the process down.
                return child
                    .wait()
                    .unwrap_or_else(|_| std::os::unix::process::ExitStatusExt::from_raw(9));
            }
        }
    }
}

/// Whether a slot's worker serves many tasks or one.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    Pool,
    PerTask,
}

/// Worker slots plus the receiver set that watches all their reply channels.
struct Workers {
    cfg: Config,
    program: PathBuf,
    mode: Mode,
    slots: Vec<Option<Worker>>,
    set: IpcReceiverSet,
}

impl Workers {
    fn new(slots: usize, mode: Mode, cfg: Config) -> Result<Self, Error> {
        if slots == 0 {
            return Err(Error::NoWorkers);
        }
        let program = cfg.program()?;
        let mut w = Workers {
            cfg,
            program,
            mode,
            slots: (0..slots).map(|_| None).collect(),
            set: IpcReceiverSet::new()?,
        };
        if mode == Mode::Pool {
            for i in 0..slots {
                w.slots[i] = Some(w.start()?); // On error, Drop reaps the ones started.
            }
        }
        Ok(w)
    }

    fn start(&mut self) -> Result<Worker, Error> {
        start_worker(&self.program, &self.cfg, &mut self.set)
    }

    fn slot_of(&self, id: u64) -> Option<usize> {
        self.slots
            .iter()
            .position(|s| s.as_ref().is_some_and(|w| w.id == id))
    }

    /// Closes a worker's task channel and reaps it.
    fn retire(&mut self, slot: usize) -> Option<ExitStatus> {
        let mut w = self.slots[slot].take()?;
        drop(w.tasks);
        Some(reap(&mut w.child, self.cfg.exit_grace))
    }

    fn dispatch(&mut self, slot: usize, task: usize, payload: &[u8]) {
        let w = self.slots[slot].as_mut().expect("dispatch to a live slot");
        w.busy = Some(task);
        if w.tasks.send(payload).is_err() {
            // The worker is dying or dead: make sure it is, so its reply channel closes and
            // the crash is reported through the receiver set like any other.
            let _ = w.child.kill();
        }
    }

    /// Replaces workers that died while idle (their reply channels closed since last time),
    /// so a new batch never lands on a dead worker.
    fn replace_dead_idle_workers(&mut self) -> Result<(), Error> {
        let events = match self.set.try_select() {
            Ok(events) => events,
            Err(TrySelectError::Empty) => return Ok(()),
            Err(TrySelectError::IoError(e)) => return Err(Error::Io(e)),
        };
        for event in events {
            let id = match event {
                IpcSelectionResult::MessageReceived(id, _)
                | IpcSelectionResult::ChannelClosed(id) => id,
            };
            if let Some(slot) = self.slot_of(id) {
                self.retire(slot);
                if self.mode == Mode::Pool {
                    self.slots[slot] = Some(self.start()?);
                }
            }
        }
        Ok(())
    }

    /// Runs the tasks; with `fail_fast`, the first failure stops dispatching, the tasks in
    /// flight finish (so the workers are idle and reusable), and the rest stay `None`. When
    /// the batch fails, the workers still running its tasks are killed, so none of their
    /// replies is taken for the next batch's.
    fn run(
        &mut self,
        tasks: &[Vec<u8>],
        fail_fast: bool,
    ) -> Result<Vec<Option<TaskResult>>, Error> {
        let outcome = self.run_batch(tasks, fail_fast);
        if outcome.is_err() {
            for slot in 0..self.slots.len() {
                if let Some(w) = self.slots[slot].as_mut().filter(|w| w.busy.is_some()) {
                    let _ = w.child.kill();
                    self.retire(slot);
                }
            }
        }
        outcome
    }

    fn run_batch(
        &mut self,
        tasks: &[Vec<u8>],
        fail_fast: bool,
    ) -> Result<Vec<Option<TaskResult>>, Error> {
        self.replace_dead_idle_workers()?;
        let n = tasks.len();
        let mut results: Vec<Option<TaskResult>> = (0..n).map(|_| None).collect();
        let mut next = 0;
        let mut stopped = false;
        loop {
            // Give every idle slot a task, starting a worker where the slot is empty.
            for slot in 0..self.slots.len() {
                if next == n || stopped {
                    break;
                }
                if self.slots[slot].is_none() {
                    self.slots[slot] = Some(self.start()?);
                }
                if self.slots[slot].as_ref().is_some_and(|w| w.busy.is_none()) {
                    self.dispatch(slot, next, &tasks[next]);
                    next += 1;
                }
            }
            if self.slots.iter().flatten().all(|w| w.busy.is_none()) {
                break; // All done, or stopped and drained.
            }
            for event in self.set.select()? {
                let (id, message) = match event {
                    IpcSelectionResult::MessageReceived(id, m) => (id, Some(m)),
                    IpcSelectionResult::ChannelClosed(id) => (id, None),
                };
                // Events of retired workers are stale: ignore them.
                let Some(slot) = self.slot_of(id) else {
                    continue;
                };
                let w = self.slots[slot].as_mut().expect("slot_of found it");
                let (pid, task) = (w.pid, w.busy.take());
                let outcome = match (message, task) {
                    (Some(m), Some(task)) => match m.to::<Reply>() {
                        Ok(Reply::Done(bytes)) => Some((task, Ok(bytes), false)),
                        Ok(Reply::Failed(message)) => {
                            Some((task, Err(TaskFailure::Handler { task, message }), false))
                        }
                        Err(e) => Some((
                            task,
                            Err(TaskFailure::Protocol {
                                task,
                                pid,
                                detail: format!("undecodable reply: {e}"),
                            }),
                            true,
                        )),
                    },
                    (None, Some(task)) => {
                        let status = self.retire(slot).map_or_else(String::new, describe_status);
                        Some((task, Err(TaskFailure::Crashed { task, pid, status }), false))
                    }
                    (Some(_), None) => {
                        // A reply nobody asked for: this worker cannot be trusted.
                        self.retire(slot);
                        None
                    }
                    (None, None) => {
                        // An idle worker died: just replace it (below, or on demand).
                        self.retire(slot);
                        None
                    }
                };
                if let Some((task, result, distrust)) = outcome {
                    stopped |= fail_fast && result.is_err();
                    results[task] = Some(result);
                    if distrust || self.mode == Mode::PerTask {
                        self.retire(slot);
                    }
                }
                // A pool keeps K workers warm: replace any that ended.
                if self.mode == Mode::Pool && self.slots[slot].is_none() {
                    self.slots[slot] = Some(self.start()?);
                }
            }
        }
        Ok(results)
    }

    /// Every task's result.
    fn run_all(&mut self, tasks: &[Vec<u8>]) -> Result<Results, Error> {
        Ok(self
            .run(tasks, false)?
            .into_iter()
            .map(|r| r.expect("without fail_fast every task runs"))
            .collect())
    }

    /// Every task's output, or the first failure seen (later tasks are not started).
    fn try_run(&mut self, tasks: &[Vec<u8>]) -> Result<Result<Vec<Vec<u8>>, TaskFailure>, Error> {
        let results = self.run(tasks, true)?;
        let mut outputs = Vec::with_capacity(results.len());
        let mut first_failure = None;
        for r in results {
            match r {
                Some(Ok(bytes)) => outputs.push(bytes),
                Some(Err(f)) => {
                    first_failure.get_or_insert(f);
                }
                None => {}
            }
        }
        Ok(match first_failure {
            Some(f) => Err(f),
            None => Ok(outputs),
        })
    }

    fn pids(&self) -> Vec<u32> {
        self.slots.iter().flatten().map(|w| w.pid).collect()
    }
}

impl Drop for Workers {
    fn drop(&mut self) {
        // Close every task channel first, so all workers exit in parallel, then reap them.
        let mut children: Vec<Child> = self
            .slots
            .iter_mut()
            .filter_map(Option::take)
            .map(|w| {
                drop(w.tasks);
                w.child
            })
            .collect();
        for child in &mut children {
            reap(child, self.cfg.exit_grace);
        }
    }
}

/// K pre-spawned worker processes fed over ipc-channel, like `multiprocessing.Pool`.
///
/// Each worker runs one task at a time; the parent drives all of them from the calling
/// thread with one `select` over their reply channels, so there are no helper threads and a
/// task costs one round trip. A worker that dies mid-task turns that task into
/// [`TaskFailure::Crashed`] and is replaced at once.
pub struct ProcessPool {
    workers: Workers,
}

impl std::fmt::Debug for ProcessPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProcessPool")
            .field("pids", &self.pids())
            .finish()
    }
}

impl ProcessPool {
    /// Starts `workers` worker processes of this program (which must have called
    /// [`crate::init`]).
    pub fn new(workers: usize) -> Result<Self, Error> {
        Self::with_config(workers, Config::default())
    }

    /// Starts `workers` worker processes as `cfg` says.
    pub fn with_config(workers: usize, cfg: Config) -> Result<Self, Error> {
        Ok(ProcessPool {
            workers: Workers::new(workers, Mode::Pool, cfg)?,
        })
    }

    /// Number of worker processes.
    pub fn workers(&self) -> usize {
        self.workers.slots.len()
    }

    /// The workers' process ids.
    pub fn pids(&self) -> Vec<u32> {
        self.workers.pids()
    }

    /// Runs every task; results come back in task order. `Err` only when the pool itself
    /// failed (a replacement worker could not start); a crashed worker is a failed task.
    /// After an `Err`, the workers still running its tasks are killed, so the next batch
    /// gets only its own results.
    pub fn run(&mut self, tasks: &[Vec<u8>]) -> Result<Results, Error> {
        self.workers.run_all(tasks)
    }

    /// Runs the tasks until one fails: then no further task starts, the ones in flight
    /// finish, and the failure is returned (the pool stays usable). Outputs are in task order.
    pub fn try_run(
        &mut self,
        tasks: &[Vec<u8>],
    ) -> Result<Result<Vec<Vec<u8>>, TaskFailure>, Error> {
        self.workers.try_run(tasks)
    }

    /// Starts one worker process, closes its channel and reaps it: the cost the `spawn`
    /// probe measures.
    pub fn spawn_join_one(cfg: &Config) -> Result<(), Error> {
        ProcessPool::with_config(1, cfg.clone()).map(drop)
    }
}

/// A fresh worker process per task, like `multiprocessing.Process`, at most K alive.
#[derive(Clone, Debug)]
pub struct ProcessPerTask {
    max_alive: usize,
    cfg: Config,
}

impl ProcessPerTask {
    /// At most `max_alive` task processes at a time.
    pub fn new(max_alive: usize, cfg: Config) -> Result<Self, Error> {
        if max_alive == 0 {
            return Err(Error::NoWorkers);
        }
        cfg.program()?;
        Ok(ProcessPerTask { max_alive, cfg })
    }

    /// The cap on live processes.
    pub fn max_alive(&self) -> usize {
        self.max_alive
    }

    /// Starts a process per task, each exiting after its task; results in task order.
    pub fn run(&self, tasks: &[Vec<u8>]) -> Result<Results, Error> {
        self.workers(tasks)?.run_all(tasks)
    }

    /// Like [`ProcessPool::try_run`]: stops starting processes at the first failure.
    pub fn try_run(&self, tasks: &[Vec<u8>]) -> Result<Result<Vec<Vec<u8>>, TaskFailure>, Error> {
        self.workers(tasks)?.try_run(tasks)
    }

    fn workers(&self, tasks: &[Vec<u8>]) -> Result<Workers, Error> {
        let slots = self.max_alive.min(tasks.len()).max(1);
        Workers::new(slots, Mode::PerTask, self.cfg.clone())
    }
}
