//! The report page, built once as a [`Document`] from a run's data: the header, the
//! tutorial's table with verdicts, what to pick, the plots, a table per bench group, the
//! CPython reference and the idle workers.

use crate::catalog::{Axis, Compare};
use crate::criterion::BenchResult;
use crate::data::{CRITERION_FROM_REPORT, IdleProbe, PythonRun, RunData};
use crate::doc::{Block, Column, Document, Table, Text};
use crate::plots::Plot;
use crate::units::{human_bytes, human_time, ratio_text};
use crate::verdicts::{self, Class, Row};

/// What the verdicts are, said once above the table.
fn table_intro() -> String {
    format!(
        "Each row of the tutorial's comparison, with the figures from this run that decide it \
         (the rest one click away) and a verdict computed from them. Every ratio carries its \
         95% interval, from paired rounds where the run has them; a verdict crosses a \
         threshold only when the whole interval is past it, else it is inconclusive. The \
         thresholds are in `crates/report/src/verdicts.rs`: a speedup of {}× or more on two \
         workers is \"parallel\", {}× or less is \"taking turns\", two times within {}× of each \
         other are \"as fast\"; a CPU verdict needs a task's work to be {}× the pools' \
         hand-off. `gil-threads` is Rust threads behind an emulated CPython GIL.",
        verdicts::PARALLEL,
        verdicts::SERIAL,
        verdicts::SAME,
        verdicts::DECIDES
    )
}

/// A verdict's class as a badge.
fn badge(class: Class) -> Text {
    Text::badge(&crate::doc::slug(class.label()), class.label())
}

/// A row's figures: those that decide the verdict, then the rest one click away.
fn figures_cell(row: &Row) -> Text {
    if row.figures.is_empty() {
        return Text::plain("–");
    }
    let link = |f: &verdicts::Figure| Text::with_code(&f.text).link(f.link.clone());
    let (deciding, rest) = row
        .figures
        .split_at(row.deciding.max(1).min(row.figures.len()));
    let mut cell = Text::lines(deciding.iter().map(link));
    if !rest.is_empty() {
        cell = cell.and(Text::more(
            format!("{} more", rest.len()),
            Text::lines(rest.iter().map(link)),
        ));
    }
    cell
}

/// The whole report for `data`, with `plots` already drawn.
pub fn document(data: &RunData, plots: &[Plot]) -> Document {
    let mut doc = Document {
        title: "concur report".into(),
        blocks: Vec::new(),
    };
    run_header(&mut doc, data);
    let rows = verdicts::rows(data);
    doc.section("At a glance");
    doc.blocks.push(Block::List(
        rows.iter()
            .map(|r| badge(r.class).and(" ").and(Text::with_code(&r.headline)))
            .collect(),
    ));
    let groups = group_ids(data);
    if groups.is_empty() {
        doc.paragraph(no_results_note(data));
    } else {
        let index = format!("{CRITERION_FROM_REPORT}/report/index.html");
        doc.paragraph(
            Text::plain("Criterion's own report: ").and(Text::plain(&index).link(&index)),
        );
    }

    doc.section("The tutorial's table, measured");
    doc.paragraph(Text::with_code(&table_intro()));
    let rows = rows
        .iter()
        .map(|row| {
            vec![
                Text::plain(row.feature).strong(),
                Text::with_code(row.threading),
                Text::with_code(row.multiprocessing),
                figures_cell(row),
                badge(row.class).and(" ").and(Text::with_code(&row.verdict)),
            ]
        })
        .collect();
    doc.blocks.push(Block::Table(Table {
        columns: [
            "feature",
            "threading (tutorial)",
            "multiprocessing (tutorial)",
            "measured in this run",
            "verdict",
        ]
        .map(Column::text)
        .to_vec(),
        rows,
    }));

    let picks = verdicts::what_to_pick(data);
    if !picks.is_empty() {
        doc.section("What to pick");
        doc.paragraph(Text::with_code(
            "The fastest model this run measured in each situation (`sequential` aside). \
             Models whose time is within noise of the fastest (the 95% interval of their \
             ratio to it reaches 1×) are tied, and the pick among them is the one that costs \
             least by this run's figures: memory per idle worker, then start-up.",
        ));
        doc.blocks
            .push(Block::List(picks.into_iter().map(|p| p.text).collect()));
    }

    floors_section(&mut doc, data);
    beyond_section(&mut doc, data);

    if !plots.is_empty() {
        doc.section("Plots");
        for p in plots {
            doc.blocks.push(Block::Figure {
                src: p.file.clone(),
                caption: Text::with_code(&p.title),
            });
        }
    }

    for group in &groups {
        group_section(&mut doc, data, group);
    }
    if let Some(table) = python_table(data) {
        doc.section("CPython reference");
        doc.paragraph(Text::with_code(&format!(
            "The tutorial's own tools, CPython {} (`python/concur_ref.py`, standard library \
             only), on the same inputs (and, for I/O, the same loopback server) as the Rust \
             benches; median of 3 runs; every checksum compared with Rust's `{}`. The last \
             column is the matching Rust model in this run's benches.",
            data.python[0].python, data.catalog.roles.sequential
        )));
        doc.blocks.push(Block::Table(table));
    }
    if let Some(table) = idle_table(data) {
        doc.section("idle workers");
        doc.paragraph(Text::with_code(
            "What one idle worker adds to the process tree's PSS (`concur idle --json`, run \
             after the suites): a parked thread, a worker process waiting for tasks, an async \
             task waiting on a semaphore.",
        ));
        doc.blocks.push(Block::Table(table));
    }
    doc
}

