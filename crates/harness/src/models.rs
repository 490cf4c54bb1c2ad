//! The concurrency models, by CLI name, behind one small trait.

use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, Instant};

use concur_procs::{Config, ProcessPerTask, ProcessPool, ShmPool, TaskFailure};
use concur_shm::Region;
use concur_tasks::TokioPool;
use concur_threads::{Gil, GilThreads, RayonPool, ThreadPerTask, ThreadPool};
use concur_workloads::{
    Arena, Batch, Cx, Echo, Heap, Hooks, IoDone, IoOp, SharedBytes, TaskError, TaskOutput,
    fetch_error,
};

use crate::idle_probes::{self as idle, IdleProbe};
use crate::worker::{Input, decode_output, encode_task};

/// A concurrency model ready to run batches: its workers (if any) are started.
pub trait Model: Send + Sync {
    /// The CLI name.
    fn name(&self) -> &'static str;
    /// How many tasks may run at once.
    fn workers(&self) -> usize;
    /// Runs every task of `batch`; outputs come back in task order.
    fn run(&self, batch: &Batch, echo: Echo) -> Result<Vec<TaskOutput>, ModelError>;

    /// Runs `batch` `iters` times back to back (quietly), hands each run's outputs to
    /// `check` (untimed), and returns the time the runs took: what a criterion
    /// `iter_custom` loop measures. `tokio` overrides it to time the whole loop inside one
    /// `block_on` (criterion's own async timing is skewed on multi-thread runtimes).
    fn time_runs(
        &self,
        batch: &Batch,
        iters: u64,
        check: &mut dyn FnMut(Vec<TaskOutput>),
    ) -> Result<Duration, ModelError> {
        let mut total = Duration::ZERO;
        for _ in 0..iters {
            let t = Instant::now();
            let outputs = self.run(batch, Echo::Off)?;
            total += t.elapsed();
            check(outputs);
        }
        Ok(total)
    }
}

/// Every model's name as a constant: code that reasons about particular models (the
/// report's verdicts, a bench that picks a pool) names them through these, so a typo is a
/// compile error and a rename happens here only.
pub mod names {
    /// `sequential`.
    pub const SEQUENTIAL: &str = "sequential";
    /// `thread-per-task`.
    pub const THREAD_PER_TASK: &str = "thread-per-task";
    /// `thread-pool`.
    pub const THREAD_POOL: &str = "thread-pool";
    /// `rayon`.
    pub const RAYON: &str = "rayon";
    /// `gil-threads`.
    pub const GIL_THREADS: &str = "gil-threads";
    /// `process-per-task`.
    pub const PROCESS_PER_TASK: &str = "process-per-task";
    /// `process-pool`.
    pub const PROCESS_POOL: &str = "process-pool";
    /// `shm-pool`.
    pub const SHM_POOL: &str = "shm-pool";
    /// `tokio`.
    pub const TOKIO: &str = "tokio";
    /// `cluster`.
    pub const CLUSTER: &str = "cluster";
}

