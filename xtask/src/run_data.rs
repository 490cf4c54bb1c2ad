//! The data of one bench run (`data.json`): what the report, the plots and the verdicts are
//! computed from. It depends on no renderer, so they all can depend on it.

use serde::{Deserialize, Serialize};

use crate::criterion_data::BenchResult;
use crate::machine::Machine;

/// Everything one bench run measured, with where and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct RunData {
    /// `smoke`, `quick` or `full`.
    pub profile: String,
    /// When the run started, RFC 3339 UTC.
    pub started_at: String,
    /// The git revision measured.
    pub git_revision: String,
    /// The machine.
    pub machine: Machine,
    /// Each suite and how long it took, in seconds.
    pub suites: Vec<(String, f64)>,
    /// Criterion's figures, read from its files after the run.
    pub results: Vec<BenchResult>,
    /// Memory per idle worker, from `concur idle` run after the suites.
    #[serde(default)]
    pub idle: Vec<IdleProbe>,
    /// The CPython reference runs (empty when `python3` is absent).
    #[serde(default)]
    pub python: Vec<crate::python::PythonRun>,
}

/// One `concur idle --json` reading.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) struct IdleProbe {
    /// The model.
    pub model: String,
    /// How many idle workers (pending tasks, for `tokio`).
    pub workers: usize,
    /// What each added to the process tree's PSS, bytes.
    pub pss_bytes_per_worker: f64,
}

/// Where criterion's pages are, relative to the report directory.
pub(crate) const CRITERION_FROM_REPORT: &str = "../../criterion";

/// The bench group of a registered workload (`SUITE/NAME`).
pub(crate) fn group(workload: &str) -> String {
    concur_workloads::by_name(workload)
        .unwrap_or_else(|| panic!("{workload} is not a registered workload"))
        .info()
        .bench_group()
}
