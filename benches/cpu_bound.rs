//! Claim: "processes for CPU-bound work; threads only give concurrency".
//!
//! One group per CPU-bound workload of the registry (`cpu_bound/primes`, and
//! `cpu_bound/grayscale`, the tutorial's Pillow example: JPEG decode, luma, encode): every
//! model at 1, 2 and 4 workers on the same batch, so criterion's report draws the models side
//! by side; `sequential` is measured at every parameter as the baseline. Sizes come from each
//! workload's registry entry (`Info::bench`).

mod common;

use concur::harness::{Profile, ProfileSizes};
use concur::workloads::Kind;

fn main() {
    // First thing: the process models re-run this binary as their workers.
    concur::harness::init_workers();
    let profile = Profile::from_env();
    let mut c = common::criterion(profile);
    for w in common::workloads_of(Kind::CpuBound) {
        let info = w.info();
        let checked = common::Checked::new(w, profile.bench_params(info));
        let samples = profile.bench_samples(info);
        common::bench_scaling(&mut c, &info.bench_group(), &checked, profile, samples);
    }
    c.final_summary();
}
