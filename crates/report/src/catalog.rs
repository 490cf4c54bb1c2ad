//! What the report knows about the things it measured: the models, workloads, channels and
//! bench groups of the run, as the registries described them (`concur list --json` prints
//! one). The report names nothing itself: every model, workload and group it reasons about
//! comes from here, and the verdicts find the models they test through [`Roles`].

use serde::{Deserialize, Serialize};

/// A snapshot of the registries a run was measured with.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    /// The models, in registry order.
    pub models: Vec<ModelEntry>,
    /// The workloads, in registry order.
    pub workloads: Vec<WorkloadEntry>,
    /// The channels of the ping-pong probe, in registry order.
    #[serde(default)]
    pub channels: Vec<ChannelEntry>,
    /// Every bench group: what it measures and how its figures compare.
    #[serde(default)]
    pub groups: Vec<GroupEntry>,
    /// Which entries play the parts the tutorial's table talks about.
    #[serde(default)]
    pub roles: Roles,
    /// Where each pool's hand-off cost (one empty task) is measured.
    #[serde(default)]
    pub handoffs: Vec<Handoff>,
    /// What each model or channel is read against: its floor or its best peer, with the
    /// target ratio, for the report's "floors and peers" table.
    #[serde(default)]
    pub comparisons: Vec<Comparison>,
    /// The crates that stand for `threading` and `multiprocessing` (the run looks up their
    /// versions in the lockfile).
    #[serde(default)]
    pub modules: Vec<ModuleEntry>,
}

/// `subject`'s time over `against`'s in `group` at `param`, and the most it should be.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Comparison {
    /// The bench group.
    pub group: String,
    /// The parameter, if the group has one.
    pub param: Option<String>,
    /// The model or channel read.
    pub subject: String,
    /// What it is read against.
    pub against: String,
    /// A floor (the mechanism's least cost) or a peer (another implementation).
    pub kind: Against,
    /// The most `subject / against` should be, if there is a target.
    pub target: Option<f64>,
    /// Whether the run measures the two in paired rounds besides criterion's samples: its
    /// ratio is then read from those rounds. Two channels, floors, pool tasks or copy floors
    /// (`concur pingpong --against`), a worker's start and a process's (`concur spawn
    /// --against`), or a model and the floor under its workload (`concur compare
    /// --floor`).
    #[serde(default)]
    pub paired: bool,
    /// The bytes each paired round trip sends when not the ping-pong's 8 (the bulk group's
    /// MiB: `concur pingpong --bytes`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<usize>,
    /// What bounds the ratio from below, timed in the same paired rounds: when even the
    /// bound is over the target, the row is out of reach on this machine (the report says
    /// why, with the bound's figures).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reach: Option<Reach>,
}

/// A part of `subject`'s work, timed as its own round trip beside the two sides of a
/// [`Comparison`], that no `subject` can take less than: a process pool's task does its
/// transport's round trip *and* the pool's own work on the task (`pool-work`: frame,
/// scheduler, handler, reply decoded), one after the other; a cluster's unit takes the path of an empty one (`cluster-echo`: handed to
/// process 0's timely worker, through timely's exchange to process 1 and back, handed back)
/// and more.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Reach {
    /// The part, timed alone (a subject of `concur pingpong`).
    pub part: String,
    /// Whether `subject` does the part on top of `against` (a pool task: its transport's
    /// round trip, then its own work), so the ratio is at least `1 + part / against`; otherwise
    /// it is at least `part / against` (the part is the subject's own floor).
    pub after_against: bool,
}

impl Reach {
    /// The least `subject / against` can be, given `part / against`.
    pub fn least(&self, part_over_against: f64) -> f64 {
        if self.after_against {
            1.0 + part_over_against
        } else {
            part_over_against
        }
    }
}

/// What a comparison reads a figure against.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Against {
    /// The least the mechanism costs on this machine.
    Floor,
    /// Another implementation of the same thing.
    Peer,
}

/// Where a model's hand-off cost is measured: one empty task through it, as `function` in
/// `group`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Handoff {
    /// The model.
    pub model: String,
    /// The bench group.
    pub group: String,
    /// The function in it.
    pub function: String,
}

