//! The tutorial's table, row by row, with this run's figures and a verdict computed from
//! them. Every threshold is here, in one place, so a reader can check how a verdict follows
//! from the numbers.

use crate::catalog::{Axis, Roles};
use crate::criterion::BenchResult;
use crate::data::{IdleProbe, RunData};
use crate::doc::Text;
use crate::units::{human_bytes, human_time};

/// A measured figure and where it comes from (a criterion page, or a section of the report).
#[derive(Clone, Debug, PartialEq)]
pub struct Figure {
    /// What was measured, with its value.
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
    /// This run's evidence.
    pub figures: Vec<Figure>,
    /// "holds", "does not hold in Rust: …", "holds, with caveat: …", or "not measured".
    pub verdict: String,
}

/// Speedups at or above this count as "runs in parallel" on two or more cores.
const PARALLEL: f64 = 1.5;
/// Speedups at or below this count as "takes turns" (no parallelism).
const SERIAL: f64 = 1.2;
/// Two figures within this factor are "as fast as" each other.
const SAME: f64 = 1.15;

/// One run's figures, as the verdicts quote them.
struct Run<'a> {
    data: &'a RunData,
    /// Who plays which part.
    n: &'a Roles,
}

impl Run<'_> {
    fn group_link(&self, group: &str) -> String {
        self.data.group_link(group)
    }

    fn group(&self, workload: &str) -> String {
        self.data.group_of(workload)
    }

    /// CPython's speedup on the CPU workload in `mode` at 2 workers over threading at 1 worker, if
    /// both ran and were correct.
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

    /// A speedup figure for `function` at 2 workers.
    fn speedup_figure(&self, group: &str, function: &str) -> Option<(f64, Figure)> {
        let s = self.data.speedup(group, function, "2")?;
        Some((
            s,
            Figure {
                text: format!("{group}: `{function}` {s:.2}× at 2 workers"),
                link: self.group_link(group),
            },
        ))
    }

    fn time_figure(
        &self,
        group: &str,
        function: &str,
        param: Option<&str>,
    ) -> Option<(f64, Figure)> {
        let t = self.data.time(group, function, param)?;
        let concurrency = self
            .data
            .catalog
            .group(group)
            .is_some_and(|g| g.axis == Axis::Concurrency);
        let at = match param {
            Some(p) if concurrency => format!(" at {p} concurrent"),
            Some(p) => format!(" at {p} workers"),
            None => String::new(),
        };
        Some((
            t,
            Figure {
                text: format!("{group}: `{function}` {}{at}", human_time(t)),
                link: self.group_link(group),
            },
        ))
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
}

/// The figures that were measured, in order.
fn present(candidates: &[&Option<(f64, Figure)>]) -> Vec<Figure> {
    candidates
        .iter()
        .filter_map(|c| c.as_ref().map(|(_, f)| f.clone()))
        .collect()
}

