//! The sections after the table and the groups: floors and peers, beyond one machine, the
//! CPython reference and the idle workers.

use super::*;
use crate::PythonMode;

pub(super) fn floors_section(doc: &mut Document, data: &RunData) {
    let rows = crate::floors::rows(data);
    if rows.is_empty() {
        return;
    }
    doc.section("Floors and peers");
    doc.paragraph(Text::with_code(
        "Each model or channel read against the floor of its mechanism (the least this machine \
         can do: a cache-line or futex round trip, a fork or an exec, raw loopback TCP, a \
         memcpy) or against its best peer, both measured in this run: the ratio is the \
         subject's time over the other's, with its 95% interval, and the target is the most it \
         should be. \"met\" needs the whole interval at or under the target. A ratio marked \
         \"paired\" comes from rounds that measured both sides alternately, back to back \
         (`concur pingpong --against`), not from the two criterion figures beside it: on a \
         VM those can be minutes apart, and the host may move the virtual CPUs in between. \
         Paired rounds stop once the interval is decided against the target, or at the cap \
         the row names. Where a part of the subject's work was timed in the same rounds \
         (`concur pingpong --beside`: a process pool's own work on a task (frame, scheduler, \
         handler, reply), which a pool's task goes through besides crossing its transport; an empty unit handed to a cluster's timely \
         worker, through timely's exchange and back, the path a cluster's unit takes with \
         its job besides; a bare install into a rayon pool, which a rayon task makes with \
         the model's iterator besides; the copying ring's transfer with no ring around it, which its \
         MiB makes), the row says the least its ratio can be; \"out of reach\" \
         means the ratio missed and even that least, at its interval's low end, is over the \
         target: that part alone rules the target out on this machine.",
    ));
    let table_rows = rows
        .iter()
        .map(|r| {
            let c = r.comparison;
            let at = c
                .param
                .as_ref()
                .map_or(String::new(), |p| format!(" at {p}"));
            let outcome = match r.outcome {
                crate::floors::Outcome::Met => Class::Holds,
                crate::floors::Outcome::Missed => Class::DoesNotHold,
                crate::floors::Outcome::Inconclusive => Class::Inconclusive,
                crate::floors::Outcome::OutOfReach => Class::Partly,
                crate::floors::Outcome::NoTarget => Class::NotMeasured,
            };
            vec![
                Text::plain(format!("{}{at}", c.group)).link(data.group_link(&c.group)),
                Text::code(c.subject.as_str()).and(format!(" {}", human_time(r.subject_ns))),
                Text::plain(format!("{} ", crate::floors::kind_label(c.kind)))
                    .and(Text::code(c.against.as_str()))
                    .and(format!(" {}", human_time(r.against_ns))),
                Text::plain(ratio_cell(r)),
                Text::plain(c.target.map_or("–".to_owned(), |t| format!("≤ {t}×"))),
                Text::badge(&crate::doc::slug(outcome.label()), r.outcome.label()),
            ]
        })
        .collect();
    doc.blocks.push(Block::Table(Table {
        columns: vec![
            Column::text("group"),
            Column::text("model or channel"),
            Column::text("read against"),
            Column::numeric("ratio"),
            Column::numeric("target"),
            Column::text("outcome"),
        ],
        rows: table_rows,
    }));
}

/// A floor row's ratio, with where it comes from: the paired rounds it took (of the cap),
/// and the CPU pair they were pinned to with the cache-line round trip measured then.
fn ratio_cell(r: &crate::floors::FloorRow<'_>) -> String {
    let mut s = match r.rounds {
        Some((n, Some(cap))) => format!("{} paired, {n} of ≤ {cap} rounds", r.ratio),
        Some((n, None)) => format!("{} paired, {n} rounds", r.ratio),
        None if r.ratio.paired => format!("{} paired", r.ratio),
        None => r.ratio.to_string(),
    };
    if let Some(p) = r.placement {
        s.push_str(&format!(
            ", pinned to CPUs {}↔{} (cache-line round trip {} then)",
            p.parent_cpu,
            p.child_cpu,
            human_time(p.line_round_trip_ns)
        ));
    }
    if let Some(reach) = &r.reach {
        s.push_str(&format!(
            "; {} alone {} of {}, so at least {:.2}× ({:.2} at the interval's low end)",
            reach.part, reach.part_ratio, r.comparison.against, reach.least.value, reach.least.lo
        ));
    }
    s
}