/// The run, the machine, what every figure is, and the noise (with a warning above the
/// thresholds): the top of every report.
fn run_header(doc: &mut Document, data: &RunData) {
    for line in header(data) {
        doc.paragraph(line);
    }
    if let Some(noise) = &data.noise {
        doc.paragraph(noise_line(noise));
        if let Some(why) = noise.warning() {
            doc.blocks.push(Block::Warning(Text::plain(format!(
                "this machine was noisy during the run: {why}. Verdicts may be inconclusive; \
                 the intervals say how far to trust each ratio."
            ))));
        }
    }
}

fn header(data: &RunData) -> Vec<Text> {
    let m = &data.machine;
    let suites = data
        .suites
        .iter()
        .map(|(s, secs)| format!("{s} ({secs:.0} s)"))
        .collect::<Vec<_>>()
        .join(", ");
    vec![
        Text::with_code(&format!(
            "Run: `{}` profile, started {}, git revision `{}`{}.",
            data.profile,
            data.started_at,
            data.git_revision,
            if suites.is_empty() {
                String::new()
            } else {
                format!("; suites: {suites}")
            }
        )),
        Text::plain(format!(
            "Machine: {}, {} cores, {} GiB, Linux {}, {}.",
            m.cpu, m.cores, m.memory_gib, m.kernel, m.rustc
        )),
        Text::with_code(&format!(
            "Every figure is criterion's median time per iteration, ± its median absolute \
             deviation, measured in this run; every iteration's result was checked against \
             `{}`'s checksum.",
            data.catalog.roles.sequential
        )),
    ]
}

/// The report for one workload of the user's own (the `concur-bench` driver writes it): the
/// run, "threads or processes" for this code, what to pick at each worker count, the plot
/// and the group's table.
pub fn workload_document(data: &RunData, workload: &str, plots: &[Plot]) -> Document {
    let title = match &data.program {
        Some(program) => format!("{program}: threads or processes for {workload}? (concur report)"),
        None => format!("concur report: {workload}"),
    };
    let mut doc = Document {
        title,
        blocks: Vec::new(),
    };
    run_header(&mut doc, data);
    let group = data.group_of(workload);
    if data.members(&group).next().is_none() {
        doc.paragraph(no_results_note(data));
        return doc;
    }
    doc.section(format!("Threads or processes for {workload}?"));
    match verdicts::family_verdict(data, &group) {
        Some((class, words)) => doc.paragraph(
            Text::plain("The tutorial's \"processes for CPU-bound work\", for this code: ")
                .and(badge(class))
                .and(" ")
                .and(Text::with_code(&words)),
        ),
        None => {
            doc.paragraph("Not measured: the run has no thread and process model at 2 workers.")
        }
    }
    doc.section("What to pick");
    doc.paragraph(Text::with_code(
        "At each worker count, the fastest model and every model within noise of it (the 95% \
         interval of its time over the fastest's reaches 1×); the pick is the tied model that \
         costs least by this run's figures.",
    ));
    let mut params: Vec<String> = data
        .members(&group)
        .filter_map(|r| r.parameter.clone())
        .collect();
    params.sort_by_key(|p| p.parse::<u64>().unwrap_or(u64::MAX));
    params.dedup();
    let axis = data.catalog.group(&group).map_or(Axis::Workers, |g| g.axis);
    let picks: Vec<Text> = params
        .iter()
        .filter_map(|p| {
            let what = param_heading(axis, &Some(p.clone()));
            verdicts::pick(data, &what, &group, p).map(|pick| pick.text)
        })
        .collect();
    doc.blocks.push(Block::List(picks));
    for p in plots {
        doc.blocks.push(Block::Figure {
            src: p.file.clone(),
            caption: Text::with_code(&p.title),
        });
    }
    group_section(&mut doc, data, &group);
    doc
}