/// Why a model could not complete a batch.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// The threads crate failed: a thread limit, a panic.
    #[error(transparent)]
    Threads(#[from] concur_threads::Error),
    /// A setting in the environment is malformed.
    #[error("{0}")]
    Config(String),
    /// The process models failed: a worker could not start, or the program cannot host
    /// workers (it did not call `init_workers()` first thing in `main`).
    #[error(transparent)]
    Procs(#[from] concur_procs::Error),
    /// A worker process crashed, broke the protocol, or its task failed.
    #[error(transparent)]
    Worker(#[from] TaskFailure),
    /// A cluster process was lost, did not join, or broke the protocol.
    #[error(transparent)]
    Cluster(#[from] concur_cluster::Error),
    /// The tokio runtime could not start, or a task panicked.
    #[error(transparent)]
    Tasks(#[from] concur_tasks::Error),
    /// A unit of work returned an error.
    #[error("task {task} failed: {error}")]
    Task {
        /// Which task.
        task: usize,
        /// What it said.
        error: TaskError,
    },
}

impl ModelError {
    /// Whether a worker process was stopped by SIGINT or SIGTERM: the signal a terminal's
    /// Ctrl-C (or a service manager) sent the whole process group, this process included.
    pub fn interrupted(&self) -> bool {
        let by = |why: &str| why.contains("SIGINT") || why.contains("SIGTERM");
        match self {
            ModelError::Worker(TaskFailure::Crashed { status, .. }) => by(status),
            ModelError::Cluster(concur_cluster::Error::ProcessLost { why, .. }) => by(why),
            _ => false,
        }
    }

    /// Whether the model refused to start because the request is past a limit of this
    /// machine (threads, processes, descriptors, memory maps) or of the model (a cluster's
    /// size): the caller's to change.
    pub fn is_limit(&self) -> bool {
        matches!(
            self,
            ModelError::Threads(concur_threads::Error::Limit(_))
                | ModelError::Procs(concur_procs::Error::Limit(_))
                | ModelError::Tasks(concur_tasks::Error::Limit(_))
                | ModelError::Cluster(
                    concur_cluster::Error::Limit(_) | concur_cluster::Error::Config(_)
                )
        )
    }
}

/// Which family a model belongs to, for grouping in `list` and the report.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// The reference: one task after another on the calling thread.
    Sequential,
    /// OS threads in one process.
    Threads,
    /// Worker processes, tasks and results over ipc-channel or shared memory.
    Processes,
    /// Async tasks on a runtime's few threads.
    Tasks,
}

/// A model's static description and constructor.
#[derive(Debug)]
pub struct ModelSpec {
    /// CLI name.
    pub name: &'static str,
    /// One line saying how it schedules tasks.
    pub summary: &'static str,
    /// Its family.
    pub family: Family,
    /// Whether it starts a worker per task, so `--workers` defaults to the task count (every
    /// task at once) rather than the number of cores.
    pub per_task: bool,
    /// Whether its workers map a workload's large input from shared memory, so the input
    /// should be allocated there ([`ModelSpec::arena`]).
    pub maps_shared_input: bool,
    /// How `concur idle` measures its idle workers, if it can.
    pub idle: Option<IdleProbe>,
    build: fn(usize) -> Result<Box<dyn Model>, ModelError>,
    spawn_join_one: fn() -> Result<(), ModelError>,
}

impl ModelSpec {
    /// Starts the model with `workers` workers (ignored by `sequential`).
    pub fn build(&self, workers: usize) -> Result<Box<dyn Model>, ModelError> {
        (self.build)(workers)
    }

    /// Starts one no-op worker the way this model starts workers, and joins it.
    pub fn spawn_join_one(&self) -> Result<(), ModelError> {
        (self.spawn_join_one)()
    }

    /// Where to allocate a workload's large input for this model: in a shared-memory region
    /// every worker maps ([`ShmArena`]), or on the heap.
    pub fn arena(&self) -> &'static dyn Arena {
        if self.maps_shared_input {
            &ShmArena
        } else {
            &Heap
        }
    }

    /// `--workers` when not given, for a batch of `tasks` tasks.
    pub fn default_workers(&self, tasks: usize) -> usize {
        match (self.family, self.per_task) {
            (Family::Sequential, _) => 1,
            (_, true) => tasks,
            (_, false) => crate::available_cores(),
        }
    }
}

static MODELS: &[ModelSpec] = &[
    ModelSpec {
        name: names::SEQUENTIAL,
        summary: "one task after another on the calling thread (the reference)",
        family: Family::Sequential,
        per_task: false,
        maps_shared_input: false,
        idle: None,
        build: |_| Ok(Box::new(Sequential)),
        spawn_join_one: || {
            std::hint::black_box(|| ())();
            Ok(())
        },
    },
    ModelSpec {
        name: names::THREAD_PER_TASK,
        summary: "a new std::thread per task, at most WORKERS alive (threading.Thread)",
        family: Family::Threads,
        per_task: true,
        maps_shared_input: false,
        idle: Some(IdleProbe {
            measure: idle::parked_threads,
            bench_workers: Some([10, 1_000, 1_000]),
        }),
        build: |k| {
            Ok(Box::new(PerTask {
                inner: ThreadPerTask::with_max_alive(k)?,
                workers: k,
            }))
        },
        spawn_join_one: || Ok(ThreadPerTask::spawn_join_one()?),
    },
    ModelSpec {
        name: names::THREAD_POOL,
        summary: "WORKERS long-lived threads fed through a crossbeam channel (ThreadPoolExecutor)",
        family: Family::Threads,
        per_task: false,
        maps_shared_input: false,
        idle: Some(IdleProbe {
            measure: idle::idle_thread_pool,
            bench_workers: None,
        }),
        build: |k| Ok(Box::new(Pool(ThreadPool::new(k)?))),
        spawn_join_one: || Ok(ThreadPool::spawn_join_one()?),
    },
    ModelSpec {
        name: names::RAYON,
        summary: "a rayon thread pool of WORKERS threads, work-stealing one task per job",
        family: Family::Threads,
        per_task: false,
        maps_shared_input: false,
        idle: None,
        build: |k| Ok(Box::new(Rayon(RayonPool::new(k)?))),
        spawn_join_one: || Ok(RayonPool::spawn_join_one()?),
    },
    ModelSpec {
        name: names::GIL_THREADS,
        summary: "WORKERS threads that must hold one emulated CPython GIL (5 ms switch interval) to run task code (threading under CPython)",
        family: Family::Threads,
        per_task: true,
        maps_shared_input: false,
        idle: None,
        build: |k| {
            Ok(Box::new(GilModel(GilThreads::with_interval(
                k,
                gil_interval()?,
            )?)))
        },
        spawn_join_one: || Ok(GilThreads::spawn_join_one()?),
    },
    ModelSpec {
        name: names::PROCESS_PER_TASK,
        summary: "a new worker process per task, at most WORKERS alive (multiprocessing.Process)",
        family: Family::Processes,
        per_task: true,
        maps_shared_input: false,
        idle: None,
        build: |k| {
            Ok(Box::new(ProcPerTask(ProcessPerTask::new(
                k,
                Config::default(),
            )?)))
        },
        spawn_join_one: || Ok(ProcessPool::spawn_join_one(&Config::default())?),
    },
    ModelSpec {
        name: names::PROCESS_POOL,
        summary: "WORKERS pre-spawned worker processes fed over ipc-channel (multiprocessing.Pool)",
        family: Family::Processes,
        per_task: false,
        maps_shared_input: false,
        idle: Some(IdleProbe {
            measure: idle::idle_process_pool,
            bench_workers: Some([2, 16, 32]),
        }),
        build: |k| {
            let pool = ProcessPool::new(k)?;
            Ok(Box::new(ProcPool {
                workers: pool.workers(),
                pool: Mutex::new(pool),
            }))
        },
        spawn_join_one: || Ok(ProcessPool::spawn_join_one(&Config::default())?),
    },
    ModelSpec {
        name: names::SHM_POOL,
        summary: "WORKERS pre-spawned worker processes fed through shared-memory rings; large inputs mapped once, zero-copy",
        family: Family::Processes,
        per_task: false,
        maps_shared_input: true,
        idle: Some(IdleProbe {
            measure: idle::idle_shm_pool,
            bench_workers: Some([2, 16, 32]),
        }),
        build: |k| {
            let pool = ShmPool::new(k)?;
            Ok(Box::new(ShmPoolModel {
                workers: pool.workers(),
                state: Mutex::new(ShmState { pool, copy: None }),
            }))
        },
        spawn_join_one: || Ok(ShmPool::spawn_join_one(&Config::default())?),
    },
    ModelSpec {
        name: names::TOKIO,
        summary: "a tokio runtime of WORKERS threads: a task per unit, waits awaited (no thread blocks), CPU-bound units on the blocking pool at most WORKERS at once",
        family: Family::Tasks,
        per_task: false,
        maps_shared_input: false,
        idle: Some(IdleProbe {
            measure: idle::pending_tasks,
            bench_workers: Some([1_000, 100_000, 100_000]),
        }),
        build: |k| Ok(Box::new(Tokio(TokioPool::new(k)?))),
        spawn_join_one: || Ok(TokioPool::spawn_join_one()?),
    },
    ModelSpec {
        name: names::CLUSTER,
        summary: "WORKERS timely-dataflow processes over TCP, this one process 0 (the others started again here, or on other hosts with --hosts); each rebuilds the batch, units dealt by index (multiprocessing across machines)",
        family: Family::Processes,
        per_task: false,
        maps_shared_input: false,
        idle: None,
        build: |k| Ok(Box::new(ClusterModel::local(k)?)),
        spawn_join_one: ClusterModel::spawn_join_one,
    },
    // New models go above this line (docs/CONTRIBUTING.md, "Add a model").
];

/// Every model, in the order `concur list` shows them.
pub fn models() -> &'static [ModelSpec] {
    MODELS
}

/// The model called `name`, if there is one.
pub fn model(name: &str) -> Option<&'static ModelSpec> {
    MODELS.iter().find(|m| m.name == name)
}

