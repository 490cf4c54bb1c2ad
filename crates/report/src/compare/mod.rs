//! Two runs compared (`cargo xtask compare A B`): the machines side by side, the tutorial
//! rows whose verdict changed, the picks that changed, the crossovers that moved, and every
//! time and ratio both runs measured with its change, a 95% interval resampled from both
//! runs' saved samples, and whether the change is decided — sorted by the size of the
//! change. [`Comparison::regressions`] is the CI gate's question.
//!
//! What only one run has is left out and listed ([`LeftOut`]); runs of different profiles
//! measured their workloads at different sizes, so their times are left out and only the
//! dimensionless figures (ratios, verdicts, picks, crossovers) are compared.

mod figures;
mod page;
mod plot;

use std::collections::BTreeSet;
use std::path::Path;

pub use figures::{Change, Decided, Kind};
pub use page::{HEADING, document};

use crate::crossover::{Bound, Crossing};
use crate::data::RunData;
use crate::verdicts::{self, Class};
use crate::{Error, Written, write_file};

/// A change smaller than this share (5%) is "within noise" even when its interval excludes
/// no change: on the shared 2-vCPU VM two runs minutes apart drift by more than one run's
/// samples show (the cache-line round trip between the CPUs moves 5× between suites), and
/// a comparison must not report that drift as a change.
pub const NOISE: f64 = 0.05;

/// One run of the two: what the comparison calls it, and its data.
#[derive(Clone, Copy, Debug)]
pub struct Side<'a> {
    /// Its name (the saved run's name, or the file's).
    pub label: &'a str,
    /// What it measured.
    pub data: &'a RunData,
}

/// A tutorial row whose verdict is not the same in both runs.
#[derive(Clone, Debug, PartialEq)]
pub struct VerdictChange {
    /// The row (the tutorial's feature column).
    pub feature: &'static str,
    /// Its verdict in the first run, and the sentence the headline quotes.
    pub before: (Class, String),
    /// Its verdict in the second.
    pub after: (Class, String),
}

/// A "what to pick" situation whose pick is not the same in both runs.
#[derive(Clone, Debug, PartialEq)]
pub struct PickChange {
    /// The situation.
    pub situation: String,
    /// The pick in the first run and the models tied with the fastest (`None`: no pick).
    pub before: Option<(String, Vec<String>)>,
    /// The pick in the second.
    pub after: Option<(String, Vec<String>)>,
}

/// One crossover (break-even or pays-off) of one model in both runs.
#[derive(Clone, Debug, PartialEq)]
pub struct CrossoverMove {
    /// The model.
    pub model: String,
    /// "break-even" or "pays off".
    pub what: &'static str,
    /// The crossing in the first run.
    pub before: Crossing,
    /// In the second.
    pub after: Crossing,
}

impl CrossoverMove {
    /// Whether it moved: the two crossings' 95% intervals do not overlap.
    pub fn moved(&self) -> bool {
        let (a, b) = (span(&self.before), span(&self.after));
        a.1 < b.0 || b.1 < a.0
    }

    /// `after / before` of the estimates, when both were found within the sweeps.
    pub fn factor(&self) -> Option<f64> {
        match (self.before.at, self.after.at) {
            (Bound::At(a), Bound::At(b)) => Some(b / a),
            _ => None,
        }
    }
}

/// A crossing's 95% interval as task sizes: an end past the sweep is open.
fn span(c: &Crossing) -> (f64, f64) {
    let lo = match c.lo {
        Bound::Below(_) => 0.0,
        b => b.ns(),
    };
    let hi = match c.hi {
        Bound::Above(_) => f64::INFINITY,
        b => b.ns(),
    };
    (lo, hi)
}

