//! concur's criterion driver. Two uses:
//!
//! - **Your own workload** ([`main_with`]): a bench binary (`harness = false`) whose `main`
//!   is one call. It registers your workloads beside concur's, compares every model on each
//!   of them at 1, 2 and 4 workers (or, for an I/O workload, at 8 and 64 concurrent
//!   requests), checking every iteration's result against `sequential`, measures the ratios
//!   at 2 workers again in paired rounds, and writes a report per workload —
//!   `target/concur/<workload>/index.html`, "threads or processes" for your code, what to
//!   pick, a speedup plot and the group's table — whose path it prints last.
//! - **concur's own benches** use the same pieces: [`criterion()`], [`Checked`],
//!   [`bench_model`], [`bench_model_at`], [`bench_scaling`].
//!
//! Sizes come from each workload's `Info::bench` for the profile in
//! `CONCUR_BENCH_PROFILE` (`smoke`, `quick`, `full`; `cargo xtask bench` sets it, a bare
//! `cargo bench` runs `full`).

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use concur_harness::paired::{CompareRequest, Rounds, bench_workers, compare};
use concur_harness::{Family, Model, ModelSpec, Profile, ProfileSizes, models, reference_checksum};
use concur_measure::noise::SuiteNoise;
use concur_report::RunData;
use concur_workloads::{AnyWorkload, Arena, Batch, Heap, Kind, Params};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion};

/// Criterion configured for `profile`; command-line flags (`--test`, `--quick`, a filter,
/// `--save-baseline`) still override it.
pub fn criterion(profile: Profile) -> Criterion {
    Criterion::default()
        .sample_size(profile.sample_size())
        // Criterion's default 100 000 bootstrap resamples make its HTML plots take seconds
        // per benchmark (KDEs over every resample): most of a run's time, for confidence
        // intervals this many resamples do not change visibly.
        .nresamples(profile.bootstrap_resamples())
        .measurement_time(profile.measurement_time())
        .warm_up_time(profile.warm_up_time())
        .configure_from_args()
}

/// A prepared batch and its `sequential` checksum.
pub struct Checked {
    /// The batch every model runs.
    pub batch: Batch,
    /// What every run's checksum must be.
    pub expected: u64,
}

impl Checked {
    /// Prepares `workload` at `params` and computes its reference checksum.
    pub fn new(workload: &'static dyn AnyWorkload, params: Params) -> Checked {
        Self::new_in(workload, params, &Heap)
    }

    /// Like [`Checked::new`], the workload's large input (if any) allocated in `arena`.
    pub fn new_in(
        workload: &'static dyn AnyWorkload,
        params: Params,
        arena: &dyn Arena,
    ) -> Checked {
        let name = workload.info().name;
        let batch = workload
            .prepare_in(&params, arena)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        let expected = reference_checksum(&batch).expect("sequential reference runs");
        Checked { batch, expected }
    }

    /// Runs the batch `iters` times under `model` ([`Model::time_runs`]), panics unless
    /// every checksum matches, and returns the time the runs took.
    pub fn time_checked(&self, model: &dyn Model, iters: u64) -> Duration {
        let name = model.name();
        model
            .time_runs(&self.batch, iters, &mut |outputs| {
                assert_eq!(
                    self.batch.checksum_of(&outputs),
                    self.expected,
                    "{name} gave a wrong result for {} (its checksum differs from \
                     sequential's: a unit that is not deterministic, or a merge that depends \
                     on the order results arrive in?)",
                    self.batch.info().name
                );
            })
            .unwrap_or_else(|e| panic!("{name} failed: {e}"))
    }

    /// Runs the batch once under `model` and panics unless the checksum matches.
    pub fn run_checked(&self, model: &dyn Model) {
        let outputs = model
            .run(&self.batch, concur_workloads::Echo::Off)
            .unwrap_or_else(|e| panic!("{} failed: {e}", model.name()));
        assert_eq!(
            self.batch.checksum_of(&outputs),
            self.expected,
            "{} gave a wrong result for {}",
            model.name(),
            self.batch.info().name
        );
    }
}