/// A workload's bench batch at one profile.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BenchSize {
    /// `smoke`, `quick` or `full`.
    pub profile: crate::Profile,
    /// Tasks per batch.
    pub tasks: usize,
    /// The workload's size.
    pub size: u64,
}

/// One model.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModelEntry {
    /// CLI name.
    pub name: String,
    /// The family it belongs to.
    pub family: Family,
    /// How it runs tasks, one line (`WORKERS`, `TASKS`, `SIZE` stand for the CLI flags).
    pub summary: String,
    /// What `--workers` defaults to.
    pub default_workers: DefaultWorkers,
    /// Idle workers `cargo xtask bench` probes per profile (smoke, quick, full), if any.
    #[serde(default)]
    pub idle_bench_workers: Option<[usize; 3]>,
}

/// What a model's `--workers` defaults to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DefaultWorkers {
    /// One (`sequential`).
    #[serde(rename = "1")]
    One,
    /// One per task: every task at once.
    #[serde(rename = "tasks")]
    Tasks,
    /// The machine's cores.
    #[serde(rename = "cores")]
    Cores,
}

impl DefaultWorkers {
    /// As the docs' tables write it: `1`, `tasks`, `cores`.
    pub fn label(self) -> &'static str {
        match self {
            DefaultWorkers::One => "1",
            DefaultWorkers::Tasks => "tasks",
            DefaultWorkers::Cores => "cores",
        }
    }
}

/// A crate that stands for one of Python's modules in the tutorial's "Module used" row.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ModuleEntry {
    /// The crate's name, as the lockfile has it.
    pub name: String,
    /// What it does in concur.
    pub role: ModuleRole,
}

/// What a crate of [`ModuleEntry`] does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModuleRole {
    /// Runs tasks on threads (beside `std::thread`): `threading`'s side.
    Threads,
    /// Carries tasks between processes: `multiprocessing`'s side.
    ProcessChannel,
    /// Makes the shared memory processes map.
    SharedMemory,
}

/// How a model runs its work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Family {
    /// The reference: one thread, no concurrency.
    Sequential,
    /// Threads of one process.
    Threads,
    /// Separate processes.
    Processes,
    /// Async tasks on a runtime.
    Tasks,
}

impl Family {
    /// The family as a reader says it.
    pub fn label(self) -> &'static str {
        match self {
            Family::Sequential => "reference",
            Family::Threads => "threads",
            Family::Processes => "processes",
            Family::Tasks => "async tasks",
        }
    }
}

/// What a workload stresses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// The tutorial's own example.
    Seed,
    /// Pure computation.
    CpuBound,
    /// Waiting on I/O.
    IoBound,
    /// A large input read by every worker.
    SharedData,
    /// CPU work whose size sets a task's duration (the granularity sweep's).
    Calibrated,
}

impl Kind {
    /// The kind as a reader says it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Seed => "the tutorial's example",
            Kind::CpuBound => "CPU-bound",
            Kind::IoBound => "I/O-bound",
            Kind::SharedData => "shared data",
            Kind::Calibrated => "calibrated CPU work",
        }
    }
}

/// One workload.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WorkloadEntry {
    /// CLI name.
    pub name: String,
    /// What it stresses.
    pub kind: Kind,
    /// What one task does (`SIZE` stands for `--size`).
    pub summary: String,
    /// `--tasks` default.
    pub default_tasks: usize,
    /// `--size` default.
    pub default_size: u64,
    /// What `--size` means.
    pub size: String,
    /// Its bench group, e.g. `cpu_bound/primes`.
    #[serde(default)]
    pub bench_group: String,
    /// Whether `python/concur_ref.py` has a CPython version of it.
    #[serde(default)]
    pub python: bool,
    /// Its bench batch per profile.
    #[serde(default)]
    pub bench: Vec<BenchSize>,
}

/// What a channel connects.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Peers {
    /// Two threads of one process.
    Threads,
    /// A thread and an async task.
    ThreadAndTask,
    /// Two processes.
    Processes,
}

