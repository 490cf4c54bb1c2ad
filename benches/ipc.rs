//! Claim: "threads share memory; processes pay to communicate".
//!
//! Group `ipc/pingpong`: one 8-byte round trip per channel (threads: crossbeam, std-mpsc;
//! a thread and a tokio task: tokio-mpsc;
//! processes: pipe, unix-socket, ipc-channel, shm-spin, shm-futex, shm-adaptive), the floors under the
//! shm channels (`atomic-spin`: one word bounced by spinning; `futex`: by futex wait/wake,
//! between the same two processes), and `process-pool-task` / `shm-pool-task`: one empty task
//! through `process-pool` / `shm-pool` (one worker), whose overhead is read against
//! `ipc-channel` / `shm-adaptive`; `pool-work` is what those pools do to the task besides
//! carrying it (frame, scheduler, handler, reply decoded), in this thread.
//! Group `ipc/bulk-1MiB`: 1 MiB to the peer and an 8-byte acknowledgement back, with
//! `Throughput::Bytes`, so criterion reports bandwidth; `memcpy` is a single-thread copy of
//! the same MiB, the bandwidth floor within one core; `read-across` is the MiB written by this
//! process and copied out by the echo process (only the copy out timed), the floor of a
//! copying transfer between two cores; `copy-pair` is two threads, one on each CPU of the
//! pinned pair, copying the MiB at once (a copying channel's copy in and copy out);
//! `copy-across` is the copying ring's transfer with no ring around it (the MiB written here
//! a chunk at a time, copied out on the other CPU as each chunk is published). Between
//! threads the 1 MiB buffer is moved, not copied: that is the point of sharing an address
//! space.

mod common;

use concur::channels::pin::{CpuPair, Pinned};
use concur::channels::{READ_ACROSS, ReadAcross, channels};
use concur::harness::Profile;
use concur::harness::catalog::{
    BULK_GROUP, COPY_ACROSS, COPY_PAIR, MEMCPY, PINGPONG_GROUP, POOL_WORK, pool_task,
};
use concur::harness::round_trips::{pin_by_default, pool_task_models};
use concur::workloads::{Params, Sleep};
use criterion::Throughput;

/// A channel or pool task between processes whose ends spin or poll by yielding (the relay
/// and the cluster) runs pinned to the first two CPUs this process may use, as its paired
/// rounds do (one placement per comparison: `round_trips::pin_by_default`); others run
/// where the scheduler puts them.
fn pin(name: &str) -> Option<Pinned> {
    let pair = CpuPair::first_allowed().filter(|_| pin_by_default(&[name]))?;
    Some(Pinned::new(pair).expect("pinning to CPUs this process may use"))
}

/// The empty task of the `*-pool-task` benchmarks: a zero-millisecond sleep.
static SLEEP: Sleep = Sleep;

fn main() {
    // First thing: the echo peers and pool workers re-run this binary.
    concur::harness::init_workers();
    let profile = Profile::from_env();
    let mut c = common::criterion(profile);

    // Round trips converge fast: half the usual measurement time keeps the suite short.
    let half = profile.measurement_time() / 2;
    let mut group = c.benchmark_group(PINGPONG_GROUP);
    group.measurement_time(half);
    let ping = 42u64.to_le_bytes();
    for channel in channels().iter().map(|c| c.channel) {
        let _pinned = pin(channel.name());
        let mut peer = channel.open().expect("channel opens");
        group.bench_function(channel.name(), |b| {
            b.iter(|| peer.round_trip(&ping).expect("round trip"));
        });
    }
    let empty = common::Checked::new(&SLEEP, Params { tasks: 1, size: 0 });
    // Each model whose transport is a channel above: one empty task through it.
    for spec in pool_task_models() {
        let workers = spec.transport.map_or(1, |t| t.workers);
        // Pinned before it starts: a cluster's other process pins itself then.
        let _pinned = pin(&pool_task(spec.name));
        let pool = spec.build(workers).expect("pool starts");
        group.bench_function(pool_task(pool.name()), |b| {
            b.iter(|| empty.run_checked(pool.as_ref()));
        });
    }
    // What a process pool does to that task besides carrying it, in this thread.
    let mut work = concur::harness::round_trips::open(POOL_WORK).expect("pool-work opens");
    group.bench_function(POOL_WORK, |b| {
        b.iter(|| work.round_trip(&ping).expect("pool-work"));
    });
    group.finish();

    let mut group = c.benchmark_group(BULK_GROUP);
    group.measurement_time(half);
    let mib = vec![0xa5u8; 1 << 20];
    group.throughput(Throughput::Bytes(mib.len() as u64));
    for channel in channels().iter().filter(|c| !c.is_floor).map(|c| c.channel) {
        let _pinned = pin(channel.name());
        let mut peer = channel.open().expect("channel opens");
        group.bench_function(channel.name(), |b| {
            b.iter(|| peer.round_trip(&mib).expect("transfer"));
        });
    }
    let mut copy = vec![0u8; mib.len()];
    group.bench_function(MEMCPY, |b| {
        b.iter(|| copy.copy_from_slice(std::hint::black_box(&mib)));
    });
    // The copy across two cores, on the same pair as the spinning channels.
    let _pinned = CpuPair::first_allowed().map(|pair| Pinned::new(pair).expect("pin"));
    let mut across = ReadAcross::start(mib.len()).expect("read-across starts");
    group.bench_function(READ_ACROSS, |b| {
        // Only the other process's copy is timed (and the signals around it).
        b.iter_custom(|iters| {
            (0..iters)
                .map(|_| across.transfer(&mib).expect("read-across"))
                .sum()
        });
    });
    drop(across);
    // Two copies at once, one on each CPU of the pair (still pinned): a copying channel's
    // floor.
    let mut pair = concur::harness::round_trips::open(COPY_PAIR).expect("copy-pair starts");
    group.bench_function(COPY_PAIR, |b| {
        b.iter(|| pair.round_trip(&mib).expect("copy-pair"));
    });
    drop(pair);
    // The copying ring's transfer with no ring: written here, copied out on the other CPU
    // chunk by chunk as it is written (still pinned).
    let mut across = concur::harness::round_trips::open(COPY_ACROSS).expect("copy-across starts");
    group.bench_function(COPY_ACROSS, |b| {
        b.iter(|| across.round_trip(&mib).expect("copy-across"));
    });
    drop(across);
    group.finish();
    c.final_summary();
}
