//! The units of work concur measures, with no concurrency in them.
//!
//! A workload turns `(tasks, size)` into a list of deterministic, serde-serialisable inputs,
//! runs one input at a time as a pure unit of work, and reduces each result to a
//! [`TaskOutput`]. [`checksum`] folds the outputs, in task order, into one `u64`, so every
//! concurrency model can be checked against the `sequential` result.
//!
//! - The registry: every workload by its CLI name ([`by_name`], [`all`], [`names`]).
//! - [`Workload`]: the typed trait a workload implements.
//! - [`Batch`]: a prepared, type-erased list of inputs that any model can schedule.
//! - [`Cx`]: what a unit may ask of the model running it (printing, the GIL's check, waits).
//! - [`Arena`], [`SharedBytes`]: a workload's one large read-only input, allocated where the
//!   model wants it (the heap, or memory every worker process maps).
//!
//! ```
//! use concur_workloads::{by_name, checksum, Cx, Params};
//!
//! let primes = by_name("primes").unwrap();
//! let batch = primes.prepare(&Params { tasks: 4, size: 1_000 }).unwrap();
//! let outputs: Vec<_> = (0..batch.len()).map(|i| batch.run(i, &Cx::quiet()).unwrap()).collect();
//! assert_eq!(outputs.iter().map(|o| o.digest).sum::<u64>(), 168); // primes below 1000
//! assert_eq!(checksum(&outputs), batch.checksum_of(&outputs));
//! ```

// The workloads: a module each, and one line each in `WORKLOADS` below (the registry).
mod grayscale;
mod http_fetch;
mod primes;
mod seed;
mod shared_sum;
mod sleep;
mod spin;

pub use grayscale::{Grayscale, remove_temp_dirs};
pub use http_fetch::HttpFetch;
pub use primes::Primes;
pub use seed::SeedSquareCube;
pub use shared_sum::SharedSum;
pub use sleep::Sleep;
pub use spin::Spin;

/// The registry: every workload, in the order `concur list`, the benches and the report show
/// them. Its entry (`Workload::info`) carries everything else concur needs to know.
static WORKLOADS: &[&dyn AnyWorkload] = &[
    &SeedSquareCube,
    &Primes,
    &Grayscale,
    &Sleep,
    &HttpFetch,
    &SharedSum,
    &Spin,
];

mod batch;
mod cx;
mod io;
mod registry;
mod shared;

pub use batch::{AnyWorkload, Batch, TaskError};
pub use cx::{Cx, Echo, Hooks, NoHooks, Waits};
use io::IO_BENCH;
pub use io::{IoDone, IoOp, fetch_error};
pub use registry::{RegisterError, all, by_name, is_builtin, names, register, self_check};
pub use shared::{Arena, Heap, SharedBytes};

use std::sync::Arc;

use serde::{Serialize, de::DeserializeOwned};

/// How big a run is: how many tasks, and a workload-specific size.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub struct Params {
    /// Number of independent tasks (units of work).
    pub tasks: usize,
    /// Workload-specific size: see [`Info::size_meaning`].
    pub size: u64,
}

/// What kind of resource a workload's unit spends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// The tutorial's own example: tiny work, the cost is in starting workers.
    Seed,
    /// Pure computation.
    CpuBound,
    /// Mostly waiting (sleep, network).
    IoBound,
    /// One large input read by every worker: what sharing memory saves.
    SharedData,
    /// CPU work whose size sets a task's duration: swept over its size by `concur
    /// crossover`, benched at no single size.
    Calibrated,
}

impl Kind {
    /// The bench suite (criterion binary and group prefix) that measures workloads of this
    /// kind: a workload's group is `SUITE/NAME` ([`Info::bench_group`]).
    pub fn suite(self) -> &'static str {
        match self {
            Kind::Seed => "seed",
            Kind::CpuBound => "cpu_bound",
            Kind::IoBound => "io_bound",
            Kind::SharedData => "shared_data",
            Kind::Calibrated => "granularity",
        }
    }
}

/// The parameters a workload is benchmarked at in each profile (smoke, quick, full). For an
/// [`Kind::IoBound`] workload `size` is the latency and `tasks` is ignored: the I/O suite
/// runs it at each concurrency of its axis.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BenchSizes {
    /// Every benchmark once, at tiny sizes (CI).
    pub smoke: Params,
    /// A couple of minutes for the whole run.
    pub quick: Params,
    /// The sizes the report is meant to be read at.
    pub full: Params,
    /// Criterion samples per benchmark, when the profile's default is too many for one
    /// iteration's length (slow units).
    pub samples: Option<usize>,
}

/// A workload's static description.
#[derive(Clone, Copy, Debug)]
pub struct Info {
    /// CLI name, e.g. `primes`.
    pub name: &'static str,
    /// One line saying what a unit does.
    pub summary: &'static str,
    /// What it spends.
    pub kind: Kind,
    /// `--tasks` when not given.
    pub default_tasks: usize,
    /// `--size` when not given.
    pub default_size: u64,
    /// What `--size` means for this workload.
    pub size_meaning: &'static str,
    /// A line the program prints after all tasks are joined (the tutorial's `Done!`).
    pub epilogue: Option<&'static str>,
    /// Small valid parameters the equivalence tests run under every model: uneven task
    /// counts, more tasks than workers, and fast (the first one also serves every quick
    /// per-workload test).
    pub test_params: &'static [Params],
    /// Its benchmark sizes per profile.
    pub bench: BenchSizes,
    /// What its bench group measures, for the report (Markdown).
    pub bench_description: &'static str,
    /// Whether `python/concur_ref.py` implements it, so the CPython reference runs it.
    pub python: bool,
}

