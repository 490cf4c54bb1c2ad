//! Claim: "threads: lower overhead; processes: process creation is costly".
//!
//! Group `spawn`: spawn+join of one no-op worker, the way each model starts its workers
//! (`sequential` is a plain function call), and the floors of starting a process on this
//! machine: `fork-exit` (fork, the child exits at once) and `exec-self` (this binary started
//! again in a mode that exits at once), which the process models are read against.

mod common;

use concur::channels::SpawnFloor;
use concur::harness::{Profile, models};

fn main() {
    // First thing: the process models re-run this binary as their workers.
    concur::harness::init_workers();
    let profile = Profile::from_env();
    let mut c = common::criterion(profile);
    let mut group = c.benchmark_group(concur::harness::catalog::SPAWN_GROUP);
    for spec in models() {
        group.bench_function(spec.name, |b| {
            b.iter(|| spec.spawn_join_one().expect("worker starts"));
        });
    }
    for floor in SpawnFloor::ALL {
        group.bench_function(floor.name(), |b| {
            b.iter(|| floor.run().expect("the floor's process starts"));
        });
    }
    group.finish();
    c.final_summary();
}
