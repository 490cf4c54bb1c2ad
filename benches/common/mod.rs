//! Criterion glue shared by the bench binaries (each includes it with `mod common;`).
//!
//! Every benchmark checks its result against the `sequential` checksum on every iteration:
//! a fast wrong answer is a failure, not a data point.

// Each bench binary uses a different subset of these helpers.
#![allow(dead_code)]

use concur::harness::{Family, Model, ModelSpec, Profile, reference_checksum};
use concur::workloads::{AnyWorkload, Arena, Batch, Echo, Heap, Kind, Params};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, BenchmarkId, Criterion};

/// Criterion configured for `profile`; command-line flags (`--test`, `--quick`, a filter,
/// `--save-baseline`) still override it.
pub(crate) fn criterion(profile: Profile) -> Criterion {
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
pub(crate) struct Checked {
    pub batch: Batch,
    pub expected: u64,
}

impl Checked {
    /// Prepares `workload` at `params` and computes its reference checksum.
    pub(crate) fn new(workload: &'static dyn AnyWorkload, params: Params) -> Checked {
        Self::new_in(workload, params, &Heap)
    }

    /// Like [`Checked::new`], the workload's large input (if any) allocated in `arena`.
    pub(crate) fn new_in(
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
    pub(crate) fn time_checked(&self, model: &dyn Model, iters: u64) -> std::time::Duration {
        let name = model.name();
        model
            .time_runs(&self.batch, iters, &mut |outputs| {
                assert_eq!(
                    self.batch.checksum_of(&outputs),
                    self.expected,
                    "{name} gave a wrong result for {}",
                    self.batch.info().name
                );
            })
            .unwrap_or_else(|e| panic!("{name} failed: {e}"))
    }

    /// Runs the batch once under `model` and panics unless the checksum matches.
    pub(crate) fn run_checked(&self, model: &dyn Model) {
        let outputs = model
            .run(&self.batch, Echo::Off)
            .unwrap_or_else(|e| panic!("{} failed: {e}", model.name()));
        let got = self.batch.checksum_of(&outputs);
        assert_eq!(
            got,
            self.expected,
            "{} gave a wrong result for {}",
            model.name(),
            self.batch.info().name
        );
    }
}

/// The registered workloads of `kind`: each suite benchmarks these, so a new workload shows
/// up in its suite with nothing but its registry entry.
pub(crate) fn workloads_of(kind: Kind) -> impl Iterator<Item = &'static dyn AnyWorkload> {
    concur::workloads::all()
        .iter()
        .copied()
        .filter(move |w| w.info().kind == kind)
}

/// Benchmarks `checked` under `spec` as function `spec.name`, parameter `workers` of `group`.
/// The model is started outside the timed loop with `workers` workers (`sequential` always
/// has one: at every parameter it is the same baseline, measured again).
pub(crate) fn bench_model(
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
pub(crate) fn bench_model_at(
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

/// One scaling group: every model at every worker count of the profile, one iteration per
/// sample (iterations take tens of milliseconds or more), `sample_size` samples each.
pub(crate) fn bench_scaling(
    c: &mut Criterion,
    name: &str,
    checked: &Checked,
    profile: Profile,
    sample_size: usize,
) {
    let mut group = c.benchmark_group(name);
    group.sampling_mode(criterion::SamplingMode::Flat);
    group.sample_size(sample_size);
    for &workers in profile.workers_axis() {
        for spec in concur::harness::models() {
            bench_model(&mut group, spec, workers, checked);
        }
    }
    group.finish();
}
