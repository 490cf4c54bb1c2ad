//! Test data: a catalog as `concur list --json` printed it (a snapshot, not kept in step
//! with the registries: the report must work with any catalog) and a run read from a small
//! criterion directory.

use std::path::Path;

use crate::data::{IdleProbe, RunData};
use crate::machine::Machine;
use crate::{Catalog, criterion, read_json};

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
}

/// The registries as the harness describes them.
pub(crate) fn catalog() -> Catalog {
    read_json(&fixtures().join("catalog.json")).expect("tests/fixtures/catalog.json parses")
}

/// A quick run with criterion figures for two groups and two idle probes.
pub(crate) fn fixture() -> RunData {
    RunData {
        schema: crate::data::SCHEMA,
        profile: crate::Profile::Quick,
        started_at: "2026-11-25T12:00:00Z".into(),
        git_revision: "0123abc".into(),
        machine: Machine {
            cpu: "Fixture CPU @ 2.0GHz".into(),
            cores: 2,
            memory_gib: 23.4,
            kernel: "6.1.0".into(),
            rustc: "rustc 1.95.0".into(),
            host: "a-host".into(),
        },
        suites: vec![("spawn".into(), 10.0), ("cpu_bound".into(), 60.0)],
        results: criterion::load(&fixtures().join("criterion"), None).unwrap(),
        idle: vec![
            IdleProbe {
                model: "thread-per-task".into(),
                workers: 1000,
                pss_bytes_per_worker: 10_240.0,
            },
            IdleProbe {
                model: "tokio".into(),
                workers: 100_000,
                pss_bytes_per_worker: 409.6,
            },
        ],
        python: Vec::new(),
        catalog: catalog(),
        paired: Vec::new(),
        modules: Vec::new(),
        noise: None,
        crossover: Vec::new(),
        program: None,
    }
}

/// A real quick run from the 2-core VM (`tests/fixtures/run.json`, what `cargo xtask
/// check-report --fixture` renders).
pub(crate) fn saved_run() -> RunData {
    read_json(&fixtures().join("run.json")).expect("tests/fixtures/run.json parses")
}

/// A criterion figure of `function` in `ipc/pingpong`: median `ns`, ten samples spread
/// `spread` (a fraction of `ns`) around it.
pub(crate) fn pingpong_result(function: &str, ns: f64, spread: f64) -> crate::BenchResult {
    crate::BenchResult {
        group: "ipc/pingpong".into(),
        function: function.into(),
        parameter: None,
        directory: format!("ipc_pingpong/{function}"),
        median_ns: ns,
        median_ci_ns: (ns, ns),
        mad_ns: 0.0,
        mean_ns: ns,
        samples_ns: (0..10)
            .map(|i| ns * (1.0 + spread * (f64::from(i % 5) - 2.0) / 2.0))
            .collect(),
    }
}
