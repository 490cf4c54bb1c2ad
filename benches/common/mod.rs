//! Criterion glue shared by the bench binaries (each includes it with `mod common;`): the
//! pieces live in `concur-bench`, which a user's own bench calls too.
//!
//! Every benchmark checks its result against the `sequential` checksum on every iteration:
//! a fast wrong answer is a failure, not a data point.

// Each bench binary uses a different subset of these helpers.
#![allow(dead_code, unused_imports)]

pub(crate) use concur_bench::{Checked, bench_model, bench_model_at, bench_scaling, criterion};

use concur::workloads::{AnyWorkload, Kind};

/// The registered workloads of `kind`: each suite benchmarks these, so a new workload shows
/// up in its suite with nothing but its registry entry.
pub(crate) fn workloads_of(kind: Kind) -> impl Iterator<Item = &'static dyn AnyWorkload> {
    concur::workloads::all()
        .iter()
        .copied()
        .filter(move |w| w.info().kind == kind)
}
