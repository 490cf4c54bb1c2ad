//! Everything `concur pingpong` times, as one [`Subject`]: a channel or floor of
//! [`concur_channels`], or `MODEL-task`: one empty task through a model whose transport is
//! one of those channels ([`ModelSpec::transport`]: `process-pool` over `ipc-channel`,
//! `shm-pool` over `shm-adaptive`, `cluster` over `tcp`), timed as a round trip.
//! `benches/ipc.rs` benches these beside the channels, and [`Subject::open`] lets `concur
//! pingpong` (and its paired rounds, `--against`) time them like any channel, so a pool's
//! overhead over its channel is read from times taken back to back.

use std::io;

use concur_channels::pin::{CpuPair, Pinned};
use concur_channels::{
    Channel, Peers, PingPongReport, READ_ACROSS, RoundTrip, time_round_trips, unknown_channel,
};
use concur_workloads::{AnyWorkload, Batch, Echo, Params, Sleep, TaskOutput};

use crate::copy_floors::{CopyAcrossPeer, CopyPairPeer, MemcpyPeer, ReadAcrossPeer};
use crate::runner::reference_checksum;
use crate::{Model, ModelSpec, models};

/// The bulk group's bandwidth floor, a [`Subject`]: one thread copying the MiB.
pub const MEMCPY: &str = "memcpy";

/// The copying channels' floor, a [`Subject`]: two threads, one on each CPU of the pinned
/// pair, each copying the MiB at once. A copying channel copies the MiB in on one CPU while
/// it is copied out on the other; on some placements of a VM's virtual CPUs two copies at
/// once share one core's bandwidth (each takes twice as long), and this measures that.
pub const COPY_PAIR: &str = "copy-pair";

/// The copying ring's own transfer with no ring around it, a [`Subject`]: the MiB written
/// here a chunk at a time and copied out on the pair's other CPU as each chunk is published.
/// What moving the MiB between the two CPUs costs in this placement, protocol aside.
pub const COPY_ACROSS: &str = "copy-across";

/// What every process pool does to a task besides carrying it, a [`Subject`]: the empty
/// task encoded as a worker frame, dispatched by the pools' scheduler, run by the worker's
/// handler, its reply taken back, decoded and checked, all in this thread
/// ([`concur_procs::InThreadPool`]: the scheduler with its worker in this thread). Read
/// against a pool's transport, it says how much of the pool task's round trip no transport
/// can take away.
pub const POOL_WORK: &str = "pool-work";

/// The cluster's mechanism alone, a [`Subject`]: an empty unit handed from this thread to
/// process 0's timely worker as a job is, bounced to process 1 and back through timely's
/// exchange (its network threads and progress tracking), its answer handed back
/// ([`concur_cluster::Cluster::echo`], timed around the call): what `cluster-task` does
/// without a job's description, the unit's run or a result's bytes.
pub const CLUSTER_ECHO: &str = "cluster-echo";

/// rayon's own hand-off, a [`Subject`]: a bare `install` of an empty closure into a
/// one-thread rayon pool from this thread ([`concur_threads::RayonPool::install`]): what
/// `rayon-task` does without the model's parallel iterator, its batch or its result.
pub const RAYON_INSTALL: &str = "rayon-install";

/// The empty task: a zero-millisecond sleep.
static EMPTY: Sleep = Sleep;