/// Every model's name, for error messages.
pub fn model_names() -> Vec<&'static str> {
    MODELS.iter().map(|m| m.name).collect()
}

fn cx(echo: Echo) -> Cx<'static> {
    match echo {
        Echo::Stdout => Cx::stdout(),
        Echo::Off => Cx::quiet(),
    }
}

/// Turns per-task results into outputs, or the first task's error.
fn collect(results: Vec<Result<TaskOutput, TaskError>>) -> Result<Vec<TaskOutput>, ModelError> {
    results
        .into_iter()
        .enumerate()
        .map(|(task, r)| r.map_err(|error| ModelError::Task { task, error }))
        .collect()
}

/// Runs task `i` of `batch` on this thread; a unit that panics becomes that task's error,
/// as under every model (a model of its own threads calls this for each task).
fn run_caught(batch: &Batch, i: usize, cx: &Cx<'_>) -> Result<TaskOutput, TaskError> {
    use std::panic::{AssertUnwindSafe, catch_unwind};
    catch_unwind(AssertUnwindSafe(|| batch.run(i, cx))).unwrap_or_else(|panic| {
        let what = panic
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into());
        Err(TaskError::new(format!("panicked: {what}")))
    })
}

/// `sequential`: the reference every other model is checked against.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Sequential;

