//! What the outside-workload tests share: the registry entry of a toy workload.

use concur_workloads::{BenchSizes, Info, Kind, Params};

/// A toy's registry entry called `name`: two tasks of size 10 everywhere.
pub(crate) const fn toy_info(name: &'static str) -> Info {
    const P: Params = Params { tasks: 2, size: 10 };
    Info {
        name,
        summary: "a toy",
        kind: Kind::CpuBound,
        default_tasks: 2,
        default_size: 10,
        size_meaning: "numbers",
        epilogue: None,
        test_params: &[P],
        bench: BenchSizes {
            smoke: P,
            quick: P,
            full: P,
            samples: None,
        },
        bench_description: "a toy",
        python: false,
    }
}
