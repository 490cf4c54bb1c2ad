//! The tutorial's own example (`seed-square-cube`: square and cube of 10, then `Done!`) under
//! every model, two workers each. The work is trivial: what is measured is the cost of
//! getting two tasks onto workers and back.

mod common;

use concur::harness::{Profile, models};
use concur::workloads::Params;

fn main() {
    // First thing: the process models re-run this binary as their workers.
    concur::harness::init_workers();
    let profile = Profile::from_env();
    let mut c = common::criterion(profile);
    let seed = common::Checked::new("seed-square-cube", Params { tasks: 2, size: 10 });
    let mut group = c.benchmark_group("seed/seed-square-cube");
    for spec in models() {
        common::bench_model(&mut group, spec, 2, &seed);
    }
    group.finish();
    c.final_summary();
}
