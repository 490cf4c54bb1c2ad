//! The granularity section's figures: per model, the measured break-even and pays-off task
//! sizes of its sweep ([`crate::crossover`]), and beside them the ones a simple cost model
//! predicts from what the same run measured of the model's per-task cost.
//!
//! The cost model is the one the cluster projection uses ([`crate::beyond`]): each task costs
//! its worker its work `w` plus the model's per-task overhead `o`, so `c` workers run `n`
//! tasks in `n(w + o)/c` against `sequential`'s `n·w` (the models are started before the
//! timed rounds, so start-up is not in either). The speedup is `c·w/(w + o)`: it reaches 1×
//! at `w = o/(c − 1)` and `s·c` (the pays-off share) at `w = s·o/(1 − s)`, `4·o` at 80%.
//!
//! The overhead `o` is the model's own, measured in the same run: one empty task there and
//! back (`ipc/pingpong`'s pool tasks) for a model with a transport, spawning and joining one
//! worker (the `spawn` group) for a model that starts a worker per task. Other models have
//! no per-task figure in the run, and no prediction.

use crate::catalog::DefaultWorkers;
use crate::crossover::{Bound, Crossing, PAYS_OFF_SHARE, Sweep};
use crate::data::RunData;

/// The granularity section's heading (its anchor, [`crate::doc::slug`] of it, is what
/// "what to pick" links to).
pub const HEADING: &str = "Granularity: where each model starts to pay off";

/// Measured and predicted crossings disagree when one is more than this many times the
/// other: the cost model then misses something the sweep measured (scheduling, a batch's
/// tail, the model's own pipelining), and the report says so.
pub const DISAGREES: f64 = 2.0;

/// Rules of thumb other tools publish for the work per task below which parallel tasks do
/// not pay, drawn on the granularity plot as marks: published figures, not measured here.
pub const PUBLISHED: [Published; 3] = [
    Published {
        label: "Dask threads: ~200 µs/task",
        ns: 200e3,
        source: "docs.dask.org/en/stable/shared.html",
    },
    Published {
        label: "Dask distributed: ~1 ms/task",
        ns: 1e6,
        source: "docs.dask.org/en/stable/delayed-best-practices.html",
    },
    Published {
        label: "Ray: tasks < ~10 ms rarely speed up",
        ns: 10e6,
        source: "docs.ray.io/en/latest/ray-observability/user-guides/debug-apps/optimize-performance.html",
    },
];

/// A published rule of thumb (see [`PUBLISHED`]).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Published {
    /// What it says, short.
    pub label: &'static str,
    /// The task size it names, ns.
    pub ns: f64,
    /// Where it is published (a page's address without its scheme: the report names it
    /// and links nothing outside itself).
    pub source: &'static str,
}

/// What the run measured of a model's per-task cost, and where.
#[derive(Clone, Debug, PartialEq)]
pub struct Overhead {
    /// ns per task.
    pub ns: f64,
    /// The benchmark it is read from (group, function).
    pub from: (String, String),
}

/// One model's row of the granularity table.
#[derive(Clone, Debug, PartialEq)]
pub struct Row<'a> {
    /// The sweep.
    pub sweep: &'a Sweep,
    /// Where its speedup crosses 1×.
    pub break_even: Option<Crossing>,
    /// Where it crosses the pays-off share of the ideal.
    pub pays_off: Option<Crossing>,
    /// Its per-task cost in this run, if measured.
    pub overhead: Option<Overhead>,
}

impl Row<'_> {
    /// The break-even the cost model predicts, ns (none with one worker: it never breaks
    /// even).
    pub fn predicted_break_even(&self) -> Option<f64> {
        let o = self.overhead.as_ref()?.ns;
        let c = self.sweep.workers as f64;
        (c > 1.0).then(|| o / (c - 1.0))
    }

    /// The pays-off size the cost model predicts, ns.
    pub fn predicted_pays_off(&self) -> Option<f64> {
        let o = self.overhead.as_ref()?.ns;
        Some(PAYS_OFF_SHARE * o / (1.0 - PAYS_OFF_SHARE))
    }

    /// Measured break-even over predicted, when both are numbers.
    pub fn break_even_ratio(&self) -> Option<f64> {
        ratio(self.break_even?, self.predicted_break_even()?)
    }

    /// Measured pays-off over predicted, when both are numbers.
    pub fn pays_off_ratio(&self) -> Option<f64> {
        ratio(self.pays_off?, self.predicted_pays_off()?)
    }

    /// Whether the cost model misses the sweep by more than [`DISAGREES`] either way: a
    /// measured crossing that far from the predicted one, or none within a sweep that went
    /// that far past the prediction.
    pub fn disagrees(&self) -> bool {
        let far = [self.break_even_ratio(), self.pays_off_ratio()]
            .into_iter()
            .flatten()
            .any(|r| !(1.0 / DISAGREES..=DISAGREES).contains(&r));
        let never = |c: Option<Crossing>, predicted: Option<f64>| match (c, predicted) {
            (Some(c), Some(p)) => matches!(c.at, Bound::Above(x) if x > p * DISAGREES),
            _ => false,
        };
        far || never(self.break_even, self.predicted_break_even())
            || never(self.pays_off, self.predicted_pays_off())
    }
}