impl Sequential {
    /// Runs the batch in order on this thread with the given context.
    /// A unit that panics becomes that task's error, as under every other model.
    pub(crate) fn run_with(batch: &Batch, cx: &Cx<'_>) -> Result<Vec<TaskOutput>, ModelError> {
        collect((0..batch.len()).map(|i| run_caught(batch, i, cx)).collect())
    }
}

impl Model for Sequential {
    fn name(&self) -> &'static str {
        names::SEQUENTIAL
    }
    fn workers(&self) -> usize {
        1
    }
    fn run(&self, batch: &Batch, echo: Echo) -> Result<Vec<TaskOutput>, ModelError> {
        Sequential::run_with(batch, &cx(echo))
    }
}

struct PerTask {
    inner: ThreadPerTask,
    workers: usize,
}

impl Model for PerTask {
    fn name(&self) -> &'static str {
        names::THREAD_PER_TASK
    }
    fn workers(&self) -> usize {
        self.workers
    }
    fn run(&self, batch: &Batch, echo: Echo) -> Result<Vec<TaskOutput>, ModelError> {
        let cx = cx(echo);
        collect(
            self.inner
                .map((0..batch.len()).collect(), |i| batch.run(i, &cx))?,
        )
    }
}

struct Pool(ThreadPool);

impl Model for Pool {
    fn name(&self) -> &'static str {
        names::THREAD_POOL
    }
    fn workers(&self) -> usize {
        self.0.workers()
    }
    fn run(&self, batch: &Batch, echo: Echo) -> Result<Vec<TaskOutput>, ModelError> {
        let shared = batch.clone();
        let results = self.0.map((0..batch.len()).collect(), move |i| {
            shared.run(i, &cx(echo))
        })?;
        collect(results)
    }
}

struct Rayon(RayonPool);

