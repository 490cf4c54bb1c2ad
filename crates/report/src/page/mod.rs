//! The report page, built once as a [`Document`] from a run's data: the header, the
//! tutorial's table with verdicts, what to pick, the plots, a table per bench group, the
//! CPython reference and the idle workers.

mod groups;
mod sections;

use groups::{group_ids, group_section, param_heading};
use sections::{beyond_section, floors_section, granularity_section, idle_table, python_table};

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
    granularity_section(&mut doc, data);

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
            data.profile.name(),
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
    Text::with_code(if data.profile == crate::Profile::Smoke {
        "No timings: a smoke run executes every benchmark once in criterion's test mode, \
         which records nothing. Run `cargo xtask bench --quick` or `cargo xtask bench` for \
         figures."
    } else {
        "No criterion results were written in this run."
    })
}

#[cfg(test)]
mod tests {
    use super::sections::idle_rows;
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

    /// A sweep per model with a clear shape: where the speedup crosses 1× and 1.6×.
    fn with_sweeps(mut data: RunData) -> RunData {
        use crate::crossover::{Step, Sweep};
        let sweep = |model: &str, shape: &[(f64, f64)]| Sweep {
            model: model.into(),
            workload: "spin".into(),
            workers: 2,
            steps: shape
                .iter()
                .map(|&(task_ns, s)| Step {
                    size: (task_ns / 1.6) as u64,
                    tasks: 8,
                    sequential_ns: vec![task_ns * 8.0; 6],
                    model_ns: (0..6)
                        .map(|i| task_ns * 8.0 / s * (1.0 + 0.02 * (i % 3) as f64))
                        .collect(),
                })
                .collect(),
        };
        data.crossover = vec![
            sweep("thread-pool", &[(1e3, 0.9), (1e4, 1.7), (1e5, 1.95)]),
            sweep(
                "process-pool",
                &[(1e3, 0.05), (1e4, 0.4), (1e5, 1.3), (1e6, 1.9), (1e7, 1.97)],
            ),
            sweep("gil-threads", &[(1e3, 0.5), (1e5, 0.95), (1e7, 0.99)]),
        ];
        data
    }

    /// The granularity section: measured crossings with intervals, the predictions beside
    /// them, the published marks labelled as such, the plot; the verdicts quote it.
    #[test]
    fn the_granularity_section_reads_the_sweeps() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/run.json");
        let data = with_sweeps(crate::read_json(std::path::Path::new(path)).unwrap());
        let dir = tempfile::tempdir().unwrap();
        let written = crate::write(dir.path(), &data).unwrap();
        let md = std::fs::read_to_string(written.markdown).unwrap();
        // The published sources are named, not linked: the report fetches nothing.
        let html = std::fs::read_to_string(written.html).unwrap();
        assert!(
            !html.contains("href=\"http"),
            "an outside link in the report"
        );
        let start = md.find("## Granularity").expect("a granularity section");
        let end = md[start + 3..]
            .find("\n## ")
            .map_or(md.len(), |e| start + 3 + e);
        insta::assert_snapshot!(&md[start..end]);
        let svg = std::fs::read_to_string(dir.path().join(crate::plots::GRANULARITY_PLOT)).unwrap();
        assert!(crate::plots::data_marks(&svg) > 0);
        assert!(
            svg.contains("(published)"),
            "the rules of thumb are labelled"
        );
        let overhead = verdicts::rows(&data)
            .into_iter()
            .find(|r| r.feature == "Overhead")
            .unwrap();
        assert!(
            overhead.verdict.contains("`process-pool` pays off above"),
            "{}",
            overhead.verdict
        );
        // What to pick by task size: a plain loop at 1 µs (no model surely breaks even),
        // the thread pool from 10 µs (the fastest there, or tied and cheapest).
        let picks = verdicts::what_to_pick(&data);
        let by_size: Vec<&verdicts::Pick> = picks
            .iter()
            .filter(|p| p.situation.starts_with("CPU-bound tasks of"))
            .collect();
        assert!(by_size.len() >= 2, "{picks:?}");
        assert_eq!(by_size[0].model, "sequential", "{:?}", by_size[0]);
        assert!(
            by_size[0].situation.contains("of about 1.00 µs or less"),
            "{:?}",
            by_size[0]
        );
        assert!(
            by_size.iter().any(|p| p.model == "thread-pool"),
            "{by_size:?}"
        );
        assert!(
            md.contains("CPU-bound tasks of"),
            "the picks are in the report"
        );
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
