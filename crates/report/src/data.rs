//! The data of one bench run (`data.json`) and the lookups every part of the report uses:
//! it depends on no renderer, so the tables, the verdicts and the plots all read it the
//! same way.

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Compare};
use crate::criterion::BenchResult;
use crate::machine::Machine;
use crate::profile::Profile;
use crate::stats::{self, Ratio, RatioSamples};

/// The version of the run format this concur writes and reads. Raise it when a field
/// changes meaning or a required field is added (an added field with a default does not
/// need it), and say what changed in `docs/RUNS.md`.
pub const SCHEMA: u32 = 1;

/// Everything one bench run measured, with where and when.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RunData {
    /// The version of this format ([`SCHEMA`] when written by this concur; 0,
    /// the default, for files saved before it was versioned). `docs/RUNS.md` documents it.
    #[serde(default)]
    pub schema: u32,
    /// How big the run was.
    pub profile: Profile,
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
    /// The comparisons measured in paired rounds (`concur compare`), which the verdicts'
    /// ratios are read from when present.
    #[serde(default)]
    pub paired: Vec<PairedRun>,
    /// The crates that stand for `threading` and `multiprocessing`, with the versions the
    /// lockfile resolved (`cargo metadata`).
    #[serde(default)]
    pub modules: Vec<Module>,
    /// How noisy the machine was while the suites ran.
    #[serde(default)]
    pub noise: Option<crate::noise::Noise>,
    /// The granularity sweeps (`concur crossover`), one per model, which the granularity
    /// section and the verdicts read.
    #[serde(default)]
    pub crossover: Vec<crate::crossover::Sweep>,
    /// The program that measured this run when it is not concur's own `cargo xtask bench`:
    /// a user's bench built on `concur_bench::main_with`, which its report then names.
    #[serde(default)]
    pub program: Option<String>,
}

/// A crate and the version this run was built with.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Module {
    /// Crate name.
    pub name: String,
    /// Resolved version(s), e.g. `1.48.0` (several joined by `/` when the lockfile has more
    /// than one).
    pub version: String,
}

/// Several models run alternately on one batch, round after round (`concur compare
/// --json`): each round times every model once, back to back, in a rotating order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairedRun {
    /// The workload.
    pub workload: String,
    /// The bench group whose figures it pairs.
    pub group: String,
    /// The group's parameter it was run at (workers, or concurrent requests).
    pub param: String,
    /// Tasks in the batch.
    pub tasks: usize,
    /// The workload's size.
    pub size: u64,
    /// Each model and its time per round, ns.
    pub models: Vec<PairedModel>,
    /// The most rounds it could take (it stops earlier once every ratio it decides is
    /// decided); `None` in runs saved before the cap was recorded.
    #[serde(default)]
    pub max_rounds: Option<usize>,
    /// Where a spinning or yielding pair ran, when it was pinned (`None`: wherever the
    /// scheduler put it).
    #[serde(default)]
    pub placement: Option<Placement>,
}

/// The CPU pair a comparison was pinned to, and what a cache-line round trip between them
/// cost right before its rounds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Placement {
    /// The CPU the measuring thread ran on (with every thread it started).
    pub parent_cpu: usize,
    /// The CPU the echo child (or the cluster's other process) ran on.
    pub child_cpu: usize,
    /// One word bounced between them by spinning (`atomic-spin`), ns per round trip.
    pub line_round_trip_ns: f64,
}

impl PairedRun {
    /// How many rounds it took.
    pub fn rounds(&self) -> usize {
        self.models.first().map_or(0, |m| m.times_ns.len())
    }

    /// `name`'s time per round, ns, if this run timed it.
    pub fn times_of(&self, name: &str) -> Option<&[f64]> {
        self.models
            .iter()
            .find(|m| m.name == name)
            .map(|m| &m.times_ns[..])
    }
}