/// "Beyond one machine": the cluster beside the process pool, and the break-even
/// projection with its formula.
pub(super) fn beyond_section(doc: &mut Document, data: &RunData) {
    use crate::beyond::{Figure, beyond};
    let Some(b) = beyond(data) else {
        return;
    };
    let roles = &data.catalog.roles;
    doc.section("Beyond one machine");
    doc.paragraph(Text::with_code(&format!(
        "`{}` runs the units on timely-dataflow processes that talk TCP (here all on this \
         machine, over loopback); every process rebuilds the batch, only indices and results \
         travel. Beside it, `{}`, the one-machine pool, measured in the same run.",
        roles.cluster, roles.process_pool
    )));
    let figure = |f: &Figure| match f {
        Figure::Time(ns) => Text::plain(human_time(*ns)),
        Figure::Speedup(r) => Text::plain(r.to_string()),
    };
    let rows = b
        .rows
        .iter()
        .map(|r| {
            vec![
                Text::plain(r.what),
                Text::plain(r.group.as_str()).link(data.group_link(&r.group)),
                figure(&r.cluster),
                figure(&r.pool),
            ]
        })
        .collect();
    doc.blocks.push(Block::Table(Table {
        columns: vec![
            Column::text("figure"),
            Column::text("group"),
            Column::numeric(roles.cluster.as_str()),
            Column::numeric(roles.process_pool.as_str()),
        ],
        rows,
    }));
    let Some(p) = b.projection else {
        return;
    };
    let us = |ns: f64| format!("{:.1} µs", ns / 1e3);
    let pays = |ns: f64| {
        if ns <= 0.0 {
            "any unit of work (the cluster's overhead is under twice the pool's)".to_owned()
        } else {
            format!("units of more than {}", us(ns))
        }
    };
    doc.paragraph(
        Text::plain("Projection, not a measurement:")
            .strong()
            .and(Text::with_code(&format!(
                " when does a second host pay off? One host runs N \
         units of w each on c cores with `{pool}`, two hosts run them on 2c cores with \
         `{cluster}`; each unit costs its worker w plus the model's per-task overhead o, and \
         each model its start-up S. `T_one = S_pool + N(w + o_pool)/c`, `T_two = S_cluster + \
         N(w + o_cluster)/2c`, so the second host pays off when `w > o_cluster − 2·o_pool + \
         2c·(S_cluster − S_pool)/N`.",
                pool = roles.process_pool,
                cluster = roles.cluster,
            ))),
    );
    doc.blocks.push(Block::List(vec![
        Text::with_code(&format!(
            "With this run's figures (o_cluster = {}, o_pool = {}, c = {}): a cluster \
             started once and reused pays off for {}.",
            us(p.o_cluster),
            us(p.o_pool),
            p.cores,
            pays(p.steady_ns())
        )),
        Text::with_code(&format!(
            "A batch of N = {} units that starts its cluster (S_cluster = {}, S_pool = {}) \
             pays off for {}.",
            p.units,
            us(p.s_cluster),
            us(p.s_pool),
            pays(p.with_start_ns())
        )),
        Text::with_code(&match p.rtt {
            Some(rtt) => format!(
                "These overheads cross loopback, whose raw TCP round trip measured {}: on a \
                 real network add, to o_cluster, its round trip minus that.",
                us(rtt)
            ),
            None => "These overheads cross loopback: on a real network add, to o_cluster, \
                     its round trip minus loopback's."
                .to_owned(),
        }),
    ]));
}