/// Something `concur pingpong` times.
#[derive(Clone, Copy, Debug)]
pub enum Subject {
    /// A channel or floor.
    Channel(Channel),
    /// One empty task through a model with a [`ModelSpec::transport`].
    PoolTask(&'static ModelSpec),
    /// The bulk group's bandwidth floor: this thread copying the payload into a buffer of
    /// its own ([`MEMCPY`]).
    Memcpy,
    /// The copying channels' floor: this thread and a helper on the other CPU of the pair
    /// each copying the payload at once ([`COPY_PAIR`]).
    CopyPair,
    /// The copying ring's transfer alone: written here, copied out on the other CPU as it
    /// is written ([`COPY_ACROSS`]).
    CopyAcross,
    /// The receiving side's part of any transfer: the MiB, written here beforehand, copied
    /// out by another process on the pair's other CPU, timed from the signal to its answer
    /// ([`READ_ACROSS`]).
    ReadAcross,
    /// The empty task's frame, the pools' scheduler, the handler and the reply, in this
    /// thread ([`POOL_WORK`]).
    PoolWork,
    /// An empty unit handed to a cluster's worker, through timely to the other process and
    /// back ([`CLUSTER_ECHO`]).
    ClusterEcho,
    /// An empty closure installed into a one-thread rayon pool ([`RAYON_INSTALL`]).
    RayonInstall,
}

impl Subject {
    /// The subject called `name`: a channel's name, or `MODEL-task` for a model with a
    /// transport.
    pub fn parse(name: &str) -> Option<Subject> {
        if let Some(channel) = Channel::parse(name) {
            return Some(Subject::Channel(channel));
        }
        if name == MEMCPY {
            return Some(Subject::Memcpy);
        }
        if name == COPY_PAIR {
            return Some(Subject::CopyPair);
        }
        if name == COPY_ACROSS {
            return Some(Subject::CopyAcross);
        }
        if name == READ_ACROSS {
            return Some(Subject::ReadAcross);
        }
        if name == POOL_WORK {
            return Some(Subject::PoolWork);
        }
        if name == CLUSTER_ECHO {
            return Some(Subject::ClusterEcho);
        }
        if name == RAYON_INSTALL {
            return Some(Subject::RayonInstall);
        }
        pool_task_models()
            .find(|m| pool_task(m.name) == name)
            .map(Subject::PoolTask)
    }

    /// Its name in `ipc/pingpong` and on the command line.
    pub fn name(&self) -> String {
        match self {
            Subject::Channel(c) => c.name().to_owned(),
            Subject::PoolTask(m) => pool_task(m.name),
            Subject::Memcpy => MEMCPY.to_owned(),
            Subject::CopyPair => COPY_PAIR.to_owned(),
            Subject::CopyAcross => COPY_ACROSS.to_owned(),
            Subject::ReadAcross => READ_ACROSS.to_owned(),
            Subject::PoolWork => POOL_WORK.to_owned(),
            Subject::ClusterEcho => CLUSTER_ECHO.to_owned(),
            Subject::RayonInstall => RAYON_INSTALL.to_owned(),
        }
    }

    /// Opens it: a channel ([`Channel::open`]) or, for a pool task, its model started with
    /// the workers its benchmark uses ([`Transport::workers`](crate::Transport)).
    pub fn open(&self) -> io::Result<Box<dyn RoundTrip>> {
        match self {
            Subject::Channel(c) => c.open(),
            Subject::PoolTask(m) => Ok(Box::new(TaskPeer::start(m)?)),
            Subject::Memcpy => Ok(Box::new(MemcpyPeer::default())),
            Subject::CopyPair => Ok(Box::new(CopyPairPeer::start()?)),
            Subject::CopyAcross => Ok(Box::new(CopyAcrossPeer::start(
                concur_channels::MAX_PAYLOAD,
            )?)),
            Subject::ReadAcross => Ok(Box::new(ReadAcrossPeer::default())),
            Subject::PoolWork => Ok(Box::new(WorkPeer::start()?)),
            Subject::ClusterEcho => Ok(Box::new(EchoPeer(
                crate::models::cluster_of_two()
                    .map_err(|e| io::Error::other(format!("{CLUSTER_ECHO}: {e}")))?,
            ))),
            Subject::RayonInstall => Ok(Box::new(InstallPeer(
                concur_threads::RayonPool::new(1)
                    .map_err(|e| io::Error::other(format!("{RAYON_INSTALL}: {e}")))?,
            ))),
        }
    }

    /// Whether it runs through a cluster (`cluster-task`, `cluster-echo`): process 0 here,
    /// the other process started by the cluster, which pins it when a pair is pinned.
    fn is_cluster(&self) -> bool {
        match self {
            Subject::PoolTask(m) => m.name == crate::names::CLUSTER,
            Subject::ClusterEcho => true,
            _ => false,
        }
    }

