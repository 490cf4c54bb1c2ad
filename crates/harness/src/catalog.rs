//! The registries as the report sees them: [`catalog`] turns the models, workloads and
//! channels, and the bench groups built from them, into a [`concur_report::Catalog`]
//! (`concur list --json` prints it; `cargo xtask bench` saves it with the run). The report
//! and the docs' tables read only this, so they name nothing themselves.

use concur_channels::{Channel, Peers, READ_ACROSS, SpawnFloor, channels};
use concur_http::TcpFloor;
use concur_report::catalog::{
    self as c, Against, Axis, BenchSize, Catalog, ChannelEntry, Compare, Comparison,
    DefaultWorkers, GroupEntry, Handoff, ModelEntry, ModuleEntry, ModuleRole, Reach, Roles,
    WorkloadEntry,
};
use concur_workloads::{Grayscale, HttpFetch, Kind, Primes, SeedSquareCube, SharedSum};

use crate::models::{Family, ModelSpec, models, names};
use crate::round_trips::{Subject, pool_task_models};
use crate::spawn::Starter;
use crate::{Profile, ProfileSizes};

/// The bench group of spawn+join costs (`benches/spawn.rs`).
pub use crate::spawn::SPAWN_GROUP;
/// The bench group of small round trips per channel (`benches/ipc.rs`).
pub const PINGPONG_GROUP: &str = "ipc/pingpong";
/// The bench group of 1 MiB transfers per channel (`benches/ipc.rs`).
pub const BULK_GROUP: &str = "ipc/bulk-1MiB";
/// The bulk group's message: 1 MiB.
pub const BULK_BYTES: usize = 1 << 20;
/// The copying channels' floor in [`BULK_GROUP`]: two copies at once, one on each CPU.
pub use crate::round_trips::COPY_PAIR;
/// The bandwidth floor of [`BULK_GROUP`] (defined beside the other round trips).
pub use crate::round_trips::MEMCPY;
/// The copying ring's transfer with no ring around it, in [`BULK_GROUP`].
pub use crate::round_trips::{CLUSTER_ECHO, COPY_ACROSS, POOL_WORK, RAYON_INSTALL};

pub use crate::round_trips::pool_task;

/// The crates that stand for `threading` and `multiprocessing` (the report's "Module used"
/// row): what the thread models run on beside `std::thread`, what carries tasks between
/// processes, what makes the shared memory.
const MODULES: [(&str, ModuleRole); 5] = [
    ("crossbeam-channel", ModuleRole::Threads),
    ("rayon", ModuleRole::Threads),
    ("tokio", ModuleRole::Threads),
    ("ipc-channel", ModuleRole::ProcessChannel),
    ("rustix", ModuleRole::SharedMemory),
];

/// The registries, the bench groups and the roles the report's verdicts read.
pub fn catalog() -> Catalog {
    let mut groups = vec![spawn_group()];
    groups.extend(
        concur_workloads::all()
            .iter()
            .map(|w| workload_group(w.info())),
    );
    let (pingpong, bulk) = ipc_groups();
    groups.extend([pingpong, bulk]);
    Catalog {
        models: models().iter().map(model_entry).collect(),
        workloads: concur_workloads::all()
            .iter()
            .map(|w| workload_entry(w.info()))
            .collect(),
        channels: channels()
            .iter()
            .map(|ch| ChannelEntry {
                name: ch.name().to_owned(),
                peers: peers(ch.peers),
                summary: ch.summary.to_owned(),
                is_floor: ch.is_floor,
                floor: ch.floor.map(|f| f.name().to_owned()),
            })
            .collect(),
        groups,
        roles: roles(),
        handoffs: pool_task_models()
            .map(|m| Handoff {
                model: m.name.to_owned(),
                group: PINGPONG_GROUP.to_owned(),
                function: pool_task(m.name),
            })
            .collect(),
        comparisons: comparisons(),
        modules: MODULES
            .iter()
            .map(|&(name, role)| ModuleEntry {
                name: name.to_owned(),
                role,
            })
            .collect(),
    }
}