/// Benchmarks `checked` under `spec` as function `spec.name`, parameter `workers` of `group`.
/// The model is started outside the timed loop with `workers` workers (`sequential` always
/// has one: at every parameter it is the same baseline, measured again).
pub fn bench_model(
    group: &mut BenchmarkGroup<'_, WallTime>,
    spec: &ModelSpec,
    workers: usize,
    checked: &Checked,
) {
    let k = if spec.family == Family::Sequential {
        1
    } else {
        workers
    };
    bench_model_at(group, spec, workers, k, checked);
}

/// Like [`bench_model`], with the parameter and the model's worker count given apart.
/// Timed with `iter_custom` around [`Model::time_runs`], so `tokio` times its whole loop
/// inside one `block_on` (criterion's async timing is skewed on multi-thread runtimes); the
/// checksum of every run is checked, untimed.
pub fn bench_model_at(
    group: &mut BenchmarkGroup<'_, WallTime>,
    spec: &ModelSpec,
    parameter: usize,
    workers: usize,
    checked: &Checked,
) {
    let model = spec
        .build(workers)
        .unwrap_or_else(|e| panic!("{}: {e}", spec.name));
    group.bench_with_input(
        BenchmarkId::new(spec.name, parameter),
        &parameter,
        |b, _| {
            b.iter_custom(|iters| checked.time_checked(model.as_ref(), iters));
        },
    );
}

/// The worker count of a scaling group that the report's verdicts and "what to pick" read
/// (on two or more cores, where parallelism can show); the other counts draw the curve.
pub const DECIDING_WORKERS: usize = 2;

/// One scaling group: every model at every worker count of the profile, one iteration per
/// sample (iterations take tens of milliseconds or more): `sample_size` samples at
/// [`DECIDING_WORKERS`], whose figures the verdicts read, criterion's minimum of 10 at the
/// other counts, which only draw the scaling curve and its table.
pub fn bench_scaling(
    c: &mut Criterion,
    name: &str,
    checked: &Checked,
    profile: Profile,
    sample_size: usize,
) {
    let mut group = c.benchmark_group(name);
    group.sampling_mode(criterion::SamplingMode::Flat);
    for &workers in profile.workers_axis() {
        group.sample_size(if workers == DECIDING_WORKERS {
            sample_size
        } else {
            sample_size.min(10)
        });
        for spec in models() {
            bench_model(&mut group, spec, workers, checked);
        }
    }
    group.finish();
}

