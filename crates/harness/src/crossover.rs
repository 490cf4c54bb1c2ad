//! `concur crossover`: at what work per task a model starts to pay off. The sweep times one
//! model against `sequential` in paired rounds ([`crate::paired::compare`], every result
//! checked) at task sizes from about 1 µs to about 100 ms: a decade apart first, from the
//! smallest up until the model has clearly paid off, then refined between the two sizes
//! around each crossing. Each batch holds about the same total work (more, smaller tasks at
//! small sizes), so every step is timed at a resolution the machine can give.
//!
//! The workload's size is mapped to a task's duration by timing `sequential` on one task at
//! two sizes (a power law through them), and each step's x value is what `sequential`
//! measured in that step, not the target: a workload whose work is not linear in its size
//! sweeps as well as `spin`, whose size is its work.

use std::time::Instant;

use concur_report::Profile;
use concur_report::crossover::{PAYS_OFF_SHARE, Step, Sweep};
use concur_report::units::human_time;
use concur_workloads::{AnyWorkload, Cx, Kind, Params};

use crate::models::Sequential;
use crate::paired::{CompareRequest, Rounds, compare};
use crate::runner::{MAX_WORKERS, RunError};
use crate::{ModelSpec, model, names};

/// The task sizes a sweep covers by default: 1 µs to 100 ms of work per task.
pub const RANGE_NS: (f64, f64) = (1e3, 1e8);

/// How hard a sweep looks: the work per batch, the rounds per step, the tasks per batch.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct SweepPlan {
    /// `sequential`'s work per batch, ns (tasks × work per task, within the caps).
    pub batch_ns: f64,
    /// Paired rounds per step at least, and at most (more while a speedup's interval holds
    /// 1× or the pays-off level).
    pub rounds: (usize, usize),
    /// The most tasks in a batch (a model that starts a worker per task: an eighth).
    pub max_tasks: usize,
    /// Extra steps per crossing, each halving (in log space) the gap around it.
    pub refinements: usize,
    /// The task sizes swept, ns.
    pub range_ns: (f64, f64),
}

impl SweepPlan {
    /// The plan of a profile: smoke is CI's check that a sweep runs (three sizes, two
    /// rounds); quick and full are what the report reads.
    pub fn of(profile: Profile) -> SweepPlan {
        match profile {
            Profile::Smoke => SweepPlan {
                batch_ns: 1e6,
                rounds: (2, 2),
                max_tasks: 64,
                refinements: 0,
                range_ns: (1e4, 1e6),
            },
            Profile::Quick => SweepPlan {
                batch_ns: 1e7,
                rounds: (5, 8),
                max_tasks: 512,
                refinements: 1,
                range_ns: RANGE_NS,
            },
            Profile::Full => SweepPlan {
                batch_ns: 2e7,
                rounds: (6, 12),
                max_tasks: 1024,
                refinements: 2,
                range_ns: RANGE_NS,
            },
        }
    }
}

/// What to sweep.
pub struct CrossoverRequest {
    /// The model compared with `sequential`.
    pub model: &'static ModelSpec,
    /// The workload whose size is swept.
    pub workload: &'static dyn AnyWorkload,
    /// The model's workers.
    pub workers: usize,
    /// How.
    pub plan: SweepPlan,
}

/// How a workload's size maps to a task's duration: `t = ns0 · (size / size0)^exponent`.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Scale {
    size0: u64,
    ns0: f64,
    exponent: f64,
    max_size: u64,
}

/// The least a calibration task must take to be timed well, ns.
const CALIBRATE_NS: f64 = 20e3;

impl Scale {
    /// Times one task of `w` under `sequential` (the fastest of three runs), at growing
    /// sizes until one takes [`CALIBRATE_NS`], then at ten times that size.
    fn calibrate(w: &'static dyn AnyWorkload) -> Result<Scale, RunError> {
        let name = w.info().name;
        let time = |size: u64| -> Result<Option<f64>, RunError> {
            let params = Params { tasks: 1, size };
            if w.validate(&params).is_err() {
                return Ok(None);
            }
            let batch = w.prepare(&params)?;
            let mut best = f64::INFINITY;
            for _ in 0..3 {
                let t = Instant::now();
                Sequential::run_with(&batch, &Cx::quiet()).map_err(|source| RunError::Model {
                    model: names::SEQUENTIAL,
                    source,
                })?;
                best = best.min(t.elapsed().as_secs_f64() * 1e9);
            }
            Ok(Some(best))
        };
        let mut size = 1u64;
        let (size0, ns0) = loop {
            match time(size)? {
                Some(ns) if ns >= CALIBRATE_NS => break (size, ns),
                Some(_) if size < u64::MAX / 10 => size *= 10,
                _ => {
                    return Err(RunError::Invalid(format!(
                        "{name}: no valid --size gives a task of {}",
                        human_time(CALIBRATE_NS)
                    )));
                }
            }
        };
        let Some(ns1) = size0.checked_mul(10).map(time).transpose()?.flatten() else {
            return Err(RunError::Invalid(format!(
                "{name}: --size {size0} is already its largest; nothing to sweep"
            )));
        };
        let exponent = (ns1 / ns0).log10();
        // Ten times the size must take at least about twice the time.
        if exponent < 0.3 {
            return Err(RunError::Invalid(format!(
                "{name}'s --size does not scale its work (ten times the size took {:.2}× the \
                 time): nothing to sweep",
                ns1 / ns0
            )));
        }
        let mut max_size = size0 * 10;
        while max_size < u64::MAX / 2
            && w.validate(&Params {
                tasks: 1,
                size: max_size * 2,
            })
            .is_ok()
            && (max_size as f64) < size0 as f64 * 1e9
        {
            max_size *= 2;
        }
        Ok(Scale {
            size0,
            ns0,
            exponent,
            max_size,
        })
    }

