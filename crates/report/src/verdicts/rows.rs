//! The seven rows of the tutorial's table, one function each: the figures a row reads and
//! the verdict it computes from them.

use super::*;

pub(super) fn module_used(run: &Run<'_>) -> Row {
    let claim = ("Module used", "`threading`", "`multiprocessing`");
    let v = |name: &str| run.data.module(name).map(|v| format!("`{name}` {v}"));
    let with_role = |role: ModuleRole| {
        run.data
            .catalog
            .modules
            .iter()
            .filter(move |m| m.role == role)
            .map(|m| m.name.as_str())
    };
    let threads: Vec<String> = with_role(ModuleRole::Threads).filter_map(v).collect();
    let ipc = with_role(ModuleRole::ProcessChannel)
        .map(|name| v(name).unwrap_or_else(|| format!("`{name}`")))
        .collect::<Vec<_>>()
        .join(", ");
    let memfd: String = with_role(ModuleRole::SharedMemory)
        .filter_map(v)
        .map(|m| format!(" ({m})"))
        .collect();
    if run.data.modules.is_empty() {
        return row(
            claim,
            Vec::new(),
            0,
            Class::NotMeasured,
            "not recorded in this run".to_owned(),
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

pub(super) fn execution_mode(run: &Run<'_>) -> Row {
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
    let mut verdict = led(
        "holds",
        format!(
            "threads read one array in place, a process must be sent its part (`{}` takes \
         {c} the time of `{}` to sum it)",
            n.process_pool, n.thread_pool
        ),
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

pub(super) fn concurrency(run: &Run<'_>) -> Row {
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
            Err(why) => (Class::Inconclusive, led("inconclusive", why)),
            Ok(margin) => {
                figures.extend(margin);
                if ts.above(PARALLEL) {
                    (
                        Class::DoesNotHold,
                        led(
                            "does not hold in Rust",
                            format!(
                                "threads run in parallel ({ts} on two workers; \
                         processes {ps})"
                            ),
                        ),
                    )
                } else if ts.below(SERIAL) {
                    (
                        Class::Holds,
                        led(
                            "holds",
                            format!("threads reach only {ts} while processes reach {ps}"),
                        ),
                    )
                } else if ts.lo > SERIAL && ts.hi < PARALLEL {
                    (
                        Class::Partly,
                        led(
                            "partly holds",
                            format!("threads reach {ts}, processes {ps}"),
                        ),
                    )
                } else {
                    (
                        Class::Inconclusive,
                        led(
                            "inconclusive on this machine",
                            format!(
                                "threads reach {ts}, an interval across \
                         a threshold ({SERIAL}× taking turns, {PARALLEL}× parallel); {}",
                                settle(run.data)
                            ),
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

pub(super) fn memory(run: &Run<'_>) -> Row {
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
            led(
                "holds",
                format!(
                    "an idle worker process adds {} to the tree's PSS, an idle thread {} \
                 ({ratio:.0}×)",
                    human_bytes(pb),
                    human_bytes(tb)
                ),
            ),
        )
    } else {
        (
            Class::DoesNotHold,
            led(
                "does not hold here",
                format!(
                    "an idle process adds {}, an idle thread {}",
                    human_bytes(pb),
                    human_bytes(tb)
                ),
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

pub(super) fn best_for(run: &Run<'_>) -> Row {
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
    let mut words: Vec<String> = parts.into_iter().map(|(_, t)| t).collect();
    words.extend(crossover_clause(run));
    row(claim, figures, 2, class, words.join("; "))
}

pub(super) fn gil(run: &Run<'_>) -> Row {
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
    let py_threads = run.python_speedup(PythonMode::Threading);
    let py_procs = run.python_speedup(PythonMode::Multiprocessing);
    let mut figures = present(&[&gil_cpu, &free, &procs, &gil_images]);
    figures.extend(py_threads.iter().chain(&py_procs).map(|(_, f)| f.clone()));
    let (Some((gs, _)), Some((fs, _))) = (&gil_cpu, &free) else {
        return not_measured(claim, figures);
    };
    let (class, mut verdict) = if gs.below(SERIAL) && fs.above(PARALLEL) {
        (
            Class::Holds,
            led(
                "holds under a GIL, and only there",
                format!(
                    "with the emulated GIL threads reach {gs} on \
                 CPU-bound work, without it {fs}"
                ),
            ),
        )
    } else if gs.below(SERIAL) {
        (
            Class::Holds,
            led("holds", format!("with the emulated GIL threads reach {gs}")),
        )
    } else if gs.lo > SERIAL {
        (
            Class::DoesNotHold,
            led(
                "does not hold here",
                format!("even with the emulated GIL threads reach {gs}"),
            ),
        )
    } else {
        (
            Class::Inconclusive,
            led(
                "inconclusive on this machine",
                format!(
                    "with the emulated GIL threads reach {gs}, across \
                 {SERIAL}×; {}",
                    settle(run.data)
                ),
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

pub(super) fn overhead(run: &Run<'_>) -> Row {
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
            led(
                "holds",
                format!(
                    "starting a worker process costs {r} starting a thread ({} against {})",
                    human_time(pt),
                    human_time(tt)
                ),
            ),
        )
    } else if r.below(COSTLY_START) {
        (
            Class::Partly,
            led(
                "holds only weakly",
                format!("a process costs {r} a thread to start"),
            ),
        )
    } else {
        (
            Class::Inconclusive,
            led(
                "inconclusive on this machine",
                format!(
                    "a process costs {r} a thread to start, across \
                 {COSTLY_START}×; {}",
                    settle(run.data)
                ),
            ),
        )
    };
    if let Some((p, _)) = pools {
        verdict.push_str(&format!(
            "; even with workers already started, a tiny task takes {p} as long through a \
             process pool as through a thread pool"
        ));
    }
    if let Some(said) = crossover_clause(run) {
        verdict.push_str(&format!("; {said}"));
    }
    row(claim, figures, 1, class, verdict)
}

/// "`process-pool` pays off above X of work per task on this machine, `thread-pool` above
/// Y": the granularity sweep's pays-off sizes of the process and thread pools, when the run
/// swept them and found both.
fn crossover_clause(run: &Run<'_>) -> Option<String> {
    let n = run.n;
    let at = |model: &str| {
        use crate::crossover::Bound;
        Some(match crate::granularity::pays_off_of(run.data, model)?.at {
            Bound::At(x) => format!("above {} of work per task", human_time(x)),
            Bound::Below(x) => format!("at every task size swept (from {})", human_time(x)),
            Bound::Above(x) => format!("at no task size swept (up to {})", human_time(x)),
        })
    };
    let (p, t) = (at(&n.process_pool)?, at(&n.thread_pool)?);
    Some(format!(
        "the overhead decides by task size: `{}` pays off {p} on this machine, `{}` {t} (the \
         granularity section)",
        n.process_pool, n.thread_pool
    ))
}