    /// Whether it carries the caller's bytes (a channel that is not a floor, or
    /// `memcpy`): floors carry one word, pool tasks one empty task.
    pub fn carries_bytes(&self) -> bool {
        match self {
            Subject::Channel(c) => !c.spec().is_floor,
            Subject::PoolTask(_)
            | Subject::PoolWork
            | Subject::ClusterEcho
            | Subject::RayonInstall => false,
            Subject::Memcpy | Subject::CopyPair | Subject::CopyAcross | Subject::ReadAcross => true,
        }
    }
}

impl PartialEq for Subject {
    fn eq(&self, other: &Subject) -> bool {
        match (self, other) {
            (Subject::Channel(a), Subject::Channel(b)) => a == b,
            (Subject::PoolTask(a), Subject::PoolTask(b)) => std::ptr::eq(*a, *b),
            (Subject::Memcpy, Subject::Memcpy)
            | (Subject::CopyPair, Subject::CopyPair)
            | (Subject::CopyAcross, Subject::CopyAcross)
            | (Subject::ReadAcross, Subject::ReadAcross)
            | (Subject::PoolWork, Subject::PoolWork)
            | (Subject::ClusterEcho, Subject::ClusterEcho)
            | (Subject::RayonInstall, Subject::RayonInstall) => true,
            _ => false,
        }
    }
}

/// The models with a transport, in the order of their channels (`ipc/pingpong` lists each
/// pool task after the channels, in that order).
pub fn pool_task_models() -> impl Iterator<Item = &'static ModelSpec> {
    let mut with: Vec<(usize, &'static ModelSpec)> = models()
        .iter()
        .filter_map(|m| {
            let channel = m.transport?.channel;
            Some((Channel::ALL.iter().position(|&c| c == channel)?, m))
        })
        .collect();
    with.sort_by_key(|&(at, _)| at);
    with.into_iter().map(|(_, m)| m)
}

/// The function in `ipc/pingpong` that sends one empty task through the model `model`.
pub fn pool_task(model: &str) -> String {
    format!("{model}-task")
}

/// Every pool task's name, in the order of their channels.
pub fn pool_task_names() -> Vec<String> {
    pool_task_models().map(|m| pool_task(m.name)).collect()
}

/// Whether `name` is something [`Subject::open`] opens: a channel, a floor or a pool task.
pub fn is_round_trip(name: &str) -> bool {
    Subject::parse(name).is_some()
}

/// `unknown channel 'x' (valid: …; floors: …; pool tasks: …; their own work: pool-work; the
/// cluster's echo: cluster-echo; rayon's hand-off: rayon-install; copy floors: memcpy,
/// copy-pair, copy-across, read-across)`, for an error message.
pub fn unknown_round_trip(name: &str) -> String {
    format!(
        "{}; pool tasks: {}; their own work: {POOL_WORK}; the cluster's echo: {CLUSTER_ECHO}; \
         rayon's hand-off: {RAYON_INSTALL}; copy floors: {MEMCPY}, {COPY_PAIR}, {COPY_ACROSS}, \
         {READ_ACROSS})",
        unknown_channel(name).trim_end_matches(')'),
        pool_task_names().join(", ")
    )
}

/// Opens the subject called `name` ([`Subject::open`]).
pub fn open(name: &str) -> io::Result<Box<dyn RoundTrip>> {
    match Subject::parse(name) {
        Some(subject) => subject.open(),
        None => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            unknown_round_trip(name),
        )),
    }
}

/// Opens `name` ([`open`]) and times `round_trips` round trips of `bytes` bytes through it,
/// one sample per round trip (`concur pingpong`); with `pin`, on that CPU pair.
pub fn pingpong(
    name: &str,
    round_trips: usize,
    bytes: usize,
    pin: Option<CpuPair>,
) -> io::Result<PingPongReport> {
    let pinned = pin.map(Pinned::new).transpose()?;
    let mut peer = open(name)?;
    let report = time_round_trips(name, peer.as_mut(), round_trips, bytes)?;
    Ok(PingPongReport {
        pinned: pinned.as_ref().map(Pinned::pair),
        ..report
    })
}

