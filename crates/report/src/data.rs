//! The data of one bench run (`data.json`) and the lookups every part of the report uses:
//! it depends on no renderer, so the tables, the verdicts and the plots all read it the
//! same way.

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Compare};
use crate::criterion::BenchResult;
use crate::machine::Machine;

/// Everything one bench run measured, with where and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunData {
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
    pub python: Vec<PythonRun>,
    /// The registries the run was measured with.
    #[serde(default)]
    pub catalog: Catalog,
}

/// One `concur idle --json` reading.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct IdleProbe {
    /// The model.
    pub model: String,
    /// How many idle workers (pending tasks, for async tasks).
    pub workers: usize,
    /// What each added to the process tree's PSS, bytes.
    pub pss_bytes_per_worker: f64,
}

/// One CPython reference run (`concur cpython --json` prints a list of them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PythonRun {
    /// The workload.
    pub workload: String,
    /// `threading`, `multiprocessing` or `asyncio`.
    pub mode: String,
    /// Tasks.
    pub tasks: usize,
    /// The workload's size.
    pub size: u64,
    /// Threads or processes in the pool (1 for asyncio).
    pub workers: usize,
    /// Median wall time, seconds.
    pub wall_s: f64,
    /// Whether the checksum equals Rust's `sequential` checksum on the same inputs.
    pub checksum_ok: bool,
    /// The CPython version.
    pub python: String,
}

/// Where criterion's pages are, relative to the report directory
/// (`target/concur/report` → `target/criterion`).
pub const CRITERION_FROM_REPORT: &str = "../../criterion";

impl BenchResult {
    /// Criterion's page for this benchmark, relative to the report directory.
    pub fn link(&self) -> String {
        format!(
            "{CRITERION_FROM_REPORT}/{}/report/index.html",
            self.directory
        )
    }
}

impl RunData {
    /// The result of `function` in `group` at `param`.
    pub fn find(&self, group: &str, function: &str, param: Option<&str>) -> Option<&BenchResult> {
        self.results
            .iter()
            .find(|r| r.group == group && r.function == function && r.parameter.as_deref() == param)
    }

    /// Every result of `group`, in the order criterion's files were read.
    pub fn members<'a, 'g>(
        &'a self,
        group: &'g str,
    ) -> impl Iterator<Item = &'a BenchResult> + use<'a, 'g> {
        self.results.iter().filter(move |r| r.group == group)
    }

    /// The median time of `function` in `group` at `param`, ns.
    pub fn time(&self, group: &str, function: &str, param: Option<&str>) -> Option<f64> {
        self.find(group, function, param).map(|r| r.median_ns)
    }

    /// The baseline's median over `function`'s, at `param`: the speedup.
    pub fn speedup(&self, group: &str, function: &str, param: &str) -> Option<f64> {
        let base = &self.catalog.roles.sequential;
        Some(self.time(group, base, Some(param))? / self.time(group, function, Some(param))?)
    }

    /// How `result` compares with its group's baseline at the same parameter (or the
    /// baseline's first figure when it has none there): a speedup or a cost ratio, as the
    /// catalog says for the group; by default a speedup over the reference model.
    pub fn ratio(&self, result: &BenchResult) -> Option<f64> {
        let compare = self.compare(&result.group);
        let baseline = match &compare {
            Compare::SpeedupOver(b) | Compare::CostOf(b) => b.as_str(),
        };
        let base = self
            .find(&result.group, baseline, result.parameter.as_deref())
            .or_else(|| self.members(&result.group).find(|m| m.function == baseline))?;
        let r = match compare {
            Compare::SpeedupOver(_) => base.median_ns / result.median_ns,
            Compare::CostOf(_) => result.median_ns / base.median_ns,
        };
        r.is_finite().then_some(r)
    }

    /// How `group`'s figures compare: the catalog's word, else a speedup over `sequential`.
    pub fn compare(&self, group: &str) -> Compare {
        self.catalog.group(group).map_or_else(
            || Compare::SpeedupOver(self.catalog.roles.sequential.clone()),
            |g| g.compare.clone(),
        )
    }

    /// Criterion's page for `group`, relative to the report directory.
    pub fn group_link(&self, group: &str) -> String {
        let dir = self
            .members(group)
            .next()
            .and_then(|r| r.directory.split('/').next().map(str::to_owned))
            .unwrap_or_else(|| group.replace('/', "_"));
        format!("{CRITERION_FROM_REPORT}/{dir}/report/index.html")
    }

    /// The idle probe of `model`.
    pub fn idle(&self, model: &str) -> Option<&IdleProbe> {
        self.idle.iter().find(|p| p.model == model)
    }

    /// The bench group of the workload `name` (from the catalog; `suite/name` if absent).
    pub fn group_of(&self, workload: &str) -> String {
        self.catalog
            .group_of(workload)
            .filter(|g| !g.is_empty())
            .map_or_else(|| format!("?/{workload}"), str::to_owned)
    }
}
