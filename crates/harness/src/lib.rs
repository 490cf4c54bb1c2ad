//! concur's harness: runs a workload under any concurrency model and checks it against
//! `sequential`. The model registry and its adapters, the runs built on it (timed, paired,
//! spawn, idle, pool tasks, the CPython reference beside them), and the catalog that
//! describes all of it to the report.
//!
//! - [`Model`] and [`ModelSpec`]: a concurrency model, by CLI name ([`models`], [`model`]).
//! - [`run`]: time a workload under a model `repeat` times, measuring wall time, CPU time,
//!   peak RSS and the process tree's peak PSS (`concur-measure`'s probes), and check the
//!   checksum against `sequential`.
//! - [`paired`]: several models alternated round after round, for ratios taken back to back.
//! - [`spawn_cost`], [`idle`], [`round_trips`]: what starting a worker, an idle worker and a
//!   model's hand-off cost (the channels themselves are `concur-channels`').
//! - [`crossover`]: a model against `sequential` over task sizes from 1 µs to 100 ms: where
//!   it breaks even and pays off.
//! - [`cpython`]: the same inputs under CPython, checked against the same checksums.
//! - [`catalog()`]: the registries as the report reads them.
//! - [`ProfileSizes`]: a workload's sizes in each [`Profile`].
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
mod copy_floors;
pub mod cpython;
pub mod crossover;
pub mod idle;
mod idle_probes;
mod models;
pub mod paired;
mod profile;
pub mod round_trips;
mod runner;
mod spawn;
mod worker;

pub use catalog::catalog;
pub use models::{
    Family, Model, ModelError, ModelSpec, ShmArena, Transport, model, model_names, models, names,
};
pub use profile::{Profile, ProfileSizes};
pub use runner::{RunError, RunReport, RunRequest, reference_checksum, run, run_on_hosts};
pub use spawn::{SPAWNS_PER_BATCH, SpawnReport, Starter, compare_spawns, spawn_cost};
pub use worker::init_workers;

/// The machine's parallelism: what `--workers` defaults to for pools.
pub fn available_cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
