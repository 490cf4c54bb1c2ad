//! The tutorial's table, row by row, with this run's figures and a verdict computed from
//! them. Every threshold is here, in one place, so a reader can check how a verdict follows
//! from the numbers.
//!
//! Every ratio a verdict rests on carries its 95% interval (paired rounds when the run has
//! them, else a bootstrap over criterion's samples), and a verdict crosses a threshold only
//! when the whole interval is past it: otherwise the row says it is inconclusive on this
//! machine. A CPU verdict is judged only when a task's work is [`DECIDES`] times the hand-off
//! cost of the pools it compares, measured in the same run.

mod picks;
mod plan;
mod rows;
#[cfg(test)]
mod tests;

pub use picks::{COST_APART, Pick, family_verdict, pick, what_to_pick};
pub use plan::paired_plan;
use rows::{best_for, concurrency, execution_mode, gil, memory, module_used, overhead};

use std::fmt;

use crate::catalog::{Axis, Family, ModuleRole, Roles};
use crate::data::{IdleProbe, PythonMode, RunData};
use crate::doc::Text;
use crate::stats::Ratio;
use crate::units::{human_bytes, human_time};

/// Speedups at or above this count as "runs in parallel" on two or more cores.
pub const PARALLEL: f64 = 1.5;
/// Speedups at or below this count as "takes turns" (no parallelism).
pub const SERIAL: f64 = 1.2;
/// Two figures within this factor are "as fast as" each other.
pub const SAME: f64 = 1.15;
/// At 64 concurrent requests, threads "suit I/O" when they take at most this times the
/// async tasks' time.
pub const IO_SUITS: f64 = 1.5;
/// Starting a process "costs more" than starting a thread when it takes this many times as
/// long.
pub const COSTLY_START: f64 = 5.0;
/// A CPU-bound group can decide a verdict only when one task's work is at least this many
/// times the hand-off cost (one empty task through the pool) of every pool compared: the
/// hand-off is then at most 5% of a task, a third of the narrowest margin ([`SAME`]).
pub const DECIDES: f64 = 20.0;

/// Every threshold a verdict compares a ratio with: paired rounds stop early once no
/// ratio's interval holds one of these ([`crate::stats::undecided`]).
pub const THRESHOLDS: [f64; 5] = [SAME, SERIAL, PARALLEL, IO_SUITS, COSTLY_START];

/// What a verdict says of the tutorial's claim.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Class {
    /// The figures agree with the tutorial.
    Holds,
    /// The figures agree with a caveat, or only in part.
    Partly,
    /// The figures contradict the tutorial.
    DoesNotHold,
    /// An interval straddles a threshold, or the sizes cannot decide.
    Inconclusive,
    /// The run has no figure for it.
    NotMeasured,
    /// A fact rather than a claim (the modules used).
    Info,
}

impl Class {
    /// The badge text.
    pub fn label(self) -> &'static str {
        match self {
            Class::Holds => "holds",
            Class::Partly => "partly holds",
            Class::DoesNotHold => "does not hold",
            Class::Inconclusive => "inconclusive",
            Class::NotMeasured => "not measured",
            Class::Info => "in Rust",
        }
    }

    /// A row's class from its parts': any part that does not hold makes the row not hold;
    /// else any inconclusive part makes it inconclusive; else any caveat makes it partial.
    fn combine(parts: &[Class]) -> Class {
        for c in [
            Class::DoesNotHold,
            Class::Inconclusive,
            Class::Partly,
            Class::Holds,
        ] {
            if parts.contains(&c) {
                return c;
            }
        }
        Class::NotMeasured
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// A measured figure and where it comes from (a criterion page, or a section of the report).
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// What was measured, with its value (`` `…` `` marks names).
    pub text: String,
    /// Link to its evidence.
    pub link: String,
}

/// One row of the tutorial's table.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// The tutorial's feature column.
    pub feature: &'static str,
    /// What the tutorial says of threading.
    pub threading: &'static str,
    /// What the tutorial says of multiprocessing.
    pub multiprocessing: &'static str,
    /// The figures the verdict rests on (the first [`Row::deciding`] decide it).
    pub figures: Vec<Figure>,
    /// How many of `figures` decide the verdict; the rest are context.
    pub deciding: usize,
    /// The verdict's class.
    pub class: Class,
    /// The verdict, in words, with the figures and intervals it follows from.
    pub verdict: String,
    /// One sentence for the headline.
    pub headline: String,
}

