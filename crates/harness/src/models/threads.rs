//! The models that run tasks on threads of this process: `sequential` (the reference),
//! `thread-per-task`, `thread-pool`, `rayon`, and `gil-threads` (threads under an emulated
//! CPython GIL).

use std::time::Duration;

use concur_threads::{Gil, GilThreads, RayonPool, ThreadPerTask, ThreadPool};
use concur_workloads::{Batch, Cx, Echo, Hooks, TaskOutput};

use concur_channels::Channel;

use super::{Family, Model, ModelError, ModelSpec, Transport, collect, cx, names, run_caught};
use crate::idle_probes::{self as idle, IdleProbe};

/// This file's models, in the order `concur list` shows them.
pub(super) static SPECS: &[ModelSpec] = &[
    ModelSpec {
        name: names::SEQUENTIAL,
        summary: "one task after another on the calling thread (the reference)",
        family: Family::Sequential,
        per_task: false,
        maps_shared_input: false,
        idle: None,
        transport: None,
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
        transport: None,
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
        transport: Some(Transport {
            channel: Channel::Crossbeam,
            workers: 1,
            target: 1.5,
            pool_work: false,
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
        // A caller outside the pool hands `install` its job and sleeps on a mutex and
        // condvar until a worker sets the latch: the `latch` floor is that hand-off alone.
        transport: Some(Transport {
            channel: Channel::Latch,
            workers: 1,
            target: 1.5,
            pool_work: false,
        }),
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
        transport: None,
        build: |k| {
            Ok(Box::new(GilModel(GilThreads::with_interval(
                k,
                gil_interval()?,
            )?)))
        },
        spawn_join_one: || Ok(GilThreads::spawn_join_one()?),
    },
    // New models go above this line (docs/CONTRIBUTING.md, "Add a model").
];

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
        let results = self
            .0
            .map_indices(batch.len(), move |i| shared.run(i, &cx(echo)))?;
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