impl Model for Rayon {
    fn name(&self) -> &'static str {
        names::RAYON
    }
    fn workers(&self) -> usize {
        self.0.threads()
    }
    fn run(&self, batch: &Batch, echo: Echo) -> Result<Vec<TaskOutput>, ModelError> {
        let cx = cx(echo);
        collect(
            self.0
                .map((0..batch.len()).collect(), |i| batch.run(i, &cx))?,
        )
    }
}

/// Every task of `batch` as a worker-process frame.
fn frames(batch: &Batch, echo: Echo) -> Vec<Vec<u8>> {
    (0..batch.len())
        .map(|i| encode_task(batch.info().name, echo, Input::Copied, &batch.encode(i)))
        .collect()
}

/// Decodes worker replies, or returns the batch's failure: process batches stop at the
/// first failure, so a crashed worker ends a run promptly.
fn decode_all(
    results: Result<Vec<Vec<u8>>, concur_procs::Error>,
) -> Result<Vec<TaskOutput>, ModelError> {
    decode_outputs(results.map_err(|e| match e {
        concur_procs::Error::Task(failure) => ModelError::Worker(failure),
        other => ModelError::Procs(other),
    })?)
}

/// Decodes the outputs another process sent, one per task; an undecodable one is that
/// task's error.
fn decode_outputs(replies: Vec<Vec<u8>>) -> Result<Vec<TaskOutput>, ModelError> {
    replies
        .iter()
        .enumerate()
        .map(|(task, bytes)| {
            decode_output(bytes).map_err(|message| ModelError::Task {
                task,
                error: TaskError::new(message),
            })
        })
        .collect()
}

struct ProcPerTask(ProcessPerTask);

impl Model for ProcPerTask {
    fn name(&self) -> &'static str {
        names::PROCESS_PER_TASK
    }
    fn workers(&self) -> usize {
        self.0.max_alive()
    }
    fn run(&self, batch: &Batch, echo: Echo) -> Result<Vec<TaskOutput>, ModelError> {
        decode_all(self.0.try_run(&frames(batch, echo)))
    }
}

struct ProcPool {
    pool: Mutex<ProcessPool>,
    workers: usize,
}

impl Model for ProcPool {
    fn name(&self) -> &'static str {
        names::PROCESS_POOL
    }
    fn workers(&self) -> usize {
        self.workers
    }
    fn run(&self, batch: &Batch, echo: Echo) -> Result<Vec<TaskOutput>, ModelError> {
        let frames = frames(batch, echo);
        // A poisoned lock only means an earlier batch panicked mid-way; the pool replaces
        // dead workers itself, so it is still usable.
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        decode_all(pool.try_run(&frames))
    }
}

/// Allocates a workload's large input in a sealed shared-memory [`Region`], so `shm-pool`
/// workers map the very pages the parent filled: one copy in the whole process tree.
#[derive(Clone, Copy, Debug, Default)]
pub struct ShmArena;

/// A region as a workload's shared input.
struct RegionBytes(Region);