/// The matching Rust figure for a CPython run: the pool of the same family at the same
/// number of workers (or, for I/O, of concurrent requests).
pub(super) fn rust_beside(data: &RunData, run: &PythonRun) -> Option<Text> {
    let roles = &data.catalog.roles;
    let group = data.group_of(&run.workload);
    let io = data
        .catalog
        .group(&group)
        .is_some_and(|g| g.axis == Axis::Concurrency);
    let model = match run.mode {
        PythonMode::Asyncio => &roles.tasks,
        PythonMode::Threading => &roles.thread_pool,
        PythonMode::Multiprocessing => &roles.process_pool,
    };
    let param = if io {
        run.tasks.to_string()
    } else {
        run.workers.max(1).to_string()
    };
    let r = data.find(&group, model, Some(&param))?;
    Some(Text::code(model.as_str()).and(format!(" {}", human_time(r.median_ns))))
}

pub(super) fn python_table(data: &RunData) -> Option<Table> {
    data.python.first()?;
    let rows = data
        .python
        .iter()
        .map(|r| {
            vec![
                Text::plain(&r.workload),
                Text::plain(r.mode.name()),
                Text::plain(r.workers.to_string()),
                Text::plain(format!("{} tasks, size {}", r.tasks, r.size)),
                Text::plain(human_time(r.wall_s * 1e9)),
                if r.checksum_ok {
                    Text::plain("equals Rust's")
                } else {
                    Text::plain("differs").strong()
                },
                rust_beside(data, r).unwrap_or_else(|| Text::plain("–")),
            ]
        })
        .collect();
    Some(Table {
        columns: vec![
            Column::text("workload"),
            Column::text("CPython"),
            Column::numeric("workers"),
            Column::text("inputs"),
            Column::numeric("median wall"),
            Column::text("checksum"),
            Column::text("Rust beside it"),
        ],
        rows,
    })
}

/// The idle-worker rows: (model, workers, bytes, ratio to an async task).
pub(super) fn idle_rows(data: &RunData) -> Vec<[String; 4]> {
    let task = data
        .idle(&data.catalog.roles.tasks)
        .map(|p| p.pss_bytes_per_worker)
        .filter(|b| *b > 0.0);
    data.idle
        .iter()
        .map(|p: &IdleProbe| {
            [
                p.model.clone(),
                p.workers.to_string(),
                human_bytes(p.pss_bytes_per_worker),
                task.map(|t| ratio_text(p.pss_bytes_per_worker / t))
                    .unwrap_or_else(|| "–".into()),
            ]
        })
        .collect()
}

pub(super) fn idle_table(data: &RunData) -> Option<Table> {
    if data.idle.is_empty() {
        return None;
    }
    let rows = idle_rows(data)
        .into_iter()
        .map(|[m, n, b, ratio]| {
            vec![
                Text::plain(m),
                Text::plain(n),
                Text::plain(b),
                Text::plain(ratio).strong(),
            ]
        })
        .collect();
    Some(Table {
        columns: vec![
            Column::text("model"),
            Column::numeric("idle workers"),
            Column::numeric("PSS per worker"),
            Column::numeric(Text::plain("× an async task")),
        ],
        rows,
    })
}