    /// How long a task of `size` should take, ns.
    fn ns_at(&self, size: u64) -> f64 {
        self.ns0 * (size as f64 / self.size0 as f64).powf(self.exponent)
    }

    /// The size whose task should take `ns` (at least 1, at most the largest valid).
    fn size_for(&self, ns: f64) -> u64 {
        let s = self.size0 as f64 * (ns / self.ns0).powf(1.0 / self.exponent);
        (s.round() as u64).clamp(1, self.max_size)
    }
}

/// Sweeps `req.model` against `sequential` over the plan's task sizes (see the module docs).
/// A workload that waits rather than computes, or whose size does not scale its work, is an
/// [`RunError::Invalid`].
pub fn sweep(req: &CrossoverRequest) -> Result<Sweep, RunError> {
    let info = req.workload.info();
    if info.kind == Kind::IoBound {
        return Err(RunError::Invalid(format!(
            "{} is I/O-bound (its tasks wait, they do not compute): crossover sweeps CPU work",
            info.name
        )));
    }
    if req.model.name == names::SEQUENTIAL {
        return Err(RunError::Invalid(
            "crossover compares a model with sequential: pick another model".into(),
        ));
    }
    if !(1..=MAX_WORKERS).contains(&req.workers) {
        return Err(RunError::Invalid(format!(
            "--workers must be between 1 and {MAX_WORKERS}, got {}",
            req.workers
        )));
    }
    let (from, to) = req.plan.range_ns;
    if !(from > 0.0 && to > from) {
        return Err(RunError::Invalid(format!(
            "the task sizes {from} ns to {to} ns are not a range"
        )));
    }
    let scale = Scale::calibrate(req.workload)?;
    // The smallest task must fit in the range, and the largest valid one reach into it.
    let (least, most) = (scale.ns_at(1), scale.ns_at(scale.max_size));
    if least > to || most < from {
        return Err(RunError::Invalid(format!(
            "{}'s tasks take {} to {} (--size 1 to {}): outside the {} to {} this sweep \
             times",
            info.name,
            human_time(least),
            human_time(most),
            scale.max_size,
            human_time(from),
            human_time(to)
        )));
    }
    let pays = PAYS_OFF_SHARE * req.workers as f64;
    let mut sweep = Sweep {
        model: req.model.name.to_owned(),
        workload: info.name.to_owned(),
        workers: req.workers,
        steps: Vec::new(),
    };
    // A decade apart, from the smallest size up, until two steps in a row have paid off
    // (and surely broken even): larger tasks are the costliest steps, and tell nothing new.
    let mut target = from;
    while target <= to * 1.0001 {
        sweep.steps.push(step(req, &scale, target)?);
        let curve = sweep.curve();
        let paid = |i: usize| {
            curve
                .get(i)
                .is_some_and(|(_, r)| r.value >= pays && r.lo >= 1.0)
        };
        if curve.len() >= 2 && paid(curve.len() - 1) && paid(curve.len() - 2) {
            break;
        }
        target *= 10.0;
    }
    for level in [1.0, pays] {
        for _ in 0..req.plan.refinements {
            let Some(between) = gap_around(&sweep, level) else {
                break;
            };
            sweep.steps.push(step(req, &scale, between)?);
        }
    }
    sweep
        .steps
        .sort_by(|a, b| a.task_ns().total_cmp(&b.task_ns()));
    Ok(sweep)
}

/// The geometric middle of the two measured sizes around the curve's last rise through
/// `level`, if they are more than twice apart (else the crossing is already fine enough).
fn gap_around(sweep: &Sweep, level: f64) -> Option<f64> {
    let curve = sweep.curve();
    let i = curve.iter().rposition(|(_, r)| r.value < level)?;
    let ((x0, _), (x1, _)) = (curve.get(i)?, curve.get(i + 1)?);
    (x1 / x0 > 2.0).then(|| (x0 * x1).sqrt())
}