impl Peers {
    /// The peers as a reader says them.
    pub fn label(self) -> &'static str {
        match self {
            Peers::Threads => "two threads",
            Peers::ThreadAndTask => "a thread and a task",
            Peers::Processes => "two processes",
        }
    }
}

/// One channel of the ping-pong probe.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ChannelEntry {
    /// CLI name.
    pub name: String,
    /// What it connects.
    pub peers: Peers,
    /// What it is, one line.
    pub summary: String,
    /// A floor (one word bounced), not a channel that carries a payload.
    pub is_floor: bool,
    /// The floor it is read against, if any.
    pub floor: Option<String>,
}

/// How a group's figures are compared.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Compare {
    /// `baseline median / median`: how many times faster than this function.
    SpeedupOver(String),
    /// `median / baseline median`: how many times this function's cost.
    CostOf(String),
}

/// What a group's parameter is, and so how it is plotted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Axis {
    /// Workers: plotted as speedup over the baseline.
    Workers,
    /// Concurrent requests: plotted as time per batch.
    Concurrency,
    /// No parameter: one figure per function, plotted as bars when [`GroupEntry::bars`].
    None,
}

/// One bench group.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GroupEntry {
    /// Criterion's group id, e.g. `cpu_bound/primes`.
    pub id: String,
    /// What it measures, for the reader.
    pub about: String,
    /// How its figures compare.
    pub compare: Compare,
    /// What its parameter is.
    pub axis: Axis,
    /// Whether the report draws it as one bar per function (log scale).
    #[serde(default)]
    pub bars: bool,
    /// The functions that are neither models nor channels (e.g. `memcpy`), in table order.
    #[serde(default)]
    pub extra_functions: Vec<String>,
}

/// The entries that play a part in the tutorial's table. The verdicts find what they test
/// here, never by a name of their own.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Roles {
    /// The reference every speedup is measured against (`sequential`).
    pub sequential: String,
    /// A thread per task.
    pub thread_per_task: String,
    /// A pool of threads.
    pub thread_pool: String,
    /// Threads behind an emulated interpreter lock.
    pub gil_threads: String,
    /// A process per task.
    pub process_per_task: String,
    /// A pool of processes over a channel.
    pub process_pool: String,
    /// A pool of processes over shared memory.
    pub shm_pool: String,
    /// Async tasks.
    pub tasks: String,
    /// The tutorial's own example workload.
    pub seed_workload: String,
    /// The CPU-bound computation.
    pub cpu_workload: String,
    /// Image processing.
    pub image_workload: String,
    /// Network fetches.
    pub io_workload: String,
    /// A large input shared by every worker.
    pub shared_workload: String,
    /// The group of spawn+join costs.
    pub spawn_group: String,
    /// Processes across hosts (empty in runs from before it existed).
    #[serde(default)]
    pub cluster: String,
    /// The raw loopback TCP round trip in the cluster's hand-off group, which a cluster's
    /// per-task overhead crosses (empty in runs from before it was named: the cluster's
    /// floor was raw TCP then).
    #[serde(default)]
    pub loopback_tcp: String,
}

impl Catalog {
    /// The group entry with this id.
    pub fn group(&self, id: &str) -> Option<&GroupEntry> {
        self.groups.iter().find(|g| g.id == id)
    }

    /// The bench group of workload `name`, if it is in the catalog.
    pub fn group_of(&self, workload: &str) -> Option<&str> {
        self.workloads
            .iter()
            .find(|w| w.name == workload)
            .map(|w| w.bench_group.as_str())
    }

    /// The model entry called `name`.
    pub fn model(&self, name: &str) -> Option<&ModelEntry> {
        self.models.iter().find(|m| m.name == name)
    }

    /// Table order of `function` in `group`: models first, then channels, then the group's
    /// other functions, then anything unknown.
    pub fn rank(&self, group: &str, function: &str) -> usize {
        let extras = self
            .group(group)
            .map_or(&[][..], |g| &g.extra_functions[..]);
        self.models
            .iter()
            .map(|m| m.name.as_str())
            .chain(self.channels.iter().map(|c| c.name.as_str()))
            .chain(extras.iter().map(String::as_str))
            .position(|n| n == function)
            .unwrap_or(usize::MAX)
    }
}
