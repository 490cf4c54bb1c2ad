//! concur's harness: the model registry, correctness checks against `sequential`, and the
//! resource probes behind `concur run` and `concur spawn`.
//!
//! - [`Model`] and [`ModelSpec`]: a concurrency model, by CLI name ([`models`], [`model`]).
//! - [`run`]: time a workload under a model `repeat` times, measuring wall time, CPU time,
//!   peak RSS and the process tree's peak PSS, and check the checksum against `sequential`.
//! - [`spawn_cost`]: spawn+join cost of one worker, per model.
//! - [`probe`]: getrusage and `/proc/<pid>/smaps_rollup` readings.
//! - [`Profile`]: the sizes benches use for smoke, quick and full runs.
//!
//! ```
//! use concur_harness::{model, run, RunRequest};
//! use concur_workloads::{by_name, Echo, Params};
//!
//! let report = run(&RunRequest {
//!     model: model("thread-pool").unwrap(),
//!     workload: by_name("primes").unwrap(),
//!     params: Params { tasks: 8, size: 20_000 },
//!     workers: Some(2),
//!     repeat: 3,
//!     echo: Echo::Off,
//! })
//! .unwrap();
//! assert!(report.checksum_ok);
//! assert_eq!(report.wall_s_samples.len(), 3);
//! ```

pub mod catalog;
pub mod cluster;
pub mod cpython;
pub mod floors;
pub mod iceoryx;
pub mod idle;
mod idle_probes;
mod models;
pub mod paired;
mod peer;
pub mod pingpong;
pub mod probe;
mod profile;
pub mod round_trips;
mod runner;
mod spawn;
pub mod stats;
mod worker;

pub use catalog::catalog;
pub use models::{
    Family, Model, ModelError, ModelSpec, ShmArena, model, model_names, models, names,
};
pub use profile::Profile;
pub use runner::{RunError, RunReport, RunRequest, reference_checksum, run, run_on_hosts};
pub use spawn::{SpawnReport, spawn_cost};
pub use worker::init_workers;

/// The machine's parallelism: what `--workers` defaults to for pools.
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
