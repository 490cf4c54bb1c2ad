//! `concur idle`: what an idle worker costs in memory, as PSS of the whole process tree.

use std::thread;
use std::time::Duration;

use concur_procs::{ProcessPool, ShmPool};
use concur_threads::ThreadPool;
use serde::Serialize;

use crate::probe::tree_pss_bytes;
use crate::{ModelError, ModelSpec};

/// Models whose idle workers `concur idle` can measure.
pub const IDLE_MODELS: [&str; 5] = [
    "thread-per-task",
    "thread-pool",
    "process-pool",
    "shm-pool",
    "tokio",
];

/// How long workers sit idle before the reading, so they finish starting up.
const SETTLE: Duration = Duration::from_millis(200);

/// What `concur idle` reports.
#[derive(Clone, Debug, Serialize)]
pub struct IdleReport {
    /// The model.
    pub model: &'static str,
    /// Number of idle workers.
    pub workers: usize,
    /// Tree PSS before starting them, bytes.
    pub baseline_pss_bytes: u64,
    /// Tree PSS with them idle, bytes.
    pub pss_bytes: u64,
    /// `(pss_bytes - baseline_pss_bytes) / workers`.
    pub pss_bytes_per_worker: f64,
}

/// Starts `workers` idle workers of `spec`, reads the process tree's PSS, stops them.
pub fn idle_cost(spec: &'static ModelSpec, workers: usize) -> Result<IdleReport, ModelError> {
    let me = std::process::id();
    let mut baseline = tree_pss_bytes(me);
    let reading = match spec.name {
        "thread-per-task" => {
            // N parked threads, as `threading.Thread`s blocked on I/O would be. Each waits on
            // a channel that is never sent to: dropping the sender releases them all.
            let (release, gate) = crossbeam_channel::bounded::<()>(0);
            let mut handles = Vec::with_capacity(workers);
            let mut spawn_error = None;
            for index in 0..workers {
                let gate = gate.clone();
                match thread::Builder::new().spawn(move || {
                    let _ = gate.recv();
                }) {
                    Ok(h) => handles.push(h),
                    Err(source) => {
                        spawn_error = Some(concur_threads::Error::Spawn { index, source });
                        break;
                    }
                }
            }
            let reading = match spawn_error {
                None => {
                    thread::sleep(SETTLE);
                    Ok(tree_pss_bytes(me))
                }
                Some(e) => Err(e),
            };
            drop(release);
            for h in handles {
                let _ = h.join();
            }
            reading?
        }
        "thread-pool" => {
            let pool = ThreadPool::new(workers)?;
            thread::sleep(SETTLE);
            let r = tree_pss_bytes(me);
            drop(pool);
            r
        }
        "process-pool" => {
            let pool = ProcessPool::new(workers)?;
            thread::sleep(SETTLE);
            let r = tree_pss_bytes(me);
            drop(pool);
            r
        }
        "shm-pool" => {
            let pool = ShmPool::new(workers)?;
            thread::sleep(SETTLE);
            let r = tree_pss_bytes(me);
            drop(pool);
            r
        }
        "tokio" => {
            // N pending tasks, as N in-flight requests would be: each waits on a gate that
            // opens only when the reading is done. The runtime itself (its threads) is in
            // the baseline: what is measured is the cost of a task.
            let rt = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(crate::available_cores())
                .enable_all()
                .build()
                .map_err(concur_tasks::Error::from)?;
            thread::sleep(SETTLE);
            baseline = tree_pss_bytes(me);
            let gate = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
            let mut tasks = tokio::task::JoinSet::new();
            let _guard = rt.enter();
            for _ in 0..workers {
                let gate = std::sync::Arc::clone(&gate);
                tasks.spawn(async move {
                    let _ = gate.acquire().await;
                });
            }
            thread::sleep(SETTLE); // Every task polled once and parked on the gate.
            let r = tree_pss_bytes(me);
            gate.close();
            rt.block_on(async { while tasks.join_next().await.is_some() {} });
            r
        }
        _ => unreachable!("the CLI only passes IDLE_MODELS"),
    };
    Ok(IdleReport {
        model: spec.name,
        workers,
        baseline_pss_bytes: baseline,
        pss_bytes: reading,
        pss_bytes_per_worker: (reading as f64 - baseline as f64) / workers as f64,
    })
}