/// One step: a batch of tasks of about `task_ns` each, the model and `sequential` timed in
/// paired rounds.
fn step(req: &CrossoverRequest, scale: &Scale, task_ns: f64) -> Result<Step, RunError> {
    let size = scale.size_for(task_ns);
    let cap = if req.model.per_task {
        (req.plan.max_tasks / 8).max(1)
    } else {
        req.plan.max_tasks
    };
    let n = req.workers.max(1);
    let wanted = (req.plan.batch_ns / task_ns).round() as usize;
    // A whole number of tasks per worker, within the cap: at least four each (a worker
    // delayed for part of one task then costs a batch less), two for the largest tasks,
    // whose batches are long enough.
    let least = if task_ns > 10e6 { 2 * n } else { 4 * n };
    let tasks = wanted.clamp(least, cap.max(least)).div_ceil(n) * n;
    let sequential = model(names::SEQUENTIAL).expect("sequential is registered");
    let (min, max) = req.plan.rounds;
    let run = compare(&CompareRequest {
        workload: req.workload,
        params: Params { tasks, size },
        param: req.workers,
        models: vec![sequential, req.model],
        rounds: Rounds {
            min,
            max,
            thresholds: vec![1.0, PAYS_OFF_SHARE * n as f64],
        },
        with_floor: false,
    })
    .map_err(|e| match e {
        // Past a limit of this machine: refused, as bad input (as `concur run` does).
        RunError::Model { source, .. } if source.is_limit() => {
            RunError::Invalid(format!("--workers {}: {source}", req.workers))
        }
        other => other,
    })?;
    let times = |name: &str| {
        run.models
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.times_ns.clone())
            .unwrap_or_default()
    };
    Ok(Step {
        size,
        tasks,
        sequential_ns: times(names::SEQUENTIAL),
        model_ns: times(req.model.name),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scale_maps_durations_to_sizes() {
        let s = Scale {
            size0: 1000,
            ns0: 2000.0,
            exponent: 1.0,
            max_size: 1_000_000,
        };
        assert_eq!(s.size_for(20_000.0), 10_000);
        assert_eq!(s.size_for(1.0), 1);
        assert_eq!(s.size_for(1e12), 1_000_000);
        // Work growing as size^2: ten times the time is √10 times the size.
        let sq = Scale { exponent: 2.0, ..s };
        assert_eq!(sq.size_for(20_000.0), 3162);
    }

    #[test]
    fn a_workload_outside_the_range_is_refused() {
        let req = CrossoverRequest {
            model: crate::model("thread-pool").unwrap(),
            workload: concur_workloads::by_name("spin").unwrap(),
            workers: 2,
            // Tasks of a picosecond to a nanosecond: below anything spin's one round takes.
            plan: SweepPlan {
                range_ns: (1e-3, 1e-2),
                ..SweepPlan::of(Profile::Smoke)
            },
        };
        let e = sweep(&req).unwrap_err();
        assert!(matches!(e, RunError::Invalid(_)), "{e}");
        assert!(e.to_string().contains("outside the"), "{e}");
    }

    #[test]
    fn spin_calibrates_and_a_constant_workload_does_not() {
        let spin = Scale::calibrate(concur_workloads::by_name("spin").unwrap()).unwrap();
        assert!(spin.ns0 >= CALIBRATE_NS && spin.exponent > 0.5, "{spin:?}");
        let seed = concur_workloads::by_name("seed-square-cube").unwrap();
        let e = Scale::calibrate(seed).unwrap_err().to_string();
        assert!(
            e.contains("does not scale its work") || e.contains("no valid"),
            "{e}"
        );
    }

    #[test]
    fn io_bound_workloads_and_sequential_are_refused() {
        let req = |model: &str, workload: &str| CrossoverRequest {
            model: crate::model(model).unwrap(),
            workload: concur_workloads::by_name(workload).unwrap(),
            workers: 2,
            plan: SweepPlan::of(Profile::Smoke),
        };
        let e = sweep(&req("thread-pool", "sleep")).unwrap_err();
        assert!(matches!(e, RunError::Invalid(_)) && e.to_string().contains("I/O-bound"));
        let e = sweep(&req("sequential", "spin")).unwrap_err();
        assert!(matches!(e, RunError::Invalid(_)), "{e}");
    }

    #[test]
    fn a_smoke_sweep_of_threads_measures_each_size() {
        let s = sweep(&CrossoverRequest {
            model: crate::model("thread-pool").unwrap(),
            workload: concur_workloads::by_name("spin").unwrap(),
            workers: 2,
            plan: SweepPlan::of(Profile::Smoke),
        })
        .unwrap();
        assert!(!s.steps.is_empty() && s.steps.len() <= 3, "{s:?}");
        for st in &s.steps {
            assert_eq!(st.sequential_ns.len(), 2);
            assert_eq!(st.model_ns.len(), 2);
            assert!(st.tasks >= 8 && st.tasks % 2 == 0, "{st:?}");
        }
        assert!(s.break_even().is_some() && s.pays_off().is_some());
    }
}