/// "Floors and peers": each model read against its mechanism's floor or its best peer.
/// "Beyond one machine": the cluster beside the process pool, and the break-even
/// projection with its formula.
fn beyond_section(doc: &mut Document, data: &RunData) {
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

fn floors_section(doc: &mut Document, data: &RunData) {
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
         VM those can be minutes apart, and the host may move the virtual CPUs in between.",
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
                crate::floors::Outcome::NoTarget => Class::NotMeasured,
            };
            vec![
                Text::plain(format!("{}{at}", c.group)).link(data.group_link(&c.group)),
                Text::code(c.subject.as_str()).and(format!(" {}", human_time(r.subject_ns))),
                Text::plain(format!("{} ", crate::floors::kind_label(c.kind)))
                    .and(Text::code(c.against.as_str()))
                    .and(format!(" {}", human_time(r.against_ns))),
                Text::plain(if r.ratio.paired {
                    format!("{} paired", r.ratio)
                } else {
                    r.ratio.to_string()
                }),
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

/// The noise figures, one line.
fn noise_line(noise: &crate::noise::Noise) -> Text {
    let mut parts = Vec::new();
    if let Some(p) = &noise.stall {
        parts.push(format!(
            "a thread spinning for {:.1} s was stalled {} times (over {} µs), {:.2}% of its \
             time, the longest {:.0} µs",
            p.seconds,
            p.stalls,
            crate::noise::STALL_THRESHOLD.as_micros(),
            p.stalled_pct,
            p.max_stall_us
        ));
    }
    if !noise.steal.is_empty() {
        let per: Vec<String> = noise
            .steal
            .iter()
            .map(|s| format!("{} {:.1}%", s.suite, s.steal_pct))
            .collect();
        parts.push(format!("CPU steal time per suite: {}", per.join(", ")));
    }
    if !noise.placement.is_empty() {
        let per: Vec<String> = noise
            .placement
            .iter()
            .map(|p| format!("{} {:.0}→{:.0} ns", p.suite, p.before_ns, p.after_ns))
            .collect();
        parts.push(format!(
            "cache-line round trip between two threads before→after each suite: {}",
            per.join(", ")
        ));
    }
    Text::plain(format!("Noise: {}.", parts.join("; ")))
}

fn no_results_note(data: &RunData) -> Text {
    Text::with_code(if data.profile == "smoke" {
        "No timings: a smoke run executes every benchmark once in criterion's test mode, \
         which records nothing. Run `cargo xtask bench --quick` or `cargo xtask bench` for \
         figures."
    } else {
        "No criterion results were written in this run."
    })
}

/// The groups with results, in the order they were read.
fn group_ids(data: &RunData) -> Vec<&str> {
    let mut groups: Vec<&str> = data.results.iter().map(|r| r.group.as_str()).collect();
    groups.dedup();
    groups
}

/// A column heading: the parameter is a worker count, or a number of concurrent requests.
fn param_heading(axis: Axis, p: &Option<String>) -> String {
    match (p.as_deref(), axis) {
        (None, _) => "median".to_owned(),
        (Some(p), Axis::Concurrency) => format!("{p} concurrent"),
        (Some("1"), _) => "1 worker".to_owned(),
        (Some(p), _) => format!("{p} workers"),
    }
}

/// A group's section: what it measures, then a row per function and a column per parameter;
/// each cell is the median ± MAD, linked to criterion's page, and the ratio to the baseline.
fn group_section(doc: &mut Document, data: &RunData, group: &str) {
    let members: Vec<&BenchResult> = data.members(group).collect();
    let mut params: Vec<Option<String>> = Vec::new();
    let mut functions: Vec<&str> = Vec::new();
    for r in &members {
        if !params.contains(&r.parameter) {
            params.push(r.parameter.clone());
        }
        if !functions.contains(&r.function.as_str()) {
            functions.push(&r.function);
        }
    }
    functions.sort_by_key(|f| (data.catalog.rank(group, f), f.to_string()));
    params.sort_by_key(|p| {
        let text = p.clone().unwrap_or_default();
        (text.parse::<u64>().unwrap_or(u64::MAX), text)
    });
    let entry = data.catalog.group(group);
    let axis = entry.map_or(Axis::Workers, |g| g.axis);
    let ratio_label = match data.compare(group) {
        Compare::SpeedupOver(b) => format!("speedup over `{b}`"),
        Compare::CostOf(b) => format!("cost relative to `{b}`"),
    };
    doc.section(Text::plain(group));
    if let Some(g) = entry.filter(|g| !g.about.is_empty()) {
        doc.paragraph(Text::with_code(&g.about));
    }
    doc.paragraph(
        Text::with_code(&format!(
            "Each cell: median ± MAD, then the {ratio_label}. "
        ))
        .and(Text::plain("Criterion's page for this group").link(data.group_link(group))),
    );
    let mut columns = vec![Column::text("model")];
    columns.extend(
        params
            .iter()
            .map(|p| Column::numeric(param_heading(axis, p))),
    );
    let rows = functions
        .iter()
        .map(|f| {
            let mut row = vec![Text::plain(*f)];
            row.extend(params.iter().map(|p| {
                match members
                    .iter()
                    .find(|r| r.function == *f && &r.parameter == p)
                {
                    Some(r) => {
                        let time =
                            format!("{} ± {}", human_time(r.median_ns), human_time(r.mad_ns));
                        let ratio = data.ratio(r).map(|x| x.to_string()).unwrap_or_default();
                        Text::plain(time)
                            .link(r.link())
                            .and(" · ")
                            .and(Text::plain(ratio).strong())
                    }
                    None => Text::plain("–"),
                }
            }));
            row
        })
        .collect();
    doc.blocks.push(Block::Table(Table { columns, rows }));
}

/// The matching Rust figure for a CPython run: the pool of the same family at the same
/// number of workers (or, for I/O, of concurrent requests).
fn rust_beside(data: &RunData, run: &PythonRun) -> Option<Text> {
    let roles = &data.catalog.roles;
    let group = data.group_of(&run.workload);
    let io = data
        .catalog
        .group(&group)
        .is_some_and(|g| g.axis == Axis::Concurrency);
    let model = match run.mode.as_str() {
        "asyncio" => &roles.tasks,
        "threading" => &roles.thread_pool,
        _ => &roles.process_pool,
    };
    let param = if io {
        run.tasks.to_string()
    } else {
        run.workers.max(1).to_string()
    };
    let r = data.find(&group, model, Some(&param))?;
    Some(Text::code(model.as_str()).and(format!(" {}", human_time(r.median_ns))))
}

fn python_table(data: &RunData) -> Option<Table> {
    data.python.first()?;
    let rows = data
        .python
        .iter()
        .map(|r| {
            vec![
                Text::plain(&r.workload),
                Text::plain(&r.mode),
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
fn idle_rows(data: &RunData) -> Vec<[String; 4]> {
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

fn idle_table(data: &RunData) -> Option<Table> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::fixture;

    #[test]
    fn idle_ratios_are_computed_against_an_async_task() {
        let rows = idle_rows(&fixture());
        assert_eq!(rows[0][2], "10.0 KiB");
        assert_eq!(rows[0][3], "25.0×"); // 10240 / 409.6
        assert_eq!(rows[1][3], "1.00×");
        let mut none = fixture();
        none.idle.clear();
        assert!(idle_table(&none).is_none());
    }

    #[test]
    fn a_users_report_names_their_program() {
        let mut data = fixture();
        assert_eq!(
            workload_document(&data, "primes", &[]).title,
            "concur report: primes"
        );
        data.program = Some("word-freq".into());
        let title = workload_document(&data, "primes", &[]).title;
        assert!(title.starts_with("word-freq: "), "{title}");
    }

    #[test]
    fn summary_from_fixture() {
        insta::assert_snapshot!(crate::markdown::render(&document(&fixture(), &[])));
    }

    #[test]
    fn html_is_self_contained_and_links_every_figure() {
        let data = fixture();
        let html = crate::html::render(&document(&data, &[]));
        assert!(!html.contains("http://") && !html.contains("https://"));
        for r in &data.results {
            assert!(html.contains(&format!("{}/report/index.html", r.directory)));
        }
    }

    #[test]
    fn both_outputs_carry_the_same_words() {
        let doc = document(&fixture(), &[]);
        let md = crate::markdown::render(&doc);
        let html = crate::html::render(&doc);
        for block in &doc.blocks {
            if let Block::Heading { id, .. } = block {
                assert!(html.contains(&format!("id=\"{id}\"")), "{id}");
            }
        }
        assert_eq!(
            md.matches("](").count(),
            html.matches("<a href=").count() + html.matches("<img").count()
        );
    }

    #[test]
    fn speedups_are_computed_from_the_figures() {
        let data = fixture();
        let pool = data
            .find("cpu_bound/primes", "thread-pool", Some("2"))
            .unwrap();
        // Fixture: sequential 200 ms at every parameter; thread-pool 105 ms at 2 workers.
        assert!((data.ratio(pool).unwrap().value - 200.0 / 105.0).abs() < 1e-9);
        let spawn = data.find("spawn", "thread-pool", None).unwrap();
        assert!((data.ratio(spawn).unwrap().value - 40.0 / 35.0).abs() < 1e-9);
    }

    #[test]
    fn round_trips_through_json() {
        let data = fixture();
        let back: RunData = serde_json::from_str(&serde_json::to_string(&data).unwrap()).unwrap();
        assert_eq!(back, data);
    }
}

#[cfg(test)]
mod saved_run {
    use super::*;

    /// A real quick run from the 2-core VM (`tests/fixtures/run.json`, also what `cargo
    /// xtask check-report --fixture` renders): every row is judged, every plot has data.
    #[test]
    fn a_saved_quick_run_judges_every_row() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/run.json");
        let data: RunData = crate::read_json(std::path::Path::new(path)).unwrap();
        let rows = verdicts::rows(&data);
        assert_eq!(rows.len(), 7);
        for r in &rows {
            assert_ne!(r.class, Class::NotMeasured, "{}: {}", r.feature, r.verdict);
        }
        assert!(!data.paired.is_empty());
        let dir = tempfile::tempdir().unwrap();
        let written = crate::write(dir.path(), &data).unwrap();
        let plots = crate::plots::write(dir.path(), &data).unwrap();
        assert!(plots.len() >= 5);
        for p in &plots {
            let svg = std::fs::read_to_string(dir.path().join(&p.file)).unwrap();
            assert!(crate::plots::data_marks(&svg) > 0, "{} is empty", p.file);
        }
        let md = std::fs::read_to_string(written.markdown).unwrap();
        assert!(md.contains("## At a glance") && md.contains("## What to pick"));
    }

    /// A smoke run records no criterion figures but pairs two tiny rounds to check the
    /// probe: nothing is judged from those, and nothing links to a criterion page.
    #[test]
    fn paired_rounds_alone_judge_nothing() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/run.json");
        let mut data: RunData = crate::read_json(std::path::Path::new(path)).unwrap();
        data.results.clear();
        for r in verdicts::rows(&data) {
            assert!(
                matches!(r.class, Class::NotMeasured | Class::Holds | Class::Info),
                "{}: {}",
                r.feature,
                r.verdict
            );
            assert!(
                r.figures.iter().all(|f| !f.link.contains("criterion")),
                "{}",
                r.feature
            );
        }
        let md = crate::markdown::render(&document(&data, &[]));
        assert!(!md.contains("../../criterion/"), "{md}");
    }
}