fn model_entry(m: &ModelSpec) -> ModelEntry {
    ModelEntry {
        name: m.name.to_owned(),
        family: m.family,
        summary: m.summary.to_owned(),
        default_workers: match (m.family, m.per_task) {
            (Family::Sequential, _) => DefaultWorkers::One,
            (_, true) => DefaultWorkers::Tasks,
            (_, false) => DefaultWorkers::Cores,
        },
        idle_bench_workers: m.idle.as_ref().and_then(|p| p.bench_workers),
    }
}

fn workload_entry(i: &concur_workloads::Info) -> WorkloadEntry {
    WorkloadEntry {
        name: i.name.to_owned(),
        kind: kind(i.kind),
        summary: i.summary.to_owned(),
        default_tasks: i.default_tasks,
        default_size: i.default_size,
        size: i.size_meaning.to_owned(),
        bench_group: i.bench_group(),
        python: i.python,
        bench: Profile::ALL
            .iter()
            .map(|&p| {
                let params = p.bench_params(i);
                BenchSize {
                    profile: p,
                    tasks: params.tasks,
                    size: params.size,
                }
            })
            .collect(),
    }
}

fn spawn_group() -> GroupEntry {
    GroupEntry {
        id: SPAWN_GROUP.to_owned(),
        about: format!(
            "Spawn+join of one no-op worker, the way each model starts its workers \
             (`{}`: a plain function call).",
            names::SEQUENTIAL
        ),
        compare: Compare::CostOf(names::THREAD_PER_TASK.to_owned()),
        axis: Axis::None,
        bars: false,
        extra_functions: SpawnFloor::ALL
            .iter()
            .map(|f| f.name().to_owned())
            .collect(),
    }
}

/// A workload's group: I/O is read against the model that never blocks a thread, the rest
/// as speedups over `sequential`.
fn workload_group(i: &concur_workloads::Info) -> GroupEntry {
    let io = i.kind == Kind::IoBound;
    GroupEntry {
        id: i.bench_group(),
        about: i.bench_description.to_owned(),
        compare: if io {
            Compare::CostOf(names::TOKIO.to_owned())
        } else {
            Compare::SpeedupOver(names::SEQUENTIAL.to_owned())
        },
        axis: if io { Axis::Concurrency } else { Axis::Workers },
        bars: false,
        extra_functions: if i.name == HttpFetch::NAME {
            vec![TcpFloor::NAME.to_owned()]
        } else {
            Vec::new()
        },
    }
}

/// `subject` read against `against` in `group` at `param`, paired the way its kind is
/// (no reach: the caller adds one).
fn cmp(
    group: &str,
    param: Option<&str>,
    subject: &str,
    against: &str,
    kind: Against,
    target: Option<f64>,
) -> Comparison {
    // Two channels (or pool tasks, or copy floors) of the ping-pong or the bulk group:
    // `concur pingpong --against` pairs them (the bulk group's with `--bytes`), rows for
    // scale too (a bulk one costs about 2.5 s of a full run: 80 ms of warm-up a batch).
    let round_trips = (group == PINGPONG_GROUP || group == BULK_GROUP)
        && Subject::parse(subject).is_some()
        && Subject::parse(against).is_some();
    // Starting a worker against starting a process: `concur spawn --against`.
    let starts = group == SPAWN_GROUP
        && Starter::parse(subject).is_some()
        && Starter::parse(against).is_some();
    // A model against the floor under its workload: `concur compare --floor`.
    let under_floor = against == TcpFloor::NAME && crate::model(subject).is_some();
    let paired = round_trips || starts || under_floor;
    let bytes = (paired && group == BULK_GROUP).then_some(BULK_BYTES);
    Comparison {
        group: group.to_owned(),
        param: param.map(str::to_owned),
        subject: subject.to_owned(),
        against: against.to_owned(),
        kind,
        target,
        paired,
        bytes,
        reach: None,
    }
}