/// The tutorial's words for one row: feature, threading, multiprocessing.
type Claim = (&'static str, &'static str, &'static str);

fn row((feature, threading, multiprocessing): Claim, figures: Vec<Figure>, verdict: String) -> Row {
    Row {
        feature,
        threading,
        multiprocessing,
        figures,
        verdict,
    }
}

fn not_measured(claim: Claim, figures: Vec<Figure>) -> Row {
    row(claim, figures, "not measured in this run".into())
}

/// The six rows of the tutorial's table, each with this run's figures and verdict.
pub fn rows(data: &RunData) -> Vec<Row> {
    let run = Run {
        data,
        n: &data.catalog.roles,
    };
    vec![
        execution_mode(&run),
        concurrency(&run),
        memory(&run),
        best_for(&run),
        gil(&run),
        overhead(&run),
    ]
}

fn execution_mode(run: &Run<'_>) -> Row {
    let (f, t, m) = (
        "Execution mode",
        "multiple threads within a single process",
        "multiple processes, each with its own memory",
    );
    let g = &run.group(&run.n.shared_workload);
    let threads = run.time_figure(g, &run.n.thread_pool, Some("2"));
    let procs = run.time_figure(g, &run.n.process_pool, Some("2"));
    let shm = run.time_figure(g, &run.n.shm_pool, Some("2"));
    let figures = present(&[&threads, &procs, &shm]);
    let (Some((tt, _)), Some((pt, _))) = (threads, procs) else {
        return not_measured((f, t, m), figures);
    };
    let copy = pt / tt;
    let mut verdict = if copy > 2.0 {
        format!(
            "holds: threads read one array in place; a process must be sent its part \
             (`{}` takes {copy:.0}× as long as `{}` to sum it)",
            run.n.process_pool, run.n.thread_pool
        )
    } else {
        format!(
            "holds, with caveat: processes must be sent their data, but here it costs \
             only {copy:.1}× the threads' time"
        )
    };
    if let Some((st, _)) = shm {
        verdict.push_str(&format!(
            "; processes can share memory too: `{}` maps the array once and takes \
             {:.1}× the threads' time",
            run.n.shm_pool,
            st / tt
        ));
    }
    row((f, t, m), figures, verdict)
}

fn concurrency(run: &Run<'_>) -> Row {
    let (f, t, m) = (
        "Concurrency vs. parallelism",
        "concurrency: tasks take turns",
        "parallelism: tasks run truly in parallel",
    );
    let g = &run.group(&run.n.cpu_workload);
    let threads = run.speedup_figure(g, &run.n.thread_pool);
    let procs = run.speedup_figure(g, &run.n.process_pool);
    let gil = run.speedup_figure(g, &run.n.gil_threads);
    let figures = present(&[&threads, &procs, &gil]);
    let (Some((ts, _)), Some((ps, _))) = (threads, procs) else {
        return not_measured((f, t, m), figures);
    };
    let mut verdict = if ts >= PARALLEL {
        format!(
            "does not hold in Rust: threads run in parallel ({ts:.2}× on two workers; \
             processes {ps:.2}×)"
        )
    } else if ts <= SERIAL {
        format!("holds: threads reach only {ts:.2}× while processes reach {ps:.2}×")
    } else {
        format!("partly holds: threads reach {ts:.2}×, processes {ps:.2}×")
    };
    if let Some((gs, _)) = gil {
        verdict.push_str(&format!(
            "; it is the interpreter lock that makes threads take turns: \
             `{}` {gs:.2}×",
            run.n.gil_threads
        ));
    }
    row((f, t, m), figures, verdict)
}

fn memory(run: &Run<'_>) -> Row {
    let (f, t, m) = (
        "Memory usage",
        "threads share the same memory space",
        "each process has its own memory (higher usage)",
    );
    let thread = run.idle_figure(&run.n.thread_per_task);
    let process = run.idle_figure(&run.n.process_pool);
    let task = run.idle_figure(&run.n.tasks);
    let figures = present(&[&thread, &process, &task]);
    let (Some((tb, _)), Some((pb, _))) = (thread, process) else {
        return not_measured((f, t, m), figures);
    };
    let ratio = pb / tb.max(1.0);
    let mut verdict = if ratio >= 2.0 {
        format!(
            "holds: an idle worker process adds {} to the tree's PSS, an idle thread {} \
             ({ratio:.0}×)",
            human_bytes(pb),
            human_bytes(tb)
        )
    } else {
        format!(
            "does not hold here: an idle process adds {}, an idle thread {}",
            human_bytes(pb),
            human_bytes(tb)
        )
    };
    if let Some((kb, _)) = task {
        verdict.push_str(&format!(
            "; a pending `{}` task costs {} ({:.0}× less than a thread)",
            run.n.tasks,
            human_bytes(kb),
            tb / kb.max(1.0)
        ));
    }
    row((f, t, m), figures, verdict)
}

fn best_for(run: &Run<'_>) -> Row {
    let (f, t, m) = (
        "Best for",
        "I/O-bound tasks (network calls, file I/O)",
        "CPU-bound tasks (heavy computations)",
    );
    let io = &run.group(&run.n.io_workload);
    let io_threads = run.time_figure(io, &run.n.thread_per_task, Some("64"));
    let io_procs = run.time_figure(io, &run.n.process_pool, Some("64"));
    let io_tokio = run.time_figure(io, &run.n.tasks, Some("64"));
    let big_threads = run.time_figure(io, &run.n.thread_per_task, Some("512"));
    let big_tokio = run.time_figure(io, &run.n.tasks, Some("512"));
    let cpu_threads = run.speedup_figure(&run.group(&run.n.cpu_workload), &run.n.thread_pool);
    let cpu_procs = run.speedup_figure(&run.group(&run.n.cpu_workload), &run.n.process_pool);
    let figures = present(&[
        &io_threads,
        &io_procs,
        &io_tokio,
        &big_threads,
        &big_tokio,
        &cpu_threads,
        &cpu_procs,
    ]);
    let mut parts = Vec::new();
    if let (Some((tt, _)), Some((kt, _))) = (&io_threads, &io_tokio) {
        let best = io_procs
            .as_ref()
            .map_or(kt.min(*tt), |(p, _)| kt.min(*tt).min(*p));
        parts.push(if tt / best <= 1.5 {
            format!(
                "threads for I/O holds: at 64 concurrent fetches threads take {:.2}× the \
                 fastest model's time",
                tt / best
            )
        } else {
            format!(
                "threads for I/O holds only in part: at 64 concurrent fetches threads take \
                 {:.1}× the fastest model's time",
                tt / best
            )
        });
        if let (Some((bt, _)), Some((bk, _))) = (&big_threads, &big_tokio) {
            parts.push(format!(
                "with caveat: at 512, async tasks are {:.1}× faster than a thread each",
                bt / bk
            ));
        }
    }
    if let (Some((ts, _)), Some((ps, _))) = (&cpu_threads, &cpu_procs) {
        parts.push(if *ps > ts * SAME {
            format!("processes for CPU holds: {ps:.2}× against threads' {ts:.2}×")
        } else {
            let how = if *ts > ps * SAME { "faster" } else { "as fast" };
            format!(
                "processes for CPU does not hold in Rust: threads are {how} ({ts:.2}× \
                 against {ps:.2}×) and cheaper"
            )
        });
    }
    if parts.is_empty() {
        return not_measured((f, t, m), figures);
    }
    row((f, t, m), figures, parts.join("; "))
}

fn gil(run: &Run<'_>) -> Row {
    let (f, t, m) = (
        "GIL effect",
        "limited by the GIL (not truly parallel)",
        "bypasses the GIL: true parallel execution",
    );
    let gil_primes = run.speedup_figure(&run.group(&run.n.cpu_workload), &run.n.gil_threads);
    let free_primes = run.speedup_figure(&run.group(&run.n.cpu_workload), &run.n.thread_pool);
    let procs = run.speedup_figure(&run.group(&run.n.cpu_workload), &run.n.process_pool);
    let gil_images = run.speedup_figure(&run.group(&run.n.image_workload), &run.n.gil_threads);
    let py_threads = run.python_speedup("threading");
    let py_procs = run.python_speedup("multiprocessing");
    let figures = present(&[
        &gil_primes,
        &free_primes,
        &procs,
        &gil_images,
        &py_threads,
        &py_procs,
    ]);
    let (Some((gs, _)), Some((fs, _))) = (&gil_primes, &free_primes) else {
        return not_measured((f, t, m), figures);
    };
    let mut verdict = if *gs <= SERIAL && *fs >= PARALLEL {
        format!(
            "holds under a GIL, and only there: with the emulated GIL threads reach {gs:.2}× \
             on CPU-bound work, without it {fs:.2}×"
        )
    } else if *gs <= SERIAL {
        format!("holds: with the emulated GIL threads reach {gs:.2}×")
    } else {
        format!("does not hold here: even with the emulated GIL threads reach {gs:.2}×")
    };
    if let Some((ps, _)) = procs {
        verdict.push_str(&format!("; processes reach {ps:.2}×"));
    }
    if let (Some((pt, _)), Some((pp, _))) = (&py_threads, &py_procs) {
        verdict.push_str(&format!(
            "; CPython itself, same inputs: threading {pt:.2}×, multiprocessing {pp:.2}×"
        ));
    }
    if let Some((is, _)) = gil_images {
        verdict.push_str(&format!(
            "; with caveat: code that releases the GIL while it works (Pillow's C code, \
             emulated in `{}`) scales anyway: `{}` {is:.2}× on images",
            run.n.image_workload, run.n.gil_threads
        ));
    }
    row((f, t, m), figures, verdict)
}

fn overhead(run: &Run<'_>) -> Row {
    let (f, t, m) = (
        "Overhead",
        "lower overhead (lightweight)",
        "higher overhead (process creation is costly)",
    );
    let thread = run.time_figure(&run.n.spawn_group, &run.n.thread_per_task, None);
    let process = run.time_figure(&run.n.spawn_group, &run.n.process_per_task, None);
    let task = run.time_figure(&run.n.spawn_group, &run.n.tasks, None);
    let pool_thread = run.time_figure(
        &run.group(&run.n.seed_workload),
        &run.n.thread_pool,
        Some("2"),
    );
    let pool_process = run.time_figure(
        &run.group(&run.n.seed_workload),
        &run.n.process_pool,
        Some("2"),
    );
    let figures = present(&[&thread, &process, &task, &pool_thread, &pool_process]);
    let (Some((ts, _)), Some((ps, _))) = (thread, process) else {
        return not_measured((f, t, m), figures);
    };
    let ratio = ps / ts;
    let mut verdict = if ratio >= 5.0 {
        format!(
            "holds: starting a worker process costs {ratio:.0}× starting a thread ({} \
             against {})",
            human_time(ps),
            human_time(ts)
        )
    } else {
        format!("holds only weakly: a process costs {ratio:.1}× a thread to start")
    };
    if let (Some((pt, _)), Some((pp, _))) = (pool_thread, pool_process) {
        verdict.push_str(&format!(
            "; even with workers already started, a tiny task costs {:.0}× more through a \
             process pool than through a thread pool",
            pp / pt
        ));
    }
    row((f, t, m), figures, verdict)
}

/// "What to pick", derived from the figures: for each situation, the fastest model this run
/// measured (sequential excluded), with its figure and the runner-up.
pub fn what_to_pick(data: &RunData) -> Vec<Text> {
    let run = Run {
        data,
        n: &data.catalog.roles,
    };
    let fastest = |group: &str, param: Option<&str>, exclude: &[&str]| {
        let mut c: Vec<&BenchResult> = data
            .members(group)
            .filter(|r| {
                r.parameter.as_deref() == param
                    && r.function != run.n.sequential
                    && !exclude.contains(&r.function.as_str())
            })
            .collect();
        c.sort_by(|a, b| a.median_ns.total_cmp(&b.median_ns));
        c
    };
    let line = |situation: &str, group: &str, param: Option<&str>, exclude: &[&str]| {
        let c = fastest(group, param, exclude);
        let first = c.first()?;
        let mut s = Text::plain(situation)
            .strong()
            .and(": ")
            .and(Text::code(first.function.as_str()))
            .and(format!(" ({})", human_time(first.median_ns)));
        if let Some(second) = c.get(1) {
            s = s
                .and(", then ")
                .and(Text::code(second.function.as_str()))
                .and(format!(
                    " ({:.2}× its time)",
                    second.median_ns / first.median_ns
                ));
        }
        Some(
            s.and(" — ")
                .and(Text::plain(group).link(run.group_link(group))),
        )
    };
    let mut out: Vec<Text> = [
        line(
            "CPU-bound work on 2 cores",
            &run.group(&run.n.cpu_workload),
            Some("2"),
            &[],
        ),
        line(
            "Image processing on 2 cores",
            &run.group(&run.n.image_workload),
            Some("2"),
            &[],
        ),
        line(
            "A large input read by every worker",
            &run.group(&run.n.shared_workload),
            Some("2"),
            &[],
        ),
        line(
            "A few concurrent requests (8)",
            &run.group(&run.n.io_workload),
            Some("8"),
            &[],
        ),
        line(
            "Dozens of concurrent requests (64)",
            &run.group(&run.n.io_workload),
            Some("64"),
            &[],
        ),
        line(
            "Hundreds of concurrent requests (512)",
            &run.group(&run.n.io_workload),
            Some("512"),
            &[],
        ),
        line(
            "Tiny tasks, where start-up and hand-off dominate",
            &run.group(&run.n.seed_workload),
            Some("2"),
            &[],
        ),
    ]
    .into_iter()
    .flatten()
    .collect();
    if let (Some(t), Some(p)) = (
        run.idle(&run.n.thread_per_task),
        run.idle(&run.n.process_pool),
    ) {
        let mut line = Text::plain("Isolation (a crash must not take the program down)")
            .strong()
            .and(format!(
                ": a process pool — at {} per idle worker against a thread's {}, and a pool, \
                 not a process per task",
                human_bytes(p.pss_bytes_per_worker),
                human_bytes(t.pss_bytes_per_worker),
            ));
        // Link the spawn figures only when this run measured them (a smoke run does not).
        let spawn = &run.n.spawn_group;
        if data.members(spawn).next().is_some() {
            line = line
                .and(" (")
                .and(Text::plain(spawn.as_str()).link(run.group_link(spawn)))
                .and(")");
        }
        out.push(line);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::machine::Machine;

    fn result(group: &str, function: &str, param: Option<&str>, ms: f64) -> BenchResult {
        BenchResult {
            group: group.into(),
            function: function.into(),
            parameter: param.map(str::to_owned),
            directory: format!("{}/{function}", group.replace('/', "_")),
            median_ns: ms * 1e6,
            median_ci_ns: (ms * 1e6, ms * 1e6),
            mad_ns: 0.0,
            mean_ns: ms * 1e6,
        }
    }

    fn data(thread_pool_ms: f64, gil_ms: f64) -> RunData {
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
                rustc: String::new(),
            },
            suites: Vec::new(),
            results: vec![
                result(g, "sequential", Some("2"), 200.0),
                result(g, "thread-pool", Some("2"), thread_pool_ms),
                result(g, "process-pool", Some("2"), 110.0),
                result(g, "gil-threads", Some("2"), gil_ms),
                result("spawn", "thread-per-task", None, 0.04),
                result("spawn", "process-per-task", None, 2.0),
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
        }
    }

    fn verdict(rows: &[Row], feature: &str) -> String {
        rows.iter()
            .find(|r| r.feature == feature)
            .unwrap()
            .verdict
            .clone()
    }

    #[test]
    fn verdicts_follow_the_figures() {
        let rows = rows(&data(105.0, 210.0));
        assert_eq!(rows.len(), 6);
        let c = verdict(&rows, "Concurrency vs. parallelism");
        assert!(c.starts_with("does not hold in Rust"), "{c}");
        assert!(c.contains("1.90×") && c.contains("0.95×"), "{c}");
        let g = verdict(&rows, "GIL effect");
        assert!(g.starts_with("holds under a GIL"), "{g}");
        assert!(verdict(&rows, "Memory usage").starts_with("holds: "));
        assert!(verdict(&rows, "Overhead").starts_with("holds: "));
        let b = verdict(&rows, "Best for");
        assert!(b.contains("processes for CPU does not hold in Rust"), "{b}");
        assert_eq!(verdict(&rows, "Execution mode"), "not measured in this run");
        // Every figure links to its evidence.
        for r in &rows {
            for f in &r.figures {
                assert!(f.link.ends_with("report/index.html") || f.link == "#idle-workers");
            }
        }
    }

    #[test]
    fn what_to_pick_links_only_what_was_measured() {
        let mut d = data(105.0, 210.0);
        let md = |picks: Vec<Text>| -> Vec<String> {
            picks.iter().map(crate::markdown::render_text).collect()
        };
        let picks = md(what_to_pick(&d));
        assert!(picks[0].starts_with("**CPU-bound work on 2 cores**: `thread-pool`"));
        assert!(picks.last().unwrap().contains("[spawn]("));
        d.results.clear(); // A smoke run: idle probes, no criterion figures.
        let picks = md(what_to_pick(&d));
        assert_eq!(picks.len(), 1);
        assert!(!picks[0].contains("]("), "{}", picks[0]);
    }

    #[test]
    fn slow_threads_make_the_tutorial_right() {
        let rows = rows(&data(190.0, 210.0));
        let c = verdict(&rows, "Concurrency vs. parallelism");
        assert!(c.starts_with("holds: threads reach only 1.05×"), "{c}");
        let b = verdict(&rows, "Best for");
        assert!(b.contains("processes for CPU holds"), "{b}");
    }
}
