//! The tutorial's own example (`seed-square-cube`: square and cube of 10, then `Done!`) under
//! every model, two workers each. The work is trivial: what is measured is the cost of
//! getting two tasks onto workers and back.

mod common;

use concur::harness::{Profile, ProfileSizes, models};
use concur::workloads::Kind;

/// Workers every model gets: the tutorial's example starts two processes.
const WORKERS: usize = 2;

fn main() {
    // First thing: the process models re-run this binary as their workers.
    concur::harness::init_workers();
    let profile = Profile::from_env();
    let mut c = common::criterion(profile);
    for w in common::workloads_of(Kind::Seed) {
        let info = w.info();
        let seed = common::Checked::new(w, profile.bench_params(info));
        let mut group = c.benchmark_group(info.bench_group());
        // Two tasks of microseconds: a second holds thousands of iterations.
        group.measurement_time(profile.measurement_time() / 2);
        for spec in models() {
            common::bench_model(&mut group, spec, WORKERS, &seed);
        }
        group.finish();
    }
    c.final_summary();
}
