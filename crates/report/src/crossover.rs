//! Granularity: where a model starts to pay off. A sweep ([`Sweep`]) times one model against
//! `sequential` in paired rounds at task sizes from about a microsecond to about 100 ms; the
//! speedup at each size carries its 95% interval, and [`Sweep::break_even`] and
//! [`Sweep::pays_off`] read off the task size at which the speedup crosses 1× and 80% of the
//! ideal (0.8 × workers), each with the interval the speedups' intervals give it.
//!
//! A crossing is the *last* time the curve rises through the level: from there on, every
//! size measured pays. A curve already above the level at its smallest size crosses "below"
//! the sweep; one never reaching it, "above" it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::stats::{Ratio, median, paired_ratio, seed};
use crate::units::human_time;

/// The share of the ideal speedup (the worker count) at which a model "pays off".
pub const PAYS_OFF_SHARE: f64 = 0.8;

/// One model's sweep: a step per task size, each a paired comparison with `sequential`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Sweep {
    /// The model.
    pub model: String,
    /// The workload whose size was swept.
    pub workload: String,
    /// The model's workers (the ideal speedup).
    pub workers: usize,
    /// The steps, smallest task first.
    pub steps: Vec<Step>,
}

/// One task size of a sweep.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Step {
    /// The workload's size (its work per task).
    pub size: u64,
    /// Tasks in the batch.
    pub tasks: usize,
    /// `sequential`'s time for the batch, per round, ns.
    pub sequential_ns: Vec<f64>,
    /// The model's time for the same batch, per round (measured right before or after), ns.
    pub model_ns: Vec<f64>,
}

impl Step {
    /// Work per task: `sequential`'s median batch time over the tasks, ns.
    pub fn task_ns(&self) -> f64 {
        median(&mut self.sequential_ns.clone()) / self.tasks.max(1) as f64
    }

    /// The model's speedup over `sequential`, with its 95% interval over the rounds.
    pub fn speedup(&self) -> Option<Ratio> {
        paired_ratio(
            &self.sequential_ns,
            &self.model_ns,
            seed(&["crossover", &self.size.to_string()]),
        )
    }
}

/// Where a curve is at a level, read against the sizes a sweep measured.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case", tag = "where", content = "ns")]
pub enum Bound {
    /// Already past the level at the smallest size measured (this many ns per task).
    Below(f64),
    /// At this many ns per task.
    At(f64),
    /// Not past it at the largest size measured (this many ns per task).
    Above(f64),
}

impl Bound {
    /// The task size, ns (the sweep's edge for `Below` and `Above`).
    pub fn ns(self) -> f64 {
        match self {
            Bound::Below(x) | Bound::At(x) | Bound::Above(x) => x,
        }
    }
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Bound::Below(x) => write!(f, "< {}", human_time(x)),
            Bound::At(x) => f.write_str(&human_time(x)),
            Bound::Above(x) => write!(f, "> {}", human_time(x)),
        }
    }
}

/// The task size at which a speedup curve crosses a level, with its 95% interval: the
/// estimate from the speedups, the early end from their upper bounds, the late end from
/// their lower bounds.
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
pub struct Crossing {
    /// The speedup crossed.
    pub level: f64,
    /// Where the speedups cross it.
    pub at: Bound,
    /// Where their upper bounds do (the earliest it can be).
    pub lo: Bound,
    /// Where their lower bounds do (the latest it can be).
    pub hi: Bound,
}

impl Crossing {
    /// Whether it was found within the sweep (the estimate and both ends).
    pub fn within(&self) -> bool {
        matches!(
            (self.at, self.lo, self.hi),
            (Bound::At(_), Bound::At(_), Bound::At(_))
        )
    }
}

/// `85.0 µs (60.0 µs–120 µs)`, `< 1.00 µs`, `> 100 ms`, `not within 1.00 µs–100 ms`.
impl fmt::Display for Crossing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.at, self.lo, self.hi) {
            (Bound::Above(x), _, _) if matches!(self.lo, Bound::Above(_)) => {
                write!(f, "not within the sweep (> {})", human_time(x))
            }
            (Bound::Below(x), _, Bound::Below(_)) => {
                write!(f, "at every size swept (< {})", human_time(x))
            }
            (at, lo, hi) => write!(f, "{at} ({lo} – {hi})"),
        }
    }
}

/// Where the curve through `points` (task ns, value), in order of task size, rises through
/// `level` for the last time: linear in the log of the task size between the two points
/// around it.
pub fn last_rise(points: &[(f64, f64)], level: f64) -> Option<Bound> {
    let (first, last) = (points.first()?, points.last()?);
    let Some(i) = points.iter().rposition(|&(_, y)| y < level) else {
        return Some(Bound::Below(first.0));
    };
    if i + 1 == points.len() {
        return Some(Bound::Above(last.0));
    }
    let ((x0, y0), (x1, y1)) = (points[i], points[i + 1]);
    let t = ((level - y0) / (y1 - y0)).clamp(0.0, 1.0);
    Some(Bound::At((x0.ln() + t * (x1.ln() - x0.ln())).exp()))
}

impl Sweep {
    /// Every step with a speedup: (task ns, speedup), smallest task first.
    pub fn curve(&self) -> Vec<(f64, Ratio)> {
        let mut points: Vec<(f64, Ratio)> = self
            .steps
            .iter()
            .filter_map(|s| Some((s.task_ns(), s.speedup()?)))
            .filter(|(x, _)| x.is_finite() && *x > 0.0)
            .collect();
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        points
    }