/// Whether `name` is a channel or floor whose ends spin ([`Channel::spins`]), or
/// `copy-pair`, `copy-across` or `read-across` (whose helpers spin).
pub fn spins(name: &str) -> bool {
    match Subject::parse(name) {
        Some(Subject::Channel(c)) => c.spins(),
        Some(Subject::CopyPair | Subject::CopyAcross | Subject::ReadAcross) => true,
        _ => false,
    }
}

/// Whether `name` polls across processes by yielding the CPU between looks (`tcp-relay`,
/// `cluster-task`, `cluster-echo`: their workers and caller poll for 200 µs, and their
/// network threads block). Seven threads or more on two CPUs: which of them the scheduler
/// puts together decides the round trip (the same relay takes 15 µs in one instance and
/// 50 µs in the next, unpinned), so a comparison of them is read in one placement too.
pub fn yields(name: &str) -> bool {
    match Subject::parse(name) {
        Some(Subject::Channel(c)) => c == Channel::TcpRelay,
        Some(s) => s.is_cluster(),
        None => false,
    }
}

/// Whether `name` can be pinned: a channel or floor between this process and an echo
/// child, `memcpy` (this thread alone), or a cluster's task or echo (process 0 on the
/// pair's first CPU, the other process on its second: `concur_cluster::Options::member_cpu`).
/// (Threads and pool workers started from a pinned thread inherit its one CPU, so pinning
/// them would put both ends on it.)
pub fn pinnable(name: &str) -> bool {
    match Subject::parse(name) {
        Some(Subject::Channel(c)) => c.spec().peers == Peers::Processes,
        Some(Subject::Memcpy | Subject::CopyPair | Subject::CopyAcross | Subject::ReadAcross) => {
            true
        }
        Some(s) => s.is_cluster(),
        None => false,
    }
}

/// Whether `concur pingpong` and the paired rounds pin these subjects by default: every one
/// can be pinned, and one of them spins or [`yields`].
pub fn pin_by_default(names: &[&str]) -> bool {
    names.iter().all(|n| pinnable(n)) && names.iter().any(|n| spins(n) || yields(n))
}

/// The empty task (one zero-millisecond sleep) and sequential's checksum of it.
struct EmptyTask {
    batch: Batch,
    expected: u64,
}

impl EmptyTask {
    fn prepare() -> io::Result<EmptyTask> {
        let batch = EMPTY
            .prepare(&Params { tasks: 1, size: 0 })
            .map_err(|e| io::Error::other(e.to_string()))?;
        let expected = reference_checksum(&batch).map_err(|e| io::Error::other(e.to_string()))?;
        Ok(EmptyTask { batch, expected })
    }

    /// Checks `who`'s outputs of the empty task against sequential's.
    fn check(&self, who: &str, outputs: &[TaskOutput]) -> io::Result<()> {
        if self.batch.checksum_of(outputs) != self.expected {
            return Err(io::Error::other(format!(
                "{who} gave a wrong result for the empty task"
            )));
        }
        Ok(())
    }
}

/// A started pool and the empty task it runs.
struct TaskPeer {
    model: Box<dyn Model>,
    task: EmptyTask,
}

impl TaskPeer {
    fn start(spec: &'static ModelSpec) -> io::Result<TaskPeer> {
        let name = spec.name;
        let workers = spec.transport.map_or(1, |t| t.workers);
        let task = EmptyTask::prepare()?;
        let model = spec
            .build(workers)
            .map_err(|e| io::Error::other(format!("{name} did not start: {e}")))?;
        Ok(TaskPeer { model, task })
    }
}

impl RoundTrip for TaskPeer {
    /// Runs the empty task once and checks its result; the payload is not sent (a pool
    /// task carries no message of the caller's).
    fn round_trip(&mut self, _payload: &[u8]) -> io::Result<()> {
        let outputs = self
            .model
            .run(&self.task.batch, Echo::Off)
            .map_err(|e| io::Error::other(format!("{}: {e}", self.model.name())))?;
        self.task.check(self.model.name(), &outputs)
    }
}