impl SharedBytes for RegionBytes {
    fn bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

impl Arena for ShmArena {
    fn alloc(
        &self,
        len: usize,
        fill: &mut dyn FnMut(&mut [u8]),
    ) -> Result<Arc<dyn SharedBytes>, String> {
        let region = Region::create("concur-shared-input", len, fill).map_err(|e| e.to_string())?;
        Ok(Arc::new(RegionBytes(region)))
    }
}

struct ShmState {
    pool: ShmPool,
    /// A region copied from a heap-allocated shared input (a batch not prepared in
    /// [`ShmArena`]), kept while that input lives so repeated runs copy it once.
    copy: Option<(Weak<dyn SharedBytes>, Region)>,
}

struct ShmPoolModel {
    state: Mutex<ShmState>,
    workers: usize,
}

impl Model for ShmPoolModel {
    fn name(&self) -> &'static str {
        names::SHM_POOL
    }
    fn workers(&self) -> usize {
        self.workers
    }
    fn run(&self, batch: &Batch, echo: Echo) -> Result<Vec<TaskOutput>, ModelError> {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let ShmState { pool, copy } = &mut *state;
        let shared = batch.shared();
        let by_ref: Option<Vec<Vec<u8>>> = shared.as_ref().and_then(|_| {
            (0..batch.len())
                .map(|i| {
                    let r = batch.encode_ref(i)?;
                    Some(encode_task(batch.info().name, echo, Input::ByRef, &r))
                })
                .collect()
        });
        let (Some(shared), Some(frames)) = (shared, by_ref) else {
            *copy = None;
            return decode_all(pool.try_run(&frames(batch, echo), None));
        };
        let region = match shared.as_any().downcast_ref::<RegionBytes>() {
            Some(RegionBytes(region)) => region,
            None => {
                let fresh = !copy
                    .as_ref()
                    .is_some_and(|(w, _)| Weak::ptr_eq(w, &Arc::downgrade(&shared)));
                if fresh {
                    let bytes = shared.bytes();
                    let region = Region::create("concur-shared-input", bytes.len(), |b| {
                        b.copy_from_slice(bytes)
                    })
                    .map_err(concur_procs::Error::from)?;
                    *copy = Some((Arc::downgrade(&shared), region));
                }
                &copy.as_ref().expect("just set").1
            }
        };
        decode_all(pool.try_run(&frames, Some(region)))
    }
}

/// `tokio`: I/O-bound units as tasks that await their wait; CPU-bound units on the blocking
/// pool, at most K at once (see `concur_tasks`).
struct Tokio(TokioPool);

/// Runs task `i` as a task: awaits its wait (a timer, a loopback GET), then finishes it.
async fn run_awaiting(batch: Batch, i: usize, echo: Echo) -> Result<TaskOutput, TaskError> {
    let op = batch
        .io(i)
        .ok_or_else(|| TaskError::new("this unit does not wait"))?;
    let done = match op {
        IoOp::Sleep(d) => {
            if !d.is_zero() {
                tokio::time::sleep(d).await;
            }
            IoDone::Slept
        }
        IoOp::Get(url) => IoDone::Body(concur_http::get(&url).await.map_err(fetch_error(&url))?),
    };
    batch.after_io(i, done, &cx(echo))
}

impl Tokio {
    /// One run, inside the runtime.
    async fn run_async(
        &self,
        batch: &Batch,
        echo: Echo,
    ) -> Result<Vec<Result<TaskOutput, TaskError>>, concur_tasks::Error> {
        let n = batch.len();
        if batch.io(0).is_some() {
            let b = batch.clone();
            concur_tasks::join_all(n, move |i| run_awaiting(b.clone(), i, echo)).await
        } else {
            let b = batch.clone();
            concur_tasks::map_blocking(self.0.workers(), n, move |i| b.run(i, &cx(echo))).await
        }
    }
}

impl Model for Tokio {
    fn name(&self) -> &'static str {
        names::TOKIO
    }
    fn workers(&self) -> usize {
        self.0.workers()
    }
    fn run(&self, batch: &Batch, echo: Echo) -> Result<Vec<TaskOutput>, ModelError> {
        collect(self.0.runtime().block_on(self.run_async(batch, echo))?)
    }
    fn time_runs(
        &self,
        batch: &Batch,
        iters: u64,
        check: &mut dyn FnMut(Vec<TaskOutput>),
    ) -> Result<Duration, ModelError> {
        self.0.runtime().block_on(async {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let t = Instant::now();
                let outputs = self.run_async(batch, Echo::Off).await;
                total += t.elapsed();
                check(collect(outputs?)?);
            }
            Ok(total)
        })
    }
}

/// The environment variable that sets `gil-threads`' switch interval, in microseconds
/// (CPython's `sys.setswitchinterval`); 5000 when unset.
pub(crate) const GIL_INTERVAL_ENV: &str = "CONCUR_GIL_INTERVAL_US";

