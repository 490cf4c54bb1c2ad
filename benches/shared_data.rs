//! Claim: "threads share memory; processes each have their own (higher usage)".
//!
//! Group `shared_data/shared-sum`: one array (64 MiB in the full profile) summed in 16
//! chunks by every model at 1, 2 and 4 workers. The array lives in a sealed shared-memory
//! region (as `concur run` places it for `shm-pool`): threads borrow it; `process-pool` and
//! `process-per-task` receive each chunk as a copy over ipc-channel, so their time includes
//! the copying; `shm-pool` workers map the region once and receive only chunk bounds. (The
//! memory side of the claim — peak PSS of the process tree — comes from `concur run`.)

mod common;

use concur::harness::{Profile, ProfileSizes, models};
use concur::workloads::{Arena, Heap, Kind};

fn main() {
    // First thing: the process models re-run this binary as their workers.
    concur::harness::init_workers();
    let profile = Profile::from_env();
    let mut c = common::criterion(profile);
    // The input lives where a model that maps shared inputs wants it (a sealed region).
    let arena: &dyn Arena = models()
        .iter()
        .find(|m| m.maps_shared_input)
        .map_or(&Heap, |m| m.arena());
    for w in common::workloads_of(Kind::SharedData) {
        let info = w.info();
        let data = common::Checked::new_in(w, profile.bench_params(info), arena);
        let samples = profile.bench_samples(info);
        common::bench_scaling(&mut c, &info.bench_group(), &data, profile, samples);
    }
    c.final_summary();
}