/// One I/O group: every model at each concurrency `n` of the profile (`n` tasks, the
/// workers rule of [`bench_workers`]); `also` adds benchmarks of its own at each `n` (with
/// that batch's parameters), e.g. a floor.
pub fn bench_io(
    c: &mut Criterion,
    w: &'static dyn AnyWorkload,
    profile: Profile,
    mut also: impl FnMut(&mut BenchmarkGroup<'_, WallTime>, usize, Params),
) {
    let info = w.info();
    let mut group = c.benchmark_group(info.bench_group());
    group.sampling_mode(criterion::SamplingMode::Flat);
    group.sample_size(10);
    // A batch here is dominated by its waits (a 50 ms sleep or server delay varies by
    // ±0.05% from iteration to iteration): half the usual measurement time gives the same
    // medians, and the verdicts read these groups' paired rounds anyway.
    group.measurement_time(profile.measurement_time() / 2);
    for &n in profile.concurrency_axis() {
        let params = Params {
            tasks: n,
            size: profile.bench_params(info).size,
        };
        let checked = Checked::new(w, params);
        for spec in models() {
            if let Some(workers) = bench_workers(spec, Kind::IoBound, n) {
                bench_model_at(&mut group, spec, n, workers, &checked);
            }
        }
        also(&mut group, n, params);
    }
    group.finish();
}

/// The driver for a bench binary of your own (`[[bench]] harness = false`): registers
/// `workloads`, serves as a worker when the process is one (so make it `main`'s only call),
/// benchmarks every model on each workload, and writes a report per workload
/// (`target/concur/<name>/index.html`), printing its path. A registration error exits
/// with code 2 and says what to fix.
pub fn main_with(workloads: &[&'static dyn AnyWorkload]) -> ExitCode {
    if let Err(e) = concur_workloads::register(workloads) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    concur_harness::init_workers();
    // Worker handshakes on a tmpfs when TMPDIR is unset: a faster worker start.
    let _ = concur_procs::handshakes_on_tmpfs();
    for w in workloads {
        if let Err(e) = concur_workloads::self_check(*w) {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    }
    let profile = Profile::from_env();
    let started = SystemTime::now();
    let mut run = concur_measure::this_run(profile);
    let mut noise = concur_measure::noise::before_the_suites(Duration::from_millis(500));
    let suite = SuiteNoise::start();
    let mut c = criterion(profile);
    for &w in workloads {
        let info = w.info();
        if info.kind == Kind::IoBound {
            bench_io(&mut c, w, profile, |_, _, _| {});
        } else {
            let checked = Checked::new(w, profile.bench_params(info));
            let samples = profile.bench_samples(info);
            bench_scaling(&mut c, &info.bench_group(), &checked, profile, samples);
        }
    }
    c.final_summary();
    suite.finish("bench", &mut noise);
    run.noise = Some(noise);
    match report(workloads, run, started) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: writing the report: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Where criterion writes (`CARGO_TARGET_DIR`, else cargo's target directory).
fn target_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("CARGO_TARGET_DIR") {
        return PathBuf::from(dir);
    }
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    std::process::Command::new(cargo)
        .args(["metadata", "--format-version", "1", "--no-deps"])
        .output()
        .ok()
        .and_then(|o| serde_json::from_slice::<serde_json::Value>(&o.stdout).ok())
        .and_then(|v| v["target_directory"].as_str().map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("target"))
}

/// Reads what criterion recorded for `workloads`, pairs the models at 2 workers, and
/// writes a report per workload.
fn report(
    workloads: &[&'static dyn AnyWorkload],
    mut data: RunData,
    started: SystemTime,
) -> Result<(), concur_report::Error> {
    let profile = data.profile;
    let target = target_dir();
    let groups: Vec<String> = workloads.iter().map(|w| w.info().bench_group()).collect();
    let results: Vec<_> = concur_report::criterion::load(&target.join("criterion"), Some(started))?
        .into_iter()
        .filter(|r| groups.contains(&r.group))
        .collect();
    let (min, max) = profile.paired_rounds();
    let rounds = Rounds {
        min,
        max,
        thresholds: concur_report::verdicts::THRESHOLDS.to_vec(),
    };
    let mut paired = Vec::new();
    for &w in workloads {
        let info = w.info();
        let param = if info.kind == Kind::IoBound { 8 } else { 2 };
        let measured = results.iter().any(|r| {
            r.group == info.bench_group() && r.parameter.as_deref() == Some(&param.to_string())
        });
        if !measured {
            continue;
        }
        let mut params = profile.bench_params(info);
        if info.kind == Kind::IoBound {
            params.tasks = param;
        }
        match compare(&CompareRequest {
            workload: w,
            params,
            param,
            models: Vec::new(),
            rounds: rounds.clone(),
            with_floor: false,
        }) {
            Ok(run) => paired.push(run),
            Err(e) => eprintln!("concur-bench: paired rounds of {}: {e}", info.name),
        }
    }
    data.results = results;
    data.paired = paired;
    data.catalog = concur_harness::catalog();
    data.program = Some(program_name());
    for &w in workloads {
        let name = w.info().name;
        let dir = target.join("concur").join(name);
        let written = concur_report::write_workload(&dir, &data, name)?;
        println!("{name}: report {}", written.html.display());
    }
    Ok(())
}

/// The program measuring: the package cargo runs the bench of (`CARGO_PKG_NAME`), else the
/// bench executable's name without the hash cargo appends (`word_freq-1a2b…` → `word_freq`).
fn program_name() -> String {
    if let Ok(name) = std::env::var("CARGO_PKG_NAME") {
        if !name.is_empty() {
            return name;
        }
    }
    let exe = std::env::args_os().next().unwrap_or_default();
    let stem = std::path::Path::new(&exe)
        .file_name()
        .map(|f| f.to_string_lossy().into_owned())
        .unwrap_or_default();
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => name.to_owned(),
        _ if stem.is_empty() => "concur-bench".to_owned(),
        _ => stem,
    }
}

/// The README's examples, compiled and run as doc tests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
