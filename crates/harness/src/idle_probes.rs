//! The idle-worker probes the model registry points to: each starts N idle workers of one
//! model and reads the process tree's PSS around them; `idle_cost` drives them.

use std::thread;
use std::time::Duration;

use concur_procs::{ProcessPool, ShmPool};
use concur_threads::ThreadPool;

use crate::ModelError;
use concur_measure::probe::tree_pss_bytes;

/// How long workers sit idle before the reading, so they finish starting up.
const SETTLE: Duration = Duration::from_millis(200);

/// How a model's idle workers are measured: one entry of its [`crate::ModelSpec`].
#[derive(Clone, Copy, Debug)]
pub struct IdleProbe {
    /// Starts `n` idle workers, reads the process tree's PSS, stops them: returns the
    /// (baseline, reading) pair in bytes.
    pub(crate) measure: fn(usize) -> Result<(u64, u64), ModelError>,
    /// How many idle workers `cargo xtask bench` probes per profile (smoke, quick, full);
    /// `None`: only `concur idle` measures it.
    pub bench_workers: Option<[usize; 3]>,
}

/// The process tree's PSS: the baseline, then the reading taken while what
/// `start` started sits idle for [`SETTLE`].
fn around<T>(start: impl FnOnce() -> Result<T, ModelError>) -> Result<(u64, u64), ModelError> {
    let me = std::process::id();
    let baseline = tree_pss_bytes(me);
    let held = start()?;
    thread::sleep(SETTLE);
    let reading = tree_pss_bytes(me);
    drop(held);
    Ok((baseline, reading))
}

/// `thread-per-task`: N parked threads, as `threading.Thread`s blocked on I/O would be. Each
/// waits on a channel that is never sent to: dropping the sender releases them all.
pub(crate) fn parked_threads(workers: usize) -> Result<(u64, u64), ModelError> {
    let me = std::process::id();
    let baseline = tree_pss_bytes(me);
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
    Ok((baseline, reading?))
}

/// `thread-pool`: a pool of N idle threads.
pub(crate) fn idle_thread_pool(workers: usize) -> Result<(u64, u64), ModelError> {
    around(|| Ok(ThreadPool::new(workers)?))
}

/// `process-pool`: N idle worker processes.
pub(crate) fn idle_process_pool(workers: usize) -> Result<(u64, u64), ModelError> {
    around(|| Ok(ProcessPool::new(workers)?))
}

/// `shm-pool`: N idle worker processes with their rings.
pub(crate) fn idle_shm_pool(workers: usize) -> Result<(u64, u64), ModelError> {
    around(|| Ok(ShmPool::new(workers)?))
}

/// `tokio`: N pending tasks, as N in-flight requests would be: each waits on a gate that
/// opens only when the reading is done. The runtime itself (its threads) is in the
/// baseline: what is measured is the cost of a task.
pub(crate) fn pending_tasks(workers: usize) -> Result<(u64, u64), ModelError> {
    let me = std::process::id();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(crate::available_cores())
        .enable_all()
        .build()
        .map_err(concur_tasks::Error::from)?;
    thread::sleep(SETTLE);
    let baseline = tree_pss_bytes(me);
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
    let reading = tree_pss_bytes(me);
    gate.close();
    rt.block_on(async { while tasks.join_next().await.is_some() {} });
    Ok((baseline, reading))
}
