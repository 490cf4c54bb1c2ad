//! The models that run tasks in worker processes of this executable: `process-per-task`,
//! `process-pool` (ipc-channel) and `shm-pool` (shared-memory rings, large inputs mapped
//! once), all through concur-procs.

use std::sync::{Arc, Mutex, Weak};

use concur_channels::Channel;
use concur_procs::{Config, InThreadPool, ProcessPerTask, ProcessPool, ShmPool};
use concur_shm::Region;
use concur_workloads::{Arena, Batch, Echo, SharedBytes, TaskError, TaskOutput};

use super::{Family, Model, ModelError, ModelSpec, Transport, names};
use crate::idle_probes::{self as idle, IdleProbe};
use crate::worker::{Input, decode_output, encode_task, task_header};

/// This file's models, in the order `concur list` shows them.
pub(super) static SPECS: &[ModelSpec] = &[
    ModelSpec {
        name: names::PROCESS_PER_TASK,
        summary: "a new worker process per task, at most WORKERS alive (multiprocessing.Process)",
        family: Family::Processes,
        per_task: true,
        maps_shared_input: false,
        idle: None,
        transport: None,
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
        transport: Some(Transport {
            channel: Channel::IpcChannel,
            workers: 1,
            target: 1.5,
            pool_work: true,
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
        transport: Some(Transport {
            channel: Channel::ShmAdaptive,
            workers: 1,
            target: 1.5,
            pool_work: true,
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
];

/// Every task of `batch` as a worker-process frame (one allocation each: the input is
/// encoded in place after the header).
fn frames(batch: &Batch, echo: Echo) -> Vec<Vec<u8>> {
    let name = batch.info().name;
    (0..batch.len())
        .map(|i| {
            let mut frame = task_header(name, echo, Input::Copied, FRAME_INPUT_ROOM);
            batch.encode_into(i, &mut frame);
            frame
        })
        .collect()
}

/// Room for a task's input in a fresh frame: most inputs (a few varints) fit; a larger one
/// grows the frame.
const FRAME_INPUT_ROOM: usize = 32;

/// Every task of `batch` through what a process pool does to it besides carrying it: its
/// worker frame, the pool's scheduler, the worker's handler and the reply's decoding, all
/// in this thread (`pool`, whose worker is this thread: the `pool-work` round trip of
/// `concur pingpong`).
pub(crate) fn pool_work(
    pool: &mut InThreadPool,
    batch: &Batch,
    echo: Echo,
) -> Result<Vec<TaskOutput>, ModelError> {
    decode_all(pool.try_run(&frames(batch, echo)))
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
pub(super) fn decode_outputs(replies: Vec<Vec<u8>>) -> Result<Vec<TaskOutput>, ModelError> {
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