fn gil_interval() -> Result<Duration, ModelError> {
    match std::env::var(GIL_INTERVAL_ENV) {
        Err(_) => Ok(concur_threads::DEFAULT_SWITCH_INTERVAL),
        Ok(v) => match v.parse::<u64>() {
            Ok(us) if (1..=10_000_000).contains(&us) => Ok(Duration::from_micros(us)),
            _ => Err(ModelError::Config(format!(
                "{GIL_INTERVAL_ENV} must be a whole number of microseconds from 1 to 10000000, got {v:?}"
            ))),
        },
    }
}

/// A unit's hooks under the emulated GIL: the eval breaker at its checkpoints, and the GIL
/// released around its blocking (or GIL-releasing native) sections.
struct GilHooks<'a>(&'a Gil);

impl Hooks for GilHooks<'_> {
    fn checkpoint(&self) {
        self.0.checkpoint();
    }
    fn enter_blocking(&self) {
        self.0.release();
    }
    fn leave_blocking(&self) {
        self.0.acquire();
    }
}

/// `gil-threads`: every unit runs holding the emulated GIL.
struct GilModel(GilThreads);

impl Model for GilModel {
    fn name(&self) -> &'static str {
        names::GIL_THREADS
    }
    fn workers(&self) -> usize {
        self.0.workers()
    }
    fn run(&self, batch: &Batch, echo: Echo) -> Result<Vec<TaskOutput>, ModelError> {
        let b = batch.clone();
        collect(self.0.map((0..batch.len()).collect(), move |i, gil| {
            b.run(i, &cx(echo).with_hooks(&GilHooks(gil)))
        })?)
    }
}

/// `cluster`: units dealt by index to timely-dataflow processes (`crate::cluster` is what
/// each of them runs).
pub(crate) struct ClusterModel(concur_cluster::Cluster);

impl ClusterModel {
    /// `workers` processes on this machine (this one is process 0).
    pub(crate) fn local(workers: usize) -> Result<Self, ModelError> {
        Ok(ClusterModel::holding(concur_cluster::Cluster::local(
            workers,
            crate::cluster::run_unit,
            concur_cluster::Options::default(),
        )?))
    }

    /// The model around a started cluster, counted among this process's live ones.
    fn holding(cluster: concur_cluster::Cluster) -> ClusterModel {
        crate::cluster::hold_model();
        ClusterModel(cluster)
    }

    /// Starts one other process the way the model does, and ends it: a two-process cluster.
    fn spawn_join_one() -> Result<(), ModelError> {
        drop(ClusterModel::local(2)?);
        Ok(())
    }
}

/// The `cluster` model across the hosts of a host file (this process is process 0, at the
/// first line; the others run `concur cluster-worker`).
pub(crate) fn cluster_with_hosts(
    hosts: Vec<concur_cluster::Host>,
) -> Result<Box<dyn Model>, ModelError> {
    Ok(Box::new(ClusterModel::holding(
        concur_cluster::Cluster::with_hosts(
            hosts,
            crate::cluster::run_unit,
            concur_cluster::Options::default(),
        )?,
    )))
}

impl Drop for ClusterModel {
    fn drop(&mut self) {
        // The batch kept for this process's own units (and its temporary files), unless
        // another cluster model of this process still runs units on it.
        crate::cluster::release_model();
    }
}

impl Model for ClusterModel {
    fn name(&self) -> &'static str {
        names::CLUSTER
    }
    fn workers(&self) -> usize {
        self.0.processes()
    }
    /// Units run quietly wherever they land; their lines come back in their outputs and
    /// are printed here, in task order.
    fn run(&self, batch: &Batch, echo: Echo) -> Result<Vec<TaskOutput>, ModelError> {
        let desc = crate::cluster::describe(batch);
        let outputs = self.0.run(&desc, batch.len() as u64).map_err(|e| match e {
            concur_cluster::Error::Unit { index, message, .. } => ModelError::Task {
                task: index as usize,
                error: TaskError::new(message),
            },
            other => ModelError::Cluster(other),
        })?;
        let outputs = decode_outputs(outputs)?;
        if echo == Echo::Stdout {
            let out = Cx::stdout();
            for line in outputs.iter().filter_map(|o| o.text.as_deref()) {
                out.print_line(line);
            }
        }
        Ok(outputs)
    }
}