/// What each model or channel is read against, and the target (docs/ARCHITECTURE.md,
/// "Floors and peers", says why each).
fn comparisons() -> Vec<Comparison> {
    let floor = Against::Floor;
    let (exec, fork) = (SpawnFloor::ExecSelf.name(), SpawnFloor::ForkExit.name());
    let mut out = Vec::new();
    // Starting a worker process: no more than half again what exec of this binary costs.
    for m in [
        names::PROCESS_PER_TASK,
        names::PROCESS_POOL,
        names::SHM_POOL,
    ] {
        out.push(cmp(SPAWN_GROUP, None, m, exec, floor, Some(1.5)));
    }
    out.push(cmp(SPAWN_GROUP, None, exec, fork, floor, None));
    // Fetches: tokio within 15% of raw loopback TCP at the same concurrency.
    let fetch = concur_workloads::AnyWorkload::info(&HttpFetch).bench_group();
    for n in ["64", "512"] {
        out.push(cmp(
            &fetch,
            Some(n),
            names::TOKIO,
            TcpFloor::NAME,
            floor,
            Some(1.15),
        ));
    }
    // Channels: each against the floor under it; a model's hand-off against its channel.
    for ch in channels() {
        if let Some(under) = ch.floor {
            let (subject, against) = (ch.name(), under.name());
            out.push(cmp(
                PINGPONG_GROUP,
                None,
                subject,
                against,
                floor,
                ch.target,
            ));
        }
        // A model's hand-off against its channel, right after the channel.
        for m in models() {
            if let Some(t) = m.transport.filter(|t| t.channel == ch.channel) {
                let task = pool_task(m.name);
                let target = Some(t.target);
                let mut row = cmp(PINGPONG_GROUP, None, &task, ch.name(), floor, target);
                // A process pool's task crosses its transport and goes through what every
                // process pool does besides (frame, scheduler, handler, reply decoded), one
                // after the other: timed beside the two, that work says how low the ratio
                // can go at all.
                if t.pool_work {
                    row.reach = Some(Reach {
                        part: POOL_WORK.to_owned(),
                        after_against: true,
                    });
                }
                // A cluster's unit is handed to process 0's timely worker, rides timely's
                // exchange (over the relay) and is handed back, and more: an empty unit
                // on that path alone (no job, no run, no result) is the least it can take.
                if m.name == names::CLUSTER {
                    row.reach = Some(Reach {
                        part: CLUSTER_ECHO.to_owned(),
                        after_against: false,
                    });
                }
                // A rayon task is rayon's own `install` from outside the pool (its
                // injector, sleep counters and idle rounds around the latch), and the
                // model's iterator and batch besides: a bare install is the least it takes.
                if m.name == names::RAYON {
                    row.reach = Some(Reach {
                        part: RAYON_INSTALL.to_owned(),
                        after_against: false,
                    });
                }
                out.push(row);
            }
        }
    }
    let (spin, loan, iox) = (
        Channel::ShmSpin.name(),
        Channel::ShmLoan.name(),
        Channel::Iceoryx2.name(),
    );
    out.push(cmp(
        PINGPONG_GROUP,
        None,
        spin,
        iox,
        Against::Peer,
        Some(1.0),
    ));
    // 1 MiB: the copying ring at half of memcpy's bandwidth or better; against the copy
    // between two cores, which moves with the VM's placement; iceoryx2 for scale.
    // Its reach: the ring's own transfer with no ring around it (`copy-across`, timed in
    // the same rounds): when that alone is over twice memcpy, the placement forbids the
    // target (docs/ARCHITECTURE.md, "The bulk row's reach").
    let mut bulk = cmp(BULK_GROUP, None, spin, MEMCPY, floor, Some(2.0));
    bulk.reach = Some(Reach {
        part: COPY_ACROSS.to_owned(),
        after_against: false,
    });
    out.push(bulk);
    // The ring against its own transfer with no ring around it (paired): what the protocol
    // adds, apart from what the placement makes the transfer itself cost, which the next
    // rows read against memcpy: the transfer, and two copies at once (a copying channel
    // copies in on one CPU while the other copies out; on some placements the two share
    // one core's bandwidth).
    out.push(cmp(BULK_GROUP, None, spin, COPY_ACROSS, floor, Some(1.25)));
    out.push(cmp(BULK_GROUP, None, COPY_ACROSS, MEMCPY, floor, None));
    out.push(cmp(BULK_GROUP, None, COPY_PAIR, MEMCPY, floor, None));
    out.push(cmp(BULK_GROUP, None, iox, MEMCPY, floor, None));
    out.push(cmp(BULK_GROUP, None, spin, iox, Against::Peer, None));
    // Zero-copy: concur-shm's slots no slower than iceoryx2's loaned samples.
    out.push(cmp(BULK_GROUP, None, loan, iox, Against::Peer, Some(1.0)));
    out.push(cmp(BULK_GROUP, None, loan, MEMCPY, floor, None));
    out
}