/// "Granularity": where each model starts to pay off, measured by its sweep, beside what the
/// cost model predicts from the model's per-task cost in the same run.
pub(super) fn granularity_section(doc: &mut Document, data: &RunData) {
    use crate::crossover::PAYS_OFF_SHARE;
    use crate::granularity::{DISAGREES, PUBLISHED, rows};
    let rows = rows(data);
    let Some(first) = rows.first() else {
        return;
    };
    let (workers, workload) = (first.sweep.workers, first.sweep.workload.as_str());
    let sequential = &data.catalog.roles.sequential;
    doc.section(crate::granularity::HEADING);
    doc.paragraph(Text::with_code(&format!(
        "`concur crossover` swept the work per task of `{workload}` from about 1 µs to about \
         100 ms for each model at {workers} workers, each size timed against `{sequential}` \
         in paired rounds (every result checked), more and smaller tasks at small sizes so \
         every batch holds about the same work. Break-even: the work per task above which \
         the model is faster than `{sequential}` (speedup 1×); pays off: above which it \
         reaches {:.0}% of the ideal ({:.2}×). Each with the 95% interval its speedups' \
         intervals give it. Predicted: from the model's own per-task cost `o` measured in \
         this run (one empty task there and back for a pool, one spawn and join for a model \
         that starts a worker per task), with the cost model of the cluster projection: \
         speedup `c·w/(w + o)`, so break-even at `o/(c − 1)` and pays off at `4·o`.",
        PAYS_OFF_SHARE * 100.0,
        PAYS_OFF_SHARE * workers as f64
    )));
    let crossing = |c: Option<crate::crossover::Crossing>| {
        Text::plain(c.map_or("–".to_owned(), |c| c.to_string()))
    };
    let predicted = |ns: Option<f64>, ratio: Option<f64>| {
        Text::plain(match (ns, ratio) {
            (Some(ns), Some(r)) => format!("{} (measured {})", human_time(ns), ratio_text(r)),
            (Some(ns), None) => human_time(ns),
            _ => "–".to_owned(),
        })
    };
    let table_rows = rows
        .iter()
        .map(|r| {
            vec![
                Text::code(r.sweep.model.as_str()),
                crossing(r.break_even),
                predicted(r.predicted_break_even(), r.break_even_ratio()),
                crossing(r.pays_off),
                predicted(r.predicted_pays_off(), r.pays_off_ratio()),
                r.overhead
                    .as_ref()
                    .map_or(Text::plain("not measured"), |o| {
                        Text::plain(human_time(o.ns))
                            .and(" (")
                            .and(Text::code(o.from.1.as_str()).link(data.group_link(&o.from.0)))
                            .and(")")
                    }),
            ]
        })
        .collect();
    doc.blocks.push(Block::Table(Table {
        columns: vec![
            Column::text("model"),
            Column::text("break-even (measured)"),
            Column::text("predicted"),
            Column::text("pays off (measured)"),
            Column::text("predicted"),
            Column::text("per-task cost o"),
        ],
        rows: table_rows,
    }));
    let off: Vec<Text> = rows
        .iter()
        .filter(|r| r.disagrees())
        .map(|r| {
            let measured = |ratio: Option<f64>, c: Option<crate::crossover::Crossing>| {
                ratio.map_or_else(
                    || c.map_or("–".to_owned(), |c| c.at.to_string()),
                    |r| format!("{} the prediction", ratio_text(r)),
                )
            };
            Text::code(r.sweep.model.as_str()).and(format!(
                ": the sweep and the cost model disagree by more than {DISAGREES}× (break-even \
                 {}, pays off {}): its per-task cost alone does not explain where it pays off \
                 on this machine",
                measured(r.break_even_ratio(), r.break_even),
                measured(r.pays_off_ratio(), r.pays_off),
            ))
        })
        .collect();
    if !off.is_empty() {
        doc.blocks.push(Block::List(off));
    }
    doc.paragraph(
        Text::plain(
            "Published rules of thumb, drawn on the plot for comparison (published figures, not \
         measured here): ",
        )
        .and(
            PUBLISHED
                .iter()
                .enumerate()
                .fold(Text::plain(""), |t, (i, p)| {
                    let t = if i > 0 { t.and("; ") } else { t };
                    t.and(p.label).and(" (").and(Text::code(p.source)).and(")")
                }),
        )
        .and("."),
    );
}
