//! The tutorial's table, row by row, with this run's figures and a verdict computed from
//! them. Every threshold is here, in one place, so a reader can check how a verdict follows
//! from the numbers.
//!
//! Every ratio a verdict rests on carries its 95% interval (paired rounds when the run has
//! them, else a bootstrap over criterion's samples), and a verdict crosses a threshold only
//! when the whole interval is past it: otherwise the row says it is inconclusive on this
//! machine. A CPU verdict is judged only when a task's work is [`DECIDES`] times the hand-off
//! cost of the pools it compares, measured in the same run.

use std::fmt;

use crate::catalog::{Axis, Family, Roles};
use crate::data::{IdleProbe, RunData};
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
    fn python_speedup(&self, mode: &str) -> Option<(f64, Figure)> {
        let find = |m: &str, w: usize| {
            self.data.python.iter().find(|r| {
                r.workload == self.n.cpu_workload && r.mode == m && r.workers == w && r.checksum_ok
            })
        };
        let one = find("threading", 1)?;
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

/// A row; its headline is the feature, the class and the verdict's first clause.
fn row(
    (feature, threading, multiprocessing): Claim,
    figures: Vec<Figure>,
    deciding: usize,
    class: Class,
    verdict: String,
) -> Row {
    // The badge says the class: the headline starts after the verdict's own class words.
    let first = first_clause(&verdict);
    let first = ["holds", "partly holds", "does not hold", "inconclusive"]
        .iter()
        .find(|w| first.starts_with(*w))
        .and_then(|_| first.split_once(": ").map(|(_, rest)| rest))
        .unwrap_or(first);
    let headline = format!("{feature}: {first}.");
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
        "not measured in this run".into(),
    )
}

