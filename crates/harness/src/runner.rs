//! `concur run`: time a workload under a model and check it against `sequential`.

use std::time::{Duration, Instant};

use concur_workloads::{AnyWorkload, Batch, Cx, Echo, Params, ParamsError};
use serde::Serialize;

use crate::models::Sequential;
use crate::{ModelError, ModelSpec};
use concur_measure::Summary;
use concur_measure::probe::{self, PssSampler};

/// How often the PSS sampler reads `/proc` during a run.
const PSS_INTERVAL: Duration = Duration::from_millis(10);

/// The most workers any model may be asked for; the OS usually refuses far earlier, with a
/// clear error.
pub(crate) const MAX_WORKERS: usize = 1_000_000;

/// What to run.
#[derive(Clone, Copy)]
pub struct RunRequest {
    /// The model.
    pub model: &'static ModelSpec,
    /// The workload.
    pub workload: &'static dyn AnyWorkload,
    /// Tasks and size.
    pub params: Params,
    /// Workers, or the model's default ([`ModelSpec::default_workers`]).
    pub workers: Option<usize>,
    /// How many timed runs; figures are their median.
    pub repeat: usize,
    /// Whether units print their lines (and the program its epilogue) to stdout.
    pub echo: Echo,
}

/// What `concur run --json` prints (the CLI contract in docs/ARCHITECTURE.md).
#[derive(Clone, Debug, Serialize)]
pub struct RunReport {
    /// The model.
    pub model: &'static str,
    /// The workload.
    pub workload: &'static str,
    /// Number of tasks.
    pub tasks: usize,
    /// Number of workers (tasks that may run at once).
    pub workers: usize,
    /// The workload's size parameter.
    pub size: u64,
    /// Number of timed runs.
    pub repeat: usize,
    /// Median wall time of the runs, seconds.
    pub wall_s: f64,
    /// Fastest run.
    pub wall_s_min: f64,
    /// Slowest run.
    pub wall_s_max: f64,
    /// Every run's wall time, in order.
    pub wall_s_samples: Vec<f64>,
    /// Median CPU time (user + system, waited-for children included) per run, seconds.
    pub cpu_s: f64,
    /// `cpu_s / wall_s`: about 1 for one busy core, about K for K busy cores.
    pub cpu_utilisation: f64,
    /// Peak RSS of the largest single process, bytes.
    pub peak_rss_bytes: u64,
    /// Peak PSS of the whole process tree during the runs, bytes (shared pages count once).
    pub peak_pss_bytes: u64,
    /// Checksum of the outputs, as 16 hex digits.
    pub checksum: String,
    /// The `sequential` checksum for the same inputs.
    pub expected_checksum: String,
    /// Whether every run's checksum equalled `sequential`'s.
    pub checksum_ok: bool,
    /// The lines the units printed, in task order, then the epilogue.
    pub output: Vec<String>,
}

