//! The verdicts' tests: runs built by hand, each verdict read from them.

use super::picks::*;
use super::*;
use crate::criterion::BenchResult;
use crate::machine::Machine;

/// A result whose samples spread ±`spread` around `ms`.
fn result(group: &str, function: &str, param: Option<&str>, ms: f64, spread: f64) -> BenchResult {
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
        schema: crate::data::SCHEMA,
        profile: crate::Profile::Quick,
        started_at: String::new(),
        git_revision: String::new(),
        machine: Machine {
            cpu: String::new(),
            cores: 2,
            memory_gib: 1.0,
            kernel: String::new(),
            rustc: "rustc 1.95.0".into(),
            host: "a-host".into(),
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
        crossover: Vec::new(),
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