/// What would settle an inconclusive verdict, said once per row.
fn settle(data: &RunData) -> &'static str {
    if data.profile == "full" {
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

fn module_used(run: &Run<'_>) -> Row {
    let claim = ("Module used", "`threading`", "`multiprocessing`");
    let v = |name: &str| run.data.module(name).map(|v| format!("`{name}` {v}"));
    let threads: Vec<String> = ["crossbeam-channel", "rayon", "tokio"]
        .into_iter()
        .filter_map(v)
        .collect();
    let ipc = v("ipc-channel").unwrap_or_else(|| "`ipc-channel`".into());
    let memfd = v("rustix").map_or_else(String::new, |r| format!(" ({r})"));
    if run.data.modules.is_empty() {
        return row(
            claim,
            Vec::new(),
            0,
            Class::NotMeasured,
            "not recorded in this run".into(),
        );
    }
    let rustc = &run.data.machine.rustc;
    let verdict = format!(
        "threads are `std::thread` ({rustc}) behind {}; async tasks are `{}`'s; processes \
         are concur-procs over {ipc}, or over concur-shm's rings in a sealed memfd{memfd}",
        threads.join(", "),
        run.n.tasks,
    );
    row(claim, Vec::new(), 0, Class::Info, verdict)
}

fn execution_mode(run: &Run<'_>) -> Row {
    let claim = (
        "Execution mode",
        "multiple threads within a single process",
        "multiple processes, each with its own memory",
    );
    let g = &run.group(&run.n.shared_workload);
    let n = run.n;
    let copy = run.cost(g, &n.process_pool, &n.thread_pool, Some("2"));
    let shm = run.cost(g, &n.shm_pool, &n.thread_pool, Some("2"));
    let figures = present(&[&copy, &shm]);
    let Some((c, _)) = copy else {
        return not_measured(claim, figures);
    };
    // The claim is true by construction; what is measured is what the separate memory costs.
    let mut verdict = format!(
        "holds: threads read one array in place, a process must be sent its part (`{}` takes \
         {c} the time of `{}` to sum it)",
        n.process_pool, n.thread_pool
    );
    if let Some((s, _)) = shm {
        verdict.push_str(&format!(
            "; processes can share memory too: `{}` maps the array once and takes {s} the \
             threads' time",
            n.shm_pool
        ));
    }
    row(claim, figures, 1, Class::Holds, verdict)
}

fn concurrency(run: &Run<'_>) -> Row {
    let claim = (
        "Concurrency vs. parallelism",
        "concurrency: tasks take turns",
        "parallelism: tasks run truly in parallel",
    );
    let n = run.n;
    let g = &run.group(&n.cpu_workload);
    let threads = run.speedup(g, &n.thread_pool);
    let procs = run.speedup(g, &n.process_pool);
    let gil = run.speedup(g, &n.gil_threads);
    let mut figures = present(&[&threads, &procs, &gil]);
    let (Some((ts, _)), Some((ps, _))) = (threads, procs) else {
        return not_measured(claim, figures);
    };
    let (class, mut verdict) =
        match run.decides(&n.cpu_workload, &[&n.thread_pool, &n.process_pool]) {
            Err(why) => (Class::Inconclusive, format!("inconclusive: {why}")),
            Ok(margin) => {
                figures.extend(margin);
                if ts.above(PARALLEL) {
                    (
                        Class::DoesNotHold,
                        format!(
                            "does not hold in Rust: threads run in parallel ({ts} on two workers; \
                         processes {ps})"
                        ),
                    )
                } else if ts.below(SERIAL) {
                    (
                        Class::Holds,
                        format!("holds: threads reach only {ts} while processes reach {ps}"),
                    )
                } else if ts.lo > SERIAL && ts.hi < PARALLEL {
                    (
                        Class::Partly,
                        format!("partly holds: threads reach {ts}, processes {ps}"),
                    )
                } else {
                    (
                        Class::Inconclusive,
                        format!(
                            "inconclusive on this machine: threads reach {ts}, an interval across \
                         a threshold ({SERIAL}× taking turns, {PARALLEL}× parallel); {}",
                            settle(run.data)
                        ),
                    )
                }
            }
        };
    if let Some((gs, _)) = gil {
        verdict.push_str(&format!(
            "; it is the interpreter lock that makes threads take turns: `{}` {gs}",
            n.gil_threads
        ));
    }
    row(claim, figures, 2, class, verdict)
}

fn memory(run: &Run<'_>) -> Row {
    let claim = (
        "Memory usage",
        "threads share the same memory space",
        "each process has its own memory (higher usage)",
    );
    let n = run.n;
    let thread = run.idle_figure(&n.thread_per_task);
    let process = run.idle_figure(&n.process_pool);
    let task = run.idle_figure(&n.tasks);
    let figures: Vec<Figure> = [&thread, &process, &task]
        .iter()
        .filter_map(|c| c.as_ref().map(|(_, f)| f.clone()))
        .collect();
    let (Some((tb, _)), Some((pb, _))) = (thread, process) else {
        return not_measured(claim, figures);
    };
    let ratio = pb / tb.max(1.0);
    let (class, mut verdict) = if ratio >= 2.0 {
        (
            Class::Holds,
            format!(
                "holds: an idle worker process adds {} to the tree's PSS, an idle thread {} \
                 ({ratio:.0}×)",
                human_bytes(pb),
                human_bytes(tb)
            ),
        )
    } else {
        (
            Class::DoesNotHold,
            format!(
                "does not hold here: an idle process adds {}, an idle thread {}",
                human_bytes(pb),
                human_bytes(tb)
            ),
        )
    };
    if let Some((kb, _)) = task {
        verdict.push_str(&format!(
            "; a pending `{}` task costs {} ({:.0}× less than a thread)",
            n.tasks,
            human_bytes(kb),
            tb / kb.max(1.0)
        ));
    }
    row(claim, figures, 2, class, verdict)
}

fn best_for(run: &Run<'_>) -> Row {
    let claim = (
        "Best for",
        "I/O-bound tasks (network calls, file I/O)",
        "CPU-bound tasks (heavy computations)",
    );
    let n = run.n;
    let io = &run.group(&n.io_workload);
    let cpu = &run.group(&n.cpu_workload);
    let io_threads = run.cost(io, &n.thread_per_task, &n.tasks, Some("64"));
    let big = run.cost(io, &n.thread_per_task, &n.tasks, Some("512"));
    let cpu_cmp = run.cost(cpu, &n.thread_pool, &n.process_pool, Some("2"));
    let mut figures = present(&[&io_threads, &cpu_cmp, &big]);
    figures.extend(run.time(io, &n.process_pool, Some("64")));
    // (class, words) per part: I/O, then CPU.
    let mut parts: Vec<(Class, String)> = Vec::new();
    if let Some((r, _)) = &io_threads {
        let (class, text) = if r.below(IO_SUITS) {
            (
                Class::Holds,
                format!(
                    "threads for I/O holds: at 64 concurrent fetches threads take {r} the async tasks' time"
                ),
            )
        } else if r.lo > IO_SUITS {
            (
                Class::Partly,
                format!(
                    "threads for I/O holds only in part: at 64 concurrent fetches threads take {r} the async tasks' time"
                ),
            )
        } else {
            (
                Class::Inconclusive,
                format!(
                    "threads for I/O is inconclusive on this machine: at 64 concurrent fetches \
                     threads take {r} the async tasks' time, across {IO_SUITS}×"
                ),
            )
        };
        let mut text = text;
        if let Some((b, _)) = &big {
            text.push_str(&format!(
                "; with caveat: at 512, a thread per request takes {b} the async tasks' time"
            ));
        }
        parts.push((class, text));
    }
    if let Some((r, _)) = &cpu_cmp {
        // `r` is the threads' time over the processes': above 1, processes are faster.
        let (class, text) = match run.decides(&n.cpu_workload, &[&n.thread_pool, &n.process_pool]) {
            Err(why) => (Class::Inconclusive, format!("processes for CPU: {why}")),
            Ok(margin) => {
                figures.extend(margin);
                if r.above(SAME) {
                    (
                        Class::Holds,
                        format!("processes for CPU holds: threads take {r} the processes' time"),
                    )
                } else if r.below(SAME) {
                    let how = if r.hi < 1.0 / SAME {
                        "faster"
                    } else {
                        "as fast"
                    };
                    (
                        Class::DoesNotHold,
                        format!(
                            "processes for CPU does not hold in Rust: threads are {how} (they \
                             take {r} the processes' time) and cheaper"
                        ),
                    )
                } else {
                    (
                        Class::Inconclusive,
                        format!(
                            "processes for CPU is inconclusive on this machine: threads take \
                             {r} the processes' time, across {SAME}×; {}",
                            settle(run.data)
                        ),
                    )
                }
            }
        };
        parts.push((class, text));
    }
    if parts.is_empty() {
        return not_measured(claim, figures);
    }
    let classes: Vec<Class> = parts.iter().map(|(c, _)| *c).collect();
    let class = Class::combine(&classes);
    // The part that decides the row's class comes first (the headline quotes it).
    parts.sort_by_key(|(c, _)| *c != class);
    let words: Vec<String> = parts.into_iter().map(|(_, t)| t).collect();
    row(claim, figures, 2, class, words.join("; "))
}

fn gil(run: &Run<'_>) -> Row {
    let claim = (
        "GIL effect",
        "limited by the GIL (not truly parallel)",
        "bypasses the GIL: true parallel execution",
    );
    let n = run.n;
    let cpu = &run.group(&n.cpu_workload);
    let gil_cpu = run.speedup(cpu, &n.gil_threads);
    let free = run.speedup(cpu, &n.thread_pool);
    let procs = run.speedup(cpu, &n.process_pool);
    let gil_images = run.speedup(&run.group(&n.image_workload), &n.gil_threads);
    let py_threads = run.python_speedup("threading");
    let py_procs = run.python_speedup("multiprocessing");
    let mut figures = present(&[&gil_cpu, &free, &procs, &gil_images]);
    figures.extend(py_threads.iter().chain(&py_procs).map(|(_, f)| f.clone()));
    let (Some((gs, _)), Some((fs, _))) = (&gil_cpu, &free) else {
        return not_measured(claim, figures);
    };
    let (class, mut verdict) = if gs.below(SERIAL) && fs.above(PARALLEL) {
        (
            Class::Holds,
            format!(
                "holds under a GIL, and only there: with the emulated GIL threads reach {gs} on \
                 CPU-bound work, without it {fs}"
            ),
        )
    } else if gs.below(SERIAL) {
        (
            Class::Holds,
            format!("holds: with the emulated GIL threads reach {gs}"),
        )
    } else if gs.lo > SERIAL {
        (
            Class::DoesNotHold,
            format!("does not hold here: even with the emulated GIL threads reach {gs}"),
        )
    } else {
        (
            Class::Inconclusive,
            format!(
                "inconclusive on this machine: with the emulated GIL threads reach {gs}, across \
                 {SERIAL}×; {}",
                settle(run.data)
            ),
        )
    };
    if let Some((ps, _)) = procs {
        verdict.push_str(&format!("; processes reach {ps}"));
    }
    if let (Some((pt, _)), Some((pp, _))) = (&py_threads, &py_procs) {
        verdict.push_str(&format!(
            "; CPython itself, same inputs: threading {pt:.2}×, multiprocessing {pp:.2}×"
        ));
    }
    if let Some((is, _)) = gil_images {
        verdict.push_str(&format!(
            "; with caveat: code that releases the GIL while it works (Pillow's C code, \
             emulated in `{}`) scales anyway: `{}` {is} on images",
            n.image_workload, n.gil_threads
        ));
    }
    row(claim, figures, 2, class, verdict)
}

fn overhead(run: &Run<'_>) -> Row {
    let claim = (
        "Overhead",
        "lower overhead (lightweight)",
        "higher overhead (process creation is costly)",
    );
    let n = run.n;
    let spawn = &n.spawn_group;
    let start = run.cost(spawn, &n.process_per_task, &n.thread_per_task, None);
    let task = run.cost(spawn, &n.tasks, &n.thread_per_task, None);
    let seed = &run.group(&n.seed_workload);
    let pools = run.cost(seed, &n.process_pool, &n.thread_pool, Some("2"));
    let figures = present(&[&start, &pools, &task]);
    let Some((r, _)) = start else {
        return not_measured(claim, figures);
    };
    let (pt, tt) = (
        run.data
            .time(spawn, &n.process_per_task, None)
            .unwrap_or(f64::NAN),
        run.data
            .time(spawn, &n.thread_per_task, None)
            .unwrap_or(f64::NAN),
    );
    let (class, mut verdict) = if r.above(COSTLY_START) {
        (
            Class::Holds,
            format!(
                "holds: starting a worker process costs {r} starting a thread ({} against {})",
                human_time(pt),
                human_time(tt)
            ),
        )
    } else if r.below(COSTLY_START) {
        (
            Class::Partly,
            format!("holds only weakly: a process costs {r} a thread to start"),
        )
    } else {
        (
            Class::Inconclusive,
            format!(
                "inconclusive on this machine: a process costs {r} a thread to start, across \
                 {COSTLY_START}×; {}",
                settle(run.data)
            ),
        )
    };
    if let Some((p, _)) = pools {
        verdict.push_str(&format!(
            "; even with workers already started, a tiny task takes {p} as long through a \
             process pool as through a thread pool"
        ));
    }
    row(claim, figures, 1, class, verdict)
}

/// The (workload, parameter) pairs whose models the verdicts and "what to pick" compare:
/// `cargo xtask bench` measures each in paired rounds (`concur compare`), so these ratios
/// are read from times taken back to back.
pub fn paired_plan(catalog: &crate::Catalog) -> Vec<(String, usize)> {
    let n = &catalog.roles;
    [
        (&n.cpu_workload, 2),
        (&n.image_workload, 2),
        (&n.shared_workload, 2),
        (&n.io_workload, 8),
        (&n.io_workload, 64),
        (&n.io_workload, 512),
        (&n.seed_workload, 2),
    ]
    .into_iter()
    .filter(|(w, _)| !w.is_empty())
    .map(|(w, p)| (w.clone(), p))
    .collect()
}

/// One situation of "what to pick": the models within noise of the fastest, and the one to
/// pick among them.
#[derive(Clone, Debug, PartialEq)]
pub struct Pick {
    /// The situation, e.g. "CPU-bound work on 2 cores".
    pub situation: String,
    /// The recommended model.
    pub model: String,
    /// Its family.
    pub family: Option<Family>,
    /// The models tied with the fastest (the fastest first), when more than one.
    pub tied: Vec<String>,
    /// The text, with figures and links.
    pub text: Text,
}

/// What a model costs to keep, by the figures of this run: memory per idle worker (its own
/// probe, else its family's), then start-up (the spawn group). Lower is cheaper; `None` when
/// nothing was measured.
/// For CPU-bound work (`io` false) an async model's workers are blocking threads, so it costs
/// what a thread costs; only for I/O is a pending task its unit.
fn cost(run: &Run<'_>, model: &str, io: bool) -> (f64, f64) {
    let n = run.n;
    let family = run.data.catalog.model(model).map(|m| m.family);
    let stand_in = match family {
        Some(Family::Threads) => &n.thread_per_task,
        Some(Family::Processes) => &n.process_pool,
        Some(Family::Tasks) if io => &n.tasks,
        Some(Family::Tasks) => &n.thread_per_task,
        _ => model,
    };
    let own = if family == Some(Family::Tasks) && !io {
        None
    } else {
        run.idle(model)
    };
    let memory = own
        .or_else(|| run.idle(stand_in))
        .map_or(f64::INFINITY, |p| p.pss_bytes_per_worker);
    let start = run
        .data
        .time(&n.spawn_group, model, None)
        .unwrap_or(f64::INFINITY);
    (memory, start)
}

/// "What to pick", derived from the figures: for each situation, the models whose time is
/// within noise of the fastest (their ratio's interval reaches 1), and among them the one
/// that costs least by this run's figures.
pub fn what_to_pick(data: &RunData) -> Vec<Pick> {
    let run = Run {
        data,
        n: &data.catalog.roles,
    };
    let n = run.n;
    let situation = |what: &str, workload: &str, param: &str| -> Option<Pick> {
        pick_in(&run, what, &run.group(workload), param)
    };
    let mut out: Vec<Pick> = [
        situation("CPU-bound work on 2 cores", &n.cpu_workload, "2"),
        situation("Image processing on 2 cores", &n.image_workload, "2"),
        situation(
            "A large input read by every worker",
            &n.shared_workload,
            "2",
        ),
        situation("A few concurrent requests (8)", &n.io_workload, "8"),
        situation("Dozens of concurrent requests (64)", &n.io_workload, "64"),
        situation(
            "Hundreds of concurrent requests (512)",
            &n.io_workload,
            "512",
        ),
        situation(
            "Tiny tasks, where start-up and hand-off dominate",
            &n.seed_workload,
            "2",
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    if let (Some(t), Some(p)) = (run.idle(&n.thread_per_task), run.idle(&n.process_pool)) {
        let mut text = Text::plain("Isolation (a crash must not take the program down)")
            .strong()
            .and(Text::with_code(&format!(
                ": `{}` — at {} per idle worker against a thread's {}, and a pool, not a \
                 process per task",
                n.process_pool,
                human_bytes(p.pss_bytes_per_worker),
                human_bytes(t.pss_bytes_per_worker),
            )));
        // Link the spawn figures only when this run measured them (a smoke run does not).
        let spawn = &n.spawn_group;
        if data.members(spawn).next().is_some() {
            text = text
                .and(" (")
                .and(Text::plain(spawn.as_str()).link(run.link(spawn)))
                .and(")");
        }
        out.push(Pick {
            situation: "Isolation (a crash must not take the program down)".into(),
            model: n.process_pool.clone(),
            family: Some(Family::Processes),
            tied: Vec::new(),
            text,
        });
    }
    out
}

/// "Threads or processes?" for one group at 2 workers: the fastest model of each family,
/// and a verdict from the threads' time over the processes' (the same thresholds as the
/// tutorial's table: within [`SAME`] is a tie, which threads win on cost).
pub fn family_verdict(data: &RunData, group: &str) -> Option<(Class, String)> {
    let best = |family: Family| -> Option<(&str, f64)> {
        data.members(group)
            .filter(|r| r.parameter.as_deref() == Some("2"))
            .filter(|r| {
                data.catalog
                    .model(&r.function)
                    .is_some_and(|m| m.family == family)
            })
            .map(|r| (r.function.as_str(), r.median_ns))
            .min_by(|a, b| a.1.total_cmp(&b.1))
    };
    let (t, _) = best(Family::Threads)?;
    let (p, _) = best(Family::Processes)?;
    let r = data.time_ratio(group, t, p, Some("2"))?;
    let speed = |m: &str| {
        data.speedup(group, m, "2").map_or(String::new(), |s| {
            format!(" ({s} over `{}`)", data.catalog.roles.sequential)
        })
    };
    let (ts, ps) = (speed(t), speed(p));
    Some(if r.above(SAME) {
        (
            Class::Holds,
            format!(
                "processes win: the fastest thread model, `{t}`{ts}, takes {r} the time of the \
                 fastest process model, `{p}`{ps}"
            ),
        )
    } else if r.below(SAME) && r.lo >= 1.0 / SAME {
        (
            Class::DoesNotHold,
            format!(
                "threads and processes tie: `{t}`{ts} takes {r} the time of `{p}`{ps}; threads \
                 cost less (no worker processes, no copies)"
            ),
        )
    } else if r.hi < 1.0 / SAME {
        (
            Class::DoesNotHold,
            format!("threads win: `{t}`{ts} takes {r} the time of `{p}`{ps}"),
        )
    } else {
        (
            Class::Inconclusive,
            format!(
                "not settled on this machine: `{t}`{ts} takes {r} the time of `{p}`{ps}, an \
                 interval across a threshold ({SAME}× either way); {}",
                settle(data)
            ),
        )
    })
}

/// The pick for one situation: the models of `group` at `param` within noise of the
/// fastest, and the cheapest of them (see [`what_to_pick`]).
pub fn pick(data: &RunData, what: &str, group: &str, param: &str) -> Option<Pick> {
    let run = Run {
        data,
        n: &data.catalog.roles,
    };
    pick_in(&run, what, group, param)
}

fn pick_in(run: &Run<'_>, what: &str, group: &str, param: &str) -> Option<Pick> {
    let data = run.data;
    let n = run.n;
    let group = group.to_owned();
    let mut c: Vec<(&str, f64)> = data
        .members(&group)
        // Models only: a group's floors (`tcp-floor`) are what models are read against,
        // not something to pick.
        .filter(|r| {
            r.parameter.as_deref() == Some(param)
                && r.function != n.sequential
                && data.catalog.model(&r.function).is_some()
        })
        .map(|r| (r.function.as_str(), r.median_ns))
        .collect();
    c.sort_by(|a, b| a.1.total_cmp(&b.1));
    let &(fastest, best_ns) = c.first()?;
    let ratio = |m: &str| data.time_ratio(&group, m, fastest, Some(param));
    let tied: Vec<&str> = c
        .iter()
        .map(|(m, _)| *m)
        .filter(|m| *m == fastest || ratio(m).is_some_and(|r| r.lo <= 1.0))
        .collect();
    let io = data
        .catalog
        .group(&group)
        .is_some_and(|g| g.axis == Axis::Concurrency);
    // Among models that cost alike: a pool before a model that starts a worker per task
    // (that one pays its start-up on every task), then the registry's order.
    let rank = |m: &str| {
        let per_task = data
            .catalog
            .model(m)
            .is_some_and(|e| e.default_workers == "tasks");
        (per_task, data.catalog.rank(&group, m))
    };
    let pick = *tied
        .iter()
        .min_by(|a, b| {
            let (ca, cb) = (cost(run, a, io), cost(run, b, io));
            clearly_less(ca.0, cb.0)
                .or_else(|| clearly_less(ca.1, cb.1))
                .unwrap_or_else(|| rank(a).cmp(&rank(b)))
        })
        .unwrap_or(&fastest);
    let family = data.catalog.model(pick).map(|m| m.family);
    let mut text = Text::plain(what).strong().and(": ");
    if tied.len() > 1 {
        let names: Vec<String> = tied.iter().map(|m| format!("`{m}`")).collect();
        let (last, rest) = names.split_last().expect("two or more");
        text = text.and(Text::with_code(&format!(
            "{} and {last} within noise of each other (the fastest, `{fastest}`, {}); \
             pick `{pick}`: {}",
            rest.join(", "),
            human_time(best_ns),
            why_cheapest(run, pick, &tied, io),
        )));
    } else {
        text = text.and(Text::with_code(&format!(
            "`{fastest}` ({})",
            human_time(best_ns)
        )));
        if let Some((second, _)) = c.get(1) {
            if let Some(r) = ratio(second) {
                text = text.and(Text::with_code(&format!(
                    ", then `{second}` at {r} its time"
                )));
            }
        }
    }
    Some(Pick {
        situation: what.to_owned(),
        model: pick.to_owned(),
        family,
        tied: if tied.len() > 1 {
            tied.iter().map(|s| s.to_string()).collect()
        } else {
            Vec::new()
        },
        text: text
            .and(" — ")
            .and(Text::plain(group.as_str()).link(run.link(&group))),
    })
}

/// How `a` compares with `b` when one is clearly (more than [`COST_APART`] times) the
/// smaller; `None` when they are too close to tell, so noise cannot flip a pick.
fn clearly_less(a: f64, b: f64) -> Option<std::cmp::Ordering> {
    if a * COST_APART < b {
        Some(std::cmp::Ordering::Less)
    } else if b * COST_APART < a {
        Some(std::cmp::Ordering::Greater)
    } else {
        None
    }
}

/// Two costs (bytes per idle worker, start-up time) decide between tied models only when
/// this far apart; closer than that, a pool goes before a per-task model, then the
/// registry's order decides (a stable choice).
pub const COST_APART: f64 = 1.5;

/// Why `pick` is the cheapest of `tied`, in the figures that decided it.
fn why_cheapest(run: &Run<'_>, pick: &str, tied: &[&str], io: bool) -> String {
    let (memory, start) = cost(run, pick, io);
    let family = run
        .data
        .catalog
        .model(pick)
        .map_or("it", |m| m.family.label());
    let others_memory = tied
        .iter()
        .filter(|m| **m != pick)
        .map(|m| cost(run, m, io).0)
        .filter(|m| m.is_finite())
        .reduce(f64::max);
    match others_memory {
        Some(o) if memory.is_finite() && o > memory * 1.5 => format!(
            "{family} cost least ({} per idle worker, against up to {})",
            human_bytes(memory),
            human_bytes(o)
        ),
        _ if start.is_finite() => format!(
            "{family} cost least ({} per idle worker, {} to start one; a pool before a \
             per-task model, then the registry's order, among those that cost alike)",
            human_bytes(memory),
            human_time(start)
        ),
        _ => format!("{family} cost least by this run's figures"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::criterion::BenchResult;
    use crate::machine::Machine;

    /// A result whose samples spread ±`spread` around `ms`.
    fn result(
        group: &str,
        function: &str,
        param: Option<&str>,
        ms: f64,
        spread: f64,
    ) -> BenchResult {
        let samples: Vec<f64> = (0..20)
            .map(|i| ms * 1e6 * (1.0 + spread * (f64::from(i % 5) - 2.0) / 2.0))
            .collect();
        BenchResult {
            group: group.into(),
            function: function.into(),
            parameter: param.map(str::to_owned),
            directory: format!("{}/{function}", group.replace('/', "_")),
            median_ns: ms * 1e6,
            median_ci_ns: (ms * 1e6, ms * 1e6),
            mad_ns: 0.0,
            mean_ns: ms * 1e6,
            samples_ns: samples,
        }
    }

    fn data(thread_pool_ms: f64, gil_ms: f64, spread: f64) -> RunData {
        let g = "cpu_bound/primes";
        RunData {
            profile: "quick".into(),
            started_at: String::new(),
            git_revision: String::new(),
            machine: Machine {
                cpu: String::new(),
                cores: 2,
                memory_gib: 1.0,
                kernel: String::new(),
                rustc: "rustc 1.95.0".into(),
            },
            suites: Vec::new(),
            results: vec![
                result(g, "sequential", Some("2"), 200.0, 0.01),
                result(g, "thread-pool", Some("2"), thread_pool_ms, spread),
                result(g, "rayon", Some("2"), thread_pool_ms * 1.01, spread),
                result(g, "process-pool", Some("2"), 110.0, 0.01),
                result(g, "gil-threads", Some("2"), gil_ms, 0.01),
                result("spawn", "thread-per-task", None, 0.04, 0.01),
                result("spawn", "process-per-task", None, 2.0, 0.01),
                result("ipc/pingpong", "process-pool-task", None, 0.05, 0.01),
            ],
            idle: vec![
                IdleProbe {
                    model: "thread-per-task".into(),
                    workers: 100,
                    pss_bytes_per_worker: 10_000.0,
                },
                IdleProbe {
                    model: "process-pool".into(),
                    workers: 8,
                    pss_bytes_per_worker: 300_000.0,
                },
            ],
            python: Vec::new(),
            catalog: crate::testing::catalog(),
            paired: Vec::new(),
            modules: Vec::new(),
            program: None,
            noise: None,
        }
    }

    fn find<'a>(rows: &'a [Row], feature: &str) -> &'a Row {
        rows.iter().find(|r| r.feature == feature).unwrap()
    }

    fn md(picks: &[Pick]) -> Vec<String> {
        picks
            .iter()
            .map(|p| crate::markdown::render_text(&p.text))
            .collect()
    }

    #[test]
    fn verdicts_follow_the_figures() {
        let rows = rows(&data(105.0, 210.0, 0.01));
        assert_eq!(rows.len(), 7);
        let c = find(&rows, "Concurrency vs. parallelism");
        assert_eq!(c.class, Class::DoesNotHold, "{}", c.verdict);
        assert!(
            c.verdict.contains("1.90× (") && c.verdict.contains("0.95× ("),
            "{}",
            c.verdict
        );
        let g = find(&rows, "GIL effect");
        assert!(g.verdict.starts_with("holds under a GIL"), "{}", g.verdict);
        assert_eq!(find(&rows, "Memory usage").class, Class::Holds);
        assert_eq!(find(&rows, "Overhead").class, Class::Holds);
        let b = find(&rows, "Best for");
        assert!(
            b.verdict
                .contains("processes for CPU does not hold in Rust"),
            "{}",
            b.verdict
        );
        assert_eq!(b.class, Class::DoesNotHold);
        assert_eq!(find(&rows, "Execution mode").class, Class::NotMeasured);
        assert_eq!(find(&rows, "Module used").class, Class::NotMeasured);
        // Every figure links to its evidence; every headline names its row.
        for r in &rows {
            assert!(r.headline.starts_with(r.feature));
            for f in &r.figures {
                assert!(f.link.ends_with("report/index.html") || f.link == "#idle-workers");
            }
        }
    }

    #[test]
    fn slow_threads_make_the_tutorial_right() {
        let rows = rows(&data(190.0, 210.0, 0.01));
        let c = find(&rows, "Concurrency vs. parallelism");
        assert_eq!(c.class, Class::Holds, "{}", c.verdict);
        assert!(
            c.verdict.starts_with("holds: threads reach only 1.05× ("),
            "{}",
            c.verdict
        );
        let b = find(&rows, "Best for");
        assert!(
            b.verdict.contains("processes for CPU holds"),
            "{}",
            b.verdict
        );
    }

    /// Each threshold from both sides, and straddled by a noisy interval.
    #[test]
    fn a_verdict_crosses_a_threshold_only_with_its_whole_interval() {
        let class = |tp_ms: f64, spread: f64| {
            find(
                &rows(&data(tp_ms, 210.0, spread)),
                "Concurrency vs. parallelism",
            )
            .class
        };
        // PARALLEL = 1.5: 200/125 = 1.6 clearly above, 200/140 = 1.43 clearly below.
        assert_eq!(class(125.0, 0.01), Class::DoesNotHold);
        assert_eq!(class(140.0, 0.01), Class::Partly);
        // Around 1.5 with ±20% samples: the interval straddles it.
        assert_eq!(class(133.0, 0.4), Class::Inconclusive);
        // SERIAL = 1.2: 200/175 = 1.14 below, 200/160 = 1.25 above.
        assert_eq!(class(175.0, 0.01), Class::Holds);
        assert_eq!(class(160.0, 0.01), Class::Partly);
        assert_eq!(class(166.0, 0.4), Class::Inconclusive);
        // SAME = 1.15 between threads and processes (110 ms): 127 ms is 1.155×, noisy.
        let b = |tp: f64, spread: f64| find(&rows(&data(tp, 210.0, spread)), "Best for").class;
        assert_eq!(b(190.0, 0.01), Class::Holds);
        assert_eq!(b(105.0, 0.01), Class::DoesNotHold);
        assert_eq!(b(127.0, 0.4), Class::Inconclusive);
        let inc = find(
            &rows(&data(133.0, 210.0, 0.4)),
            "Concurrency vs. parallelism",
        )
        .verdict
        .clone();
        assert!(
            inc.contains("inconclusive on this machine") && inc.contains("full profile"),
            "{inc}"
        );
    }

    #[test]
    fn small_batches_cannot_decide() {
        let mut d = data(105.0, 210.0, 0.01);
        // A hand-off of 2 ms against 200 ms / 16 tasks = 12.5 ms per task: 6×, under 20×.
        d.results.retain(|r| r.function != "process-pool-task");
        d.results
            .push(result("ipc/pingpong", "process-pool-task", None, 2.0, 0.01));
        let rows = rows(&d);
        let c = find(&rows, "Concurrency vs. parallelism");
        assert_eq!(c.class, Class::Inconclusive, "{}", c.verdict);
        assert!(
            c.verdict.contains("cannot judge") && c.verdict.contains("`process-pool`'s hand-off"),
            "{}",
            c.verdict
        );
    }

    #[test]
    fn ties_are_broken_by_cost() {
        // thread-pool and rayon within ±20% noise of each other; process-pool 110 ms.
        let d = data(105.0, 210.0, 0.4);
        let picks = what_to_pick(&d);
        let cpu = &picks[0];
        assert!(cpu.tied.len() >= 2, "{:?}", md(&picks));
        assert_eq!(cpu.family, Some(Family::Threads));
        let text = &md(&picks)[0];
        assert!(
            text.contains("within noise") && text.contains("threads cost least"),
            "{text}"
        );
        // Clearly apart: no tie, the runner-up with its ratio.
        let d = data(80.0, 210.0, 0.01);
        let text = &md(&what_to_pick(&d))[0];
        assert!(
            text.starts_with("**CPU-bound work on 2 cores**: `thread-pool`"),
            "{text}"
        );
        assert!(text.contains(", then `rayon` at 1.01× ("), "{text}");
    }

    #[test]
    fn a_floor_is_never_picked() {
        let mut d = data(105.0, 210.0, 0.01);
        d.results.push(result(
            "cpu_bound/primes",
            "tcp-floor",
            Some("2"),
            1.0,
            0.01,
        ));
        let picks = what_to_pick(&d);
        assert_ne!(picks[0].model, "tcp-floor");
        assert!(d.catalog.model(&picks[0].model).is_some());
    }

    #[test]
    fn what_to_pick_links_only_what_was_measured() {
        let mut d = data(105.0, 210.0, 0.01);
        let picks = md(&what_to_pick(&d));
        assert!(picks.last().unwrap().contains("[spawn]("));
        d.results.clear(); // A smoke run: idle probes, no criterion figures.
        let picks = md(&what_to_pick(&d));
        assert_eq!(picks.len(), 1);
        assert!(!picks[0].contains("]("), "{}", picks[0]);
    }

    #[test]
    fn the_module_row_names_the_crates_and_versions() {
        let mut d = data(105.0, 210.0, 0.01);
        d.modules = vec![
            crate::data::Module {
                name: "rayon".into(),
                version: "1.11.0".into(),
            },
            crate::data::Module {
                name: "ipc-channel".into(),
                version: "0.23.1".into(),
            },
        ];
        let r = find(&rows(&d), "Module used").clone();
        assert_eq!(r.class, Class::Info);
        assert!(
            r.verdict.contains("`rayon` 1.11.0") && r.verdict.contains("`ipc-channel` 0.23.1"),
            "{}",
            r.verdict
        );
        assert!(r.verdict.contains("rustc 1.95.0"));
    }
}