/// Why a run could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Bad parameters: the caller's fault (exit code 2 in the CLI).
    #[error("{0}")]
    Invalid(String),
    /// The model failed.
    #[error("{model} failed: {source}")]
    Model {
        /// Which model.
        model: &'static str,
        /// Why.
        #[source]
        source: ModelError,
    },
    /// A probe could not start.
    #[error("could not start the PSS sampler: {0}")]
    Probe(#[from] std::io::Error),
    /// The floor paired with the models could not start or failed an exchange.
    #[error("{floor} failed: {source}")]
    Floor {
        /// Which floor.
        floor: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A model's result differs from `sequential`'s.
    #[error("{model} gave a wrong result for {workload} (its checksum differs from sequential's)")]
    WrongResult {
        /// Which model.
        model: &'static str,
        /// On which workload.
        workload: &'static str,
    },
}

impl From<ParamsError> for RunError {
    fn from(e: ParamsError) -> Self {
        RunError::Invalid(e.0)
    }
}

/// The `sequential` checksum of `batch`, computed without real waits (I/O-bound units
/// produce the same output either way; the workloads' tests check that).
pub fn reference_checksum(batch: &Batch) -> Result<u64, ModelError> {
    Sequential::run_with(batch, &Cx::reference()).map(|outs| batch.checksum_of(&outs))
}

/// Prepares the inputs, computes the reference, starts the model, then times `repeat` runs.
/// Starting the model (a pool's workers) is not timed: pools are reused across batches.
pub fn run(req: &RunRequest) -> Result<RunReport, RunError> {
    run_with(req, None)
}

/// Like [`run`], for `--model cluster` across the hosts of a host file: this process is
/// process 0 (the first line), the others run `concur cluster-worker`. `--workers`, if
/// given, must equal the number of hosts.
pub fn run_on_hosts(
    req: &RunRequest,
    hosts: Vec<concur_cluster::Host>,
) -> Result<RunReport, RunError> {
    if req.model.name != crate::models::names::CLUSTER {
        return Err(RunError::Invalid(format!(
            "--hosts is for --model {}, not {}",
            crate::models::names::CLUSTER,
            req.model.name
        )));
    }
    if let Some(w) = req.workers.filter(|&w| w != hosts.len()) {
        return Err(RunError::Invalid(format!(
            "--workers {w} does not match the host file's {} processes",
            hosts.len()
        )));
    }
    run_with(req, Some(hosts))
}

fn run_with(
    req: &RunRequest,
    hosts: Option<Vec<concur_cluster::Host>>,
) -> Result<RunReport, RunError> {
    if req.repeat == 0 {
        return Err(RunError::Invalid("--repeat must be at least 1".into()));
    }
    let workers = req
        .workers
        .unwrap_or_else(|| req.model.default_workers(req.params.tasks));
    if !(1..=MAX_WORKERS).contains(&workers) {
        return Err(RunError::Invalid(format!(
            "--workers must be between 1 and {MAX_WORKERS}, got {workers}"
        )));
    }
    // Allocated where the model wants it: a shm-pool's workers map the batch's large input.
    let batch = req.workload.prepare_in(&req.params, req.model.arena())?;
    let model_err = |source| RunError::Model {
        model: req.model.name,
        source,
    };
    let expected = reference_checksum(&batch).map_err(model_err)?;
    let model = match hosts {
        Some(hosts) => crate::models::cluster_with_hosts(hosts),
        None => req.model.build(workers),
    }
    .map_err(|e| {
        // Past a limit of this machine: refused up front, as bad input.
        if e.is_limit() {
            RunError::Invalid(format!("--workers {workers}: {e}"))
        } else {
            model_err(e)
        }
    })?;

    let mut walls = Vec::with_capacity(req.repeat);
    let mut cpus = Vec::with_capacity(req.repeat);
    let mut checksum_ok = true;
    let mut last = None;
    let sampler = PssSampler::start(PSS_INTERVAL)?;
    for _ in 0..req.repeat {
        let cpu0 = probe::cpu_time();
        let t0 = Instant::now();
        let outputs = model.run(&batch, req.echo);
        let wall = t0.elapsed();
        let cpu = probe::cpu_time().saturating_sub(cpu0);
        let outputs = match outputs {
            Ok(o) => o,
            Err(e) => {
                sampler.finish();
                return Err(model_err(e));
            }
        };
        if let (Echo::Stdout, Some(line)) = (req.echo, batch.info().epilogue) {
            Cx::stdout().print_line(line);
        }
        let sum = batch.checksum_of(&outputs);
        checksum_ok &= sum == expected;
        walls.push(wall.as_secs_f64());
        cpus.push(cpu.as_secs_f64());
        last = Some((sum, outputs));
    }
    let peaks = sampler.finish();
    let (sum, outputs) = last.expect("repeat >= 1");
    let wall = Summary::of(&walls).expect("repeat >= 1");
    let cpu = Summary::of(&cpus).expect("repeat >= 1");
    let output = outputs
        .into_iter()
        .filter_map(|o| o.text)
        .chain(batch.info().epilogue.map(str::to_owned))
        .collect();
    Ok(RunReport {
        model: req.model.name,
        workload: batch.info().name,
        tasks: req.params.tasks,
        workers: model.workers(),
        size: req.params.size,
        repeat: req.repeat,
        wall_s: wall.median,
        wall_s_min: wall.min,
        wall_s_max: wall.max,
        wall_s_samples: walls,
        cpu_s: cpu.median,
        cpu_utilisation: if wall.median > 0.0 {
            cpu.median / wall.median
        } else {
            0.0
        },
        peak_rss_bytes: probe::peak_rss_bytes().max(peaks.descendant_rss_bytes),
        peak_pss_bytes: peaks.tree_pss_bytes,
        checksum: format!("{sum:016x}"),
        expected_checksum: format!("{expected:016x}"),
        checksum_ok,
        output,
    })
}