/// What only one run has, left out of the comparison.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LeftOut {
    /// Why the times were left out, when they were (runs of different profiles).
    pub times: Option<String>,
    /// Workloads only the first run's catalog has.
    pub workloads_before: Vec<String>,
    /// Workloads only the second run's has.
    pub workloads_after: Vec<String>,
    /// Figures (`group function @param`) only the first run measured.
    pub figures_before: Vec<String>,
    /// Figures only the second run measured.
    pub figures_after: Vec<String>,
    /// Situations of "what to pick", and models swept, only in one run (with which).
    pub other: Vec<String>,
}

impl LeftOut {
    /// Whether nothing was left out.
    pub fn is_empty(&self) -> bool {
        *self == LeftOut::default()
    }
}

/// Two runs compared.
#[derive(Clone, Debug)]
pub struct Comparison<'a> {
    /// The first run (before).
    pub before: Side<'a>,
    /// The second (after).
    pub after: Side<'a>,
    /// Every time and ratio both measured, largest change first.
    pub changes: Vec<Change>,
    /// The tutorial rows whose verdict changed.
    pub verdicts: Vec<VerdictChange>,
    /// How many rows kept their verdict.
    pub verdicts_kept: usize,
    /// The situations whose pick changed.
    pub picks: Vec<PickChange>,
    /// How many kept theirs.
    pub picks_kept: usize,
    /// Every crossover both runs swept, the ones that moved first.
    pub crossovers: Vec<CrossoverMove>,
    /// What only one run has.
    pub left_out: LeftOut,
}

impl<'a> Comparison<'a> {
    /// Compares `before` with `after`.
    pub fn new(before: Side<'a>, after: Side<'a>) -> Comparison<'a> {
        let (a, b) = (before.data, after.data);
        let mut left_out = LeftOut::default();
        let same_profile = a.profile == b.profile;
        if !same_profile {
            left_out.times = Some(format!(
                "the runs measured different profiles ({} and {}): each workload ran at its \
                 profile's size, so only ratios, verdicts, picks and crossovers are compared",
                a.profile.name(),
                b.profile.name()
            ));
        }
        let workloads = |d: &RunData| -> BTreeSet<String> {
            d.catalog.workloads.iter().map(|w| w.name.clone()).collect()
        };
        let (wa, wb) = (workloads(a), workloads(b));
        left_out.workloads_before = wa.difference(&wb).cloned().collect();
        left_out.workloads_after = wb.difference(&wa).cloned().collect();
        let (changes, only_before, only_after) = figures::changes(a, b, same_profile);
        left_out.figures_before = only_before;
        left_out.figures_after = only_after;

        let (verdicts, verdicts_kept) = verdict_changes(a, b);
        let (picks, picks_kept) = pick_changes(before, after, &mut left_out.other);
        let crossovers = crossover_moves(before, after, &mut left_out.other);
        Comparison {
            before,
            after,
            changes,
            verdicts,
            verdicts_kept,
            picks,
            picks_kept,
            crossovers,
            left_out,
        }
    }

    /// The figures that got slower by more than `pct` percent with significance: the
    /// estimate is more than `pct`% slower and the whole 95% interval is on the slow side of
    /// no change. The CI gate (`--fail-above PCT`) fails on any.
    pub fn regressions(&self, pct: f64) -> Vec<&Change> {
        self.changes
            .iter()
            .filter(|c| c.slowdown.value > 1.0 + pct / 100.0 && c.slowdown.lo > 1.0)
            .collect()
    }

    /// Writes `summary.md`, `index.html` and `plots/changes.svg` into `dir`.
    pub fn write(&self, dir: &Path) -> Result<Written, Error> {
        let plots = dir.join("plots");
        std::fs::create_dir_all(&plots).map_err(|e| Error::io("creating", &plots, e))?;
        let plot = plot::changes_svg(&self.changes);
        if let Some(svg) = &plot {
            write_file(&plots.join("changes.svg"), svg)?;
        }
        let doc = document(self, plot.is_some());
        let written = Written {
            markdown: dir.join("summary.md"),
            html: dir.join("index.html"),
        };
        write_file(&written.markdown, crate::markdown::render(&doc))?;
        write_file(&written.html, crate::html::render(&doc))?;
        Ok(written)
    }
}