/// One model's times in a [`PairedRun`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PairedModel {
    /// The model.
    pub name: String,
    /// Each round's figure, ns: the batch's wall time in a model comparison; in a channel
    /// comparison the ns per round trip (the batch's mean; for the bulk group's MiB, the
    /// median of its timed round trips).
    pub times_ns: Vec<f64>,
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

/// The CPython module a reference run uses (`concur_ref.py --mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PythonMode {
    /// `threading`: threads under the GIL.
    Threading,
    /// `multiprocessing`: worker processes.
    Multiprocessing,
    /// `asyncio`: coroutines on one thread.
    Asyncio,
}

impl PythonMode {
    /// As `concur_ref.py --mode` and the report spell it.
    pub fn name(self) -> &'static str {
        match self {
            PythonMode::Threading => "threading",
            PythonMode::Multiprocessing => "multiprocessing",
            PythonMode::Asyncio => "asyncio",
        }
    }
}

impl std::fmt::Display for PythonMode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One CPython reference run (`concur cpython --json` prints a list of them).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct PythonRun {
    /// The workload.
    pub workload: String,
    /// The CPython module it ran under.
    pub mode: PythonMode,
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
    /// An empty run of `profile` on `machine`, with no start time or revision: fill in
    /// what was measured (`concur_measure::this_run` fills in the machine, the time and the
    /// revision).
    pub fn new(profile: Profile, machine: Machine) -> RunData {
        RunData {
            schema: SCHEMA,
            profile,
            started_at: String::new(),
            git_revision: String::new(),
            machine,
            suites: Vec::new(),
            results: Vec::new(),
            idle: Vec::new(),
            python: Vec::new(),
            catalog: Catalog::default(),
            paired: Vec::new(),
            modules: Vec::new(),
            noise: None,
            crossover: Vec::new(),
            program: None,
        }
    }

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

    /// The paired rounds of `a` and `b` in `group` at `param`, if a paired run measured both.
    pub fn paired_times(
        &self,
        group: &str,
        param: &str,
        a: &str,
        b: &str,
    ) -> Option<(&[f64], &[f64])> {
        self.paired_run(group, param, a, b)
            .and_then(|p| Some((p.times_of(a)?, p.times_of(b)?)))
    }

    /// The paired run that measured both `a` and `b` in `group` at `param`, if any: the
    /// one that compared the two (whose first two sides they are) before one that timed
    /// them beside a comparison of others.
    pub fn paired_run(&self, group: &str, param: &str, a: &str, b: &str) -> Option<&PairedRun> {
        let here = || {
            self.paired
                .iter()
                .filter(move |p| p.group == group && p.param == param)
        };
        fn named(p: &PairedRun, i: usize) -> Option<&str> {
            p.models.get(i).map(|m| m.name.as_str())
        }
        here()
            .find(|p| {
                let first_two = [named(p, 0), named(p, 1)];
                first_two.contains(&Some(a)) && first_two.contains(&Some(b))
            })
            .or_else(|| here().find(|p| p.times_of(a).is_some() && p.times_of(b).is_some()))
    }

    /// The samples `a`'s time over `b`'s is computed from: the paired rounds when a paired
    /// run measured both (same group and parameter), else criterion's samples of each;
    /// `None` when neither gives a usable ratio.
    pub fn ratio_samples(&self, a: &BenchResult, b: &BenchResult) -> Option<RatioSamples> {
        // Paired rounds are read beside criterion's figures for the same group, never
        // alone (a smoke run pairs two tiny rounds only to check that the probe works).
        // A group without parameters (`ipc/pingpong`) is paired at "".
        if a.group == b.group && a.parameter == b.parameter {
            let param = a.parameter.as_deref().unwrap_or("");
            if let Some((ta, tb)) = self.paired_times(&a.group, param, &a.function, &b.function) {
                let paired = RatioSamples::Paired {
                    a: ta.to_vec(),
                    b: tb.to_vec(),
                };
                if paired.is_usable() {
                    return Some(paired);
                }
            }
        }
        let unpaired = RatioSamples::Unpaired {
            a: a.samples_ns.clone(),
            b: b.samples_ns.clone(),
        };
        unpaired.is_usable().then_some(unpaired)
    }

