//! The public pools: each is the one [`Scheduler`] over a transport.

use concur_shm::Region;

use crate::Error;
use crate::child::Handler;
use crate::in_thread::InThread;
use crate::ipc::IpcTransport;
use crate::scheduler::{Config, Mode, Scheduler};
use crate::shm::{ShmTransport, region_id};

/// One task's output bytes, or why it has none.
pub type TaskResult = Result<Vec<u8>, crate::TaskFailure>;

/// A result per task, in task order.
pub type Results = Vec<TaskResult>;

/// K pre-spawned worker processes fed over ipc-channel, like `multiprocessing.Pool`.
///
/// Each worker runs one task at a time; the parent drives all of them from the calling
/// thread with one `select` over their reply channels, so there are no helper threads and a
/// task costs one round trip. A worker that dies mid-task turns that task into
/// [`crate::TaskFailure::Crashed`] and is replaced at once.
///
/// When one task fails, the others of the batch still run ([`ProcessPool::run`]) or the
/// batch stops starting new ones and lets the running ones finish
/// ([`ProcessPool::try_run`]); no task is ever cancelled midway.
pub struct ProcessPool {
    workers: Scheduler<IpcTransport>,
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
            workers: Scheduler::new(workers, Mode::Pool, cfg, IpcTransport::new()?)?,
        })
    }

    /// Number of worker processes.
    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    /// The workers' process ids.
    pub fn pids(&self) -> Vec<u32> {
        self.workers.pids()
    }

    /// Runs every task; results come back in task order, a failed task (its handler's
    /// error, a crashed worker) as its own `Err`. `Err` for the batch only when the pool
    /// itself failed (a replacement worker could not start): the workers still running its
    /// tasks are then killed, so the next batch gets only its own results.
    pub fn run(&mut self, tasks: &[Vec<u8>]) -> Result<Results, Error> {
        self.workers.run_all(tasks, ())
    }

    /// Runs the tasks until one fails: then no further task starts, the ones in flight
    /// finish, and the failure is returned as [`Error::Task`] (the pool stays usable).
    /// Outputs are in task order.
    pub fn try_run(&mut self, tasks: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, Error> {
        self.workers.try_run(tasks, ())
    }

    /// Starts one worker process, closes its channel and reaps it: the cost the `spawn`
    /// probe measures.
    pub fn spawn_join_one(cfg: &Config) -> Result<(), Error> {
        ProcessPool::with_config(1, cfg.clone()).map(drop)
    }
}

/// A fresh worker process per task, like `multiprocessing.Process`, at most K alive.
///
/// Failures are handled as in [`ProcessPool`]: `run` runs every task, `try_run` starts no
/// process after the first failure and lets the running ones finish.
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
        concur_limits::processes(max_alive, crate::scheduler::FDS_PER_WORKER)?;
        cfg.resolve_program()?;
        Ok(ProcessPerTask { max_alive, cfg })
    }

    /// The cap on live processes.
    pub fn max_alive(&self) -> usize {
        self.max_alive
    }

    /// Starts a process per task, each exiting after its task; results in task order.
    pub fn run(&self, tasks: &[Vec<u8>]) -> Result<Results, Error> {
        self.workers(tasks)?.run_all(tasks, ())
    }

    /// Like [`ProcessPool::try_run`]: stops starting processes at the first failure.
    pub fn try_run(&self, tasks: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, Error> {
        self.workers(tasks)?.try_run(tasks, ())
    }

    fn workers(&self, tasks: &[Vec<u8>]) -> Result<Scheduler<IpcTransport>, Error> {
        let slots = self.max_alive.min(tasks.len()).max(1);
        Scheduler::new(slots, Mode::PerTask, self.cfg.clone(), IpcTransport::new()?)
    }
}

