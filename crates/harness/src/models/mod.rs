//! The concurrency models, by CLI name, behind one small trait: [`Model`] (a started model
//! runs batches) and [`ModelSpec`] (its registry entry). Each family's adapters and entries
//! are in its own file: [`threads`], [`processes`], [`tasks`], [`cluster`].

mod cluster;
mod processes;
mod tasks;
mod threads;

pub(crate) use cluster::{ClusterOfTwo, cluster_of_two, cluster_with_hosts};
pub use processes::ShmArena;
pub(crate) use processes::pool_work;
pub(crate) use threads::Sequential;

use std::sync::LazyLock;
use std::time::{Duration, Instant};

use concur_channels::Channel;
use concur_procs::TaskFailure;
use concur_workloads::{Arena, Batch, Cx, Echo, Heap, TaskError, TaskOutput};

use crate::idle_probes::IdleProbe;

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

/// Which family a model belongs to: the report's own type, so the registry and the catalog
/// it is described by cannot disagree.
pub use concur_report::catalog::Family;

/// A model's hand-off, read against the channel underneath it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Transport {
    /// The channel each task and result cross.
    pub channel: Channel,
    /// Workers for one empty task to cross it (a pool's one worker).
    pub workers: usize,
    /// The most one empty task may cost over the channel's round trip: the report's target.
    pub target: f64,
    /// Whether each task also goes through the process pools' own work (`pool-work`: the
    /// frame, the scheduler, the worker's handler, the reply decoded) besides crossing the
    /// channel: the floors table times that work beside the two, for the least the ratio
    /// can be.
    pub pool_work: bool,
}

/// A model's static description and constructor.
#[derive(Clone, Debug)]
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
    /// The channel every task crosses, if the model's hand-off is one the ping-pong times:
    /// one empty task through the model is benched beside it (`MODEL-task`).
    pub transport: Option<Transport>,
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

/// Every family's models, in the order `concur list` shows them.
static MODELS: LazyLock<Vec<ModelSpec>> = LazyLock::new(|| {
    [
        threads::SPECS,
        processes::SPECS,
        tasks::SPECS,
        cluster::SPECS,
    ]
    .concat()
});

/// Every model, in the order `concur list` shows them.
pub fn models() -> &'static [ModelSpec] {
    &MODELS
}

/// The model called `name`, if there is one.
pub fn model(name: &str) -> Option<&'static ModelSpec> {
    MODELS.iter().find(|m| m.name == name)
}

/// Every model's name, for error messages.
pub fn model_names() -> Vec<&'static str> {
    MODELS.iter().map(|m| m.name).collect()
}

/// The context units run with: printing their lines, or quiet.
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