    /// Where the speedup crosses `level`, if the sweep has any step.
    pub fn crossing(&self, level: f64) -> Option<Crossing> {
        let curve = self.curve();
        let along = |pick: fn(&Ratio) -> f64| -> Vec<(f64, f64)> {
            curve.iter().map(|(x, r)| (*x, pick(r))).collect()
        };
        Some(Crossing {
            level,
            at: last_rise(&along(|r| r.value), level)?,
            lo: last_rise(&along(|r| r.hi), level)?,
            hi: last_rise(&along(|r| r.lo), level)?,
        })
    }

    /// Where the model breaks even with `sequential` (speedup 1×).
    pub fn break_even(&self) -> Option<Crossing> {
        self.crossing(1.0)
    }

    /// Where it pays off: a speedup of [`PAYS_OFF_SHARE`] of the ideal (its workers).
    pub fn pays_off(&self) -> Option<Crossing> {
        self.crossing(PAYS_OFF_SHARE * self.workers as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A step whose speedup is `s` in every round (± `noise` alternately), at `task_ns`.
    fn step(task_ns: f64, s: f64, noise: f64) -> Step {
        let tasks = 10;
        let seq = task_ns * tasks as f64;
        let rounds = 12;
        Step {
            size: task_ns as u64,
            tasks,
            sequential_ns: vec![seq; rounds],
            model_ns: (0..rounds)
                .map(|i| {
                    let wobble = if i % 2 == 0 { 1.0 + noise } else { 1.0 - noise };
                    seq / (s * wobble)
                })
                .collect(),
        }
    }

    fn sweep(points: &[(f64, f64)], noise: f64) -> Sweep {
        Sweep {
            model: "m".into(),
            workload: "spin".into(),
            workers: 2,
            steps: points.iter().map(|&(x, s)| step(x, s, noise)).collect(),
        }
    }

    fn at(b: Bound) -> f64 {
        match b {
            Bound::At(x) => x,
            other => panic!("not within: {other:?}"),
        }
    }

    #[test]
    fn a_monotone_curve_crosses_between_its_points() {
        // 0.5× at 1 µs, 1.5× at 10 µs: 1× halfway in log space, at √10 µs.
        let s = sweep(&[(1e3, 0.5), (1e4, 1.5), (1e5, 1.9)], 0.0);
        let be = s.break_even().unwrap();
        assert!((at(be.at) - 1e3 * 10f64.sqrt()).abs() < 1.0, "{be:?}");
        // No noise: the interval is the point.
        assert_eq!(be.lo, be.at);
        assert_eq!(be.hi, be.at);
        // Pays off at 1.6×: between 10 µs (1.5×) and 100 µs (1.9×).
        let po = s.pays_off().unwrap();
        assert!(at(po.at) > 1e4 && at(po.at) < 1e5, "{po:?}");
        assert!(be.within() && po.within());
    }

    #[test]
    fn noise_widens_the_interval_around_the_estimate() {
        let s = sweep(&[(1e3, 0.5), (1e4, 1.5), (1e5, 1.9)], 0.2);
        let be = s.break_even().unwrap();
        let (lo, x, hi) = (at(be.lo), at(be.at), at(be.hi));
        assert!(lo < x && x < hi, "{lo} {x} {hi}");
        assert!(be.to_string().contains(" – "), "{be}");
    }

    #[test]
    fn a_curve_that_never_crosses_says_where_it_was_measured() {
        let never = sweep(&[(1e3, 0.2), (1e6, 0.9)], 0.0);
        assert_eq!(never.break_even().unwrap().at, Bound::Above(1e6));
        assert!(
            never
                .break_even()
                .unwrap()
                .to_string()
                .starts_with("not within the sweep (> 1.00 ms)")
        );
        let always = sweep(&[(1e3, 1.2), (1e6, 1.9)], 0.0);
        assert_eq!(always.break_even().unwrap().at, Bound::Below(1e3));
        assert!(!always.break_even().unwrap().within());
        assert!(sweep(&[], 0.0).break_even().is_none());
    }

    #[test]
    fn a_curve_crossing_twice_is_read_at_its_last_rise() {
        // Above 1× at 1 µs (a fluke), below at 10 µs, above from 100 µs on.
        let s = sweep(&[(1e3, 1.1), (1e4, 0.8), (1e5, 1.2), (1e6, 1.9)], 0.0);
        let x = at(s.break_even().unwrap().at);
        assert!(x > 1e4 && x < 1e5, "{x}");
    }

    #[test]
    fn steps_are_read_in_order_of_task_size() {
        let mut s = sweep(&[(1e5, 1.5), (1e3, 0.5)], 0.0);
        assert!(s.curve()[0].0 < s.curve()[1].0);
        s.steps.reverse();
        assert_eq!(
            s.break_even(),
            sweep(&[(1e3, 0.5), (1e5, 1.5)], 0.0).break_even()
        );
    }

    #[test]
    fn round_trips_through_json() {
        let s = sweep(&[(1e3, 0.5), (1e4, 1.5)], 0.1);
        let back: Sweep = serde_json::from_str(&serde_json::to_string(&s).unwrap()).unwrap();
        assert_eq!(back, s);
        let c = s.break_even().unwrap();
        let json = serde_json::to_string(&c).unwrap();
        assert!(json.contains(r#""where":"at""#), "{json}");
    }
}