/// K pre-spawned worker processes fed through shared memory: per worker, a task ring and a
/// reply ring ([`concur_shm::ring`]), and one [`concur_shm::Doorbell`] on which the parent
/// sleeps until any worker has replied. A batch may come with a [`Region`]: each worker maps
/// it once (its descriptor travels over a Unix socket) and every task reads it in place, so
/// K workers hold one copy of a large input, not K.
///
/// Lifecycle and failures as [`ProcessPool`] (the same scheduler drives both): a worker
/// that dies mid-task becomes [`crate::TaskFailure::Crashed`] naming its pid and signal,
/// and is replaced; dropping the pool closes the rings and reaps every worker; workers die
/// with their parent. A task larger than its ring ([`crate::RING_CAPACITY`]) is
/// [`crate::TaskFailure::TooLarge`]. The segments are memfds: nothing is left in
/// `/dev/shm`, whatever happens.
pub struct ShmPool {
    workers: Scheduler<ShmTransport>,
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
        Ok(ShmPool {
            workers: Scheduler::new(workers, Mode::Pool, cfg, ShmTransport::new()?)?,
        })
    }

    /// Number of worker processes.
    pub fn workers(&self) -> usize {
        self.workers.len()
    }

    /// The workers' process ids.
    pub fn pids(&self) -> Vec<u32> {
        self.workers.pids()
    }

    /// Runs every task, the handler seeing `shared` (mapped by each worker once) as its
    /// second argument; results in task order, as [`ProcessPool::run`].
    pub fn run(&mut self, tasks: &[Vec<u8>], shared: Option<&Region>) -> Result<Results, Error> {
        let shared = Self::identify(shared)?;
        self.workers.run_all(tasks, shared)
    }

    /// Runs the tasks until one fails, as [`ProcessPool::try_run`].
    pub fn try_run(
        &mut self,
        tasks: &[Vec<u8>],
        shared: Option<&Region>,
    ) -> Result<Vec<Vec<u8>>, Error> {
        let shared = Self::identify(shared)?;
        self.workers.try_run(tasks, shared)
    }

    /// Starts one worker, closes its rings and reaps it: the cost the `spawn` probe measures.
    pub fn spawn_join_one(cfg: &Config) -> Result<(), Error> {
        ShmPool::with_config(1, cfg.clone()).map(drop)
    }

    fn identify(shared: Option<&Region>) -> Result<Option<(&Region, u64)>, Error> {
        shared.map(|r| Ok((r, region_id(r)?))).transpose()
    }
}

/// The pools' scheduler and a worker's handler with no worker process and no channel: a
/// task is handed to `handler` in the calling thread as it is dispatched, and its reply
/// taken back as a pool takes a worker's. What a pool does to a task besides carrying it
/// (concur times it beside a pool's task and its transport, as `pool-work`), and a way to
/// run a handler under the pool's rules in a test or a debugger.
///
/// One worker; tasks run one after another. A handler's `Err` is that task's
/// [`crate::TaskFailure::Handler`], as in a pool; a panic unwinds into the caller (there is
/// no process to crash).
pub struct InThreadPool {
    workers: Scheduler<InThread>,
}

impl std::fmt::Debug for InThreadPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InThreadPool").finish_non_exhaustive()
    }
}

impl InThreadPool {
    /// A pool whose one worker is the calling thread, running `handler`.
    pub fn new(handler: Handler) -> Result<Self, Error> {
        Ok(InThreadPool {
            workers: Scheduler::new(1, Mode::Pool, Config::default(), InThread::new(handler))?,
        })
    }

    /// Runs every task; results in task order, as [`ProcessPool::run`].
    pub fn run(&mut self, tasks: &[Vec<u8>]) -> Result<Results, Error> {
        self.workers.run_all(tasks, ())
    }

    /// Runs the tasks until one fails, as [`ProcessPool::try_run`].
    pub fn try_run(&mut self, tasks: &[Vec<u8>]) -> Result<Vec<Vec<u8>>, Error> {
        self.workers.try_run(tasks, ())
    }
}