/// Measured over predicted, if the crossing was found within the sweep.
fn ratio(measured: Crossing, predicted: f64) -> Option<f64> {
    match measured.at {
        Bound::At(x) if predicted > 0.0 => Some(x / predicted),
        _ => None,
    }
}

/// A model's per-task cost in this run: its pool task's round trip, or, for a model that
/// starts a worker per task, one worker's spawn and join.
pub fn overhead(data: &RunData, model: &str) -> Option<Overhead> {
    if let Some(h) = data.catalog.handoffs.iter().find(|h| h.model == model) {
        let ns = data.time(&h.group, &h.function, None)?;
        return Some(Overhead {
            ns,
            from: (h.group.clone(), h.function.clone()),
        });
    }
    let per_task = data
        .catalog
        .model(model)
        .is_some_and(|m| m.default_workers == DefaultWorkers::Tasks);
    let spawn = &data.catalog.roles.spawn_group;
    if per_task && !spawn.is_empty() {
        let ns = data.time(spawn, model, None)?;
        return Some(Overhead {
            ns,
            from: (spawn.clone(), model.to_owned()),
        });
    }
    None
}

/// A row per swept model, in the order the run swept them.
pub fn rows(data: &RunData) -> Vec<Row<'_>> {
    data.crossover
        .iter()
        .map(|sweep| Row {
            sweep,
            break_even: sweep.break_even(),
            pays_off: sweep.pays_off(),
            overhead: overhead(data, &sweep.model),
        })
        .collect()
}

/// Where `model` pays off in this run's sweep, if it was swept: what the verdicts quote
/// ("pays off above X").
pub fn pays_off_of(data: &RunData, model: &str) -> Option<Crossing> {
    data.crossover
        .iter()
        .find(|s| s.model == model)
        .and_then(Sweep::pays_off)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crossover::Step;

    fn sweep(model: &str, points: &[(f64, f64)]) -> Sweep {
        Sweep {
            model: model.into(),
            workload: "spin".into(),
            workers: 2,
            steps: points
                .iter()
                .map(|&(task_ns, s)| Step {
                    size: task_ns as u64,
                    tasks: 4,
                    sequential_ns: vec![task_ns * 4.0; 4],
                    model_ns: vec![task_ns * 4.0 / s; 4],
                })
                .collect(),
        }
    }

    #[test]
    fn the_cost_model_predicts_from_the_runs_own_overhead() {
        let mut data = crate::testing::saved_run();
        let pool = data.catalog.roles.process_pool.clone();
        let o = data
            .handoff_ns(&pool)
            .expect("the fixture has the pool task");
        data.crossover = vec![sweep(&pool, &[(o / 10.0, 0.2), (o * 10.0, 1.8)])];
        let rows = rows(&data);
        let r = &rows[0];
        assert_eq!(r.overhead.as_ref().unwrap().ns, o);
        // Two workers: break-even at o, pays off at 4·o.
        assert!((r.predicted_break_even().unwrap() - o).abs() < 1e-6);
        assert!((r.predicted_pays_off().unwrap() - 4.0 * o).abs() < 1e-6);
        assert!(r.break_even_ratio().is_some());
    }

    #[test]
    fn a_model_without_a_per_task_figure_has_no_prediction() {
        let mut data = crate::testing::saved_run();
        data.crossover = vec![sweep("rayon", &[(1e3, 0.5), (1e5, 1.9)])];
        let r = &rows(&data)[0];
        assert!(r.overhead.is_none() && r.predicted_break_even().is_none());
        assert!(!r.disagrees());
    }

    #[test]
    fn never_paying_off_past_the_prediction_disagrees() {
        let mut data = crate::testing::saved_run();
        let pool = data.catalog.roles.process_pool.clone();
        let o = data.handoff_ns(&pool).unwrap();
        data.crossover = vec![sweep(&pool, &[(o / 10.0, 0.5), (o * 10.0, 0.9)])];
        let r = &rows(&data)[0];
        assert!(r.break_even_ratio().is_none());
        assert!(r.disagrees());
    }

    #[test]
    fn far_from_the_prediction_disagrees() {
        let mut data = crate::testing::saved_run();
        let pool = data.catalog.roles.process_pool.clone();
        let o = data.handoff_ns(&pool).unwrap();
        // Breaks even at about 30·o: far from the predicted o.
        data.crossover = vec![sweep(&pool, &[(o * 10.0, 0.5), (o * 100.0, 1.9)])];
        assert!(rows(&data)[0].disagrees());
    }
}