/// One run's figures, as the verdicts quote them.
struct Run<'a> {
    data: &'a RunData,
    /// Who plays which part.
    n: &'a Roles,
}

/// A ratio and the figure that shows it.
type Measured = Option<(Ratio, Figure)>;

impl Run<'_> {
    fn group(&self, workload: &str) -> String {
        self.data.group_of(workload)
    }

    fn link(&self, group: &str) -> String {
        self.data.group_link(group)
    }

    fn at(&self, group: &str, param: Option<&str>) -> String {
        let concurrency = self
            .data
            .catalog
            .group(group)
            .is_some_and(|g| g.axis == Axis::Concurrency);
        match param {
            Some(p) if concurrency => format!(" at {p} concurrent"),
            Some(p) => format!(" at {p} workers"),
            None => String::new(),
        }
    }

    /// `function`'s speedup over the reference in `group` at 2 workers.
    fn speedup(&self, group: &str, function: &str) -> Measured {
        let s = self.data.speedup(group, function, "2")?;
        Some((
            s,
            Figure {
                text: format!("{group}: `{function}` {s} at 2 workers"),
                link: self.link(group),
            },
        ))
    }

    /// `a`'s time over `b`'s in `group` at `param`.
    fn cost(&self, group: &str, a: &str, b: &str, param: Option<&str>) -> Measured {
        let r = self.data.time_ratio(group, a, b, param)?;
        Some((
            r,
            Figure {
                text: format!(
                    "{group}: `{a}` takes {r} `{b}`'s time{}",
                    self.at(group, param)
                ),
                link: self.link(group),
            },
        ))
    }

    /// `function`'s median time in `group` at `param`, as a figure (context, no ratio).
    fn time(&self, group: &str, function: &str, param: Option<&str>) -> Option<Figure> {
        let t = self.data.time(group, function, param)?;
        Some(Figure {
            text: format!(
                "{group}: `{function}` {}{}",
                human_time(t),
                self.at(group, param)
            ),
            link: self.link(group),
        })
    }

    /// CPython's speedup on the CPU workload in `mode` at 2 workers over threading at 1
    /// worker, if both ran and were correct (a point: CPython runs are medians of 3).
    fn python_speedup(&self, mode: PythonMode) -> Option<(f64, Figure)> {
        let find = |m: PythonMode, w: usize| {
            self.data.python.iter().find(|r| {
                r.workload == self.n.cpu_workload && r.mode == m && r.workers == w && r.checksum_ok
            })
        };
        let one = find(PythonMode::Threading, 1)?;
        let two = find(mode, 2)?;
        let s = one.wall_s / two.wall_s;
        Some((
            s,
            Figure {
                text: format!(
                    "CPython {}: `{mode}` {s:.2}× at 2 workers on {}",
                    two.python, self.n.cpu_workload
                ),
                link: "#cpython-reference".into(),
            },
        ))
    }

    fn idle(&self, model: &str) -> Option<&IdleProbe> {
        self.data.idle(model)
    }

    fn idle_figure(&self, model: &str) -> Option<(f64, Figure)> {
        let p = self.idle(model)?;
        Some((
            p.pss_bytes_per_worker,
            Figure {
                text: format!(
                    "idle `{model}`: {} per worker",
                    human_bytes(p.pss_bytes_per_worker)
                ),
                link: "#idle-workers".into(),
            },
        ))
    }

    /// Whether `group` (at 2 workers) can decide a verdict that compares `pools`: a task's
    /// work (the reference's batch time over the tasks) against each pool's measured
    /// hand-off. `Err` says what could not be judged; `Ok` carries the figure that shows the
    /// margin (or nothing, when no hand-off was measured in this run).
    fn decides(&self, workload: &str, pools: &[&str]) -> Result<Option<Figure>, String> {
        let group = self.group(workload);
        let (Some(batch), Some(tasks)) = (
            self.data.time(&group, &self.n.sequential, Some("2")),
            self.data.bench_tasks(workload),
        ) else {
            return Ok(None);
        };
        let per_task = batch / tasks.max(1) as f64;
        let worst = pools
            .iter()
            .filter_map(|m| Some((*m, self.data.handoff_ns(m)?)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        let Some((pool, handoff)) = worst else {
            return Ok(None);
        };
        let margin = per_task / handoff;
        let text = format!(
            "{group}: a task's work {} is {margin:.0}× `{pool}`'s hand-off ({})",
            human_time(per_task),
            human_time(handoff)
        );
        if margin >= DECIDES {
            Ok(Some(Figure {
                text,
                link: self.link(&group),
            }))
        } else {
            Err(format!(
                "cannot judge on this run's sizes: {text}, and a verdict needs {DECIDES:.0}× (the \
                 hand-off, not the model, would decide it); the full profile's sizes can"
            ))
        }
    }
}

/// The figures that were measured, in order.
fn present(candidates: &[&Measured]) -> Vec<Figure> {
    candidates
        .iter()
        .filter_map(|c| c.as_ref().map(|(_, f)| f.clone()))
        .collect()
}

/// The tutorial's words for one row: feature, threading, multiprocessing.
type Claim = (&'static str, &'static str, &'static str);

/// A verdict as a row says it: a lead that says its class in words ("holds", "does not hold
/// in Rust"), if it has one, then what the figures show. The headline quotes the body, so the
/// badge (the class) and the words are never read back out of each other.
struct Verdict {
    lead: Option<&'static str>,
    body: String,
}

impl Verdict {
    /// Appends to the body.
    fn push_str(&mut self, more: &str) {
        self.body.push_str(more);
    }
}

/// A verdict with a lead: `lead: body`.
fn led(lead: &'static str, body: String) -> Verdict {
    Verdict {
        lead: Some(lead),
        body,
    }
}

impl From<String> for Verdict {
    /// A verdict that is all body (an information row, a combined row).
    fn from(body: String) -> Verdict {
        Verdict { lead: None, body }
    }
}

/// A row; its headline is the feature, the class and the verdict body's first clause.
fn row(
    (feature, threading, multiprocessing): Claim,
    figures: Vec<Figure>,
    deciding: usize,
    class: Class,
    verdict: impl Into<Verdict>,
) -> Row {
    let Verdict { lead, body } = verdict.into();
    let headline = format!("{feature}: {}.", first_clause(&body));
    let verdict = match lead {
        Some(lead) => format!("{lead}: {body}"),
        None => body,
    };
    Row {
        feature,
        threading,
        multiprocessing,
        deciding: deciding.min(figures.len()),
        figures,
        class,
        verdict,
        headline,
    }
}

/// The verdict up to its first `; ` outside parentheses.
fn first_clause(verdict: &str) -> &str {
    let mut depth = 0i32;
    for (i, c) in verdict.char_indices() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            ';' if depth == 0 => return &verdict[..i],
            _ => {}
        }
    }
    verdict
}

fn not_measured(claim: Claim, figures: Vec<Figure>) -> Row {
    let n = figures.len();
    row(
        claim,
        figures,
        n,
        Class::NotMeasured,
        "not measured in this run".to_owned(),
    )
}

/// What would settle an inconclusive verdict, said once per row.
fn settle(data: &RunData) -> &'static str {
    if data.profile == crate::Profile::Full {
        "a quieter machine, or more samples, would settle it"
    } else {
        "the full profile (`CONCUR_BENCH_PROFILE=full`, the default of `cargo xtask bench` \
         and `cargo bench`) or a quieter machine would settle it"
    }
}

/// The seven rows of the tutorial's table, each with this run's figures and verdict.
pub fn rows(data: &RunData) -> Vec<Row> {
    let run = Run {
        data,
        n: &data.catalog.roles,
    };
    vec![
        module_used(&run),
        execution_mode(&run),
        concurrency(&run),
        memory(&run),
        best_for(&run),
        gil(&run),
        overhead(&run),
    ]
}
