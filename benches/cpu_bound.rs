//! Claim: "processes for CPU-bound work; threads only give concurrency".
//!
//! Group `cpu_bound/primes`: every model at 1, 2 and 4 workers on the same `primes` batch, so
//! criterion's report draws the models side by side; `sequential` is measured at every
//! parameter as the baseline.

mod common;

use concur::harness::{Profile, models};
use criterion::SamplingMode;

fn main() {
    // First thing: the process models re-run this binary as their workers.
    concur::harness::init_workers();
    let profile = Profile::from_env();
    let mut c = common::criterion(profile);
    let primes = common::Checked::new("primes", profile.primes());
    let mut group = c.benchmark_group("cpu_bound/primes");
    // Iterations take tens to hundreds of milliseconds: one iteration per sample.
    group.sampling_mode(SamplingMode::Flat);
    for &workers in profile.workers_axis() {
        for spec in models() {
            common::bench_model(&mut group, spec, workers, &primes);
        }
    }
    group.finish();
    c.final_summary();
}
