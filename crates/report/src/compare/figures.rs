//! Every figure both runs measured, and how it changed: criterion's times, each figure's
//! ratio to its group's baseline (a speedup or a cost), and the floors-and-peers ratios.

use std::collections::BTreeSet;

use crate::catalog::Compare;
use crate::criterion::BenchResult;
use crate::data::RunData;
use crate::floors;
use crate::stats::{self, Ratio, RatioSamples};

use super::NOISE;

/// What a figure is, and so which way is worse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A time (criterion's median): higher is slower.
    Time,
    /// A speedup over a baseline: lower is slower.
    Speedup,
    /// A cost ratio (this over a baseline, a floor or a peer): higher is slower.
    Cost,
}

impl Kind {
    /// As the comparison's table says it.
    pub fn label(self) -> &'static str {
        match self {
            Kind::Time => "time",
            Kind::Speedup => "speedup",
            Kind::Cost => "ratio",
        }
    }
}

/// Whether a change is decided, and which way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Decided {
    /// Slower, the whole interval past no change, by more than [`NOISE`].
    Slower,
    /// Faster, likewise.
    Faster,
    /// The interval excludes no change but the change is under [`NOISE`].
    WithinNoise,
    /// The interval holds no change.
    NotSignificant,
}

impl Decided {
    /// As the comparison's table says it.
    pub fn label(self) -> &'static str {
        match self {
            Decided::Slower => "slower",
            Decided::Faster => "faster",
            Decided::WithinNoise => "within noise",
            Decided::NotSignificant => "not significant",
        }
    }

    fn of(slowdown: &Ratio) -> Decided {
        if slowdown.lo <= 1.0 && 1.0 <= slowdown.hi {
            Decided::NotSignificant
        } else if slowdown.value.ln().abs() < (1.0 + NOISE).ln() {
            Decided::WithinNoise
        } else if slowdown.value > 1.0 {
            Decided::Slower
        } else {
            Decided::Faster
        }
    }
}

/// One figure in both runs.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// Time, speedup or cost ratio.
    pub kind: Kind,
    /// The bench group.
    pub group: String,
    /// The function (model or channel).
    pub function: String,
    /// The group's parameter, if any.
    pub param: Option<String>,
    /// What a ratio is read against (`None` for a time).
    pub against: Option<String>,
    /// The figure in the first run, with its 95% interval (ns for a time).
    pub before: Ratio,
    /// In the second.
    pub after: Ratio,
    /// `after / before`, with its 95% interval resampled from both runs' samples.
    pub change: Ratio,
    /// How much slower the second run is on this figure: `change` for times and costs, its
    /// inverse for speedups (above 1: slower).
    pub slowdown: Ratio,
    /// Whether the change is decided.
    pub decided: Decided,
}

impl Change {
    /// `cpu_bound/primes thread-pool @2`, and ` vs sequential` for a ratio.
    pub fn name(&self) -> String {
        let mut s = figure_id(&self.group, &self.function, self.param.as_deref());
        if let Some(against) = &self.against {
            s.push_str(" vs ");
            s.push_str(against);
        }
        s
    }

    /// The size of the change, for sorting: `|ln(change)|`.
    pub fn size(&self) -> f64 {
        self.change.value.ln().abs()
    }
}

fn figure_id(group: &str, function: &str, param: Option<&str>) -> String {
    match param {
        Some(p) => format!("{group} {function} @{p}"),
        None => format!("{group} {function}"),
    }
}

fn id(r: &BenchResult) -> String {
    figure_id(&r.group, &r.function, r.parameter.as_deref())
}

