//! Claim: "threads share memory; processes each have their own (higher usage)".
//!
//! Group `shared_data/shared-sum`: one array (64 MiB in the full profile) summed in 16
//! chunks by every model at 1, 2 and 4 workers. The array lives in a sealed shared-memory
//! region (as `concur run` places it for `shm-pool`): threads borrow it; `process-pool` and
//! `process-per-task` receive each chunk as a copy over ipc-channel, so their time includes
//! the copying; `shm-pool` workers map the region once and receive only chunk bounds. (The
//! memory side of the claim — peak PSS of the process tree — comes from `concur run`.)

mod common;

use concur::harness::{Profile, model};

fn main() {
    // First thing: the process models re-run this binary as their workers.
    concur::harness::init_workers();
    let profile = Profile::from_env();
    let mut c = common::criterion(profile);
    let shm = model("shm-pool").expect("registered").arena();
    let data = common::Checked::new_in("shared-sum", profile.shared_sum(), shm);
    // Process-model iterations take hundreds of milliseconds: ten samples.
    common::bench_scaling(&mut c, "shared_data/shared-sum", &data, profile, 10);
    c.final_summary();
}