/// [`POOL_WORK`] as a round trip: the empty task through what a process pool does to it
/// besides carrying it ([`models::pool_work`](crate::models)): the pools' scheduler with
/// the worker's handler in this thread, no transport and no other process.
struct WorkPeer {
    pool: concur_procs::InThreadPool,
    task: EmptyTask,
}

impl WorkPeer {
    fn start() -> io::Result<WorkPeer> {
        let pool = concur_procs::InThreadPool::new(crate::worker::handle)
            .map_err(|e| io::Error::other(format!("{POOL_WORK}: {e}")))?;
        Ok(WorkPeer {
            pool,
            task: EmptyTask::prepare()?,
        })
    }
}

impl RoundTrip for WorkPeer {
    fn round_trip(&mut self, _payload: &[u8]) -> io::Result<()> {
        let outputs = crate::models::pool_work(&mut self.pool, &self.task.batch, Echo::Off)
            .map_err(|e| io::Error::other(format!("{POOL_WORK}: {e}")))?;
        self.task.check(POOL_WORK, &outputs)
    }
}

/// [`CLUSTER_ECHO`] as a round trip: a two-process cluster, handed one echo a call.
struct EchoPeer(crate::models::ClusterOfTwo);

impl RoundTrip for EchoPeer {
    /// One echo, timed around the call as a `cluster-task` is: the hand-off to process 0's
    /// worker and back included (the worker's own timing of it is left aside: a unit
    /// cannot go without the hand-off).
    fn round_trip(&mut self, _payload: &[u8]) -> io::Result<()> {
        self.0.echo(1).map(drop)
    }
}

/// [`RAYON_INSTALL`] as a round trip: a one-thread rayon pool, one empty `install` a call.
struct InstallPeer(concur_threads::RayonPool);

impl RoundTrip for InstallPeer {
    /// Installs an empty closure and checks what it gave back (the payload is not sent).
    fn round_trip(&mut self, _payload: &[u8]) -> io::Result<()> {
        let x = std::hint::black_box(41u64);
        if self.0.install(move || x + 1) != 42 {
            return Err(io::Error::other(format!(
                "{RAYON_INSTALL} gave a wrong answer"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pool_tasks_name_their_models() {
        let cluster = crate::model(crate::names::CLUSTER).unwrap();
        assert_eq!(
            Subject::parse(&pool_task(crate::names::CLUSTER)),
            Some(Subject::PoolTask(cluster))
        );
        assert_eq!(Subject::parse("tcp"), Some(Subject::Channel(Channel::Tcp)));
        assert_eq!(Subject::parse("sequential-task"), None);
        assert_eq!(Subject::PoolTask(cluster).name(), "cluster-task");
        assert!(is_round_trip("tcp") && is_round_trip("shm-pool-task"));
        assert!(!is_round_trip("nope-task"));
        let msg = unknown_round_trip("nope");
        assert!(msg.contains("pool tasks: ") && msg.contains("process-pool-task"));
        assert!(msg.ends_with(')'), "{msg}");
    }

    #[test]
    fn polling_subjects_between_processes_are_pinned_by_default() {
        // Spinning pairs, and the relay and the cluster (whose threads yield as they poll).
        assert!(pin_by_default(&["shm-spin", "atomic-spin"]));
        assert!(pin_by_default(&[
            "cluster-task",
            "tcp-relay",
            "cluster-echo"
        ]));
        assert!(yields("tcp-relay") && yields("cluster-task") && yields("cluster-echo"));
        assert!(!yields("tcp") && !yields("process-pool-task") && !yields("atomic-spin"));
        // Blocking channels are left to the scheduler; pools whose workers are threads, or
        // processes the pool starts, cannot be pinned at all.
        assert!(!pin_by_default(&["tcp", "pipe"]));
        assert!(!pin_by_default(&["shm-pool-task", "shm-adaptive"]));
        assert!(!pinnable("thread-pool-task") && !pinnable("shm-pool-task"));
        assert!(pinnable("cluster-task") && pinnable("cluster-echo") && pinnable("tcp-relay"));
    }
}