impl Info {
    /// The criterion group that benchmarks it: `SUITE/NAME`.
    pub fn bench_group(&self) -> String {
        format!("{}/{}", self.kind.suite(), self.name)
    }

    /// The default parameters.
    pub fn default_params(&self) -> Params {
        Params {
            tasks: self.default_tasks,
            size: self.default_size,
        }
    }
}

/// The result of one unit of work, as it crosses thread or process boundaries.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct TaskOutput {
    /// A digest of the unit's result (for `primes`, the count itself).
    pub digest: u64,
    /// The line the unit printed, if it prints one (the tutorial's `Square: 100`).
    pub text: Option<String>,
    /// The unit's result itself, when the workload merges results ([`Workload::merge`]):
    /// bytes that travel back from a worker process like the digest does. Empty for most.
    #[serde(default)]
    pub data: Vec<u8>,
}

/// An invalid `(tasks, size)` for a workload.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ParamsError(pub String);

/// Upper bound on `--tasks` for every workload: far above what any model can use, low enough
/// that input generation can never exhaust memory.
pub const MAX_TASKS: usize = 1_000_000;

/// A workload: deterministic inputs and a pure unit of work over one input.
pub trait Workload: Send + Sync + 'static {
    /// One task's input. Serialisable, so a worker process can receive it.
    type Input: Serialize + DeserializeOwned + Send + Sync + 'static;

    /// The static description.
    fn info(&self) -> &'static Info;

    /// Checks `params` beyond the common `1..=MAX_TASKS` task bound.
    fn validate(&self, params: &Params) -> Result<(), ParamsError>;

    /// The inputs for `params`, one per task, in task order. Called after [`Self::validate`];
    /// fails only when a resource the inputs need cannot be had (a server, descriptors).
    fn inputs(&self, params: &Params) -> Result<Vec<Self::Input>, ParamsError>;

    /// Runs one unit of work.
    fn run(&self, input: &Self::Input, cx: &Cx<'_>) -> Result<TaskOutput, TaskError>;

    /// The one wait of an I/O-bound unit, described so an async model can await it
    /// instead of blocking a thread; `None` for a unit that computes. A workload that
    /// returns `Some` implements [`Self::after_io`], and its `run` is `io`, then
    /// [`IoOp::perform_blocking`], then `after_io`.
    fn io(&self, input: &Self::Input) -> Option<IoOp> {
        let _ = input;
        None
    }

    /// Finishes a unit after its wait ([`Self::io`]) completed with `done`.
    fn after_io(
        &self,
        input: &Self::Input,
        done: IoDone,
        cx: &Cx<'_>,
    ) -> Result<TaskOutput, TaskError> {
        let _ = (input, done, cx);
        Err(TaskError::new(format!(
            "{} does not wait on I/O",
            self.info().name
        )))
    }

    /// The whole batch's checksum from every unit's output, in task order. The default
    /// combines the digests ([`checksum`]); a workload whose units send back partial results
    /// in [`TaskOutput::data`] merges them here and digests the merged result. Outputs may
    /// come from another process: decode defensively (a malformed one must give a checksum
    /// that differs from `sequential`'s, never a panic).
    fn merge(&self, outputs: &[TaskOutput]) -> u64 {
        checksum(outputs)
    }

    /// The inputs, with the workload's one large input (if it has one) allocated by `arena`.
    /// The default ignores the arena: most workloads have no large input.
    fn inputs_in(
        &self,
        params: &Params,
        arena: &dyn Arena,
    ) -> Result<Vec<Self::Input>, ParamsError> {
        let _ = arena;
        self.inputs(params)
    }

    /// The large read-only input every one of `inputs` reads, if there is one.
    fn shared<'a>(&self, inputs: &'a [Self::Input]) -> Option<&'a Arc<dyn SharedBytes>> {
        let _ = inputs;
        None
    }

    /// `input` encoded as a reference into [`Self::shared`] rather than a copy, for a worker
    /// that maps the shared input itself; `None` if the workload has no shared input.
    fn encode_ref(&self, input: &Self::Input) -> Option<Vec<u8>> {
        let _ = input;
        None
    }

    /// Runs a task encoded by [`Self::encode_ref`] against `shared`, both received from
    /// another process: everything in them is validated first.
    fn run_ref(
        &self,
        reference: &[u8],
        shared: &[u8],
        cx: &Cx<'_>,
    ) -> Result<TaskOutput, TaskError> {
        let _ = (reference, shared, cx);
        Err(TaskError::new(format!(
            "{} has no shared input to run by reference",
            self.info().name
        )))
    }
}

/// Folds task outputs, in task order, into one `u64`: equal iff every digest is equal and in
/// the same place.
pub fn checksum(outputs: &[TaskOutput]) -> u64 {
    outputs
        .iter()
        .enumerate()
        .fold(0x243f_6a88_85a3_08d3, |acc, (i, out)| {
            mix(acc ^ mix(out.digest.wrapping_add(i as u64)))
        })
}

/// SplitMix64's finaliser: a cheap, well-distributed 64-bit mix.
pub fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn out(d: u64) -> TaskOutput {
        TaskOutput {
            digest: d,
            text: None,
            data: Vec::new(),
        }
    }

    #[test]
    fn checksum_depends_on_order_and_values() {
        let a = checksum(&[out(1), out(2)]);
        assert_ne!(a, checksum(&[out(2), out(1)]));
        assert_ne!(a, checksum(&[out(1), out(3)]));
        assert_ne!(a, checksum(&[out(1)]));
        assert_eq!(a, checksum(&[out(1), out(2)]));
    }
}

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
