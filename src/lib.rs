//! concur: the same workloads under every concurrency model Rust offers, measured.
//!
//! This crate is a thin facade over the workspace's crates, plus the `concur` CLI:
//!
//! - [`workloads`] (`concur-workloads`): the units of work, deterministic inputs, checksums.
//! - [`threads`] (`concur-threads`): thread-per-task, a crossbeam thread pool, a rayon pool.
//! - [`procs`] (`concur-procs`): process-per-task and crash-safe process pools (ipc-channel,
//!   shared memory).
//! - [`shm`] (`concur-shm`): shared-memory segments, rings, regions, descriptor passing.
//! - [`tasks`] (`concur-tasks`): tokio tasks as a model.
//! - [`http`] (`concur-http`): the loopback HTTP server and clients behind `http-fetch`.
//! - [`harness`] (`concur-harness`): the model registry, runs checked against `sequential`.
//! - [`channels`] (`concur-channels`): round trips over every IPC channel, and the floors.
//! - [`measure`] (`concur-measure`): resource and noise probes, the machine, statistics.
//! - [`report`] (`concur-report`): the report as a library: run data, verdicts, plots,
//!   Markdown and HTML.
//!
//! ```
//! use concur::harness::{model, run, RunRequest};
//! use concur::workloads::{by_name, Echo, Params};
//!
//! let report = run(&RunRequest {
//!     model: model("rayon").unwrap(),
//!     workload: by_name("seed-square-cube").unwrap(),
//!     params: Params { tasks: 2, size: 10 },
//!     workers: Some(2),
//!     repeat: 1,
//!     echo: Echo::Off,
//! })
//! .unwrap();
//! assert_eq!(report.output, ["Square: 100", "Cube: 1000", "Done!"]);
//! ```

pub mod cli;

pub use cli::main_with;
/// The criterion driver for your own workloads (`concur-bench`; feature `bench`).
#[cfg(feature = "bench")]
pub use concur_bench as bench;
pub use concur_channels as channels;
pub use concur_cluster as cluster;
pub use concur_harness as harness;
pub use concur_http as http;
pub use concur_measure as measure;
pub use concur_procs as procs;
pub use concur_report as report;
pub use concur_shm as shm;
pub use concur_tasks as tasks;
pub use concur_threads as threads;
pub use concur_workloads as workloads;

/// The README's examples ("Measure your own code"), compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