    /// `a`'s time over `b`'s in `group` at `param`, with its 95% interval: from paired
    /// rounds when a paired run measured both, else bootstrapped from criterion's samples,
    /// else (no samples) the ratio of the medians alone; `None` unless criterion measured
    /// both.
    pub fn time_ratio(&self, group: &str, a: &str, b: &str, param: Option<&str>) -> Option<Ratio> {
        let (ra, rb) = (self.find(group, a, param)?, self.find(group, b, param)?);
        self.ratio_between(ra, rb)
    }

    /// `a`'s time over `b`'s ([`RunData::ratio_samples`]), or the ratio of the medians
    /// when there are no samples.
    pub(crate) fn ratio_between(&self, a: &BenchResult, b: &BenchResult) -> Option<Ratio> {
        let seed = stats::seed(&[
            &a.group,
            &a.function,
            &b.function,
            a.parameter.as_deref().unwrap_or(""),
        ]);
        self.ratio_samples(a, b)
            .and_then(|s| s.ratio(seed))
            .or_else(|| Some(Ratio::point(a.median_ns / b.median_ns)))
            .filter(|r| r.value.is_finite())
    }

    /// The reference model's time over `function`'s, at `param`: the speedup, with its
    /// interval.
    pub fn speedup(&self, group: &str, function: &str, param: &str) -> Option<Ratio> {
        self.time_ratio(group, &self.catalog.roles.sequential, function, Some(param))
    }

    /// The figure `result` is read against in [`RunData::ratio`]: its group's baseline at
    /// the same parameter, or the baseline's first figure when it has none there (`result`
    /// itself when it is the baseline).
    pub fn baseline_of(&self, result: &BenchResult) -> Option<&BenchResult> {
        let compare = self.compare(&result.group);
        let baseline = match &compare {
            Compare::SpeedupOver(b) | Compare::CostOf(b) => b.as_str(),
        };
        let param = result.parameter.as_deref();
        self.find(&result.group, baseline, param)
            .or_else(|| self.members(&result.group).find(|m| m.function == baseline))
    }

    /// How `result` compares with its group's baseline ([`RunData::baseline_of`]): a
    /// speedup or a cost ratio, as the catalog says for the group (by default a speedup over
    /// the reference model), with its interval.
    pub fn ratio(&self, result: &BenchResult) -> Option<Ratio> {
        let base = self.baseline_of(result)?;
        if std::ptr::eq(base, result) {
            return Some(Ratio::point(1.0));
        }
        let cost = self.ratio_between(result, base)?;
        let r = match self.compare(&result.group) {
            Compare::SpeedupOver(_) => cost.inverse(),
            Compare::CostOf(_) => cost,
        };
        r.value.is_finite().then_some(r)
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

    /// The version of crate `name` this run was built with.
    pub fn module(&self, name: &str) -> Option<&str> {
        self.modules
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.version.as_str())
    }

    /// The tasks per batch of `workload`'s bench at this run's profile.
    pub fn bench_tasks(&self, workload: &str) -> Option<usize> {
        let w = self.catalog.workloads.iter().find(|w| w.name == workload)?;
        w.bench
            .iter()
            .find(|b| b.profile == self.profile)
            .map(|b| b.tasks)
    }

    /// What handing one task to `model` and getting its result back costs, ns (one empty
    /// task through it, measured in the same run), if measured.
    pub fn handoff_ns(&self, model: &str) -> Option<f64> {
        let h = self.catalog.handoffs.iter().find(|h| h.model == model)?;
        self.time(&h.group, &h.function, None)
    }

    /// The bench group of the workload `name` (from the catalog; `suite/name` if absent).
    pub fn group_of(&self, workload: &str) -> String {
        self.catalog
            .group_of(workload)
            .filter(|g| !g.is_empty())
            .map_or_else(|| format!("?/{workload}"), str::to_owned)
    }
}
