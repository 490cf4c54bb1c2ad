//! The model that runs tasks as tokio tasks: `tokio`.

use std::time::{Duration, Instant};

use concur_tasks::TokioPool;
use concur_workloads::{Batch, Echo, IoDone, IoOp, TaskError, TaskOutput, fetch_error};

use concur_channels::Channel;

use super::{Family, Model, ModelError, ModelSpec, Transport, collect, cx, names};
use crate::idle_probes::{self as idle, IdleProbe};

/// This file's models.
pub(super) static SPECS: &[ModelSpec] = &[ModelSpec {
    name: names::TOKIO,
    summary: "a tokio runtime of WORKERS threads: a task per unit, waits awaited (no thread blocks), CPU-bound units on the blocking pool at most WORKERS at once",
    family: Family::Tasks,
    per_task: false,
    maps_shared_input: false,
    idle: Some(IdleProbe {
        measure: idle::pending_tasks,
        bench_workers: Some([1_000, 100_000, 100_000]),
    }),
    transport: Some(Transport {
        channel: Channel::TokioMpsc,
        workers: 1,
        target: 1.5,
        pool_work: false,
    }),
    build: |k| Ok(Box::new(Tokio(TokioPool::new(k)?))),
    spawn_join_one: || Ok(TokioPool::spawn_join_one()?),
}];

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