/// Every figure both runs measured (times only when `times`), largest change first; and
/// the figures only the first, and only the second, measured.
pub(super) fn changes(
    a: &RunData,
    b: &RunData,
    times: bool,
) -> (Vec<Change>, Vec<String>, Vec<String>) {
    let ids = |d: &RunData| -> BTreeSet<String> { d.results.iter().map(id).collect() };
    let (ia, ib) = (ids(a), ids(b));
    let only_a = ia.difference(&ib).cloned().collect();
    let only_b = ib.difference(&ia).cloned().collect();

    let mut out = Vec::new();
    for rb in &b.results {
        let Some(ra) = a.find(&rb.group, &rb.function, rb.parameter.as_deref()) else {
            continue;
        };
        if times && let Some(c) = time_change(ra, rb) {
            out.push(c);
        }
        if let Some(c) = baseline_change(a, ra, b, rb) {
            out.push(c);
        }
    }
    for fb in floors::rows(b) {
        let c = fb.comparison;
        let param = c.param.as_deref();
        let already = out.iter().any(|x| {
            x.kind != Kind::Time
                && x.group == c.group
                && x.function == c.subject
                && x.param.as_deref() == param
                && x.against.as_deref() == Some(c.against.as_str())
        });
        if already {
            continue;
        }
        fn sides<'d>(
            d: &'d RunData,
            c: &crate::catalog::Comparison,
        ) -> Option<(&'d BenchResult, &'d BenchResult)> {
            let param = c.param.as_deref();
            Some((
                d.find(&c.group, &c.subject, param)?,
                d.find(&c.group, &c.against, param)?,
            ))
        }
        let (Some((sa, xa)), Some((sb, xb))) = (sides(a, c), sides(b, c)) else {
            continue;
        };
        if let Some(change) = ratio_change(a, (sa, xa), b, (sb, xb), Kind::Cost) {
            out.push(change);
        }
    }
    out.sort_by(|x, y| {
        y.size()
            .total_cmp(&x.size())
            .then_with(|| x.name().cmp(&y.name()))
    });
    (out, only_a, only_b)
}

/// A time's change: the second run's samples over the first's.
fn time_change(ra: &BenchResult, rb: &BenchResult) -> Option<Change> {
    let samples = |r: &BenchResult| RatioSamples::Unpaired {
        a: r.samples_ns.clone(),
        b: vec![1.0],
    };
    let seed = stats::seed(&["time", &id(rb)]);
    let change = stats::change(&samples(ra), &samples(rb), seed)
        .unwrap_or_else(|| Ratio::point(rb.median_ns / ra.median_ns));
    if !change.value.is_finite() {
        return None;
    }
    let time = |r: &BenchResult| Ratio {
        value: r.median_ns,
        lo: r.median_ci_ns.0.min(r.median_ns),
        hi: r.median_ci_ns.1.max(r.median_ns),
        paired: false,
    };
    Some(Change {
        kind: Kind::Time,
        group: rb.group.clone(),
        function: rb.function.clone(),
        param: rb.parameter.clone(),
        against: None,
        before: time(ra),
        after: time(rb),
        change,
        slowdown: change,
        decided: Decided::of(&change),
    })
}

/// The change of a figure's ratio to its group's baseline (none for the baseline itself).
fn baseline_change(a: &RunData, ra: &BenchResult, b: &RunData, rb: &BenchResult) -> Option<Change> {
    let (ba, bb) = (a.baseline_of(ra)?, b.baseline_of(rb)?);
    if std::ptr::eq(ba, ra) || std::ptr::eq(bb, rb) || ba.function != bb.function {
        return None;
    }
    let kind = match b.compare(&rb.group) {
        Compare::SpeedupOver(_) => Kind::Speedup,
        Compare::CostOf(_) => Kind::Cost,
    };
    ratio_change(a, (ra, ba), b, (rb, bb), kind)
}

/// The change of `subject / against` from the first run to the second, read as `kind`.
fn ratio_change(
    a: &RunData,
    (sa, xa): (&BenchResult, &BenchResult),
    b: &RunData,
    (sb, xb): (&BenchResult, &BenchResult),
    kind: Kind,
) -> Option<Change> {
    let seed = stats::seed(&["ratio", &id(sb), &xb.function]);
    // The cost (subject over against) in each run, from the samples it is computed from.
    let (cost_a, cost_b) = (a.ratio_samples(sa, xa), b.ratio_samples(sb, xb));
    let cost_ratio = |d: &RunData, s: &BenchResult, x: &BenchResult| {
        d.ratio_between(s, x)
            .unwrap_or_else(|| Ratio::point(s.median_ns / x.median_ns))
    };
    let (before, after) = (cost_ratio(a, sa, xa), cost_ratio(b, sb, xb));
    let cost_change = match (cost_a, cost_b) {
        (Some(ca), Some(cb)) => stats::change(&ca, &cb, seed),
        _ => None,
    }
    .unwrap_or_else(|| Ratio::point(after.value / before.value));
    if !cost_change.value.is_finite() {
        return None;
    }
    let shown = |r: Ratio| {
        if kind == Kind::Speedup {
            r.inverse()
        } else {
            r
        }
    };
    Some(Change {
        kind,
        group: sb.group.clone(),
        function: sb.function.clone(),
        param: sb.parameter.clone(),
        against: Some(xb.function.clone()),
        before: shown(before),
        after: shown(after),
        change: shown(cost_change),
        slowdown: cost_change,
        decided: Decided::of(&cost_change),
    })
}