/// The `ipc` groups, described from the channel registry.
fn ipc_groups() -> (GroupEntry, GroupEntry) {
    let list = |names: Vec<&str>| {
        names
            .iter()
            .map(|n| format!("`{n}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let between = |p: Peers| {
        list(
            channels()
                .iter()
                .filter(|ch| ch.peers == p && !ch.is_floor)
                .map(|ch| ch.name())
                .collect(),
        )
    };
    let floors = |p: Peers| {
        list(
            channels()
                .iter()
                .filter(|ch| ch.is_floor && ch.peers == p)
                .map(|ch| ch.name())
                .collect(),
        )
    };
    let pool_tasks = pool_task_models()
        .map(|m| {
            let channel = m
                .transport
                .expect("a pool task's model has a transport")
                .channel;
            format!(
                "`{}` is one empty task through `{}`, read against its transport `{channel}`",
                pool_task(m.name),
                m.name
            )
        })
        .collect::<Vec<_>>()
        .join("; ");
    // The channel every other is compared with: the transport of the process pool.
    let reference = crate::model(names::PROCESS_POOL)
        .and_then(|m| m.transport)
        .map_or(names::PROCESS_POOL, |t| t.channel.name())
        .to_owned();
    let pingpong = GroupEntry {
        id: PINGPONG_GROUP.to_owned(),
        about: format!(
            "One 8-byte round trip per channel: between two threads {}; between a thread and \
             a task {}; between two processes {}. The floors {} bounce one word between the \
             same two processes: the shm channels are read against them; the floor {} posts a \
             word to a spinning thread and sleeps on a mutex and condvar for the answer. \
             {pool_tasks}; `{POOL_WORK}` is what a process pool does to the empty task \
             besides carrying it (its frame, the pool's scheduler, the worker's handler, the \
             reply decoded), in one thread.",
            between(Peers::Threads),
            between(Peers::ThreadAndTask),
            between(Peers::Processes),
            floors(Peers::Processes),
            floors(Peers::Threads),
        ),
        compare: Compare::CostOf(reference.clone()),
        axis: Axis::None,
        bars: true,
        extra_functions: pool_task_models()
            .map(|m| pool_task(m.name))
            .chain([POOL_WORK.to_owned()])
            .collect(),
    };
    let bulk = GroupEntry {
        id: BULK_GROUP.to_owned(),
        about: format!(
            "1 MiB to the peer and an 8-byte acknowledgement back; `{MEMCPY}` is one thread \
             copying the MiB, the bandwidth floor within one core; `{READ_ACROSS}` is the MiB \
             written by one process and copied out by another (only the copy out timed), the \
             floor of a copying transfer between two cores, which on a VM changes with where \
             the host places its virtual CPUs; `{COPY_PAIR}` is two threads, one on each CPU \
             of the pinned pair, each copying the MiB at once, the floor of a copying channel \
             (a copy in and a copy out at the same time), which on some placements share one \
             core's bandwidth; `{COPY_ACROSS}` is the copying ring's transfer with no ring \
             around it: the MiB written by one thread a chunk at a time and copied out on the \
             other CPU as each chunk is published. Between threads the buffer is moved, not \
             copied: sharing an address space is the point."
        ),
        compare: Compare::CostOf(reference),
        axis: Axis::None,
        bars: false,
        extra_functions: vec![
            MEMCPY.to_owned(),
            READ_ACROSS.to_owned(),
            COPY_PAIR.to_owned(),
            COPY_ACROSS.to_owned(),
        ],
    };
    (pingpong, bulk)
}

/// Who plays which part in the tutorial's table.
fn roles() -> Roles {
    Roles {
        sequential: names::SEQUENTIAL.to_owned(),
        thread_per_task: names::THREAD_PER_TASK.to_owned(),
        thread_pool: names::THREAD_POOL.to_owned(),
        gil_threads: names::GIL_THREADS.to_owned(),
        process_per_task: names::PROCESS_PER_TASK.to_owned(),
        process_pool: names::PROCESS_POOL.to_owned(),
        shm_pool: names::SHM_POOL.to_owned(),
        tasks: names::TOKIO.to_owned(),
        seed_workload: SeedSquareCube::NAME.to_owned(),
        cpu_workload: Primes::NAME.to_owned(),
        image_workload: Grayscale::NAME.to_owned(),
        io_workload: HttpFetch::NAME.to_owned(),
        shared_workload: SharedSum::NAME.to_owned(),
        spawn_group: SPAWN_GROUP.to_owned(),
        cluster: names::CLUSTER.to_owned(),
        loopback_tcp: Channel::Tcp.name().to_owned(),
    }
}

fn kind(k: Kind) -> c::Kind {
    match k {
        Kind::Seed => c::Kind::Seed,
        Kind::CpuBound => c::Kind::CpuBound,
        Kind::IoBound => c::Kind::IoBound,
        Kind::SharedData => c::Kind::SharedData,
        Kind::Calibrated => c::Kind::Calibrated,
    }
}

fn peers(p: Peers) -> c::Peers {
    match p {
        Peers::Threads => c::Peers::Threads,
        Peers::ThreadAndTask => c::Peers::ThreadAndTask,
        Peers::Processes => c::Peers::Processes,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_entry_is_in_the_catalog() {
        let cat = catalog();
        assert_eq!(cat.models.len(), models().len());
        assert_eq!(cat.workloads.len(), concur_workloads::all().len());
        assert_eq!(cat.channels.len(), channels().len());
        // A group per workload, plus spawn and the two ipc groups.
        assert_eq!(cat.groups.len(), cat.workloads.len() + 3);
        for w in &cat.workloads {
            assert!(cat.group(&w.bench_group).is_some(), "{}", w.name);
        }
        // Every role names an entry that exists.
        let r = &cat.roles;
        for m in [
            &r.sequential,
            &r.thread_per_task,
            &r.thread_pool,
            &r.gil_threads,
            &r.process_per_task,
            &r.process_pool,
            &r.shm_pool,
            &r.tasks,
        ] {
            assert!(cat.model(m).is_some(), "{m}");
        }
        for w in [
            &r.seed_workload,
            &r.cpu_workload,
            &r.image_workload,
            &r.io_workload,
            &r.shared_workload,
        ] {
            assert!(cat.group_of(w).is_some(), "{w}");
        }
    }

    #[test]
    fn every_floors_row_is_read_from_paired_rounds() {
        // A ratio of two criterion figures may straddle a move of the virtual CPUs.
        let cat = catalog();
        assert!(!cat.comparisons.is_empty());
        for c in &cat.comparisons {
            assert!(c.paired, "{}/{} in {}", c.subject, c.against, c.group);
            // The bulk group's rows send its MiB.
            assert_eq!(c.bytes.is_some(), c.group == BULK_GROUP, "{}", c.subject);
        }
    }

    #[test]
    fn rows_with_a_reach_time_their_part_beside() {
        let cat = catalog();
        let reached: Vec<(&str, &str)> = cat
            .comparisons
            .iter()
            .filter_map(|c| Some((c.subject.as_str(), c.reach.as_ref()?.part.as_str())))
            .collect();
        assert_eq!(
            reached,
            [
                ("process-pool-task", POOL_WORK),
                ("shm-pool-task", POOL_WORK),
                ("rayon-task", RAYON_INSTALL),
                ("cluster-task", CLUSTER_ECHO),
                ("shm-spin", COPY_ACROSS)
            ]
        );
        // The parts are something `concur pingpong --beside` times.
        assert!(Subject::parse(POOL_WORK).is_some());
        assert!(Subject::parse(CLUSTER_ECHO).is_some());
        assert!(Subject::parse(RAYON_INSTALL).is_some());
        assert!(Subject::parse(COPY_ACROSS).is_some());
    }
}