/// The tutorial rows whose class differs, and how many kept theirs.
fn verdict_changes(a: &RunData, b: &RunData) -> (Vec<VerdictChange>, usize) {
    let (ra, rb) = (verdicts::rows(a), verdicts::rows(b));
    let mut changed = Vec::new();
    let mut kept = 0;
    for x in &ra {
        let Some(y) = rb.iter().find(|y| y.feature == x.feature) else {
            continue;
        };
        if x.class == y.class {
            kept += 1;
        } else {
            changed.push(VerdictChange {
                feature: x.feature,
                before: (x.class, x.headline.clone()),
                after: (y.class, y.headline.clone()),
            });
        }
    }
    (changed, kept)
}

/// The situations whose pick (or whose set of tied models) differs, and how many kept
/// theirs; situations only one run has go to `left_out`.
fn pick_changes(
    before: Side<'_>,
    after: Side<'_>,
    left_out: &mut Vec<String>,
) -> (Vec<PickChange>, usize) {
    let (pa, pb) = (
        verdicts::what_to_pick(before.data),
        verdicts::what_to_pick(after.data),
    );
    let mut changed = Vec::new();
    let mut kept = 0;
    // The tied models are a set: their order follows the figures and moves with noise.
    let tied = |t: &[String]| -> BTreeSet<String> { t.iter().cloned().collect() };
    for x in &pa {
        match pb.iter().find(|y| y.situation == x.situation) {
            Some(y) if y.model == x.model && tied(&y.tied) == tied(&x.tied) => kept += 1,
            Some(y) => changed.push(PickChange {
                situation: x.situation.clone(),
                before: Some((x.model.clone(), x.tied.clone())),
                after: Some((y.model.clone(), y.tied.clone())),
            }),
            None => left_out.push(format!(
                "pick \"{}\": only in {}",
                x.situation, before.label
            )),
        }
    }
    for y in pb
        .iter()
        .filter(|y| !pa.iter().any(|x| x.situation == y.situation))
    {
        left_out.push(format!("pick \"{}\": only in {}", y.situation, after.label));
    }
    (changed, kept)
}

/// Both crossovers of every model both runs swept at the same worker count, the ones that
/// moved first; sweeps only one run has go to `left_out`.
fn crossover_moves(
    before: Side<'_>,
    after: Side<'_>,
    left_out: &mut Vec<String>,
) -> Vec<CrossoverMove> {
    let mut moves = Vec::new();
    for x in &before.data.crossover {
        let Some(y) = after
            .data
            .crossover
            .iter()
            .find(|y| y.model == x.model && y.workload == x.workload && y.workers == x.workers)
        else {
            left_out.push(format!(
                "granularity sweep of `{}` ({} workers): only in {}",
                x.model, x.workers, before.label
            ));
            continue;
        };
        let pairs = [
            ("break-even", x.break_even(), y.break_even()),
            ("pays off", x.pays_off(), y.pays_off()),
        ];
        for (what, a, b) in pairs {
            if let (Some(before), Some(after)) = (a, b) {
                moves.push(CrossoverMove {
                    model: x.model.clone(),
                    what,
                    before,
                    after,
                });
            }
        }
    }
    for y in &after.data.crossover {
        let swept = before
            .data
            .crossover
            .iter()
            .any(|x| x.model == y.model && x.workload == y.workload && x.workers == y.workers);
        if !swept {
            left_out.push(format!(
                "granularity sweep of `{}` ({} workers): only in {}",
                y.model, y.workers, after.label
            ));
        }
    }
    // Moved first; the rest keep the sweeps' order.
    moves.sort_by_key(|m| !m.moved());
    moves
}

#[cfg(test)]
mod tests;
